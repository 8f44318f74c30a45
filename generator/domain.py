"""The parameter domains of the families: small checks for `Family.check_params`, each
returning what is violated as sentences that name the parameter ("lr must be between 0
and 1 (0 < lr <= 1), got -5"), so that a bank's pinned value outside the domain is
reported by name instead of surfacing as a solver error or a nonsensical key.

Pinned values arrive in the types the family draws (generator.variants.coerce_pins),
except inside mappings and for keys the draw did not have, so every check here also
refuses values of the wrong type rather than assuming them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sympy as sp

from .numbers import decimal as decimal_text
from .numbers import terminates


def is_integer(value: Any) -> bool:
    return isinstance(value, int | sp.Integer) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | sp.Rational) and not isinstance(value, bool)


def shown(value: Any) -> str:
    """A pinned value as the user wrote it, near enough: 0.123, 1/3, -5, [1, 2], 'x'."""
    if isinstance(value, str):
        return repr(value)
    if is_number(value) and terminates(value):
        return decimal_text(value)
    return str(value)


def integer(name: str, value: Any, lo: int, hi: int, *, nonzero: bool = False) -> list[str]:
    """An integer in lo..hi (`nonzero`: other than 0)."""
    if is_integer(value) and lo <= value <= hi and not (nonzero and value == 0):
        return []
    return [f"{name} must be a{' nonzero' if nonzero else 'n'} integer from {lo} to {hi}, got {shown(value)}"]


def integer_in(name: str, value: Any, allowed: Iterable[int]) -> list[str]:
    """One of a few integers (a grid such as the odd kernel sizes)."""
    allowed = list(allowed)
    if is_integer(value) and value in allowed:
        return []
    return [f"{name} must be one of {', '.join(map(str, allowed))}, got {shown(value)}"]


def choice(name: str, value: Any, allowed: Iterable[str]) -> list[str]:
    """One of a few names (strings are pinned as written, so the type is checked too)."""
    allowed = list(allowed)
    if isinstance(value, str) and value in allowed:
        return []
    return [f"{name} must be one of {', '.join(allowed)}, got {shown(value)}"]


def decimal(name: str, value: Any, lo: Any, hi: Any, places: int, *, above: bool = False, below: bool = False,
            nonzero: bool = False) -> list[str]:
    """A number in [lo, hi] (`above`/`below`: the bound itself excluded) with at most
    `places` digits after the decimal point, so that the key's arithmetic stays short."""
    if not is_number(value):
        return [f"{name} must be a number, got {shown(value)}"]
    lo, hi = sp.Rational(lo), sp.Rational(hi)
    if (value <= lo if above else value < lo) or (value >= hi if below else value > hi):
        interval = f"{decimal_text(lo)} {'<' if above else '<='} {name} {'<' if below else '<='} {decimal_text(hi)}"
        return [f"{name} must be between {decimal_text(lo)} and {decimal_text(hi)} ({interval}), got {shown(value)}"]
    if (value * 10**places).q != 1:
        return [f"{name} must be a decimal with at most {places} digit{'s' * (places > 1)} after the point, "
                f"got {shown(value)}"]
    if nonzero and value == 0:
        return [f"{name} must not be 0"]
    return []


def shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a rectangular nested list ((3, 2) for three rows of two; () for a
    scalar), or None when it is ragged or has an empty list in it."""
    if not isinstance(value, list):
        return ()
    inner = {shape(item) for item in value}
    if not value or None in inner or len(inner) != 1:
        return None
    return (len(value), *inner.pop())


def each(name: str, value: Any, check: Callable[[str, Any], list[str]]) -> list[str]:
    """`check` on every entry of a nested list, each named by its indices (X[2][1], from
    1 as the statements count); the first violation only, as one is enough to fix."""
    if not isinstance(value, list):
        return check(name, value)
    for index, item in enumerate(value, 1):
        problems = each(f"{name}[{index}]", item, check)
        if problems:
            return problems
    return []
