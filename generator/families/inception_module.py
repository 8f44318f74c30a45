"""An Inception module: four parallel branches (1x1 conv; 1x1 reduce then 3x3; 1x1
reduce then 5x5; 3x3 max pool then 1x1 projection), every one keeping the spatial size,
concatenated along the channels. Then the cost argument behind the 1x1 reductions:
multiply-accumulates of a k x k convolution C_in -> C_out done directly, against a 1x1
reduction to r channels followed by the k x k convolution r -> C_out."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, ints_from, register
from ..numbers import in_words
from ..shapes import conv_macs
from ..tolerance import half_unit

# Module inputs and branch widths of the GoogLeNet kind (inception 3a: 192 -> 64+128+32+32).
IN_CHANNELS = [128, 192, 256, 480, 512]
BRANCH_CHOICES = (
    [32, 48, 64, 96, 112, 128, 160, 192],  # 1x1
    [64, 96, 128, 160, 192, 208, 256],  # 3x3
    [16, 24, 32, 48, 64, 96, 128],  # 5x5
    [16, 32, 48, 64],  # pool projection
)
OUT_CHANNELS = [128, 192, 256, 384]
REDUCTIONS = [2, 4, 8]  # r = C_in / factor, the bottleneck GoogLeNet puts before its big kernels
MIN_REDUCE = 16
MAP_SIDES = [7, 14, 28]


@register
class InceptionModule(Family):
    id = "inception_module"
    title = "Inception module: concatenated width and the saving of 1x1 reductions"
    answer_labels = {
        "out_channels": "the number of channels the module outputs",
        "macs_direct": "the MACs of the direct convolution",
        "macs_reduced": "the MACs of the 1x1 reduction and the convolution after it, together",
        "saving_ratio": "the factor by which the reduction cuts the cost",
    }
    tolerances = {"saving_ratio": half_unit(2)}  # the key gives the ratio as about x.yz
    contrasts = (("macs_direct", "macs_reduced"),)
    options = {
        "in_channels": Option(IN_CHANNELS, "channel counts C_in of the module input",
                              ints_from([64, 96, 128, 160, 192, 256, 384, 480, 512, 528, 832])),
        "kernel_sizes": Option([3, 5], "kernel side k of the cost comparison", ints_from([3, 5, 7])),
        "map_sides": Option(MAP_SIDES, "side of the square feature map in the cost comparison",
                            ints_from(range(1, 113))),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        c_in = pick(rng, options["in_channels"])
        c_out = pick(rng, OUT_CHANNELS)
        # Never empty: every allowed C_in has C_in/4 >= 16 or C_in/8 <= 104 < min(OUT_CHANNELS).
        reduces = [c_in // f for f in REDUCTIONS if c_in % f == 0 and MIN_REDUCE <= c_in // f < c_out]
        side = pick(rng, options["map_sides"])
        return {
            "in_channels": sp.Integer(c_in),
            # the pool projection never keeps the input's width, or the slip of giving the pool
            # branch C_in channels would earn full marks
            "branch_widths": [sp.Integer(pick(rng, [c for c in choices if i < 3 or c != c_in]))
                              for i, choices in enumerate(BRANCH_CHOICES)],
            "out_channels": sp.Integer(c_out),
            "reduce_channels": sp.Integer(pick(rng, reduces)),
            "kernel_size": sp.Integer(pick(rng, options["kernel_sizes"])),
            "height": sp.Integer(side),
            "width": sp.Integer(side),
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        c_in, c_out, r, k, h, w = _cost_params(params)
        direct = sp.Integer(conv_macs(c_in, c_out, k, h, w))
        reduce_macs = sp.Integer(conv_macs(c_in, r, 1, h, w))
        big_macs = sp.Integer(conv_macs(r, c_out, k, h, w))
        reduced = reduce_macs + big_macs
        return Solution(
            answers={
                "out_channels": sum(params["branch_widths"]),
                "macs_direct": direct,
                "macs_reduced": reduced,
                "saving_ratio": direct / reduced,
            },
            work={
                "positions": sp.Integer(h * w),
                "k2": sp.Integer(k * k),
                "macs_reduce": reduce_macs,
                "macs_big": big_macs,
                "words_direct": in_words(direct),  # "about 241 million"
                "words_reduced": in_words(reduced),
                "per_position_direct": sp.Integer(k * k * c_in * c_out),
                "per_position_reduced": sp.Integer(c_in * r + k * k * r * c_out),
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        c_in, c_out, r, k, h, w = _cost_params(params)
        widths = params["branch_widths"]
        work = solution.work
        return [
            Slip("out_channels", "no_pool_branch", "you left out the pooling branch; its 1x1 projection adds "
                 "channels to the concatenation too", sum(widths[:3])),
            Slip("out_channels", "added", "you treated the branches as added element-wise; they are "
                 "concatenated, so their channel counts add up", max(widths)),
            Slip("out_channels", "pool_keeps_input", "you gave the pooling branch the input's channel count; "
                 "the 1x1 convolution after the pool sets its width", sum(widths[:3]) + c_in),
            Slip("macs_direct", "k_not_squared", "you multiplied by k instead of k^2 kernel taps",
                 sp.Integer(h * w * k * c_in * c_out)),
            Slip("macs_reduced", "no_reduce_cost", "you left out the cost of the 1x1 reduction itself",
                 work["macs_big"]),
            Slip("macs_reduced", "k_not_squared", "you multiplied by k instead of k^2 kernel taps",
                 work["macs_reduce"] + sp.Integer(h * w * k * r * c_out)),
            Slip("saving_ratio", "inverted", "you divided the reduced cost by the direct cost; the saving is "
                 "direct over reduced", 1 / solution.answers["saving_ratio"]),
        ]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        c_in, c_out = params["in_channels"], params["out_channels"]
        problems = [*domain.integer("in_channels", c_in, 2, 1024), *domain.integer("out_channels", c_out, 2, 1024),
                    *domain.integer_in("kernel_size", params["kernel_size"], [3, 5, 7]),
                    *domain.integer("height", params["height"], 1, 112),
                    *domain.integer("width", params["width"], 1, 112)]
        if domain.shape(params["branch_widths"]) != (4,):
            problems.append("branch_widths must list the widths of the four branches")
        else:
            problems += domain.each("branch_widths", params["branch_widths"],
                                    lambda name, v: domain.integer(name, v, 1, 1024))
        if not problems:  # the 1x1 reduction must narrow the input and feed a wider k x k convolution
            problems += domain.integer("reduce_channels", params["reduce_channels"], 1, min(c_in, c_out) - 1)
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        c_in, c_out, r, k, h, w = _cost_params(params)
        a = solution.answers
        if params["branch_widths"][3] == c_in:
            problems.append("the pool projection keeps the input's width, so leaving it out of the pooling branch "
                            "gives the right count")
        if a["macs_reduced"] >= a["macs_direct"]:
            problems.append("the reduction does not save work")
        if a["saving_ratio"] != sp.Rational(k * k * c_in * c_out, r * (c_in + k * k * c_out)):
            problems.append("the saving differs from k^2 C_in C_out / (r (C_in + k^2 C_out))")
        return problems


def _cost_params(params: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    keys = ("in_channels", "out_channels", "reduce_channels", "kernel_size", "height", "width")
    c_in, c_out, r, k, h, w = (int(params[key]) for key in keys)
    return c_in, c_out, r, k, h, w
