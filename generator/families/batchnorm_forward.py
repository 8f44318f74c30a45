"""One training-mode step of torch.nn.BatchNorm1d(C, eps, momentum) on a mini-batch X
(N examples x C features): the batch mean and biased variance of every feature, the
output Y = gamma * (X - mean) / sqrt(var + eps) + beta, and the running statistics after
the update running <- (1 - momentum) * running + momentum * batch statistic, where the
running variance takes the unbiased batch variance (divided by N - 1).

Each column is drawn as a pattern of integers whose biased variance is the square of a
short decimal (sigma = 1.5, 2, 2.4, ...), shifted and shuffled, so the normalisation is a
division a student can do by hand. eps is PyTorch's default 1e-5 (torch refuses eps = 0 in
training mode); sigma >= 1 keeps its effect far below the rounding of Y, so the statement
lets students drop it."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, decimal_in, ints_from, register
from ..numbers import terminates, tex_matrix
from ..render import Tex
from ..rounding import fixed, fixed_matrix, rounded, rounded_all
from ..tolerance import Tolerance

Matrix = list[list[Any]]
Vector = list[Any]

PLACES = 4
BATCHES = [4, 5]
FEATURES = [2, 3]
SPAN = 8  # a column's pattern spans at most 0..SPAN before it is shifted
ENTRIES = (-4, 12)  # the shifted entries of X lie in this range
GAMMAS = [sp.Rational(k, 10) for k in range(5, 21) if k != 10]  # gamma = 1 would hide "forgot gamma"
BETAS = [sp.Rational(k, 10) for k in range(-10, 11)]
MOMENTA = [sp.Rational(1, 10), sp.Rational(1, 5), sp.Rational(3, 10)]
RUNNING_MEANS = [sp.Rational(k, 10) for k in range(-30, 31)]
RUNNING_VARS = [sp.Rational(k, 10) for k in range(5, 51)]
EPS = sp.Rational(1, 100000)  # torch's default
# Y and the running variance are rounded to four decimals, and so is the key's value
# (5e-5 from the exact one). A student who rounds x-hat to four decimals is off by
# |gamma| * 5e-5 <= 1e-4 (gamma <= 2), one who drops eps by at most
# |gamma x-hat| * eps / (2 sigma^2) <= 2e-5 (|x-hat| <= 2, sigma >= 1), and their own
# rounding adds 5e-5: 2.2e-4 in all, within three units. The unbiased variance rounded to
# four decimals moves the running variance by at most 5e-5, plus 5e-5 for the student's
# rounding and 5e-5 for the key's: within two units.
TOLERANCES = {"Y": Tolerance("abs", Fraction(3, 10**PLACES)),
              "running_var_new": Tolerance("abs", Fraction(2, 10**PLACES))}
# The drawing keeps every slip's exact value farther than SEPARATION from the exact answer
# (in at least one entry); rounding both moves that by at most 1e-4, so the rounded values
# stay farther apart than GRADABLE, twice the widest tolerance, which `check` verifies: a
# student who makes a slip and rounds as allowed is still outside the tolerance.
SEPARATION = sp.Rational(1, 1000)
GRADABLE = 2 * sp.Rational(max(t.value for t in TOLERANCES.values()))


def momentum_option(value: Any) -> Any:
    """"any" (drawn from MOMENTA) or one momentum, a decimal with two places in (0, 1)."""
    return value if value == "any" else decimal_in("0.01", "0.99", places=2)(value)


@register
class BatchnormForward(Family):
    id = "batchnorm_forward"
    title = "A BatchNorm training step: normalised output and running statistics"
    answer_labels = {
        "mean": "the batch mean of each feature",
        "var": "the batch variance of each feature used to normalise",
        "Y": "the output Y of the layer",
        "running_mean_new": "the running mean after this step",
        "running_var_new": "the running variance after this step",
    }
    tolerances = TOLERANCES
    options = {
        "batch_sizes": Option([4], "batch sizes N to draw from", ints_from(BATCHES)),
        "features": Option(FEATURES, "numbers of features C to draw from", ints_from(FEATURES)),
        "momentum": Option("any", "the momentum, or any to draw it from 0.1, 0.2 and 0.3", momentum_option),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        n, c = pick(rng, options["batch_sizes"]), pick(rng, options["features"])
        momentum = pick(rng, MOMENTA) if options["momentum"] == "any" else options["momentum"]
        columns = [draw_column(rng, n) for _ in range(c)]
        stats = [column_stats(column) for column in columns]
        return {
            "X": [list(row) for row in zip(*columns, strict=True)],
            "gamma": [pick(rng, GAMMAS) for _ in range(c)],
            "beta": [pick(rng, BETAS) for _ in range(c)],
            "eps": EPS,
            "momentum": momentum,
            # running values whose mistaken updates all land away from the right one
            "running_mean": [pick(rng, gradable(RUNNING_MEANS, lambda r, mu=mean: mean_updates(r, mu, momentum)))
                             for mean, _ in stats],
            "running_var": [pick(rng, gradable(RUNNING_VARS, lambda r, v=var: var_updates(r, unbiased(v, n), v,
                                                                                          momentum)))
                            for _, var in stats],
        }

    def solve(self, params: dict[str, Any]) -> Solution:
        X, eps, m = params["X"], params["eps"], params["momentum"]
        n = len(X)
        stats = [column_stats(column) for column in columns_of(X)]
        means, variances = [s[0] for s in stats], [s[1] for s in stats]
        unbiased_vars = [unbiased(v, n) for v in variances]
        answers = {
            "mean": means,
            "var": variances,
            "Y": rounded_all(normalised(X, means, variances, eps, params["gamma"], params["beta"]), PLACES),
            "running_mean_new": [(1 - m) * r + m * mu for r, mu in zip(params["running_mean"], means, strict=True)],
            "running_var_new": rounded_all([(1 - m) * r + m * s for r, s in
                                            zip(params["running_var"], unbiased_vars, strict=True)], PLACES),
        }
        return Solution(answers=answers, work=steps(params, answers, unbiased_vars))

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        X, eps, m, gamma, beta = (params[k] for k in ("X", "eps", "momentum", "gamma", "beta"))
        n, a = len(X), solution.answers
        means, variances = a["mean"], a["var"]
        unbiased_vars = [unbiased(v, n) for v in variances]
        ones, zeros = [sp.Integer(1)] * len(gamma), [sp.Integer(0)] * len(gamma)
        slips = [
            Slip("var", "unbiased", "you divided by N - 1; the variance that normalises the batch divides by N",
                 unbiased_vars),
            Slip("Y", "unbiased", "you normalised with the unbiased variance (divided by N - 1); training "
                 "mode normalises with the biased one", rounded_all(normalised(X, means, unbiased_vars, eps, gamma,
                                                                                beta), PLACES)),
            Slip("Y", "no_affine", "you left out the scale gamma and the shift beta",
                 rounded_all(normalised(X, means, variances, eps, ones, zeros), PLACES)),
        ]
        means_new = [mean_updates(r, mu, m) for r, mu in zip(params["running_mean"], means, strict=True)]
        vars_new = [var_updates(r, s2, v, m) for r, s2, v in
                    zip(params["running_var"], unbiased_vars, variances, strict=True)]
        for name in means_new[0]:
            if name != "right":
                slips.append(Slip("running_mean_new", name, UPDATE_SLIPS[name], [u[name] for u in means_new]))
        for name in vars_new[0]:
            if name != "right":
                slips.append(Slip("running_var_new", name, UPDATE_SLIPS[name],
                                  rounded_all([u[name] for u in vars_new], PLACES)))
        return slips + self.incidental_slips(params, solution)

    def incidental_slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        """Mistakes that change the answer on some variants only (normalising the rows gives
        the right Y when every column is +-1 times its sigma, and with N = C the rows'
        statistics can be the columns'; sigma for sigma^2, or dividing by the variance,
        change nothing when sigma = 1): offered where they land beyond the separation."""
        X, eps, gamma, beta = (params[k] for k in ("X", "eps", "gamma", "beta"))
        a = solution.answers
        candidates = [Slip("var", "std", "you gave the standard deviation; the variance is its square",
                           [sp.sqrt(v) for v in a["var"]]),
                      Slip("Y", "variance", "you divided by the variance instead of the standard deviation",
                           rounded_all([[g * (x - mu) / (v + eps) + b for x, mu, v, g, b in
                                         zip(row, a["mean"], a["var"], gamma, beta, strict=True)] for row in X],
                                       PLACES))]
        # the statistics of each example's features (a row) instead of each feature's (a
        # column); a list of N values for C, so apart from the answer unless N = C
        rows = "over its features (a row); BatchNorm takes each feature's over the batch (a column)"
        row_stats = [column_stats(row) for row in X]
        candidates += [
            Slip("mean", "rows", f"you averaged each example {rows}", [mu for mu, _ in row_stats]),
            Slip("var", "rows", f"you took the variance of each example {rows}", [v for _, v in row_stats]),
            Slip("Y", "rows", f"you normalised each example {rows}",
                 rounded_all([[g * (x - mu) / sp.sqrt(v + eps) + b for x, g, b in zip(row, gamma, beta, strict=True)]
                              for row, (mu, v) in zip(X, row_stats, strict=True)], PLACES)),
        ]
        return [slip for slip in candidates if distance(slip.value, a[slip.answer]) > SEPARATION]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        X = params["X"]
        shape = domain.shape(X)
        if shape is None or len(shape) != 2 or not 3 <= shape[0] <= 6 or not 1 <= shape[1] <= 4:
            return ["X must be a matrix of 3 to 6 rows (examples) and 1 to 4 columns (features)"]
        c = shape[1]
        problems = domain.each("X", X, lambda name, x: domain.integer(name, x, -20, 20))
        for name in ("gamma", "beta", "running_mean", "running_var"):
            if domain.shape(params[name]) != (c,):
                problems.append(f"{name} must be a list of {c} numbers, one per feature")
        if problems:
            return problems
        # gamma <= 2 and sigma >= 1 (in check) bound the rounding drift the tolerance allows
        problems += domain.each("gamma", params["gamma"], lambda name, v: domain.decimal(name, v, 0, 2, 1, above=True))
        problems += domain.each("beta", params["beta"], lambda name, v: domain.decimal(name, v, -5, 5, 1))
        problems += domain.each("running_mean", params["running_mean"],
                                lambda name, v: domain.decimal(name, v, -20, 20, 1))
        problems += domain.each("running_var", params["running_var"],
                                lambda name, v: domain.decimal(name, v, 0, 100, 1, above=True))
        if params["eps"] != EPS:  # the statement's "you may drop eps" holds for this one
            problems.append(f"eps must be 0.00001 (PyTorch's default), got {domain.shown(params['eps'])}")
        return problems + domain.decimal("momentum", params["momentum"], 0, 1, 2, above=True, below=True)

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        a = solution.answers
        for j, (mean, var) in enumerate(zip(a["mean"], a["var"], strict=True), 1):
            sigma = sp.sqrt(var)
            if not (terminates(mean) and sigma.is_Rational and terminates(sigma) and sigma >= 1):
                problems.append(f"feature {j}'s batch variance must be the square of a terminating decimal of at "
                                f"least 1 (got {domain.shown(var)}), so that x-hat can be computed by hand")
        problems += [f"slip {slip.answer}:{slip.name} lies within the tolerance of the answer"
                     for slip in self.slips(params, solution)
                     if distance(slip.value, a[slip.answer]) <= GRADABLE]
        return problems


@functools.cache
def patterns(n: int) -> list[tuple[int, ...]]:
    """The multisets of n integers from 0 to SPAN (the smallest 0) whose biased variance is
    the square of a terminating decimal sigma >= 1, e.g. (0, 1, 1, 4): mean 1.5, sigma 1.5."""
    found = []
    for rest in itertools.combinations_with_replacement(range(SPAN + 1), n - 1):
        pattern = (0, *rest)
        mean, var = column_stats(list(map(sp.Integer, pattern)))
        sigma = sp.sqrt(var)
        if terminates(mean) and sigma.is_Rational and terminates(sigma) and sigma >= 1:
            found.append(pattern)
    if not found:
        raise InfeasibleError(f"no column of {n} integers has a hand-computable variance", hint="use N = 4 or 5")
    return found


def draw_column(rng: np.random.Generator, n: int) -> list[sp.Integer]:
    """A pattern in a random order, shifted to a random place inside ENTRIES."""
    pattern = pick(rng, patterns(n))
    shift = int(rng.integers(ENTRIES[0], ENTRIES[1] - max(pattern) + 1))
    return [sp.Integer(pattern[int(i)] + shift) for i in rng.permutation(n)]


def columns_of(X: Matrix) -> list[list[Any]]:
    return [list(column) for column in zip(*X, strict=True)]


def column_stats(values: list[Any]) -> tuple[sp.Rational, sp.Rational]:
    """Mean and biased variance (divided by the count) of a list of exact numbers."""
    mean = sum(values, sp.Integer(0)) / len(values)
    return mean, sum(((x - mean) ** 2 for x in values), sp.Integer(0)) / len(values)


def unbiased(var: sp.Rational, n: int) -> sp.Rational:
    return var * n / (n - 1)


UPDATE_SLIPS = {
    "keras": "you weighted the old running value by the momentum (the Keras convention); PyTorch computes "
             "(1 - momentum) * running + momentum * batch statistic",
    "no_blend": "you replaced the running statistic by the batch's; it moves only the fraction momentum "
                "towards it",
    "unchanged": "you left the running statistic as it was; every forward pass in training mode updates it",
    "biased": "you updated the running variance with the biased variance; PyTorch uses the unbiased one "
              "(divided by N - 1)",
    "keras_biased": "you followed Keras: the momentum weighting the old running value, and the biased "
                    "variance; PyTorch computes (1 - momentum) * running + momentum * unbiased variance",
}


def mean_updates(running: sp.Rational, mean: sp.Rational, m: sp.Rational) -> dict[str, sp.Rational]:
    """PyTorch's update of one running mean ("right") and the mistaken ones; with m = 1/2 the
    Keras convention is the same update, so it is no mistake."""
    updates = {"right": (1 - m) * running + m * mean, "no_blend": mean, "unchanged": running}
    if m != sp.Rational(1, 2):
        updates["keras"] = m * running + (1 - m) * mean
    return updates


def var_updates(running: sp.Rational, unbiased_var: sp.Rational, biased_var: sp.Rational,
                m: sp.Rational) -> dict[str, sp.Rational]:
    """The same for one running variance, which PyTorch updates with the unbiased variance."""
    updates = {"right": (1 - m) * running + m * unbiased_var, "no_blend": unbiased_var, "unchanged": running,
               "biased": (1 - m) * running + m * biased_var}
    if m != sp.Rational(1, 2):
        updates["keras"] = m * running + (1 - m) * unbiased_var
        updates["keras_biased"] = m * running + (1 - m) * biased_var
    return updates


def gradable(candidates: list[sp.Rational],
             updates: Callable[[sp.Rational], dict[str, sp.Rational]]) -> list[sp.Rational]:
    """The running values from which every mistaken update lands away from the right one."""
    kept = [r for r in candidates if separated(updates(r))]
    if not kept:  # cannot happen for momenta of two decimals and sigma >= 1; said plainly if it did
        raise InfeasibleError("no running statistic keeps the update's mistakes apart from the right update",
                              hint="choose another momentum")
    return kept


def separated(updates: dict[str, sp.Rational]) -> bool:
    """Every mistaken update lands farther than the separation from the right one."""
    return all(abs(value - updates["right"]) > SEPARATION for name, value in updates.items() if name != "right")


def normalised(X: Matrix, means: Vector, variances: Vector, eps: sp.Rational, gamma: Vector,
               beta: Vector) -> Matrix:
    """gamma * (x - mean) / sqrt(var + eps) + beta, feature by feature (exact)."""
    roots = [sp.sqrt(v + eps) for v in variances]
    return [[g * (x - mu) / r + b for x, mu, r, g, b in zip(row, means, roots, gamma, beta, strict=True)]
            for row in X]


def distance(a: Any, b: Any) -> sp.Rational:
    """The largest entrywise |a - b|; vectors of different lengths are as far apart as can be."""
    if isinstance(a, list):
        if len(a) != len(b):
            return sp.oo
        return max(distance(x, y) for x, y in zip(a, b, strict=True))
    return abs(a - b)


def short(values: Any) -> bool:
    """Whether every entry is rational with at most PLACES decimals (printed exactly)."""
    if isinstance(values, list):
        return all(short(v) for v in values)
    return isinstance(values, sp.Rational) and (values * 10**PLACES).q == 1


def shown(value: sp.Rational) -> Any:
    """A number exactly when it is a short decimal, else rounded to PLACES (all shown)."""
    return value if short(value) else fixed(rounded(value, PLACES), PLACES)


def shown_matrix(values: Matrix) -> Tex:
    """A matrix exactly when its entries are short decimals, else rounded to PLACES."""
    return Tex(tex_matrix(values)) if short(values) else fixed_matrix(rounded_all(values, PLACES), PLACES)


def steps(params: dict[str, Any], answers: dict[str, Any], unbiased_vars: Vector) -> dict[str, Any]:
    """The key's worked values: per feature its sum, deviations, sigma and running updates
    (numbers that do not terminate within PLACES decimals shown rounded); x-hat; the first
    output entry term by term."""
    X, eps, m = params["X"], params["eps"], params["momentum"]
    n, c = len(X), len(X[0])
    sigmas = [sp.sqrt(v) for v in answers["var"]]
    features = []
    for j, column in enumerate(columns_of(X)):
        mean, new_var = answers["mean"][j], (1 - m) * params["running_var"][j] + m * unbiased_vars[j]
        features.append({
            "index": j + 1, "sum": sum(column, sp.Integer(0)), "mean": mean,
            "deviations": [x - mean for x in column], "var": answers["var"][j], "sigma": sigmas[j],
            "running_mean": params["running_mean"][j], "running_mean_new": answers["running_mean_new"][j],
            "running_var": params["running_var"][j],
            "unbiased": shown(unbiased_vars[j]), "unbiased_exact": short(unbiased_vars[j]),
            "running_var_new": shown(new_var), "running_var_exact": short(new_var),
        })
    xhat = [[(x - mu) / s for x, mu, s in zip(row, answers["mean"], sigmas, strict=True)] for row in X]
    return {
        "n": n, "c": c, "features": features,
        # eps > 0 makes both irrational: the key shows them with "approximately"
        "xhat": shown_matrix(xhat), "Y": fixed_matrix(answers["Y"], PLACES),
        "first": {"x": X[0][0], "mean": answers["mean"][0], "sigma": sigmas[0], "xhat": xhat[0][0],
                  "gamma": params["gamma"][0], "beta": params["beta"][0], "y": fixed(answers["Y"][0][0], PLACES)},
        "eps_shift": eps / 2,  # sqrt(var + eps) - sigma < eps / (2 sigma) <= eps / 2 for sigma >= 1
        "keep": 1 - m,
    }
