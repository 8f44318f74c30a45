"""Inverted dropout by hand: a kept unit is divided by the keep probability, so the
expected activation is unchanged. Registered through the entry point in pyproject.toml
(not with @register)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from generator.draws import decimals, pick
from generator.family import Family, Slip, Solution

KEEP = ["1/2", "4/5", "3/4", "9/10"]
UNITS = 4


class ExampleDropout(Family):
    id = "example_dropout"
    title = "Inverted dropout on one activation vector (plugin example)"

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        # At least one unit kept and one dropped, so the scaling and the zeroing both show:
        # the number of dropped units is drawn first, then which ones.
        dropped = set(rng.choice(UNITS, size=int(rng.integers(1, UNITS)), replace=False).tolist())
        return {
            "keep_prob": sp.Rational(pick(rng, KEEP)),
            "x": decimals(rng, (UNITS,), 1, 3, nonzero=True),
            "mask": [sp.Integer(0 if i in dropped else 1) for i in range(UNITS)],
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        p, x, mask = params["keep_prob"], params["x"], params["mask"]
        return Solution(answers={"y": [xi * mi / p for xi, mi in zip(x, mask, strict=True)]},
                        work={"scale": 1 / p})

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        x, mask = params["x"], params["mask"]
        return [Slip("y", "no_rescale", "you zeroed the dropped units but did not divide the kept ones by p",
                     [xi * mi for xi, mi in zip(x, mask, strict=True)])]

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        kept = sum(params["mask"])
        return [] if 0 < kept < UNITS else ["every unit is kept or every unit is dropped"]
