"""Rounded answers of irrational values, and how a key prints them.

`rounded` is numbers.rounded made fast for exact sympy expressions (softmax
probabilities, logarithms, square roots): sympy's floor of such an expression costs 10 to
30 ms, which a key that rounds dozens of them per variant cannot afford, while a 40-digit
evaluation decides the rounding in a fraction of a millisecond. A value so near a
rounding boundary that 40 digits might not decide it goes to numbers.rounded, which
decides it exactly. Results are cached: the same expressions recur across variants.

`fixed` and `fixed_matrix` print a rounded value with all its decimals (0.0420, not
0.042), so that a key's rounded numbers read as rounded."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from . import numbers
from .render import Tex

DIGITS = 40
UNDECIDED = sp.Float(10, DIGITS) ** -25


@functools.lru_cache(maxsize=100_000)
def rounded(value: sp.Expr, places: int) -> sp.Rational:
    """`value` rounded half up to `places` decimals, as an exact Rational."""
    if isinstance(value, sp.Rational):
        return numbers.rounded(value, places)
    scaled = value.evalf(DIGITS) * 10**places + sp.Rational(1, 2)
    whole = sp.floor(scaled)
    if min(scaled - whole, whole + 1 - scaled) < UNDECIDED:
        return numbers.rounded(value, places)
    return sp.Rational(int(whole), 10**places)


def rounded_all(values: Any, places: int) -> Any:
    """A number, vector or matrix of exact values, each rounded to `places` decimals."""
    if isinstance(values, list):
        return [rounded_all(v, places) for v in values]
    return rounded(values, places)


def fixed(value: Any, places: int) -> Tex:
    """A value with at most `places` decimals as LaTeX with exactly `places` of them."""
    text = numbers.decimal(value, places)
    whole, _, digits = text.partition(".")
    return Tex(f"{whole}.{digits.ljust(places, '0')}") if places else Tex(whole)


def fixed_matrix(rows: list[list[Any]], places: int) -> Tex:
    """A matrix of such values as a bmatrix."""
    body = r" \\ ".join(" & ".join(fixed(x, places) for x in row) for row in rows)
    return Tex(rf"\begin{{bmatrix}} {body} \end{{bmatrix}}")
