"""Output size of torch.nn.ConvTranspose2d, and why it inverts a strided convolution's
shape: the Conv2d with the same kernel, stride, padding and dilation maps the output back
to the input size, but its floor maps `stride` consecutive sizes to that one size, and
output_padding picks which of them the transposed convolution produces."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, boolean, ints_from, register
from ..shapes import conv_output_size, conv_transpose_output_size

# Input sides of decoder feature maps, small enough for the arithmetic by hand.
MIN_INPUT, MAX_INPUT = 2, 32
# Picture-mode units of 0.05 mm: cells of at most 5 mm, the strip at most 140 mm wide (the
# solution box is narrower than the text).
CELL, STRIP_WIDTH = 100, 2800


@register
class TransposedConvOutputSize(Family):
    id = "transposed_conv_output_size"
    title = "Output size of a transposed convolution"
    answer_labels = {
        "output_size": "the height (= width) of the transposed convolution's output",
        "inverse_conv_output": "the output size of the Conv2d applied to that map",
        "conv_input_sizes": "the input sizes that this Conv2d maps to the same output size",
        "output_padding_needed": "the output padding that gives the target size",
    }
    options = {
        "kernel_sizes": Option([2, 3, 4, 5], "kernel sizes k that may be drawn", ints_from(range(1, 8))),
        "strides": Option([1, 2, 3], "strides that may be drawn", ints_from(range(1, 5))),
        "dilations": Option([1, 2], "dilations that may be drawn (1 three times out of four when allowed)",
                            ints_from(range(1, 4))),
        "inverse": Option(True, "add the parts on the Conv2d it inverts and on output_padding", boolean),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        k, s = pick(rng, options["kernel_sizes"]), pick(rng, options["strides"])
        dilations = options["dilations"]
        others = [d for d in dilations if d != 1]
        # dilation is rare in decoders: mostly 1, when 1 is allowed
        d = 1 if not others or (1 in dilations and rng.random() < 0.75) else pick(rng, others)
        params = {
            "input_size": int(rng.integers(MIN_INPUT, MAX_INPUT + 1)),
            "kernel_size": k,
            "stride": s,
            # at most half the dilated kernel's reach, as decoders use (k=4, p=1; k=3, p=1)
            "padding": int(rng.integers(0, d * (k - 1) // 2 + 1)),
            "output_padding": int(rng.integers(0, min(s, 2))),  # 0, or 1 where the stride allows it
            "dilation": d,
            "inverse": options["inverse"],  # the parts on the Conv2d it inverts
        }
        if options["inverse"] and s > 1:
            # the encoder's map: another of the s sizes the Conv2d maps to input_size
            base = conv_transpose_output_size(*_geometry(params), 0, d)
            params["target_size"] = base + pick(rng, [j for j in range(s) if j != params["output_padding"]])
        return params

    def solve(self, params: dict[str, Any]) -> Solution:
        n, k, p, s = _geometry(params)
        op, d = params["output_padding"], params["dilation"]
        out = conv_transpose_output_size(n, k, p, s, op, d)
        reach, fill = d * (k - 1), d * (k - 1) - p
        work: dict[str, Any] = {
            "spread": sp.Integer((n - 1) * s), "reach": sp.Integer(reach), "fill": sp.Integer(fill),
            "cells": sp.Integer((n - 1) * s + 1), "total": sp.Integer((n - 1) * s + 1 + 2 * fill + op),
            "window": sp.Integer(reach + 1), "strip": strip(n, k, p, s, op, d),
            "two_p": sp.Integer(2 * p), "gaps": sp.Integer(s - 1),
        }
        answers: dict[str, Any] = {"output_size": sp.Integer(out)}
        if params["inverse"]:
            answers |= self._inverse(params, out, work)
        return Solution(answers=answers, work=work)

    def _inverse(self, params: dict[str, Any], out: int, work: dict[str, Any]) -> dict[str, Any]:
        """The Conv2d of the same geometry on the output, and the sizes it maps to the input."""
        n, k, p, s = _geometry(params)
        d, op = params["dilation"], params["output_padding"]
        numerator = out + 2 * p - d * (k - 1) - 1
        base = out - op
        work |= {"numerator": sp.Integer(numerator), "quotient": sp.Integer(numerator // s),
                 "remainder": sp.Integer(numerator % s), "base": sp.Integer(base), "last": sp.Integer(base + s - 1)}
        answers = {"inverse_conv_output": sp.Integer(conv_output_size(out, k, p, s, d)),
                   "conv_input_sizes": [sp.Integer(m) for m in range(base, base + s)]}
        if "target_size" in params:
            answers["output_padding_needed"] = sp.Integer(params["target_size"] - base)
        return answers

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        n, k, p, s = _geometry(params)
        op, d = params["output_padding"], params["dilation"]
        a = solution.answers
        out = int(a["output_size"])
        candidates = [
            Slip("output_size", "conv_formula", "you used the convolution's formula (N + 2p - d(k-1) - 1)/s + 1; "
                 "a transposed convolution goes the other way", sp.Integer(conv_output_size(n, k, p, s, d))),
            Slip("output_size", "no_output_padding", "you left out output_padding, which adds to one side of "
                 "the output", sp.Integer(out - op)),
            Slip("output_size", "plus_padding", "you added 2p; padding in a transposed convolution removes "
                 "p rows from each side of the output", sp.Integer(out + 4 * p)),
            Slip("output_size", "s_times_n", "you multiplied N by s; N inputs are N - 1 strides apart",
                 sp.Integer(out + s)),
            Slip("output_size", "no_dilation", "you ignored the dilation: the kernel reaches d(k-1) + 1 cells",
                 sp.Integer(out - (d - 1) * (k - 1))),
            Slip("output_size", "no_plus_one", "you forgot the +1 for the first kernel position",
                 sp.Integer(out - 1)),
        ]
        if "inverse_conv_output" in a:
            numerator = solution.work["numerator"]
            candidates += [
                Slip("inverse_conv_output", "no_floor", "you did not round down: PyTorch's Conv2d takes the "
                     "floor of the division", sp.Rational(numerator, s) + 1),
                Slip("inverse_conv_output", "no_plus_one", "you forgot the +1 of the convolution's formula",
                     sp.Integer(numerator // s)),
                Slip("conv_input_sizes", "only_exact", "you listed only the transposed output; the floor maps "
                     f"{s} consecutive sizes to the same output", [a["output_size"]]),
            ]
        if "output_padding_needed" in a:
            candidates.append(Slip("output_padding_needed", "from_drawn_output", "you counted from the output "
                                   "of (a), which already includes its output_padding; count from output_padding 0",
                                   sp.Integer(params["target_size"] - out)))
        # a mistake that happens to give the right size here cannot be told from the answer
        return [slip for slip in candidates if slip.value != a[slip.answer]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        k, s, d = params["kernel_size"], params["stride"], params["dilation"]
        problems = [*domain.integer("input_size", params["input_size"], 1, 256),
                    *domain.integer("kernel_size", k, 1, 7), *domain.integer("stride", s, 1, 4),
                    *domain.integer("dilation", d, 1, 3)]
        if problems:
            return problems
        # at most the dilated kernel's reach: the zeros the transposed convolution pads are d(k-1) - p
        problems += domain.integer("padding", params["padding"], 0, d * (k - 1))
        # smaller than the stride, so that the Conv2d maps the output back to the input size
        # (torch allows up to max(stride, dilation) - 1)
        problems += domain.integer("output_padding", params["output_padding"], 0, s - 1)
        if not isinstance(params["inverse"], bool):
            problems.append(f"inverse must be true or false, got {domain.shown(params['inverse'])}")
        if problems or "target_size" not in params:
            return problems
        if not params["inverse"]:
            return ["target_size belongs to the inverse parts: set inverse to true or leave target_size out"]
        base = conv_transpose_output_size(*_geometry(params), 0, d)
        if s == 1:
            return ["target_size needs a stride of 2 or more: with stride 1 only one size maps back"]
        return domain.integer("target_size", params["target_size"], base, base + s - 1)

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        problems = self.check_params(params)
        a = solution.answers
        if a["output_size"] < 1:
            problems.append("the transposed convolution has no output (its size is below 1)")
        if a.get("inverse_conv_output", params["input_size"]) != params["input_size"]:
            problems.append("the Conv2d does not map the output back to the input size")
        if params.get("target_size") == a["output_size"]:
            problems.append("target_size equals the output size, so there is nothing to change")
        return problems


def _geometry(params: dict[str, Any]) -> tuple[int, int, int, int]:
    return params["input_size"], params["kernel_size"], params["padding"], params["stride"]


def strip(n: int, k: int, p: int, s: int, op: int, d: int) -> dict[str, Any]:
    """One row of the key's figure: the input spread by the stride (s - 1 zeros between
    neighbours), d(k-1) - p zeros on each side and output_padding more on the right, with
    the middle inputs elided when there are many. Cells are {"x", "kind", "index"}."""
    fill, window = d * (k - 1) - p, d * (k - 1) + 1
    # inputs shown before the gap: enough that the first kernel window ends before it
    shown = max(2, -(-(p + 1) // s))
    indices = list(range(1, n + 1)) if n <= shown + 2 else [*range(1, shown + 1), None, n]
    kinds = ["pad"] * fill
    for position, index in enumerate(indices):
        if position:
            kinds += ["zero"] * (s - 1)
        kinds.append("gap" if index is None else f"x{index}")
    kinds += ["pad"] * fill + ["extra"] * op
    cell = min(CELL, STRIP_WIDTH // len(kinds))
    cells = [{"x": cell * i, "kind": kind[:1] if kind.startswith("x") else kind,
              "index": int(kind[1:]) if kind.startswith("x") else None} for i, kind in enumerate(kinds)]
    return {"cells": cells, "cell": cell, "width": cell * len(kinds), "window": cell * window,
            "taps": [cell * (d * j) + cell // 2 for j in range(k)], "labels": cell >= 60}
