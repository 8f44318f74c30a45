"""Forward pass, summed squared-error loss and every gradient of a two-layer ReLU
network y_k = w2ᵀ ReLU(W1 x_k + b1) + b2 on a small batch, worked in matrix form."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import decimal, decimals, pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, ints_from, register
from ..linalg import Matrix, Vector, matmul, matvec, scaled, transpose

# Every drawn value is a one-decimal number in [-1, 1], handled here in tenths.
TENTHS = range(-10, 11)
# Rows of X and W1 have no zero entries (a zero weight or feature would only hide
# a term of the sums); a row is an index into the 20**D such rows.
ROW_DIGITS = [v for v in TENTHS if v != 0]
# x_1 and x_2 are at least this far apart (L1 norm, in tenths); see `_draw_x` for why.
FAR_L1 = 16
UNIT_TRIES = 64


@functools.cache
def _all_rows(width: int) -> np.ndarray:
    """All rows of nonzero tenths, one per column (D × 20**D: sums over the first
    axis are fast), in the order `_row` decodes them."""
    index = np.arange(len(ROW_DIGITS) ** width)
    digits = np.stack([index // len(ROW_DIGITS) ** i % len(ROW_DIGITS) for i in range(width)])
    return np.asarray(ROW_DIGITS, dtype=np.int8)[digits]


def _row(index: int, width: int) -> list[int]:
    base = len(ROW_DIGITS)
    return [ROW_DIGITS[index // base**i % base] for i in range(width)]


def _draw_x(rng: np.random.Generator, n: int, d: int) -> list[list[int]]:
    """Distinct sample rows (in tenths), two of them at L1 distance >= 1.6.

    The far pair is what makes a good hidden unit always exist: with Δ = x_a - x_b
    and the row w* = 0.2·sign(Δ), every |w*·x_k| <= 0.2·4 = 0.8 and the outputs of
    x_a and x_b differ by 0.2·|Δ|_1 >= 0.32. Strictly between them lie at least 3
    one-decimal biases, at most N-2 <= 2 of which make some other sample's
    pre-activation zero, so w* admits a bias in [-1, 1] that switches the unit on
    for one sample and off for another. Any x_1 has such partners (flip every sign
    and push to ±1: distance >= 1.1·D), so this is a draw from a non-empty set."""
    rows = _all_rows(d)
    count = rows.shape[1]
    first = int(rng.integers(count))
    far = np.flatnonzero(np.abs(rows - rows[:, [first]]).sum(axis=0, dtype=np.int16) >= FAR_L1)
    chosen = [first, int(far[rng.integers(len(far))])]
    for _ in range(n - 2):
        # uniform over the rows not chosen yet: an index among the rest, shifted past them
        index = int(rng.integers(count - len(chosen)))
        for taken in sorted(chosen):
            index += index >= taken
        chosen.append(index)
    return [_row(chosen[int(k)], d) for k in rng.permutation(n)]


def _good_biases(x: list[list[int]], w: list[int]) -> list[int]:
    """Biases b (tenths) with no pre-activation w·x_k + b exactly zero and the unit
    on for some sample and off for another. Pre-activations are in hundredths."""
    u = [sum(wi * xi for wi, xi in zip(w, row, strict=True)) for row in x]
    good = []
    for b in TENTHS:
        z = [uk + 10 * b for uk in u]
        if 0 not in z and min(z) < 0 < max(z):
            good.append(b)
    return good


def _draw_unit(rng: np.random.Generator, x: list[list[int]]) -> tuple[list[int], int]:
    """A weight row and a good bias for one hidden unit.

    Rows are tried first by UNIT_TRIES uniform draws, so the row kept is uniform over
    the good rows whenever one of them hits (in practice always), then every row in
    order: a bounded scan that `_draw_x` guarantees to succeed."""
    d = len(x[0])
    count = len(ROW_DIGITS) ** d
    for index in itertools.chain(rng.integers(count, size=UNIT_TRIES), range(count)):
        w = _row(int(index), d)
        biases = _good_biases(x, w)
        if biases:
            return w, pick(rng, biases)
    raise InfeasibleError("no hidden unit can be both active and dead on this batch")


def _tenths(values: Any) -> Any:
    if isinstance(values, list):
        return [_tenths(v) for v in values]
    return sp.Rational(values, 10)


def _forward(params: dict[str, Any]) -> tuple[Matrix, Matrix, Matrix, Vector]:
    """Pre-activations Z (N×H), mask M, activations A and outputs y."""
    x, w1, b1, w2, b2 = (params[k] for k in ("X", "W1", "b1", "w2", "b2"))
    z = [[zj + bj for zj, bj in zip(matvec(w1, xk), b1, strict=True)] for xk in x]
    mask = [[sp.Integer(1 if v > 0 else 0) for v in zk] for zk in z]
    a = [[v * m for v, m in zip(zk, mk, strict=True)] for zk, mk in zip(z, mask, strict=True)]
    y = [v + b2 for v in matvec(a, w2)]
    return z, mask, a, y


@register
class TwoLayerBackprop(Family):
    id = "two_layer_backprop"
    title = "Forward pass, loss and back-propagation through a two-layer ReLU network"
    answer_labels = {
        "y": "the outputs y",
        "loss": "the loss L",
        "grad_W1": "the gradient dL/dW(1)",
        "grad_b1": "the gradient dL/db(1)",
        "grad_w2": "the gradient dL/dw(2)",
        "grad_b2": "the gradient dL/db(2)",
    }
    options = {
        "samples": Option([3], "batch sizes N to draw from (2..4)", ints_from(range(2, 5))),
        "inputs": Option([4], "input dimensions D to draw from (2..4)", ints_from(range(2, 5))),
        "hidden": Option([2], "numbers of hidden units H to draw from (2..3)", ints_from(range(2, 4))),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        n, d, h = pick(rng, options["samples"]), pick(rng, options["inputs"]), pick(rng, options["hidden"])
        x = _draw_x(rng, n, d)
        units = [_draw_unit(rng, x) for _ in range(h)]
        params = {
            "X": _tenths(x),
            "W1": _tenths([w for w, _ in units]),
            "b1": _tenths([b for _, b in units]),
            "w2": decimals(rng, (h,), 1, 1, nonzero=True),
            "b2": decimal(rng, 1, 1),
        }
        params["t"] = self._draw_targets(rng, _forward(params)[3])
        return {k: params[k] for k in ("X", "t", "W1", "b1", "w2", "b2")}

    @staticmethod
    def _draw_targets(rng: np.random.Generator, y: Vector) -> Vector:
        """Targets that no output hits exactly (every sample sends an error back) and
        whose residuals do not sum to zero (so dL/db2 is not trivially 0)."""
        t: Vector = []
        for k, yk in enumerate(y):
            banned = {yk}
            if k == len(y) - 1:
                banned.add(sum(y) - sum(t))
            t.append(pick(rng, [v for v in _tenths(list(TENTHS)) if v not in banned]))
        return t

    def solve(self, params: dict[str, Any]) -> Solution:
        x, t, w2 = params["X"], params["t"], params["w2"]
        z, mask, a, y = _forward(params)
        delta = [yk - tk for yk, tk in zip(y, t, strict=True)]
        outer = [[dk * wj for wj in w2] for dk in delta]  # dL/dA: the error each unit receives
        g = [[e * m for e, m in zip(ek, mk, strict=True)] for ek, mk in zip(outer, mask, strict=True)]
        grad_w1 = matmul(transpose(g), x)
        answers = {
            "y": y,
            "loss": sum(dk**2 for dk in delta) / 2,
            "grad_W1": grad_w1,
            "grad_b1": [sum(col) for col in transpose(g)],
            "grad_w2": matvec(transpose(a), delta),
            "grad_b2": sum(delta),
        }
        work = {
            "N": len(x), "D": len(x[0]), "H": len(w2),
            "XW1T": matmul(x, transpose(params["W1"])),
            "W1T": transpose(params["W1"]),
            "Z": z, "M": mask, "A": a, "AT": transpose(a),
            "delta": delta, "squares": [dk**2 for dk in delta], "sum_squares": sum(dk**2 for dk in delta),
            "outer": outer, "G": g, "GT": transpose(g),
            "first_terms": [gk[0] * xk[0] for gk, xk in zip(g, x, strict=True)],
        }
        return Solution(answers=answers, work=work)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        a, w = solution.answers, solution.work
        x, w2 = params["X"], params["w2"]
        grads = ("grad_W1", "grad_b1", "grad_w2", "grad_b2")
        n = sp.Integer(w["N"])
        unmasked = [[dk * wj for wj in w2] for dk in w["delta"]]
        slips = [
            Slip("grad_W1", "no_mask", "you let every hidden unit pass the error back, ignoring that ReLU "
                 "blocks it where the pre-activation is negative", matmul(transpose(unmasked), x)),
            Slip("grad_b1", "no_mask", "you let every hidden unit pass the error back, ignoring that ReLU "
                 "blocks it where the pre-activation is negative", [sum(col) for col in transpose(unmasked)]),
            Slip("y", "no_relu", "you skipped the ReLU in the forward pass and used the pre-activations "
                 "as hidden outputs", [v + params["b2"] for v in matvec(w["Z"], w2)]),
            Slip("grad_w2", "pre_activations", "you multiplied the output errors by the pre-activations Z "
                 "instead of the hidden activations ReLU(Z)",
                 matvec(transpose(w["Z"]), w["delta"])),
        ]
        for name in ("loss", *grads):
            slips.append(Slip(name, "mean", "you averaged over the batch (divided by N) instead of summing "
                              "the per-sample losses", scaled(a[name], 1 / n)))
            slips.append(Slip(name, "no_half", "you dropped the factor 1/2 in the loss, which doubles the "
                              "loss and every gradient", scaled(a[name], sp.Integer(2))))
        for name in grads:
            slips.append(Slip(name, "residual_sign", "you took t - y as the output error instead of y - t, "
                              "which flips the sign of every gradient", scaled(a[name], sp.Integer(-1))))
        # a mistake that happens to give the answer itself (no mask on b1 where the blocked errors of a
        # hidden unit add up to zero) is no mistake the grader can see: not offered
        return [slip for slip in slips if slip.value != a[slip.answer]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        x_shape, w1_shape = domain.shape(params["X"]), domain.shape(params["W1"])
        if x_shape not in [(n, d) for n in range(2, 5) for d in range(2, 5)]:
            return ["X must be a matrix of 2 to 4 samples (rows) of 2 to 4 inputs"]
        n, d = x_shape
        if w1_shape not in [(h, d) for h in (2, 3)]:
            return [f"W1 must be a matrix of 2 or 3 hidden units (rows) of {d} weights, one per input of X"]
        h = w1_shape[0]
        sizes = {"t": ((n,), f"{n} targets, one per sample"), "b1": ((h,), f"{h} biases, one per hidden unit"),
                 "w2": ((h,), f"{h} weights, one per hidden unit"), "b2": ((), "a single number")}
        problems = [f"{name} must be {text}" for name, (size, text) in sizes.items()
                    if domain.shape(params[name]) != size]
        if problems:
            return problems
        for name in ("X", "t", "W1", "b1", "w2", "b2"):
            problems += domain.each(name, params[name], lambda entry, v: domain.decimal(entry, v, -1, 1, 1))
        if 0 in params["w2"]:
            problems.append("w2 must not contain 0: that hidden unit would be disconnected from the output")
        if len({tuple(row) for row in params["X"]}) < n:
            problems.append("X has two identical samples")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        w1, w2 = params["W1"], params["w2"]
        if problems := self.check_params(params):
            return problems
        z, mask = solution.work["Z"], solution.work["M"]
        if any(v == 0 for row in z for v in row):
            problems.append("W1 and b1 make a pre-activation exactly zero, where ReLU has no derivative")
        for j, col in enumerate(transpose(mask)):
            if len(set(col)) < 2:
                problems.append(f"W1 and b1 make hidden unit {j + 1} active for all samples or for none")
        if 0 in solution.work["delta"]:
            problems.append("t: an output equals its target, so that sample sends no error back")
        a = solution.answers
        if a["grad_b2"] == 0:
            problems.append("t: the residuals sum to zero, so the output bias gradient is zero")
        # y - b2 is linear in w2 and, ReLU being positively homogeneous, of degree 1 in
        # (W1, b1) jointly; by Euler's theorem both sums below equal Σ δ_k (y_k - b2).
        first = sum(wij * gij for wr, gr in zip(w1, a["grad_W1"], strict=True) for wij, gij in zip(wr, gr, strict=True))
        first += sum(bj * gj for bj, gj in zip(params["b1"], a["grad_b1"], strict=True))
        second = sum(wj * gj for wj, gj in zip(w2, a["grad_w2"], strict=True))
        if first != second:
            problems.append("the gradients violate the ReLU scaling identity (back-propagation is inconsistent)")
        return problems
