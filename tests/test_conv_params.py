import pytest
import torch
from hypothesis import given
from oracle import slip_difference_rates, trainable_params
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.family import get_family
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "conv_params"


def _torch_conv(p: dict) -> torch.nn.Conv2d:
    return torch.nn.Conv2d(p["in_channels"], p["out_channels"], p["kernel_size"], bias=p["bias"], device="meta")


@pytest.mark.parametrize("bias", ["yes", "no", "either"])
def test_matches_torch_module(bias):
    for seed in SEEDS:
        obj = make_problem(FAMILY, seed, {"bias": bias, "kernel_sizes": [1, 3, 5, 7, 11]}).contract()
        _check_against_torch(obj["params"], obj["answers"])


def _check_against_torch(p: dict, a: dict) -> None:
    conv = _torch_conv(p)
    assert a["params"] == trainable_params(conv)
    assert a["weights"] == conv.weight.numel()
    assert a["biases"] == (conv.bias.numel() if conv.bias is not None else 0)
    # the same module runs on an image twice as large: nothing about it changes
    side = 2 * p["input_size"]
    out = conv(torch.zeros(1, p["in_channels"], side, side, device="meta"))
    assert out.shape[1] == p["out_channels"]
    assert a["params_double_input"] == trainable_params(conv)


@PROPERTY
@given(seed=SEED, options=OPTIONS[FAMILY])
def test_property_conv_params(seed: int, options: dict) -> None:
    """Any seed, any valid options: the contract holds and the counts are torch's."""
    obj = feasible(FAMILY, seed, options).contract()
    _check_against_torch(obj["params"], obj["answers"])


def test_sheet_003_exercise_3():
    """3x3 convolution, 64 -> 128 channels, with biases: 73,856 parameters."""
    params = {"in_channels": 64, "out_channels": 128, "kernel_size": 3, "bias": True, "input_size": 56}
    answers = get_family(FAMILY).solve(params).answers
    assert answers["params"] == 73856
    assert answers["weights"] == 73728 and answers["biases"] == 128


def test_well_posed_on_every_seed():
    seen = set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed, {"bias": "either"})
        p = problem.params
        assert get_family(FAMILY).check(p, problem.solution) == []
        assert p["in_channels"] != p["out_channels"]
        assert p["out_channels"] != 3  # three channels only ever at the input (RGB)
        seen.add((p["in_channels"], p["out_channels"], p["kernel_size"], p["bias"]))
    assert len(seen) > 50


def test_option_bias_is_obeyed():
    assert all(make_problem(FAMILY, s, {"bias": "no"}).params["bias"] is False for s in range(20))
    assert {make_problem(FAMILY, s, {"bias": "either"}).params["bias"] for s in range(20)} == {True, False}


@pytest.mark.parametrize("bias, slip", [("yes", "k_not_squared"), ("yes", "forgot_in_channels"),
                                        ("yes", "forgot_biases"), ("yes", "bias_per_input"),
                                        ("no", "added_biases"), ("no", "k_not_squared")])
def test_slip_differs_from_answer(bias, slip):
    assert slip_difference_rates(FAMILY, SEEDS, {"bias": bias})[f"params:{slip}"] >= 0.95


@pytest.mark.parametrize(("pin", "says"), [
    ({"in_channels": 0}, "in_channels must be an integer from 1 to 2048"),
    ({"kernel_size": -3}, "kernel_size must be an integer from 1 to 11"),
    ({"input_size": 2}, "input_size must be an integer from"),
    ({"in_channels": 64, "out_channels": 64}, "in_channels and out_channels must differ"),
])
def test_nonsensical_pins_are_rejected_by_name(pin: dict, says: str) -> None:
    """Pinned values outside the family's domain are refused with a message naming the parameter."""
    assert says in rejected(FAMILY, pin)
