"""One SGD step with and without L2 weight decay (PyTorch's definition: the decay
term lambda*w is added to the gradient), and the equivalent shrinkage form."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..family import Family, Option, Solution, int_in, register

# Learning rates and decay strengths an instructor would write on the board; with
# decimal weights and gradients every answer terminates as a short decimal.
LEARNING_RATES = ["1/10", "1/20", "1/50", "1/100", "1/5", "1/4", "1/2"]
DECAYS = ["1/10", "1/20", "1/50", "1/100", "1/5", "1/1000"]


def _decimal(rng: np.random.Generator, places: int, limit: int) -> sp.Rational:
    """A non-zero decimal with `places` digits after the point, |value| <= limit."""
    scale = 10**places
    magnitude = int(rng.integers(1, limit * scale + 1))
    sign = 1 if rng.integers(0, 2) else -1
    return sp.Rational(sign * magnitude, scale)


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
            "lr": sp.Rational(LEARNING_RATES[rng.integers(len(LEARNING_RATES))]),
            "weight_decay": sp.Rational(DECAYS[rng.integers(len(DECAYS))]),
            "w": _decimal(rng, places, 2),
            "grad": _decimal(rng, places, 1),
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

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        a = solution.answers
        problems = []
        if a["w_plain"] == a["w_decay"]:
            problems.append("weight decay changes nothing")
        if a["w_decay"] != a["shrink_factor"] * params["w"] - params["lr"] * params["grad"]:
            problems.append("shrinkage form disagrees with the update")
        return problems
