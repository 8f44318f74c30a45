"""Learning rates of PyTorch's schedulers at given steps: StepLR, ExponentialLR,
CosineAnnealingLR, and a linear warm-up followed by a cosine decay. The cosine steps are
drawn at angles whose cosine is exact (multiples of pi/6 and pi/4), so a student needs
at most sqrt(2) and sqrt(3); those values are rounded to six decimals, the others exact."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain, rounding
from ..draws import pick
from ..family import Family, Option, Slip, Solution, int_in, register, strs_from
from ..numbers import decimal as decimal_text
from ..numbers import terminates
from ..render import Tex
from ..rounding import fixed, rounded
from ..tolerance import Tolerance

SCHEDULES = ("step", "exponential", "cosine", "warmup_cosine")
HEADINGS = {"step": "step decay", "exponential": "exponential decay", "cosine": "cosine annealing",
            "warmup_cosine": "linear warm-up, then cosine decay"}
# The keys' decimals for rates with sqrt(2) or sqrt(3) (and for exact rates longer than
# that); the tolerance is one unit there, so that a rate computed from cos values a
# calculator rounded to six decimals is still accepted.
PLACES = 6
TOLERANCE = Tolerance("abs", Fraction(1, 10**PLACES))
SMALLEST = sp.Rational(1, 10**4)  # no asked rate of a decay below this: six decimals show it
BASE_LRS = tuple(sp.Rational(v) for v in ("1/10", "1/5", "1/20", "1/100", "1/2", "1/50", "3/10", "1"))
STEP_SIZES = (2, 3, 4, 5, 10, 20, 30)
STEP_GAMMAS = tuple(sp.Rational(v) for v in ("1/10", "1/2", "1/5", "9/10"))
EXP_GAMMAS = tuple(sp.Rational(v) for v in ("1/2", "4/5", "9/10"))
EXP_HORIZON = 8  # ExponentialLR steps asked: 1..8, as long as the rate stays above SMALLEST
DECAY_LIMIT = 50  # at most this many decays in a pinned problem
# Cosine lengths (T_max, or total_steps - warmup_steps) and warm-ups an instructor would use.
COSINE_LENGTHS = (12, 20, 24, 30, 36, 40, 48, 60, 80, 90, 100, 120, 200, 240, 300, 360, 400, 600, 1000, 1200)
WARMUPS = (4, 5, 8, 10, 20, 50, 100, 200)
# Fractions t/T of the cosine whose cos(pi t/T) is 1, sqrt3/2, sqrt2/2, 1/2, 0 and the negatives.
NICE_PHASES = tuple(sp.Rational(k, 12) for k in (0, 2, 3, 4, 6, 8, 9, 10, 12))
EXACT_COS = {x: sp.cos(sp.pi * x) for x in NICE_PHASES}  # sympy's radicals, computed once
# cos(pi x) and (1 + cos(pi x))/2 for each nice phase x, as the key writes them.
COS_TEX = {0: "1", 2: r"\tfrac{\sqrt3}{2}", 3: r"\tfrac{\sqrt2}{2}", 4: r"\tfrac12", 6: "0",
           8: r"-\tfrac12", 9: r"-\tfrac{\sqrt2}{2}", 10: r"-\tfrac{\sqrt3}{2}", 12: "-1"}
FACTOR_TEX = {0: "1", 2: r"\tfrac{2+\sqrt3}{4}", 3: r"\tfrac{2+\sqrt2}{4}", 4: r"\tfrac34", 6: r"\tfrac12",
              8: r"\tfrac14", 9: r"\tfrac{2-\sqrt2}{4}", 10: r"\tfrac{2-\sqrt3}{4}", 12: "0"}
ANGLE_TEX = {0: "0", 2: r"\tfrac{\pi}{6}", 3: r"\tfrac{\pi}{4}", 4: r"\tfrac{\pi}{3}", 6: r"\tfrac{\pi}{2}",
             8: r"\tfrac{2\pi}{3}", 9: r"\tfrac{3\pi}{4}", 10: r"\tfrac{5\pi}{6}", 12: r"\pi"}
# The figure: a plot of WIDTH x HEIGHT picture units (see the template).
WIDTH, HEIGHT = 110, 40
SAMPLES = 60  # at most this many segments of the curve


@register
class LrSchedule(Family):
    id = "lr_schedule"
    title = "Learning-rate schedules: step, exponential, cosine, warm-up"
    answer_labels = {"lr": "the learning rate at each of the given steps"}
    tolerances = {"lr": TOLERANCE}
    options = {
        "schedules": Option(list(SCHEDULES), "schedules to draw from: " + ", ".join(SCHEDULES),
                            strs_from(SCHEDULES)),
        "count": Option(4, "number of steps at which the learning rate is asked", int_in(3, 5)),
    }

    def heading(self, params: dict[str, Any]) -> str:
        return "Learning-rate schedule: " + HEADINGS[params["schedule"]]

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        schedule = pick(rng, options["schedules"])
        base = pick(rng, BASE_LRS)
        return {"schedule": schedule, "base_lr": base, **DRAWS[schedule](rng, base, options["count"])}

    def solve(self, params: dict[str, Any]) -> Solution:
        exact = [learning_rate(params, t) for t in params["steps"]]
        rows = [row(params, t, value) for t, value in zip(params["steps"], exact, strict=True)]
        # the square roots the asked rates use, for the key's line of their decimals
        roots = [n for n in (2, 3) if any(row.get("cos") and f"sqrt{n}" in row["cos"] for row in rows)]
        return Solution(answers={"lr": [shown(v) for v in exact]},
                        work={"rows": rows, "plot": plot(params), "horizon": horizon(params), "roots": roots,
                              **span(params)})

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        steps, schedule = params["steps"], params["schedule"]

        def each(mistake: str) -> list[sp.Expr]:
            return [shown(learning_rate(params, t, mistake)) for t in steps]

        slips = [Slip("lr", "off_by_one", "you counted one scheduler step too many (t + 1 instead of t)",
                      [shown(learning_rate(params, t + 1)) for t in steps])]
        if schedule == "step":
            slips.append(Slip("lr", "decays_late", "you decayed one step late: StepLR multiplies by gamma as "
                              "soon as t reaches a multiple of step_size", each("decays_late")))
        if schedule in ("cosine", "warmup_cosine"):
            slips += [Slip("lr", "sine", "you used the sine instead of the cosine", each("sine")),
                      Slip("lr", "no_half", "you left out the factor 1/2 in (1 + cos)/2", each("no_half"))]
            if params["eta_min"] != 0:
                slips.append(Slip("lr", "no_eta_min", "you decayed towards 0 instead of towards eta_min",
                                  each("no_eta_min")))
        if schedule == "warmup_cosine":
            slips += [Slip("lr", "no_warmup", "you started at the base rate instead of warming up from 0",
                           each("no_warmup")),
                      Slip("lr", "cosine_from_zero", "you measured the cosine's angle from step 0 over all "
                           "total_steps instead of from the end of the warm-up", each("cosine_from_zero"))]
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        schedule = params["schedule"]
        problems = domain.choice("schedule", schedule, SCHEDULES)
        problems += domain.decimal("base_lr", params["base_lr"], 0, 1, 4, above=True)
        if problems:
            return problems
        expected = {"schedule", "base_lr", "steps", *OWN[schedule]}
        if set(params) != expected:
            return [f"a {schedule} schedule takes the values {', '.join(sorted(OWN[schedule]))} "
                    f"(got {', '.join(sorted(set(params) - {'schedule', 'base_lr', 'steps'}))})"]
        problems += CHECKS[schedule](params)
        return problems or check_steps(params)

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        problems = self.check_params(params)
        if problems:
            return problems
        answer = solution.answers["lr"]
        for slip in self.slips(params, solution):
            if all(abs(s - a) <= TOLERANCE.value for s, a in zip(slip.value, answer, strict=True)):
                problems.append(f"the slip {slip.name} gives the right rates within the tolerance")
        return problems


# --- the schedules -------------------------------------------------------------


def learning_rate(params: dict[str, Any], t: int, mistake: str = "") -> sp.Expr:
    """The exact rate after t scheduler steps; `mistake` names a slip's changed step."""
    base, schedule = params["base_lr"], params["schedule"]
    if schedule == "step":
        # torch: base * gamma ** (t // step_size); "late" decays at step_size + 1
        decays = max(t - 1, 0) // params["step_size"] if mistake == "decays_late" else t // params["step_size"]
        return base * params["gamma"] ** decays
    if schedule == "exponential":
        return base * params["gamma"] ** t
    if schedule == "cosine":
        return cosine(base, params["eta_min"], sp.Rational(t, params["T_max"]), mistake)
    warmup, total = params["warmup_steps"], params["total_steps"]
    if t < warmup:
        return base if mistake == "no_warmup" else base * sp.Rational(t, warmup)
    phase = sp.Rational(t, total) if mistake == "cosine_from_zero" else sp.Rational(t - warmup, total - warmup)
    return cosine(base, params["eta_min"], phase, mistake)


