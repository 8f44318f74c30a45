import pytest
import sympy as sp
import torch
from family_suite import FamilySuite
from oracle import as_float

from generator.errors import InfeasibleError
from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

SEEDS = range(250)
FAMILY = "gd_convergence"
# Sheet 004 Problem 2's matrix, with a point of our own for part (a)'s gradient
SHEET = {"A": [[sp.Integer(5), sp.Integer(2)], [sp.Integer(2), sp.Integer(2)]],
         "point": [sp.Integer(1), sp.Integer(-2)]}


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


def _check_against_torch(objs: list[dict]) -> None:
    """Many problems at once (one batched gradient descent): eigenvalues, the bound on the
    learning rate, and, where part (d) is asked, the fastest rate and its contraction."""
    A = torch.tensor([obj["params"]["A"] for obj in objs], dtype=torch.float64)
    # the gradient at the given point, by autograd
    for obj, matrix in zip(objs, A, strict=True):
        point = torch.tensor(obj["params"]["point"], dtype=torch.float64, requires_grad=True)
        (point @ matrix @ point).backward()
        assert point.grad.tolist() == obj["answers"]["grad_at_start"]
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


class TestGdConvergence(FamilySuite):
    family = FAMILY
    seeds = SEEDS
    option_sets = {"default": {}, "no_fastest": {"fastest": False}, "small_entries": {"max_entry": 6}}
    pins = [
        ({"A": [[1, 2], [3, 4]]}, "A must be symmetric"),
        ({"A": [[-2, 1], [1, -2]]}, "A must be positive definite with integer eigenvalues"),
        ({"A": [[2, 0], [0, 3]]}, "A must have a nonzero off-diagonal entry"),
        ({"A": [[1, "1/2"], ["1/2", 1]]}, "A[1][2] must be an integer from -12 to 12"),
        ({"point": [0, 0]}, "point must not be the minimiser"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch([contract])

    def test_matches_torch(self, option_set: dict) -> None:
        """One batched gradient descent over all the seeds (the shared one runs them one by one)."""
        _check_against_torch([make_problem(FAMILY, seed, option_set).contract() for seed in self.seeds])


def test_sheet_004_problem_2():
    """Sheet 004 Problem 2: A = [[5, 2], [2, 2]] -> eigenvalues 1 and 6, 0 < eta < 1/6 (strict)."""
    answers = get_family(FAMILY).solve(SHEET).answers
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
    assert a != d  # issue #15: with a = d the eigenvectors were always (1, +-1)
    assert max(abs(x) for x in (a, b, d)) <= 10
    lam_min, lam_max = problem.solution.answers["eigenvalues"]
    assert isinstance(lam_min, sp.Integer) and 0 < lam_min < lam_max


def test_options_and_infeasible():
    assert make_problem(FAMILY, 3, {"max_entry": 2}).params["A"][0][0] == 2
    with pytest.raises(InfeasibleError):
        make_problem(FAMILY, 3, {"max_entry": 1})
    assert any(make_problem(FAMILY, s, {"max_entry": 9}).params["A"][1][1] > 6 for s in range(40))
    # without part (d) its answers are not in the contract, so nobody is graded on them
    unasked = make_problem(FAMILY, 3, {"fastest": False}).contract()
    assert set(unasked["answers"]) == {"grad_at_start", "eigenvalues", "lr_max"}
    assert set(unasked["slips"]) <= set(unasked["answers"])


def test_draws_vary():
    """Issue #15: 19 matrices in 200 seeds, 154 of them with a = d."""
    matrices = {str(make_problem(FAMILY, s).params["A"]) for s in range(200)}
    assert len(matrices) >= 30
    assert any(make_problem(FAMILY, s).params["A"][0][1] < 0 for s in range(20))


def test_the_arrow_of_v_max_is_the_printed_vector():
    """Issue #15: seed 31337 printed v_max = (1, -1) while its arrow pointed to (-1, 1). Both
    arrows are now drawn along the printed eigenvectors' own angles."""
    problem = make_problem(FAMILY, 31337)
    v_max = problem.solution.work["v_max"]
    solution = render_problem(problem)["solution"]
    assert f"atan2({v_max[1]}, {v_max[0]})" in solution
    assert "rotate=\\anglemax] (0, 0) -- (1.5*\\outer, 0)" in solution


def test_part_d_asks_for_one_ratio():
    """Issue #15: "by which factor does the error shrink" had two readings (multiplied by rho or
    divided by 1/rho, error in u or in f); it asks for the ratio of distances e_{k+1}/e_k."""
    statement = " ".join(render_problem(make_problem(FAMILY, 0))["statement"].split())
    assert r"worst-case ratio $e_{k+1}/e_k$" in statement
    assert "exact fractions" in statement


def test_part_c_asks_for_the_bound_and_the_boundary():
    """Issue #15: "for which rates does it converge? Is the largest such value itself allowed?"
    spoke of a largest value of an open interval, which does not exist. Part (c) names the
    bound eta-bar of 0 < eta < eta-bar and asks separately about eta = eta-bar."""
    statement = " ".join(render_problem(make_problem(FAMILY, 0))["statement"].split())
    assert "largest such value" not in statement
    assert r"exactly when $0 < \eta < \bar\eta$" in statement
    assert r"at $\eta = \bar\eta$ itself" in statement


def test_slip_values_on_sheet_case():
    family = get_family(FAMILY)
    slips = {(s.answer, s.name): s.value for s in family.slips(SHEET, family.solve(SHEET))}
    assert slips["lr_max", "gradient_without_two"] == sp.Rational(1, 3)
    assert slips["lr_max", "one_over_smoothness"] == sp.Rational(1, 12)
    assert slips["lr_max", "smallest_eigenvalue"] == 1
    # at (1, -2): Au = (1, -2), so 2Au = (2, -4); the xy term counted once gives (10 - 4, 2 - 8)
    assert family.solve(SHEET).answers["grad_at_start"] == [2, -4]
    assert slips["grad_at_start", "gradient_without_two"] == [1, -2]
    assert slips["grad_at_start", "cross_term_once"] == [6, -6]
