"""Softmax cross-entropy on a small batch, as torch.nn.functional.cross_entropy(logits,
targets) computes it with its default mean reduction: the row-wise softmax
probabilities, the per-example losses -ln p[i, t_i] and their mean, and the gradient of
the mean with respect to the logits, (P - onehot(t)) / N.

The logits are small integers, so a student needs only e^-1 ... e^-5 after shifting each
row by its largest logit. The probabilities are irrational: every answer is stored
rounded to four decimals, with tolerances that accept an answer worked from the rounded
probabilities (the statement allows it), and the drawing keeps every slip outside them."""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, ints_from, register
from ..render import Tex
from ..rounding import fixed, fixed_matrix, rounded, rounded_all
from ..softmax import log_softmax, softmax
from ..tolerance import Tolerance

Matrix = list[list[Any]]

PLACES = 4
LOGITS = range(-2, 4)  # integer logits; shifted by the row's largest, the exponents lie in -5..0
BATCHES = [2, 3]
CLASSES = [2, 3, 4]
# The target's probability is at least this much in every example. It bounds how far a
# loss worked from four-decimal probabilities drifts: |ln p~ - ln p| <= 5e-5 / (0.1 - 5e-5)
# < 5.01e-4, plus 5e-5 for rounding each loss and 5e-5 for rounding the mean: < 6.1e-4.
P_MIN = sp.Rational(1, 10)
# The key's own values are rounded too, 5e-5 from the exact ones. probs: one unit of the
# 4th decimal (a correctly rounded value, or one a calculator's last digit moved); losses:
# the drift above plus the key's rounding, 6.6e-4; gradient: (p~ - y)/N is off by at most
# 5e-5/N <= 2.5e-5, plus 5e-5 for the student's rounding and 5e-5 for the key's: two units.
UNIT = Fraction(1, 10**PLACES)
TOLERANCES = {
    "probs": Tolerance("abs", UNIT),
    "losses": Tolerance("abs", Fraction(1, 1000)),
    "loss": Tolerance("abs", Fraction(1, 1000)),
    "grad_logits": Tolerance("abs", 2 * UNIT),
}
# A slip must land farther than twice its answer's tolerance from the answer (in at least
# one entry), so that a student who makes the slip and rounds as allowed is still outside.
SEPARATION = {name: 2 * sp.Rational(tol.value) for name, tol in TOLERANCES.items()}

# The key's bar chart of the probabilities, in mm: the height of p = 1, the distance from
# one bar to the next, and the gap between the examples' groups of bars.
FIGURE = {"height": 22, "step": 9, "gap": 8}


