"""Xavier (Glorot) and Kaiming (He) initialisation as torch.nn.init computes it: the fans
of a Linear or Conv2d weight, the gain of the nonlinearity (calculate_gain), the variance
of each weight and the standard deviation (normal schemes) or the bound b of U(-b, b)
(uniform schemes). The gain squared is rational, so the variance is exact; the gain, the
standard deviation and the bound are square roots, rounded to four significant digits."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, ints_from, register, strs_from
from ..numbers import sqrt_significant, terminates, to_json
from ..shapes import weight_fans
from ..tolerance import Tolerance

SCHEMES = ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")
NONLINEARITIES = ("relu", "leaky_relu", "tanh", "linear")
MODES = ("fan_in", "fan_out")
LAYER_TYPES = ("Linear", "Conv2d")
# Negative slopes in use (YOLO's 0.1, DCGAN's 0.2). PyTorch's default 0.01 moves the gain
# by 0.005 %, far less than the tolerance, so it could not tell the leaky gain from ReLU's.
SLOPES = [sp.Rational(x) for x in ("1/10", "1/5", "1/4", "1/2")]
# Widths of real layers; powers of two and squares keep the fans' roots pleasant
# (3x3x16 = 144, 2*64 = 128), and in != out makes every fan slip visible.
LINEAR_IN = [64, 100, 128, 256, 512, 784, 1024]
LINEAR_OUT = [10, 32, 64, 128, 256, 512]
CONV_IN = [3, 16, 32, 64, 128, 256]
CONV_OUT = [16, 32, 64, 128, 256, 512]
DIGITS = 4  # significant digits of the gain, the standard deviation and the bound
# 0.2 %: a student who rounds intermediate values (the gain, the standard deviation, sqrt(3))
# to four significant digits and the result again stays within it; every slip is further
# away (check enforces it; the closest, ReLU's gain for a leaky slope of 0.1, is 0.5 % off).
RELATIVE = Tolerance("rel", Fraction(1, 500))
REAL_ANSWERS = ("gain", "variance", "std", "bound")


def gain_squared(nonlinearity: str, slope: sp.Rational) -> sp.Rational:
    """The square of torch.nn.init.calculate_gain: rational for every nonlinearity here."""
    return {"linear": sp.Integer(1), "relu": sp.Integer(2), "tanh": sp.Rational(25, 9),
            "leaky_relu": 2 / (1 + slope**2)}[nonlinearity]


def root(square: sp.Rational) -> sp.Rational:
    """The square root of a rational: exact when rational, else to DIGITS significant digits."""
    return sqrt_significant(square, DIGITS)


def is_square(value: sp.Rational) -> bool:
    """True when the square root of `value` is rational (the key then prints it exactly)."""
    return root(value) ** 2 == value


def is_xavier(scheme: str) -> bool:
    return scheme.startswith("xavier")


@register
class WeightInit(Family):
    id = "weight_init"
    title = "Xavier and Kaiming initialization: fans, gain, variance, std or bound"
    answer_labels = {
        "fan_in": "the fan-in of the weight",
        "fan_out": "the fan-out of the weight",
        "gain": "the gain",
        "variance": "the variance of each weight",
        "std": "the standard deviation of the normal distribution",
        "bound": "the bound b of the uniform distribution",
    }
    tolerances = {name: RELATIVE for name in REAL_ANSWERS}
    options = {
        "schemes": Option(list(SCHEMES), "initialization functions of torch.nn.init to draw from",
                          strs_from(SCHEMES)),
        "layers": Option(list(LAYER_TYPES), "layer types to draw from", strs_from(LAYER_TYPES)),
        "nonlinearities": Option(list(NONLINEARITIES), "activations after the layer (they set the gain)",
                                 strs_from(NONLINEARITIES)),
        "modes": Option(list(MODES), "Kaiming modes to draw from", strs_from(MODES)),
        "kernel_sizes": Option([3, 5, 7], "Conv2d kernel sizes to draw from", ints_from(range(1, 12))),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        scheme = pick(rng, options["schemes"])
        if pick(rng, options["layers"]) == "Linear":
            fan_in = pick(rng, LINEAR_IN)
            layer = {"type": "Linear", "in_features": fan_in,
                     "out_features": pick(rng, [n for n in LINEAR_OUT if n != fan_in])}
        else:
            channels = pick(rng, CONV_IN)
            layer = {"type": "Conv2d", "in_channels": channels,
                     "out_channels": pick(rng, [n for n in CONV_OUT if n != channels]),
                     "kernel_size": pick(rng, options["kernel_sizes"])}
        nonlinearity = pick(rng, options["nonlinearities"])
        return {
            "scheme": scheme,
            "layer": layer,
            "nonlinearity": nonlinearity,
            # torch's `a`: 0 unless the activation is a leaky ReLU (ReLU is the slope-0 case)
            "negative_slope": pick(rng, SLOPES) if nonlinearity == "leaky_relu" else sp.Integer(0),
            # only the Kaiming functions have a mode; null for Xavier
            "mode": None if is_xavier(scheme) else pick(rng, options["modes"]),
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        scheme = params["scheme"]
        fan_in, fan_out = weight_fans(params["layer"])
        gain_sq = gain_squared(params["nonlinearity"], params["negative_slope"])
        kind = "xavier" if is_xavier(scheme) else "kaiming"
        variance = variance_of(kind, fan_in, fan_out, gain_sq, params["mode"])
        fan = fan_in + fan_out if kind == "xavier" else (fan_in if params["mode"] == "fan_in" else fan_out)
        spread = {"bound": root(3 * variance)} if scheme.endswith("uniform") else {"std": root(variance)}
        answers = {"fan_in": sp.Integer(fan_in), "fan_out": sp.Integer(fan_out), "gain": root(gain_sq),
                   "variance": variance, **spread}
        work = {
            "fan": sp.Integer(fan), "gain_sq": gain_sq, "slope_sq": params["negative_slope"] ** 2,
            "std": root(variance),
            "std_exact": is_square(variance), "bound_sq": 3 * variance,
            "bound_exact": is_square(3 * variance),
            "uniform": scheme.endswith("uniform"), "xavier": is_xavier(scheme),
            "area": sp.Integer(fan_in // _in_width(params["layer"])),
            "variance_terminates": terminates(variance),
            "gain_sq_whole": gain_sq.q == 1,
        }
        return Solution(answers=answers, work=work)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        a = solution.answers
        slips = [*_fan_slips(int(a["fan_in"]), int(a["fan_out"]), int(solution.work["area"])),
                 *self._gain_slips(params), *self._spread_slips(params, solution)]
        gain_sq = solution.work["gain_sq"]
        if gain_sq != 1:
            slips.append(Slip("variance", "gain_not_squared", "you multiplied by the gain instead of its square: "
                              "scaling a weight by g scales its variance by g^2",
                              root(a["variance"] ** 2 / gain_sq)))
        if "bound" in a:
            slips.append(Slip("bound", "bound_is_std", "you gave the standard deviation: U(-b, b) has variance "
                              "b^2/3, so b = sqrt(3) times the standard deviation", solution.work["std"]))
        else:
            slips.append(Slip("std", "variance_not_rooted", "you gave the variance: the standard deviation is "
                              "its square root", a["variance"]))
        return slips

    def _spread_slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        """The variance and the std or bound with one step changed: the fans, the formula, the gain."""
        fan_in, fan_out = int(solution.answers["fan_in"]), int(solution.answers["fan_out"])
        gain_sq, area = solution.work["gain_sq"], int(solution.work["area"])
        xavier, mode = is_xavier(params["scheme"]), params["mode"]
        kind = "xavier" if xavier else "kaiming"
        changed = {"no_kernel_area": variance_of(kind, fan_in // area, fan_out // area, gain_sq, mode)
                   if area > 1 else None,
                   "no_gain": variance_of(kind, fan_in, fan_out, 1, mode) if gain_sq != 1 else None}
        if xavier:
            changed["kaiming_formula"] = variance_of("kaiming", fan_in, fan_out, gain_sq, "fan_in")
        elif fan_in != fan_out:
            changed["wrong_mode"] = variance_of(kind, fan_in, fan_out, gain_sq, _other(mode))
            changed["xavier_formula"] = variance_of("xavier", fan_in, fan_out, gain_sq, None)
        slips = []
        for name, variance in changed.items():
            if variance is not None:
                slips += _changed_spread(params["scheme"], name, variance)
        return slips

    def _gain_slips(self, params: dict[str, Any]) -> list[Slip]:
        nonlinearity, slope = params["nonlinearity"], params["negative_slope"]
        if nonlinearity == "relu":
            return [Slip("gain", "no_gain", "you used gain 1; ReLU zeroes half of its inputs, which torch "
                         "makes up for with the gain sqrt(2)", sp.Integer(1))]
        if nonlinearity == "tanh":
            return [Slip("gain", "relu_gain", "you used ReLU's gain sqrt(2); torch's gain for tanh is 5/3",
                         root(sp.Integer(2)))]
        if nonlinearity == "leaky_relu":
            return [Slip("gain", "slope_ignored", "you used ReLU's gain sqrt(2) and ignored the negative slope: "
                         "the gain is sqrt(2/(1 + a^2))", root(sp.Integer(2))),
                    Slip("gain", "slope_not_squared", "you forgot to square the negative slope: the gain is "
                         "sqrt(2/(1 + a^2))", root(2 / (1 + slope)))]
        return []

    def check_params(self, params: dict[str, Any]) -> list[str]:
        scheme, nonlinearity = params["scheme"], params["nonlinearity"]
        problems = [*domain.choice("scheme", scheme, SCHEMES),
                    *domain.choice("nonlinearity", nonlinearity, NONLINEARITIES),
                    *_layer_problems(params["layer"])]
        if nonlinearity == "leaky_relu":
            problems += domain.decimal("negative_slope", params["negative_slope"], 0, 1, 2, above=True, below=True)
        elif params["negative_slope"] != 0:
            problems.append(f"negative_slope must be 0 unless the nonlinearity is leaky_relu, got "
                            f"{domain.shown(params['negative_slope'])}")
        if isinstance(scheme, str) and is_xavier(scheme):
            if params["mode"] is not None:
                problems.append(f"mode must be left out (null) for {scheme}: only the Kaiming schemes have a mode")
        else:
            problems += domain.choice("mode", params["mode"], MODES)
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        problems = self.check_params(params)
        for slip in self.slips(params, solution):
            correct = solution.answers[slip.answer]
            tolerance = self.tolerance(slip.answer, to_json(correct))
            if tolerance.accepts(Fraction(str(slip.value)), Fraction(str(correct))):
                problems.append(f"the slip {slip.name} on {slip.answer} is within the tolerance of the answer")
        return problems


SAYS = {
    "no_kernel_area": "your fans counted channels only, without the k*k weights of each",
    "no_gain": "you left out the gain of the nonlinearity",
    "kaiming_formula": "you used Kaiming's gain^2/fan_in; Xavier averages the two fans: 2 gain^2/(fan_in + fan_out)",
    "wrong_mode": "you divided by the other fan; the mode says which fan Kaiming uses",
    "xavier_formula": "you used Xavier's 2/(fan_in + fan_out); Kaiming divides by one fan: gain^2/fan",
}


def variance_of(kind: str, fan_in: int, fan_out: int, gain_sq: Any, mode: str | None) -> sp.Rational:
    """Var(w): 2 g^2/(fan_in + fan_out) for Xavier, g^2/fan for Kaiming (fan by the mode)."""
    if kind == "xavier":
        return 2 * sp.Rational(gain_sq) / (fan_in + fan_out)
    return sp.Rational(gain_sq) / (fan_in if mode == "fan_in" else fan_out)


def _other(mode: str) -> str:
    return "fan_out" if mode == "fan_in" else "fan_in"


def _changed_spread(scheme: str, name: str, variance: sp.Rational) -> list[Slip]:
    """One mistake seen in the variance and in the answer derived from it."""
    if scheme.endswith("uniform"):
        spread = Slip("bound", name, SAYS[name], root(3 * variance))
    else:
        spread = Slip("std", name, SAYS[name], root(variance))
    return [Slip("variance", name, SAYS[name], variance), spread]


def _fan_slips(fan_in: int, fan_out: int, area: int) -> list[Slip]:
    """Fans swapped, and (convolutions) the kernel area left out."""
    slips = []
    if fan_in != fan_out:
        slips += [Slip("fan_in", "swapped", "you swapped fan-in and fan-out: the fan-in counts the inputs that "
                       "feed one output, the weight's dimension 1 (times k*k)", sp.Integer(fan_out)),
                  Slip("fan_out", "swapped", "you swapped fan-in and fan-out: the fan-out counts the outputs one "
                       "input feeds, the weight's dimension 0 (times k*k)", sp.Integer(fan_in))]
    if area > 1:
        slips += [Slip("fan_in", "no_kernel_area", "you counted channels only: each of them brings k*k weights, so "
                       "the fan-in is in_channels*k*k", sp.Integer(fan_in // area)),
                  Slip("fan_out", "no_kernel_area", "you counted channels only: the fan-out is out_channels*k*k",
                       sp.Integer(fan_out // area))]
    return slips


def _in_width(layer: dict[str, Any]) -> int:
    return layer["in_features"] if layer["type"] == "Linear" else layer["in_channels"]


def _layer_problems(layer: Any) -> list[str]:
    """A Linear or Conv2d layer in the contract's format, of a size real networks have."""
    if not isinstance(layer, dict) or layer.get("type") not in LAYER_TYPES:
        return ["layer must be a Linear or Conv2d layer, e.g. {type: Linear, in_features: 256, out_features: 10}"]
    keys = {"Linear": ("in_features", "out_features"),
            "Conv2d": ("in_channels", "out_channels", "kernel_size")}[layer["type"]]
    extra = sorted(set(layer) - {"type", *keys})
    if extra or not all(key in layer for key in keys):
        return [f"layer of type {layer['type']} must have exactly the keys {', '.join(keys)}"]
    problems = []
    for key in keys:
        problems += domain.integer(f"layer {key}", layer[key], 1, 11 if key == "kernel_size" else 4096)
    return problems
