"""Forward and backward pass through a small scalar computational graph (3 to 5 operation
nodes on three inputs), as torch.autograd does it: every node's value, every node's
gradient dout/dnode (upstream times local gradient, summed over the node's consumers),
and the gradient of the output with respect to every input.

The graphs come from a handful of shapes, each with fan-out (an input or a node used
twice), so that gradients add along two paths; the operations in some places of a shape
and the input values are drawn. By default the operations are rational (add, sub, mul,
div, square, relu, max, neg) and every value is an exact short decimal: inputs are
multiples of 0.5 and divisors powers of 2 and 5. The `smooth` option puts exp, log or
sigmoid in the graph; those values are computed to 50 digits (generator.rounding) and
rounded to four decimals, and every variant is checked to be graded right for a student
who rounds each value to four decimals, as the statement tells them to."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain, rounding
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, boolean, register, strs_from
from ..tolerance import Tolerance

Values = dict[str, Any]
Node = dict[str, Any]


def _common(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Exact arguments stay exact; once one is a 50-digit value, all are."""
    if all(isinstance(a, sp.Rational) for a in args):
        return args
    return tuple(rounding.real(a) for a in args)


@dataclass(frozen=True)
class Op:
    """An operation: its value and its local gradient with respect to argument i (given
    the arguments and the node's own value, which exp and sigmoid reuse)."""

    arity: int
    value: Callable[..., Any]
    local: Callable[[int, tuple[Any, ...], Any], Any]


def _relu(a: Any) -> Any:
    return a if a > 0 else sp.Integer(0)


def _max(a: Any, b: Any) -> Any:
    return a if a > b else b


def _log(a: Any) -> Any:
    if a <= 0:  # a pinned or candidate graph: refused by name, never a complex logarithm
        raise ArithmeticError("log of a number that is not positive")
    return rounding.log(a)


ONE, ZERO = sp.Integer(1), sp.Integer(0)
OPS: dict[str, Op] = {
    "add": Op(2, lambda a, b: a + b, lambda i, args, out: ONE),
    "sub": Op(2, lambda a, b: a - b, lambda i, args, out: ONE if i == 0 else -ONE),
    "mul": Op(2, lambda a, b: a * b, lambda i, args, out: args[1 - i]),
    "div": Op(2, lambda a, b: a / b, lambda i, args, out: 1 / args[1] if i == 0 else -args[0] / args[1] ** 2),
    "square": Op(1, lambda a: a**2, lambda i, args, out: 2 * args[0]),
    "relu": Op(1, _relu, lambda i, args, out: ONE if args[0] > 0 else ZERO),
    "max": Op(2, _max, lambda i, args, out: ONE if args[i] > args[1 - i] else ZERO),
    "neg": Op(1, lambda a: -a, lambda i, args, out: -ONE),
    "exp": Op(1, rounding.exp, lambda i, args, out: out),
    "log": Op(1, _log, lambda i, args, out: 1 / args[0]),
    "sigmoid": Op(1, rounding.sigmoid, lambda i, args, out: out * (1 - out)),
}
RATIONAL_OPS = ("add", "sub", "mul", "div", "square", "relu", "max", "neg")
SMOOTH_OPS = ("exp", "log", "sigmoid")

