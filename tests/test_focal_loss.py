import re
from fractions import Fraction

import pytest
import sympy as sp
import torch
from family_suite import FamilySuite
from oracle import as_float, tensor

from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "focal_loss"


def _torch_focal(p_t: torch.Tensor, gamma: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Multipliers and focal losses, written as in the RetinaNet paper."""
    multipliers = (1 - p_t) ** gamma
    return multipliers, -multipliers * torch.log(p_t)


def _check_against_torch(obj: dict) -> None:
    p, a = obj["params"], obj["answers"]
    multipliers, losses = _torch_focal(tensor(p["p_t"]), p["gamma"])
    assert torch.allclose(multipliers, tensor(a["multipliers"]), atol=1e-12, rtol=0)
    assert as_float(a["hard_easy_ratio"]) == pytest.approx((multipliers[0] / multipliers[-1]).item(), rel=1e-12)
    # the key's worked values, recomputed from the drawn parameters
    work = get_family(FAMILY).solve({"gamma": sp.Integer(p["gamma"]),
                                     "p_t": [sp.Rational(v) for v in p["p_t"]]}).work
    for row, loss in zip(work["rows"], losses, strict=True):
        # the key's exact expression, evaluated numerically, and its rounded display
        assert float(sp.N(row["focal_exact"], 30)) == pytest.approx(loss.item(), rel=1e-12)
        # four significant digits: off by at most half a unit of the fourth digit
        assert float(row["focal_approx"]) == pytest.approx(loss.item(), rel=5e-4, abs=0)
        assert float(row["ce_approx"]) == pytest.approx(-torch.log(tensor(as_float(row["p"]))).item(), rel=5e-4)
    # the rounded losses are answers too (the sheets left them out for being irrational)
    assert [as_float(v) for v in a["focal_losses"]] == pytest.approx(losses.tolist(), rel=5e-4)
    assert [as_float(v) for v in a["cross_entropies"]] == pytest.approx((-torch.log(tensor(p["p_t"]))).tolist(),
                                                                        rel=5e-4)


class TestFocalLoss(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "wide": {"grid": "tenths", "gammas": [1, 2, 3, 4, 5], "count": 5}}
    pins = [
        ({"gamma": "1/2"}, "gamma must be an integer from 1 to 5"),
        ({"p_t": ["0.2", "1.5"]}, "p_t[2] must be between 0 and 1"),
        ({"p_t": ["0.8", "0.2"]}, "p_t must be increasing"),
        ({"p_t": ["0.33", "0.8"]}, "p_t must be multiples of 0.05"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract)


def test_answers_are_exact_rationals():
    for seed in SEEDS:
        obj = make_problem(FAMILY, seed).contract()
        values = [*obj["answers"]["multipliers"], obj["answers"]["hard_easy_ratio"], *obj["answers"]["focal_losses"]]
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
    for seed in SEEDS:
        for options in ({}, {"grid": "tenths", "count": 2}, {"count": 5, "gammas": [1]}):
            p = make_problem(FAMILY, seed, options).params
            assert len(p["p_t"]) == options.get("count", 3)
            assert p["p_t"] == sorted(p["p_t"]) and p["p_t"][0] < sp.Rational(1, 2) < p["p_t"][-1]
            step = 10 if options.get("grid") == "tenths" else 20
            assert all((v * step).q == 1 for v in p["p_t"])


def test_the_key_says_exactly_or_rounds():
    """Issue #15: the key printed "about 3.0517578125" and "about 1.5625"; a reduction with more
    than two decimals is rounded to two, a shorter one is said to be exact."""
    sheet = {"gamma": sp.Integer(2), "p_t": [sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10)]}
    assert get_family(FAMILY).solve(sheet).work["easy_reduction_exact"]
    long = {"gamma": sp.Integer(5), "p_t": [sp.Rational(1, 5), sp.Rational(1, 2)]}  # 1/0.8^5 = 3.0517578125
    work = get_family(FAMILY).solve(long).work
    assert (work["hard_reduction"], work["hard_reduction_exact"]) == (sp.Rational(305, 100), False)
    for seed in range(100):
        solution = " ".join(render_problem(make_problem(FAMILY, seed))["solution"].split())
        for number in re.findall(r"about \$([0-9.]+)\$", solution):
            assert len(number.partition(".")[2]) <= 2, (seed, number)
