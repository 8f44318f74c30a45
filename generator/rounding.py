"""Correctly rounded decimals of irrational values, fast, and how a key prints them.

Why: a key's irrational answers (softmax probabilities, logarithms, square roots, tanh of
sums of tanh's) are exact sympy expressions, and the exact way to round one, sympy's
floor of the expression (numbers.rounded), costs 10 to 30 ms for a closed form and 10 to
100 ms for a nested one, while a key rounds dozens of them per variant. Rounding from 50
significant digits takes a fraction of a millisecond.

How the rounding stays exact: every value is carried to 50 significant digits. A key's
values stay below 1000 and keep at most six decimals, so scaled to the kept decimals they
stay below 10^9 and their digits reach 41 places past the point: even a chain of
operations off by a thousand units in the last digit is off by less than 1e-37 there.
`rounded` trusts the digits only where that cannot matter: the scaled value must lie
farther than 1e-35 (UNDECIDED) from a rounding boundary, the midpoint between two rounded
values. Nearer one (a tie, which only a value that is secretly rational produces), a
sympy expression is rounded exactly by numbers.rounded, and a 50-digit value, which has
no exact form to fall back on, makes `rounded` raise ArithmeticError (attention_by_hand
then computes exactly).

The values, called Real here, are mpmath numbers of a context of 50 digits of our own
(mpmath's global context is left alone):
- `real(x)`: an exact number (int, Fraction, sympy Rational), a sympy expression or a Real
  as a Real (a sympy Float, what sympy makes of a Real times a sympy number, counts as a
  Real); `exp`, `log`, `sqrt`, `tanh`, `sigmoid` of any of those; CONTEXT for the rest
  (CONTEXT.cos, CONTEXT.pi). Families compute chains of functions in Reals, where sympy
  would build nested expressions.
- `rounded(x, places)`, `rounded_all(xs, places)`: half up to `places` decimals, as exact
  Rationals, of an exact number (exactly), a sympy expression or a Real.
- `fixed(x, places)`, `fixed_matrix(rows, places)`: a rounded value as LaTeX with all its
  decimals (0.0420, not 0.042), so that a key's rounded numbers read as rounded.

numbers.sqrt_significant is the exact counterpart for square roots to significant digits
(integer arithmetic, no digits to decide)."""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from . import numbers
from .render import Tex

DIGITS = 50
CONTEXT = mpmath.MPContext()
CONTEXT.dps = DIGITS
# A scaled value this close to a rounding boundary is not rounded from its digits.
UNDECIDED = CONTEXT.mpf(10) ** -35

Real = Any  # an mpf of CONTEXT


def real(value: Any) -> Real:
    """An exact number, a sympy expression or a Real, as a 50-digit Real."""
    if isinstance(value, sp.Rational):
        return CONTEXT.mpf(int(value.p)) / int(value.q)
    if isinstance(value, Fraction):
        return CONTEXT.mpf(value.numerator) / value.denominator
    if _exact(value):
        return CONTEXT.mpf(value.evalf(DIGITS))
    return CONTEXT.mpf(value)  # a Real, an int, or a sympy Float (digits already)


def exp(value: Any) -> Real:
    return CONTEXT.exp(real(value))


def log(value: Any) -> Real:
    return CONTEXT.log(real(value))


def sqrt(value: Any) -> Real:
    return CONTEXT.sqrt(real(value))


def tanh(value: Any) -> Real:
    return CONTEXT.tanh(real(value))


def sigmoid(value: Any) -> Real:
    return 1 / (1 + CONTEXT.exp(-real(value)))


def rounded(value: Any, places: int) -> sp.Rational:
    """`value` rounded half up to `places` decimals, as an exact Rational: an exact
    sympy number or expression always (cached: the same ones recur across variants), a
    Real unless its digits cannot decide it (ArithmeticError)."""
    if _exact(value):
        return _rounded_exact(value, places)
    result = _decided(real(value), places)
    if result is None:
        raise ArithmeticError(f"{value} is too close to a rounding boundary to round to {places} decimals")
    return result


def rounded_all(values: Any, places: int) -> Any:
    """A number, vector or matrix of values, each rounded to `places` decimals."""
    if isinstance(values, list):
        return [rounded_all(v, places) for v in values]
    return rounded(values, places)


def _exact(value: Any) -> bool:
    """A sympy number or expression, but not a sympy Float: sympy makes one of a Real
    that meets a sympy number, and its digits are all there is to it."""
    return isinstance(value, sp.Basic) and not isinstance(value, sp.Float)


@functools.lru_cache(maxsize=100_000)
def _rounded_exact(value: sp.Basic, places: int) -> sp.Rational:
    if isinstance(value, sp.Rational):
        return numbers.rounded(value, places)
    result = _decided(real(value), places)
    return numbers.rounded(value, places) if result is None else result


def _decided(value: Real, places: int) -> sp.Rational | None:
    """`value` rounded from its digits, or None when it lies within UNDECIDED of a
    rounding boundary."""
    scaled = value * 10**places + CONTEXT.mpf(1) / 2
    whole = CONTEXT.floor(scaled)
    if min(scaled - whole, whole + 1 - scaled) < UNDECIDED:
        return None
    return sp.Rational(int(whole), 10**places)


def fixed(value: Any, places: int) -> Tex:
    """A value with at most `places` decimals as LaTeX with exactly `places` of them."""
    text = numbers.decimal(value, places)
    whole, _, digits = text.partition(".")
    return Tex(f"{whole}.{digits.ljust(places, '0')}") if places else Tex(whole)


def fixed_matrix(rows: list[list[Any]], places: int) -> Tex:
    """A matrix of such values as a bmatrix."""
    body = r" \\ ".join(" & ".join(fixed(x, places) for x in row) for row in rows)
    return Tex(rf"\begin{{bmatrix}} {body} \end{{bmatrix}}")