# A shape: (node, operations drawn from by default, operations with `smooth` or None to
# keep the default ones, arguments); the last node is the output f. Inputs are x, y, z.
Shape = list[tuple[str, tuple[str, ...], tuple[str, ...] | None, tuple[str, ...]]]
SHAPES: dict[str, Shape] = {
    # f = (x y + z) relu(x - y): x and y feed two paths each
    "gated_product": [("p", ("mul",), None, ("x", "y")), ("q", ("add", "sub"), None, ("p", "z")),
                      ("r", ("sub",), None, ("x", "y")), ("s", ("relu",), SMOOTH_OPS, ("r",)),
                      ("f", ("mul",), None, ("q", "s"))],
    # f = max(x y, y + z) u(y): the max routes the gradient to one branch; y is used three times
    "max_branch": [("p", ("mul",), None, ("x", "y")), ("q", ("add", "sub"), None, ("y", "z")),
                   ("r", ("max",), None, ("p", "q")), ("s", ("square", "neg"), SMOOTH_OPS, ("y",)),
                   ("f", ("mul",), None, ("r", "s"))],
    # f = (x z + y) / z (op) u(x): z in the numerator and the denominator
    "quotient": [("p", ("mul",), None, ("x", "z")), ("q", ("add", "sub"), None, ("p", "y")),
                 ("r", ("div",), None, ("q", "z")), ("s", ("square", "neg"), SMOOTH_OPS, ("x",)),
                 ("f", ("add", "sub", "mul"), None, ("r", "s"))],
    # f = relu(x - y) z (op) (x - y): the node p itself is used twice
    "shared_node": [("p", ("add", "sub"), None, ("x", "y")), ("q", ("relu",), SMOOTH_OPS, ("p",)),
                    ("r", ("mul",), None, ("q", "z")), ("f", ("add", "mul"), None, ("r", "p"))],
    # f = (x - y)^2 (op) y z: y on both sides
    "square_diff": [("p", ("sub", "add"), None, ("x", "y")), ("q", ("square",), SMOOTH_OPS, ("p",)),
                    ("r", ("mul",), None, ("y", "z")), ("f", ("add", "sub", "mul"), None, ("q", "r"))],
    # f = max(x y, -x) + u(y z): x reaches the max along two branches
    "neg_max": [("p", ("mul",), None, ("x", "y")), ("q", ("neg",), None, ("x",)),
                ("r", ("max",), None, ("p", "q")), ("s", ("mul",), None, ("y", "z")),
                ("t", ("relu", "square"), SMOOTH_OPS, ("s",)), ("f", ("add", "sub"), None, ("r", "t"))],
}
INPUTS = ("x", "y", "z")
# Inputs are multiples of 0.5 up to 3; a divisor is a power of 2 and 5, so quotients end.
VALUES = [sp.Rational(k, 2) for k in range(-6, 7) if k]
DIVISORS = [sp.Rational(v) for v in ("-2.5", "-2", "-1", "-0.5", "0.5", "1", "2", "2.5")]
LARGEST = 60  # no value or gradient larger than this: the arithmetic stays mental
EXP_RANGE = 2  # exp of at most e^2 (about 7.39); log of values in (0, LOG_TOP]
LOG_TOP = 10
SIGMOID_RANGE = 4  # beyond, sigmoid' < 0.02 and the gate hides its own slip
PLACES = 4  # decimals of rounded values (smooth)
# As rnn_forward: one tolerance for every answer, wide enough for a student who rounds
# every intermediate value to four decimals (checked per variant); exact answers are
# multiples of 0.0001 and every slip is more than SEPARATION away.
TOLERANCE = Tolerance("abs", Fraction(1, 1000))
SEPARATION = sp.Rational(3, 1000)
TRIES = 200
NAMES = {"p", "q", "r", "s", "t", "f"}

Keep = Callable[[Any], Any]


def _exact(value: Any) -> Any:
    return value


def _four_decimals(value: Any) -> sp.Rational:
    return rounding.rounded(value, PLACES)


def forward(inputs: Values, nodes: list[Node], keep: Keep = _exact) -> Values:
    """The value of every input and node; `keep` is applied to every value written down."""
    values = dict(inputs)
    for node in nodes:
        args = _common(tuple(values[a] for a in node["args"]))
        values[node["name"]] = keep(OPS[node["op"]].value(*args))
    return values


Local = Callable[[str, int, tuple[Any, ...], Any], Any]


def _local(op: str, i: int, args: tuple[Any, ...], out: Any) -> Any:
    return OPS[op].local(i, args, out)


def backward(values: Values, nodes: list[Node], keep: Keep = _exact, local: Local = _local,
             accumulate: bool = True, chain: bool = True) -> tuple[Values, list[dict[str, Any]]]:
    """Reverse-mode differentiation: the gradient of the output with respect to every
    input and node, and per node the edges it sends back (upstream x local = product).
    Two slips: `accumulate=False` overwrites a gradient instead of adding to it, and
    `chain=False` sends the local gradient back without multiplying by the upstream one."""
    output = nodes[-1]["name"]
    grads: Values = {output: ONE}
    rows = []
    for node in reversed(nodes):
        upstream = grads[node["name"]]
        args = _common(tuple(values[a] for a in node["args"]))
        edges = []
        for i, arg in enumerate(node["args"]):
            slope = keep(local(node["op"], i, args, values[node["name"]]))
            product = keep(upstream * slope) if chain else slope
            grads[arg] = keep(grads[arg] + product) if accumulate and arg in grads else product
            edges.append({"arg": arg, "index": i, "local": slope, "product": product})
        rows.append({"name": node["name"], "upstream": upstream, "edges": edges})
    return grads, rows


