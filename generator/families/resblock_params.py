"""Trainable parameters (and convolution MACs) of residual-block designs: a single
k x k convolution, a basic two-convolution block and a 1x1 / k x k / 1x1 bottleneck,
with BatchNorm and ReLU in pre-activation (BN-ReLU-Conv) or original (Conv-BN-ReLU)
order; which design is leaner, and why."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, boolean, flag, int_in, ints_from, one_of, register, strs_from
from ..numbers import rounded
from ..shapes import Layer, conv_macs, layer_params, shapes_through, total_params

KINDS = ("single", "basic", "bottleneck")
LABELS = "ABC"
CHANNELS = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512]  # multiples of 16: C/8 stays whole
REDUCTIONS = [2, 4, 8]
KERNELS = [3, 5, 7]
SIZES = range(4, 65)


def _kinds(value: Any) -> list[str]:
    """Design kinds from KINDS that include the bottleneck (every comparison is against
    a bottleneck: that is what the exercise is about)."""
    kinds = strs_from(KINDS)(value)
    if "bottleneck" not in kinds:
        raise ValueError("must include 'bottleneck' (each comparison is against a bottleneck block)")
    return kinds


@dataclass(frozen=True)
class Setup:
    """One point of the feasible set: everything but the labels and the map size."""

    kinds: tuple[str, ...]
    channels: int
    reduction: int
    kernel: int
    bias: bool
    order: str
    plain_width: str

    @property
    def width(self) -> int:
        return self.channels // self.reduction

    def branch(self, kind: str) -> list[Layer]:
        return branch(kind, self.channels, self.width, self.kernel, self.bias, self.order, self.plain_width)


def _conv(cin: int, cout: int, kernel: int, bias: bool) -> Layer:
    return {"type": "Conv2d", "in_channels": cin, "out_channels": cout, "kernel_size": kernel,
            "padding": (kernel - 1) // 2, "bias": bias}  # odd kernel: "same" padding


def branch(kind: str, channels: int, width: int, kernel: int, bias: bool, order: str, plain_width: str) -> list[Layer]:
    """The residual branch as layers. Pre-activation puts BN (on the conv's input
    channels) and ReLU before every conv; the original order puts BN (on its output
    channels) after every conv and ReLU after all but the last, whose ReLU follows the
    addition and so is not part of the branch."""
    plain = channels if plain_width == "outer" else width
    convs = {
        "single": [(plain, plain, kernel)],
        "basic": [(plain, plain, kernel)] * 2,
        "bottleneck": [(channels, width, 1), (width, width, kernel), (width, channels, 1)],
    }[kind]
    layers: list[Layer] = []
    for i, (cin, cout, k) in enumerate(convs):
        conv = _conv(cin, cout, k, bias)
        if order == "pre":
            layers += [{"type": "BatchNorm2d", "num_features": cin}, {"type": "ReLU"}, conv]
        else:
            layers += [conv, {"type": "BatchNorm2d", "num_features": cout}]
            if i < len(convs) - 1:
                layers.append({"type": "ReLU"})
    return layers


def _counts_distinct(setup: Setup) -> bool:
    counts = [total_params(setup.branch(kind)) for kind in setup.kinds]
    return len(set(counts)) == len(counts)


def _choices(value: Any, both: list[Any]) -> list[Any]:
    return both if value == "any" else [value]


def feasible_setups(options: dict[str, Any]) -> tuple[Setup, ...]:
    """Every allowed setup whose designs have pairwise different parameter counts (a
    few thousand at most, so enumerating them is cheap and bounded)."""
    key = tuple((name, tuple(v) if isinstance(v, list) else v) for name, v in sorted(options.items()))
    return _feasible(key)


@functools.cache
def _feasible(key: tuple[tuple[str, Any], ...]) -> tuple[Setup, ...]:
    """feasible_setups on hashable options, cached: every draw with the same options
    would enumerate the same set."""
    options = dict(key)
    n = options["designs"]
    if len(options["kinds"]) < n:
        raise InfeasibleError(f"{n} designs need {n} different kinds, but kinds allows only "
                              f"{', '.join(options['kinds'])}")
    combos = [c for c in itertools.combinations(options["kinds"], n) if "bottleneck" in c]
    grid = itertools.product(combos, options["channels"], options["reduction"], options["kernel_sizes"],
                             _choices(options["bias"], [True, False]), _choices(options["order"], ["pre", "post"]),
                             _choices(options["plain_width"], ["outer", "inner"]))
    allowed = [Setup(*point) for point in grid]
    setups = tuple(s for s in allowed if _counts_distinct(s))
    if not setups:
        example = allowed[0]
        raise InfeasibleError(
            "every allowed setup gives two designs the same parameter count, so 'fewer' has no answer "
            f"(e.g. {', '.join(example.kinds)} at {example.channels} channels, reduction {example.reduction}, "
            f"kernel {example.kernel}: {[total_params(example.branch(k)) for k in example.kinds]}); "
            "allow more channels, reductions or kernel sizes"
        )
    return setups


def _kind(layers: list[Layer]) -> str:
    """single / basic / bottleneck from the number of convolutions."""
    convs = sum(layer["type"] == "Conv2d" for layer in layers)
    return {1: "single", 2: "basic", 3: "bottleneck"}[convs]


def _in_channels(layers: list[Layer]) -> int:
    first = layers[0]
    return first["in_channels"] if first["type"] == "Conv2d" else first["num_features"]


def _row(layer: Layer) -> dict[str, Any]:
    """One layer with the pieces of its count, for the key's table and the figure."""
    row: dict[str, Any] = {"type": layer["type"], "count": sp.Integer(layer_params(layer))}
    if layer["type"] == "Conv2d":
        k, cin, cout = layer["kernel_size"], layer["in_channels"], layer["out_channels"]
        row.update(k=k, cin=cin, cout=cout, bias=layer.get("bias", True), weights=sp.Integer(k * k * cin * cout))
    elif layer["type"] == "BatchNorm2d":
        row["channels"] = layer["num_features"]
    return row


