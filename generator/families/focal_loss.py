"""The focal loss FL = -(1 - p_t)^gamma ln p_t (Lin et al.): the modulating multipliers
(1 - p_t)^gamma are exact rationals for decimal p_t and integer gamma and are the
answers; the losses involve logarithms, so the key shows them as exact expressions with
rounded decimals and they stay out of the answers."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, int_in, ints_from, one_of, register
from ..numbers import rounded, significant, terminates
from ..tolerance import Tolerance, half_unit

# Grids of probabilities p_t an instructor would pick, strictly between 0 and 1.
GRIDS = {
    "tenths": [sp.Rational(i, 10) for i in range(1, 10)],
    "twentieths": [sp.Rational(i, 20) for i in range(1, 20)],
}
DIGITS = 4  # significant digits shown for the logarithmic losses


@register
class FocalLoss(Family):
    id = "focal_loss"
    title = "Focal-loss multipliers for hard and easy examples"
    answer_labels = {
        "multipliers": "the focal-loss multiplier of each anchor",
        "hard_easy_ratio": "how many times larger the hardest anchor's multiplier is than the easiest's",
        "cross_entropies": "the cross-entropy of each anchor",
        "focal_losses": "the focal loss of each anchor",
    }
    # the key gives the ratio as about x.yz; the losses (logarithms) to four significant
    # digits, so a relative half unit of the fourth digit, doubled for rounded intermediates
    tolerances = {"hard_easy_ratio": half_unit(2), "cross_entropies": Tolerance("rel", Fraction(1, 1000)),
                  "focal_losses": Tolerance("rel", Fraction(1, 1000))}
    options = {
        "gammas": Option([2, 3], "focusing parameters gamma to draw from", ints_from(range(1, 6))),
        "grid": Option("twentieths", "p_t values are multiples of 0.1 (tenths) or 0.05 (twentieths)",
                       one_of(*GRIDS)),
        "count": Option(3, "number of examples (p_t values)", int_in(2, 5)),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        grid = GRIDS[options["grid"]]
        # One hard example (p_t < 1/2) and one easy one (p_t > 1/2) make the comparison;
        # the others are any distinct remaining grid values.
        hard = pick(rng, [p for p in grid if p < sp.Rational(1, 2)])
        easy = pick(rng, [p for p in grid if p > sp.Rational(1, 2)])
        rest = [p for p in grid if p not in (hard, easy)]
        others = [rest[int(i)] for i in rng.permutation(len(rest))[: options["count"] - 2]]
        return {"gamma": sp.Integer(pick(rng, options["gammas"])), "p_t": sorted([hard, easy, *others])}

    def solve(self, params: dict[str, Any]) -> Solution:
        gamma, probabilities = params["gamma"], params["p_t"]
        multipliers = [(1 - p) ** gamma for p in probabilities]
        rows = []
        for p, multiplier in zip(probabilities, multipliers, strict=True):
            cross_entropy = -sp.log(p)
            focal = multiplier * cross_entropy
            rows.append({
                "p": p, "q": 1 - p, "multiplier": multiplier,
                "ce_exact": cross_entropy, "focal_exact": focal,
                "ce_approx": significant(cross_entropy, DIGITS), "focal_approx": significant(focal, DIGITS),
            })
        return Solution(
            answers={"multipliers": multipliers, "hard_easy_ratio": multipliers[0] / multipliers[-1],
                     "cross_entropies": [row["ce_approx"] for row in rows],
                     "focal_losses": [row["focal_approx"] for row in rows]},
            work={"rows": rows, "hardest": rows[0], "easiest": rows[-1],
                  "ratio_terminates": terminates(multipliers[0] / multipliers[-1]),
                  **_reduction("easy", 1 / multipliers[-1]), **_reduction("hard", 1 / multipliers[0])},
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        gamma, probabilities = params["gamma"], params["p_t"]
        ratio = solution.answers["hard_easy_ratio"]
        slips = [
            Slip("multipliers", "p_not_one_minus", "you raised p_t to the power gamma; the multiplier is "
                 "(1 - p_t)^gamma, small for confident correct predictions", [p**gamma for p in probabilities]),
            Slip("multipliers", "no_power", "you left out the power gamma and used 1 - p_t",
                 [1 - p for p in probabilities]),
            Slip("multipliers", "times_gamma", "you multiplied by gamma instead of raising to the power gamma",
                 [gamma * (1 - p) for p in probabilities]),
            Slip("hard_easy_ratio", "inverted", "you divided the easy example's multiplier by the hard one's",
                 1 / ratio),
        ]
        # with gamma = 1 leaving out the power, or multiplying by gamma, gives the answer itself: not offered
        return [slip for slip in slips if slip.value != solution.answers[slip.answer]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        probabilities = params["p_t"]
        # an integer gamma keeps the multipliers exact; the grid keeps them short decimals
        problems = domain.integer("gamma", params["gamma"], 1, 5)
        if domain.shape(probabilities) not in [(n,) for n in range(2, 6)]:
            return [*problems, "p_t must be a list of 2 to 5 probabilities"]
        problems += domain.each("p_t", probabilities,
                                lambda name, p: domain.decimal(name, p, 0, 1, 2, above=True, below=True))
        if problems:
            return problems
        if any((p * 20).q != 1 for p in probabilities):
            problems.append("p_t must be multiples of 0.05")
        if any(a >= b for a, b in zip(probabilities, probabilities[1:], strict=False)):
            problems.append("p_t must be increasing, from the hardest example to the easiest")
        if not probabilities[0] < sp.Rational(1, 2) < probabilities[-1]:
            problems.append("p_t needs a hard (p_t < 0.5) and an easy (p_t > 0.5) example to compare")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        multipliers = solution.answers["multipliers"]
        problems = self.check_params(params)
        if any(a <= b for a, b in zip(multipliers[:-1], multipliers[1:], strict=True)):
            problems.append("the multipliers do not fall as p_t grows")
        return problems


def _reduction(name: str, value: sp.Rational) -> dict[str, Any]:
    """How much the focal loss divides an anchor's cross-entropy by: exactly, when two decimals
    say it all (4, 1.25), else rounded to two ("about 3.05", not "about 3.0517578125")."""
    exact = (value * 100).q == 1
    return {f"{name}_reduction": value if exact else rounded(value, 2), f"{name}_reduction_exact": exact}
