import pytest
import sympy as sp
import torch
from hypothesis import given
from oracle import slip_difference_rates
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

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


@pytest.mark.parametrize("options", [{}, WIDE], ids=["default", "wide"])
@pytest.mark.parametrize("seed", SEEDS)
def test_matches_torch(seed, options):
    obj = make_problem(FAMILY, seed, options).contract()
    _check_against_torch(obj["params"], obj["answers"])


def _check_against_torch(p: dict, a: dict) -> None:
    head = _torch_head(p["S"], p["B"], p["C"])
    assert a["per_cell"] == head.shape[-1]
    assert a["output_size"] == head.numel()
    # the flat output splits back into boxes and classes along the cell vector
    box_part, class_part = torch.zeros(a["output_size"], device="meta").view(
        p["S"], p["S"], a["per_cell"]).split([a["per_cell"] - p["C"], p["C"]], dim=-1)
    assert a["boxes_total"] == box_part.reshape(p["S"], p["S"], p["B"], 5)[..., 4].numel()
    assert class_part.shape == (p["S"], p["S"], p["C"])


@PROPERTY
@given(seed=SEED, options=OPTIONS[FAMILY])
def test_property_yolo_output(seed: int, options: dict) -> None:
    """Any seed, any valid options: the contract holds and the sizes are torch's."""
    obj = feasible(FAMILY, seed, options).contract()
    _check_against_torch(obj["params"], obj["answers"])


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


def test_every_variant_is_well_posed():
    family = get_family(FAMILY)
    for seed in SEEDS:
        for options in ({}, WIDE):
            problem = make_problem(FAMILY, seed, options)
            assert family.check(problem.params, problem.solution) == []
            assert all(isinstance(v, sp.Integer) for v in problem.solution.answers.values())
        assert make_problem(FAMILY, seed).params["B"] >= 2  # default: forgetting B is always visible


def test_slips_differ_from_the_answer():
    rates = slip_difference_rates(FAMILY, SEEDS)
    assert len(rates) >= 2
    assert all(rate >= 0.95 for rate in rates.values()), rates


@pytest.mark.parametrize(("pin", "says"), [
    ({"S": 0}, "S must be an integer from 1 to 32"),
    ({"B": "1/2"}, "B must be an integer from 1 to 6"),
    ({"C": 100000}, "C must be an integer from 1 to 1000"),
])
def test_nonsensical_pins_are_rejected_by_name(pin: dict, says: str) -> None:
    """Pinned values outside the family's domain are refused with a message naming the parameter."""
    assert says in rejected(FAMILY, pin)