def cosine(base: sp.Rational, eta_min: sp.Rational, phase: sp.Rational, mistake: str = "") -> Any:
    """eta_min + (base - eta_min)(1 + cos(pi phase))/2, CosineAnnealingLR's closed form:
    exact (sympy) at the angles the problems ask; a slip's rate, at any angle, to 50
    digits (generator.rounding), which is all its rounding needs and far faster."""
    if not mistake and phase in EXACT_COS:
        return eta_min + (base - eta_min) * (1 + EXACT_COS[phase]) / 2
    trig = rounding.CONTEXT.sin if mistake == "sine" else rounding.CONTEXT.cos
    half = 1 if mistake == "no_half" else sp.Rational(1, 2)
    low = 0 if mistake == "no_eta_min" else eta_min
    wave = 1 + trig(rounding.CONTEXT.pi * rounding.real(phase))
    return rounding.real(low) + rounding.real(base - low) * wave * rounding.real(half)


def shown(value: Any) -> sp.Rational:
    """What the key states: a rational rate exactly, an irrational one to PLACES decimals."""
    if isinstance(value, sp.Rational):
        return value
    return rounded(value, PLACES)


# --- drawing -------------------------------------------------------------------


def _sample(rng: np.random.Generator, items: list[int], k: int) -> list[int]:
    return [items[int(i)] for i in rng.permutation(len(items))[:k]]


