"""Irrational values of small computations (exp, log, tanh, sigmoid of rationals and of
each other) to 50 significant digits, and their exact rounding to the few decimals a key
keeps. Shared by the families whose answers are rounded irrationals computed in chains
(rnn_forward with tanh, computational_graph with exp/log/sigmoid).

sympy could carry the same values as exact expressions, but evaluating a nested one
(tanh of a sum of tanh's ...) costs it 10 to 100 ms, and a key rounds dozens of them per
variant. Fifty digits are 45 more than any answer keeps, and `rounded` refuses a value
so close to a rounding boundary that those digits could not decide it."""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from . import numbers

CONTEXT = mpmath.MPContext()  # a context of our own: mpmath's global one is left alone
CONTEXT.dps = 50
# A value this close to the midpoint between two rounded values is refused rather than
# rounded on the strength of digits that might be noise.
UNDECIDED = CONTEXT.mpf(10) ** -35

Real = Any  # an mpf of CONTEXT


def real(value: Any) -> Real:
    """An exact number (int, sympy Rational) or a 50-digit value, as a 50-digit value."""
    if isinstance(value, sp.Rational):
        return CONTEXT.mpf(int(value.p)) / int(value.q)
    return CONTEXT.mpf(value)


def rounded(value: Any, places: int) -> sp.Rational:
    """`value` rounded half up to `places` decimals, as an exact Rational: an exact number
    exactly (numbers.rounded), a 50-digit value from its digits."""
    if isinstance(value, sp.Rational):
        return numbers.rounded(value, places)
    scaled = real(value) * 10**places + CONTEXT.mpf(1) / 2
    whole = CONTEXT.floor(scaled)
    if min(scaled - whole, whole + 1 - scaled) < UNDECIDED:
        raise ArithmeticError(f"{value} is too close to a rounding boundary to round to {places} decimals")
    return sp.Rational(int(whole), 10**places)


def tanh(value: Any) -> Real:
    return CONTEXT.tanh(real(value))


def exp(value: Any) -> Real:
    return CONTEXT.exp(real(value))


def log(value: Any) -> Real:
    return CONTEXT.log(real(value))


def sigmoid(value: Any) -> Real:
    return 1 / (1 + CONTEXT.exp(-real(value)))
