import math
from fractions import Fraction

import pytest
import sympy as sp
import torch
from family_suite import FamilySuite
from oracle import as_float, close, tensor

from generator.family import get_family
from generator.variants import make_problem

FAMILY = "batchnorm_forward"
HALF_UNIT = 0.5e-4 + 1e-9  # Y and the running variance are torch's values rounded to four decimals
EXACT = 1e-9


def _training_step(p: dict) -> tuple[torch.nn.BatchNorm1d, torch.Tensor, torch.Tensor]:
    """One forward pass of a BatchNorm1d in training mode whose parameters and running
    statistics are the problem's (float64: oracle.py sets the default dtype)."""
    X = tensor(p["X"])
    layer = torch.nn.BatchNorm1d(X.shape[1], eps=as_float(p["eps"]), momentum=as_float(p["momentum"]))
    with torch.no_grad():
        layer.weight.copy_(tensor(p["gamma"]))
        layer.bias.copy_(tensor(p["beta"]))
        layer.running_mean.copy_(tensor(p["running_mean"]))
        layer.running_var.copy_(tensor(p["running_var"]))
    layer.train()
    with torch.no_grad():
        Y = layer(X)
    return layer, X, Y


class TestBatchnormForward(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "five_half": {"batch_sizes": [5], "features": [3], "momentum": "0.5"},
        "near_half": {"batch_sizes": [4, 5], "features": [2], "momentum": "0.45"},
    }
    pins = [
        ({"eps": "0"}, "eps must be 0.00001 (PyTorch's default), got 0"),
        ({"momentum": "1.5"}, "momentum must be between 0 and 1"),
        ({"X": [[1, 2, 3], [3, 4, 5], [5, 6, 7], [99, 8, 9]]}, "X[4][1] must be an integer from -20 to 20, got 99"),
        # variance 5: sqrt(5) is no number to divide by on paper
        ({"X": [[1], [3], [5], [7]], "gamma": [1], "beta": [0], "running_mean": [0], "running_var": [1]},
         "feature 1's batch variance must be the square of a terminating decimal"),
    ]

    def oracle(self, contract: dict) -> None:
        p, a = contract["params"], contract["answers"]
        layer, X, Y = _training_step(p)
        assert close(X.mean(0), a["mean"], EXACT)
        assert close(X.var(0, unbiased=False), a["var"], EXACT)
        assert close(Y, a["Y"], HALF_UNIT)
        assert close(layer.running_mean, a["running_mean_new"], EXACT)
        assert close(layer.running_var, a["running_var_new"], HALF_UNIT)


def _solve(X, gamma, beta, running_mean, running_var, eps="0.00001", momentum="0.1") -> dict:
    exact = lambda values: [sp.Rational(v) for v in values]  # noqa: E731
    params = {"X": [exact(row) for row in X], "gamma": exact(gamma), "beta": exact(beta),
              "eps": sp.Rational(eps), "momentum": sp.Rational(momentum),
              "running_mean": exact(running_mean), "running_var": exact(running_var)}
    return get_family(FAMILY).solve(params).answers


def test_fresh_layer_after_one_batch():
    """A freshly made nn.BatchNorm1d (gamma 1, beta 0, running statistics 0 and 1, momentum
    0.1) after the batch 2, 4, 6, 8: mean 5, biased variance 5, and, as the PyTorch docs say,
    the running variance takes the unbiased 20/3: 0.9 + 0.1 * 20/3 = 1.5667."""
    a = _solve([[2], [4], [6], [8]], [1], [0], [0], [1])
    assert a["mean"] == [5] and a["var"] == [5]
    assert a["running_mean_new"] == [sp.Rational("0.5")]
    assert a["running_var_new"] == [sp.Rational("1.5667")]
    # x-hat = (-3, -1, 1, 3) / sqrt(5)
    assert [row[0] for row in a["Y"]] == [sp.Rational(v) for v in ("-1.3416", "-0.4472", "0.4472", "1.3416")]


def test_standardised_columns_by_hand():
    """The column 0, 0, 2, 2 has mean 1 and sigma 1, so x-hat = -1, -1, 1, 1 exactly; with
    gamma 2 and beta 0.5 the outputs are -1.5, -1.5, 2.5, 2.5."""
    a = _solve([[0], [0], [2], [2]], ["2"], ["0.5"], ["0"], ["1"])
    assert [row[0] for row in a["Y"]] == [sp.Rational(v) for v in ("-1.5", "-1.5", "2.5", "2.5")]


def test_eps_is_negligible_where_the_statement_says_so():
    """With eps = 1e-5 the statement lets students take sqrt(var + eps) = sigma: Y computed
    so, rounded to four decimals, is within the tolerance on every seed."""
    for seed in range(200):
        problem = make_problem(FAMILY, seed)
        p, a = problem.params, problem.solution.answers
        assert p["eps"] == sp.Rational(1, 100000)
        tolerance = problem.tolerance("Y").value
        for row, y_row in zip(p["X"], a["Y"], strict=True):
            for j, (x, y) in enumerate(zip(row, y_row, strict=True)):
                xhat = round(float((x - a["mean"][j]) / sp.sqrt(a["var"][j])), 4)  # x-hat to four decimals
                plain = math.floor(float(p["gamma"][j]) * xhat * 10**4 + float(p["beta"][j]) * 10**4 + 0.5) / 10**4
                assert abs(Fraction(plain) - Fraction(int(y.p), int(y.q))) <= tolerance, seed


@pytest.mark.parametrize("options", [{}, {"batch_sizes": [5]}], ids=["four", "five"])
def test_sigma_is_a_short_decimal(options):
    for seed in range(200):
        for var in make_problem(FAMILY, seed, options).solution.answers["var"]:
            sigma = sp.sqrt(var)
            assert sigma.is_Rational and sigma >= 1 and (sigma * 100).q == 1
