"""A 1-D convolution layer (cross-correlation, as torch.nn.functional.conv1d computes
it) written as a matrix: vec(y) = A vec(x) with channel-major flattening, and its
backward pass dL/dx = A^T dL/dy, which is a convolution of the zero-padded output
gradient with the flipped kernels."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, int_in, ints_from, register
from ..linalg import Matrix, matvec, transpose
from ..shapes import conv_output_size

# Both A (in_channels*length columns) and B = A^T (out_channels*output_length columns)
# must fit amsmath's default of 10 matrix columns, and stay a hand-sized exercise.
MAX_SIDE = 10


def _matrix(weight: list[list[list[Any]]], length: int, padding: int) -> Matrix:
    """A[(o, t), (i, s)] = w[o][i][s - t + padding] (zero outside the kernel): output
    position t reads the padded input at t..t+k-1, i.e. input position s = t + j - padding."""
    out_channels, in_channels, kernel = len(weight), len(weight[0]), len(weight[0][0])
    out_length = conv_output_size(length, kernel, padding)
    zero = sp.Integer(0)
    return [
        [
            weight[o][i][s - t + padding] if 0 <= s - t + padding < kernel else zero
            for i in range(in_channels) for s in range(length)
        ]
        for o in range(out_channels) for t in range(out_length)
    ]


def _flip(weight: list[list[list[Any]]]) -> list[list[list[Any]]]:
    return [[list(reversed(kernel)) for kernel in row] for row in weight]


def _flatten(rows: list[list[Any]]) -> list[Any]:
    """Channel-major vec: channel 1's positions first, then channel 2's..."""
    return [x for row in rows for x in row]


def _unflatten(vec: list[Any], length: int) -> list[list[Any]]:
    """Inverse of _flatten: consecutive runs of `length` entries are the channels."""
    return [vec[i:i + length] for i in range(0, len(vec), length)]


def _position_major(m: Matrix, rows_channels: int, cols_channels: int) -> Matrix:
    """The same map with both vectors flattened position-major (channels interleaved)."""
    row_len, col_len = len(m) // rows_channels, len(m[0]) // cols_channels
    row_order = [c * row_len + t for t in range(row_len) for c in range(rows_channels)]
    col_order = [c * col_len + s for s in range(col_len) for c in range(cols_channels)]
    return [[m[r][c] for c in col_order] for r in row_order]


@cache
def _shapes(ins: tuple[int, ...], outs: tuple[int, ...], kernels: tuple[int, ...], lengths: tuple[int, ...],
            paddings: tuple[int, ...]) -> tuple[tuple[int, int, int, int, int], ...]:
    """Every (in, out, kernel, length, padding) allowed by the options whose matrices fit
    on the page, with at least two output positions and padding below the kernel size;
    single-channel layers only when the options allow nothing else."""
    found = [
        (ci, co, k, n, p)
        for ci in ins for co in outs for k in kernels for n in lengths for p in paddings
        if p < k and (m := conv_output_size(n, k, p)) >= 2 and ci * n <= MAX_SIDE and co * m <= MAX_SIDE
    ]
    several = [s for s in found if s[0] > 1 or s[1] > 1]
    return tuple(several or found)


def _kernel(rng: np.random.Generator, size: int, limit: int, asymmetric: bool) -> list[sp.Integer]:
    values = [v for v in range(-limit, limit + 1) if v]
    kernel = [pick(rng, values) for _ in range(size)]
    if asymmetric:  # last tap differs from the first, so flipping the kernel is visible
        kernel[-1] = pick(rng, [v for v in values if v != kernel[0]])
    return [sp.Integer(v) for v in kernel]


@register
class ConvAsMatrix(Family):
    id = "conv_as_matrix"
    title = "A 1-D convolution as a matrix, and its backward pass"
    answer_labels = {
        "A": "the matrix A of the convolution",
        "B": "the matrix B of the backward pass",
        "output_length": "the length of each output channel",
        "grad_input": "the gradient dL/dx",
    }
    options = {
        "in_channels": Option([1, 2], "input channel counts to draw from", ints_from(range(1, 4))),
        "out_channels": Option([1, 2], "output channel counts to draw from", ints_from(range(1, 4))),
        "kernel_size": Option([2, 3], "kernel sizes to draw from", ints_from(range(2, 5))),
        "input_length": Option([3, 4, 5], "input lengths to draw from", ints_from(range(2, 9))),
        "padding": Option([0, 1], "zero paddings to draw from", ints_from(range(0, 3))),
        "max_weight": Option(3, "largest absolute value of a kernel weight", int_in(1, 5)),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        shapes = _shapes(*(tuple(options[k]) for k in ("in_channels", "out_channels", "kernel_size",
                                                      "input_length", "padding")))
        if not shapes:
            raise InfeasibleError(
                "no allowed layer has at least 2 output positions, padding smaller than the kernel and "
                f"matrices of at most {MAX_SIDE} columns (in_channels*input_length and "
                "out_channels*output_length)",
                hint="allow longer inputs, smaller kernels or fewer channels",
            )
        ci, co, k, n, p = pick(rng, shapes)
        limit = options["max_weight"]
        weight = [[_kernel(rng, k, limit, o == 0 and i == 0) for i in range(ci)] for o in range(co)]
        m = conv_output_size(n, k, p)
        grads = [v for v in range(-2, 3) if v]
        grad_output = [[sp.Integer(pick(rng, grads)) for _ in range(m)] for _ in range(co)]
        return {"weight": weight, "input_length": n, "padding": p, "grad_output": grad_output}

    def solve(self, params: dict[str, Any]) -> Solution:
        weight, n, p = params["weight"], params["input_length"], params["padding"]
        k = len(weight[0][0])
        a = _matrix(weight, n, p)
        b = transpose(a)
        grad = matvec(b, _flatten(params["grad_output"]))
        pad = k - 1 - p  # the backward convolution pads the gradient this much on each side
        zeros = [sp.Integer(0)] * pad
        padded = [zeros + list(row) + zeros for row in params["grad_output"]]
        flipped = [[list(reversed(weight[o][i])) for o in range(len(weight))] for i in range(len(weight[0]))]
        return Solution(
            answers={"A": a, "B": b, "output_length": conv_output_size(n, k, p),
                     "grad_input": _unflatten(grad, n)},
            work={
                "in_channels": len(weight[0]), "out_channels": len(weight), "kernel": k,
                "rows": len(a), "cols": len(a[0]),
                "grad_vec": _flatten(params["grad_output"]), "grad_input_vec": grad,
                "back_pad": pad,
                "padded_grad": padded,
                # flipped[i][o]: the kernel that carries output channel o's gradient to input channel i
                "flipped": flipped,
                # the products behind dL/dx[1, 1], to show the backward convolution once in full
                "first_terms": [[flipped[0][o][j], padded[o][j]] for o in range(len(weight)) for j in range(k)],
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        weight, n, p = params["weight"], params["input_length"], params["padding"]
        w, a = solution.work, solution.answers["A"]
        flipped = _matrix(_flip(weight), n, p)
        slips = [
            Slip("A", "flipped_kernel", "you flipped the kernels (textbook convolution); conv1d slides them "
                 "unflipped (cross-correlation)", flipped),
            Slip("B", "no_transpose", "you reused A for the backward pass; the backward matrix is its transpose",
                 a),
            Slip("B", "flipped_and_transposed", "you flipped the kernels and also transposed; the transpose "
                 "already does the flipping", transpose(flipped)),
            Slip("grad_input", "backward_without_flip", "you slid the unflipped kernels over the padded "
                 "gradient; the backward convolution uses flipped kernels",
                 _unflatten(matvec(transpose(flipped), w["grad_vec"]), n)),
        ]
        if w["in_channels"] > 1 or w["out_channels"] > 1:
            slips.append(Slip("A", "position_major", "you flattened position by position (channels interleaved); "
                              "the vectors are stacked channel after channel",
                              _position_major(a, w["out_channels"], w["in_channels"])))
        if p:
            slips.append(Slip("A", "padded_columns", "you wrote A against the padded input; the padding zeros "
                              "are not inputs, so their columns drop out", _matrix(weight, n + 2 * p, 0)))
        # a mistake that happens to give the answer itself (seed 95's backward pass without the flip) is no
        # mistake the grader can see: not offered
        return [slip for slip in slips if slip.value != solution.answers[slip.answer]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        weight, n, p = params["weight"], params["input_length"], params["padding"]
        problems = [*domain.integer("input_length", n, 2, 8), *domain.integer("padding", p, 0, 2)]
        size = domain.shape(weight)
        if size is None or len(size) != 3 or size[0] > 3 or size[1] > 3 or not 2 <= size[2] <= 4:
            return [*problems, "weight must be [out_channels][in_channels][kernel taps] with 1 to 3 channels "
                    "each and 2 to 4 taps"]
        problems += domain.each("weight", weight, lambda name, v: domain.integer(name, v, -5, 5))
        if problems:
            return problems
        if p >= size[2]:
            return [f"padding must be smaller than the kernel ({size[2]} taps)"]
        m = conv_output_size(n, size[2], p)
        if m < 2:
            return [f"input_length {n} with padding {p} leaves fewer than two output positions for a kernel of "
                    f"{size[2]} taps"]
        if domain.shape(params["grad_output"]) != (size[0], m):
            return [f"grad_output must have {size[0]} row(s) of {m}: one per output channel and position"]
        return domain.each("grad_output", params["grad_output"], lambda name, v: domain.integer(name, v, -5, 5))

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        a, w = solution.answers["A"], solution.work
        problems = self.check_params(params)
        if w["cols"] > MAX_SIDE or w["rows"] > MAX_SIDE:
            problems.append(f"weight and input_length give a matrix wider than the page: in_channels x input_length "
                            f"and out_channels x output length must be at most {MAX_SIDE}")
        if all(row == row[::-1] for kernels in params["weight"] for row in kernels):
            problems.append("weight: every kernel is a palindrome, so flipping cannot be told apart")
        if any(not any(row) for row in a) or any(not any(col) for col in zip(*a, strict=True)):
            problems.append("an output ignores all inputs or an input reaches no output")
        return problems
