"""Design a conv/pool stack that takes an input image to a target shape: stride-1
unpadded convolutions with kernels from an allowed set, 2x2 max pools with stride 2,
a pool always right after a convolution. The key's design comes from a bounded
search over the spatial side (fewest layers, then fewest parameters). A drawn target
side is one that some alternating stack of 2-4 convs reaches from the input, enumerated
forward, so every variant is solvable by construction."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from ..designs import parse_design
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, Verdict, boolean, ints_from, register
from ..numbers import to_json
from ..shapes import Layer, Shape, conv_params, geometry, receptive_field, shapes_through, total_params
from ..tolerance import MANUAL

# The search's bound: more convolutions than this is no longer a stack a student
# designs by hand, and it keeps the search finite for any options.
MAX_CONVS = 6
# What a drawn variant looks like: sides a course would use, a few conv layers,
# a small final map, channel counts whose halvings stay integers.
INPUT_SIDES = [24, 28, 32, 36, 40, 48, 56, 64]
INPUT_CHANNELS = [1, 3]
TARGET_CHANNELS = [16, 24, 32, 48, 64]
TARGET_SIDES = range(2, 8)
CONSTRUCTION_CONVS = [2, 3, 4]
KERNEL_SETS = [[3, 5, 7], [3, 5], [3, 7], [5, 7], [3, 5, 7, 9], [2, 3, 4], [3, 4, 5]]
POOL = 0  # token of a pool in a design's layer sequence; conv tokens are their kernel sizes


def _optional(validate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """None means 'draw it'; anything else must pass `validate`."""
    return lambda value: None if value is None else validate(value)


def _square_shape(min_side: int, max_side: int) -> Callable[[Any], list[int]]:
    def validate(value: Any) -> list[int]:
        if not (isinstance(value, list) and len(value) == 3
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            raise TypeError("expected [C, H, W] as three integers")
        channels, height, width = value
        if height != width:
            raise ValueError("only square maps (H = W) are supported")
        if not 1 <= channels <= 512 or not min_side <= height <= max_side:
            raise ValueError(f"need 1 <= C <= 512 and {min_side} <= H <= {max_side}")
        return list(value)

    return validate


def channel_plan(target_channels: int, convs: int) -> list[int]:
    """The key's rule: the last conv gives the target's channels, every earlier conv
    half as many as the one after it (rounded down, at least one)."""
    return [max(1, target_channels // 2 ** (convs - i)) for i in range(1, convs + 1)]


def _pool_allowed(side: int, odd_pool: bool) -> bool:
    return side >= 2 and (odd_pool or side % 2 == 0)


# --- the key's search ----------------------------------------------------------------


def _cheapest(side_in: int, side_out: int, channels: tuple[int, ...], kernels: tuple[int, ...],
              odd_pool: bool) -> tuple[int, int, tuple[int, ...]] | None:
    """With exactly len(channels)-1 convs: the (pools, parameters, tokens) of the best
    stack from side_in to side_out, or None. A DP over (convs placed, side, after a
    pool); sides never grow, so it is finite and small."""
    convs = len(channels) - 1

    @cache
    def best(placed: int, side: int, after_pool: bool) -> tuple[int, int, tuple[int, ...]] | None:
        if side < side_out:
            return None
        options = [(0, 0, ())] if placed == convs and side == side_out else []
        if placed < convs:
            for k in kernels:
                rest = best(placed + 1, side - k + 1, False) if k <= side else None
                if rest:
                    cost = conv_params(channels[placed], channels[placed + 1], k)
                    options.append((rest[0], rest[1] + cost, (k, *rest[2])))
        if not after_pool and _pool_allowed(side, odd_pool):
            rest = best(placed, side // 2, True)
            if rest:
                options.append((rest[0] + 1, rest[1], (POOL, *rest[2])))
        return min(options, default=None)

    return best(0, side_in, True)  # "after a pool" at the start: a stack cannot begin with one


def reachable_sides(side_in: int, kernels: tuple[int, ...], odd_pool: bool) -> list[int]:
    """Every side some allowed stack of at most MAX_CONVS convs can end at."""
    seen, frontier = set(), {(side_in, True, 0)}
    while frontier:
        seen |= frontier
        step = set()
        for side, after_pool, convs in frontier:
            if convs < MAX_CONVS:
                step |= {(side - k + 1, False, convs + 1) for k in kernels if k <= side}
            if not after_pool and _pool_allowed(side, odd_pool):
                step.add((side // 2, True, convs))
        frontier = step - seen
    return sorted({side for side, _, convs in seen if convs > 0})


def design(input_shape: Shape, target: Shape, kernels: list[int], odd_pool: bool) -> list[Layer]:
    """The key's architecture: fewest layers, then fewest parameters, then a fixed
    order of the layer sequence; InfeasibleError when the bounded search finds none."""
    if target[1] > input_shape[1]:
        raise InfeasibleError(f"the target side {target[1]} exceeds the input side {input_shape[1]}: "
                              "unpadded convolutions and pools never enlarge a map")
    found = []
    for convs in range(1, MAX_CONVS + 1):
        channels = (input_shape[0], *channel_plan(target[0], convs))
        best = _cheapest(input_shape[1], target[1], channels, tuple(kernels), odd_pool)
        if best:
            found.append((convs + best[0], best[1], best[2], channels))
    if not found:
        sides = reachable_sides(input_shape[1], tuple(kernels), odd_pool)
        raise InfeasibleError(
            f"no stack of at most {MAX_CONVS} convolutions (kernels {kernels}, stride 1, no padding) and 2x2 "
            f"pools{'' if odd_pool else ' on even sides only'} takes side {input_shape[1]} to {target[1]}",
            hint=f"from {input_shape[1]} such stacks reach only the sides {sides}",
        )
    _, _, tokens, channels = min(found)
    return _layers(tokens, channels)


def _layers(tokens: tuple[int, ...], channels: tuple[int, ...]) -> list[Layer]:
    layers, placed = [], 0
    for token in tokens:
        if token == POOL:
            layers.append({"type": "MaxPool2d", "kernel_size": 2, "stride": 2})
        else:
            layers.append({"type": "Conv2d", "in_channels": channels[placed], "out_channels": channels[placed + 1],
                           "kernel_size": token, "bias": True})
            placed += 1
    return layers


# --- the forward construction of a drawn variant ------------------------------------


@cache
def _finals(side: int, convs: int, end_pool: bool, kernels: tuple[int, ...], odd_pool: bool) -> frozenset[int]:
    """Every side at which an alternating stack conv, pool, conv, ... with `convs` convs
    (and a pool after the last one if end_pool) can end, starting from `side`."""
    ends: set[int] = set()
    for k in kernels:
        if k > side:
            continue
        after = side - k + 1
        if convs == 1 and not end_pool:
            ends.add(after)
        elif _pool_allowed(after, odd_pool):
            ends |= {after // 2} if convs == 1 else _finals(after // 2, convs - 1, end_pool, kernels, odd_pool)
    return frozenset(ends)


def target_sides(side: int, kernels: tuple[int, ...], odd_pool: bool) -> list[int]:
    """The small sides that some alternating stack of 2-4 convs reaches from `side`:
    each is feasible by construction, and drawing among them uniformly keeps every
    target size equally likely."""
    ends = set().union(*(_finals(side, m, end, kernels, odd_pool) for m in CONSTRUCTION_CONVS for end in (False, True)))
    return sorted(ends & set(TARGET_SIDES))


# --- worked steps and the slips' variants ---------------------------------------------


def layer_rows(input_shape: Shape, layers: list[Layer]) -> list[dict[str, Any]]:
    """One row per layer for the key's table: side in and out, shape, parameters."""
    rows, shape = [], list(input_shape)
    for layer, after in zip(layers, shapes_through(layers, input_shape), strict=True):
        row = {"conv": layer["type"] == "Conv2d", "side_in": shape[1], "side_out": after[1], "shape": after,
               "odd": shape[1] % 2 == 1}
        if row["conv"]:
            k, c_in, c_out = layer["kernel_size"], layer["in_channels"], layer["out_channels"]
            row.update(k=k, c_in=c_in, c_out=c_out, weights=sp.Integer(k * k * c_in * c_out),
                       biases=sp.Integer(c_out), params=sp.Integer(conv_params(c_in, c_out, k)))
        rows.append(row)
        shape = after
    return rows


