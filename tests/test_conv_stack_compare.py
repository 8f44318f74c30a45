import pytest
import torch
from family_suite import FamilySuite
from oracle import macs, trainable_params

from generator.family import get_family
from generator.numbers import decimal, exact
from generator.pipeline import render_problem
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "conv_stack_compare"
EVERY_SIZE = {"kernel_sizes": [2, 3, 4, 5, 6, 7], "depths": [2, 3, 4, 5, 6], "channels": [1, 3, 48, 100, 1024]}


def _conv(channels: int, kernel: int, device: str = "meta", padding: str | int = 0) -> torch.nn.Conv2d:
    return torch.nn.Conv2d(channels, channels, kernel, bias=False, device=device, padding=padding)


def _field(module: torch.nn.Module, side: int = 64) -> int:
    """Receptive field of an unpadded stride-1 stack: n input pixels give n - field + 1 outputs."""
    with torch.no_grad():
        return side - module(torch.zeros(1, 1, side, side)).shape[-1] + 1


def _check_against_torch(p: dict, a: dict) -> None:
    c, k, n = (p[name] for name in ("channels", "kernel_size", "depth"))
    # the receptive field, measured on one-channel copies of the stack with zero images
    field = _field(torch.nn.Sequential(*[_conv(1, k, "cpu") for _ in range(n)]))
    assert a["receptive_field"] == field
    assert _field(_conv(1, field, "cpu")) == field  # the single conv sees the same region
    stack = trainable_params(torch.nn.Sequential(*[_conv(c, k) for _ in range(n)]))
    single = trainable_params(_conv(c, field))
    assert (a["params_stack"], a["params_single"]) == (stack, single)
    assert exact(a["ratio"]) == exact(stack) / single
    # the MACs with zero padding that keeps the size ("same"; torch pads an even kernel unevenly)
    shape = (c, p["height"], p["width"])
    same_stack = torch.nn.Sequential(*[_conv(c, k, padding="same") for _ in range(n)])
    assert a["macs_stack"] == macs(same_stack, shape)
    assert a["macs_single"] == macs(_conv(c, field, padding="same"), shape)
    assert "extra_nonlinearities" not in a  # the statement asks to name an advantage, not to count


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
class TestConvStackCompare(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "every_size": EVERY_SIZE}
    pins = [
        ({"channels": 0}, "channels must be an integer from 1 to 1024"),
        ({"depth": 1}, "depth must be an integer from 2 to 6"),
        ({"kernel_size": 100}, "kernel_size must be an integer from 2 to 7"),
        ({"height": 0}, "height must be an integer from 1 to 224"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract["params"], contract["answers"])


@pytest.mark.parametrize("depth, single_kernel, stack_c2, single_c2", [(2, 5, 18, 25), (3, 7, 27, 49)])
def test_sheet_003_exercises_5_and_6(depth, single_kernel, stack_c2, single_c2):
    """Two 3x3 convs vs one 5x5: 18 C^2 vs 25 C^2; three 3x3 vs one 7x7: 27 C^2 vs 49 C^2."""
    family = get_family(FAMILY)
    for channels in (1, 64):
        answers = family.solve({"channels": channels, "kernel_size": 3, "depth": depth, "height": 28,
                                "width": 28}).answers
        assert answers["receptive_field"] == single_kernel
        assert answers["params_stack"] == stack_c2 * channels**2
        assert answers["params_single"] == single_c2 * channels**2
        assert answers["ratio"] == exact(stack_c2) / single_c2


def test_well_posed_on_every_seed():
    for seed in SEEDS:
        a = make_problem(FAMILY, seed).solution.answers
        assert 0 < a["ratio"] < 1 and a["receptive_field"] % 2 == 1  # default odd kernels: a centred field
        assert a["macs_stack"] / a["macs_single"] == a["ratio"]


def test_statement_states_the_padding_and_asks_what_is_graded():
    """Issue #15: the key graded extra_nonlinearities, which the statement never asked, and claimed
    proportional MAC savings without stating the padding."""
    problem = make_problem(FAMILY, 0)
    statement = " ".join(render_problem(problem)["statement"].split())
    assert "zero-padded so that its output map has the size of its input map" in statement
    assert "those with the padded zeros included" in statement
    assert set(problem.solution.answers) == {"receptive_field", "params_stack", "params_single", "ratio",
                                             "macs_stack", "macs_single"}


def test_the_map_is_at_least_as_wide_as_the_field():
    """Issue #15: a 17 x 17 convolution on a 7 x 7 map multiplies mostly padded zeros."""
    for options in ({}, EVERY_SIZE):
        for seed in SEEDS:
            problem = make_problem(FAMILY, seed, options)
            assert problem.params["height"] >= problem.solution.answers["receptive_field"]


def test_key_boxes_the_ratio_and_gives_it_to_three_places():
    """Issue #15: the statement asks a fraction or three decimals; the key gave only a percentage, unboxed."""
    problem = make_problem(FAMILY, 1)
    solution = " ".join(render_problem(problem)["solution"].split())
    ratio = problem.solution.answers["ratio"]
    assert f"\\result{{\\frac{{{ratio.p}}}{{{ratio.q}}}}}" in solution
    assert f"\\approx {decimal(ratio, 3)}" in solution or f"= {decimal(ratio, 3)}" in solution


def test_one_channel_is_singular():
    statement = render_problem(make_problem(FAMILY, 2, {**EVERY_SIZE, "channels": [1]}))["statement"]
    assert "1$\nchannel to as many" in statement or "1$ channel to as many" in " ".join(statement.split())
