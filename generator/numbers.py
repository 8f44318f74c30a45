"""Exact numbers: parsing, the contract's JSON form, and LaTeX/decimal display.

Every value in the solution path is a sympy Integer or Rational; floats never appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import sympy as sp

Exact = sp.Rational  # sympy.Integer is a subclass of Rational


def exact(value: Any) -> sp.Rational:
    """Parse an int, a fraction/decimal string or a sympy number into an exact Rational.

    Floats are refused: they would bring binary rounding into the key.
    """
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, bool | float):
        raise TypeError(f"refusing inexact value {value!r}")
    if not isinstance(value, int | str | Fraction | sp.Expr):
        # sympy would try to parse other objects (a dict: a few ms each) only to fail
        raise TypeError(f"not a number: {value!r}")
    result = sp.Rational(value)
    if not isinstance(result, sp.Rational):
        raise TypeError(f"not a rational number: {value!r}")
    return result


def tenths(*values: int) -> list[sp.Rational]:
    """Integers counted in tenths, e.g. tenths(3, -5) == [3/10, -1/2]."""
    return [sp.Rational(v, 10) for v in values]


def to_json(value: Any) -> Any:
    """The contract's form: JSON integers for integers, "p/q" strings for other
    rationals, lists for vectors and matrices, booleans and strings unchanged."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, sp.Integer):
        return int(value)
    if isinstance(value, sp.Rational):
        return str(value)
    if isinstance(value, sp.MatrixBase):
        return [[to_json(x) for x in row] for row in value.tolist()]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [to_json(v) for v in value]
    raise TypeError(f"no exact JSON form for {value!r} ({type(value).__name__})")


def terminates(value: sp.Rational) -> bool:
    """True when the decimal expansion of value is finite (denominator 2^a 5^b)."""
    q = int(exact(value).q)
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def decimal(value: Any, places: int = 4) -> str:
    """Decimal text: exact when the expansion terminates, otherwise rounded to
    `places` digits (rounding half away from zero, done in integers)."""
    r = exact(value)
    p, q = int(r.p), int(r.q)  # plain ints: this runs for every number of every key
    if terminates(r):
        digits = 0
        while (p * 10**digits) % q:
            digits += 1
        return _fixed(p, q, digits)
    return _fixed(p, q, places)


def short_places(p: int, q: int, places: int = 4) -> int:
    """The decimals a non-terminating p/q is shown with in short form (a key's cover, the
    grading sheet, choice options): `places`, or more below 0.1, so that 4 significant
    digits show (1/392 is 0.002551, not 0.0026)."""
    while p and abs(p) * 10**places < q * 10**3:
        places += 1
    return places


def short_decimal(value: Any) -> str:
    """decimal(value) with at least 4 significant digits when the expansion does not end."""
    r = exact(value)
    return decimal(r, short_places(int(r.p), int(r.q)))


