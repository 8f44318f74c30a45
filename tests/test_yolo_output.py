import sympy as sp
import torch
from family_suite import FamilySuite

from generator.family import get_family
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "yolo_output"
WIDE = {"grid_sizes": list(range(1, 33)), "boxes": list(range(1, 7)), "classes": [1, 2, 20, 80, 1000]}


def _torch_head(s: int, b: int, c: int) -> torch.Tensor:
    """The output assembled from its parts on the meta device: per cell, B boxes of
    (x, y, w, h, confidence) flattened, followed by the cell's C class probabilities."""
    boxes = torch.zeros(s, s, b, 4, device="meta")
    confidence = torch.zeros(s, s, b, 1, device="meta")
    classes = torch.zeros(s, s, c, device="meta")
    return torch.cat([torch.cat([boxes, confidence], dim=-1).flatten(2), classes], dim=-1)


def _check_against_torch(p: dict, a: dict) -> None:
    head = _torch_head(p["S"], p["B"], p["C"])
    assert a["per_cell"] == head.shape[-1]
    assert a["output_size"] == head.numel()
    # the flat output splits back into boxes and classes along the cell vector
    box_part, class_part = torch.zeros(a["output_size"], device="meta").view(
        p["S"], p["S"], a["per_cell"]).split([a["per_cell"] - p["C"], p["C"]], dim=-1)
    assert a["boxes_total"] == box_part.reshape(p["S"], p["S"], p["B"], 5)[..., 4].numel()
    assert class_part.shape == (p["S"], p["S"], p["C"])


class TestYoloOutput(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "wide": WIDE}
    pins = [
        ({"S": 0}, "S must be an integer from 1 to 32"),
        ({"B": "1/2"}, "B must be an integer from 1 to 6"),
        ({"C": 100000}, "C must be an integer from 1 to 1000"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract["params"], contract["answers"])


def test_sheet_003_exercise_25():
    """S = 13, B = 5, C = 80: 105 numbers per cell, 13 * 13 * 105 = 17,745 per image."""
    answers = get_family(FAMILY).solve({"S": sp.Integer(13), "B": sp.Integer(5), "C": sp.Integer(80)}).answers
    assert answers["per_cell"] == 105
    assert answers["output_size"] == 17_745
    assert answers["boxes_total"] == 845


def test_yolo_v1_configuration():
    """The original paper: S = 7, B = 2, C = 20 gives a 7 x 7 x 30 tensor."""
    answers = get_family(FAMILY).solve({"S": sp.Integer(7), "B": sp.Integer(2), "C": sp.Integer(20)}).answers
    assert (answers["per_cell"], answers["output_size"]) == (30, 1470)


def test_default_draws_vary():
    """Issue #15: 48 distinct variants by default, and seeds 0 and 7 were the same problem."""
    assert make_problem(FAMILY, 0).fingerprint != make_problem(FAMILY, 7).fingerprint
    assert all(make_problem(FAMILY, seed).params["B"] >= 2 for seed in SEEDS)  # forgetting B is always visible