def _draw_step(rng: np.random.Generator, base: sp.Rational, count: int) -> dict[str, Any]:
    size, gamma = pick(rng, STEP_SIZES), pick(rng, STEP_GAMMAS)
    decays = max(k for k in (2, 3) if base * gamma**k >= SMALLEST)  # every base and gamma allow 2
    # one step exactly at a decay and one just before another, where the boundary matters
    at = size * int(rng.integers(1, decays + 1))
    before = size * int(rng.integers(1, decays + 1)) - 1
    chosen = {at, before}
    rest = [t for t in range(1, (decays + 1) * size) if t not in chosen]
    return {"step_size": size, "gamma": gamma, "steps": sorted(chosen | set(_sample(rng, rest, count - len(chosen))))}


def _draw_exponential(rng: np.random.Generator, base: sp.Rational, count: int) -> dict[str, Any]:
    gamma = pick(rng, EXP_GAMMAS)
    allowed = [t for t in range(1, EXP_HORIZON + 1) if base * gamma**t >= SMALLEST]
    return {"gamma": gamma, "steps": sorted(_sample(rng, allowed, count))}


def _nice_steps(length: int, offset: int = 0) -> list[int]:
    return [offset + int(length * x) for x in NICE_PHASES if (length * x).q == 1]


def _eta_min(rng: np.random.Generator, base: sp.Rational) -> sp.Rational:
    return pick(rng, [sp.Integer(0), sp.Integer(0), base / 10, base / 100])


def _draw_cosine(rng: np.random.Generator, base: sp.Rational, count: int) -> dict[str, Any]:
    length = pick(rng, [n for n in COSINE_LENGTHS if len(_nice_steps(n)) > count])
    eta_min = _eta_min(rng, base)
    steps = _sample(rng, _nice_steps(length)[1:], count)  # t = 0 (the base rate) is not worth asking
    return {"T_max": length, "eta_min": eta_min, "steps": sorted(steps)}


def _draw_warmup_cosine(rng: np.random.Generator, base: sp.Rational, count: int) -> dict[str, Any]:
    warmup = pick(rng, WARMUPS)
    length = pick(rng, [n for n in COSINE_LENGTHS if 2 * warmup <= n <= 20 * warmup])
    eta_min = _eta_min(rng, base)
    total = warmup + length
    warming = _sample(rng, list(range(1, warmup)), 1 + int(count >= 4 and rng.integers(2)))
    # one step strictly inside the cosine, where its angle counts from the warm-up's end
    nice = _nice_steps(length, warmup)
    inside = pick(rng, nice[1:-1])
    others = [t for t in nice if t != inside]
    cosine_steps = [inside, *_sample(rng, others, count - len(warming) - 1)]
    return {"warmup_steps": warmup, "total_steps": total, "eta_min": eta_min,
            "steps": sorted([*warming, *cosine_steps])}