def _fixed(p: int, q: int, digits: int) -> str:
    n = (2 * abs(p) * 10**digits + q) // (2 * q)  # floor(|p/q| * 10^digits + 1/2)
    sign = "-" if p < 0 and n != 0 else ""
    if digits == 0:
        return f"{sign}{n}"
    whole, frac = divmod(n, 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def rounded(value: sp.Expr, places: int) -> sp.Rational:
    """`value` rounded to `places` decimals, a half away from zero as students are taught
    (-1.23625 to -1.2363), as an exact Rational: the key's "about" values, rounded without
    passing through floats."""
    scale = sp.Integer(10) ** places
    return sp.sign(value) * sp.Integer(sp.floor(abs(value) * scale + sp.Rational(1, 2))) / scale


def significant(value: sp.Expr, digits: int) -> sp.Rational:
    """A positive `value` rounded half up to `digits` significant digits, exactly; sympy
    evaluates an expression such as a logarithm as precisely as the rounding needs."""
    return rounded(value, digits - 1 - int(sp.floor(sp.log(value, 10))))


# The words a key restates a large count in, largest first.
COUNT_UNITS = (("trillion", 10**12), ("billion", 10**9), ("million", 10**6))


def count_unit(count: int | sp.Integer) -> tuple[str, int] | None:
    """The largest of million, billion, trillion a count reaches (from a tenth of a million
    on, millions); None for a smaller count, which a key gives as it is."""
    for word, size in COUNT_UNITS:
        if count >= size or (size == 10**6 and 10 * count >= size):
            return word, size
    return None


def in_words(count: int | sp.Integer) -> dict[str, Any] | None:
    """A large count as a key restates it: three significant digits of its unit, "about
    241 million" rather than 240,844,800 or "240.8448 million"."""
    unit = count_unit(count)
    return None if unit is None else {"value": significant(sp.Rational(count, unit[1]), 3), "unit": unit[0]}


def significant_text(value: sp.Expr, digits: int) -> str:
    """A positive `value` as decimal text of exactly `digits` significant digits, trailing
    zeros kept: 1.050 when four are asked for, not 1.05."""
    number = significant(value, digits)
    places = digits - 1 - int(sp.floor(sp.log(number, 10)))
    return _fixed(int(number.p), int(number.q), max(places, 0))


def grouped(n: Any, sep: str = ",") -> str:
    """An integer with thousands separators: 147840 -> 147,840."""
    value = int(exact(n))
    return f"{value:,}".replace(",", sep)


def tex_number(value: Any) -> str:
    """Exact LaTeX for a number: integers grouped with thin spaces, terminating
    rationals as decimals, others as fractions."""
    r = exact(value)
    if r.q == 1:
        return grouped(r, sep="\\,") if abs(r) >= 10000 else str(int(r))
    if terminates(r):
        return decimal(r)
    sign = "-" if r < 0 else ""
    return f"{sign}\\frac{{{abs(r.p)}}}{{{r.q}}}"


def tex_fraction(value: Any) -> str:
    """LaTeX for a rational always as a fraction (integers stay integers)."""
    r = exact(value)
    if r.q == 1:
        return tex_number(r)
    sign = "-" if r < 0 else ""
    return f"{sign}\\frac{{{abs(r.p)}}}{{{r.q}}}"


def tex_matrix(rows: Any, env: str = "bmatrix") -> str:
    """LaTeX matrix of exact numbers; a flat list is shown as a column vector."""
    if isinstance(rows, sp.MatrixBase):
        rows = rows.tolist()
    rows = [r if isinstance(r, list | tuple) else [r] for r in rows]
    body = r" \\ ".join(" & ".join(r"-\infty" if x is None else tex_number(x) for x in row) for row in rows)
    return f"\\begin{{{env}}} {body} \\end{{{env}}}"


MASKED = "masked"  # how an entry that does not exist (a masked attention score) is written and read


def text_value(value: Any) -> str:
    """Plain-text display for the terminal: exact value plus decimal when it differs."""
    if isinstance(value, bool | str):
        return str(value)
    if value is None:
        return MASKED
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {text_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | sp.MatrixBase):
        items = value.tolist() if isinstance(value, sp.MatrixBase) else value
        return "[" + ", ".join(text_value(v) for v in items) + "]"
    r = exact(value)
    shown = str(r)
    if r.q != 1:
        dec = decimal(r)
        shown += f" = {dec}" if terminates(r) else f" ≈ {dec}"
    return shown


def sqrt_significant(square: Any, digits: int) -> sp.Rational:
    """The square root of a positive rational, exactly when it is rational, otherwise rounded
    half up to `digits` significant digits; in integers (isqrt), as significant(sp.sqrt(x))
    would give, without sympy's slow floor of an irrational (standard deviations, bounds)."""
    from math import isqrt

    r = exact(square)
    p, q = int(r.p), int(r.q)
    if isqrt(p) ** 2 == p and isqrt(q) ** 2 == q:
        return sp.Rational(isqrt(p), isqrt(q))

    def floor_root(scale: int, places: int) -> int:
        """floor(sqrt(scale * r) * 10^places), as floor(sqrt(floor(y))) = floor(sqrt(y))."""
        if places >= 0:
            return isqrt(scale * p * 100**places // q)
        return isqrt(scale * p // (q * 100**-places))

    places = 0  # decimals kept, so that floor(sqrt(r) * 10^places) has `digits` digits
    while floor_root(1, places) < 10 ** (digits - 1):
        places += 1
    while floor_root(1, places) >= 10**digits:
        places -= 1
    # rounding half up: floor(x + 1/2) = (floor(2x) + 1) // 2
    return sp.Rational((floor_root(4, places) + 1) // 2) / sp.Integer(10) ** places
