"""A vanilla RNN unrolled by hand: h_t = f(W_xh x_t + W_hh h_{t-1} + b) for two or three
steps from a given h_0, the loss L = 1/2 ||h_T||^2 on the last state, and its gradients
by back-propagation through time. This is torch.nn.RNN with weight_ih = W_xh,
weight_hh = W_hh, bias_ih = b and bias_hh = 0.

With ReLU (the default) every value is an exact short decimal: integer weights times
one-decimal inputs, states and biases give one-decimal pre-activations, so the loss has
at most three decimals and the gradients two. With tanh the values are irrational: the
answers are rounded to four decimals (computed to 50 digits, generator.rounding), and every
variant is checked to be graded right for a student who rounds each intermediate value
to four decimals, as the statement tells them to."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain, rounding
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, ints_from, one_of, register
from ..linalg import Matrix, Vector, matmul, matvec, transpose
from ..numbers import tex_number
from ..render import Tex
from ..rounding import fixed
from ..tolerance import Tolerance

HIDDEN = 2
NONLINEARITIES = ("relu", "tanh")
TENTHS = [sp.Rational(k, 10) for k in range(-10, 11) if k]
# ReLU: integer weights keep every value a short decimal (see the module's doc). Larger
# recurrent weights than 1 let three steps grow the states beyond hand size.
INPUT_WEIGHTS = {"relu": [sp.Integer(k) for k in (-2, -1, 1, 2)], "tanh": TENTHS}
RECURRENT_WEIGHTS = {"relu": [sp.Integer(k) for k in (-1, 0, 1)], "tanh": TENTHS}
# ReLU pre-activations and gradients stay this small, so the arithmetic stays mental.
LARGEST_STATE = 6
LARGEST_GRADIENT = 20
PLACES = 4  # tanh: decimals of every rounded value
# One tolerance for every answer: a tanh answer computed from intermediates rounded to four
# decimals may be a few units of the fourth decimal off (each variant is checked to be
# within it); ReLU answers are exact multiples of 0.001 and every slip is at least 0.005
# away. A slip, made with rounded intermediates too, must be farther than the tolerance
# on both sides: SEPARATION.
TOLERANCE = Tolerance("abs", Fraction(1, 1000))
SEPARATION = sp.Rational(3, 1000)
# Variants are drawn whole and kept when `check` passes: about one in five ReLU draws
# passes, so 200 tries fail with a probability below 1e-19.
TRIES = 200
GRADIENTS = ("grad_W_hh", "grad_W_xh", "grad_b")

Keep = Callable[[Any], Any]


def _exact(value: Any) -> Any:
    return value


def _four_decimals(value: Any) -> sp.Rational:
    return rounding.rounded(value, PLACES)


def _relu(a: Any) -> Any:
    return a if a > 0 else sp.Integer(0)


def _relu_derivative(a: Any, h: Any) -> Any:
    return sp.Integer(1 if a > 0 else 0)


def _tanh_derivative(a: Any, h: Any) -> Any:
    return 1 - h**2  # tanh'(a) = 1 - tanh(a)^2, from the state the forward pass kept


ACTIVATIONS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]] = {
    "relu": (_relu, _relu_derivative),
    "tanh": (rounding.tanh, _tanh_derivative),
}


def _outer(column: Vector, row: Vector) -> Matrix:
    return matmul([[v] for v in column], [list(row)])


def _add(p: Any, q: Any) -> Any:
    if isinstance(p, list):
        return [_add(u, v) for u, v in zip(p, q, strict=True)]
    return p + q


def _each(value: Any, keep: Keep) -> Any:
    if isinstance(value, list):
        return [_each(v, keep) for v in value]
    return keep(value)


def forward(params: dict[str, Any], *, activation: Callable[[Any], Any], keep: Keep = _exact,
            h0: Vector | None = None) -> tuple[list[Vector], list[Vector]]:
    """Pre-activations a_1..a_T and states h_0..h_T; `keep` is applied to every value a
    student writes down (identity, or rounding to four decimals)."""
    w_xh, w_hh, b = params["W_xh"], params["W_hh"], params["b"]
    states, pre = [params["h0"] if h0 is None else h0], []
    for x in params["X"]:
        a = [keep(u + v + c) for u, v, c in zip(matvec(w_xh, x), matvec(w_hh, states[-1]), b, strict=True)]
        pre.append(a)
        states.append([keep(activation(v)) for v in a])
    return pre, states


def backward(params: dict[str, Any], pre: list[Vector], states: list[Vector], *,
             derivative: Callable[[Any, Any], Any], keep: Keep = _exact, transposed: bool = True,
             steps_back: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Back-propagation through time from dL/dh_T = h_T: at each step g_t = dL/dh_t * f'(a_t)
    gives the contributions g_t h_{t-1}^T, g_t x_t^T and g_t, and dL/dh_{t-1} = W_hh^T g_t.
    The slips change one thing: `transposed=False` sends g_t back through W_hh itself,
    `steps_back=1` stops after the last step."""
    x, w_hh = params["X"], params["W_hh"]
    back = transpose(w_hh) if transposed else w_hh
    count = len(x) if steps_back is None else steps_back
    delta, steps = list(states[-1]), []
    for t in reversed(range(len(x) - count, len(x))):
        deriv = [derivative(a, h) for a, h in zip(pre[t], states[t + 1], strict=True)]
        g = [keep(d * f) for d, f in zip(delta, deriv, strict=True)]
        steps.append({"t": t + 1, "delta": delta, "deriv": deriv, "g": g,
                      "hh": _each(_outer(g, states[t]), keep), "xh": _each(_outer(g, x[t]), keep)})
        delta = [keep(v) for v in matvec(back, g)]
        steps[-1]["back"] = delta
    steps.reverse()
    grads = {
        "grad_W_hh": _each(_sum([s["hh"] for s in steps]), keep),
        "grad_W_xh": _each(_sum([s["xh"] for s in steps]), keep),
        "grad_b": _each(_sum([s["g"] for s in steps]), keep),
    }
    return grads, steps


