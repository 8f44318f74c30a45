"""Drawing helpers shared by the families. Every function takes the problem's own
numpy Generator; nothing touches global random state. Values come back exact."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import sympy as sp

T = TypeVar("T")


def pick(rng: np.random.Generator, items: Sequence[T]) -> T:
    """One item, uniformly (by index, so items may be any objects)."""
    return items[int(rng.integers(len(items)))]


def decimal(rng: np.random.Generator, places: int, limit: Any, *, nonzero: bool = True) -> sp.Rational:
    """A decimal with `places` digits after the point and |value| <= limit."""
    scale = 10**places
    top = int(sp.Rational(limit) * scale)
    if nonzero:
        value = int(rng.integers(1, top + 1)) * (1 if rng.integers(2) else -1)
    else:
        value = int(rng.integers(-top, top + 1))
    return sp.Rational(value, scale)


def decimals(rng: np.random.Generator, shape: tuple[int, ...], places: int, limit: Any,
             *, nonzero: bool = False) -> list[Any]:
    """A nested list (vector or matrix) of such decimals."""
    if len(shape) == 1:
        return [decimal(rng, places, limit, nonzero=nonzero) for _ in range(shape[0])]
    return [decimals(rng, shape[1:], places, limit, nonzero=nonzero) for _ in range(shape[0])]


def decimal_beyond(rng: np.random.Generator, places: int, low: Any, high: Any) -> sp.Rational:
    """A decimal with `places` digits after the point and low < |value| <= high, either
    sign: drawn from exactly that set, so a lower bound that keeps a variant gradable
    costs no retries."""
    scale = 10**places
    first = int(sp.floor(sp.Rational(low) * scale)) + 1
    last = int(sp.floor(sp.Rational(high) * scale))
    if first > last:
        raise ValueError(f"no decimal with {places} places has {low} < |value| <= {high}")
    return sp.Rational(int(rng.integers(first, last + 1)) * (1 if rng.integers(2) else -1), scale)