def field_steps(layers: list[Layer]) -> list[dict[str, Any]]:
    """r <- r + (k-1) j and j <- j s per layer, written out for the key."""
    steps, field, jump = [], 1, 1
    for layer in layers:
        k, stride, _ = geometry(layer)  # the stacks drawn here are never dilated
        steps.append({"k": k, "jump": jump, "before": field, "after": field + (k - 1) * jump})
        field, jump = field + (k - 1) * jump, jump * stride
    return steps


def shapes_with(input_shape: Shape, layers: list[Layer], conv_side: Callable[[int, int], int],
                pool_side: Callable[[int], int]) -> list[Shape]:
    """Shapes through the stack with the side rules replaced (for the slips)."""
    shapes, side = [], input_shape[1]
    for layer in layers:
        if layer["type"] == "Conv2d":
            side, channels = conv_side(side, layer["kernel_size"]), layer["out_channels"]
        else:
            side = pool_side(side)
        shapes.append([channels, side, side])
    return shapes


def field_without_jumps(layers: list[Layer]) -> int:
    return 1 + sum(layer["kernel_size"] - 1 for layer in layers)


def field_of_convs_only(layers: list[Layer]) -> int:
    """The pools' strides are applied but their own 2x2 window is not counted."""
    return receptive_field(layers) - sum(
        step["after"] - step["before"] for step, layer in zip(field_steps(layers), layers, strict=True)
        if layer["type"] == "MaxPool2d")


