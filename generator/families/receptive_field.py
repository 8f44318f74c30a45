"""Receptive field of one output unit of a conv/pool stack, by the recursion
r <- r + d(k-1) j, j <- j s (j: distance in input pixels between neighbouring units)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, ints_from, one_of, register
from ..shapes import Layer, geometry, receptive_field, shapes_through

POOL_TYPES = {"max": "MaxPool2d", "avg": "AvgPool2d"}
LABELS = {"Conv2d": "conv", "MaxPool2d": "max pool", "AvgPool2d": "avg pool"}
FIRST_WIDTHS = [8, 16, 32]  # channels double after every conv, as in VGG-style stacks
# The keys a layer may have: no padding (the statement says so; it does not change the field).
KEYS = {"Conv2d": ("type", "in_channels", "out_channels", "kernel_size", "stride", "dilation"),
        "MaxPool2d": ("type", "kernel_size", "stride"), "AvgPool2d": ("type", "kernel_size", "stride")}


def _recursion(layers: list[Layer], *, use_stride: bool = True, use_dilation: bool = True,
               stride_first: bool = False, skip_pools: bool = False) -> int:
    """The recursion with one step optionally done wrong (for the slips)."""
    field, jump = 1, 1
    for layer in layers:
        if skip_pools and layer["type"] != "Conv2d":
            continue
        k, s, d = geometry(layer)
        if stride_first:
            jump *= s
        field += (d if use_dilation else 1) * (k - 1) * jump
        if use_stride and not stride_first:
            jump *= s
    return field


def _conv(rng: np.random.Generator, options: dict[str, Any], c_in: int, c_out: int) -> Layer:
    layer = {"type": "Conv2d", "in_channels": c_in, "out_channels": c_out,
             "kernel_size": pick(rng, options["kernel_sizes"]), "stride": pick(rng, options["conv_strides"])}
    dilation = pick(rng, options["dilations"])
    return layer | ({"dilation": dilation} if dilation > 1 else {})


@register
class ReceptiveField(Family):
    id = "receptive_field"
    title = "Receptive field of a convolutional stack"
    answer_labels = {
        "receptive_field": "the receptive field of one output unit",
        "jump": "the shift, in input pixels, between neighbouring output units",
    }
    options = {
        "convs": Option([2, 3], "numbers of convolutional layers that may be drawn", ints_from(range(1, 5))),
        "kernel_sizes": Option([3, 5, 7], "conv kernel sizes that may be drawn", ints_from(range(1, 12))),
        "conv_strides": Option([1, 2], "conv strides that may be drawn", ints_from(range(1, 4))),
        "dilations": Option([1], "conv dilations that may be drawn", ints_from(range(1, 25))),
        "pool_kernels": Option([2, 3], "pool window sizes (pools have stride 2)", ints_from([2, 3])),
        "pool": Option("max", "pooling type: max, avg or either", one_of("max", "avg", "either")),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        layers, c_in, c_out = [], 3, pick(rng, FIRST_WIDTHS)
        convs = pick(rng, options["convs"])
        for index in range(convs):
            layers.append(_conv(rng, options, c_in, c_out))
            # a pool after every conv but the last, and after the last one time in two
            if index < convs - 1 or rng.integers(2):
                kind = pick(rng, list(POOL_TYPES)) if options["pool"] == "either" else options["pool"]
                layers.append({"type": POOL_TYPES[kind], "kernel_size": pick(rng, options["pool_kernels"]),
                               "stride": 2})
            c_in, c_out = c_out, 2 * c_out
        return {"layers": layers}

    def solve(self, params: dict[str, Any]) -> Solution:
        layers = params["layers"]
        rows, jump = [], 1
        for depth, layer in enumerate(layers, 1):
            k, s, d = geometry(layer)
            rows.append({"type": layer["type"], "label": LABELS[layer["type"]], "k": k, "s": s, "d": d,
                         "jump": sp.Integer(jump), "growth": sp.Integer(d * (k - 1) * jump),
                         "field": sp.Integer(receptive_field(layers[:depth]))})
            jump *= s
        return Solution(answers={"receptive_field": rows[-1]["field"], "jump": sp.Integer(jump)},
                        work={"rows": rows, "dilated": any(row["d"] > 1 for row in rows)})

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        layers = params["layers"]
        slips = [
            Slip("receptive_field", "ignored_strides", "you added the kernel extents d(k-1) without scaling "
                 "them by the product of the earlier strides", _recursion(layers, use_stride=False)),
            Slip("receptive_field", "own_stride", "you scaled a layer's growth by its own stride as well; "
                 "only the strides of the layers before it count", _recursion(layers, stride_first=True)),
            Slip("receptive_field", "ignored_pools", "you left out the pooling layers; a pooling window "
                 "widens the receptive field like a convolution does", _recursion(layers, skip_pools=True)),
        ]
        if any(layer.get("dilation", 1) > 1 for layer in layers):
            slips.append(Slip("receptive_field", "ignored_dilation", "you ignored the dilation: a dilated "
                              "kernel spans d(k-1)+1 pixels", _recursion(layers, use_dilation=False)))
        # a stack without strides before its last layer, or without pools, hides some mistakes: not offered
        return [slip for slip in slips if slip.value != solution.answers["receptive_field"]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        layers = params["layers"]
        if not (isinstance(layers, list) and 1 <= len(layers) <= 10 and all(isinstance(x, dict) for x in layers)):
            return ["layers must be a list of 1 to 10 layers"]
        problems = []
        for index, layer in enumerate(layers, 1):
            name = f"layers[{index}]"
            if type_problems := domain.choice(f"{name}.type", layer.get("type"), list(KEYS)):
                problems += type_problems
                continue
            kind = layer["type"]
            unknown = sorted(set(layer) - set(KEYS[kind]))
            if unknown:
                problems.append(f"{name}: a {kind} layer here has no {', '.join(unknown)}; its keys are "
                                f"{', '.join(KEYS[kind])}")
            if kind == "Conv2d":
                problems += [*domain.integer(f"{name}.kernel_size", layer.get("kernel_size"), 1, 11),
                             *domain.integer(f"{name}.stride", layer.get("stride", 1), 1, 3),
                             *domain.integer(f"{name}.dilation", layer.get("dilation", 1), 1, 24),
                             *domain.integer(f"{name}.in_channels", layer.get("in_channels"), 1, 1024),
                             *domain.integer(f"{name}.out_channels", layer.get("out_channels"), 1, 1024)]
            else:
                kernel = layer.get("kernel_size")
                problems += [*domain.integer(f"{name}.kernel_size", kernel, 2, 3),
                             *domain.integer(f"{name}.stride", layer.get("stride", kernel), 1, 3)]
        if problems:
            return problems
        convs = [layer for layer in layers if layer["type"] == "Conv2d"]
        if any(a["out_channels"] != b["in_channels"] for a, b in zip(convs, convs[1:], strict=False)):
            problems.append("layers: each convolution's in_channels must be the previous one's out_channels")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        layers, rows = params["layers"], solution.work["rows"]
        problems = self.check_params(params)
        field = solution.answers["receptive_field"]
        if field != 1 + sum(row["growth"] for row in rows):
            problems.append("the table's growth does not add up to the receptive field")
        # an input exactly one receptive field wide must give a single output unit
        if shapes_through(layers, [3, int(field), int(field)])[-1][1:] != [1, 1]:
            problems.append("layers: an input of one receptive field does not reduce to one unit")
        return problems