def _convs(design: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in design["rows"] if row["type"] == "Conv2d"]


def _why(designs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Numbers for the sentence on the bottleneck: its k x k conv at width B costs
    k^2 B^2 against k^2 C^2 at the full width, and the 1x1 convs cost 2 C B."""
    bottlenecks = [d for d in designs if d["kind"] == "bottleneck"]
    plains = [d for d in designs if d["kind"] != "bottleneck"]
    if len(bottlenecks) != 1 or not plains:
        return None
    neck, ref = bottlenecks[0], min(plains, key=lambda d: d["total"])
    reduce, middle, _ = _convs(neck)
    k, c, b = middle["k"], reduce["cin"], reduce["cout"]
    plain_width = _convs(ref)[0]["cin"]
    # outer: the plain design works at C; otherwise at B, where a basic block's second
    # k x k conv is what the bottleneck swaps for its 1x1 convs, and a single conv adds them
    case = "outer" if plain_width == c else "swap" if ref["kind"] == "basic" else "adds"
    return {"case": case, "neck": neck["label"], "ref": ref["label"], "k": k, "c": c, "b": b,
            "ratio": sp.Rational(c, b), "ratio_sq": sp.Rational(c * c, b * b),
            "middle": sp.Integer(k * k * b * b), "full": sp.Integer(k * k * c * c),
            "projections": sp.Integer(2 * c * b), "lean": neck["total"] < ref["total"]}


def _count(layers: list[Layer], *, bias: bool = True, bn_per_channel: int = 2, kernel_power: int = 2) -> sp.Integer:
    """The parameter count with one step changeable, for the slips."""
    total = 0
    for layer in layers:
        if layer["type"] == "Conv2d":
            cout = layer["out_channels"]
            total += cout * layer["in_channels"] * layer["kernel_size"] ** kernel_power
            total += cout if bias and layer.get("bias", True) else 0
        elif layer["type"] == "BatchNorm2d":
            total += bn_per_channel * layer["num_features"]
    return sp.Integer(total)


@register
class ResblockParams(Family):
    id = "resblock_params"
    title = "Parameters of residual-block designs"
    answer_labels = {
        **{f"params_{label}": f"the number of parameters of design {label}" for label in LABELS},
        **{f"macs_{label}": f"the MACs of design {label}" for label in LABELS},
        "fewer": "the design with the fewest parameters",
    }
    contrasts = (tuple(f"params_{label}" for label in LABELS), tuple(f"macs_{label}" for label in LABELS))
    options = {
        "designs": Option(2, "how many designs to compare (one is always a bottleneck)", int_in(2, 3)),
        "kinds": Option(list(KINDS), "design kinds to draw from: single, basic, bottleneck (must include "
                        "bottleneck)", _kinds),
        "channels": Option([32, 48, 64, 96, 128, 192, 256], "outer width C: the bottleneck's input and output "
                           "channels, and every design's with plain_width 'outer'; designs of plain_width "
                           "'inner' run at C/reduction",
                           ints_from(CHANNELS)),
        "reduction": Option([2, 4], "bottleneck reduction C/B (B = the bottleneck's inner width)",
                            ints_from(REDUCTIONS)),
        "kernel_sizes": Option([3, 5], "k of the k x k convolutions", ints_from(KERNELS)),
        "bias": Option("any", "convolution biases: true, false or 'any'", flag("any")),
        "order": Option("any", "'pre' (BN-ReLU-Conv), 'post' (Conv-BN-ReLU) or 'any'", one_of("pre", "post", "any")),
        "plain_width": Option("any", "width of the non-bottleneck designs: 'outer' (C, alternatives for the same "
                              "block), 'inner' (B = C/reduction, the bottleneck's middle: blocks of different "
                              "widths compared) or 'any'; 'outer' keeps every design at the given channels",
                              one_of("outer", "inner", "any")),
        "macs": Option(True, "also ask for the convolutions' multiply-accumulates on a feature map", boolean),
        "sizes": Option([7, 8, 14, 16, 28, 32, 56], "side H = W of the feature map for the MAC part", ints_from(SIZES)),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        setups = feasible_setups(options)
        setup = setups[int(rng.integers(len(setups)))]
        # Shuffle which label gets which kind, so the bottleneck is not always "B".
        kinds = [setup.kinds[int(i)] for i in rng.permutation(len(setup.kinds))]
        blocks = {label: setup.branch(kind) for label, kind in zip(LABELS, kinds, strict=False)}
        params: dict[str, Any] = {
            "blocks": blocks,
            "channels": setup.channels,
            "bottleneck_width": setup.width,
            "kernel_size": setup.kernel,
            "bias": setup.bias,
            "order": setup.order,
            "plain_width": setup.plain_width,
        }
        if options["macs"]:
            side = pick(rng, options["sizes"])
            params["feature_maps"] = {label: [_in_channels(layers), side, side] for label, layers in blocks.items()}
        return params

    def solve(self, params: dict[str, Any]) -> Solution:
        maps = params.get("feature_maps")
        designs = []
        answers: dict[str, Any] = {}
        for label, layers in params["blocks"].items():
            design = {"label": label, "kind": _kind(layers), "in_channels": _in_channels(layers),
                      "rows": [_row(layer) for layer in layers], "total": sp.Integer(total_params(layers))}
            answers[f"params_{label}"] = design["total"]
            if maps:
                self._add_macs(design, layers, maps[label])
            designs.append(design)
        ranked = sorted(designs, key=lambda d: d["total"])
        answers["fewer"] = ranked[0]["label"]
        if maps:
            answers.update({f"macs_{d['label']}": d["macs"] for d in designs})
        work = {
            "designs": designs,
            "ranked": ranked,
            "order": "pre" if designs[0]["rows"][0]["type"] == "BatchNorm2d" else "post",
            "same_input": len({d["in_channels"] for d in designs}) == 1,
            "saving": ranked[1]["total"] - ranked[0]["total"],
            "times": rounded(ranked[1]["total"] / ranked[0]["total"], 2),  # "about x.yz times"
            "why": _why(designs),
        }
        if maps:
            work["macs_fewer"] = min(designs, key=lambda d: d["macs"])["label"]
        return Solution(answers=answers, work=work)

    @staticmethod
    def _add_macs(design: dict[str, Any], layers: list[Layer], feature_map: list[int]) -> None:
        """Conv MACs only: each conv's output map (H x W with "same" padding) times
        k^2 c_in c_out; the rows gain their share for the key."""
        shapes = shapes_through(layers, list(feature_map))
        for row, shape in zip(design["rows"], shapes, strict=True):
            if row["type"] == "Conv2d":
                row["macs"] = sp.Integer(conv_macs(row["cin"], row["cout"], row["k"], shape[1], shape[2]))
        design["macs"] = sum((row["macs"] for row in _convs(design)), sp.Integer(0))
        design["map"] = list(feature_map)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        variants: list[tuple[str, str, Callable[[list[Layer]], sp.Integer]]] = [
            ("no_bias", "you left out the convolutions' biases (one per output channel)",
             lambda layers: _count(layers, bias=False)),
            ("no_batchnorm", "you left out the BatchNorm parameters (a scale and a shift per channel)",
             lambda layers: _count(layers, bn_per_channel=0)),
            ("running_stats", "you counted BatchNorm's running mean and variance as trainable; they are "
             "buffers, so only the scale and shift count (2 per channel, not 4)",
             lambda layers: _count(layers, bn_per_channel=4)),
            ("k_not_squared", "you used k instead of k squared weights per input channel of each filter "
             "(a k x k filter has k*k weights per channel)",
             lambda layers: _count(layers, kernel_power=1)),
        ]
        if not params["bias"]:  # leaving out biases that do not exist is no mistake
            variants = [variant for variant in variants if variant[0] != "no_bias"]
        found = [Slip(f"params_{label}", name, says, count(layers))
                 for label, layers in params["blocks"].items() for name, says, count in variants]
        for design in solution.work["designs"]:
            if "macs" in design:
                found.append(Slip(f"macs_{design['label']}", "no_positions",
                                  "you counted the weights only; each weight is used once per output "
                                  "position, so multiply by H times W",
                                  sum((row["weights"] for row in _convs(design)), sp.Integer(0))))
        return found

    def check_params(self, params: dict[str, Any]) -> list[str]:
        channels, width, kernel = params["channels"], params["bottleneck_width"], params["kernel_size"]
        problems = [*domain.integer("channels", channels, 2, 1024),
                    *domain.integer_in("kernel_size", kernel, KERNELS),
                    *domain.choice("order", params["order"], ("pre", "post")),
                    *domain.choice("plain_width", params["plain_width"], ("outer", "inner"))]
        if not problems:  # the bottleneck narrows the block
            problems += domain.integer("bottleneck_width", width, 1, channels - 1)
        if problems:
            return problems
        # The designs are the branches these parameters describe, so a pinned width, kernel or
        # order is what the statement shows; a pinned design must agree with them.
        branches = {kind: branch(kind, channels, width, kernel, params["bias"], params["order"],
                                 params["plain_width"]) for kind in KINDS}
        blocks = params["blocks"]
        if not (isinstance(blocks, dict) and set(blocks) in (set(LABELS[:2]), set(LABELS))):
            return ["blocks must map the labels A, B (and C) to designs"]
        kinds = {label: next((kind for kind, layers in branches.items() if layers == blocks[label]), None)
                 for label in blocks}
        for label, kind in kinds.items():
            if kind is None:
                problems.append(f"blocks: design {label} is not a single, basic or bottleneck branch of the given "
                                "channels, bottleneck_width, kernel_size, bias, order and plain_width")
        if not problems and (len(set(kinds.values())) < len(kinds) or "bottleneck" not in kinds.values()):
            problems.append("blocks must be designs of different kinds, one of them a bottleneck")
        maps = params.get("feature_maps")
        if maps is not None and not problems:
            if not (isinstance(maps, dict) and set(maps) == set(blocks) and all(
                    domain.shape(maps[label]) == (3,) and maps[label][0] == _in_channels(layers)
                    and maps[label][1] == maps[label][2] for label, layers in blocks.items())):
                problems.append("feature_maps must give each design its input shape [C, H, H]")
            elif len({shape[1] for shape in maps.values()}) != 1:
                problems.append("feature_maps must have the same side H for every design")
            else:
                problems += domain.integer("the side H of feature_maps", maps["A"][1], 1, 64)
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        counts = {label: solution.answers[f"params_{label}"] for label in params["blocks"]}
        if len(set(counts.values())) != len(counts):
            problems.append(f"two designs have the same parameter count {counts}")
        if counts[solution.answers["fewer"]] != min(counts.values()):
            problems.append("'fewer' is not the design with the fewest parameters")
        for design in solution.work["designs"]:
            if "macs" in design:
                # stride 1 and "same" padding: every weight is used at every position
                _, height, width = design["map"]
                weights = sum(row["weights"] for row in _convs(design))
                if design["macs"] != weights * height * width:
                    problems.append(f"design {design['label']}: the convolutions change the map size")
        macs = [d["macs"] for d in solution.work["designs"] if "macs" in d]
        if len(set(macs)) != len(macs):
            problems.append("two designs do the same number of MACs, so 'the least work' is ambiguous")
        return problems

