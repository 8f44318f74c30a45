import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from family_suite import FamilySuite
from oracle import close, tensor

from generator.errors import InfeasibleError
from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "pool_backprop"
OVERLAP = {"overlap": True}


def _torch_pool(p: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward output and autograd's dL/dX for L = sum(G * Y)."""
    x = tensor(p["X"])[None, None].clone().requires_grad_(True)
    pool = F.max_pool2d if p["mode"] == "max" else F.avg_pool2d
    y = pool(x, kernel_size=p["kernel_size"], stride=p["stride"])
    (y * tensor(p["grad_output"])[None, None]).sum().backward()
    return y[0, 0].detach(), x.grad[0, 0]


def _check_against_torch(obj: dict) -> None:
    y, grad = _torch_pool(obj["params"])
    assert close(y, obj["answers"]["Y"], 1e-12), obj["seed"]
    assert close(grad, obj["answers"]["grad_input"], 1e-12), obj["seed"]


class TestPoolBackprop(FamilySuite):
    family = FAMILY
    option_sets = {f"{mode}_{name}": {"mode": mode, **options} for mode in ("max", "avg")
                   for name, options in (("tiling", {}), ("overlap", OVERLAP))}
    option_sets["default"] = {}
    pins = [
        ({"mode": "min"}, "mode must be one of max, avg"),
        ({"stride": 7}, "stride must be an integer from 1 to"),
        ({"grad_output": [[0, 1], [1, 1]]}, "grad_output[1][1] must be a nonzero integer from -5 to 5"),
        ({"X": [[1, 2], [3, 4]]}, "X must be"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract)


def test_sheet_003_exercises_12_and_13():
    """4x4 input, 2x2 windows, stride 2; the first window's maximum at (1, 0)."""
    x = [[1, 3, 2, 9], [7, 5, 6, 4], [0, 8, 12, 10], [14, 13, 11, 15]]
    params = {"X": [[sp.Integer(v) for v in row] for row in x], "kernel_size": sp.Integer(2),
              "stride": sp.Integer(2), "grad_output": [[sp.Integer(1), sp.Integer(2)], [sp.Integer(3), sp.Integer(4)]]}
    family = get_family(FAMILY)
    maxed = family.solve({**params, "mode": "max"}).answers
    assert maxed["Y"] == [[7, 9], [14, 15]]
    assert maxed["grad_input"] == [[0, 0, 0, 2], [1, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]]
    averaged = family.solve({**params, "mode": "avg"}).answers
    quarter = sp.Rational(1, 4)
    assert averaged["Y"] == [[4, sp.Rational(21, 4)], [35 * quarter, 12]]
    assert averaged["grad_input"] == [[quarter, quarter, 2 * quarter, 2 * quarter],
                                      [quarter, quarter, 2 * quarter, 2 * quarter],
                                      [3 * quarter, 3 * quarter, 1, 1], [3 * quarter, 3 * quarter, 1, 1]]


def test_sheet_geometry_is_drawn():
    options = {"kernel_sizes": [2], "max_input": 4}
    for seed in range(20):
        p = make_problem(FAMILY, seed, options).params
        assert (len(p["X"]), p["kernel_size"], p["stride"], len(p["grad_output"])) == (4, 2, 2, 2)


@pytest.mark.parametrize("options", [{}, OVERLAP, {"mode": "max", "kernel_sizes": [3], "overlap": True}])
def test_every_variant_is_well_posed(options):
    modes = set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed, options)
        p, work = problem.params, problem.solution.work
        assert (p["stride"] < p["kernel_size"]) == bool(options.get("overlap"))
        flat = [v for row in p["X"] for v in row]
        assert len(set(flat)) == len(flat)  # no ties anywhere, so max pooling has one arg-max per window
        assert len(flat) <= 36
        if p["mode"] == "max":  # nonzero gradient only at the window maxima
            marked = {(win["max_row"], win["max_col"]) for win in work["windows"]}
            nonzero = {(i, j) for i, row in enumerate(problem.solution.answers["grad_input"])
                       for j, v in enumerate(row) if v != 0}
            assert nonzero <= marked
        modes.add(p["mode"])
    assert modes == ({"max"} if options.get("mode") == "max" else {"max", "avg"})


def test_infeasible_options_are_refused():
    with pytest.raises(InfeasibleError):
        make_problem(FAMILY, 0, {"kernel_sizes": [3], "max_input": 5})


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("overlap", [False, True])
def test_every_slip_is_offered_on_every_seed(mode, overlap):
    family = get_family(FAMILY)
    names = {True: {"max": 3, "avg": 4}, False: {"max": 3, "avg": 3}}[overlap][mode]
    for seed in range(50):
        problem = make_problem(FAMILY, seed, {"mode": mode, "overlap": overlap})
        assert len(family.slips(problem.params, problem.solution)) == names


def test_averages_have_their_factor_pulled_out():
    """Issue #15: seed 0 (average pooling) printed matrices of ninths whose rows touched; the key
    pulls out 1/9 and the statement asks for exact fractions."""
    problem = make_problem(FAMILY, 0)
    rendered = render_problem(problem)
    solution = " ".join(rendered["solution"].split())
    assert problem.params["mode"] == "avg"
    assert "as exact fractions" in rendered["statement"]
    assert r"Y = \result{\frac{1}{9}\begin{bmatrix} -43 & 50 \\ -16 & -53 \end{bmatrix}}" in solution
    assert r"\frac{\partial L}{\partial X} = \result{\frac{1}{9}\begin{bmatrix} -1 & -1" in solution


def test_the_layer_stands_on_its_own_line_and_averages_say_how_to_round():
    """Issue #15: the layer's call broke after 'AvgPool2d(' inside the text, and the statement asked
    for exact fractions while the grader accepts four decimals."""
    statement = render_problem(make_problem(FAMILY, 0))["statement"]
    assert "\\begin{center}\n\\texttt{torch.nn.AvgPool2d(kernel\\_size=" in statement
    assert "as exact fractions or as decimals rounded to four places" in statement
    assert "rounded" not in render_problem(make_problem(FAMILY, 0, {"mode": "max"}))["statement"]


def test_overlapping_windows_sharing_a_maximum_never_cancel():
    """Hypothesis found seed 12783 (kernel 4, overlapping max pooling): all four windows shared
    two maxima whose gradients cancelled, so dL/dX was all zeros, like the to-minimum slip.
    Windows sharing a maximum now take one sign, and check() refuses a cancelling pin."""
    options = {"kernel_sizes": 4, "mode": "max", "overlap": True}
    problem = make_problem("pool_backprop", 12783, options)
    assert any(v != 0 for row in problem.solution.answers["grad_input"] for v in row)
    for seed in range(300):
        problem = make_problem("pool_backprop", seed, options)
        assert not problem.family.check(problem.params, problem.solution), seed
