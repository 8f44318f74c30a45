"""One SGD step with and without L2 weight decay (PyTorch's definition: the decay
term lambda*w is added to the gradient) and the equivalent shrinkage form; with the
`momentum` option also two heavy-ball steps, with coupled (torch.optim.SGD) versus
decoupled (AdamW-style) decay."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain, numbers
from ..draws import decimal, decimal_beyond, pick
from ..family import Family, Option, Slip, Solution, boolean, int_in, register
from ..tolerance import DEFAULT_PLACES, Tolerance

# Pairs an instructor would write on the board: eta * lambda has at most four
# decimals, so with two-decimal weights every answer is a short terminating decimal.
LEARNING_RATES = ["1/10", "1/20", "1/5", "1/2", "1/4"]
DECAYS = ["1/10", "1/20", "1/50", "1/100", "1/5"]
MOMENTA = ["1/2", "9/10", "4/5"]
# The statement asks for weights to four decimals. The two-step momentum answers carry
# up to ten, so a student who rounds only at the end is within half a unit and one who
# keeps six decimals on the way within a few millionths: one unit accepts both.
MOMENTUM_TOLERANCE = Tolerance("abs", sp.Rational(1, 10**DEFAULT_PLACES))
# Answers the problem contrasts, and every slip, must sit farther from the answer than
# the tolerance plus the half unit a student's own rounding adds, or the grader could
# not tell them apart (a mistake would earn full marks).
SEPARATION = sp.Rational(3, 2 * 10**DEFAULT_PLACES)


@register
class SgdStep(Family):
    id = "sgd_step"
    title = "One SGD step with and without weight decay"
    answer_labels = {
        "w_plain": "the weight after one plain SGD step",
        "w_decay": "the weight after one step with weight decay",
        "shrink_factor": "the shrink factor c",
        "w_momentum_coupled": "the weight after two momentum steps with coupled weight decay",
        "w_momentum_decoupled": "the weight after two momentum steps with decoupled weight decay",
    }
    tolerances = {"w_momentum_coupled": MOMENTUM_TOLERANCE, "w_momentum_decoupled": MOMENTUM_TOLERANCE}
    contrasts = (("w_plain", "w_decay"), ("w_momentum_coupled", "w_momentum_decoupled"))
    options = {
        "places": Option(2, "digits after the decimal point of w and the gradients", int_in(1, 2)),
        "momentum": Option(False, "add two momentum steps, coupled versus decoupled decay", boolean),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        places = options["places"]
        lr, decay = sp.Rational(pick(rng, LEARNING_RATES)), sp.Rational(pick(rng, DECAYS))
        momentum = sp.Rational(pick(rng, MOMENTA)) if options["momentum"] else None
        w = decimal_beyond(rng, places, smallest_gradable_weight(lr, decay, momentum), 2)
        grad = first_gradient(rng, places, w, lr, decay, momentum)
        params = {"lr": lr, "weight_decay": decay, "w": w, "grad": grad}
        if momentum is not None:
            params["momentum"] = momentum
            params["grad2"] = decimal(rng, places, 1)
        return params


    def solve(self, params: dict[str, Any]) -> Solution:
        lr, decay, w, grad = (params[k] for k in ("lr", "weight_decay", "w", "grad"))
        decay_term = decay * w
        shrink = 1 - lr * decay
        answers = {
            "w_plain": w - lr * grad,
            "w_decay": w - lr * (grad + decay_term),
            "shrink_factor": shrink,
        }
        work = {
            "step_plain": lr * grad,
            "decay_term": decay_term,
            "total_grad": grad + decay_term,
            "step_decay": lr * (grad + decay_term),
            "shrunk_w": shrink * w,
        }
        if "momentum" in params:
            grads = [grad, params["grad2"]]
            coupled = momentum_steps(w, grads, lr, params["momentum"], decay, decoupled=False)
            decoupled = momentum_steps(w, grads, lr, params["momentum"], decay, decoupled=True)
            answers["w_momentum_coupled"] = coupled[-1]["w"]
            answers["w_momentum_decoupled"] = decoupled[-1]["w"]
            # The statement asks for four decimals; the key shows that rounding next to the exact value.
            work |= {"coupled": coupled, "decoupled": decoupled,
                     "coupled_rounded": numbers.rounded(coupled[-1]["w"], DEFAULT_PLACES),
                     "decoupled_rounded": numbers.rounded(decoupled[-1]["w"], DEFAULT_PLACES)}
        return Solution(answers=answers, work=work)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        lr, decay, w, grad = (params[k] for k in ("lr", "weight_decay", "w", "grad"))
        slips = [
            Slip("w_decay", "decay_sign", "you added the weight-decay term with the wrong sign",
                 w - lr * (grad - decay * w)),
            Slip("w_decay", "half_lambda", "you used lambda/2 instead of lambda (the derivative of "
                 "lambda/2 w^2 is lambda w)", w - lr * (grad + decay * w / 2)),
            Slip("w_decay", "lr_on_data_only", "you applied the learning rate to the data gradient only",
                 w - lr * grad - decay * w),
            Slip("w_plain", "wrong_direction", "you stepped along the gradient instead of against it",
                 w + lr * grad),
            Slip("shrink_factor", "no_lr_in_shrink", "you left the learning rate out of the shrink factor",
                 1 - decay),
        ]
        if "momentum" in params:
            grads = [grad, params["grad2"]]
            no_velocity = momentum_steps(w, grads, lr, 0, decay, decoupled=False)[-1]["w"]
            slips.append(Slip("w_momentum_coupled", "no_momentum",
                              "you ignored the velocity and took plain SGD steps", no_velocity))
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        # A step size above 1 or a decay of 1 and more overshoot or flip the weight, and
        # with c = 1 - lr*decay in (0, 1) the key's "shrinking towards zero" holds. Short
        # decimals keep every answer a short terminating decimal.
        problems = [*domain.decimal("lr", params["lr"], 0, 1, 3, above=True),
                    *domain.decimal("weight_decay", params["weight_decay"], 0, 1, 3, above=True, below=True),
                    *domain.decimal("w", params["w"], -10, 10, 2),
                    *domain.decimal("grad", params["grad"], -10, 10, 2, nonzero=True)]
        if "momentum" in params:
            problems += [*domain.decimal("momentum", params["momentum"], 0, 1, 2, above=True, below=True),
                         *domain.decimal("grad2", params["grad2"], -10, 10, 2, nonzero=True)]
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        a = solution.answers
        problems = self.check_params(params)
        if a["w_plain"] == a["w_decay"]:
            problems.append("weight decay changes nothing")
        if a["w_decay"] != a["shrink_factor"] * params["w"] - params["lr"] * params["grad"]:
            problems.append("shrinkage form disagrees with the update")
        if "momentum" in params and a["w_momentum_coupled"] == a["w_momentum_decoupled"]:
            problems.append("coupled and decoupled decay agree, so the contrast shows nothing")
        if abs(params["w"]) <= smallest_gradable_weight(params["lr"], params["weight_decay"], params.get("momentum")):
            problems.append("w is so small that the weight-decay term is lost in the rounding of the answers")
        return problems


def first_gradient(rng: np.random.Generator, places: int, w: sp.Rational, lr: sp.Rational, decay: sp.Rational,
                   momentum: sp.Rational | None) -> sp.Rational:
    """The data gradient of step 1. With momentum, the velocity it starts (g + lambda w)
    is what the no-momentum slip leaves out of step 2, so it must not nearly cancel."""
    if momentum is None:
        return decimal(rng, places, 1)
    scale = 10**places
    floor = SEPARATION / (lr * momentum)
    allowed = [sp.Rational(k, scale) for k in range(-scale, scale + 1)
               if k and abs(sp.Rational(k, scale) + decay * w) > floor]
    return pick(rng, allowed)


def smallest_gradable_weight(lr: sp.Rational, decay: sp.Rational, momentum: sp.Rational | None) -> sp.Rational:
    """|w| must exceed this for the decay to show in the four-decimal answers. The
    smallest gap the decay makes is half of lr*decay*|w| (the slip that uses lambda/2);
    with momentum, coupled and decoupled decay differ by exactly lr*momentum*decay*|w|
    after two steps (expand both updates: everything else cancels)."""
    bound = 2 * SEPARATION / (lr * decay)
    if momentum is not None:
        bound = max(bound, SEPARATION / (lr * momentum * decay))
    return bound


def momentum_steps(w: sp.Rational, grads: list[sp.Rational], lr: sp.Rational, mu: sp.Rational,
                   decay: sp.Rational, *, decoupled: bool) -> list[dict[str, sp.Rational]]:
    """Steps of torch.optim.SGD's heavy ball (v <- mu v + g, first v = g; w <- w - lr v).
    Coupled decay adds decay*w to g; decoupled decay shrinks w by (1 - lr*decay) first
    and leaves the velocity alone, as AdamW does."""
    steps, velocity = [], None
    for data_grad in grads:
        g = data_grad if decoupled else data_grad + decay * w
        velocity = g if velocity is None else mu * velocity + g
        start = (1 - lr * decay) * w if decoupled else w
        w = start - lr * velocity
        steps.append({"g": g, "v": velocity, "start": start, "step": lr * velocity, "w": w})
    return steps
