"""Scaled dot-product attention by hand on small Q (n x d), K (m x d) and V (m x 2), as
torch.nn.functional.scaled_dot_product_attention(Q, K, V, is_causal=causal) computes it:
scores S = Q K^T / sqrt(d) (masked entries are None, i.e. -inf before the softmax), the
row-wise softmax weights A, and the output A V.

d is a perfect square (1, 4 or 9) so that the scaling is a division by a small integer
and the scores are short exact numbers. The weights are irrational: the answers hold them
rounded to four decimals and the output rounded to three, with tolerances that accept a
student who works from the rounded weights. torch's causal mask is top-left aligned
(query i sees keys j <= i, tril(ones(n, m))), and a causal problem is self-attention with
n = m, so that every query sees at least one key."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain, rounding
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, flag, ints_from, one_of, register
from ..numbers import terminates, tex_number
from ..render import Tex
from ..rounding import fixed, rounded
from ..softmax import softmax
from ..tolerance import Tolerance

Matrix = list[list[Any]]

DIMS = [1, 4, 9]  # perfect squares: sqrt(d) is 1, 2 or 3
LENGTHS = [2, 3]  # numbers of queries and keys a student can work through by hand
VALUE_DIM = 2
# Entries of Q and K keep |scores| <= 3 or so: a wider spread saturates the softmax
# (weights 0.9997 and 0.0003 teach nothing) and hides the scaling slips in the rounding.
ENTRY_GRIDS: dict[str, dict[int, list[sp.Rational]]] = {
    "integers": {1: [sp.Integer(v) for v in range(-2, 3)],
                 4: [sp.Integer(v) for v in range(-1, 2)],
                 9: [sp.Integer(v) for v in range(-1, 2)]},
    "tenths": {d: [sp.Rational(v, 10) for v in range(-10, 11)] for d in DIMS},
}
VALUE_GRIDS = {"integers": [sp.Integer(v) for v in range(-3, 4)],
               "tenths": [sp.Rational(v, 10) for v in range(-20, 21)]}
VALUE_LIMIT = 3  # |V entries| <= 3 on both grids (the output tolerance relies on it)

WEIGHT_PLACES, OUTPUT_PLACES = 4, 3
# Weights: one unit of the 4th decimal accepts a correctly rounded weight and one whose
# exponentials were rounded on the way. Output: the key uses exact weights; a student who
# uses the four-decimal weights is off by at most 5e-5 * sum_j |v_j| <= 5e-5 * 3 * 3, plus
# the rounding to three decimals (5e-4): one unit of the 3rd decimal accepts both.
TOLERANCES = {"weights": Tolerance("abs", Fraction(1, 10**WEIGHT_PLACES)),
              "output": Tolerance("abs", Fraction(1, 10**OUTPUT_PLACES))}
# Every slip must land this far from its answer in at least one entry: the tolerance,
# plus the slack of a student who makes the slip and rounds as told, plus a margin.
SEPARATION = {"scores": sp.Rational(1, 1000), "weights": sp.Rational(1, 1000), "output": sp.Rational(1, 200)}
ATTEMPTS = 100  # draws per problem; at least 3 in 4 first draws are gradable (see draw)
# A query whose scores spread wider than this puts a weight below e^-4 = 0.018 on a key,
# next to 0.98 or more: a saturated row that shows nothing. d = 4 on the default grid never
# spreads wider; d = 1 (scores up to 4 in size) and d = 9 (up to 3) can, and are drawn again,
# as are draws whose queries mostly score every key alike (see uninformative).
MAX_SPREAD = 4

Keep = Callable[[int, int], bool]
MASKS: dict[str, Keep] = {
    "none": lambda i, j: True,
    "causal": lambda i, j: j <= i,  # torch's is_causal: tril(ones(n, m))
    "upper": lambda i, j: j >= i,  # the wrong triangle
}


@register
class AttentionByHand(Family):
    id = "attention_by_hand"
    title = "Scaled dot-product attention by hand (optionally causal)"
    answer_labels = {
        "scores": "the scaled scores",
        "weights": "the attention weights",
        "output": "the attention output",
    }
    tolerances = TOLERANCES
    options = {
        "dims": Option([4], "key dimensions d to draw from (perfect squares, so sqrt(d) is an integer)",
                       ints_from(DIMS)),
        "causal": Option("either", "use a causal mask: true, false or either", flag("either")),
        "lengths": Option(LENGTHS, "numbers of queries and keys to draw from", ints_from(LENGTHS)),
        "entries": Option("integers", "entries of Q, K and V: small integers or one-decimal numbers",
                          one_of(*ENTRY_GRIDS)),
    }

    def heading(self, params: dict[str, Any]) -> str:
        return "Causal scaled dot-product attention by hand" if params["causal"] else \
            "Scaled dot-product attention by hand"

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        """Q, K and V from small grids; a draw on which some slip would be graded right
        (every row's scores equal, so that the scaling changes nothing, or weight changes
        cancelling in the output) is drawn again. Measured over 400 seeds, 93% of first
        draws pass with the default options and 79% in the worst case (causal, two
        tokens, where one row decides everything), so ATTEMPTS = 100 only bounds the loop;
        the gradability itself has no simple closed form to draw from."""
        for _ in range(ATTEMPTS):
            params = _candidate(rng, options)
            solution = self.solve(params)
            if not uninformative(solution.answers["scores"]) and not self.ungradable(params, solution):
                return params
        raise InfeasibleError(f"no gradable attention problem found in {ATTEMPTS} draws",
                              hint="allow larger lengths or more key dimensions")

    def solve(self, params: dict[str, Any]) -> Solution:
        Q, K, V = params["Q"], params["K"], params["V"]
        d = len(Q[0])
        root = math.isqrt(d)
        mask = "causal" if params["causal"] else "none"
        keep = MASKS[mask]
        answers = attention(Q, K, V, divisor=root, mask=mask)
        scores, weights, output = answers["scores"], answers["weights"], answers["output"]
        return Solution(
            answers=answers,
            work={
                "d": d, "root": root, "n": len(Q), "m": len(K), "raw": matmul(Q, transpose(K)),
                # five products per line, so that d = 9 with one-decimal entries fits the page
                "first_terms": chunks(list(zip(Q[0], K[0], strict=True)), 5),
                "lines": display_lines({"Q": Q, "K": K, "V": V}),
                "scores_tex": tex_matrix(scores, None),
                # thirds (d = 9) as a common factor times Q K^T, then four decimals: a
                # matrix of fractions such as 49/300 is hard to read
                "exact_scores": all(x is None or terminates(x) for row in scores for x in row),
                "raw_masked_tex": tex_matrix(masked(matmul(Q, transpose(K)), keep), None),
                "scores_approx_tex": tex_matrix([[None if x is None else rounded(x, WEIGHT_PLACES) for x in row]
                                                 for row in scores], WEIGHT_PLACES),
                "first_score": Tex(" ".join(dict.fromkeys([tex_number(scores[0][0]), score_text(scores[0][0])]))),
                "mask": [[keep(i, j) for j in range(len(K))] for i in range(len(Q))],
                "rows": [softmax_steps(i, row, w) for i, (row, w) in enumerate(zip(scores, weights, strict=True))],
                "weights_tex": tex_matrix(masked(weights, keep), WEIGHT_PLACES, hidden="0"),
                "output_tex": tex_matrix(output, OUTPUT_PLACES),
                # the last query sees every key, also under the causal mask
                "output_terms": [(fixed(a, WEIGHT_PLACES), v[0]) for a, v in zip(weights[-1], V, strict=True)],
                "last_output": fixed(output[-1][0], OUTPUT_PLACES),
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        Q, K, V, causal = params["Q"], params["K"], params["V"], params["causal"]
        d = len(Q[0])
        mask = "causal" if causal else "none"
        slips: list[Slip] = []

        def through(name: str, says: str, answers: tuple[str, ...], **how: Any) -> None:
            values = attention(Q, K, V, **{"divisor": math.isqrt(d), "mask": mask, **how})
            slips.extend(Slip(answer, name, says, values[answer]) for answer in answers)

        if d > 1:
            through("no_scaling", "you forgot to divide the dot products by sqrt(d)",
                    ("scores", "weights", "output"), divisor=1)
            through("divided_by_d", "you divided the dot products by d instead of sqrt(d)",
                    ("scores", "weights", "output"), divisor=d)
        if causal:
            through("no_mask", "you left out the causal mask: query i may only see keys 1 to i",
                    ("scores", "weights", "output"), mask="none")
            through("wrong_triangle", "you masked the wrong triangle: query i sees keys 1 to i, not i to n",
                    ("scores", "weights", "output"), mask="upper")
        through("columns", "you took the softmax down each column; each query's weights (a row) must sum to 1",
                ("weights", "output"), columns=True)
        through("no_softmax", "you multiplied V by the scores instead of the softmax weights",
                ("output",), softmax=False)
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        Q, K, V = params["Q"], params["K"], params["V"]
        problems = [] if isinstance(params["causal"], bool) else [
            f"causal must be true or false, got {domain.shown(params['causal'])}"]
        shapes = {name: domain.shape(value) for name, value in (("Q", Q), ("K", K), ("V", V))}
        for name, rows in (("Q", "n"), ("K", "m"), ("V", "m")):
            shape = shapes[name]
            if shape is None or len(shape) != 2 or shape[0] not in LENGTHS:
                problems.append(f"{name} must be a matrix of 2 or 3 rows ({rows} = 2 or 3)")
        if problems:
            return problems
        (n, d), (m, d_k), (m_v, d_v) = shapes["Q"], shapes["K"], shapes["V"]
        if d not in DIMS or d_k != d:
            problems.append(f"Q and K must have d = 1, 4 or 9 columns each (sqrt(d) an integer), got {d} and {d_k}")
        if m_v != m or d_v != VALUE_DIM:
            problems.append(f"V must have as many rows as K ({m}) and {VALUE_DIM} columns")
        if params["causal"] and n != m:
            problems.append("a causal problem is self-attention: Q and K need the same number of rows")
        for name, top in (("Q", 2), ("K", 2), ("V", VALUE_LIMIT)):
            problems += domain.each(name, params[name],
                                    lambda label, v, top=top: domain.decimal(label, v, -top, top, 1))
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        return self.ungradable(params, solution)

    def ungradable(self, params: dict[str, Any], solution: Solution) -> list[str]:
        """The slips a grader could not tell from the answer: each must differ from it by
        more than SEPARATION in at least one entry."""
        problems = []
        for slip in self.slips(params, solution):
            if distance(slip.value, solution.answers[slip.answer]) <= SEPARATION[slip.answer]:
                problems.append(f"slip {slip.answer}:{slip.name} lies within the tolerance of the answer")
        return problems


def uninformative(scores: Matrix) -> bool:
    """Some query's visible scores spread wider than MAX_SPREAD (a saturated softmax), or
    the scores of more than one query, or of every query, over two keys or more are all
    equal (uniform weights: K = (-2, -2) with d = 1 makes every weight 0.5), or every query
    scores the keys the same (one row worked over and over)."""
    rows = [[s for s in row if s is not None] for row in scores]
    if any(max(seen) - min(seen) > MAX_SPREAD for seen in rows):
        return True
    flat = [len(set(seen)) == 1 for seen in rows if len(seen) > 1]
    return sum(flat) > 1 or all(flat) or all(row == scores[0] for row in scores)


def _candidate(rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
    causal = options["causal"] if isinstance(options["causal"], bool) else bool(rng.integers(2))
    d = pick(rng, options["dims"])
    n = pick(rng, options["lengths"])
    m = n if causal else pick(rng, options["lengths"])
    grid = ENTRY_GRIDS[options["entries"]][d]
    values = VALUE_GRIDS[options["entries"]]
    return {
        "Q": [[pick(rng, grid) for _ in range(d)] for _ in range(n)],
        "K": [[pick(rng, grid) for _ in range(d)] for _ in range(m)],
        "V": [[pick(rng, values) for _ in range(VALUE_DIM)] for _ in range(m)],
        "causal": causal,
    }


# --- the computation, with the switches the slips turn ----------------------------


def attention(Q: Matrix, K: Matrix, V: Matrix, *, divisor: int, mask: str, columns: bool = False,
              softmax: bool = True) -> dict[str, Matrix]:
    """Scores, weights (rounded) and output (rounded) computed with the given divisor of
    the dot products, mask, softmax axis, or no softmax at all (scores times V, masked
    scores counted as 0). Fresh lists of a cached computation: drawing, checking and the
    contract each ask for the same slips."""
    values = _attention(*(tuple(map(tuple, A)) for A in (Q, K, V)), divisor, mask, columns, softmax)
    return {name: [list(row) for row in A] for name, A in values.items()}


@functools.lru_cache(maxsize=4096)
def _attention(Q: Matrix, K: Matrix, V: Matrix, divisor: int, mask: str, columns: bool,
               softmax: bool) -> dict[str, Matrix]:
    """The weights and the output are computed with generator.rounding's 50-digit values:
    as exact sympy expressions (generator.softmax) they cost a second per variant, every
    slip of every entry included. A value too close to a rounding boundary for those
    digits (a tie, which only rational weights such as 1/2 can produce) makes the whole
    computation exact instead."""
    scores = masked(scaled(matmul(Q, transpose(K)), divisor), MASKS[mask])
    try:
        return {"scores": scores, **_weights_and_output(scores, V, columns, softmax, exact=False)}
    except ArithmeticError:
        return {"scores": scores, **_weights_and_output(scores, V, columns, softmax, exact=True)}


def _weights_and_output(scores: Matrix, V: Matrix, columns: bool, softmax: bool, *,
                        exact: bool) -> dict[str, Matrix]:
    if not softmax:  # the slip: the scores themselves weight V, masked ones as 0
        weights = [[sp.Integer(0) if s is None else s for s in row] for row in scores]
    elif columns:
        weights = transpose(row_softmax(transpose(scores), exact=exact))
    else:
        weights = row_softmax(scores, exact=exact)
    values = V if exact or not softmax else [[rounding.real(v) for v in row] for row in V]
    return {"weights": [[rounded(w, WEIGHT_PLACES) for w in row] for row in weights],
            "output": [[rounded(o, OUTPUT_PLACES) for o in row] for row in matmul(weights, values)]}


def matmul(A: Matrix, B: Matrix) -> Matrix:
    """A B, for exact entries or generator.rounding's 50-digit values (never mixed in one product)."""
    def dot(row: list[Any], col: tuple[Any, ...]) -> Any:
        products = [a * b for a, b in zip(row, col, strict=True)]
        return sum(products[1:], products[0])

    return [[dot(row, col) for col in zip(*B, strict=True)] for row in A]


