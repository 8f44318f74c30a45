from fractions import Fraction

import pytest
import sympy as sp
import torch
from hypothesis import given
from oracle import as_float, slip_difference_rates, tensor
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.family import get_family
from generator.variants import Problem, make_problem

SEEDS = range(200)
FAMILY = "focal_loss"


def _torch_focal(p_t: torch.Tensor, gamma: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Multipliers and focal losses, written as in the RetinaNet paper."""
    multipliers = (1 - p_t) ** gamma
    return multipliers, -multipliers * torch.log(p_t)


@pytest.mark.parametrize("options", [{}, {"grid": "tenths", "gammas": [1, 2, 3, 4, 5], "count": 5}],
                         ids=["default", "wide"])
def test_matches_torch(options):
    for seed in SEEDS:
        _check_against_torch(make_problem(FAMILY, seed, options))


def _check_against_torch(problem: Problem) -> None:
    obj = problem.contract()
    p, a = obj["params"], obj["answers"]
    multipliers, losses = _torch_focal(tensor(p["p_t"]), p["gamma"])
    assert torch.allclose(multipliers, tensor(a["multipliers"]), atol=1e-12, rtol=0)
    assert as_float(a["hard_easy_ratio"]) == pytest.approx((multipliers[0] / multipliers[-1]).item(), rel=1e-12)
    for row, loss in zip(problem.solution.work["rows"], losses, strict=True):
        # the key's exact expression, evaluated numerically, and its rounded display
        assert float(sp.N(row["focal_exact"], 30)) == pytest.approx(loss.item(), rel=1e-12)
        # four significant digits: off by at most half a unit of the fourth digit
        assert float(row["focal_approx"]) == pytest.approx(loss.item(), rel=5e-4, abs=0)
        assert float(row["ce_approx"]) == pytest.approx(-torch.log(tensor(as_float(row["p"]))).item(), rel=5e-4)


@PROPERTY
@given(seed=SEED, options=OPTIONS[FAMILY])
def test_property_focal_loss(seed: int, options: dict) -> None:
    """Any seed, any valid options: the contract holds and the multipliers and losses are torch's."""
    _check_against_torch(feasible(FAMILY, seed, options))


def test_answers_are_exact_rationals():
    for seed in SEEDS:
        obj = make_problem(FAMILY, seed).contract()
        values = [*obj["answers"]["multipliers"], obj["answers"]["hard_easy_ratio"]]
        assert all(isinstance(v, int | str) for v in values)
        assert all(Fraction(v) > 0 for v in values)  # parses exactly: no log or float slipped in


def test_sheet_003_exercise_23():
    """p_t = 0.1, 0.5, 0.9 with gamma = 2: multipliers 0.81, 0.25, 0.01."""
    params = {"gamma": sp.Integer(2), "p_t": [sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10)]}
    solution = get_family(FAMILY).solve(params)
    assert solution.answers["multipliers"] == [sp.Rational(81, 100), sp.Rational(1, 4), sp.Rational(1, 100)]
    assert solution.answers["hard_easy_ratio"] == 81
    assert solution.work["easy_reduction"] == 100  # "a hundred times less" than cross-entropy
    assert [row["focal_approx"] for row in solution.work["rows"]] == [
        sp.Rational(1865, 1000), sp.Rational(1733, 10000), sp.Rational(1054, 1000000)]


def test_every_variant_is_well_posed():
    family = get_family(FAMILY)
    for seed in SEEDS:
        for options in ({}, {"grid": "tenths", "count": 2}, {"count": 5, "gammas": [1]}):
            problem = make_problem(FAMILY, seed, options)
            p = problem.params
            assert family.check(p, problem.solution) == []
            assert len(p["p_t"]) == options.get("count", 3)
            assert p["p_t"] == sorted(p["p_t"]) and p["p_t"][0] < sp.Rational(1, 2) < p["p_t"][-1]
            step = 10 if options.get("grid") == "tenths" else 20
            assert all((v * step).q == 1 for v in p["p_t"])


def test_slips_differ_from_the_answer():
    rates = slip_difference_rates(FAMILY, SEEDS)
    assert len(rates) >= 2
    assert all(rate >= 0.95 for rate in rates.values()), rates


@pytest.mark.parametrize(("pin", "says"), [
    ({"gamma": "1/2"}, "gamma must be an integer from 1 to 5"),
    ({"p_t": ["0.2", "1.5"]}, "p_t[2] must be between 0 and 1"),
    ({"p_t": ["0.8", "0.2"]}, "p_t must be increasing"),
    ({"p_t": ["0.33", "0.8"]}, "p_t must be multiples of 0.05"),
])
def test_nonsensical_pins_are_rejected_by_name(pin: dict, says: str) -> None:
    """Pinned values outside the family's domain are refused with a message naming the parameter."""
    assert says in rejected(FAMILY, pin)
