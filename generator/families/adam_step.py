"""One or two steps of torch.optim.Adam with L2 weight decay (lambda*w added to the
gradient, so it enters the moments) against torch.optim.AdamW (the weight shrunk by
1 - lr*lambda first, the moments see the data gradient only), with bias correction.

Hand-computable by construction: beta1 = 0.6 makes 1 - beta1^2 = 0.64, so every m-hat is
a short decimal, and the gradients are drawn so that both runs' second-step v-hat is the
square of a short decimal (beta2*a^2 + b^2 = (1 + beta2)*c^2 in hundredths). In one run
the two gradients it sees have equal size and opposite signs (then v-hat = g^2), in the
other they are a solution of that equation; which run is which is drawn. eps = 1e-8 as
in PyTorch: the answers are torch's values (eps included) rounded to six decimals, and
the draw settles only on variants where eps changes none of those decimals, so that they
are also the values computed by hand without eps."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from .. import domain, rounding
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, int_in, register
from ..numbers import exact
from ..rounding import rounded
from ..tolerance import half_unit

BETA1 = sp.Rational(3, 5)
BETA2S = ("0.75", "0.8", "0.9", "0.95", "0.98")
EPS = sp.Rational(1, 10**8)  # PyTorch's default
PLACES = 6  # the weights' decimals; m-hat and v-hat have at most this many
UNIT = 100  # gradients are whole hundredths, |g| < 1
# (lr, lambda) pairs whose product is whole hundredths, so that the decay's shift of the
# second gradient stays on the gradients' grid.
LR_DECAYS = tuple((Fraction(lr), Fraction(decay)) for lr, decay in (
    ("1/10", "1/10"), ("1/10", "1/5"), ("1/10", "1/2"), ("1/20", "1/5"), ("1/5", "1/20"), ("1/5", "1/10"),
    ("1/5", "1/5"), ("1/5", "1/2"), ("1/5", "1/4"), ("1/50", "1/2")))
SMALLEST_GRAD = 5  # hundredths: |g| >= 0.05 for every gradient either run sees


def _beta2s(value: Any) -> list[str]:
    """A list of beta2 values from BETA2S (numbers or strings), as BETA2S spells them."""
    values = value if isinstance(value, list) else [value]
    chosen = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise TypeError("expected a list of numbers such as 0.9")
        try:
            number = exact(str(item).strip())
        except (TypeError, ValueError):
            raise ValueError(f"{item!r} is not a number") from None
        match = [b for b in BETA2S if sp.Rational(b) == number]
        if not match:
            raise ValueError(f"{item} not allowed; choose from {', '.join(BETA2S)}")
        chosen.append(match[0])
    if not chosen:
        raise ValueError("needs at least one value")
    return [b for b in BETA2S if b in chosen]


class Candidate(NamedTuple):
    lr: Fraction
    decay: Fraction
    w: Fraction
    grads: tuple[Fraction, Fraction]


@register
class AdamStep(Family):
    id = "adam_step"
    title = "Adam versus AdamW: steps with bias correction"
    answer_labels = {
        "w_adam": "the weight after each Adam step",
        "w_adamw": "the weight after each AdamW step",
        "m_hat": "the bias-corrected first moment of each Adam step",
        "v_hat": "the bias-corrected second moment of each Adam step",
    }
    tolerances = dict.fromkeys(("w_adam", "w_adamw", "m_hat", "v_hat"), half_unit(PLACES))
    contrasts = (("w_adam", "w_adamw"),)
    options = {
        "steps": Option(2, "number of optimizer steps (1 or 2)", int_in(1, 2)),
        "beta2s": Option(list(BETA2S), "beta2 values to draw from: " + ", ".join(BETA2S), _beta2s),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        beta2 = pick(rng, options["beta2s"])
        found = candidates(beta2)
        if not found:
            raise InfeasibleError(f"adam_step has no hand-computable variant with beta2 = {beta2}")
        # From a random start, the first candidate on which eps is invisible (about 19 in 20
        # are; the scan is bounded by the list, which has such candidates).
        start = int(rng.integers(len(found)))
        chosen = next(found[(start + i) % len(found)] for i in range(len(found))
                      if eps_invisible(found[(start + i) % len(found)], beta2))
        params = as_params(chosen, beta2, sp.Rational)
        return params | {"grads": params["grads"][: options["steps"]]}

    def solve(self, params: dict[str, Any]) -> Solution:
        # the key works without eps; the answers are torch's values (with eps), rounded
        adam, adamw = run(params, eps=0), run(params, decoupled=True, eps=0)
        torch_adam, torch_adamw = torch_runs(params)
        return Solution(
            answers={"w_adam": [shown(s["w"]) for s in torch_adam],
                     "w_adamw": [shown(s["w"]) for s in torch_adamw],
                     "m_hat": [shown(s["m_hat"]) for s in torch_adam],
                     "v_hat": [shown(s["v_hat"]) for s in torch_adam]},
            work={"adam": _shown_steps(adam), "adamw": _shown_steps(adamw),
                  "shrink": 1 - params["lr"] * params["weight_decay"],
                  "one_minus_beta1": 1 - params["beta1"], "one_minus_beta2": 1 - params["beta2"],
                  "corrections": [{"t": t, "beta1": 1 - params["beta1"] ** t, "beta2": 1 - params["beta2"] ** t}
                                  for t in range(1, len(params["grads"]) + 1)]},
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        two = len(params["grads"]) == 2

        # a student works without eps
        def weights(**mistake: Any) -> list[sp.Rational]:
            return [shown(s["w"]) for s in run(params, eps=0, **mistake)]

        def moments(key: str, **mistake: Any) -> list[sp.Rational]:
            return [shown(s[key]) for s in run(params, eps=0, **mistake)]

        a = solution.answers
        slips = [
            Slip("w_adam", "decoupled", "you shrank the weight as AdamW does; Adam's weight decay adds lambda*w "
                 "to the gradient, so it enters the moments", a["w_adamw"]),
            Slip("w_adam", "no_bias_correction", "you divided m by sqrt(v) without the bias corrections "
                 "1 - beta^t", weights(corrected=False)),
            Slip("w_adam", "no_sqrt", "you divided by v-hat instead of its square root", weights(root=False)),
            Slip("w_adamw", "coupled", "you added lambda*w to the gradient as Adam does; AdamW leaves the "
                 "gradient alone and shrinks the weight", a["w_adam"]),
            Slip("w_adamw", "shrink_without_lr", "you shrank the weight by 1 - lambda instead of 1 - lr*lambda",
                 weights(decoupled=True, shrink_lr=False)),
            Slip("w_adamw", "no_bias_correction", "you divided m by sqrt(v) without the bias corrections "
                 "1 - beta^t", weights(decoupled=True, corrected=False)),
            Slip("m_hat", "no_bias_correction", "you gave m itself; m-hat divides it by 1 - beta1^t",
                 moments("m")),
            Slip("m_hat", "data_gradient", "you left the decay term lambda*w out of the gradient; with Adam it "
                 "enters the moments", moments("m_hat", decoupled=True)),
            Slip("v_hat", "no_bias_correction", "you gave v itself; v-hat divides it by 1 - beta2^t",
                 moments("v")),
            Slip("v_hat", "data_gradient", "you left the decay term lambda*w out of the gradient; with Adam it "
                 "enters the moments", moments("v_hat", decoupled=True)),
        ]
        if two:
            slips += [
                Slip("w_adam", "no_decay", "you left out the weight decay", weights(decay=False)),
                Slip("w_adamw", "decay_twice", "you shrank the weight and also added lambda*w to the gradient",
                     weights(decoupled=True, coupled_too=True)),
                Slip("m_hat", "first_correction", "you divided by 1 - beta1 at every step; at step t it is "
                     "1 - beta1^t", moments("m_hat", power_one=True)),
                Slip("v_hat", "first_correction", "you divided by 1 - beta2 at every step; at step t it is "
                     "1 - beta2^t", moments("v_hat", power_one=True)),
            ]
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        problems = [*domain.decimal("lr", params["lr"], 0, 1, 3, above=True),
                    *domain.decimal("beta1", params["beta1"], 0, 1, 3, above=True, below=True),
                    *domain.decimal("beta2", params["beta2"], 0, 1, 3, above=True, below=True),
                    *domain.decimal("weight_decay", params["weight_decay"], 0, 1, 3, above=True),
                    *domain.decimal("w", params["w"], -10, 10, 2, nonzero=True)]
        if params["eps"] != EPS:
            problems.append("eps must be 1e-8 (PyTorch's default), which the stated decimals do not show")
        grads = params["grads"]
        if not isinstance(grads, list) or len(grads) not in (1, 2):
            return [*problems, "grads must be a list of one or two gradients"]
        problems += domain.each("grads", grads, lambda n, g: domain.decimal(n, g, -1, 1, 2, nonzero=True))
        if problems:
            return problems
        # the moments must end in short decimals and sqrt(v-hat) must be exact
        for decoupled in (False, True):
            for state in run(params, decoupled=decoupled, eps=0):
                if state["root"] is None:
                    return [f"the gradients make sqrt(v-hat) irrational in the {'AdamW' if decoupled else 'Adam'} "
                            "run; choose them so that it is exact"]
                if not all(_places(state[k]) <= PLACES for k in ("m_hat", "v_hat")):
                    return ["the moments need more than six decimals; use beta1 = 0.6 and gradients in hundredths"]
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        problems = self.check_params(params)
        if problems:
            return problems
        if not eps_invisible(params):
            problems.append("eps = 1e-8 would change a sixth decimal of the answers")
        tolerance = half_unit(PLACES).value
        for slip in self.slips(params, solution):
            correct = solution.answers[slip.answer]
            if all(abs(s - c) <= tolerance for s, c in zip(slip.value, correct, strict=True)):
                problems.append(f"the slip {slip.answer}:{slip.name} is within the tolerance of the answer")
        return problems


# --- the optimizers --------------------------------------------------------------


def run(params: dict[str, Any], *, decoupled: bool = False, eps: Any = None, corrected: bool = True,
        root: bool = True, shrink_lr: bool = True, decay: bool = True, coupled_too: bool = False,
        power_one: bool = False) -> list[dict[str, Any]]:
    """The steps of torch.optim.Adam (decoupled=False) or AdamW (True), each state with
    its intermediate values. The keyword flags are the slips' changed steps; with the
    defaults this is torch's code:
    g <- g + lambda*w (Adam) or w <- (1 - lr*lambda) w (AdamW); m, v moving averages;
    w <- w - lr * m_hat / (sqrt(v_hat) + eps), with eps = 0 for the key's hand
    computation. The numbers are sympy Rationals (exact), Fractions when a candidate is
    checked while drawing (the same arithmetic, many times faster), or 50-digit values
    (torch_runs)."""
    lr, beta1, beta2 = params["lr"], params["beta1"], params["beta2"]
    lam = params["weight_decay"] if decay else 0
    eps = params["eps"] if eps is None else eps
    w = params["w"]
    m = v = 0
    states = []
    for t, data in enumerate(params["grads"], 1):
        start = w
        if decoupled:  # AdamW: shrink first; its gradient is the data gradient alone
            factor = 1 - (lr * lam if shrink_lr else lam)
            w = factor * w
        g = data + lam * start if (not decoupled or coupled_too) else data
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        power = 1 if power_one else t
        m_hat = m / (1 - beta1**power) if corrected else m
        v_hat = v / (1 - beta2**power) if corrected else v
        sqrt_v = exact_sqrt(v_hat)
        denominator = (sqrt_v if sqrt_v is not None else _irrational_sqrt(v_hat)) if root else v_hat
        step = lr * m_hat / (denominator + eps)
        shrunk = w
        w = w - step
        states.append({"t": t, "start": start, "shrunk": shrunk, "data": data, "g": g, "m": m, "v": v,
                       "m_hat": m_hat, "v_hat": v_hat, "root": sqrt_v, "step": step, "w": w})
    return states


def _shown_steps(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The key's view of each step: the step and the weight exactly when they have at most
    six decimals, else rounded (marked approximate)."""
    return [state | {"step_exact": _places(state["step"]) <= PLACES, "step_shown": shown(state["step"]),
                     "w_exact": _places(state["w"]) <= PLACES, "w_shown": shown(state["w"])}
            for state in states]


