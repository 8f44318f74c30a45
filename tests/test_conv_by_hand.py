import pytest
import torch
import torch.nn.functional as F
from family_suite import FamilySuite
from oracle import close, tensor

from generator.errors import InfeasibleError
from generator.family import get_family
from generator.numbers import exact
from generator.pipeline import render_problem
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


class TestConvByHand(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "integer": {"kernel": "integer"}, "average": {"kernel": "average", "strides": [2]},
                   "padded": {"paddings": [1]}}
    pins = [
        ({"stride": 3}, "stride must be one of 1, 2"),
        ({"padding": -1}, "padding must be one of 0, 1"),
        ({"X": [[1, 2], [3, 4]]}, "X must be a square matrix of 3 to 6 rows"),
        ({"K": [["1/3", 0], [0, 0]]}, "K[1][1] must be an integer from -9 to 9"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract)


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
    geometries = set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        p = problem.params
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


@pytest.mark.parametrize("options, slips", [
    ({"kernel": "integer"}, {"flipped_kernel", "dropped_signs", "tiled_windows"}),
    ({"kernel": "average"}, {"sum_not_mean", "divided_by_k"}),
    ({"paddings": [1], "strides": [2]}, {"ignored_padding", "padded_one_side", "ignored_stride"}),
])
def test_every_slip_is_offered(options, slips):
    """Where it applies (a negative weight to drop, a stride to ignore...); the shared suite checks
    that the offered ones differ from the answer."""
    family = get_family(FAMILY)
    offered = set()
    for seed in range(100):
        problem = make_problem(FAMILY, seed, options)
        offered |= {slip.name for slip in family.slips(problem.params, problem.solution)}
    assert slips <= offered


def test_flipped_slip_is_a_true_convolution():
    """The flipped-kernel slip is what a textbook convolution (kernel rotated by 180 degrees) gives."""
    family = get_family(FAMILY)
    for seed in range(50):
        problem = make_problem(FAMILY, seed, {"kernel": "integer"})
        p = problem.params
        # a kernel symmetric under the flip offers no such slip: its convolution is the answer
        value = next((s.value for s in family.slips(p, problem.solution) if s.name == "flipped_kernel"),
                     problem.solution.answers["Y"])
        flipped = dict(p, K=torch.flip(tensor(p["K"]), dims=(0, 1)).tolist())
        assert close(value, _torch_conv(flipped))


def test_ninths_have_their_factor_pulled_out():
    """Issue #15: seed 7's matrix of ninths set its rows so close that the fractions touched. The key
    pulls out 1/9 and the statement asks for exact fractions."""
    problem = make_problem(FAMILY, 7)
    rendered = render_problem(problem)
    assert problem.solution.work["average"]
    assert "exact fractions" in rendered["statement"]
    assert r"Y = \frac{1}{9}\begin{bmatrix} 16 & 25 & 25 \\ 19 & 30 & 30" in " ".join(rendered["solution"].split())


def test_boxed_output_stays_with_its_sentence():
    """Issue #15: a key's page broke between 'All 9 windows give' and the boxed Y. The sentence and
    the box are now one unbreakable block."""
    solution = render_problem(make_problem(FAMILY, 1))["solution"]
    block = solution[solution.index(r"\begin{minipage}"):]
    assert "windows give" in block and r"\result{Y =" in block and block.rstrip().endswith(r"\end{minipage}")
