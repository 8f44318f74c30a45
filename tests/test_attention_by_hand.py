"""attention_by_hand against torch.nn.functional.scaled_dot_product_attention (float64):
the output directly, the weights as the output for V = identity (each query's weights
over the keys), the scores as Q K^T / sqrt(d) with torch's causal mask tril(ones(n, m))."""

import math
from fractions import Fraction

import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from family_suite import FamilySuite, matches_json
from oracle import as_float, tensor

from generator.family import get_family
from generator.numbers import exact, to_json
from generator.variants import make_problem

FAMILY = "attention_by_hand"
SLACK = 1e-9  # float64 arithmetic on exact small values


def _rounding_unit(places: int) -> float:
    return 0.5 * 10.0**-places + SLACK


def _torch_attention(contract: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scores (-inf where masked), weights, output and the mask, from the params alone."""
    p = contract["params"]
    Q, K, V = tensor(p["Q"]), tensor(p["K"]), tensor(p["V"])
    causal = p["causal"]
    n, m = Q.shape[0], K.shape[0]
    output = F.scaled_dot_product_attention(Q, K, V, is_causal=causal)
    weights = F.scaled_dot_product_attention(Q, K, torch.eye(m), is_causal=causal)
    keep = torch.ones(n, m).tril().bool() if causal else torch.ones(n, m).bool()
    scores = (Q @ K.T / Q.shape[1] ** 0.5).masked_fill(~keep, float("-inf"))
    return scores, weights, output, keep


def _check(contract: dict) -> None:
    a = contract["answers"]
    scores, weights, output, keep = _torch_attention(contract)
    n, m = scores.shape
    assert [len(row) for row in a["scores"]] == [m] * n
    for i in range(n):
        for j in range(m):
            given = a["scores"][i][j]
            if keep[i, j]:
                assert given is not None and abs(as_float(given) - scores[i, j].item()) <= SLACK, (i, j)
            else:
                assert given is None, (i, j)
    assert tensor(a["weights"]).shape == weights.shape
    assert (tensor(a["weights"]) - weights).abs().max().item() <= _rounding_unit(4)
    assert tensor(a["output"]).shape == output.shape
    assert (tensor(a["output"]) - output).abs().max().item() <= _rounding_unit(3)


class TestAttentionByHand(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "causal_tenths": {"causal": True, "entries": "tenths"},
        "plain_d1_d9": {"causal": False, "dims": [1, 9]},
        "short_causal": {"causal": True, "lengths": [2], "dims": [1, 4, 9]},
    }
    pins = [
        ({"Q": [[1, 0, 0], [0, 1, 0]], "K": [[1, 0, 0], [0, 1, 0]]}, "d = 1, 4 or 9 columns"),
        ({"V": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, "V must have as many rows as K"),
        ({"Q": [[5, 0, 0, 0], [0, 1, 0, 0]]}, "Q[1][1] must be between -2 and 2"),
        ({"K": [["1/3", 0, 0, 0], [0, 1, 0, 0]]}, "K[1][1] must be a decimal with at most 1 digit"),
        ({"causal": True, "Q": [[1, 0, 0, 0], [0, 1, 0, 0]], "K": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]},
         "a causal problem is self-attention"),
    ]

    def oracle(self, contract: dict) -> None:
        _check(contract)


def test_rows_of_weights_sum_to_one_within_rounding():
    for seed in range(100):
        weights = make_problem(FAMILY, seed).solution.answers["weights"]
        for row in weights:
            assert abs(sum(row) - 1) <= Fraction(len(row), 20000)


def test_textbook_case_two_keys():
    """One query q = (1, 1, 1, 1), keys (1, 1, 1, 1) and (0, 0, 0, 0): scores 2 and 0, so
    the weights are sigmoid(2) = 0.8808 and 0.1192 (the classic e^2 / (e^2 + 1))."""
    family = get_family(FAMILY)
    one, zero = [exact(1)] * 4, [exact(0)] * 4
    params = {"Q": [one, zero], "K": [one, zero], "V": [[exact(1), exact(0)], [exact(0), exact(1)]], "causal": False}
    answers = family.solve(params).answers
    assert answers["scores"] == [[2, 0], [0, 0]]
    assert answers["weights"] == [[exact("0.8808"), exact("0.1192")], [exact("0.5"), exact("0.5")]]
    assert answers["output"] == [[exact("0.881"), exact("0.119")], [exact("0.5"), exact("0.5")]]


def test_causal_first_query_sees_only_itself():
    for seed in range(60):
        problem = make_problem(FAMILY, seed, {"causal": True})
        a = problem.solution.answers
        assert a["weights"][0][0] == 1 and all(w == 0 for w in a["weights"][0][1:])
        assert a["output"][0] == problem.params["V"][0]
        assert all(s is None for s in a["scores"][0][1:])


def test_a_student_using_the_rounded_weights_is_accepted():
    """The statement allows the output computed from the four-decimal weights, rounded to
    three decimals: that answer must be within the output's tolerance on every seed."""
    for options in ({}, {"entries": "tenths", "causal": True}, {"dims": [1]}):
        for seed in range(150):
            problem = make_problem(FAMILY, seed, options)
            a, V = problem.solution.answers, problem.params["V"]
            from_rounded = [[round(sum(Fraction(str(w)) * Fraction(str(v[k])) for w, v in zip(row, V, strict=True)), 3)
                             for k in range(len(V[0]))] for row in a["weights"]]
            contract = problem.contract()
            given = [[str(x) for x in row] for row in from_rounded]
            assert matches_json(given, to_json(a["output"]), problem.tolerance("output")), (options, seed)
            assert contract["tolerance"]["output"] == {"kind": "abs", "value": "1/1000"}


def test_the_exact_path_agrees_with_the_fifty_digit_path(monkeypatch):
    """A 50-digit value too close to a rounding boundary for generator.rounding sends the
    whole computation down the exact sympy path; both paths give the same answers and slips."""
    from generator.families import attention_by_hand as module

    family = get_family(FAMILY)
    problems = [make_problem(FAMILY, seed, options) for seed in range(8)
                for options in ({}, {"causal": True, "entries": "tenths"}, {"dims": [9]})]
    fast = [(family.solve(p.params).answers, [s.value for s in family.slips(p.params, p.solution)])
            for p in problems]

    def undecided(value, places, rounded=module.rounded):
        if isinstance(value, sp.Basic):  # exact values and expressions are rounded exactly
            return rounded(value, places)
        raise ArithmeticError("pretend every 50-digit value sits on a rounding boundary")

    module._attention.cache_clear()
    monkeypatch.setattr(module, "rounded", undecided)
    for problem, (answers, slips) in zip(problems, fast, strict=True):
        assert module.attention(problem.params["Q"], problem.params["K"], problem.params["V"],
                                divisor=math.isqrt(len(problem.params["Q"][0])),
                                mask="causal" if problem.params["causal"] else "none") == answers
        assert [s.value for s in family.slips(problem.params, problem.solution)] == slips
    module._attention.cache_clear()


@pytest.mark.parametrize("dims", [[1], [4], [9]])
def test_the_weights_are_neither_saturated_nor_uniform(dims):
    """d = 1 and d = 9 can draw a query whose scores spread so wide that its weights read
    0.0025 and 0.9975, and d = 1 keys such as (-2, -2) that make every weight 0.5: such
    draws are drawn again. Every row keeps a weight of e^-4 or more, at most one query
    (never every query) scores all its keys alike, and the queries' rows are not all the same."""
    for seed in range(40):
        scores = make_problem(FAMILY, seed, {"dims": dims}).contract()["answers"]["scores"]
        rows = [[Fraction(s) for s in row if s is not None] for row in scores]
        assert all(max(seen) - min(seen) <= 4 for seen in rows), (seed, scores)
        flat = [len(set(seen)) == 1 for seen in rows if len(seen) > 1]
        assert sum(flat) <= 1 and not all(flat), (seed, scores)
        assert any(row != scores[0] for row in scores), (seed, scores)


def test_the_heading_names_the_mask_only_when_there_is_one():
    """The heading is the variant's, not `gen list`'s line '... (optionally causal)'."""
    from generator.pipeline import render_problem

    for seed in range(6):
        problem = make_problem(FAMILY, seed)
        heading = render_problem(problem)["title"]
        assert heading.startswith("Causal") == problem.params["causal"] and "optionally" not in heading
