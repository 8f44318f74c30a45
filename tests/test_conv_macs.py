from fractions import Fraction

import pytest
import sympy as sp
import torch
from hypothesis import given
from oracle import macs, slip_difference_rates
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.family import get_family
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "conv_macs"


def _layers(c_in: int, c_out: int, k: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    with torch.device("meta"):  # only shapes matter: no memory, no arithmetic
        standard = torch.nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
        separable = torch.nn.Sequential(
            torch.nn.Conv2d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False),
            torch.nn.Conv2d(c_in, c_out, 1, bias=False),
        )
    return standard, separable


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _check_against_torch(p: dict, a: dict) -> None:
    shape = (p["in_channels"], p["height"], p["width"])
    standard, separable = _layers(p["in_channels"], p["out_channels"], p["kernel_size"])
    assert standard(torch.zeros(1, *shape, device="meta")).shape[-2:] == (p["height"], p["width"])  # "same" padding
    assert a["macs_standard"] == macs(standard, shape)
    assert a["macs_separable"] == macs(separable, shape)
    assert a["params_standard"] == _count(standard)
    assert a["params_separable"] == _count(separable)
    assert Fraction(a["saving_ratio"]) == Fraction(macs(standard, shape), macs(separable, shape))


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_torch_flop_counter(seed):
    obj = make_problem(FAMILY, seed).contract()
    _check_against_torch(obj["params"], obj["answers"])


@PROPERTY
@given(seed=SEED, options=OPTIONS[FAMILY])
def test_property_convmacs(seed: int, options: dict) -> None:
    """Any seed, any valid options: the contract holds and the counts are torch's."""
    obj = feasible(FAMILY, seed, options).contract()
    _check_against_torch(obj["params"], obj["answers"])


def test_sheet_003_exercises_9_and_10():
    """3x3, 64 -> 128 on 56x56: 231,211,008 vs 27,496,448 MACs; 73,728 vs 8,768 weights."""
    params = {"in_channels": 64, "out_channels": 128, "kernel_size": 3, "height": 56, "width": 56}
    solution = get_family(FAMILY).solve({k: sp.Integer(v) for k, v in params.items()})
    a = solution.answers
    assert a["macs_standard"] == 231_211_008
    assert a["macs_separable"] == 27_496_448
    assert solution.work["macs_depthwise"] == 1_806_336  # the sheet's 1.81e6
    assert solution.work["macs_pointwise"] == 25_690_112  # the sheet's 25.7e6
    assert a["params_standard"] == 73_728
    assert a["params_separable"] == 8_768
    assert a["saving_ratio"] == sp.Rational(1152, 137)  # the sheet's "8.4x"
    assert round(float(a["saving_ratio"]), 1) == 8.4


def test_every_variant_is_well_posed():
    family = get_family(FAMILY)
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        a = problem.solution.answers
        assert family.check(problem.params, problem.solution) == []
        assert 1 < a["saving_ratio"] < problem.params["kernel_size"] ** 2
        assert all(isinstance(v, sp.Rational) for v in a.values())


def test_rectangular_maps_and_options():
    options = {"square": False, "map_sides": [7, 14], "kernel_sizes": [7], "channels": [32]}
    problems = [make_problem(FAMILY, seed, options) for seed in range(40)]
    assert any(p.params["height"] != p.params["width"] for p in problems)
    assert all(p.params["kernel_size"] == 7 and p.params["in_channels"] == 32 for p in problems)


def test_slips_differ_from_the_answer():
    rates = slip_difference_rates(FAMILY, SEEDS)
    assert len(rates) >= 2
    assert all(rate >= 0.95 for rate in rates.values()), rates


@pytest.mark.parametrize(("pin", "says"), [
    ({"in_channels": "1/2"}, "in_channels must be an integer from 2 to 2048"),
    ({"kernel_size": 4}, "kernel_size must be one of 3, 5, 7"),
    ({"height": 0}, "height must be an integer from 1 to 256"),
])
def test_nonsensical_pins_are_rejected_by_name(pin: dict, says: str) -> None:
    """Pinned values outside the family's domain are refused with a message naming the parameter."""
    assert says in rejected(FAMILY, pin)
