"""Forward and backward pass of max or average pooling on one small channel, as
torch.nn.MaxPool2d / AvgPool2d compute them (no padding). Max pooling sends each
output gradient to the arg-max of its window; average pooling spreads it evenly over
the k^2 inputs. Where windows overlap (stride < kernel, only when the bank allows it)
an input collects the sum of the shares of every window it belongs to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, boolean, int_in, ints_from, one_of, register
from ..linalg import Matrix, scaled

Cell = tuple[int, int]
# A routing rule: given one window's cells (row-major) and values, the cells that receive
# a share of the window's output gradient and the fraction each receives.
Route = Callable[[list[Cell], list[sp.Rational]], list[tuple[Cell, sp.Rational]]]

OUTPUT_SIDES = (2, 3)  # 2x2 or 3x3 outputs: 4 or 9 windows, enough to see the pattern
GRAD_LIMIT = 5  # upstream gradients are nonzero integers in [-5, 5]
# TikZ colours of the windows, in the order of the output positions.
COLOURS = ["red", "blue", "green!50!black", "orange", "violet", "cyan!70!black", "magenta", "brown", "teal"]


@register
class PoolBackprop(Family):
    id = "pool_backprop"
    title = "Forward and backward pass through a pooling layer"
    answer_labels = {"Y": "the output Y of the pooling layer", "grad_input": "the gradient dL/dX"}
    options = {
        "mode": Option("any", "pooling type: max, avg, or any (drawn)", one_of("max", "avg", "any")),
        "kernel_sizes": Option([2, 3], "window sides k to draw from", ints_from([2, 3, 4])),
        "overlap": Option(False, "windows overlap (stride < kernel); otherwise stride = kernel", boolean),
        "max_input": Option(6, "largest side of the input matrix", int_in(3, 9)),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        k, s, m = pick(rng, _geometries(options))
        n = (m - 1) * s + k
        mode = pick(rng, ["max", "avg"]) if options["mode"] == "any" else options["mode"]
        # Distinct entries everywhere, so no window of any geometry has a tied maximum.
        entries = rng.permutation(np.arange(-n * n, n * n))[: n * n]
        grads = [int(g) for g in rng.integers(1, GRAD_LIMIT + 1, m * m) * rng.choice([-1, 1], m * m)]
        x = [[int(entries[i * n + j]) for j in range(n)] for i in range(n)]
        if mode == "max":
            grads = _no_cancelling(grads, x, k, s, m)
        return {
            "X": [[sp.Integer(v) for v in row] for row in x],
            "mode": mode,
            "kernel_size": sp.Integer(k),
            "stride": sp.Integer(s),
            "grad_output": [[sp.Integer(grads[r * m + c]) for c in range(m)] for r in range(m)],
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        x, k, s, grad = params["X"], int(params["kernel_size"]), int(params["stride"]), params["grad_output"]
        m = len(grad)
        windows = []
        for r in range(m):
            for c in range(m):
                cells = _window(r, c, k, s)
                values = [x[i][j] for i, j in cells]
                peak = cells[values.index(max(values))]
                # Overlapping windows alternate their inset (checkerboard) so shared edges stay apart.
                inset = sp.Rational(3 + 4 * ((r + c) % 2 if s < k else 0), 50)
                windows.append({
                    "r": r, "c": c, "top": r * s, "left": c * s, "bottom": r * s + k - 1, "right": c * s + k - 1,
                    "colour": COLOURS[(r * m + c) % len(COLOURS)], "inset": inset, "radius": sp.Rational(2, 5) - inset,
                    "values": values, "sum": sum(values),
                    "max": max(values), "max_row": peak[0], "max_col": peak[1],
                    "y": _pool_value(params["mode"], values), "g": grad[r][c],
                    "share": grad[r][c] if params["mode"] == "max" else grad[r][c] / (k * k),
                })
        y = [[windows[r * m + c]["y"] for c in range(m)] for r in range(m)]
        grad_input = _backward(params, ROUTES[params["mode"]])
        # Averages share the factor 1/k^2: the key pulls it out of a matrix with fractions, whose
        # rows would otherwise be set so close that the fractions touch.
        factor = sp.Integer(k * k)

        def factored(matrix: Matrix) -> Matrix | None:
            fractions = params["mode"] == "avg" and any(v.q != 1 for row in matrix for v in row)
            return scaled(matrix, factor) if fractions else None

        return Solution(
            answers={"Y": y, "grad_input": grad_input},
            work={
                "windows": windows,
                "n": len(x),
                "m": m,
                "k2": sp.Integer(k * k),
                "overlap": s < k,
                "grad_total": sum(sum(row) for row in grad),
                "y_scaled": factored(y),
                "grad_input_scaled": factored(grad_input),
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        k, mode = int(params["kernel_size"]), params["mode"]
        other = "avg" if mode == "max" else "max"
        windows = solution.work["windows"]
        m = solution.work["m"]
        wrong_y = [[_pool_value(other, windows[r * m + c]["values"]) for c in range(m)] for r in range(m)]
        if mode == "max":
            return [
                Slip("grad_input", "spread_evenly", "you spread each gradient evenly over its window; in max "
                     "pooling only the largest input affected the output, so it alone gets the gradient",
                     _backward(params, _route_even)),
                Slip("grad_input", "to_minimum", "you sent each gradient to the smallest entry of its window "
                     "instead of the largest", _backward(params, _route_min)),
                Slip("Y", "averaged", "you averaged the windows; this layer takes their maximum", wrong_y),
            ]
        slips = [
            Slip("grad_input", "no_division", f"you passed the full gradient to every input; each of the {k * k} "
                 f"inputs contributes 1/{k * k} of the average, so it gets 1/{k * k} of the gradient",
                 _backward(params, _route_whole)),
            Slip("grad_input", "divided_by_k", f"you divided by k = {k} instead of by the {k * k} inputs of a "
                 "window", _backward(params, _route_per_side)),
            Slip("Y", "took_max", "you took the maximum of each window; this layer averages them", wrong_y),
        ]
        if solution.work["overlap"]:
            slips.append(Slip("grad_input", "overwrote", "where windows overlap you kept only the last window's "
                              "share; the shares of all windows an input belongs to add up",
                              _backward(params, ROUTES["avg"], accumulate=False)))
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        k, grad = params["kernel_size"], params["grad_output"]
        problems = [*domain.choice("mode", params["mode"], ["max", "avg"]), *domain.integer("kernel_size", k, 2, 4)]
        if not problems:  # a stride above the window would skip inputs
            problems += domain.integer("stride", params["stride"], 1, k)
        if domain.shape(grad) not in [(m, m) for m in OUTPUT_SIDES]:
            problems.append("grad_output must be a 2x2 or 3x3 matrix, one entry per window")
        else:  # a zero upstream gradient would hide where it goes
            problems += domain.each("grad_output", grad, lambda name, g: domain.integer(
                name, g, -GRAD_LIMIT, GRAD_LIMIT, nonzero=True))
        if problems:
            return problems
        n = (len(grad) - 1) * params["stride"] + k
        if domain.shape(params["X"]) != (n, n):
            return [f"X must be {n}x{n}, so that the {len(grad)}x{len(grad)} windows of side {k} at stride "
                    f"{params['stride']} tile it exactly"]
        return domain.each("X", params["X"], lambda name, v: domain.integer(name, v, -99, 99))

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        k = int(params["kernel_size"])
        if problems := self.check_params(params):
            return problems
        for window in solution.work["windows"]:
            if len(set(window["values"])) != k * k:
                problems.append(f"X has tied values in window ({window['r']}, {window['c']}), so its maximum is "
                                "ambiguous")
        if params["mode"] == "max":
            grad_input = solution.answers["grad_input"]
            for window in solution.work["windows"]:
                if grad_input[window["max_row"]][window["max_col"]] == 0:
                    problems.append(f"the gradients of the windows sharing the maximum at ({window['max_row']}, "
                                    f"{window['max_col']}) cancel, so where they go does not show")
                    break
        # Both layers are linear in the routing: the gradient's total is conserved.
        if sum(sum(row) for row in solution.answers["grad_input"]) != solution.work["grad_total"]:
            problems.append("the input gradient does not add up to the output gradient")
        return problems


def _geometries(options: dict[str, Any]) -> list[tuple[int, int, int]]:
    """Every (kernel, stride, output side) the options allow whose input fits."""
    found = []
    for k in options["kernel_sizes"]:
        strides = range(1, k) if options["overlap"] else [k]
        for s in strides:
            found += [(k, s, m) for m in OUTPUT_SIDES if (m - 1) * s + k <= options["max_input"]]
    if not found:
        raise InfeasibleError(
            f"no pooling geometry with kernel in {options['kernel_sizes']}, overlap={options['overlap']} "
            f"gives an input of at most {options['max_input']}x{options['max_input']} with a 2x2 output",
        )
    return found


def _no_cancelling(grads: list[int], x: list[list[int]], k: int, s: int, m: int) -> list[int]:
    """Overlapping max-pooling windows can share their maximum, which then receives the sum
    of their gradients: windows that share one take the sign of the first of them, so no
    sum cancels to 0 (a gradient of zeros would hide where the gradients go, and match
    the slips)."""
    sign: dict[tuple[int, int], int] = {}
    signed = []
    for index, g in enumerate(grads):
        cells = _window(index // m, index % m, k, s)
        peak = max(cells, key=lambda cell: x[cell[0]][cell[1]])
        sign.setdefault(peak, 1 if g > 0 else -1)
        signed.append(abs(g) * sign[peak])
    return signed


def _window(r: int, c: int, k: int, s: int) -> list[Cell]:
    return [(r * s + i, c * s + j) for i in range(k) for j in range(k)]


def _pool_value(mode: str, values: list[sp.Rational]) -> sp.Rational:
    return max(values) if mode == "max" else sum(values) / len(values)


def _route_max(cells: list[Cell], values: list[sp.Rational]) -> list[tuple[Cell, sp.Rational]]:
    return [(cells[values.index(max(values))], sp.Integer(1))]


def _route_min(cells: list[Cell], values: list[sp.Rational]) -> list[tuple[Cell, sp.Rational]]:
    return [(cells[values.index(min(values))], sp.Integer(1))]


def _route_even(cells: list[Cell], values: list[sp.Rational]) -> list[tuple[Cell, sp.Rational]]:
    return [(cell, sp.Rational(1, len(cells))) for cell in cells]


def _route_whole(cells: list[Cell], values: list[sp.Rational]) -> list[tuple[Cell, sp.Rational]]:
    return [(cell, sp.Integer(1)) for cell in cells]


def _route_per_side(cells: list[Cell], values: list[sp.Rational]) -> list[tuple[Cell, sp.Rational]]:
    side = sp.sqrt(len(cells))
    return [(cell, 1 / side) for cell in cells]


ROUTES: dict[str, Route] = {"max": _route_max, "avg": _route_even}


def _backward(params: dict[str, Any], route: Route, *, accumulate: bool = True) -> Matrix:
    """dL/dX: every window hands its output gradient to the cells `route` picks;
    contributions of overlapping windows add up (or, for a slip, overwrite)."""
    x, k, s, grad = params["X"], int(params["kernel_size"]), int(params["stride"]), params["grad_output"]
    result = [[sp.Integer(0)] * len(x) for _ in x]
    for r, row in enumerate(grad):
        for c, g in enumerate(row):
            cells = _window(r, c, k, s)
            for (i, j), fraction in route(cells, [x[i][j] for i, j in cells]):
                result[i][j] = (result[i][j] if accumulate else 0) + g * fraction
    return result
