import re

import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from family_suite import FamilySuite
from torch.autograd.functional import jacobian, vjp

from generator.bank import Bank
from generator.compile import compile_tex
from generator.errors import InfeasibleError
from generator.family import get_family
from generator.numbers import tex_matrix
from generator.pipeline import render_exam, render_problem
from generator.variants import Exam, make_problem

FAMILY = "conv_as_matrix"
SEEDS = range(200)


def _t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _check_against_torch(params: dict, answers: dict) -> None:
    weight, n, p = _t(params["weight"]), params["input_length"], params["padding"]
    co, ci, k = weight.shape
    x = torch.randn(ci, n, dtype=torch.float64)

    def conv(inp: torch.Tensor) -> torch.Tensor:
        return F.conv1d(inp[None], weight, padding=p)[0]

    m = conv(x).shape[-1]
    assert answers["output_length"] == m
    # vec(y) = A vec(x): the Jacobian, flattened channel-major (row-major over [channel, position])
    A = jacobian(conv, x).reshape(co * m, ci * n)
    assert torch.equal(A, _t(answers["A"]))

    # dL/dx = B dL/dy: the Jacobian of the vector-Jacobian product with respect to dL/dy
    def backward(g: torch.Tensor) -> torch.Tensor:
        return vjp(conv, x, g, create_graph=True)[1]

    B = jacobian(backward, torch.zeros(co, m, dtype=torch.float64)).reshape(ci * n, co * m)
    assert torch.equal(B, _t(answers["B"]))
    # the numeric backward pass through autograd
    g = _t(params["grad_output"])
    leaf = x.clone().requires_grad_(True)
    conv(leaf).backward(g)
    assert torch.equal(leaf.grad, _t(answers["grad_input"]))
    # the key's claim: a convolution of the gradient, padded by k-1-p, with the flipped kernels
    # (input and output channels swapped) gives the same numbers
    as_conv = F.conv1d(g[None], weight.flip(-1).transpose(0, 1), padding=k - 1 - p)[0]
    assert torch.equal(as_conv, leaf.grad)


class TestConvAsMatrix(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "padded": {"padding": [1, 2], "in_channels": [1, 2, 3], "out_channels": [1, 2, 3]}}
    pins = [
        ({"weight": [[[1, "1/2"]]]}, "weight[1][1][2] must be an integer from -5 to 5"),
        ({"weight": [[[1, 2, 3, 4, 5]]]}, "weight must be [out_channels][in_channels][kernel taps]"),
        ({"input_length": 1}, "input_length must be an integer from 2 to 8"),
        ({"padding": -1}, "padding must be an integer from 0 to 2"),
    ]

    def oracle(self, contract: dict) -> None:
        torch.manual_seed(contract["seed"])
        _check_against_torch(contract["params"], contract["answers"])


def test_sheet_002_q4_symbolic():
    """Sheet 002 #4: 2 in / 2 out channels, kernel 3, length 4, no padding; with symbols
    w_j^{ab} (a input channel, b output channel) A is the sheet's 4 x 8 matrix and B = A^T."""
    sym = {(a, b, j): sp.Symbol(f"w{j}_{a}{b}") for a in (1, 2) for b in (1, 2) for j in (1, 2, 3)}
    weight = [[[sym[(i, o, j)] for j in (1, 2, 3)] for i in (1, 2)] for o in (1, 2)]
    zero = sp.Integer(0)
    params = {"weight": weight, "input_length": 4, "padding": 0, "grad_output": [[zero, zero], [zero, zero]]}
    answers = get_family(FAMILY).solve(params).answers

    def row(b: int, shift: int) -> list:
        """Output channel b at position shift + 1: the kernels from both input channels, shifted."""
        return [x for a in (1, 2) for x in [zero] * shift + [sym[(a, b, j)] for j in (1, 2, 3)] + [zero] * (1 - shift)]

    assert answers["output_length"] == 2
    assert answers["A"] == [row(1, 0), row(1, 1), row(2, 0), row(2, 1)]
    assert answers["B"] == [list(col) for col in zip(*answers["A"], strict=True)]
    assert answers["B"][1] == [sym[(1, 1, 2)], sym[(1, 1, 1)], sym[(1, 2, 2)], sym[(1, 2, 1)]]


