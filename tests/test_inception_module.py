import re
from fractions import Fraction

import pytest
import sympy as sp
import torch
from family_suite import FamilySuite
from oracle import macs

from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

FAMILY = "inception_module"
EVERY_INPUT = {"in_channels": [64, 96, 128, 160, 192, 256, 384, 480, 512, 528, 832], "kernel_sizes": [3, 5, 7]}
# Sheet 003: exercise 20's module (C_in = 256; widths 64, 128, 32, 32) and exercise 21's comparison for
# C_in = C_out = 256 with a 5x5 kernel, reduced to 64 channels first, on GoogLeNet's 28x28 maps.
SHEET = {"in_channels": sp.Integer(256), "branch_widths": [sp.Integer(w) for w in (64, 128, 32, 32)],
         "out_channels": sp.Integer(256), "reduce_channels": sp.Integer(64), "kernel_size": sp.Integer(5),
         "height": sp.Integer(28), "width": sp.Integer(28)}


class Inception(torch.nn.Module):
    """GoogLeNet's module: 1x1 | 1x1->3x3 | 1x1->5x5 | maxpool->1x1, concatenated.
    The inner reduce widths do not affect the output width, so any value will do."""

    def __init__(self, c_in: int, widths: list[int], inner: int = 24):
        super().__init__()
        conv = torch.nn.Conv2d
        self.branches = torch.nn.ModuleList([
            conv(c_in, widths[0], 1),
            torch.nn.Sequential(conv(c_in, inner, 1), conv(inner, widths[1], 3, padding=1)),
            torch.nn.Sequential(conv(c_in, inner, 1), conv(inner, widths[2], 5, padding=2)),
            torch.nn.Sequential(torch.nn.MaxPool2d(3, stride=1, padding=1), conv(c_in, widths[3], 1)),
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def _check_against_torch(p: dict, a: dict) -> None:
    c_in, c_out, r, k = p["in_channels"], p["out_channels"], p["reduce_channels"], p["kernel_size"]
    shape = (c_in, p["height"], p["width"])
    with torch.device("meta"):  # shapes and counts only
        module = Inception(c_in, p["branch_widths"])
        direct = torch.nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
        reduced = torch.nn.Sequential(torch.nn.Conv2d(c_in, r, 1, bias=False),
                                      torch.nn.Conv2d(r, c_out, k, padding=k // 2, bias=False))
        out = module(torch.zeros(1, *shape))
    assert a["out_channels"] == out.shape[1]
    assert out.shape[2:] == shape[1:]
    assert a["macs_direct"] == macs(direct, shape)
    assert a["macs_reduced"] == macs(reduced, shape)
    assert Fraction(a["saving_ratio"]) == Fraction(macs(direct, shape), macs(reduced, shape))


class TestInceptionModule(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "every_input": EVERY_INPUT}
    pins = [
        ({"branch_widths": [64, 128, 32]}, "branch_widths must list the widths of the four branches"),
        ({"reduce_channels": 10000}, "reduce_channels must be an integer from 1 to"),
        ({"kernel_size": 4}, "kernel_size must be one of 3, 5, 7"),
        ({"height": -7}, "height must be an integer from 1 to 112"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract["params"], contract["answers"])


def test_sheet_003_exercise_20():
    """C_in = 256 with branch widths 64, 128, 32, 32 concatenates to 256 channels."""
    assert get_family(FAMILY).solve(SHEET).answers["out_channels"] == 256


def test_sheet_003_exercise_21():
    """C_in = C_out = 256, 5x5, reduced to 64 channels first: a saving of 50/13, about 3.8x."""
    a = get_family(FAMILY).solve(SHEET).answers
    assert a["macs_direct"] == 28 * 28 * 25 * 256 * 256 == 1_284_505_600
    assert a["macs_reduced"] == 28 * 28 * (256 * 64 + 25 * 64 * 256) == 333_971_456
    assert a["saving_ratio"] == sp.Rational(50, 13)
    with torch.device("meta"):
        direct = torch.nn.Conv2d(256, 256, 5, padding=2, bias=False)
        reduced = torch.nn.Sequential(torch.nn.Conv2d(256, 64, 1, bias=False),
                                      torch.nn.Conv2d(64, 256, 5, padding=2, bias=False))
    assert macs(direct, (256, 28, 28)) == a["macs_direct"]
    assert macs(reduced, (256, 28, 28)) == a["macs_reduced"]


@pytest.mark.parametrize("options", [{}, EVERY_INPUT], ids=["default", "every_input"])
def test_the_reduction_narrows_and_saves(options):
    for seed in range(200):
        problem = make_problem(FAMILY, seed, options)
        p = problem.params
        assert 16 <= p["reduce_channels"] < min(p["in_channels"], p["out_channels"])
        assert p["in_channels"] % p["reduce_channels"] == 0
        assert problem.solution.answers["saving_ratio"] > 1


def test_part_b_has_one_reading():
    """Issue #15: seed 0's part (b) read as the k x k convolution alone (57,802,752) while the key
    wanted both convolutions (70,647,808). The statement now asks for the total of both."""
    problem = make_problem(FAMILY, 0)
    statement = " ".join(render_problem(problem)["statement"].split())
    assert "give the total of both convolutions" in statement
    assert problem.solution.answers["macs_reduced"] == 70_647_808
    assert problem.solution.work["macs_big"] == 57_802_752


@pytest.mark.parametrize("seed", range(10))
def test_the_key_rounds_the_millions(seed):
    """Issue #15: the key printed "(30.507008 million)"; the counts are restated to three
    significant digits in millions or billions (numbers.in_words)."""
    rendered = render_problem(make_problem(FAMILY, seed))["solution"]
    millions = re.findall(r"about (?:\} |\$)([0-9.\\,]+)(?:\$ | \\text\{ )(?:million|billion)", rendered)
    assert len(millions) == 2, rendered
    for text in millions:
        digits = text.replace("\\,", "").replace(".", "").strip("0")
        assert len(digits) <= 3, text