def transpose(A: Matrix) -> Matrix:
    return [list(col) for col in zip(*A, strict=True)]


def scaled(A: Matrix, divisor: int) -> Matrix:
    return [[x / divisor for x in row] for row in A]


def masked(A: Matrix, keep: Keep) -> Matrix:
    """None where the mask hides the entry (-inf before the softmax, null in the JSON)."""
    return [[x if keep(i, j) else None for j, x in enumerate(row)] for i, row in enumerate(A)]


def row_softmax(scores: Matrix, *, exact: bool = True) -> Matrix:
    """Softmax of each row over its unmasked entries, masked entries getting weight 0:
    exact sympy expressions (generator.softmax), or the same shifted form in
    generator.rounding's 50 digits."""
    result = []
    for row in scores:
        seen = [s for s in row if s is not None]
        if exact:
            probabilities = iter(softmax(seen))
        else:
            top = max(seen)
            exps = [rounding.exp(s - top) for s in seen]
            total = sum(exps[1:], exps[0])
            probabilities = iter([e / total for e in exps])
        zero = sp.Integer(0) if exact else rounding.real(sp.Integer(0))
        result.append([zero if s is None else next(probabilities) for s in row])
    return result


def distance(a: Any, b: Any) -> Any:
    """The largest entry-wise difference of two equally shaped matrices; a masked entry
    against a number, or different shapes, count as infinitely far apart."""
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)):
            return sp.oo
        return max((distance(x, y) for x, y in zip(a, b, strict=True)), default=sp.Integer(0))
    if a is None or b is None:
        return sp.Integer(0) if a is b else sp.oo
    return abs(a - b)


