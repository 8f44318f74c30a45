"""generator.rounding: correctly rounded decimals of exact numbers, sympy expressions and
50-digit values, and the fixed-decimal LaTeX a key prints them with."""

from fractions import Fraction

import pytest
import sympy as sp

from generator import rounding
from generator.numbers import exact


def test_fifty_digit_values():
    """sigmoid(0) = 1/2 exactly, e = 2.71828..., ln 2 = 0.693147..., sqrt 2 = 1.41421...,
    tanh 1 = 0.761594...; a value on a rounding boundary is refused rather than guessed."""
    assert rounding.rounded(rounding.sigmoid(0), 4) == exact("0.5")
    assert rounding.rounded(rounding.exp(1), 4) == exact("2.7183")
    assert rounding.rounded(rounding.log(2), 4) == exact("0.6931")
    assert rounding.rounded(rounding.sqrt(Fraction(2)), 4) == exact("1.4142")
    assert rounding.rounded(rounding.tanh(sp.Integer(1)), 4) == exact("0.7616")
    assert rounding.rounded(exact("0.00005"), 4) == exact("0.0001")  # exact numbers round exactly
    with pytest.raises(ArithmeticError):
        rounding.rounded(rounding.real(exact("0.00005")), 4)


def test_sympy_expressions_round_exactly_even_on_a_boundary():
    """A closed form is rounded from its digits, and exactly (numbers.rounded) where they
    cannot decide: log(e^(1/20000)) is the tie 0.00005 in disguise."""
    assert rounding.rounded(sp.exp(sp.Rational(1, 3)), 4) == exact("1.3956")
    assert rounding.rounded(-sp.log(sp.Rational(3, 7)), 6) == exact("0.847298")
    disguised = sp.log(sp.exp(sp.Rational(1, 20000)), evaluate=False)
    assert rounding.rounded(disguised, 4) == exact("0.0001")
    assert rounding.rounded_all([[sp.sqrt(2), sp.Rational(1, 3)], [sp.Integer(2)]], 2) == [
        [exact("1.41"), exact("0.33")], [2]]


def test_a_sympy_float_is_rounded_as_digits():
    """sympy makes a Float of a 50-digit value times a sympy number; its digits are all
    there is to it, so a tie is refused as a 50-digit value's is, not rounded exactly."""
    tie = sp.Rational(1, 2) * rounding.real(exact("0.0001"))
    assert isinstance(tie, sp.Float)
    assert rounding.rounded(sp.Rational(1, 3) * rounding.real(1), 4) == exact("0.3333")
    with pytest.raises(ArithmeticError):
        rounding.rounded(tie, 4)


def test_fixed_keeps_every_decimal():
    assert rounding.fixed(exact("0.042"), 4) == "0.0420"
    assert rounding.fixed(exact("3"), 0) == "3"
    assert rounding.fixed_matrix([[exact("0.5"), exact("-1.25")]], 2) == r"\begin{bmatrix} 0.50 & -1.25 \end{bmatrix}"