def exact_sqrt(value: Any) -> Any:
    """sqrt of a non-negative rational (sympy or Fraction, returned in the same kind)
    when it is rational, else None (also for a slip's irrational value)."""
    if not isinstance(value, Fraction | sp.Rational):
        return None
    p, q = _fraction(value).numerator, _fraction(value).denominator
    rp, rq = math.isqrt(p), math.isqrt(q)
    if rp * rp != p or rq * rq != q:
        return None
    return Fraction(rp, rq) if isinstance(value, Fraction) else sp.Rational(rp, rq)


def _fraction(value: Any) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(int(value.p), int(value.q))


def _irrational_sqrt(value: Any) -> Any:
    """sqrt of a value that is not a rational square: exact for sympy (a slip's value),
    50 digits for a run in generator.rounding's numbers."""
    return sp.sqrt(value) if isinstance(value, sp.Basic) else rounding.sqrt(value)


def torch_runs(params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Adam and AdamW as torch computes them, eps included, to 50 digits: eps nudges the
    first step, so the second step's v-hat is no longer an exact square."""
    reals = {k: [rounding.real(_fraction(g)) for g in v] if k == "grads" else rounding.real(_fraction(v))
             for k, v in params.items()}
    return run(reals), run(reals, decoupled=True)


def shown(value: Any) -> sp.Rational:
    """A value rounded to six decimals: exact ones (sympy) exactly, 50-digit ones by
    their digits."""
    return rounded(value, PLACES)


def _sixth(value: Any) -> int:
    """A rational rounded half up to six decimals, in millionths (Fractions: fast)."""
    return math.floor(_fraction(value) * 10**PLACES + Fraction(1, 2))


def _places(value: Any) -> int:
    """Decimals of a terminating decimal (a large number for any other rational)."""
    value = _fraction(value)
    for places in range(PLACES + 3):
        if (value * 10**places).denominator == 1:
            return places
    return PLACES + 3


def eps_invisible(variant: Any, beta2: str | None = None) -> bool:
    """True when eps = 1e-8 changes none of the six decimals of any answer and no value
    without eps lies exactly halfway between two six-decimal values (where rounding up
    and down would both seem right). `variant` is the params, or a Candidate (then
    checked in Fractions, fast)."""
    params = variant if beta2 is None else as_params(variant, beta2, Fraction)
    frees = [run(params, eps=0), run(params, decoupled=True, eps=0)]
    for free_run, torch_run in zip(frees, torch_runs(params), strict=True):
        for free, torch in zip(free_run, torch_run, strict=True):
            for key in ("w", "m_hat", "v_hat"):
                value = _fraction(free[key])
                if _sixth(value) != shown(torch[key]) * 10**PLACES or (value * 2 * 10**PLACES).denominator == 1 != (
                        value * 10**PLACES).denominator:
                    return False
    return True


def as_params(candidate: Candidate, beta2: str, number: Callable[[Any], Any]) -> dict[str, Any]:
    """A candidate as the family's params, in sympy Rationals or Fractions."""
    def exactly(value: Any) -> Any:
        return number(str(value))  # "3/5": both Fraction and sympy parse it

    return {"lr": exactly(candidate.lr), "beta1": exactly(BETA1), "beta2": exactly(beta2), "eps": exactly(EPS),
            "weight_decay": exactly(candidate.decay), "w": exactly(candidate.w),
            "grads": [exactly(g) for g in candidate.grads]}


# --- the hand-computable candidates ------------------------------------------------


@functools.cache
def exact_pairs(beta2: str) -> dict[tuple[int, int], int]:
    """(a, b) -> c, in hundredths (5 <= |a|, |b| < 100, |a| != |b|), with
    beta2*a^2 + b^2 = (1 + beta2)*c^2: the second step's v-hat of gradients a then b is
    exactly c^2. As 1 + beta2 over its denominator is odd and prime to 5, c is whole."""
    ratio = Fraction(beta2)
    p, q = ratio.numerator, ratio.denominator
    pairs = {}
    for a in range(SMALLEST_GRAD, UNIT):
        for b in range(SMALLEST_GRAD, UNIT):
            total = p * a * a + q * b * b
            if a == b or total % (p + q):
                continue
            c = math.isqrt(total // (p + q))
            if c * c == total // (p + q):
                for sa in (1, -1):
                    for sb in (1, -1):
                        pairs[(sa * a, sb * b)] = c
    return pairs


@functools.cache
def candidates(beta2: str) -> tuple[Candidate, ...]:
    """Every variant with both runs' square roots exact: for each exact pair (A, B) and
    each (lr, lambda), the start w that makes the other run see +-G, -+G; kept when w has
    at most two decimals and 0.1 <= |w| <= 3, and when Adam's first gradient g1 + lambda*w
    differs in size from g1 (else a one-step v-hat could not tell whether the decay term
    was included). The constructions keep every gradient either run sees in
    0.05 <= |g| < 1."""
    found = []
    for (first, second) in exact_pairs(beta2):
        for lr, decay in LR_DECAYS:
            shift = int(lr * decay * UNIT)  # lr*lambda*|w1 - w0|: how much the decay term moves
            found += _adam_sees_pair(first, second, lr, decay, shift)
            found += _adamw_sees_pair(first, second, lr, decay, shift)
    return tuple(c for c in found if Fraction(1, 10) <= abs(c.w) <= 3 and (c.w * 100).denominator == 1
                 and abs(c.grads[0] + c.decay * c.w) != abs(c.grads[0]))


def _sign(x: Any) -> int:
    return 1 if x > 0 else -1


def _adam_sees_pair(first: int, second: int, lr: Fraction, decay: Fraction, shift: int) -> list[Candidate]:
    """Adam's gradients (data + lambda*w) are the pair; the data gradients are a, -a. With
    u = lambda*w0 and s the sign of the first step: first = a + u, second = -a + u - lr*lambda*s."""
    move = shift * _sign(first)
    if (first + second + move) % 2:
        return []
    u, a = Fraction(first + second + move, 2), (first - second - move) // 2
    w = u / UNIT / decay
    if not SMALLEST_GRAD <= abs(a) < UNIT:
        return []
    return [Candidate(lr, decay, w, (Fraction(a, UNIT), Fraction(-a, UNIT)))]


def _adamw_sees_pair(first: int, second: int, lr: Fraction, decay: Fraction, shift: int) -> list[Candidate]:
    """AdamW's gradients (the data) are the pair; Adam's are G, -G: G = first + u and
    -G = second + u - lr*lambda*s with s the sign of G."""
    found = []
    for sign in (1, -1):
        move = shift * sign
        twice_g = first - second + move
        if (move - first - second) % 2 or _sign(twice_g) != sign or not 2 * SMALLEST_GRAD <= abs(twice_g) < 2 * UNIT:
            continue
        w = Fraction(move - first - second, 2) / UNIT / decay
        found.append(Candidate(lr, decay, w, (Fraction(first, UNIT), Fraction(second, UNIT))))
    return found
