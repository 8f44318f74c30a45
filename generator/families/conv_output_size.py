"""Spatial output size of a Conv2d layer, with dilation, and the same layer again
with a larger dilation (the effective kernel 1 + d(k-1) grows)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, boolean, ints_from, register
from ..shapes import conv_output_size, effective_kernel

# Input sizes stay in the range of real networks (up to 256 pixels) and large enough
# that both parts have an output of at least two pixels.
MAX_INPUT, MIN_INPUT = 256, 8


def _steps(n: int, k: int, p: int, s: int, d: int) -> dict[str, Any]:
    """The worked steps of floor((n + 2p - d(k-1) - 1)/s) + 1."""
    span = n + 2 * p - effective_kernel(k, d)  # how far the window can slide
    quotient, remainder = divmod(span, s)
    return {
        "dilation": d,
        "effective": sp.Integer(effective_kernel(k, d)),
        "reach": sp.Integer(d * (k - 1)),
        "numerator": sp.Integer(span),
        "quotient": sp.Integer(quotient),
        "remainder": sp.Integer(remainder),
        "output": sp.Integer(conv_output_size(n, k, p, s, d)),
    }


def _o_range(base: int, stride: int, lowest: int) -> tuple[int, int]:
    """Outputs o with lowest <= (o-1)*stride + base <= MAX_INPUT."""
    o_min = max(1, -((base - lowest) // stride) + 1)
    return o_min, (MAX_INPUT - base) // stride + 1


@register
class ConvOutputSize(Family):
    id = "conv_output_size"
    title = "Output size of a dilated convolution"
    answer_labels = {
        "output_size": "the height (= width) of the output",
        "effective_kernel": "the span of one dilated kernel window",
        "compare_output_size": "the output size with the new dilation",
        "compare_effective_kernel": "the kernel window's span with the new dilation",
    }
    options = {
        "kernel_sizes": Option([3, 5, 7], "kernel sizes k that may be drawn", ints_from(range(1, 12))),
        "strides": Option([1, 2, 3], "strides that may be drawn", ints_from(range(1, 5))),
        "dilations": Option([1, 2, 3], "dilations that may be drawn", ints_from(range(1, 7))),
        "compare": Option(True, "add a part repeating the layer with a larger dilation", boolean),
        "flooring": Option(True, "with a stride of 2 or more the division leaves a remainder, so torch's "
                           "rounding down matters (false: it always divides evenly)", boolean),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        strides = options["strides"]
        if options["flooring"] and max(strides) == 1:
            raise InfeasibleError("flooring needs a stride of 2 or more among the strides")
        dilations = options["dilations"]
        if options["compare"] and len(dilations) < 2:
            raise InfeasibleError("comparing two dilations needs at least two dilations")
        # The larger dilation widens the window by (d' - d)(k - 1) pixels; the output shrinks
        # only if that is more than the remainder r (at least 1 when flooring).
        need = 2 if options["flooring"] else 1
        spread = max(dilations) - min(dilations)
        kernels = [k for k in options["kernel_sizes"] if (k - 1) * spread >= need] if options["compare"] \
            else options["kernel_sizes"]
        if not kernels:
            raise InfeasibleError("no kernel size is large enough for the larger dilation to shrink the output"
                                  f"{' by more than the remainder' if options['flooring'] else ''}",
                                  hint="allow larger kernels or dilations further apart")
        k, s = pick(rng, kernels), pick(rng, strides)
        if options["compare"]:
            pairs = [(a, b) for a in dilations for b in dilations if a < b and (b - a) * (k - 1) >= need]
            if len(pairs) * 2 == len(dilations) * (len(dilations) - 1):  # every pair will do
                d, d_compare = sorted(int(x) for x in rng.choice(dilations, size=2, replace=False))
            else:
                d, d_compare = pick(rng, pairs)
        else:
            d, d_compare = pick(rng, dilations), None
        p = int(rng.integers(0, (k - 1) // 2 + 1))  # at most "same" padding, so p < k
        # r < (d' - d)(k - 1), so that the comparison's output is smaller
        widening = (d_compare - d) * (k - 1) if d_compare else s
        r = int(rng.integers(1, min(s, widening))) if options["flooring"] and s > 1 else 0
        # n = (o-1)s + e - 2p + r by construction; the larger dilation still leaves 2 outputs
        base = effective_kernel(k, d) - 2 * p + r
        widest = effective_kernel(k, d_compare or d)
        o_min, o_max = _o_range(base, s, max(MIN_INPUT, widest - 2 * p + s))
        o = int(rng.integers(o_min, o_max + 1))
        params = {"input_size": (o - 1) * s + base, "kernel_size": k, "padding": p, "stride": s, "dilation": d}
        return params | ({"compare_dilation": d_compare} if d_compare else {})

    def solve(self, params: dict[str, Any]) -> Solution:
        n, k, p, s = (params[x] for x in ("input_size", "kernel_size", "padding", "stride"))
        parts = {"a": _steps(n, k, p, s, params["dilation"])}
        answers = {"output_size": parts["a"]["output"], "effective_kernel": parts["a"]["effective"]}
        if "compare_dilation" in params:
            parts["b"] = _steps(n, k, p, s, params["compare_dilation"])
            answers |= {"compare_output_size": parts["b"]["output"],
                        "compare_effective_kernel": parts["b"]["effective"]}
        # the statement states torch's rounding rule only when some division is uneven
        floors = any(part["remainder"] for part in parts.values())
        widest = max(part["effective"] for part in parts.values())
        return Solution(answers=answers, work={**parts, "floors": floors, "widest": widest})

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        n, k, p, s = (params[x] for x in ("input_size", "kernel_size", "padding", "stride"))
        parts = [("output_size", solution.work["a"])]
        if "compare_dilation" in params:
            parts.append(("compare_output_size", solution.work["b"]))
        slips = []
        for answer, steps in parts:
            span = steps["numerator"]
            slips += [
                Slip(answer, "rounded_up", "you rounded the division up; torch rounds down, because a "
                     "window that would stick out of the padded input is dropped", -(-span // s) + 1),
                Slip(answer, "forgot_plus_one", "you forgot the +1: the quotient counts the strides, and "
                     "the window's first position comes on top", span // s),
                Slip(answer, "ignored_dilation", "you slid a plain k x k window and ignored the dilation; "
                     "the dilated kernel spans d(k-1)+1 pixels", conv_output_size(n, k, p, s)),
            ]
        # rounding up an even division, or ignoring a dilation of 1, gives the answer itself: not offered
        return [slip for slip in slips if slip.value != solution.answers[slip.answer]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        k, d = params["kernel_size"], params["dilation"]
        problems = [*domain.integer("input_size", params["input_size"], MIN_INPUT, MAX_INPUT),
                    *domain.integer("kernel_size", k, 1, 11), *domain.integer("stride", params["stride"], 1, 4),
                    *domain.integer("dilation", d, 1, 6)]
        if not problems:  # at most "same" padding, so that the padding never outgrows the kernel
            problems += domain.integer("padding", params["padding"], 0, (k - 1) // 2)
        if "compare_dilation" in params and not problems:
            problems += domain.integer("compare_dilation", params["compare_dilation"], d + 1, 6)
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        problems = self.check_params(params)
        parts = [solution.work[x] for x in ("a", "b") if x in solution.work]
        for part in parts:
            if part["output"] < 2:
                problems.append(f"dilation {part['dilation']} leaves fewer than two outputs")
        if len(parts) == 2 and solution.work["b"]["output"] >= solution.work["a"]["output"]:
            problems.append("the larger dilation does not shrink the output")
        return problems
