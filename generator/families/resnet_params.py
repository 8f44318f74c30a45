"""Trainable parameters of a whole ResNet (stem, stages of basic or bottleneck blocks,
linear head), counted as torchvision builds it: convolutions without bias, BatchNorm
(scale and shift per channel) after every convolution, a 1x1 projection convolution
plus BatchNorm on the shortcut of a block that changes the number of channels, and
global average pooling before a linear layer with bias."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, int_in, ints_from, one_of, register
from ..numbers import rounded
from ..shapes import Layer, layer_params, total_params


def _stages(widths: list[int], blocks: list[int]) -> list[dict[str, int]]:
    return [{"width": w, "blocks": n} for w, n in zip(widths, blocks, strict=True)]


def _imagenet(name: str, bottleneck: bool, blocks: list[int]) -> dict[str, Any]:
    widths = [256, 512, 1024, 2048] if bottleneck else [64, 128, 256, 512]
    return {"name": name, "input_channels": 3, "stem_channels": 64, "stem_kernel": 7, "stages": _stages(widths, blocks),
            "bottleneck": bottleneck, "expansion": 4 if bottleneck else 1, "num_classes": 1000}


# Well-known networks a bank may pin (`name` is shown in the statement; drawn
# networks have none). torchvision's totals (resnet18 11,689,512;
# resnet50 25,557,032; ...) are checked in the tests. The CIFAR ones follow He et al.
# (3x3 stem with 16 channels, three stages, 10 classes); cifar_bottleneck is sheet 003
# ex. 33: the same network with bottleneck blocks, n = 3 per stage, expansion 4.
PRESETS: dict[str, dict[str, Any]] = {
    "resnet18": _imagenet("ResNet-18", False, [2, 2, 2, 2]),
    "resnet34": _imagenet("ResNet-34", False, [3, 4, 6, 3]),
    "resnet50": _imagenet("ResNet-50", True, [3, 4, 6, 3]),
    "resnet101": _imagenet("ResNet-101", True, [3, 4, 23, 3]),
    "resnet152": _imagenet("ResNet-152", True, [3, 8, 36, 3]),
    "cifar_resnet20": {"name": "CIFAR ResNet-20", "input_channels": 3, "stem_channels": 16, "stem_kernel": 3,
                       "stages": _stages([16, 32, 64], [3, 3, 3]), "bottleneck": False, "expansion": 1,
                       "num_classes": 10},
    "cifar_bottleneck": {"name": "CIFAR ResNet with bottleneck blocks", "input_channels": 3, "stem_channels": 16,
                         "stem_kernel": 3, "stages": _stages([64, 128, 256], [3, 3, 3]), "bottleneck": True,
                         "expansion": 4, "num_classes": 10},
}
# The widest stage of a drawn network, so that every product stays a hand-sized number.
MAX_DRAWN_WIDTH = 128


def _conv(cin: int, cout: int, kernel: int) -> Layer:
    return {"type": "Conv2d", "in_channels": cin, "out_channels": cout, "kernel_size": kernel, "bias": False}


def _conv_bn(cin: int, cout: int, kernel: int) -> dict[str, Any]:
    """One convolution and its BatchNorm, with both counts (a line of the key)."""
    conv, bn = _conv(cin, cout, kernel), {"type": "BatchNorm2d", "num_features": cout}
    return {"cin": cin, "cout": cout, "kernel": kernel, "conv": layer_params(conv), "bn": layer_params(bn),
            "total": total_params([conv, bn])}


def _block(cin: int, width: int, bottleneck: bool, expansion: int) -> dict[str, Any]:
    """One residual block from cin to width channels: its convolutions (each with BN),
    the projection shortcut if the channel count changes, and the totals."""
    if bottleneck:
        mid = width // expansion
        convs = [_conv_bn(cin, mid, 1), _conv_bn(mid, mid, 3), _conv_bn(mid, width, 1)]
    else:
        convs = [_conv_bn(cin, width, 3), _conv_bn(width, width, 3)]
    projection = _conv_bn(cin, width, 1) if cin != width else None
    parts = convs + ([projection] if projection else [])
    return {
        "cin": cin, "convs": convs, "projection": projection,
        "total": sum(c["total"] for c in parts),
        "bn": sum(c["bn"] for c in parts),
        "conv_channels": sum(c["cout"] for c in parts),
    }


def _network(params: dict[str, Any]) -> dict[str, Any]:
    """Every count of the network, stage by stage; the key prints these."""
    bottleneck, expansion = params["bottleneck"], params["expansion"]
    stem = _conv_bn(params["input_channels"], params["stem_channels"], params["stem_kernel"])
    stages, channels = [], params["stem_channels"]
    for index, stage in enumerate(params["stages"], 1):
        width, count = stage["width"], stage["blocks"]
        first = _block(channels, width, bottleneck, expansion)
        other = _block(width, width, bottleneck, expansion) if count > 1 else None
        stages.append({"index": index, "cin": channels, "width": width, "mid": width // expansion,
                       "blocks": count, "first": first, "other": other,
                       "total": first["total"] + ((count - 1) * other["total"] if other else 0)})
        channels = width
    head_layer = {"type": "Linear", "in_features": channels, "out_features": params["num_classes"], "bias": True}
    head = {"in": channels, "weights": channels * params["num_classes"], "bias": params["num_classes"],
            "total": layer_params(head_layer)}
    total = stem["total"] + sum(s["total"] for s in stages) + head["total"]
    blocks = [(s["first"], 1) for s in stages] + [(s["other"], s["blocks"] - 1) for s in stages if s["other"]]
    return {
        "stem": stem, "stages": stages, "head": head,
        "stages_total": sum(s["total"] for s in stages),
        "total": total,
        "millions": rounded(sp.Rational(total, 10**6), 1),  # to 0.1 million, for big networks
        "bn_total": stem["bn"] + sum(b["bn"] * n for b, n in blocks),
        "conv_channels": stem["cout"] + sum(b["conv_channels"] * n for b, n in blocks),
        "projection_total": sum(s["first"]["projection"]["total"] for s in stages if s["first"]["projection"]),
    }


def _draw_network(rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
    """A small ResNet: widths double from stage to stage, a bottleneck network's stem
    has the first stage's inner width (as in ResNet-50), a basic one its full width."""
    stage_count = pick(rng, options["num_stages"])
    bottleneck = bool(rng.integers(2)) if options["block"] == "any" else options["block"] == "bottleneck"
    expansion = pick(rng, options["expansions"]) if bottleneck else 1
    growth = 2 ** (stage_count - 1)
    bases = [b for b in (4, 8, 16, 32) if b * growth * expansion <= MAX_DRAWN_WIDTH and b * expansion >= 8]
    base = pick(rng, bases)
    widths = [base * expansion * 2**i for i in range(stage_count)]
    blocks = [int(rng.integers(1, options["max_blocks"] + 1)) for _ in widths]
    return {
        "name": "",
        "input_channels": pick(rng, [1, 3, 3]),
        "stem_channels": base,
        "stem_kernel": pick(rng, [3, 5, 7]),
        "stages": _stages(widths, blocks),
        "bottleneck": bottleneck,
        "expansion": expansion,
        "num_classes": pick(rng, [10, 10, 100, 5]),
    }


