import torch
from family_suite import FamilySuite
from oracle import trainable_params

from generator.family import get_family
from generator.numbers import tex_number
from generator.pipeline import render_problem
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "conv_params"


def _torch_conv(p: dict) -> torch.nn.Conv2d:
    return torch.nn.Conv2d(p["in_channels"], p["out_channels"], p["kernel_size"], bias=p["bias"], device="meta")


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


class TestConvParams(FamilySuite):
    family = FAMILY
    option_sets = {bias: {"bias": bias, "kernel_sizes": [1, 3, 5, 7, 11]} for bias in ("yes", "no", "either")}
    option_sets["default"] = {}
    pins = [
        ({"in_channels": 0}, "in_channels must be an integer from 1 to 2048"),
        ({"kernel_size": -3}, "kernel_size must be an integer from 1 to 11"),
        ({"input_size": 2}, "input_size must be an integer from"),
        ({"in_channels": 64, "out_channels": 64}, "in_channels and out_channels must differ"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract["params"], contract["answers"])


def test_sheet_003_exercise_3():
    """3x3 convolution, 64 -> 128 channels, with biases: 73,856 parameters."""
    params = {"in_channels": 64, "out_channels": 128, "kernel_size": 3, "bias": True, "input_size": 56}
    answers = get_family(FAMILY).solve(params).answers
    assert answers["params"] == 73856
    assert answers["weights"] == 73728 and answers["biases"] == 128


def test_well_posed_on_every_seed():
    for seed in SEEDS:
        p = make_problem(FAMILY, seed, {"bias": "either"}).params
        assert p["in_channels"] != p["out_channels"]
        assert p["out_channels"] != 3  # three channels only ever at the input (RGB)


def test_totals_vary():
    """Issue #15: 69 distinct totals in 200 seeds."""
    assert len({make_problem(FAMILY, seed).solution.answers["params"] for seed in SEEDS}) >= 150


def test_option_bias_is_obeyed():
    assert all(make_problem(FAMILY, s, {"bias": "no"}).params["bias"] is False for s in range(20))
    assert {make_problem(FAMILY, s, {"bias": "either"}).params["bias"] for s in range(20)} == {True, False}


def test_every_slip_is_offered():
    names = {bias: {slip.name for seed in range(20) for slip in get_family(FAMILY).slips(
        make_problem(FAMILY, seed, {"bias": bias}).params, make_problem(FAMILY, seed, {"bias": bias}).solution)}
        for bias in ("yes", "no")}
    assert names["yes"] == {"k_not_squared", "forgot_in_channels", "forgot_biases", "bias_per_input"}
    assert names["no"] == {"k_not_squared", "forgot_in_channels", "added_biases"}


def test_key_boxes_the_weights_and_biases_it_asks_for():
    """Issue #15: part (a) asks the weights and the biases separately and grades both, but the key
    boxed only the total."""
    for seed, options in ((3, {"bias": "yes"}), (3, {"bias": "no"}), (5, {"kernel_sizes": [1]})):
        problem = make_problem(FAMILY, seed, options)
        solution = render_problem(problem)["solution"]
        for name in ("weights", "biases", "params"):
            assert f"\\result{{{tex_number(problem.solution.answers[name])}}}" in solution, name
