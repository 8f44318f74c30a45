import pytest
import torch
from family_suite import FamilySuite
from oracle import as_float

from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

SEEDS = range(300)
FAMILY = "sgd_step"


def _torch_steps(w: float, grads: list[float], lr: float, decay: float, momentum: float = 0.0,
                 decoupled: bool = False) -> float:
    """torch.optim.SGD steps on a parameter whose data-loss gradients are `grads`.
    Decoupled decay (AdamW's idea) shrinks the parameter before each decay-free step."""
    param = torch.nn.Parameter(torch.tensor([w]))
    optimizer = torch.optim.SGD([param], lr=lr, momentum=momentum, weight_decay=0.0 if decoupled else decay)
    for grad in grads:
        if decoupled:
            with torch.no_grad():
                param.mul_(1 - lr * decay)
        param.grad = torch.tensor([grad])
        optimizer.step()
    return param.item()


def _check_against_torch(obj: dict) -> None:
    """The plain and decayed step, and the two momentum steps when the problem has them."""
    p, a = {k: as_float(v) for k, v in obj["params"].items()}, obj["answers"]
    assert _torch_steps(p["w"], [p["grad"]], p["lr"], 0.0) == pytest.approx(as_float(a["w_plain"]), abs=1e-12)
    assert _torch_steps(p["w"], [p["grad"]], p["lr"], p["weight_decay"]) == pytest.approx(
        as_float(a["w_decay"]), abs=1e-12
    )
    assert ("momentum" in p) == ("w_momentum_coupled" in a) == ("w_momentum_decoupled" in a)
    if "momentum" in p:
        grads = [p["grad"], p["grad2"]]
        coupled = _torch_steps(p["w"], grads, p["lr"], p["weight_decay"], p["momentum"])
        decoupled = _torch_steps(p["w"], grads, p["lr"], p["weight_decay"], p["momentum"], decoupled=True)
        assert coupled == pytest.approx(as_float(a["w_momentum_coupled"]), abs=1e-12)
        assert decoupled == pytest.approx(as_float(a["w_momentum_decoupled"]), abs=1e-12)


class TestSgdStep(FamilySuite):
    family = FAMILY
    seeds = range(300)
    option_sets = {"default": {}, "momentum": {"momentum": True}}
    pins = [
        ({"lr": "-5"}, "lr must be between 0 and 1"),
        ({"lr": 1000000}, "lr must be between 0 and 1"),
        ({"weight_decay": "1.5"}, "weight_decay must be between 0 and 1"),
        ({"grad": "1/3"}, "grad must be a decimal with at most 2 digits after the point"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract)


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_are_short_terminating_decimals(seed):
    answers = make_problem("sgd_step", seed).solution.answers
    for value in answers.values():
        assert (value * 10**6).q == 1, value


def test_sheet_000_q2():
    """Sheet 000 Q2: eta 0.05, lambda 0.02, w 0.80, gradient 0.30 -> 0.785 and 0.7842."""
    params = {"lr": exact("0.05"), "weight_decay": exact("0.02"), "w": exact("0.80"), "grad": exact("0.30")}
    answers = get_family("sgd_step").solve(params).answers
    assert answers["w_plain"] == exact("0.785")
    assert answers["w_decay"] == exact("0.7842")
    assert answers["shrink_factor"] == exact("0.999")
