"""One SGD step with and without L2 weight decay (PyTorch's definition: the decay
term lambda*w is added to the gradient), and the equivalent shrinkage form."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..draws import decimal, pick
from ..family import Family, Option, Slip, Solution, int_in, register

# Learning rates and decay strengths an instructor would write on the board; with
# decimal weights and gradients every answer terminates as a short decimal.
LEARNING_RATES = ["1/10", "1/20", "1/50", "1/100", "1/5", "1/4", "1/2"]
DECAYS = ["1/10", "1/20", "1/50", "1/100", "1/5", "1/1000"]


@register
class SgdStep(Family):
    id = "sgd_step"
    title = "One SGD step with and without weight decay"
    options = {
        "places": Option(2, "digits after the decimal point of w and the gradient", int_in(1, 2)),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        places = options["places"]
        return {
            "lr": sp.Rational(pick(rng, LEARNING_RATES)),
            "weight_decay": sp.Rational(pick(rng, DECAYS)),
            "w": decimal(rng, places, 2),
            "grad": decimal(rng, places, 1),
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        lr, decay, w, grad = (params[k] for k in ("lr", "weight_decay", "w", "grad"))
        decay_term = decay * w
        shrink = 1 - lr * decay
        w_plain = w - lr * grad
        w_decay = w - lr * (grad + decay_term)
        return Solution(
            answers={"w_plain": w_plain, "w_decay": w_decay, "shrink_factor": shrink},
            work={
                "step_plain": lr * grad,
                "decay_term": decay_term,
                "total_grad": grad + decay_term,
                "step_decay": lr * (grad + decay_term),
                "shrunk_w": shrink * w,
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        lr, decay, w, grad = (params[k] for k in ("lr", "weight_decay", "w", "grad"))
        return [
            Slip("w_decay", "decay_sign", "you added the weight-decay term with the wrong sign",
                 w - lr * (grad - decay * w)),
            Slip("w_decay", "half_lambda", "you used lambda/2 instead of lambda (the derivative of "
                 "lambda/2 w^2 is lambda w)", w - lr * (grad + decay * w / 2)),
            Slip("w_decay", "lr_on_data_only", "you applied the learning rate to the data gradient only",
                 w - lr * grad - decay * w),
            Slip("w_plain", "wrong_direction", "you stepped along the gradient instead of against it",
                 w + lr * grad),
        ]

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        a = solution.answers
        problems = []
        if a["w_plain"] == a["w_decay"]:
            problems.append("weight decay changes nothing")
        if a["w_decay"] != a["shrink_factor"] * params["w"] - params["lr"] * params["grad"]:
            problems.append("shrinkage form disagrees with the update")
        return problems
