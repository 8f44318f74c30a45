"""A stack of n small k x k convolutions versus one large convolution with the same
receptive field (VGG's argument): receptive field, parameters, ratio, and the
multiply-accumulates on a map whose size every convolution keeps."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, ints_from, register
from ..numbers import rounded
from ..shapes import Layer, conv_macs, conv_params, receptive_field, total_params
from ..tolerance import half_unit

# Channel counts of VGG-like stages and the map sides they run on (ImageNet's 224, CIFAR's 32 and
# STL-10's 96 halved). A map is at least as wide as the field: with k in {3, 5} and n in {2, 3, 4},
# 13 * 62 = 806 combinations.
CHANNELS = [16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 512]
MAP_SIDES = [7, 8, 12, 14, 16, 24, 28, 32, 48, 56, 64, 96, 112]
MAX_SIDE = 224


def _convs(channels: int, kernel: int, depth: int) -> list[Layer]:
    """n stride-1 C -> C convolutions without bias, in the contract's layer format."""
    return [{"type": "Conv2d", "in_channels": channels, "out_channels": channels, "kernel_size": kernel,
             "bias": False}] * depth


@register
class ConvStackCompare(Family):
    id = "conv_stack_compare"
    title = "Stacked small convolutions versus one large convolution"
    answer_labels = {
        "receptive_field": "the receptive field of the stack",
        "params_stack": "the number of parameters of the stack",
        "params_single": "the number of parameters of the single convolution",
        "ratio": "the stack's parameters as a fraction of the single convolution's",
        "macs_stack": "the multiply-accumulates of the stack on the map",
        "macs_single": "the multiply-accumulates of the single convolution on the map",
    }
    tolerances = {"ratio": half_unit(3)}  # the key gives the ratio as a percentage with one decimal
    contrasts = (("params_stack", "params_single"), ("macs_stack", "macs_single"))
    options = {
        "channels": Option(CHANNELS, "channel counts C that may be drawn", ints_from(range(1, 1025))),
        "kernel_sizes": Option([3, 5], "kernel sizes k of the stacked convolutions", ints_from(range(2, 8))),
        "depths": Option([2, 3, 4], "numbers n of stacked convolutions", ints_from(range(2, 7))),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        channels, kernel, depth = (pick(rng, options[name]) for name in ("channels", "kernel_sizes", "depths"))
        # a map at least as wide as the field: a 17 x 17 convolution on a 7 x 7 map would mostly multiply
        # padded zeros, which no designer builds (the largest field, 6 * 6 + 1 = 37, still has 56 to 112)
        field = depth * (kernel - 1) + 1
        side = sp.Integer(pick(rng, [side for side in MAP_SIDES if side >= field]))
        return {"channels": channels, "kernel_size": kernel, "depth": depth, "height": side, "width": side}

    def solve(self, params: dict[str, Any]) -> Solution:
        c, k, n = params["channels"], params["kernel_size"], params["depth"]
        field = receptive_field(_convs(c, k, n))
        stack = sp.Integer(total_params(_convs(c, k, n)))
        single = sp.Integer(conv_params(c, c, field, bias=False))
        h, w = params["height"], params["width"]
        # every convolution keeps the h x w size, so each of its h w outputs costs its k^2 C^2 weights
        macs_stack = sp.Integer(n * conv_macs(c, c, k, h, w))
        macs_single = sp.Integer(conv_macs(c, c, field, h, w))
        return Solution(
            answers={"receptive_field": sp.Integer(field), "params_stack": stack, "params_single": single,
                     "ratio": stack / single, "macs_stack": macs_stack, "macs_single": macs_single},
            work={"per_layer": sp.Integer(conv_params(c, c, k, bias=False)), "stack_c2": sp.Integer(n * k * k),
                  "single_c2": sp.Integer(field * field), "c2": sp.Integer(c * c), "saved": single - stack,
                  "positions": sp.Integer(h * w), "extra_nonlinearities": sp.Integer(n - 1),
                  # the ratio as the statement allows it (three decimals), and as a percentage
                  "ratio_3": rounded(stack / single, 3), "percent": rounded(100 * stack / single, 1)},
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        c, k, n = params["channels"], params["kernel_size"], params["depth"]
        one_channel = [] if c > 1 else ["channels_once"]  # C = C^2: no mistake to tell apart
        return [slip for slip in [
            Slip("receptive_field", "summed_kernels", "you added the kernel sizes; each further layer only "
                 "widens the field by k-1, since its window overlaps the previous one", n * k),
            Slip("params_stack", "k_not_squared", "you used k instead of k x k weights per channel pair",
                 n * k * c * c),
            Slip("params_stack", "channels_once", "you counted C weights per kernel position; every output "
                 "channel has its own weights for each of the C input channels, so C x C", n * k * k * c),
            Slip("params_stack", "added_biases", "you added biases, but the convolutions have none",
                 n * (k * k * c * c + c)),
            Slip("params_single", "summed_kernels", "the large kernel must match the receptive field "
                 "n(k-1)+1, not the sum n*k of the kernel sizes", (n * k) ** 2 * c * c),
            Slip("macs_stack", "one_position", "you counted the weights once; each is used at every one of the "
                 "H x W output positions", solution.answers["params_stack"]),
            Slip("macs_stack", "one_layer", "you counted one convolution of the stack; all n of them run",
                 solution.answers["macs_stack"] / n),
            Slip("macs_single", "one_position", "you counted the weights once; each is used at every one of the "
                 "H x W output positions", solution.answers["params_single"]),
        ] if slip.name not in one_channel]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        return [*domain.integer("channels", params["channels"], 1, 1024),
                *domain.integer("kernel_size", params["kernel_size"], 2, 7),
                *domain.integer("depth", params["depth"], 2, 6),
                *domain.integer("height", params["height"], 1, MAX_SIDE),
                *domain.integer("width", params["width"], 1, MAX_SIDE)]

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        a = solution.answers
        problems = self.check_params(params)
        if a["params_stack"] >= a["params_single"]:
            problems.append("the stack is not cheaper than the single convolution")
        if a["receptive_field"] != params["depth"] * (params["kernel_size"] - 1) + 1:
            problems.append("receptive field disagrees with n(k-1)+1")
        return problems
