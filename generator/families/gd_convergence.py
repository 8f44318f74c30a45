"""Gradient descent on the quadratic f(u) = u^T A u (A symmetric positive definite,
2x2): the eigenvalues of A decide for which learning rates the iteration converges.

Since grad f = 2Au, one step is u <- (I - 2*eta*A) u, which scales the component
along the eigenvector of lambda_i by 1 - 2*eta*lambda_i; convergence from every
start needs |1 - 2*eta*lambda_i| < 1 for both, i.e. 0 < eta < 1/lambda_max (strict:
at eta = 1/lambda_max that component flips sign forever)."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, boolean, int_in, register
from ..linalg import matvec, scaled

# (a, |b|, d, lambda_min, lambda_max) for [[a, b], [b, d]]
Candidate = tuple[int, int, int, int, int]
# Where part (a) evaluates the gradient: small integer points other than the minimiser.
START_POINTS = [(x, y) for x in range(-3, 4) for y in range(-3, 4) if (x, y) != (0, 0)]


@cache
def _candidates(max_entry: int) -> tuple[Candidate, ...]:
    """Every [[a, b], [b, d]] with 1 <= a, d, |b| <= max_entry, b != 0, that is positive
    definite with integer eigenvalues: (a - d)^2 + 4b^2 must be a perfect square s^2,
    and then lambda = (a + d -+ s)/2 are integers (s and a + d have the same parity)."""
    found = []
    for a in range(1, max_entry + 1):
        for d in range(1, max_entry + 1):
            for b in range(1, max_entry + 1):
                disc = (a - d) ** 2 + 4 * b * b
                root = math.isqrt(disc)
                if root * root == disc and a * d > b * b:
                    found.append((a, b, d, (a + d - root) // 2, (a + d + root) // 2))
    return tuple(found)


def _eigenvector(a: sp.Integer, b: sp.Integer, lam: sp.Integer) -> list[sp.Integer]:
    """An integer eigenvector of [[a, b], [b, d]] for lam: (b, lam - a), made primitive
    and with a positive first entry (b != 0, so it is never zero)."""
    x, y = b, lam - a
    g = sp.gcd(x, y)
    x, y = x / g, y / g
    return [x, y] if x > 0 else [-x, -y]


@register
class GdConvergence(Family):
    id = "gd_convergence"
    title = "Step sizes for which gradient descent converges on a quadratic"
    answer_labels = {
        "grad_at_start": "the gradient of f at the given point",
        "eigenvalues": "the eigenvalues of A",
        "lr_max": "the bound on the learning rate below which gradient descent converges",
        "lr_best": "the learning rate that shrinks the error fastest",
        "rate": "the worst-case ratio of successive distances to the minimiser at that learning rate",
    }
    options = {
        "max_entry": Option(10, "largest absolute value of an entry of A", int_in(1, 12)),
        "fastest": Option(True, "also ask for the fastest learning rate and its contraction factor", boolean),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        candidates = _candidates(options["max_entry"])
        if not candidates:
            raise InfeasibleError(
                f"no 2x2 positive definite matrix with entries up to {options['max_entry']}, a nonzero "
                "off-diagonal entry and integer eigenvalues exists",
                hint="use max_entry >= 2",
            )
        # a != d where the entries allow it: with a = d the eigenvectors are always (1, +-1)
        unequal = [c for c in candidates if c[0] != c[2]]
        a, b, d, _, _ = pick(rng, unequal or candidates)
        sign = 1 if rng.integers(2) else -1
        point = pick(rng, START_POINTS)
        params = {"A": [[sp.Integer(a), sp.Integer(sign * b)], [sp.Integer(sign * b), sp.Integer(d)]],
                  "point": [sp.Integer(point[0]), sp.Integer(point[1])]}
        # without part (d) its answers are neither asked nor graded
        return params if options["fastest"] else params | {"fastest": False}

    def solve(self, params: dict[str, Any]) -> Solution:
        (a, b), (_, d) = params["A"]
        trace, det = a + d, a * d - b * b
        disc = trace**2 - 4 * det
        root = sp.sqrt(disc)  # a perfect square for every drawn A; check_params() verifies it
        lam_min, lam_max = (trace - root) / 2, (trace + root) / 2
        lr_max = 1 / lam_max
        v_max = _eigenvector(a, b, lam_max)
        # The update matrix at the boundary eta = 1/lambda_max, to show the oscillation.
        edge = [[1 - 2 * lr_max * a, -2 * lr_max * b], [-2 * lr_max * b, 1 - 2 * lr_max * d]]
        return Solution(
            answers={
                "grad_at_start": [2 * x for x in matvec(params["A"], params["point"])],
                "eigenvalues": [lam_min, lam_max],
                "lr_max": lr_max,
                **({"lr_best": 1 / (lam_min + lam_max), "rate": (lam_max - lam_min) / (lam_max + lam_min)}
                   if params.get("fastest", True) else {}),
            },
            work={
                "trace": trace,
                "det": det,
                "disc": disc,
                "root": root,
                "hessian": [[2 * a, 2 * b], [2 * b, 2 * d]],
                "lr_min_only": 1 / lam_min,
                "v_min": _eigenvector(a, b, lam_min),
                "v_max": v_max,
                "edge": edge,
                "edge_v": [-v for v in v_max],
                # the same matrix times lambda_max, so the key can show integers
                "edge_scaled": scaled(edge, lam_max),
                "edge_scaled_v": scaled(v_max, -lam_max),
                "f_edge": lam_max * (v_max[0] ** 2 + v_max[1] ** 2),
                "cross": 2 * b,
            },
        )

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        lam_min, lam_max = solution.answers["eigenvalues"]
        (a, b), (_, d) = params["A"]
        x, y = params["point"]
        return [
            Slip("grad_at_start", "gradient_without_two", "you took the gradient of u^T A u to be Au; it is 2Au",
                 matvec(params["A"], params["point"])),
            Slip("grad_at_start", "cross_term_once", "you counted the off-diagonal entry of A once in the xy term; "
                 "u^T A u has 2b xy, whose derivative adds 2b y to df/dx and 2b x to df/dy",
                 [2 * a * x + b * y, b * x + 2 * d * y]),
            Slip("lr_max", "gradient_without_two", "you took the gradient of u^T A u to be Au; it is 2Au, "
                 "so the step matrix is I - 2 eta A", 2 / lam_max),
            Slip("lr_max", "one_over_smoothness", "you used the sufficient rule eta <= 1/L with L = 2 lambda_max; "
                 "it guarantees monotone decrease but is not where convergence stops", 1 / (2 * lam_max)),
            Slip("lr_max", "smallest_eigenvalue", "you bounded eta by the smallest eigenvalue; the steepest "
                 "direction (largest eigenvalue) is the first to diverge", 1 / lam_min),
            Slip("eigenvalues", "hessian_eigenvalues", "you gave the eigenvalues of the Hessian 2A, not of A",
                 [2 * lam_min, 2 * lam_max]),
        ] + ([Slip("lr_best", "best_without_two", "you dropped the factor 2 of the gradient in the optimal rate",
                   2 / (lam_min + lam_max))] if "lr_best" in solution.answers else [])

    def check_params(self, params: dict[str, Any]) -> list[str]:
        matrix = params["A"]
        if domain.shape(matrix) != (2, 2):
            return ["A must be a 2x2 matrix"]
        if problems := domain.each("A", matrix, lambda name, v: domain.integer(name, v, -12, 12)):
            return problems
        point = params["point"]
        if domain.shape(point) != (2,):
            return ["point must be a vector of two entries"]
        if problems := domain.each("point", point, lambda name, v: domain.integer(name, v, -9, 9)):
            return problems
        if point == [0, 0]:
            return ["point must not be the minimiser 0, where every gradient rule gives 0"]
        (a, b), (c, d) = matrix
        if b != c:
            return ["A must be symmetric"]
        if b == 0:
            return ["A must have a nonzero off-diagonal entry (the eigenvalues of a diagonal A can be read off)"]
        disc = (a - d) ** 2 + 4 * b * b
        if a <= 0 or a * d <= b * b or math.isqrt(disc) ** 2 != disc:
            return ["A must be positive definite with integer eigenvalues"]
        return []

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        (a, b), (_, d) = params["A"]
        lam_min, lam_max = solution.answers["eigenvalues"]
        problems = self.check_params(params)
        if not (isinstance(lam_min, sp.Integer) and isinstance(lam_max, sp.Integer)):
            problems.append("the eigenvalues are not integers")
        elif not 0 < lam_min < lam_max:
            problems.append("A is not positive definite with distinct eigenvalues")
        elif lam_min + lam_max != a + d or lam_min * lam_max != a * d - b * b:
            problems.append("eigenvalues disagree with trace and determinant")
        edge, v = solution.work["edge"], solution.work["v_max"]
        if matvec(edge, v) != [-x for x in v]:
            problems.append("at eta = lr_max the steep eigenvector is not flipped")
        return problems
