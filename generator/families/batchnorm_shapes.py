"""Shapes of the batch statistics of BatchNorm for a given input layout (NC, NCHW or
NHWC), the number of values pooled into each statistic, the layer's trainable
parameters, and for contrast the statistics of a LayerNorm over each sample."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, register, strs_from
from ..shapes import batchnorm_params

# A layout names the axes of the input in order.
LAYOUTS = ("NC", "NCHW", "NHWC")
# Sizes an instructor would write; all axes of one input get different sizes so that
# the answer shows which axis the student took for which.
BATCHES = [8, 16, 24, 32, 48, 64, 128, 256]
CHANNELS_4D = [3, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512]
CHANNELS_2D = [10, 64, 100, 128, 200, 256, 500, 512, 1000, 1024]
SIDES = [7, 8, 14, 16, 28, 32, 56]


def _pick_other(rng: np.random.Generator, sizes: list[int], taken: list[int]) -> int:
    """A size different from those already used for other axes."""
    return pick(rng, [s for s in sizes if s not in taken])


def _keep(input_shape: list[int], axes: str, kept: str) -> list[int]:
    """The keepdim shape of a reduction that keeps the axes named in `kept`."""
    return [n if name in kept else 1 for n, name in zip(input_shape, axes, strict=True)]


@register
class BatchnormShapes(Family):
    id = "batchnorm_shapes"
    title = "Shapes of the BatchNorm statistics for a given tensor layout"
    answer_labels = {
        "mean_shape": "the shape of the BatchNorm mean",
        "var_shape": "the shape of the BatchNorm variance",
        "reduce_dims": "the axes the BatchNorm statistics are computed over",
        "values_per_stat": "the number of input values that enter each mean",
        "trainable_params": "the number of trainable parameters of the BatchNorm layer",
        "layernorm_shape": "the shape of the LayerNorm mean",
    }
    options = {
        "layouts": Option(list(LAYOUTS), "input layouts to draw from: NC, NCHW, NHWC", strs_from(LAYOUTS)),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        layout = pick(rng, options["layouts"])
        batch = pick(rng, BATCHES)
        if layout == "NC":
            return {"input_shape": [batch, _pick_other(rng, CHANNELS_2D, [batch])], "layout": layout}
        channels = _pick_other(rng, CHANNELS_4D, [batch])
        height = _pick_other(rng, SIDES, [batch, channels])
        # now and then a 1:2 map, so that H and W must be told apart as well
        wide = [s for s in SIDES if (2 * s == height or s == 2 * height) and s not in (batch, channels)]
        width = pick(rng, wide) if wide and rng.integers(3) == 0 else height
        sizes = {"N": batch, "C": channels, "H": height, "W": width}
        return {"input_shape": [sizes[a] for a in layout], "layout": layout}

    def solve(self, params: dict[str, Any]) -> Solution:
        shape, axes = params["input_shape"], params["layout"]
        channels = shape[axes.index("C")]
        stats = _keep(shape, axes, "C")
        pooled = [name for name in axes if name != "C"]
        count = sp.prod([shape[axes.index(a)] for a in pooled])
        return Solution(
            answers={
                "mean_shape": stats,
                "var_shape": list(stats),
                "reduce_dims": [axes.index(a) for a in pooled],
                "values_per_stat": sp.Integer(count),
                "trainable_params": sp.Integer(batchnorm_params(channels)),
                "layernorm_shape": _keep(shape, axes, "N"),
            },
            work={
                "channels": channels,
                "pooled": pooled,
                "pooled_sizes": [shape[axes.index(a)] for a in pooled],
                "channel_dim": axes.index("C"),
                "ln_count": sp.Integer(sp.prod(shape) // shape[0]),
                "spatial": len(axes) == 4,
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        shape, axes = params["input_shape"], params["layout"]
        channels = solution.work["channels"]
        slips = [
            Slip("mean_shape", "per_sample", "you averaged each sample on its own (only over the positions); "
                 "BatchNorm pools the whole batch", _keep(shape, axes, "NC")),
            Slip("mean_shape", "over_channels", "you averaged over the channels; BatchNorm keeps one mean per "
                 "channel and averages over everything else", _keep(shape, axes, "NHW")),
            Slip("mean_shape", "flat_vector", "you gave the flat vector of C statistics; to broadcast against "
                 "the input the reduced axes stay as size-1 axes", [channels]),
            Slip("trainable_params", "running_stats", "you counted the running mean and variance; they are "
                 "buffers, not trained parameters", sp.Integer(4 * channels)),
            Slip("layernorm_shape", "layernorm_like_batchnorm", "you gave LayerNorm per-channel statistics; it "
                 "normalises each sample over all its features", _keep(shape, axes, "C")),
        ]
        if params["layout"] == "NHWC":
            slips.append(Slip("mean_shape", "channels_first", "you assumed the channels are the second axis "
                              "(NCHW); here they are the last", [1, channels, 1, 1]))
        if solution.work["spatial"]:
            slips.append(Slip("values_per_stat", "batch_only", "you counted only the samples; every spatial "
                              "position of every sample enters the channel's mean", sp.Integer(shape[0])))
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        layout, shape = params["layout"], params["input_shape"]
        if problems := domain.choice("layout", layout, LAYOUTS):
            return problems
        if domain.shape(shape) != (len(layout),):
            return [f"input_shape must give one size per axis of {layout}"]
        # an axis of size 1 would hide which axes are pooled
        return domain.each("input_shape", shape, lambda name, n: domain.integer(name, n, 2, 1024))

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        shape, a = params["input_shape"], solution.answers
        if problems := self.check_params(params):
            return problems
        named = dict(zip(params["layout"], shape, strict=True))
        kinds = [named[k] for k in "NCH" if k in named]
        if len(set(kinds)) < len(kinds) or named.get("W") in (named["N"], named["C"]):
            problems.append("input_shape gives two different kinds of axes the same size")
        if sp.prod(a["mean_shape"]) != solution.work["channels"] or len(a["mean_shape"]) != len(shape):
            problems.append("the statistics are not one per channel in a broadcastable shape")
        if a["values_per_stat"] * solution.work["channels"] != sp.prod(shape):
            problems.append("the pooled values do not partition the input")
        return problems
