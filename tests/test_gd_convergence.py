import pytest
import sympy as sp
import torch
from hypothesis import given
from oracle import as_float, slip_difference_rates
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.errors import InfeasibleError
from generator.family import get_family
from generator.variants import make_problem

SEEDS = range(250)
FAMILY = "gd_convergence"


def _gd_final_norms(A: torch.Tensor, lrs: torch.Tensor, steps: int = 200) -> torch.Tensor:
    """Plain gradient descent on f(u) = u^T A u for a batch of matrices A [B, 2, 2] and
    learning rates lrs [B, R], the gradient taken by torch autograd, from a start with a
    component along every eigenvector; returns the final distances to the minimiser [B, R]."""
    u = torch.tensor([1.0, -0.7]).expand(*lrs.shape, 2).clone().requires_grad_(True)
    for _ in range(steps):
        loss = torch.einsum("bri,bij,brj->", u, A, u)  # the sum of independent problems
        (grad,) = torch.autograd.grad(loss, u)
        with torch.no_grad():
            u -= lrs[..., None] * grad
    return u.detach().norm(dim=-1).nan_to_num(nan=float("inf"))


def test_matches_torch():
    _check_against_torch([make_problem(FAMILY, seed).contract() for seed in SEEDS])


def _check_against_torch(objs: list[dict]) -> None:
    """Many problems at once (one batched gradient descent): eigenvalues, the bound on the
    learning rate, and, where part (d) is asked, the fastest rate and its contraction."""
    A = torch.tensor([obj["params"]["A"] for obj in objs], dtype=torch.float64)
    eigenvalues = torch.tensor([[as_float(x) for x in obj["answers"]["eigenvalues"]] for obj in objs])
    assert torch.allclose(torch.linalg.eigvalsh(A), eigenvalues, atol=1e-12)
    lr_max = torch.tensor([as_float(obj["answers"]["lr_max"]) for obj in objs])
    # just below the bound every run converges, just above it every run diverges
    norms = _gd_final_norms(A, torch.stack([lr_max * 0.97, lr_max * 1.03], dim=1))
    assert (norms[:, 0] < 1e-3).all()
    assert (norms[:, 1] > 1e3).all()
    # the claimed best rate gives the claimed contraction (spectral radius of I - 2 eta A),
    # and nearby learning rates contract more slowly
    asked = [obj["params"].get("fastest", True) for obj in objs]
    assert [{"lr_best", "rate"} <= set(obj["answers"]) for obj in objs] == asked  # only where part (d) asks
    A = A[torch.tensor(asked, dtype=torch.bool)]
    lr_best = torch.tensor([as_float(obj["answers"]["lr_best"]) for obj in objs if "lr_best" in obj["answers"]])
    rate = torch.tensor([as_float(obj["answers"]["rate"]) for obj in objs if "rate" in obj["answers"]])

    def radius(lr: torch.Tensor) -> torch.Tensor:
        return torch.linalg.eigvals(torch.eye(2) - 2 * lr[:, None, None] * A).abs().amax(dim=-1)

    assert torch.allclose(radius(lr_best), rate, atol=1e-12)
    assert (radius(lr_best * 0.95) > rate).all() and (radius(lr_best * 1.05) > rate).all()


@PROPERTY
@given(seed=SEED, options=OPTIONS[FAMILY])
def test_property_gd_convergence(seed: int, options: dict) -> None:
    """Any seed, any valid options: the contract holds and torch's gradient descent converges just below the bound."""
    _check_against_torch([feasible(FAMILY, seed, options).contract()])


def test_sheet_004_problem_2():
    """Sheet 004 Problem 2: A = [[5, 2], [2, 2]] -> eigenvalues 1 and 6, 0 < eta < 1/6 (strict)."""
    answers = get_family(FAMILY).solve({"A": [[sp.Integer(5), sp.Integer(2)], [sp.Integer(2), sp.Integer(2)]]}).answers
    assert answers["eigenvalues"] == [1, 6]
    assert answers["lr_max"] == sp.Rational(1, 6)


def test_boundary_oscillates_without_converging():
    """At eta = 1/6 on the sheet's matrix the iteration neither converges nor blows up."""
    A = torch.tensor([[[5.0, 2.0], [2.0, 2.0]]])
    norm = _gd_final_norms(A, torch.tensor([[1 / 6]]), steps=1001).item()
    assert 0.1 < norm < 10


@pytest.mark.parametrize("seed", SEEDS)
def test_well_posed(seed):
    problem = make_problem(FAMILY, seed)
    (a, b), (c, d) = problem.params["A"]
    assert b == c and b != 0
    assert max(abs(x) for x in (a, b, d)) <= 6
    lam_min, lam_max = problem.solution.answers["eigenvalues"]
    assert isinstance(lam_min, sp.Integer) and 0 < lam_min < lam_max
    assert get_family(FAMILY).check(problem.params, problem.solution) == []


def test_options_and_infeasible():
    assert make_problem(FAMILY, 3, {"max_entry": 2}).params["A"][0][0] == 2
    with pytest.raises(InfeasibleError):
        make_problem(FAMILY, 3, {"max_entry": 1})
    assert any(make_problem(FAMILY, s, {"max_entry": 9}).params["A"][1][1] > 6 for s in range(40))
    # without part (d) its answers are not in the contract, so nobody is graded on them
    unasked = make_problem(FAMILY, 3, {"fastest": False}).contract()
    assert set(unasked["answers"]) == {"eigenvalues", "lr_max"} and set(unasked["slips"]) <= set(unasked["answers"])


def test_draws_vary():
    matrices = {str(make_problem(FAMILY, s).params["A"]) for s in range(100)}
    assert len(matrices) >= 20
    assert any(make_problem(FAMILY, s).params["A"][0][1] < 0 for s in range(20))


def test_slips_differ():
    rates = slip_difference_rates(FAMILY, range(200))
    assert len(rates) >= 4
    assert all(rate >= 0.95 for rate in rates.values()), rates


def test_slip_values_on_sheet_case():
    params = {"A": [[sp.Integer(5), sp.Integer(2)], [sp.Integer(2), sp.Integer(2)]]}
    family = get_family(FAMILY)
    slips = {s.name: s.value for s in family.slips(params, family.solve(params))}
    assert slips["gradient_without_two"] == sp.Rational(1, 3)
    assert slips["one_over_smoothness"] == sp.Rational(1, 12)
    assert slips["smallest_eigenvalue"] == 1


@pytest.mark.parametrize(("pin", "says"), [
    ({"A": [[1, 2], [3, 4]]}, "A must be symmetric"),
    ({"A": [[-2, 1], [1, -2]]}, "A must be positive definite with integer eigenvalues"),
    ({"A": [[2, 0], [0, 3]]}, "A must have a nonzero off-diagonal entry"),
    ({"A": [[1, "1/2"], ["1/2", 1]]}, "A[1][2] must be an integer from -12 to 12"),
])
def test_nonsensical_pins_are_rejected_by_name(pin: dict, says: str) -> None:
    """Pinned values outside the family's domain are refused with a message naming the parameter."""
    assert says in rejected(FAMILY, pin)
