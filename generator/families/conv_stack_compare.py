"""A stack of n small k x k convolutions versus one large convolution with the same
receptive field (VGG's argument): receptive field, parameters, ratio."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, ints_from, register
from ..shapes import Layer, conv_params, receptive_field, total_params
from ..tolerance import half_unit


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
        "extra_nonlinearities": "the number of extra non-linearities of the stack",
    }
    tolerances = {"ratio": half_unit(3)}  # the key gives the ratio as a percentage with one decimal
    options = {
        "channels": Option([16, 32, 64, 128, 256], "channel counts C that may be drawn", ints_from(range(1, 1025))),
        "kernel_sizes": Option([3, 5], "kernel sizes k of the stacked convolutions", ints_from(range(2, 8))),
        "depths": Option([2, 3, 4], "numbers n of stacked convolutions", ints_from(range(2, 7))),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        return {"channels": pick(rng, options["channels"]), "kernel_size": pick(rng, options["kernel_sizes"]),
                "depth": pick(rng, options["depths"])}

    def solve(self, params: dict[str, Any]) -> Solution:
        c, k, n = params["channels"], params["kernel_size"], params["depth"]
        field = receptive_field(_convs(c, k, n))
        stack = sp.Integer(total_params(_convs(c, k, n)))
        single = sp.Integer(conv_params(c, c, field, bias=False))
        return Solution(
            answers={"receptive_field": sp.Integer(field), "params_stack": stack, "params_single": single,
                     "ratio": stack / single, "extra_nonlinearities": sp.Integer(n - 1)},
            work={"per_layer": sp.Integer(conv_params(c, c, k, bias=False)), "stack_c2": sp.Integer(n * k * k),
                  "single_c2": sp.Integer(field * field), "c2": sp.Integer(c * c), "saved": single - stack},
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        c, k, n = params["channels"], params["kernel_size"], params["depth"]
        return [
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
        ]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        return [*domain.integer("channels", params["channels"], 1, 1024),
                *domain.integer("kernel_size", params["kernel_size"], 2, 7),
                *domain.integer("depth", params["depth"], 2, 6)]

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        a = solution.answers
        problems = self.check_params(params)
        if a["params_stack"] >= a["params_single"]:
            problems.append("the stack is not cheaper than the single convolution")
        if a["receptive_field"] != params["depth"] * (params["kernel_size"] - 1) + 1:
            problems.append("receptive field disagrees with n(k-1)+1")
        return problems
