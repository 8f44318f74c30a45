import pytest
import torch
from oracle import as_float

from generator.variants import make_problem

SEEDS = range(300)


def _torch_step(w: float, grad: float, lr: float, decay: float) -> float:
    """One torch.optim.SGD step on a parameter whose loss gradient is `grad`."""
    param = torch.nn.Parameter(torch.tensor([w]))
    optimizer = torch.optim.SGD([param], lr=lr, weight_decay=decay)
    param.grad = torch.tensor([grad])
    optimizer.step()
    return param.item()


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_torch_sgd(seed):
    obj = make_problem("sgd_step", seed).contract()
    p, a = {k: as_float(v) for k, v in obj["params"].items()}, obj["answers"]
    assert _torch_step(p["w"], p["grad"], p["lr"], 0.0) == pytest.approx(as_float(a["w_plain"]), abs=1e-12)
    assert _torch_step(p["w"], p["grad"], p["lr"], p["weight_decay"]) == pytest.approx(
        as_float(a["w_decay"]), abs=1e-12
    )


def test_sheet_000_q2():
    """Sheet 000 Q2: eta 0.05, lambda 0.02, w 0.80, gradient 0.30 -> 0.785 and 0.7842."""
    from generator.family import get_family
    from generator.numbers import exact

    params = {"lr": exact("0.05"), "weight_decay": exact("0.02"), "w": exact("0.80"), "grad": exact("0.30")}
    answers = get_family("sgd_step").solve(params).answers
    assert answers["w_plain"] == exact("0.785")
    assert answers["w_decay"] == exact("0.7842")
