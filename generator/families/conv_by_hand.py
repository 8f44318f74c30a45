"""A small 2-D convolution computed by hand, as deep-learning libraries define it:
cross-correlation (the kernel is not flipped), with optional zero padding and stride."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, ints_from, one_of, register
from ..linalg import Matrix
from ..shapes import conv_output_size

# Outputs of 2x2 or 3x3 from inputs of 3..6 pixels a side: a page of hand arithmetic.
OUTPUT_SIDES = (2, 3)
INPUT_SIDES = range(3, 7)


def _zero_pad(x: Matrix, before: int, after: int) -> Matrix:
    width = len(x[0]) + before + after
    zeros = [[sp.Integer(0)] * width for _ in range(before)]
    tail = [[sp.Integer(0)] * width for _ in range(after)]
    return zeros + [[sp.Integer(0)] * before + row + [sp.Integer(0)] * after for row in x] + tail


def _cross_correlate(x: Matrix, kernel: Matrix, stride: int, before: int, after: int | None = None) -> Matrix:
    """Y[i][j] = sum_ab K[a][b] * Xpad[i*s + a][j*s + b] (torch.nn.functional.conv2d)."""
    padded = _zero_pad(x, before, before if after is None else after)
    k = len(kernel)
    side = (len(padded) - k) // stride + 1
    return [[sum((kernel[a][b] * padded[i * stride + a][j * stride + b] for a in range(k) for b in range(k)),
                 sp.Integer(0)) for j in range(side)] for i in range(side)]


def _geometries(options: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    """(kernel, stride, padding, input side) whose windows tile the padded input exactly."""
    found = []
    for k in options["kernel_sizes"]:
        for s in options["strides"]:
            for p in (p for p in options["paddings"] if p < k):
                for o in OUTPUT_SIDES:
                    n = (o - 1) * s + k - 2 * p
                    if n in INPUT_SIDES:
                        found.append((k, s, p, n))
    return found


@register
class ConvByHand(Family):
    id = "conv_by_hand"
    title = "A convolution computed by hand"
    answer_labels = {"Y": "the output Y", "output_shape": "the shape of the output Y"}
    options = {
        "kernel_sizes": Option([2, 3], "kernel sizes (2 or 3)", ints_from([2, 3])),
        "strides": Option([1, 2], "strides (1 or 2)", ints_from([1, 2])),
        "paddings": Option([0, 1], "zero paddings (0 or 1)", ints_from([0, 1])),
        "kernel": Option("either", "integer kernel, averaging kernel (1/k^2 everywhere), or either",
                         one_of("integer", "average", "either")),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        geometries = _geometries(options)
        if not geometries:
            raise InfeasibleError("no kernel size, stride and padding among the options give a 2x2 or 3x3 "
                                  f"output from an input of {INPUT_SIDES.start}..{INPUT_SIDES.stop - 1} pixels")
        k, s, p, n = pick(rng, geometries)
        kind = pick(rng, ["integer", "average"]) if options["kernel"] == "either" else options["kernel"]
        x = [[sp.Integer(int(v)) for v in row] for row in rng.integers(0, 10, size=(n, n))]
        if kind == "average":
            kernel = [[sp.Rational(1, k * k)] * k for _ in range(k)]
        else:
            kernel = [[sp.Integer(int(v)) for v in row] for row in rng.integers(-1, 3, size=(k, k))]
            kernel[0][0] = sp.Integer(int(rng.integers(1, 3)))  # never the all-zero kernel
        return {"X": x, "K": kernel, "stride": s, "padding": p}

    def solve(self, params: dict[str, Any]) -> Solution:
        x, kernel, s, p = params["X"], params["K"], params["stride"], params["padding"]
        k, n = len(kernel), len(x)
        y = _cross_correlate(x, kernel, s, p)
        padded = _zero_pad(x, p, p)
        first = [(kernel[a][b], padded[a][b]) for a in range(k) for b in range(k)]
        average = all(v == sp.Rational(1, k * k) for row in kernel for v in row)
        return Solution(
            answers={"Y": y, "output_shape": [len(y), len(y[0])]},
            work={"padded": padded, "first_terms": first, "average": average, "ones": [[1] * k] * k,
                  "window_sums": _cross_correlate(x, [[sp.Integer(1)] * k] * k, s, p),
                  "window_sum": sum((v for _, v in first), sp.Integer(0)),
                  "span": n + 2 * p - k, "side": len(y), "padded_side": n + 2 * p},
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        x, kernel, s, p = params["X"], params["K"], params["stride"], params["padding"]
        flipped = [row[::-1] for row in kernel[::-1]]
        slips = [
            Slip("Y", "flipped_kernel", "you flipped the kernel (a true convolution); deep-learning "
                 "libraries compute a cross-correlation and lay the kernel on the window as it is",
                 _cross_correlate(x, flipped, s, p)),
        ]
        if solution.work["average"]:
            ones = [[sp.Integer(1)] * len(kernel)] * len(kernel)
            window_sums = _cross_correlate(x, ones, s, p)
            slips += [
                Slip("Y", "sum_not_mean", "you added up each window but did not multiply by the kernel "
                     "weights, which make it an average", window_sums),
                Slip("Y", "divided_by_k", f"you divided each window sum by {len(kernel)}; the window holds "
                     f"{len(kernel)}x{len(kernel)} = {len(kernel) ** 2} entries",
                     [[v / len(kernel) for v in row] for row in window_sums]),
            ]
        if any(v < 0 for row in kernel for v in row):
            unsigned = [[abs(v) for v in row] for row in kernel]
            slips.append(Slip("Y", "dropped_signs", "you dropped the minus signs of the negative kernel weights",
                              _cross_correlate(x, unsigned, s, p)))
        if s < len(kernel):
            slips.append(Slip("Y", "tiled_windows", f"you placed the windows side by side without overlap; "
                              f"with stride {s} each window starts {s} pixel{'s' * (s > 1)} after the previous one",
                              _cross_correlate(x, kernel, len(kernel), p)))
        if s > 1:
            slips.append(Slip("Y", "ignored_stride", f"you moved the window one pixel at a time; with stride {s} "
                              f"it jumps {s} pixels", _cross_correlate(x, kernel, 1, p)))
        if p > 0:
            slips.append(Slip("Y", "ignored_padding", "you left out the zero padding, so the window never "
                              "hangs over the border", _cross_correlate(x, kernel, s, 0)))
            slips.append(Slip("Y", "padded_one_side", "you padded only the top and left; zero padding adds "
                              "the same border on every side", _cross_correlate(x, kernel, s, p, 0)))
        # flipping a symmetric kernel (an averaging one), say, gives the answer itself: not offered
        return [slip for slip in slips if slip.value != solution.answers["Y"]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        x, kernel, s, p = params["X"], params["K"], params["stride"], params["padding"]
        # padding below the kernel size (2 or 3): no window lies entirely in the padding
        problems = [*domain.integer_in("stride", s, [1, 2]), *domain.integer_in("padding", p, [0, 1])]
        if domain.shape(x) not in [(n, n) for n in INPUT_SIDES]:
            problems.append(f"X must be a square matrix of {INPUT_SIDES.start} to {INPUT_SIDES.stop - 1} rows")
        else:
            problems += domain.each("X", x, lambda name, v: domain.integer(name, v, -9, 9))
        if domain.shape(kernel) not in [(2, 2), (3, 3)]:
            problems.append("K must be a 2x2 or 3x3 matrix")
        elif kernel != [[sp.Rational(1, len(kernel) ** 2)] * len(kernel)] * len(kernel):  # else an averaging kernel
            problems += domain.each("K", kernel, lambda name, v: domain.integer(name, v, -9, 9))
        if problems:
            return problems
        n, k = len(x), len(kernel)
        if (n + 2 * p - k) % s:
            return [f"X ({n}x{n}) padded by {p} does not fit whole {k}x{k} windows of K at stride {s}"]
        side = conv_output_size(n, k, p, s)
        if side not in OUTPUT_SIDES:
            return [f"X, K, stride and padding give a {side}x{side} output; hand work needs 2x2 or 3x3"]
        return []

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        x, kernel, s, p = params["X"], params["K"], params["stride"], params["padding"]
        problems = self.check_params(params)
        if solution.answers["output_shape"] != [conv_output_size(len(x), len(kernel), p, s)] * 2:
            problems.append("output shape disagrees with the conv formula")
        if all(v == 0 for row in kernel for v in row):
            problems.append("K must not be all zeros")
        return problems