DRAWS: dict[str, Callable[[np.random.Generator, sp.Rational, int], dict[str, Any]]] = {
    "step": _draw_step, "exponential": _draw_exponential, "cosine": _draw_cosine,
    "warmup_cosine": _draw_warmup_cosine,
}
OWN = {"step": {"step_size", "gamma"}, "exponential": {"gamma"}, "cosine": {"T_max", "eta_min"},
       "warmup_cosine": {"warmup_steps", "total_steps", "eta_min"}}


# --- the parameters' domain ----------------------------------------------------


def _check_step(params: dict[str, Any]) -> list[str]:
    return [*domain.integer("step_size", params["step_size"], 1, 10**4),
            *domain.decimal("gamma", params["gamma"], 0, 1, 2, above=True, below=True)]


def _check_exponential(params: dict[str, Any]) -> list[str]:
    return domain.decimal("gamma", params["gamma"], 0, 1, 2, above=True, below=True)


def _check_eta_min(params: dict[str, Any]) -> list[str]:
    problems = domain.decimal("eta_min", params["eta_min"], 0, 1, 6)
    if not problems and params["eta_min"] >= params["base_lr"]:
        problems.append("eta_min must be smaller than base_lr")
    return problems


def _check_cosine(params: dict[str, Any]) -> list[str]:
    return [*domain.integer("T_max", params["T_max"], 2, 10**5), *_check_eta_min(params)]


def _check_warmup_cosine(params: dict[str, Any]) -> list[str]:
    problems = [*domain.integer("warmup_steps", params["warmup_steps"], 1, 10**5),
                *domain.integer("total_steps", params["total_steps"], 2, 2 * 10**5), *_check_eta_min(params)]
    if not problems and params["total_steps"] <= params["warmup_steps"]:
        problems.append("total_steps must be larger than warmup_steps")
    return problems


CHECKS = {"step": _check_step, "exponential": _check_exponential, "cosine": _check_cosine,
          "warmup_cosine": _check_warmup_cosine}


def check_steps(params: dict[str, Any]) -> list[str]:
    """Distinct increasing integers inside the schedule's span; cosine steps at angles
    whose cosine a student knows exactly (multiples of pi/6 or pi/4)."""
    steps = params["steps"]
    if (not isinstance(steps, list) or not 1 <= len(steps) <= 8
            or not all(domain.is_integer(t) and t >= 0 for t in steps)):
        return ["steps must be a list of 1 to 8 step numbers (integers from 0)"]
    if any(a >= b for a, b in zip(steps, steps[1:], strict=False)):
        return ["steps must be increasing"]
    end = last_step(params)
    if steps[-1] > end:
        return [f"steps must be at most {end} for this schedule"]
    if params["schedule"] in ("cosine", "warmup_cosine"):
        start = params.get("warmup_steps", 0)
        length = horizon(params) - start
        if any(t >= start and sp.Rational(t - start, length) not in NICE_PHASES for t in steps):
            return ["steps in the cosine part must be at multiples of 1/6 or 1/4 of its length "
                    "(cos(pi t/T) exact)"]
    if any(learning_rate(params, t) < SMALLEST and params["schedule"] in ("step", "exponential") for t in steps):
        return [f"steps must keep the decayed rate at least {decimal_text(SMALLEST)} (six decimals show it)"]
    return []


def last_step(params: dict[str, Any]) -> int:
    """The largest step a problem may ask: the end of the cosine, or a few decays (whose
    rate must then still show in six decimals)."""
    schedule = params["schedule"]
    if schedule == "step":
        return DECAY_LIMIT * params["step_size"]
    return DECAY_LIMIT if schedule == "exponential" else horizon(params)


# --- what the key shows --------------------------------------------------------