def test_sheet_shape_numeric():
    """The sheet's shapes with numbers, against torch."""
    weight = [[[1, 2, 3], [4, 5, 6]], [[-1, 0, 2], [3, -2, 1]]]
    params = {"weight": [[[sp.Integer(v) for v in k] for k in row] for row in weight], "input_length": 4,
              "padding": 0, "grad_output": [[sp.Integer(1), sp.Integer(-2)], [sp.Integer(2), sp.Integer(1)]]}
    answers = get_family(FAMILY).solve(params).answers
    assert len(answers["A"]) == 4 and len(answers["A"][0]) == 8
    _check_against_torch(params, answers)


def test_well_posed():
    kinds = set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        p, a = problem.params, problem.solution.answers
        co, ci, k = len(p["weight"]), len(p["weight"][0]), len(p["weight"][0][0])
        kinds.add((ci, co, k, p["padding"]))
        assert (ci, co) != (1, 1) and k in (2, 3) and p["input_length"] in (3, 4, 5) and p["padding"] < k
        assert a["output_length"] >= 2 and len(a["A"][0]) <= 10 and len(a["A"]) <= 10
        assert all(0 < abs(v) <= 3 for row in p["weight"] for kern in row for v in kern)
        assert p["weight"][0][0] != p["weight"][0][0][::-1]
        assert all(0 < abs(v) <= 2 for row in p["grad_output"] for v in row)
    assert len(kinds) >= 8


def test_options_and_infeasible():
    p = make_problem(FAMILY, 4, {"in_channels": [3], "out_channels": [1], "input_length": [3], "kernel_size": [2],
                                 "padding": [0], "max_weight": 1}).params
    assert len(p["weight"][0]) == 3 and all(abs(v) == 1 for row in p["weight"] for kern in row for v in kern)
    single = make_problem(FAMILY, 4, {"in_channels": [1], "out_channels": [1]}).params
    assert len(single["weight"]) == len(single["weight"][0]) == 1
    with pytest.raises(InfeasibleError):
        make_problem(FAMILY, 0, {"in_channels": [3], "input_length": [4, 5]})
    with pytest.raises(InfeasibleError):
        make_problem(FAMILY, 0, {"kernel_size": [4], "input_length": [3], "padding": [0]})


def test_slip_values():
    """Each slip is the torch computation with one step done wrong."""
    family = get_family(FAMILY)
    problem = make_problem(FAMILY, 7, {"padding": [1], "in_channels": [2], "out_channels": [2]})
    slips = {s.name: s.value for s in family.slips(problem.params, problem.solution)}
    weight = _t(problem.contract()["params"]["weight"])
    co, ci, k = weight.shape
    n = problem.params["input_length"]
    x = torch.zeros(ci, n, dtype=torch.float64)
    flipped = jacobian(lambda v: F.conv1d(v[None], weight.flip(-1), padding=1)[0], x).reshape(-1, ci * n)
    assert torch.equal(flipped, _t(slips["flipped_kernel"]))
    # position-major: flatten [position, channel] instead of [channel, position]
    A = _t(problem.contract()["answers"]["A"])
    m = A.shape[0] // co
    interleaved = A.reshape(co, m, ci, n).permute(1, 0, 3, 2).reshape(co * m, ci * n)
    assert torch.equal(interleaved, _t(slips["position_major"]))


def test_key_boxes_the_matrix_b():
    """Issue #15: part (b) grades the matrix B, but the key boxed only the words 'B = A^T'."""
    problem = make_problem(FAMILY, 1)
    assert f"\\result{{{tex_matrix(problem.solution.answers['B'])}}}" in render_problem(problem)["solution"]


def test_tall_matrices_stay_on_the_page():
    """Issue #15: a tall matrix (up to 10 rows) in a display ran past the page foot in a quarter of
    the seeds when exam.cls's solution frame split across pages ('Overfull \\vbox ... detected at'
    the solution's end); 40 keys in one document keep every matrix on its page."""
    problems = [make_problem(FAMILY, seed) for seed in range(40)]
    for number, problem in enumerate(problems, 1):
        problem.number = number
    exam = Exam(bank=Bank(name="tall", title=FAMILY, slots=[]), seed=0, variant="TEST-0000", problems=problems)
    _, log = compile_tex(render_exam(exam, key=True), label=FAMILY)
    assert not re.findall(r"^Overfull \\vbox \((.*)pt too high\) detected", log, re.MULTILINE)