def _sum(terms: list[Any]) -> Any:
    total = terms[0]
    for term in terms[1:]:
        total = _add(total, term)
    return total


def _loss(states: list[Vector], keep: Keep = _exact) -> Any:
    return keep(sum((v**2 for v in states[-1]), sp.Integer(0)) / 2)


def _run(params: dict[str, Any], keep: Keep = _exact) -> dict[str, Any]:
    """Every answer, unrounded (exact for ReLU, 50 digits for tanh), and the steps."""
    activation, derivative = ACTIVATIONS[params["nonlinearity"]]
    if keep is _exact:
        params = _numbers(params)
    pre, states = forward(params, activation=activation, keep=keep)
    grads, steps = backward(params, pre, states, derivative=derivative, keep=keep)
    return {"h": states[1:], "loss": _loss(states, keep), **grads, "pre": pre, "states": states, "steps": steps}


def _largest(value: Any) -> Any:
    if isinstance(value, list):
        return max(_largest(v) for v in value)
    return abs(value)


def _apart(slip: Any, answer: Any) -> bool:
    """Some entry of the slip is farther than SEPARATION from the answer's."""
    if isinstance(answer, list):
        return any(_apart(s, a) for s, a in zip(slip, answer, strict=True))
    return abs(slip - answer) > SEPARATION


def _within(given: Any, answer: Any) -> bool:
    if isinstance(answer, list):
        return all(_within(g, a) for g, a in zip(given, answer, strict=True))
    return abs(given - answer) <= TOLERANCE.value