def horizon(params: dict[str, Any]) -> int:
    """The last step the problem is about: the end of the cosine, or a little past the
    asked steps of the decays."""
    schedule = params["schedule"]
    if schedule == "cosine":
        return params["T_max"]
    if schedule == "warmup_cosine":
        return params["total_steps"]
    if schedule == "step":
        size = params["step_size"]
        return max(params["steps"][-1] // size + 1, 2) * size
    return max(params["steps"][-1], EXP_HORIZON)


def span(params: dict[str, Any]) -> dict[str, Any]:
    """The cosine's drop eta_0 - eta_min and its length in steps."""
    if params["schedule"] not in ("cosine", "warmup_cosine"):
        return {}
    return {"drop": params["base_lr"] - params["eta_min"],
            "length": horizon(params) - params.get("warmup_steps", 0)}


def row(params: dict[str, Any], t: int, value: sp.Expr) -> dict[str, Any]:
    """The worked line of one asked step."""
    line: dict[str, Any] = {"t": t, "value": value, "exact": isinstance(value, sp.Rational),
                            "shown": fixed(rounded(value, PLACES), PLACES), "long": not _short(value)}
    schedule = params["schedule"]
    if schedule == "step":
        line["decays"] = t // params["step_size"]
    elif schedule == "warmup_cosine" and t < params["warmup_steps"]:
        line["phase"] = "warmup"
    if schedule in ("cosine", "warmup_cosine") and "phase" not in line:
        start = params.get("warmup_steps", 0)
        fraction = sp.Rational(t - start, horizon(params) - start)
        k = int(fraction * 12)
        line |= {"phase": "cosine", "since": t - start, "angle": Tex(ANGLE_TEX[k]), "cos": Tex(COS_TEX[k]),
                 "factor": Tex(FACTOR_TEX[k]), "factor_value": (1 + sp.cos(sp.pi * fraction)) / 2}
    return line


def _short(value: sp.Expr) -> bool:
    return isinstance(value, sp.Rational) and terminates(value) and (value * 10**PLACES).q == 1


def plot(params: dict[str, Any]) -> dict[str, Any]:
    """Picture-mode coordinates of the schedule's curve over 0..horizon, the asked
    steps' points on it and the axis labels, all from learning_rate (the key's values)."""
    end, base = horizon(params), params["base_lr"]

    def x(t: int) -> sp.Rational:
        return rounded(sp.Rational(WIDTH * t, end), 1)

    def y(value: Any) -> sp.Rational:
        # a drawing coordinate to a tenth of a unit (0.05 mm): a float is plenty
        return sp.Rational(round(float(HEIGHT * value / base) * 10), 10)

    if params["schedule"] == "step":  # a staircase: constant between the decays
        size = params["step_size"]
        levels = [y(learning_rate(params, k * size)) for k in range(end // size)]
        path = [(x(t), level) for k, level in enumerate(levels) for t in (k * size, (k + 1) * size)]
    else:
        stride = max(1, -(-end // SAMPLES))
        times = sorted({*range(0, end, stride), end, *params["steps"]})
        path = [(x(t), y(learning_rate(params, t))) for t in times]
    points = [(x(t), y(learning_rate(params, t))) for t in params["steps"]]
    return {"path": path, "points": points, "x_ticks": _x_ticks(params, end, x),
            "y_ticks": _y_ticks(params, y), "axis_x": WIDTH + 8, "label_x": WIDTH + 10, "axis_y": HEIGHT + 8,
            "label_y": HEIGHT + 10, "box_x": WIDTH + 34, "box_y": HEIGHT + 22}


def _x_ticks(params: dict[str, Any], end: int, x: Callable[[int], sp.Rational]) -> list[tuple[sp.Rational, int]]:
    schedule = params["schedule"]
    if schedule == "step":
        marks = list(range(0, end + 1, params["step_size"]))
    elif schedule == "warmup_cosine":
        marks = [0, params["warmup_steps"], end]
    elif schedule == "cosine":
        marks = [0, end // 2, end] if end % 2 == 0 else [0, end]
    else:
        marks = list(range(0, end + 1, 2))
    ticks: list[tuple[sp.Rational, int]] = []
    for t in marks:  # a label too close to the previous one would overprint it
        if not ticks or x(t) - ticks[-1][0] >= 9:
            ticks.append((x(t), t))
    return ticks


def _y_ticks(params: dict[str, Any], y: Callable[[sp.Expr], sp.Rational]) -> list[tuple[sp.Rational, sp.Rational]]:
    ticks = [(y(params["base_lr"]), params["base_lr"]), (sp.Integer(0), sp.Integer(0))]
    eta_min = params.get("eta_min", 0)
    if eta_min and y(eta_min) >= 6:
        ticks.append((y(eta_min), eta_min))
    return ticks