# --- what the key prints -------------------------------------------------------------


def softmax_steps(i: int, scores: list[Any], weights: list[sp.Rational]) -> dict[str, Any]:
    """One query's softmax as a student works it: subtract the largest score, exponentiate
    (four decimals), add up, divide."""
    seen = [(j, s) for j, s in enumerate(scores) if s is not None]
    top = max(s for _, s in seen)
    # e^x of a rational x is irrational unless x = 0 (then exactly 1): never a rounding tie
    exps = [rounding.exp(s - top) for _, s in seen]
    total = sum(exps[1:], exps[0])
    return {
        "query": i + 1, "seen": [j + 1 for j, _ in seen], "top": score_text(top),
        "shifted": [s - top for _, s in seen],
        "exps": [fixed(rounded(e, WEIGHT_PLACES), WEIGHT_PLACES) for e in exps],
        "total": fixed(rounded(total, WEIGHT_PLACES), WEIGHT_PLACES),
        "weights": [fixed(weights[j], WEIGHT_PLACES) for j, _ in seen],
    }


def score_text(score: sp.Rational) -> Tex:
    """A score exactly when its decimals end, otherwise to four decimals with a tilde."""
    if terminates(score):
        return Tex(tex_number(score))
    return Tex(r"\approx " + fixed(rounded(score, WEIGHT_PLACES), WEIGHT_PLACES))


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


