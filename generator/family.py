"""The family interface and its registry.

A family is one module in `generator/families/` holding one class decorated with
`@register`. It draws well-posed parameters from an explicit random generator and
solves them exactly; its template `templates/families/<id>.tex` shows the statement
and the worked solution. Nothing else needs to change to add one.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .errors import GenError, OptionError


@dataclass(frozen=True)
class Option:
    """One option a bank may set for a family: its default, what it means, and a
    validator that returns the normalised value or raises ValueError saying why."""

    default: Any
    help: str
    validate: Callable[[Any], Any]


@dataclass
class Solution:
    """Exact answers under the contract's names, plus the intermediate values
    (`work`) the key's template shows as worked steps."""

    answers: dict[str, Any]
    work: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Slip:
    """A typical mistake: `answer` computed with one step done wrong. `says` is the
    feedback in plain words ("you left out the BatchNorm parameters")."""

    answer: str
    name: str
    says: str
    value: Any


class Family:
    """Base class of every problem family; subclasses set the class attributes and
    implement draw and solve."""

    id: ClassVar[str]
    title: ClassVar[str]  # one line, shown by `gen list`
    options: ClassVar[dict[str, Option]] = {}

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        """Draw parameters from the feasible set (never by redrawing until they fit)."""
        raise NotImplementedError

    def solve(self, params: dict[str, Any]) -> Solution:
        """Exact answers (sympy Integer/Rational) and the worked steps' values."""
        raise NotImplementedError

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        """Typical mistakes, each the solver with one step changed."""
        return []

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        """Well-posedness invariants of a drawn variant; returns what is violated."""
        return []

    @property
    def template(self) -> str:
        return f"families/{self.id}.tex"

    def resolve_options(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """Fill defaults and validate the bank's options, naming what is allowed."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            raise OptionError(
                f"family {self.id!r} has no option {', '.join(map(repr, unknown))}",
                hint=self.describe_options(),
            )
        resolved = {}
        for name, option in self.options.items():
            value = given.get(name, option.default)
            try:
                resolved[name] = option.validate(value)
            except (ValueError, TypeError) as exc:
                raise OptionError(
                    f"option {name!r} of family {self.id!r}: {exc} (got {value!r})",
                    hint=f"{name}: {option.help}",
                ) from None
        return resolved

    def describe_options(self) -> str:
        if not self.options:
            return f"family {self.id!r} takes no options"
        lines = [f"{name}: {opt.help} (default {opt.default!r})" for name, opt in self.options.items()]
        return "allowed options:\n    " + "\n    ".join(lines)


REGISTRY: dict[str, Family] = {}


def register(cls: type[Family]) -> type[Family]:
    """Class decorator: make a family known by its id."""
    if cls.id in REGISTRY and type(REGISTRY[cls.id]) is not cls:
        raise RuntimeError(f"two families registered under the id {cls.id!r}")
    REGISTRY[cls.id] = cls()
    return cls


def load_families() -> dict[str, Family]:
    """Import every module of generator.families; an import error is loud."""
    from . import families

    for info in pkgutil.iter_modules(families.__path__):
        importlib.import_module(f"{families.__name__}.{info.name}")
    return REGISTRY


def get_family(family_id: str) -> Family:
    registry = load_families()
    if family_id in registry:
        return registry[family_id]
    close = difflib.get_close_matches(family_id, registry, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else "run `gen list` to see them"
    raise GenError(f"unknown family {family_id!r}", hint=hint)


# --- validators shared by the families' options ---------------------------------


def int_in(lo: int, hi: int) -> Callable[[Any], int]:
    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected an integer")
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value

    return validate


def ints_from(allowed: list[int] | range, *, min_len: int = 1) -> Callable[[Any], list[int]]:
    """A non-empty list of distinct integers, each from `allowed`."""

    def validate(value: Any) -> list[int]:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise TypeError("expected a list of integers")
        if len(set(value)) < min_len:
            raise ValueError(f"needs at least {min_len} distinct value(s)")
        bad = [v for v in value if v not in allowed]
        if bad:
            raise ValueError(f"{bad} not allowed; choose from {_span(allowed)}")
        return sorted(set(value))

    return validate


def one_of(*choices: Any) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"choose one of {', '.join(map(repr, choices))}")
        return value

    return validate


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _span(allowed: list[int] | range) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start}..{allowed.stop - 1}"
    return ", ".join(map(str, allowed))