@register
class ResnetParams(Family):
    id = "resnet_params"
    title = "Parameter count of a whole ResNet"
    answer_labels = {"total_params": "the number of trainable parameters of the whole network"}
    options = {
        "preset": Option("none", "pin a well-known network (resnet18/34/50/101/152, cifar_resnet20, "
                         "cifar_bottleneck); the other options are then ignored", one_of("none", *PRESETS)),
        "block": Option("any", "block type of drawn networks: any, basic or bottleneck",
                        one_of("any", "basic", "bottleneck")),
        "num_stages": Option([2, 3], "numbers of stages a drawn network may have", ints_from([2, 3, 4])),
        "max_blocks": Option(2, "most blocks per stage of a drawn network", int_in(1, 4)),
        "expansions": Option([4], "bottleneck expansion factors to draw from", ints_from([2, 4])),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        if options["preset"] != "none":
            preset = PRESETS[options["preset"]]
            return {**preset, "stages": [dict(s) for s in preset["stages"]]}
        return _draw_network(rng, options)

    def solve(self, params: dict[str, Any]) -> Solution:
        net = _network(params)
        return Solution(answers={"total_params": sp.Integer(net["total"])}, work=net)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        w, total = solution.work, solution.answers["total_params"]
        slips = [
            Slip("total_params", "no_batchnorm", "you left out the BatchNorm parameters (a scale and a shift "
                 "per channel)", total - w["bn_total"]),
            Slip("total_params", "running_stats", "you counted BatchNorm's running mean and variance; they are "
                 "buffers, not trained parameters", total + w["bn_total"]),
            Slip("total_params", "no_projection", "you left out the 1x1 projection convolutions (and their "
                 "BatchNorm) on the shortcuts that change the channel count", total - w["projection_total"]),
            Slip("total_params", "conv_bias", "you gave every convolution a bias; a convolution followed by "
                 "BatchNorm has none", total + w["conv_channels"]),
            Slip("total_params", "head_without_bias", "you left out the bias of the linear head",
                 total - params["num_classes"]),
            Slip("total_params", "no_stem", "you left out the stem convolution", total - w["stem"]["total"]),
        ]
        if params["bottleneck"]:
            full = _network({**params, "expansion": 1})["total"]
            slips.append(Slip("total_params", "bottleneck_full_width", "you ran the 3x3 convolution of the "
                              "bottleneck at the full width instead of width/expansion", sp.Integer(full)))
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        stages, expansion = params["stages"], params["expansion"]
        problems = [*domain.integer("input_channels", params["input_channels"], 1, 16),
                    *domain.integer("stem_channels", params["stem_channels"], 1, 4096),
                    *domain.integer_in("stem_kernel", params["stem_kernel"], range(1, 12, 2)),
                    *domain.integer("num_classes", params["num_classes"], 1, 100_000),
                    *domain.integer_in("expansion", expansion, [1, 2, 4])]
        if not isinstance(params["name"], str):
            problems.append(f"name must be a text, got {domain.shown(params['name'])}")
        if not problems and params["bottleneck"] != (expansion > 1):
            problems.append("expansion must be above 1 for bottleneck blocks and 1 for basic blocks")
        if not (isinstance(stages, list) and 2 <= len(stages) <= 6
                and all(isinstance(s, dict) and set(s) == {"width", "blocks"} for s in stages)):
            return [*problems, "stages must be a list of 2 to 6 stages, each with a width and a number of blocks"]
        for index, stage in enumerate(stages, 1):
            problems += [*domain.integer(f"stages[{index}].width", stage["width"], 1, 4096),
                         *domain.integer(f"stages[{index}].blocks", stage["blocks"], 1, 50)]
        if problems:
            return problems
        widths = [s["width"] for s in stages]
        if any(a >= b for a, b in zip(widths, widths[1:], strict=False)):
            problems.append("stages: the widths must increase from stage to stage")
        if any(w % expansion for w in widths):
            problems.append(f"stages: every width must be divisible by the expansion {expansion}")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        net, problems = solution.work, self.check_params(params)
        if net["projection_total"] == 0:
            problems.append("no block changes the channel count, so projections are never asked about")
        parts = net["stem"]["total"] + net["stages_total"] + net["head"]["total"]
        if parts != solution.answers["total_params"]:
            problems.append("the parts do not add up to the total")
        return problems