@register
class SoftmaxCrossEntropy(Family):
    id = "softmax_cross_entropy"
    title = "Softmax cross-entropy: probabilities, loss and gradient"
    answer_labels = {
        "probs": "the softmax probabilities of every example",
        "losses": "the cross-entropy loss of each example",
        "loss": "the mean cross-entropy loss of the batch",
        "grad_logits": "the gradient of the mean loss with respect to the logits",
    }
    tolerances = TOLERANCES
    options = {
        "batch_sizes": Option(BATCHES, "batch sizes N to draw from", ints_from(BATCHES)),
        "classes": Option([3], "numbers of classes C to draw from", ints_from(CLASSES)),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        """Each example from the rows whose target probability is at least P_MIN; the last
        one also keeps the wrong-column slip's loss away from the answer (see off_by_one)."""
        n, c = pick(rng, options["batch_sizes"]), pick(rng, options["classes"])
        rows = feasible_rows(c)
        chosen = [pick(rng, rows) for _ in range(n - 1)]
        shift = sum(off_by_one(*row) for row in chosen)
        chosen.append(pick(rng, [row for row in rows if shift + off_by_one(*row) != 0]))
        return {"logits": [[sp.Integer(z) for z in row] for row, _ in chosen],
                "targets": [target for _, target in chosen]}

    def solve(self, params: dict[str, Any]) -> Solution:
        logits, targets = params["logits"], params["targets"]
        n = len(logits)
        probs = [softmax(row) for row in logits]
        losses = [-log_softmax(row)[t] for row, t in zip(logits, targets, strict=True)]
        onehot = one_hot(targets, len(logits[0]))
        grad = scaled(difference(probs, onehot), n)
        answers = {
            "probs": rounded_all(probs, PLACES),
            "losses": rounded_all(losses, PLACES),
            "loss": rounded(sum(losses, sp.Integer(0)) / n, PLACES),
            "grad_logits": rounded_all(grad, PLACES),
        }
        return Solution(answers=answers, work=steps(logits, targets, answers))

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        logits, targets = params["logits"], params["targets"]
        n, c = len(logits), len(logits[0])
        probs = [softmax(row) for row in logits]
        losses = [-log_softmax(row)[t] for row, t in zip(logits, targets, strict=True)]
        loss = sum(losses, sp.Integer(0)) / n
        onehot = one_hot(targets, c)
        left = one_hot([(t - 1) % c for t in targets], c)  # class indices read as counting from 1
        wrong_column = [-log_softmax(row)[(t - 1) % c] for row, t in zip(logits, targets, strict=True)]
        slips = [
            Slip("loss", "sum", "you summed the losses of the examples; F.cross_entropy averages them (mean "
                 "reduction)", rounded(n * loss, PLACES)),
            Slip("loss", "log10", "you used the base-10 logarithm; cross-entropy uses the natural logarithm",
                 rounded(loss / sp.log(10), PLACES)),
            Slip("loss", "no_minus", "you left out the minus sign: the loss is -ln p, a positive number",
                 rounded(-loss, PLACES)),
            Slip("loss", "wrong_column", "you read class t as column t + 1 (counting from 1), taking the "
                 "class left of the target; class indices count from 0",
                 rounded(sum(wrong_column, sp.Integer(0)) / n, PLACES)),
            Slip("losses", "log10", "you used the base-10 logarithm; cross-entropy uses the natural logarithm",
                 rounded_all([loss_i / sp.log(10) for loss_i in losses], PLACES)),
            Slip("losses", "no_minus", "you left out the minus sign: the loss is -ln p, a positive number",
                 rounded_all([-loss_i for loss_i in losses], PLACES)),
            Slip("losses", "wrong_column", "you read class t as column t + 1 (counting from 1), taking the "
                 "class left of the target; class indices count from 0", rounded_all(wrong_column, PLACES)),
            Slip("grad_logits", "no_mean", "you left out the 1/N that the mean over the batch puts in front of "
                 "every example's gradient", rounded_all(difference(probs, onehot), PLACES)),
            Slip("grad_logits", "sign", "you subtracted the probabilities from the one-hot vector; the gradient "
                 "is p - y", rounded_all(scaled(difference(onehot, probs), n), PLACES)),
            Slip("grad_logits", "no_onehot", "you left out the one-hot target: the gradient is (p - y)/N",
                 rounded_all(scaled(probs, n), PLACES)),
            Slip("grad_logits", "wrong_column", "you put the 1 of the one-hot vector one column left of the "
                 "target (counting from 1); class indices count from 0",
                 rounded_all(scaled(difference(probs, left), n), PLACES)),
        ]
        if n != c:  # with N = C a softmax down the columns can give the same matrix
            slips.append(Slip("probs", "columns", "you normalised down each column (over the batch); each "
                              "example's probabilities (a row) must sum to 1",
                              rounded_all(column_softmax(logits), PLACES)))
        sigmoid = Slip("probs", "sigmoid", "you took the sigmoid of each logit on its own; the softmax normalises "
                       "the exponentials of a row by their sum", rounded_all([[1 / (1 + sp.exp(-z)) for z in row]
                                                                            for row in logits], PLACES))
        # two logits of a row summing to 0 can give the sigmoid the softmax's value
        if distance(sigmoid.value, solution.answers["probs"]) > SEPARATION["probs"]:
            slips.append(sigmoid)
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        logits, targets = params["logits"], params["targets"]
        shape = domain.shape(logits)
        if shape is None or len(shape) != 2 or not 1 <= shape[0] <= 4 or shape[1] not in CLASSES:
            return ["logits must be a matrix of 1 to 4 rows (examples) and 2 to 4 columns (classes)"]
        n, c = shape
        problems = domain.each("logits", logits, lambda name, z: domain.integer(name, z, LOGITS[0], LOGITS[-1]))
        if domain.shape(targets) != (n,):
            return [*problems, f"targets must be a list of {n} class indices, one per example"]
        return problems + domain.each("targets", targets, lambda name, t: domain.integer(name, t, 0, c - 1))

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        for i, (row, t) in enumerate(zip(params["logits"], params["targets"], strict=True), 1):
            if (tuple(row), t) not in feasible_rows(len(row)):
                problems.append(f"example {i}'s target probability is below {P_MIN}, too small for the loss's "
                                "tolerance")
        for slip in self.slips(params, solution):
            if distance(slip.value, solution.answers[slip.answer]) <= SEPARATION[slip.answer]:
                problems.append(f"slip {slip.answer}:{slip.name} lies within the tolerance of the answer")
        return problems


@functools.cache
def feasible_rows(classes: int) -> list[tuple[tuple[int, ...], int]]:
    """Every (logits, target) of `classes` integer logits whose target probability is at
    least P_MIN, i.e. sum_j e^(z_j - z_t) <= 1/P_MIN (never equal: e is transcendental),
    in a fixed order (the draw picks by index)."""
    spread = LOGITS[-1] - LOGITS[0]
    exps = {k: sp.exp(k).evalf(30) for k in range(-spread, spread + 1)}
    return [(row, t) for row in itertools.product(LOGITS, repeat=classes) for t in range(classes)
            if sum(exps[z - row[t]] for z in row) <= 1 / P_MIN]


def off_by_one(row: tuple[int, ...], target: int) -> int:
    """How much lower the wrong-column slip makes this example's loss, ln p_t - ln p_(t-1) =
    z_t - z_(t-1): an integer, so the batch's sum is kept nonzero by the draw and the slip's
    mean loss differs from the answer by at least 1/N."""
    return row[target] - row[(target - 1) % len(row)]


def one_hot(targets: list[int], classes: int) -> Matrix:
    return [[sp.Integer(int(j == t)) for j in range(classes)] for t in targets]


def difference(a: Matrix, b: Matrix) -> Matrix:
    return [[x - y for x, y in zip(ra, rb, strict=True)] for ra, rb in zip(a, b, strict=True)]


def scaled(a: Matrix, n: int) -> Matrix:
    return [[x / n for x in row] for row in a]


def column_softmax(logits: Matrix) -> Matrix:
    columns = [softmax(list(column)) for column in zip(*logits, strict=True)]
    return [list(row) for row in zip(*columns, strict=True)]


def distance(a: Any, b: Any) -> sp.Rational:
    """The largest entrywise |a - b| of two numbers, vectors or matrices of one shape."""
    if isinstance(a, list):
        return max(distance(x, y) for x, y in zip(a, b, strict=True))
    return abs(a - b)


def worst_example(losses: list[sp.Rational]) -> int | None:
    """The number (from 1) of the example with the largest loss, or None when two share it."""
    worst = [i for i, loss in enumerate(losses, 1) if loss == max(losses)]
    return worst[0] if len(worst) == 1 else None


def steps(logits: Matrix, targets: list[int], answers: dict[str, Any]) -> dict[str, Any]:
    """The key's worked values, rounded numbers as fixed four-decimal LaTeX: each example's
    shifted exponentials (e^0 = 1 exactly) and their sum as a calculator shows them, P - Y,
    and the bar heights of the figure (mm)."""
    n, c = len(logits), len(logits[0])
    rows = []
    for i, (row, t) in enumerate(zip(logits, targets, strict=True)):
        top = max(row)
        exps = [sp.exp(z - top) for z in row]
        rows.append({
            "index": i + 1, "target": t, "logits": row, "shifted": [z - top for z in row],
            "exps": [Tex("1") if z == top else fixed(rounded(e, PLACES), PLACES)
                     for z, e in zip(row, exps, strict=True)],
            # every logit the row's largest: the sum is the whole number c, exactly
            "sum": Tex(str(c)) if all(z == top for z in row) else fixed(rounded(sum(exps, sp.Integer(0)), PLACES),
                                                                       PLACES),
            "probs": [fixed(p, PLACES) for p in answers["probs"][i]], "loss": fixed(answers["losses"][i], PLACES),
            "bars": [rounded(FIGURE["height"] * p, 1) for p in answers["probs"][i]],
        })
    return {
        "n": n, "c": c, "rows": rows,
        "probs": fixed_matrix(answers["probs"], PLACES), "loss": fixed(answers["loss"], PLACES),
        "grad": fixed_matrix(answers["grad_logits"], PLACES),
        "p_minus_y": fixed_matrix(difference(answers["probs"], one_hot(targets, c)), PLACES),
        # the key shows the mean of the rounded losses only where it rounds to the answer
        "mean_of_rounded": rounded(sum(answers["losses"], sp.Integer(0)) / n, PLACES) == answers["loss"],
        "worst": worst_example(answers["losses"]),
        "figure": {**FIGURE, "width": n * (c * FIGURE["step"] + FIGURE["gap"]) - FIGURE["gap"]},
    }