def _figure(layers: list[Layer], rows: list[dict[str, Any]], per_row: int = 6) -> list[dict[str, Any]]:
    """Boxes of the key's drawing, wrapped into rows of `per_row`."""
    boxes = [{"style": "plain", "kind": "input", "shape": None}]
    for layer, row in zip(layers, rows, strict=True):
        boxes.append({"style": "conv" if row["conv"] else "pool", "kind": "conv" if row["conv"] else "pool",
                      "k": layer["kernel_size"], "shape": row["shape"]})
    for index, box in enumerate(boxes):
        box.update(col=index % per_row, row=index // per_row, wraps=index > 0 and index % per_row == 0)
    return boxes


@register
class ConvArchitecture(Family):
    id = "conv_architecture"
    title = "Design a conv/pool stack for a target shape"
    answer_labels = {
        "layers": "the layers of your network",
        "shapes": "the output shape of every layer",
        "total_params": "the number of learnable parameters of your network",
        "receptive_field": "the receptive field of one output unit",
    }
    # Many networks are right and every answer describes the student's own network, so
    # a person grades them; the key's values are one correct instance.
    tolerances = {"layers": MANUAL, "shapes": MANUAL, "total_params": MANUAL, "receptive_field": MANUAL}
    options = {
        "kernel_sizes": Option(None, "allowed conv kernel sizes (1..11); null draws a usual set",
                               _optional(ints_from(range(1, 12)))),
        "input": Option(None, "input shape [C, N, N] (N 4..256); null draws one", _optional(_square_shape(4, 256))),
        "target": Option(None, "target shape [C, n, n]; null draws one that a stack of 2-4 convs reaches",
                         _optional(_square_shape(1, 256))),
        "odd_pool": Option(True, "may a pool see an odd side (it floors, as torch does)?", boolean),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        kernels = options["kernel_sizes"] or pick(rng, KERNEL_SETS)
        odd_pool, given_input, target = options["odd_pool"], options["input"], options["target"]
        if target is None:
            candidates = [given_input[1]] if given_input else INPUT_SIDES
            sides = [side for side in candidates if target_sides(side, tuple(kernels), odd_pool)]
            if not sides:
                raise InfeasibleError(
                    f"no stack of {CONSTRUCTION_CONVS[0]}-{CONSTRUCTION_CONVS[-1]} convolutions with kernels {kernels} "
                    f"takes side {candidates} to a small map ({TARGET_SIDES.start}-{TARGET_SIDES.stop - 1})",
                    hint="allow smaller kernels or a larger input")
            side = pick(rng, sides)
            input_shape = given_input or [pick(rng, INPUT_CHANNELS), side, side]
            target_side = pick(rng, target_sides(side, tuple(kernels), odd_pool))
            target = [pick(rng, TARGET_CHANNELS), target_side, target_side]
        elif given_input is None:
            # Every usual input side the search can take to the given target.
            sides = [s for s in INPUT_SIDES if s >= target[1] and _solvable([1, s, s], target, kernels, odd_pool)]
            if not sides:
                raise InfeasibleError(f"no input side among {INPUT_SIDES} can be taken to the target {target} "
                                      f"with kernels {kernels}{'' if odd_pool else ' and pools on even sides only'}",
                                      hint="allow other kernel sizes or give the input yourself")
            side = pick(rng, sides)
            input_shape = [pick(rng, INPUT_CHANNELS), side, side]
        else:
            input_shape = given_input
            design(input_shape, target, kernels, odd_pool)  # an impossible pair fails here, not in solve
        return {"input": input_shape, "target": target, "kernel_sizes": kernels, "odd_pool": odd_pool}

    def solve(self, params: dict[str, Any]) -> Solution:
        input_shape, target = params["input"], params["target"]
        layers = design(input_shape, target, params["kernel_sizes"], params["odd_pool"])
        rows = layer_rows(input_shape, layers)
        convs = [row for row in rows if row["conv"]]
        return Solution(
            answers={
                "layers": layers,
                "shapes": [row["shape"] for row in rows],
                "total_params": sp.Integer(total_params(layers)),
                "receptive_field": sp.Integer(receptive_field(layers)),
            },
            work={
                "rows": rows,
                "convs": len(convs),
                "pools": len(rows) - len(convs),
                "odd_pools": sum(1 for row in rows if not row["conv"] and row["odd"]),
                "plan": channel_plan(target[0], len(convs)),
                "field": field_steps(layers),
                "figure": _figure(layers, rows),
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        layers, input_shape = solution.answers["layers"], params["input"]
        convs = [layer for layer in layers if layer["type"] == "Conv2d"]
        sides = [input_shape[1]] + [shape[1] for shape in shapes_through(layers, input_shape)]
        # Rounding up differs from flooring only where a pool sees an odd side.
        odd_pool = any(side % 2 for side, layer in zip(sides, layers, strict=False) if layer["type"] == "MaxPool2d")
        slips = [
            Slip("total_params", "no_bias", "you counted the weights but left out the biases (one per filter)",
                 sp.Integer(sum(c["kernel_size"] ** 2 * c["in_channels"] * c["out_channels"] for c in convs))),
            Slip("total_params", "no_in_channels", "each filter spans all input channels: a k x k filter has "
                 "k*k*C_in weights, not k*k", sp.Integer(sum(conv_params(1, c["out_channels"], c["kernel_size"])
                                                              for c in convs))),
            Slip("shapes", "same_padding", "you kept the side unchanged at a convolution, as with 'same' padding; "
                 "without padding a k x k conv takes n to n-k+1",
                 shapes_with(input_shape, layers, lambda n, k: n, lambda n: n // 2)),
            *([Slip("shapes", "ceil_pool", "you rounded up at a pool on an odd side; max pooling floors "
                    "(the last row and column are dropped)",
                    shapes_with(input_shape, layers, lambda n, k: n - k + 1, lambda n: (n + 1) // 2))]
              if odd_pool else []),
            Slip("receptive_field", "no_jump", "you added k-1 per layer without multiplying by the product of "
                 "the strides before it; after a pool one step is two input pixels",
                 sp.Integer(field_without_jumps(layers))),
            Slip("receptive_field", "pools_ignored", "you applied the pools' stride but forgot that each 2x2 pool "
                 "also widens the field", sp.Integer(field_of_convs_only(layers))),
        ]
        # 1x1 kernels or a single input channel can make a mistake give the answer itself: no slip then
        answers = solution.answers
        return [s for s in slips if s.answer not in answers or to_json(s.value) != to_json(answers[s.answer])]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        # the options' own validators: a pinned shape or kernel set obeys what a bank may set
        problems = []
        for name in ("input", "target", "kernel_sizes"):
            try:
                self.options[name].validate(params[name])
            except (TypeError, ValueError) as exc:
                problems.append(f"{name}: {exc}")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        a, input_shape = solution.answers, params["input"]
        layers, problems = a["layers"], self.check_params(params)
        if not layers or layers[0]["type"] != "Conv2d":
            problems.append("the stack does not begin with a convolution")
        for before, layer in zip(layers, layers[1:], strict=False):
            if before["type"] == layer["type"] == "MaxPool2d":
                problems.append("two pools follow each other")
        convs = [layer for layer in layers if layer["type"] == "Conv2d"]
        if any(layer.get("stride", 1) != 1 or layer.get("padding", 0) != 0 for layer in convs):
            problems.append("a convolution has a stride other than 1 or padding")
        if any(layer.get("kernel_size") != 2 or layer.get("stride") != 2 for layer in layers
               if layer["type"] == "MaxPool2d"):
            problems.append("a pool is not 2x2 with stride 2")
        kernels = {layer["kernel_size"] for layer in convs}
        if not kernels <= set(params["kernel_sizes"]):
            problems.append(f"kernels {sorted(kernels)} are not all allowed")
        sides = [input_shape[1]] + [shape[1] for shape in a["shapes"]]
        if not params["odd_pool"] and any(sides[i] % 2 for i, layer in enumerate(layers)
                                          if layer["type"] == "MaxPool2d"):
            problems.append("a pool sees an odd side")
        if a["shapes"] != shapes_through(layers, input_shape) or a["shapes"][-1] != params["target"]:
            problems.append("the shapes do not run from the input to the target")
        if min(sides) < 1:
            problems.append("a layer produced an empty map")
        channels = [input_shape[0]] + [shape[0] for shape in a["shapes"]]
        if any(layer["in_channels"] != channels[i] for i, layer in enumerate(layers) if layer["type"] == "Conv2d"):
            problems.append("a convolution's input channels do not match the maps it receives")
        if a["total_params"] != total_params(layers) or a["receptive_field"] > input_shape[1]:
            problems.append("parameter count or receptive field out of line")
        return problems

    # --- grading a student's own network by the rules (gen grade) -----------------------

    def check_design(self, layers: list[Layer], params: dict[str, Any]) -> list[str]:
        """The rules of the statement that a network (the contract's layers) breaks, in
        plain words, naming the layers (counted from 1); empty for a valid design."""
        return design_problems(layers, params)

    def grade_answer(self, name: str, given: dict[str, Any], params: dict[str, Any]) -> Verdict | None:
        """Any network that follows the rules is right, so the design is checked by the
        rules, not against the key's; the shapes, parameters and receptive field are
        checked against the network the student gave. None (a person grades it) when
        the design is not written in the notation (generator.designs)."""
        written = given.get("layers")
        if not isinstance(written, str) or not written.strip():
            return None
        try:
            layers = parse_design(written, params["input"][0])
        except ValueError:
            return None
        if name == "layers":
            broken = self.check_design(layers, params)
            return Verdict(correct=not broken, reason="; ".join(broken))
        value = given.get(name)
        if value is None:
            return None
        try:
            own = {"shapes": lambda: shapes_through(layers, params["input"]),
                   "total_params": lambda: total_params(layers),
                   "receptive_field": lambda: receptive_field(layers)}[name]()
        except (KeyError, ValueError):
            return None  # an answer this function does not know, or a rectangular kernel
        if name == "shapes" and min(side for shape in own for side in shape[1:]) < 1:
            return None  # the network does not fit its input: no shapes to compare with
        if value == own:
            return Verdict(correct=True, expected=own)
        slips = self.slips(params, Solution(answers={"layers": layers}))
        slip = next((s for s in slips if s.answer == name and to_json(s.value) == value), None)
        if slip:
            return Verdict(correct=False, expected=own, slip=slip.name, says=slip.says)
        return Verdict(correct=False, expected=own, reason=f"for the network you gave it is {_shown(own)}")


def _shown(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return ", ".join("x".join(map(str, shape)) for shape in value)
    return str(value)


def design_problems(layers: list[Layer], params: dict[str, Any]) -> list[str]:
    """conv_architecture's rules: a convolution first; square kernels from the allowed
    set, stride 1, no padding; 2x2 max pools with stride 2, never two in a row (and on
    even sides only where the problem says so); every layer fits the map it receives;
    the last layer gives the target shape."""
    broken: list[str] = []
    allowed = params["kernel_sizes"]
    if layers[0]["type"] != "Conv2d":
        broken.append("the first layer must be a convolution")
    for i, layer in enumerate(layers, 1):
        k = layer["kernel_size"]
        if layer["type"] == "Conv2d":
            if not isinstance(k, int):
                broken.append(f"layer {i}: kernels are square (k x k), not {'x'.join(map(str, k))}")
            elif k not in allowed:
                broken.append(f"layer {i}: a {k}x{k} convolution, but the kernels allowed are "
                              f"{', '.join(map(str, allowed))}")
            if layer.get("stride", 1) != 1:
                broken.append(f"layer {i}: a convolution with stride {layer['stride']}; convolutions have stride 1")
            if layer.get("padding", 0):
                broken.append(f"layer {i}: a convolution with padding {layer['padding']}; convolutions have no "
                              "padding")
            if layer["out_channels"] < 1:
                broken.append(f"layer {i}: a convolution needs at least one filter")
        else:
            if layer["type"] != "MaxPool2d":
                broken.append(f"layer {i}: an average pool; pools are max pools")
            if k != 2 or layer.get("stride", 2) != 2:
                size = "x".join(map(str, k)) if isinstance(k, list) else f"{k}x{k}"
                broken.append(f"layer {i}: a {size} pool with stride {layer.get('stride', k)}; pools are 2x2 with "
                              "stride 2")
    for i, (before, layer) in enumerate(zip(layers, layers[1:], strict=False), 1):
        if before["type"] != "Conv2d" and layer["type"] != "Conv2d":
            broken.append(f"layers {i} and {i + 1} are two pools in a row; a pool must follow a convolution")
    if broken:
        return broken  # sizes only mean something for layers that follow the rules
    shape = list(params["input"])
    for i, layer in enumerate(layers, 1):
        side = shape[1]
        if layer["type"] == "Conv2d" and layer["kernel_size"] > side:
            return [f"layer {i}: a {layer['kernel_size']}x{layer['kernel_size']} convolution does not fit the "
                    f"{side}x{side} map it receives"]
        if layer["type"] != "Conv2d" and side < 2:
            return [f"layer {i}: a 2x2 pool does not fit the {side}x{side} map it receives"]
        if layer["type"] != "Conv2d" and side % 2 and not params["odd_pool"]:
            return [f"layer {i}: the pool receives an odd side ({side}); here a pool must receive an even side"]
        shape = shapes_through([layer], shape)[0]
    target = params["target"]
    if shape[1:] != list(target[1:]):
        return [f"the shape {_shown([shape])} misses the target {_shown([target])}"]
    if shape[0] != target[0]:
        return [f"the last convolution gives {shape[0]} channels, the target has {target[0]} (the shape "
                f"{_shown([shape])} misses the target {_shown([target])})"]
    return []


def _solvable(input_shape: Shape, target: Shape, kernels: list[int], odd_pool: bool) -> bool:
    try:
        design(input_shape, target, kernels, odd_pool)
    except InfeasibleError:
        return False
    return True