def _run(params: dict[str, Any], keep: Keep = _exact, local: Local = _local,
         accumulate: bool = True, chain: bool = True) -> dict[str, Any]:
    inputs, nodes = params["inputs"], params["nodes"]
    values = forward(inputs, nodes, keep)
    grads, rows = backward(values, nodes, keep, local, accumulate, chain)
    names = [n["name"] for n in nodes]
    return {
        "value": values[names[-1]],
        "node_values": {n: values[n] for n in names},
        "node_grads": {n: grads[n] for n in names},
        "grads": {x: grads.get(x, ZERO) for x in inputs},
        "values": values, "rows": rows,
    }


ANSWERS = ("value", "node_values", "node_grads", "grads")


def _each(value: Any, keep: Keep) -> Any:
    if isinstance(value, dict):
        return {k: _each(v, keep) for k, v in value.items()}
    return keep(value)


def _entries(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _apart(slip: Any, answer: Any) -> bool:
    return any(abs(s - a) > SEPARATION for s, a in zip(_entries(slip), _entries(answer), strict=True))


def _within(given: Any, answer: Any) -> bool:
    return all(abs(g - a) <= TOLERANCE.value for g, a in zip(_entries(given), _entries(answer), strict=True))


def _slipped(op: str, wrong: Callable[[int, tuple[Any, ...], Any], Any]) -> Local:
    """The local gradient with `op`'s rule replaced by `wrong`."""
    def local(name: str, i: int, args: tuple[Any, ...], out: Any) -> Any:
        return wrong(i, args, out) if name == op else OPS[name].local(i, args, out)
    return local


# (slip name, the op it needs in the graph, feedback, the wrong local gradient)
LOCAL_SLIPS: list[tuple[str, str, str, Callable[[int, tuple[Any, ...], Any], Any]]] = [
    ("relu_gate", "relu", "the ReLU passes the gradient where its input is positive and blocks it where "
     "it is negative; you did the opposite", lambda i, args, out: ZERO if args[0] > 0 else ONE),
    ("max_branch", "max", "max passes the whole gradient to the larger argument only; you sent it to the "
     "smaller one", lambda i, args, out: ZERO if args[i] > args[1 - i] else ONE),
    ("mul_own_factor", "mul", "d(a b)/da is the other factor b; you multiplied by a itself",
     lambda i, args, out: args[i]),
    ("quotient_sign", "div", "d(a/b)/db = -a/b^2; you dropped the minus sign",
     lambda i, args, out: 1 / args[1] if i == 0 else args[0] / args[1] ** 2),
    ("sub_sign", "sub", "d(a - b)/db = -1; you passed the gradient to b unchanged",
     lambda i, args, out: ONE),
    ("square_factor", "square", "d(a^2)/da = 2a; you dropped the factor 2", lambda i, args, out: args[0]),
    ("sigmoid_derivative", "sigmoid", "sigmoid'(a) = sigmoid(a)(1 - sigmoid(a)); you used sigmoid(a) itself",
     lambda i, args, out: out),
]


@register
class ComputationalGraph(Family):
    id = "computational_graph"
    title = "Forward and backward pass through a scalar computational graph"
    answer_labels = {
        "value": "the output value f",
        "node_values": "the value of every node",
        "node_grads": "the gradient of f with respect to every node",
        "grads": "the gradient of f with respect to every input",
    }
    options = {
        "shapes": Option(list(SHAPES), "graph shapes to draw from: " + ", ".join(SHAPES), strs_from(tuple(SHAPES))),
        "smooth": Option(False, "put exp, log or sigmoid in the graph (values rounded to four decimals)", boolean),
    }

    def tolerance(self, answer: str, value: Any) -> Tolerance:
        return TOLERANCE

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        """Whole variants, kept when `check` passes (no ties at relu and max, positive log
        arguments, gradients that add along two paths, every slip gradable...)."""
        shape_name = pick(rng, options["shapes"])
        for _ in range(TRIES):
            params = self._candidate(rng, SHAPES[shape_name], options["smooth"])
            try:
                if not self.check(params, self.solve(params)):
                    return params
            except ArithmeticError:  # log of a negative value: not a candidate
                continue
        raise InfeasibleError(f"no well-posed graph of shape {shape_name} in {TRIES} draws")

    @staticmethod
    def _candidate(rng: np.random.Generator, shape: Shape, smooth: bool) -> dict[str, Any]:
        nodes = [{"name": name, "op": pick(rng, smooth_ops if smooth and smooth_ops else ops), "args": list(args)}
                 for name, ops, smooth_ops, args in shape]
        divisors = {n["args"][1] for n in nodes if n["op"] == "div"}
        inputs = {x: pick(rng, DIVISORS if x in divisors else VALUES) for x in INPUTS}
        return {"inputs": inputs, "nodes": nodes}

    def solve(self, params: dict[str, Any]) -> Solution:
        run = _run(params)
        smooth = any(n["op"] in SMOOTH_OPS for n in params["nodes"])
        shown = _four_decimals if smooth else _exact
        answers = {name: _each(run[name], shown) for name in ANSWERS}
        return Solution(answers=answers, work=_work(params, run, shown, smooth))

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        """The mistakes, each offered where it changes the answer."""
        smooth = any(n["op"] in SMOOTH_OPS for n in params["nodes"])
        shown = _four_decimals if smooth else _exact
        ops = {n["op"] for n in params["nodes"]}
        candidates = [("no_sum", "a variable used twice gets the sum of the gradients along both paths; you kept "
                       "only one of them", _run(params, accumulate=False)),
                      ("no_chain", "each node passes back its gradient times the local gradient; you passed the local "
                       "gradient alone", _run(params, chain=False))]
        candidates += [(name, says, _run(params, local=_slipped(op, wrong)))
                       for name, op, says, wrong in LOCAL_SLIPS if op in ops]
        slips = []
        for name, says, run in candidates:
            for answer in ("node_grads", "grads"):
                value = _each(run[answer], shown)
                if value != solution.answers[answer]:
                    slips.append(Slip(answer, name, says, value))
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        inputs, nodes = params["inputs"], params["nodes"]
        if not isinstance(inputs, dict) or set(inputs) != set(INPUTS):
            return [f"inputs must give a value to each of {', '.join(INPUTS)}"]
        problems: list[str] = []
        for name, value in inputs.items():
            problems += domain.decimal(f"inputs[{name}]", value, -3, 3, 1)
        if not isinstance(nodes, list) or not 3 <= len(nodes) <= 6:
            return [*problems, "nodes must be a list of 3 to 6 operations"]
        known = set(INPUTS)
        for index, node in enumerate(nodes, 1):
            problems += _node_problems(index, node, known)
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                known.add(node["name"])
        if problems:
            return problems
        depth = dict.fromkeys(INPUTS, 0)
        for node in nodes:
            depth[node["name"]] = 1 + max(depth[a] for a in node["args"])
        if max(depth.values()) > DEEPEST:
            problems.append(f"nodes must be at most {DEEPEST} levels deep, so that the figure fits the page")
        used = {a for n in nodes for a in n["args"]}
        problems += [f"node {n['name']} is computed but never used" for n in nodes[:-1] if n["name"] not in used]
        problems += [f"input {x} is not used by any node" for x in INPUTS if x not in used]
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        run = _run(params)
        problems = _domain_problems(params, run["values"])
        answers = solution.answers
        sizes = [*_entries(answers["node_values"]), *_entries(answers["node_grads"]), *_entries(answers["grads"])]
        if max(abs(v) for v in sizes) > LARGEST:
            problems.append(f"a value or gradient exceeds {LARGEST} in size")
        if all(v == 0 for v in _entries(answers["grads"])):
            problems.append("every input gradient is zero")
        if problems:  # the cheap tests first: `draw` rejects most candidates here
            return problems
        if not _two_paths(run):
            problems.append("no variable gets a nonzero gradient along each of two paths")
        offered = {(s.answer, s.name): s for s in self.slips(params, solution)}
        ops = {n["op"] for n in params["nodes"]}
        # the rules the graph is about show in the input gradients, so each such mistake costs
        # marks (a subtraction may sit on the branch a max or ReLU blocks: that is fine)
        problems += [f"the slip {name} leaves the input gradients unchanged"
                     for name, op, _, _ in [("no_sum", "", "", None), *LOCAL_SLIPS]
                     if (not op or op in ops) and op not in ("sub", "mul") and ("grads", name) not in offered]
        problems += [f"{slip.answer}: the slip {slip.name} is within the tolerance of the answer"
                     for slip in offered.values() if not _apart(slip.value, answers[slip.answer])]
        if any(n["op"] in SMOOTH_OPS for n in params["nodes"]):
            rounded_run = _run(params, keep=_four_decimals)
            problems += [f"{name}: intermediate values rounded to four decimals give an answer outside the tolerance"
                         for name in ANSWERS if not _within(rounded_run[name], answers[name])]
        return problems


def _two_paths(run: dict[str, Any]) -> bool:
    """Some variable receives a nonzero gradient from each of two nodes that use it."""
    received: dict[str, list[Any]] = {}
    for row in run["rows"]:
        for edge in row["edges"]:
            received.setdefault(edge["arg"], []).append(edge["product"])
    return any(sum(p != 0 for p in products) >= 2 for products in received.values())


def _node_problems(index: int, node: Any, known: set[str]) -> list[str]:
    where = f"nodes[{index}]"
    if not isinstance(node, dict) or set(node) != {"name", "op", "args"}:
        return [f"{where} must have exactly a name, an op and args"]
    name, op, args = node["name"], node["op"], node["args"]
    if not isinstance(name, str) or name not in NAMES or name in known:
        return [f"{where}: name must be a new one of {', '.join(sorted(NAMES))}, got {domain.shown(name)}"]
    if not isinstance(op, str) or op not in OPS:
        return [f"{where}: op must be one of {', '.join(OPS)}, got {domain.shown(op)}"]
    if not isinstance(args, list) or len(args) != OPS[op].arity:
        return [f"{where}: {op} takes {OPS[op].arity} argument(s)"]
    unknown = [a for a in args if a not in known]
    if unknown:
        return [f"{where}: args must name inputs or earlier nodes, got {', '.join(map(domain.shown, unknown))}"]
    if len(set(args)) < len(args):
        return [f"{where}: the two args must differ"]
    return []


def _domain_problems(params: dict[str, Any], values: Values) -> list[str]:
    """Where an operation has no value or no derivative, or a value beyond hand size."""
    problems = []
    for node in params["nodes"]:
        args = [values[a] for a in node["args"]]
        op, name = node["op"], node["name"]
        if op == "relu" and args[0] == 0:
            problems.append(f"{name}: relu of exactly 0 has no derivative")
        if op == "max" and args[0] == args[1]:
            problems.append(f"{name}: max of two equal values has no derivative")
        if op == "div" and args[1] not in DIVISORS:
            problems.append(f"{name}: the divisor must be one of {', '.join(map(str, DIVISORS))}")
        if op == "exp" and abs(args[0]) > EXP_RANGE:
            problems.append(f"{name}: exp of a value beyond {EXP_RANGE} in size")
        if op == "log" and not 0 < args[0] <= LOG_TOP:
            problems.append(f"{name}: log needs an argument in (0, {LOG_TOP}]")
        if op == "sigmoid" and abs(args[0]) > SIGMOID_RANGE:
            problems.append(f"{name}: sigmoid of a value beyond {SIGMOID_RANGE} in size")
    return problems


def _work(params: dict[str, Any], run: dict[str, Any], shown: Keep, smooth: bool) -> dict[str, Any]:
    """The key's steps: each node's value from its arguments' values, and each variable's
    gradient as the sum over its consumers c of (gradient of c) x (local gradient)."""
    nodes, values = params["nodes"], run["values"]

    def rounded(*numbers: Any) -> bool:  # a line shows = when all its values are exact, else ≈
        return any(not isinstance(v, sp.Rational) or shown(v) != v for v in numbers)

    forward_rows = [{**node, "argv": [shown(values[a]) for a in node["args"]], "value": shown(values[node["name"]]),
                     "approx": rounded(values[node["name"]])} for node in nodes]
    edges: dict[str, list[dict[str, Any]]] = {}
    for row in reversed(run["rows"]):  # evaluation order: a sum lists its consumers as the graph does
        node = next(n for n in nodes if n["name"] == row["name"])
        for edge in row["edges"]:
            edges.setdefault(edge["arg"], []).append({
                "node": node, "index": edge["index"], "upstream": shown(row["upstream"]),
                "local": shown(edge["local"]), "product": shown(edge["product"]),
                "args": node["args"], "other": node["args"][1 - edge["index"]] if len(node["args"]) == 2 else None,
                "approx": rounded(row["upstream"], edge["local"], edge["product"]),
            })
    grads = {**run["node_grads"], **run["grads"]}

    def adjoint(name: str) -> dict[str, Any]:
        terms = edges[name]
        return {"name": name, "terms": terms, "total": shown(grads[name]),
                "approx": rounded(grads[name]) or any(t["approx"] for t in terms)}

    return {
        "smooth": smooth,
        "inputs": [{"name": x, "value": v} for x, v in params["inputs"].items()],
        "forward": forward_rows,
        "output": nodes[-1]["name"],
        "node_adjoints": [adjoint(n["name"]) for n in reversed(nodes[:-1])],
        "input_adjoints": [adjoint(x) for x in params["inputs"]],
        "ops": sorted({n["op"] for n in nodes}),
        "figure": figure(list(params["inputs"]), nodes),
    }


# The figure, in picture-mode units of 0.5 mm: boxes BOX_W x BOX_H in columns COLUMN apart
# (inputs first, then each node one column right of its deepest argument) and rows ROW apart.
BOX_W, BOX_H, COLUMN, ROW = 46, 14, 64, 22
DEEPEST = 4  # levels of nodes: five columns of boxes fill the text width
CROSSES_BOX, CROSSES_EDGE = 100, 3


def figure(inputs: list[str], nodes: list[Node]) -> dict[str, Any]:
    """Boxes and arrows of the graph: positions from `_placement`, which depends on the
    graph's structure only (so it is computed once per structure)."""
    structure = tuple((n["name"], tuple(n["args"])) for n in nodes)
    column, row = _placement(tuple(inputs), structure)
    rows = max(row.values()) + 1

    def corner(name: str) -> tuple[int, int]:
        return COLUMN * column[name], -ROW * row[name] - BOX_H

    boxes = [{"name": x, "kind": "input", "x": corner(x)[0], "y": corner(x)[1]} for x in inputs]
    boxes += [{"name": n["name"], "kind": "output" if n is nodes[-1] else "node", "node": n,
               "x": corner(n["name"])[0], "y": corner(n["name"])[1]} for n in nodes]
    arrows = []
    for n in nodes:
        x2, y2 = corner(n["name"])
        # two arguments enter a little above and below the middle of the box's left side,
        # the one coming from higher up above, so that the two arrows do not cross
        higher = max(n["args"], key=lambda a: (corner(a)[1], -n["args"].index(a)))
        for arg in n["args"]:
            x1, y1 = corner(arg)
            offset = 0 if len(n["args"]) == 1 else (3 if arg == higher else -3)
            arrows.append({"x1": x1 + BOX_W, "y1": y1 + BOX_H // 2, "x2": x2, "y2": y2 + BOX_H // 2 + offset})
    return {"boxes": boxes, "arrows": arrows, "width": COLUMN * max(column.values()) + BOX_W,
            "height": ROW * (rows - 1) + BOX_H, "w": BOX_W, "h": BOX_H}


@functools.cache
def _placement(inputs: tuple[str, ...], structure: tuple[tuple[str, tuple[str, ...]], ...]
               ) -> tuple[dict[str, int], dict[str, int]]:
    """Column and row of every input and node: columns by depth, and among the rows of a
    grid as tall as the fullest column, the assignment whose straight arrows pass through
    no box and cross each other least (every assignment is tried: graphs are small)."""
    column = dict.fromkeys(inputs, 0)
    for name, args in structure:
        column[name] = 1 + max(column[a] for a in args)
    columns = [[v for v in column if column[v] == c] for c in range(max(column.values()) + 1)]
    height = max(len(c) for c in columns)
    edges = [(a, name) for name, args in structure for a in args]
    choices = [list(itertools.permutations(range(height), len(c))) for c in columns]
    best, best_cost = None, None
    for rows in itertools.product(*choices):
        row = {v: r for c, rs in zip(columns, rows, strict=True) for v, r in zip(c, rs, strict=True)}
        cost = _layout_cost(column, row, edges)
        if best_cost is None or cost < best_cost:
            best, best_cost = row, cost
    assert best is not None
    return column, best


def _layout_cost(column: dict[str, int], row: dict[str, int], edges: list[tuple[str, str]]) -> float:
    def height_at(edge: tuple[str, str], c: float) -> float:
        a, b = edge
        share = (c - column[a]) / (column[b] - column[a])
        return row[a] + share * (row[b] - row[a])

    cost = sum(abs(row[a] - row[b]) * 0.1 for a, b in edges)
    for edge in edges:
        a, b = edge
        for c in range(column[a] + 1, column[b]):  # a long arrow must pass between the boxes
            cost += sum(CROSSES_BOX for v in column if column[v] == c and abs(height_at(edge, c) - row[v]) < 0.8)
    for i, e in enumerate(edges):
        for f in edges[i + 1:]:
            low, high = max(column[e[0]], column[f[0]]), min(column[e[1]], column[f[1]])
            if low < high and len({*e, *f}) == 4:
                before = height_at(e, low) - height_at(f, low)
                after = height_at(e, high) - height_at(f, high)
                cost += CROSSES_EDGE * (before * after < 0)
    return cost