@register
class RnnForward(Family):
    id = "rnn_forward"
    title = "A vanilla RNN by hand: forward pass and back-propagation through time"
    answer_labels = {
        "h": "the states h1 to hT (one row per step)",
        "loss": "the loss L",
        "grad_W_hh": "the gradient dL/dW(hh)",
        "grad_W_xh": "the gradient dL/dW(xh)",
        "grad_b": "the gradient dL/db",
    }
    options = {
        "nonlinearity": Option("relu", "the activation f: relu (exact values), tanh (rounded to four "
                               "decimals) or any", one_of("relu", "tanh", "any")),
        "steps": Option([2, 3], "sequence lengths T to draw from (2 or 3)", ints_from([2, 3])),
        "inputs": Option([1, 2], "input sizes D to draw from (1 or 2)", ints_from([1, 2])),
    }

    def tolerance(self, answer: str, value: Any) -> Tolerance:
        return TOLERANCE

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        """Whole variants, kept when `check` passes (no zero pre-activation, gradients that
        reach back in time, a ReLU that cuts a unit off, every slip gradable...)."""
        kinds = list(NONLINEARITIES) if options["nonlinearity"] == "any" else [options["nonlinearity"]]
        nonlinearity = pick(rng, kinds)
        steps, inputs = pick(rng, options["steps"]), pick(rng, options["inputs"])
        for _ in range(TRIES):
            params = self._candidate(rng, nonlinearity, steps, inputs)
            try:
                if not self.check(params, self.solve(params)):
                    return params
            except ArithmeticError:  # a tanh value 50 digits cannot round: not a candidate
                continue
        raise InfeasibleError(f"no well-posed {nonlinearity} RNN with T = {steps}, D = {inputs} in {TRIES} draws")

    @staticmethod
    def _candidate(rng: np.random.Generator, nonlinearity: str, steps: int, inputs: int) -> dict[str, Any]:
        def vector(values: list[sp.Rational], size: int) -> list[sp.Rational]:
            return [pick(rng, values) for _ in range(size)]

        recurrent = RECURRENT_WEIGHTS[nonlinearity]
        # different off-diagonal entries: W_hh is not symmetric, so using it untransposed
        # in the backward pass is a mistake the answers show
        upper = pick(rng, recurrent)
        lower = pick(rng, [w for w in recurrent if w != upper])
        return {
            "X": [vector(TENTHS, inputs) for _ in range(steps)],
            "W_xh": [vector(INPUT_WEIGHTS[nonlinearity], inputs) for _ in range(HIDDEN)],
            "W_hh": [[pick(rng, recurrent), upper], [lower, pick(rng, recurrent)]],
            "b": vector(TENTHS, HIDDEN),
            "h0": vector(TENTHS, HIDDEN),
            "nonlinearity": nonlinearity,
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        run = _run(params)
        tanh = params["nonlinearity"] == "tanh"
        shown = _four_decimals if tanh else _exact
        answers = {name: _each(run[name], shown) for name in ("h", "loss", *GRADIENTS)}
        x, w_hh = params["X"], params["W_hh"]
        forward_steps = [{
            "t": t + 1, "x": x[t], "prev": _each(run["states"][t], shown),
            "wx": matvec(params["W_xh"], x[t]),
            "wh": _each(matvec(w_hh, run["states"][t]), shown),
            "a": _each(run["pre"][t], shown), "h": _each(run["states"][t + 1], shown),
        } for t in range(len(x))]
        last = run["states"][-1]
        # The key writes every value it computed as the student is told to: exactly (ReLU),
        # or with four decimals, trailing zeros kept (tanh: 0.9730, not 0.973).
        places = PLACES if tanh else None
        steps = _each_step(run["steps"], shown)
        work = {
            "T": len(x), "D": len(x[0]), "approx": tanh,
            # W_xh x_t is exact (tenths times tenths): it keeps its own digits
            "forward": [{**step, "wx": _tex(step["wx"], None), **{k: _tex(step[k], places) for k in ("wh", "a", "h")}}
                        for step in forward_steps],
            "last_h": [_tex(v, places, paren=True) for v in _each(last, shown)],
            "squares": [_tex(shown(v**2), places) for v in last],
            "backward": [{**step, **{k: _tex(step[k], places) for k in ("delta", "deriv", "g", "back") if k in step}}
                         for step in reversed(steps)],
            "W_hhT": transpose(w_hh),
            "terms": {name: [_tex(s[key], places) for s in steps]
                      for name, key in (("grad_W_hh", "hh"), ("grad_W_xh", "xh"), ("grad_b", "g"))},
            "shown": {name: _tex(value, places) for name, value in answers.items()},
        }
        return Solution(answers=answers, work=work)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        """The mistakes, each offered where it changes the answer."""
        answers = solution.answers
        shown = _four_decimals if params["nonlinearity"] == "tanh" else _exact
        candidates = [*self._forward_slips(params), *self._backward_slips(params)]
        slips = []
        for answer, name, says, value in candidates:
            value = _each(value, shown)
            if value != answers[answer]:
                slips.append(Slip(answer, name, says, value))
        return slips

    @staticmethod
    def _forward_slips(params: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
        numbers = _numbers(params)
        activation, _ = ACTIVATIONS[params["nonlinearity"]]
        name = "tanh" if params["nonlinearity"] == "tanh" else "ReLU"
        _, states = forward(numbers, activation=activation)
        _, linear = forward(numbers, activation=_exact)
        _, from_zero = forward(numbers, activation=activation, h0=[sp.Integer(0)] * HIDDEN)
        return [
            ("h", "no_activation", f"you left out the {name} and used the pre-activations as states", linear[1:]),
            ("h", "zero_start", "you started from h0 = 0 (PyTorch's default) instead of the given h0",
             from_zero[1:]),
            ("loss", "no_half", "you dropped the factor 1/2 of the loss", 2 * _loss(states)),
            ("loss", "all_steps", "you added 1/2 ||h(t)||^2 over every step; the loss looks at the last state only",
             sum((_loss([h]) for h in states[1:]), sp.Integer(0))),
        ]

    @staticmethod
    def _backward_slips(params: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
        numbers = _numbers(params)
        activation, derivative = ACTIVATIONS[params["nonlinearity"]]
        pre, states = forward(numbers, activation=activation)

        def grads(**change: Any) -> dict[str, Any]:
            return backward(numbers, pre, states, **{"derivative": derivative, **change})[0]

        variants: list[tuple[str, str, dict[str, Any]]] = [
            ("last_step_only", "you kept only the last step's term: W(hh), W(xh) and b are used at every step, "
             "so the gradient flows back through h(t-1) and adds a term per step", grads(steps_back=1)),
            ("no_transpose", "you sent the gradient back through W(hh) instead of its transpose: "
             "dL/dh(t-1) = W(hh)^T dL/da(t)", grads(transposed=False)),
        ]
        if params["nonlinearity"] == "tanh":
            variants += [
                ("no_derivative", "you left out the factor tanh'(a(t)) = 1 - h(t)^2",
                 grads(derivative=lambda a, h: 1)),
                ("derivative_of_a", "you used 1 - a(t)^2 instead of tanh'(a(t)) = 1 - h(t)^2",
                 grads(derivative=lambda a, h: 1 - a**2)),
            ]
        else:
            variants.append(("no_mask", "you let the gradient through where the ReLU was off (a(t) < 0); "
                             "there its derivative is 0", grads(derivative=lambda a, h: 1)))
        slips = [(answer, name, says, values[answer]) for name, says, values in variants for answer in GRADIENTS]
        slips.append(("grad_W_hh", "outer_transposed", "you wrote the terms as h(t-1) (dL/da(t))^T; the gradient "
                      "of W(hh) is the transpose, dL/da(t) h(t-1)^T", transpose(grads()["grad_W_hh"])))
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        problems = domain.choice("nonlinearity", params["nonlinearity"], NONLINEARITIES)
        shape = domain.shape(params["X"])
        if shape not in [(t, d) for t in (2, 3) for d in (1, 2)]:
            return [*problems, "X must be a matrix of 2 or 3 steps (rows) of 1 or 2 inputs"]
        steps, inputs = shape
        sizes = {"W_xh": ((HIDDEN, inputs), f"a {HIDDEN}x{inputs} matrix (hidden units x inputs)"),
                 "W_hh": ((HIDDEN, HIDDEN), f"a {HIDDEN}x{HIDDEN} matrix"),
                 "b": ((HIDDEN,), f"{HIDDEN} biases, one per hidden unit"),
                 "h0": ((HIDDEN,), f"{HIDDEN} values, one per hidden unit")}
        problems += [f"{name} must be {text}" for name, (size, text) in sizes.items()
                     if domain.shape(params[name]) != size]
        if problems:
            return problems
        for name in ("X", "b", "h0"):
            problems += domain.each(name, params[name], lambda entry, v: domain.decimal(entry, v, -1, 1, 1))
        if params["nonlinearity"] == "relu":
            # integer weights keep every ReLU value a short exact decimal
            for name in ("W_xh", "W_hh"):
                problems += domain.each(name, params[name], lambda entry, v: domain.integer(entry, v, -2, 2))
        else:
            for name in ("W_xh", "W_hh"):
                problems += domain.each(name, params[name], lambda entry, v: domain.decimal(entry, v, -1, 1, 1))
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        answers = solution.answers
        if params["nonlinearity"] == "relu":
            problems += self._relu_problems(params, answers)
        if answers["loss"] == 0:
            problems.append("the last state is zero, so the loss and every gradient vanish")
        if problems:  # the cheap tests first: `draw` rejects most candidates here
            return problems
        offered = {(s.answer, s.name): s for s in self.slips(params, solution)}
        if not any((g, "no_mask") in offered or (g, "no_derivative") in offered for g in GRADIENTS):
            problems.append("no unit is cut off by the ReLU before the last step, where it would stop a gradient")
        problems += [f"{answer}: the gradient does not reach back before the last step"
                     for answer in GRADIENTS if (answer, "last_step_only") not in offered]
        problems += [f"{slip.answer}: the slip {slip.name} is within the tolerance of the answer"
                     for slip in offered.values() if not _apart(slip.value, answers[slip.answer])]
        if params["nonlinearity"] == "tanh":
            rounded_run = _run(params, keep=_four_decimals)
            problems += [f"{name}: intermediate values rounded to four decimals give an answer outside the tolerance"
                         for name in ("h", "loss", *GRADIENTS) if not _within(rounded_run[name], answers[name])]
        return problems

    @staticmethod
    def _relu_problems(params: dict[str, Any], answers: dict[str, Any]) -> list[str]:
        pre, _ = forward(params, activation=_relu)
        problems = []
        if any(v == 0 for a in pre for v in a):
            problems.append("a pre-activation is exactly 0, where ReLU has no derivative")
        if not any(v < 0 for a in pre[:-1] for v in a):
            problems.append("no unit is cut off by the ReLU before the last step")
        if _largest(pre) > LARGEST_STATE:
            problems.append(f"a pre-activation exceeds {LARGEST_STATE} in size")
        if max(_largest(answers[name]) for name in GRADIENTS) > LARGEST_GRADIENT:
            problems.append(f"a gradient entry exceeds {LARGEST_GRADIENT} in size")
        return problems


def _numbers(params: dict[str, Any]) -> dict[str, Any]:
    """The params in the arithmetic of their nonlinearity: exact for ReLU, 50 digits for
    tanh (whose values are irrational from the first state on)."""
    if params["nonlinearity"] != "tanh":
        return params
    return {k: v if k == "nonlinearity" else _each(v, rounding.real) for k, v in params.items()}


def _tex(value: Any, places: int | None, *, paren: bool = False) -> Tex:
    """A number, vector (a column) or matrix as the key prints it: exact, or with exactly
    `places` decimals; `paren` puts a negative number in parentheses."""
    if isinstance(value, list):
        rows = [row if isinstance(row, list) else [row] for row in value]
        body = r" \\ ".join(" & ".join(_tex(v, places) for v in row) for row in rows)
        return Tex(rf"\begin{{bmatrix}} {body} \end{{bmatrix}}")
    text = tex_number(value) if places is None else fixed(value, places)
    return Tex(f"({text})" if paren and value < 0 else text)


def _each_step(steps: list[dict[str, Any]], shown: Keep) -> list[dict[str, Any]]:
    return [{k: v if k == "t" else _each(v, shown) for k, v in step.items()} for step in steps]
