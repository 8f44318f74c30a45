"""Size of the output tensor of a YOLO-style detector (the original YOLO's layout): an
S x S grid, every cell predicting B boxes of 4 coordinates and a confidence each, plus
one vector of C class probabilities shared by the cell's boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, ints_from, register

BOX_NUMBERS = 5  # x, y, w, h and the confidence of one box
GRIDS = list(range(7, 20))
# Small custom data sets, PASCAL VOC's 20, COCO's 80 and a few between: with the grids and
# the boxes, 975 combinations, so a class rarely shares a variant.
CLASSES = [2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 80, 100]


@register
class YoloOutput(Family):
    id = "yolo_output"
    title = "Size of a YOLO detector's output tensor"
    answer_labels = {
        "per_cell": "the number of values one grid cell predicts",
        "output_size": "the number of values in the output tensor",
        "boxes_total": "the number of candidate boxes per image",
    }
    options = {
        # Grids of 7 (YOLOv1's 448-pixel input) to 19 cells (608 pixels at a stride of 32).
        "grid_sizes": Option(GRIDS, "grid sides S to draw from", ints_from(range(1, 33))),
        # At least two boxes by default: with B = 1 forgetting B gives the right count.
        "boxes": Option([2, 3, 4, 5, 6], "boxes per cell B to draw from", ints_from(range(1, 7))),
        "classes": Option(CLASSES, "numbers of classes C to draw from", ints_from(range(1, 1001))),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "S": sp.Integer(pick(rng, options["grid_sizes"])),
            "B": sp.Integer(pick(rng, options["boxes"])),
            "C": sp.Integer(pick(rng, options["classes"])),
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        s, b, c = params["S"], params["B"], params["C"]
        per_cell = BOX_NUMBERS * b + c
        return Solution(
            answers={"per_cell": per_cell, "output_size": s * s * per_cell, "boxes_total": s * s * b},
            work={"cells": s * s, "box_numbers": BOX_NUMBERS * b, "centre": s // 2},
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        s, b, c = params["S"], params["B"], params["C"]
        slips = [
            Slip("per_cell", "forgot_boxes", "you counted the 5 box numbers once; each of the B boxes has its own",
                 BOX_NUMBERS + c),
            Slip("per_cell", "boxes_plus_classes", "you added B and C; each box needs 5 numbers, not one",
                 b + c),
            Slip("per_cell", "no_confidence", "you left out the confidence score: a box has 4 coordinates and "
                 "1 confidence", 4 * b + c),
            Slip("per_cell", "classes_per_box", "you gave every box its own class probabilities; here the C "
                 "class probabilities are predicted once per cell", b * (BOX_NUMBERS + c)),
            Slip("output_size", "one_side", "you multiplied by S once; the grid has S x S cells",
                 s * solution.answers["per_cell"]),
            Slip("output_size", "forgot_boxes", "you counted the 5 box numbers once per cell instead of B times",
                 s * s * (BOX_NUMBERS + c)),
            Slip("boxes_total", "one_side", "you multiplied by S once; the grid has S x S cells", s * b),
        ]
        # with B = 1 or S = 1 (options allow them) some mistakes give the answer itself: not offered
        return [slip for slip in slips if slip.value != solution.answers[slip.answer]]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        return [*domain.integer("S", params["S"], 1, 32), *domain.integer("B", params["B"], 1, 6),
                *domain.integer("C", params["C"], 1, 1000)]

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        c = params["C"]
        a = solution.answers
        problems = self.check_params(params)
        if a["output_size"] != a["per_cell"] * solution.work["cells"] or a["output_size"] <= a["boxes_total"]:
            problems.append("output size is not cells times numbers per cell")
        if (a["per_cell"] - c) % BOX_NUMBERS:
            problems.append("box part of a cell's vector is not a multiple of 5")
        return problems
