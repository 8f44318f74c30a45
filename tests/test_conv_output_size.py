import pytest
import torch
from family_suite import FamilySuite

from generator.errors import InfeasibleError
from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "conv_output_size"


def _torch_side(n: int, k: int, p: int, s: int, d: int) -> int:
    """Output side of nn.Conv2d applied to a zero image."""
    conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    with torch.no_grad():
        out = conv(torch.zeros(1, 1, n, n))
    assert out.shape[-2] == out.shape[-1]
    return out.shape[-1]


def _torch_extent(k: int, d: int) -> int:
    """Pixels one dilated window spans: an unpadded stride-1 conv on n pixels yields n - extent + 1."""
    n = d * k + 8
    return n - _torch_side(n, k, 0, 1, d) + 1


def _check_against_torch(p: dict, a: dict) -> None:
    geometry = (p["input_size"], p["kernel_size"], p["padding"], p["stride"])
    assert a["output_size"] == _torch_side(*geometry, p["dilation"])
    assert a["effective_kernel"] == _torch_extent(p["kernel_size"], p["dilation"])
    if "compare_dilation" in p:
        assert a["compare_output_size"] == _torch_side(*geometry, p["compare_dilation"])
        assert a["compare_effective_kernel"] == _torch_extent(p["kernel_size"], p["compare_dilation"])
        assert a["compare_output_size"] < a["output_size"]  # the statement's point


class TestConvOutputSize(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "even": {"flooring": False, "strides": [1, 2, 3]},
        "single": {"compare": False, "kernel_sizes": [1, 2, 4, 11], "dilations": [1, 4, 6]},
        # strides above 2, kernels of 1 or 2: the remainder stays below the widening (these options
        # used to draw variants that check() refused, e.g. seed 6008 with strides [3, 4])
        "wide_strides": {"strides": [3, 4]},
        "small_kernels": {"kernel_sizes": [1, 2, 3], "dilations": [1, 2, 3]},
        "stride_4_even": {"kernel_sizes": [1, 2], "strides": [4], "flooring": False},
    }
    pins = [
        ({"input_size": -3}, "input_size must be an integer from 8 to 256"),
        ({"stride": 0}, "stride must be an integer from 1 to 4"),
        ({"dilation": 0}, "dilation must be an integer from 1 to 6"),
        ({"padding": 9}, "padding must be an integer from 0 to"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract["params"], contract["answers"])


def test_sheet_003_exercises_1_and_2():
    """224x224 input, 7x7 kernel, padding 3, stride 2: 112 at dilation 1, 109 at dilation 2."""
    params = {"input_size": 224, "kernel_size": 7, "padding": 3, "stride": 2, "dilation": 1, "compare_dilation": 2}
    solution = get_family(FAMILY).solve(params)
    assert solution.answers["output_size"] == 112
    assert solution.answers["compare_output_size"] == 109
    assert solution.answers["compare_effective_kernel"] == 13
    assert solution.work["a"]["numerator"] == 223 and solution.work["b"]["numerator"] == 217
    del params["compare_dilation"]  # exercise 1 on its own: a single part
    assert get_family(FAMILY).solve(params).answers == {"output_size": 112, "effective_kernel": 7}


def test_well_posed_on_every_seed():
    strides = set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        p, work = problem.params, problem.solution.work
        assert 0 <= 2 * p["padding"] < p["kernel_size"]
        assert p["dilation"] < p["compare_dilation"]
        # default options: wherever the stride allows, torch's flooring matters in part (a), and the statement
        # says so
        assert (work["a"]["remainder"] > 0 and work["floors"]) == (p["stride"] > 1)
        strides.add(p["stride"])
    assert strides == {1, 2, 3}  # issue #15: the stride was always 2


def test_exact_division_when_flooring_is_off():
    for seed in SEEDS:
        work = make_problem(FAMILY, seed, {"flooring": False}).solution.work
        assert work["a"]["remainder"] == 0


@pytest.mark.parametrize("options, needs", [({"strides": [1]}, "stride of 2"),
                                            ({"dilations": [2]}, "two dilations"),
                                            ({"kernel_sizes": [1]}, "kernel size is large enough"),
                                            ({"kernel_sizes": [2], "dilations": [1, 2]}, "more than the remainder")])
def test_infeasible_options_are_named(options, needs):
    with pytest.raises(InfeasibleError, match=needs):
        make_problem(FAMILY, 0, options)


def test_part_c_asks_the_span_it_grades():
    """Issue #15: part (c) asked only for the output size while the key also graded the span of the
    window with the new dilation (compare_effective_kernel). It now asks for both and boxes both."""
    problem = make_problem("conv_output_size", 7)
    rendered = render_problem(problem)
    statement = " ".join(rendered["statement"].split())
    assert "Give the span of one kernel window along one side and the output size again" in statement
    span = problem.solution.answers["compare_effective_kernel"]
    assert f"\\result{{{span}}}" in rendered["solution"]
