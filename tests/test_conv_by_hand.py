import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from oracle import close, tensor
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.errors import InfeasibleError
from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "conv_by_hand"


def _torch_conv(p: dict) -> torch.Tensor:
    x, k = tensor(p["X"])[None, None], tensor(p["K"])[None, None]
    return F.conv2d(x, k, stride=p["stride"], padding=p["padding"])[0, 0]


def _check_against_torch(obj: dict) -> None:
    expected = _torch_conv(obj["params"])
    assert list(expected.shape) == obj["answers"]["output_shape"], obj["seed"]
    assert close(obj["answers"]["Y"], expected), obj["seed"]


@pytest.mark.parametrize("options", [{}, {"kernel": "integer"}, {"kernel": "average", "strides": [2]}])
def test_matches_torch_conv2d(options):
    for seed in SEEDS:
        _check_against_torch(make_problem(FAMILY, seed, options).contract())


@PROPERTY
@given(seed=SEED, options=OPTIONS[FAMILY])
def test_property_conv_by_hand(seed: int, options: dict) -> None:
    """Any seed, any valid options: the contract holds and Y is torch's conv2d."""
    _check_against_torch(feasible(FAMILY, seed, options).contract())


def test_sheet_003_exercise_4():
    """X = 0..15 as 4x4, 2x2 averaging kernel, stride 1, no padding -> 2.5 ... 12.5."""
    quarter = exact("1/4")
    params = {"X": [[exact(4 * i + j) for j in range(4)] for i in range(4)], "K": [[quarter] * 2, [quarter] * 2],
              "stride": 1, "padding": 0}
    solution = get_family(FAMILY).solve(params)
    assert solution.answers["Y"] == [[exact(f"{a}.5") for a in row] for row in ([2, 3, 4], [6, 7, 8], [10, 11, 12])]
    assert solution.answers["output_shape"] == [3, 3]
    assert solution.work["average"] and solution.work["window_sum"] == 10


def test_well_posed_on_every_seed():
    family, geometries = get_family(FAMILY), set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        p = problem.params
        assert family.check(p, problem.solution) == []
        n, k, s, pad = len(p["X"]), len(p["K"]), p["stride"], p["padding"]
        assert 3 <= n <= 6 and problem.solution.answers["output_shape"][0] in (2, 3)
        assert (n + 2 * pad - k) % s == 0  # no partial windows dropped silently
        # every window covers at least one real input pixel, never only padding
        coverage = F.conv2d(torch.ones(1, 1, n, n), torch.ones(1, 1, k, k), stride=s, padding=pad)
        assert bool((coverage > 0).all()), seed
        assert any(v != 0 for row in p["K"] for v in row)
        geometries.add((n, k, s, pad))
    assert len(geometries) >= 8


def test_infeasible_options_are_named():
    with pytest.raises(InfeasibleError, match="2x2 or 3x3 output"):
        make_problem(FAMILY, 0, {"kernel_sizes": [2], "strides": [1], "paddings": [1]})


@pytest.mark.parametrize("options, slip", [({"kernel": "integer"}, "flipped_kernel"),
                                           ({"kernel": "average"}, "sum_not_mean"),
                                           ({"kernel": "average"}, "divided_by_k"),
                                           ({"kernel": "integer"}, "dropped_signs"),
                                           ({"paddings": [1]}, "ignored_padding"),
                                           ({"strides": [2]}, "ignored_stride"),
                                           ({}, "tiled_windows"),
                                           ({"paddings": [1]}, "padded_one_side")])
def test_slip_differs_from_answer(options, slip):
    """On 200 seeds where the slip applies (a negative weight to drop, a stride to ignore...)."""
    family = get_family(FAMILY)
    differs = applies = 0
    for seed in range(1000):
        problem = make_problem(FAMILY, seed, options)
        values = [s.value for s in family.slips(problem.params, problem.solution) if s.name == slip]
        applies += bool(values)
        differs += any(value != problem.solution.answers["Y"] for value in values)
        if applies == 200:
            break
    assert applies == 200 and differs >= 0.95 * applies


def test_flipped_slip_is_a_true_convolution():
    """The flipped-kernel slip is what a textbook convolution (kernel rotated by 180 degrees) gives."""
    family = get_family(FAMILY)
    for seed in range(50):
        problem = make_problem(FAMILY, seed, {"kernel": "integer"})
        p = problem.params
        value = next(s.value for s in family.slips(p, problem.solution) if s.name == "flipped_kernel")
        flipped = dict(p, K=torch.flip(tensor(p["K"]), dims=(0, 1)).tolist())
        assert close(value, _torch_conv(flipped))


@pytest.mark.parametrize(("pin", "says"), [
    ({"stride": 3}, "stride must be one of 1, 2"),
    ({"padding": -1}, "padding must be one of 0, 1"),
    ({"X": [[1, 2], [3, 4]]}, "X must be a square matrix of 3 to 6 rows"),
    ({"K": [["1/3", 0], [0, 0]]}, "K[1][1] must be an integer from -9 to 9"),
])
def test_nonsensical_pins_are_rejected_by_name(pin: dict, says: str) -> None:
    """Pinned values outside the family's domain are refused with a message naming the parameter."""
    assert says in rejected(FAMILY, pin)
