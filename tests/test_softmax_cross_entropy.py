import math
from fractions import Fraction

import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from family_suite import FamilySuite
from oracle import as_float, close, tensor

from generator.family import get_family
from generator.variants import make_problem

FAMILY = "softmax_cross_entropy"
HALF_UNIT = 0.5e-4 + 1e-9  # the answers are torch's values rounded to four decimals


class TestSoftmaxCrossEntropy(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "square": {"batch_sizes": [3], "classes": [3]},  # N = C: no column-softmax slip
        "binary": {"classes": [2]},
        "four_classes": {"batch_sizes": [2], "classes": [4]},
    }
    pins = [
        ({"logits": [[1, 2, 9], [0, 0, 0]]}, "logits[1][3] must be an integer from -2 to 3, got 9"),
        ({"logits": [[1, 2, 3, 0, 1]]}, "logits must be a matrix of 1 to 4 rows"),
        ({"logits": [[1, 0, -1], [0, 2, 1]], "targets": [0, 3]}, "targets[2] must be an integer from 0 to 2"),
        ({"logits": [[1, 0, -1], [0, 2, 1]], "targets": [0]}, "targets must be a list of 2 class indices"),
        # the target's probability e^-5 / (1 + 2e^-5) is far too small for the loss's tolerance
        ({"logits": [[3, -2, -2], [0, 0, 0]], "targets": [1, 0]}, "example 1's target probability is below"),
    ]

    def oracle(self, contract: dict) -> None:
        p, a = contract["params"], contract["answers"]
        logits = tensor(p["logits"]).requires_grad_(True)
        targets = torch.tensor(p["targets"])
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        assert close(torch.softmax(logits.detach(), dim=1), a["probs"], HALF_UNIT)
        assert close(F.cross_entropy(logits.detach(), targets, reduction="none"), a["losses"], HALF_UNIT)
        assert abs(loss.item() - as_float(a["loss"])) <= HALF_UNIT
        assert close(logits.grad, a["grad_logits"], HALF_UNIT)


def _solve(logits: list[list[str]], targets: list[int]) -> dict:
    params = {"logits": [[sp.Rational(z) for z in row] for row in logits], "targets": targets}
    return get_family(FAMILY).solve(params).answers


def test_cs231n_cat_scores():
    """CS231n's linear-classification notes: scores cat 3.2, car 5.1, frog -1.7 give
    probabilities 0.13, 0.87, 0.00 and, for the true class cat, a loss of 2.04."""
    answers = _solve([["3.2", "5.1", "-1.7"]], [0])
    assert [round(float(p), 2) for p in answers["probs"][0]] == [0.13, 0.87, 0.00]
    assert round(float(answers["loss"]), 2) == 2.04


def test_uniform_logits_give_ln_c():
    """The sanity check of every course: equal logits give the loss ln C, and the gradient
    of the target is (1/C - 1)/N."""
    answers = _solve([["0", "0", "0"], ["1", "1", "1"]], [0, 2])
    assert answers["loss"] == sp.Rational("1.0986")  # ln 3 = 1.098612...
    assert answers["grad_logits"][0] == [sp.Rational("-0.3333"), sp.Rational("0.1667"), sp.Rational("0.1667")]


def test_torch_docs_style_single_example():
    """F.cross_entropy(tensor([[1., 2., 3.]]), tensor([2])) = 0.4076 (-ln(e^3 / (e + e^2 + e^3)))."""
    answers = _solve([["1", "2", "3"]], [2])
    assert answers["loss"] == sp.Rational("0.4076")
    assert answers["probs"][0] == [sp.Rational("0.0900"), sp.Rational("0.2447"), sp.Rational("0.6652")]


def _four_decimals(x: float) -> float:
    return math.floor(x * 10**4 + 0.5) / 10**4


@pytest.mark.parametrize("options", [{}, {"classes": [2]}, {"classes": [4]}], ids=["default", "binary", "four"])
def test_rounded_path_is_accepted(options):
    """A student who works on from the four-decimal probabilities, as the statement allows,
    rounding each loss and then the mean, is within the tolerance of every answer."""
    for seed in range(200):
        problem = make_problem(FAMILY, seed, options)
        a, n = problem.solution.answers, len(problem.params["targets"])
        probs = [[float(v) for v in row] for row in a["probs"]]
        losses = [_four_decimals(-math.log(row[t])) for row, t in zip(probs, problem.params["targets"], strict=True)]
        mean = _four_decimals(sum(losses) / n)
        grad = [[_four_decimals((p - (j == t)) / n) for j, p in enumerate(row)]
                for row, t in zip(probs, problem.params["targets"], strict=True)]
        for name, value in (("losses", losses), ("loss", mean), ("grad_logits", grad)):
            bound = problem.tolerance(name).value
            assert _max_error(value, a[name]) <= bound, (seed, name)


def _max_error(given, correct) -> Fraction:
    if isinstance(correct, list):
        return max(_max_error(g, c) for g, c in zip(given, correct, strict=True))
    return abs(Fraction(given) - Fraction(int(correct.p), int(correct.q)))


def test_targets_have_probability_at_least_a_tenth():
    for seed in range(300):
        problem = make_problem(FAMILY, seed)
        for row, t in zip(problem.solution.answers["probs"], problem.params["targets"], strict=True):
            assert row[t] >= sp.Rational(1, 10)
