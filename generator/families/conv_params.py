"""Learnable parameters of one Conv2d layer: one k x k x C_in filter per output
channel plus an optional bias each, independent of the image size."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, flag, ints_from, register
from ..shapes import conv_params

# Feature-map sizes of common networks; the image size only matters to the
# question whether the count depends on it (it does not: weights are shared).
INPUT_SIZES = [28, 32, 56, 64, 112, 224]
# Widths of real CNN layers (3: the RGB input): 133 ordered pairs, with three kernel sizes
# several hundred different counts.
CHANNELS = [3, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 384, 512]


@register
class ConvParams(Family):
    id = "conv_params"
    title = "Parameters of a convolutional layer"
    answer_labels = {
        "params": "the number of learnable parameters of the layer",
        "weights": "the number of weights",
        "biases": "the number of biases",
        "params_double_input": "the number of parameters on the larger feature maps",
    }
    options = {
        "channels": Option(CHANNELS, "channel counts C_in and C_out are drawn from "
                           "(two different ones)", ints_from(range(1, 2049), min_len=2)),
        "kernel_sizes": Option([3, 5, 7], "kernel sizes k that may be drawn", ints_from(range(1, 12))),
        "bias": Option("yes", "whether the layer has biases: yes, no or either",
                       flag("either", true="yes", false="no")),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        # distinct channel counts, so that a bias per input channel is visibly wrong
        c_in, c_out = (int(c) for c in rng.choice(options["channels"], size=2, replace=False))
        if c_in == 3 or c_out == 3:
            c_in, c_out = 3, c_in + c_out - 3  # three channels only make sense for the RGB image
        bias = bool(rng.integers(2)) if options["bias"] == "either" else options["bias"] == "yes"
        return {"in_channels": c_in, "out_channels": c_out, "kernel_size": pick(rng, options["kernel_sizes"]),
                "bias": bias, "input_size": pick(rng, INPUT_SIZES)}

    def solve(self, params: dict[str, Any]) -> Solution:
        c_in, c_out, k = params["in_channels"], params["out_channels"], params["kernel_size"]
        per_filter = sp.Integer(c_in * k * k)
        weights = sp.Integer(conv_params(c_in, c_out, k, bias=False))
        total = sp.Integer(conv_params(c_in, c_out, k, bias=params["bias"]))
        return Solution(
            answers={"params": total, "weights": weights, "biases": total - weights,
                     "params_double_input": total},
            work={"per_filter": per_filter, "kernel_area": sp.Integer(k * k)},
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        c_in, c_out, k = params["in_channels"], params["out_channels"], params["kernel_size"]
        biases = solution.answers["biases"]
        slips = [
            Slip("params", "k_not_squared", "you used k instead of k x k: every filter covers a k x k "
                 "patch of each input channel", c_out * c_in * k + biases),
            Slip("params", "forgot_in_channels", "you counted a single k x k kernel per filter; each "
                 "filter has one k x k slice per input channel", c_out * k * k + biases),
        ]
        if params["bias"]:
            slips += [
                Slip("params", "forgot_biases", "you left out the biases: one per output channel",
                     solution.answers["weights"]),
                Slip("params", "bias_per_input", "you counted one bias per input channel; there is one "
                     "per output channel (per filter)", solution.answers["weights"] + c_in),
            ]
        else:
            slips.append(Slip("params", "added_biases", "you added biases, but the layer is built with "
                              "bias=False", solution.answers["weights"] + c_out))
        # a 1x1 kernel (k = k^2) or a single input channel hides some mistakes: not offered there
        return [slip for slip in slips if slip.value != solution.answers["params"]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        c_in, c_out, k = params["in_channels"], params["out_channels"], params["kernel_size"]
        problems = [*domain.integer("in_channels", c_in, 1, 2048), *domain.integer("out_channels", c_out, 1, 2048),
                    *domain.integer("kernel_size", k, 1, 11)]
        if not problems:
            problems += domain.integer("input_size", params["input_size"], k + 1, 1024)
        if not problems and c_in == c_out:
            problems.append("in_channels and out_channels must differ: equal counts hide which one the biases follow")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        problems = self.check_params(params)
        if solution.answers["params"] != solution.answers["weights"] + solution.answers["biases"]:
            problems.append("weights and biases do not add up")
        return problems
