"""Cost of a standard k x k convolution against a depthwise separable one (a depthwise
k x k convolution, one filter per input channel, then a pointwise 1 x 1 convolution):
multiply-accumulates for one image and weight counts. Stride 1 and "same" padding, so
the output maps are height x width; no biases."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, boolean, ints_from, register
from ..numbers import count_unit
from ..rounding import fixed, rounded
from ..shapes import conv_macs, conv_params
from ..tolerance import half_unit

# Channel counts and map sides of real CNN stages; a calculator is enough for the products.
CHANNELS = [16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 512]
MAP_SIDES = [7, 14, 28, 56]
KERNELS = [3, 5, 7]  # odd, so that "same" padding keeps the map size


@register
class ConvMacs(Family):
    id = "conv_macs"
    title = "Cost of a standard versus a depthwise separable convolution"
    answer_labels = {
        "macs_standard": "the MACs of the standard convolution",
        "params_standard": "the number of weights of the standard convolution",
        "macs_separable": "the MACs of the depthwise separable pair",
        "params_separable": "the number of weights of the depthwise separable pair",
        "saving_ratio": "the factor by which the separable version cuts the MACs",
    }
    tolerances = {"saving_ratio": half_unit(2)}  # the key gives the ratio as about x.yz
    contrasts = (("macs_standard", "macs_separable"), ("params_standard", "params_separable"))
    options = {
        "kernel_sizes": Option([3, 5], "kernel sizes k to draw from", ints_from(KERNELS)),
        "channels": Option(CHANNELS, "channel counts C_in and C_out are drawn from",
                           ints_from(range(2, 2049))),
        "map_sides": Option(MAP_SIDES, "sides of the output feature map", ints_from(range(1, 257))),
        "square": Option(True, "output maps are square (height = width)", boolean),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        height = pick(rng, options["map_sides"])
        return {
            "in_channels": sp.Integer(pick(rng, options["channels"])),
            "out_channels": sp.Integer(pick(rng, options["channels"])),
            "kernel_size": sp.Integer(pick(rng, options["kernel_sizes"])),
            "height": sp.Integer(height),
            "width": sp.Integer(height if options["square"] else pick(rng, options["map_sides"])),
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        c_in, c_out, k, h, w = _unpack(params)
        depthwise_macs = conv_macs(c_in, c_in, k, h, w, groups=c_in)
        pointwise_macs = conv_macs(c_in, c_out, 1, h, w)
        depthwise_params = conv_params(c_in, c_in, k, bias=False, groups=c_in)
        pointwise_params = conv_params(c_in, c_out, 1, bias=False)
        standard = sp.Integer(conv_macs(c_in, c_out, k, h, w))
        separable = sp.Integer(depthwise_macs + pointwise_macs)
        return Solution(
            answers={
                "macs_standard": standard,
                "macs_separable": separable,
                "params_standard": sp.Integer(conv_params(c_in, c_out, k, bias=False)),
                "params_separable": sp.Integer(depthwise_params + pointwise_params),
                "saving_ratio": standard / separable,
            },
            work={
                "positions": sp.Integer(h * w),
                "k2": sp.Integer(k * k),
                "macs_depthwise": sp.Integer(depthwise_macs),
                "macs_pointwise": sp.Integer(pointwise_macs),
                "params_depthwise": sp.Integer(depthwise_params),
                "params_pointwise": sp.Integer(pointwise_params),
                # The counts in millions (or billions, trillions) to two places, for the key's aside
                # on FLOPs: 7.23 million, not 7.225344 million.
                "scaled_standard": _scaled(standard),
                "scaled_separable": _scaled(separable),
                "k2_plus_out": sp.Integer(k * k + c_out),
                # the two-place decimal part (c) asks for, and whether it is the exact value
                "ratio_places": fixed(rounded(standard / separable, 2), 2),
                "ratio_exact_in_places": rounded(standard / separable, 2) == standard / separable,
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        c_in, c_out, k, h, w = _unpack(params)
        work = solution.work
        return [
            Slip("macs_standard", "k_not_squared", "you multiplied by k instead of k^2: a k x k kernel has k^2 taps",
                 sp.Integer(h * w * k * c_in * c_out)),
            Slip("macs_standard", "one_output_channel", "you counted the work of one output channel only; "
                 "every one of the C_out filters slides over the whole map", sp.Integer(h * w * k * k * c_in)),
            Slip("macs_separable", "no_pointwise", "you left out the pointwise 1x1 convolution that mixes the channels",
                 work["macs_depthwise"]),
            Slip("macs_separable", "full_depthwise", "you let each depthwise filter see all input channels; "
                 "a depthwise filter sees only its own channel",
                 sp.Integer(h * w * k * k * c_in * c_in) + work["macs_pointwise"]),
            Slip("params_standard", "k_not_squared", "you multiplied by k instead of k^2 when counting weights",
                 sp.Integer(k * c_in * c_out)),
            Slip("params_separable", "no_pointwise", "you counted only the depthwise weights and left out the 1x1 "
                 "convolution's", work["params_depthwise"]),
            Slip("saving_ratio", "inverted", "you divided the separable cost by the standard cost; the factor "
                 "asked for is standard over separable", 1 / solution.answers["saving_ratio"]),
        ]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        # k >= 2 and C_out >= 2: only then does the separable convolution save work
        return [*domain.integer("in_channels", params["in_channels"], 2, 2048),
                *domain.integer("out_channels", params["out_channels"], 2, 2048),
                *domain.integer_in("kernel_size", params["kernel_size"], KERNELS),
                *domain.integer("height", params["height"], 1, 256),
                *domain.integer("width", params["width"], 1, 256)]

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        c_in, c_out, k, h, w = _unpack(params)
        a = solution.answers
        if a["macs_separable"] >= a["macs_standard"]:
            problems.append("the separable convolution is not cheaper")
        # Each weight is used once per output position, for both layers.
        if a["macs_standard"] != a["params_standard"] * h * w or a["macs_separable"] != a["params_separable"] * h * w:
            problems.append("MACs are not weights times output positions")
        if a["saving_ratio"] != sp.Rational(k * k * c_out, k * k + c_out):
            problems.append("saving ratio differs from k^2 C_out / (k^2 + C_out)")
        return problems


FLOP_PREFIXES = {"trillion": "T", "billion": "G", "million": "M"}


def _scaled(count: sp.Integer) -> dict[str, Any] | None:
    """A count of MACs in the largest unit it reaches (numbers.count_unit), to two places,
    and the FLOPs when a MAC counts as two; None for a smaller count."""
    if (unit := count_unit(count)) is None:
        return None
    word, size = unit
    value = sp.Rational(count, size)
    return {"unit": word, "prefix": FLOP_PREFIXES[word], "value": fixed(rounded(value, 2), 2),
            "double": fixed(rounded(2 * value, 2), 2), "exact": rounded(value, 2) == value}


def _unpack(params: dict[str, Any]) -> tuple[int, int, int, int, int]:
    keys = ("in_channels", "out_channels", "kernel_size", "height", "width")
    c_in, c_out, k, h, w = (int(params[key]) for key in keys)
    return c_in, c_out, k, h, w
