from fractions import Fraction

import pytest
import sympy as sp
import torch
from family_suite import FamilySuite
from oracle import as_float

from generator.families.adam_step import BETA2S, as_params, candidates, eps_invisible
from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

FAMILY = "adam_step"
# Every answer is torch's value rounded to six decimals: eps nudges even the moments of
# the second Adam step (through the first step's weight) by about 1e-8.
ROUNDED = 0.5e-6 + 1e-9


def torch_run(p: dict, optimizer: type) -> list[dict[str, float]]:
    """Weight and bias-corrected moments after each step of `optimizer` (torch.optim.Adam
    or AdamW) on a float64 parameter whose data-loss gradient at step t is grads[t]."""
    param = torch.nn.Parameter(torch.tensor([as_float(p["w"])], dtype=torch.float64))
    beta1, beta2 = as_float(p["beta1"]), as_float(p["beta2"])
    opt = optimizer([param], lr=as_float(p["lr"]), betas=(beta1, beta2), eps=as_float(p["eps"]),
                    weight_decay=as_float(p["weight_decay"]))
    states = []
    for t, grad in enumerate(p["grads"], 1):
        param.grad = torch.tensor([as_float(grad)], dtype=torch.float64)
        opt.step()
        state = opt.state[param]
        states.append({"w": param.item(), "m_hat": state["exp_avg"].item() / (1 - beta1**t),
                       "v_hat": state["exp_avg_sq"].item() / (1 - beta2**t)})
    return states


def check_against_torch(contract: dict) -> None:
    p, a = contract["params"], contract["answers"]
    steps = len(p["grads"])
    adam, adamw = torch_run(p, torch.optim.Adam), torch_run(p, torch.optim.AdamW)
    for name, states in (("w_adam", adam), ("w_adamw", adamw)):
        assert len(a[name]) == steps
        for given, state in zip(a[name], states, strict=True):
            assert abs(state["w"] - as_float(given)) <= ROUNDED, (name, given, state["w"])
    for name in ("m_hat", "v_hat"):
        assert len(a[name]) == steps
        for given, state in zip(a[name], adam, strict=True):
            assert abs(state[name] - as_float(given)) <= ROUNDED, (name, given, state[name])
    # the contrast the problem is about: Adam and AdamW end at different weights
    assert any(abs(as_float(x) - as_float(y)) > 1e-6 for x, y in zip(a["w_adam"], a["w_adamw"], strict=True))


class TestAdamStep(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "one_step": {"steps": 1},
        "beta2_high": {"beta2s": [0.95, 0.98]},
        "beta2_low": {"beta2s": ["0.75"], "steps": 2},
    }
    pins = [
        ({"lr": "-1"}, "lr must be between 0 and 1"),
        ({"beta1": "1.5"}, "beta1 must be between 0 and 1"),
        ({"eps": "0.1"}, "eps must be 1e-8"),
        ({"grads": ["1/3", "0.5"]}, "grads[1] must be a decimal with at most 2 digits after the point"),
        ({"grads": ["0.3", "0.7"], "w": "0.5"}, "irrational"),
        ({"weight_decay": "-0.1"}, "weight_decay must be between 0 and 1"),
    ]

    def oracle(self, contract: dict) -> None:
        check_against_torch(contract)


def test_every_candidate_is_well_posed():
    """The feasible set, not only the seeds drawn: every candidate the draw may settle on
    (eps invisible) passes the family's check with two steps and with one (exact roots,
    every slip outside the tolerance, Adam and AdamW apart), and such candidates are
    plenty for every beta2."""
    family = get_family(FAMILY)
    for beta2 in BETA2S:
        usable = [c for c in candidates(beta2) if eps_invisible(c, beta2)]
        assert len(usable) >= 200, beta2
        for candidate in usable[::5]:  # a fifth of them: all would add minutes
            params = as_params(candidate, beta2, sp.Rational)
            for steps in (2, 1):
                variant = params | {"grads": params["grads"][:steps]}
                assert family.check(variant, family.solve(variant)) == [], (candidate, steps)


def test_first_step_is_the_learning_rate():
    """Kingma & Ba (2015), section 2.1: with bias correction the first step has size lr
    (up to eps) whatever the gradient. PyTorch's defaults: lr 1e-3, betas (0.9, 0.999),
    eps 1e-8; w = 1, g = 0.5 gives 0.999; AdamW's default decay 0.01 shrinks w first by
    1 - 1e-5, giving 0.99899."""
    family = get_family(FAMILY)
    defaults = {"lr": exact("0.001"), "beta1": exact("0.9"), "beta2": exact("0.999"), "eps": exact("1/100000000"),
                "w": exact(1), "grads": [exact("0.5")]}
    assert family.solve({**defaults, "weight_decay": exact(0)}).answers["w_adam"] == [exact("0.999")]
    assert family.solve({**defaults, "weight_decay": exact("0.01")}).answers["w_adamw"] == [exact("0.99899")]
    as_contract = {"lr": "1/1000", "beta1": "9/10", "beta2": "999/1000", "eps": "1/100000000",
                   "weight_decay": "1/100", "w": 1, "grads": ["1/2"]}
    assert torch_run(as_contract, torch.optim.AdamW)[0]["w"] == pytest.approx(0.99899, abs=1e-10)


def test_worked_example():
    """A variant checked by hand: w0 = -0.3, lr 0.2, beta2 0.9, lambda 0.1, g = 0.42, -0.34.
    Adam sees 0.39 then -0.39 (v-hat 0.1521 twice); AdamW sees 0.42, -0.34, whose second
    v-hat (0.9*0.1764 + 0.1156)/1.9 = 0.1444 is 0.38 squared."""
    params = {"lr": exact("0.2"), "beta1": exact("0.6"), "beta2": exact("0.9"), "eps": exact("1/100000000"),
              "weight_decay": exact("0.1"), "w": exact("-0.3"), "grads": [exact("0.42"), exact("-0.34")]}
    answers = get_family(FAMILY).solve(params).answers
    assert answers["w_adam"] == [exact("-0.5"), exact("-0.45")]
    assert answers["m_hat"] == [exact("0.39"), exact("-0.0975")]
    assert answers["v_hat"] == [exact("0.1521"), exact("0.1521")]
    assert answers["w_adamw"] == [exact("-0.494"), exact("-0.455173")]


@pytest.mark.parametrize("seed", range(50))
def test_moments_are_short_decimals(seed):
    answers = make_problem(FAMILY, seed).solution.answers
    for value in [*answers["m_hat"], *answers["v_hat"], *answers["w_adam"], *answers["w_adamw"]]:
        assert Fraction(int(value.p), int(value.q)) * 10**6 % 1 == 0, value