# Widths in points of the statement's matrices, estimated from their text: a digit or a
# point is about 5.5 pt at 11 pt, a minus sign 8.5 pt, a column gap 11 pt, the brackets
# and "Q = " 30 pt, the gap between two matrices 20 pt. The parts' line is about 430 pt.
LINE_WIDTH = 400


def matrix_width(A: Matrix) -> float:
    def width(x: Any) -> float:
        text = tex_number(x)
        return 5.5 * len(text.lstrip("-")) + 8.5 * text.startswith("-")

    columns = list(zip(*A, strict=True))
    return sum(max(width(x) for x in col) for col in columns) + 11 * (len(columns) - 1) + 30


def display_lines(matrices: dict[str, Matrix]) -> list[list[str]]:
    """The names of the matrices to show on each display line: all on one line when they
    fit, otherwise as few lines as fit, in order."""
    lines: list[list[str]] = [[]]
    used = 0.0
    for name, A in matrices.items():
        width = matrix_width(A)
        if lines[-1] and used + 20 + width > LINE_WIDTH:
            lines.append([])
            used = 0.0
        used += width + (20 if lines[-1] else 0)
        lines[-1].append(name)
    return lines


def tex_matrix(A: Matrix, places: int | None, hidden: str = r"-\infty") -> Tex:
    """A bmatrix whose masked entries (None) print as `hidden`; with `places`, every entry
    with that many decimals, otherwise exact (fractions of a 9-dimensional problem)."""
    def entry(x: Any) -> str:
        if x is None:
            return hidden
        return fixed(x, places) if places is not None else tex_number(x)

    body = r" \\ ".join(" & ".join(entry(x) for x in row) for row in A)
    return Tex(rf"\begin{{bmatrix}} {body} \end{{bmatrix}}")
