"""The family interface and its registry.

A family is one module in `generator/families/` holding one class decorated with
`@register`. It draws well-posed parameters from an explicit random generator and
solves them exactly; its template `templates/families/<id>.tex` shows the statement
and the worked solution. Nothing else needs to change to add one.

A family may also live in its own installed package (a plugin): the package names its
Family subclass under the entry-point group `gen.families`, the entry point's name being
the family's id, and keeps its template in a `templates/families/<id>.tex` next to the
module. A plugin that cannot be loaded is recorded in BROKEN with the reason, so that it
is reported by name while every other family keeps working.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
import sympy as sp

from .errors import GenError, OptionError
from .render import TEMPLATE_DIR
from .tolerance import Tolerance, default_tolerance

ENTRY_POINT_GROUP = "gen.families"


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


@dataclass(frozen=True)
class Verdict:
    """A family's own verdict on one returned answer (Family.grade_answer), for answers
    no single value decides: `reason` says in plain words why it is wrong (the rule it
    breaks), `expected` is what is right for the student's own answer (contract JSON,
    e.g. the parameters of the network they designed), and `slip`/`says` name a typical
    mistake as Slip does."""

    correct: bool
    reason: str = ""
    expected: Any = None
    slip: str | None = None
    says: str | None = None


class Family:
    """Base class of every problem family; subclasses set the class attributes and
    implement draw and solve."""

    id: ClassVar[str]
    title: ClassVar[str]  # one line, shown by `gen list`
    options: ClassVar[dict[str, Option]] = {}
    # Per answer, when the default rule (generator.tolerance) does not fit, e.g. a ratio
    # the key prints to two decimals; a bank may override it again.
    tolerances: ClassVar[dict[str, Tolerance]] = {}
    # Per answer, what students are shown instead of its contract name: a short plain-text
    # noun phrase ("the weight after one step with weight decay"). Plain text, not LaTeX,
    # so that one label serves the PDF (escaped), the LMS exports and the feedback alike.
    answer_labels: ClassVar[dict[str, str]] = {}
    # Groups of answers the problem contrasts (plain versus decayed step, design A versus
    # B): any two of a group that a variant asks must differ by more than their
    # tolerances, or the contrast shows nothing and one answer earns the other's marks.
    # `gen check` and the family tests enforce it (generator.check.gradability).
    contrasts: ClassVar[tuple[tuple[str, ...], ...]] = ()

    def heading(self, params: dict[str, Any]) -> str:
        """The problem's heading on the exam: the title, unless a variant is better named
        by what it drew (a causal mask, the one schedule asked)."""
        return self.title

    def answer_label(self, name: str) -> str:
        """The label students see for answer `name`; a plugin that sets none still gets
        words rather than an identifier."""
        return self.answer_labels.get(name) or name.replace("_", " ")

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
        """Well-posedness invariants of a drawn variant; returns what is violated. The
        built-in families begin with check_params, so every variant passes both."""
        return []

    def check_params(self, params: dict[str, Any]) -> list[str]:
        """The parameters' own domain (signs, ranges, integers, the family's grid, sizes
        and shapes that fit each other), each violation naming its parameter. It runs on
        pinned values before `solve`, so that a pin outside the domain is reported by
        name instead of crashing the solver or printing a nonsensical key."""
        return []

    def grade_answer(self, name: str, given: dict[str, Any], params: dict[str, Any]) -> Verdict | None:
        """Grade answer `name` by the family's own rules, when comparing it with the key
        is not enough (several answers are right): `given` holds every answer of the
        problem as the student gave it (read as gen grade reads values: Fractions,
        lists, text; None when left out), `params` the contract's params. None means
        "no verdict": gen grade then compares with the key (a person grades the rest)."""
        return None

    def tolerance(self, answer: str, value: Any) -> Tolerance:
        """How close a returned `answer` must be; `value` is its contract JSON form."""
        return self.tolerances.get(answer) or default_tolerance(value)

    @property
    def template(self) -> str:
        return f"families/{self.id}.tex"

    @property
    def template_dir(self) -> Path:
        """The folder holding `families/<id>.tex`: the project's templates for a built-in
        family, a `templates/` folder next to the module for a plugin's family."""
        if type(self).__module__.startswith(f"{__package__}."):
            return TEMPLATE_DIR
        return Path(inspect.getfile(type(self))).parent / "templates"

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
                    hint=f"{name}: {option.help}" + _boolean_note(option),
                ) from None
        return resolved

    def describe_options(self) -> str:
        if not self.options:
            return f"family {self.id!r} takes no options"
        lines = [f"{name}: {opt.help} (default {opt.default!r}){_boolean_note(opt)}"
                 for name, opt in self.options.items()]
        return "allowed options:\n    " + "\n    ".join(lines)


def _boolean_note(option: Option) -> str:
    return f"; {BOOLEAN_HINT}" if getattr(option.validate, "accepts_booleans", False) else ""


class PluginFailure(NamedTuple):
    """Why a plugin's family was not loaded (naming the plugin and its package), and the
    distribution to uninstall, when the entry point came from one."""

    message: str
    distribution: str | None


REGISTRY: dict[str, Family] = {}
PLUGINS: dict[str, str] = {}  # family id -> the installed package that provides it
BROKEN: dict[str, PluginFailure] = {}  # plugin family id -> why it was not loaded


def register(cls: type[Family]) -> type[Family]:
    """Class decorator: make a family known by its id."""
    if cls.id in REGISTRY and type(REGISTRY[cls.id]) is not cls:
        raise RuntimeError(f"two families registered under the id {cls.id!r}")
    REGISTRY[cls.id] = cls()
    return cls


def load_families() -> dict[str, Family]:
    """Import every module of generator.families (an import error is loud: it is our
    code), then the installed plugins (an error is recorded in BROKEN: it is theirs)."""
    from . import families

    for info in pkgutil.iter_modules(families.__path__):
        importlib.import_module(f"{families.__name__}.{info.name}")
    load_plugins()
    return REGISTRY


@functools.cache
def load_plugins() -> None:
    """Register the families of the entry-point group, once per process (get_family is
    called for every problem drawn, and scanning the installed packages is slow)."""
    for point in entry_points(group=ENTRY_POINT_GROUP):
        package = f"package {point.dist.name} {point.dist.version}" if point.dist else f"entry point {point.value}"
        try:
            family = _plugin_family(point)
        except _PluginBroken as exc:
            message = f"plugin family {point.name!r} ({package}) was not loaded: {exc}"
            BROKEN[point.name] = PluginFailure(message, point.dist.name if point.dist else None)
            continue
        REGISTRY[family.id] = family
        PLUGINS[family.id] = package


class _PluginBroken(Exception):
    """Why one plugin's family cannot be used."""


def _plugin_family(point: EntryPoint) -> Family:
    try:
        cls = point.load()
    except Exception as exc:  # a plugin may fail in any way; it must not take the other families down
        raise _PluginBroken(f"importing {point.value} failed: {type(exc).__name__}: {exc}") from exc
    problems = interface_problems(cls, point.name)
    if problems:
        raise _PluginBroken("; ".join(problems))
    try:
        family = cls()
        template = family.template_dir / family.template
    except Exception as exc:
        raise _PluginBroken(f"{cls.__name__}() failed: {type(exc).__name__}: {exc}") from exc
    if not template.is_file():
        raise _PluginBroken(f"its template {template} does not exist")
    return family


def interface_problems(cls: Any, name: str) -> list[str]:
    """What keeps `cls` from being the family `name`: the checks a plugin must pass."""
    if not (inspect.isclass(cls) and issubclass(cls, Family)):
        return [f"{cls!r} is not a subclass of generator.family.Family (the entry point must name the class)"]
    problems = [f"class attribute `{attr}` is missing or empty" for attr in ("id", "title")
                if not isinstance(getattr(cls, attr, None), str) or not getattr(cls, attr).strip()]
    problems += [f"`{method}` is not implemented" for method in ("draw", "solve")
                 if getattr(cls, method) is getattr(Family, method)]
    if not isinstance(cls.options, dict) or not all(isinstance(o, Option) for o in cls.options.values()):
        problems.append("`options` must map option names to Option(default, help, validator)")
    family_id = getattr(cls, "id", None)
    if not isinstance(family_id, str):
        return problems
    if family_id != name:
        problems.append(f"its id {family_id!r} differs from the entry point's name {name!r}")
    elif family_id in REGISTRY and type(REGISTRY[family_id]) is not cls:
        problems.append(f"the id {family_id!r} is already taken by {type(REGISTRY[family_id]).__module__}")
    return problems


def get_family(family_id: str) -> Family:
    registry = load_families()
    if family_id in registry:
        return registry[family_id]
    if family_id in BROKEN:
        failure = BROKEN[family_id]
        remove = f"uninstall it: pip uninstall {failure.distribution}" if failure.distribution else "remove it"
        raise GenError(failure.message, hint=f"fix the plugin, or {remove}")
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


def decimal_in(lo: str, hi: str, *, places: int = 4) -> Callable[[Any], sp.Rational]:
    """An exact number in [lo, hi] with at most `places` decimals, given as a YAML number
    (0.9), a decimal string ("0.9") or a fraction ("9/10"); returned as a sympy Rational.
    A YAML float is read through its shortest text, so 0.1 is 1/10, not its binary value."""
    low, high = sp.Rational(lo), sp.Rational(hi)

    def validate(value: Any) -> sp.Rational:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError("expected a number such as 0.9 or 9/10")
        try:
            number = sp.Rational(str(value).strip())
        except (TypeError, ValueError, SyntaxError):
            raise ValueError("expected a number such as 0.9 or 9/10") from None
        if not isinstance(number, sp.Rational):
            raise ValueError("expected a number such as 0.9 or 9/10")
        if not low <= number <= high:
            raise ValueError(f"must be between {lo} and {hi}")
        if (number * 10**places).q != 1:
            raise ValueError(f"must have at most {places} digits after the decimal point")
        return number

    return validate


def one_of(*choices: Any) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"choose one of {', '.join(map(repr, choices))}")
        return value

    return validate


# What YAML 1.1 (PyYAML) reads as a boolean, also accepted as text (quoted in a bank, or
# given on the command line), in any case.
TRUE_WORDS = ("true", "yes", "on")
FALSE_WORDS = ("false", "no", "off")
BOOLEAN_HINT = "true and false may also be written yes/no or on/off"
_EITHER = {"either", "any"}


def flag(*words: str, true: Any = True, false: Any = False) -> Callable[[Any], Any]:
    """An option that is true or false, or one of `words` ('either', 'any', ...).
    True and false come as YAML booleans (`true`, `yes`, `on`, ...) or as that text in
    any case; they are returned as `true`/`false` (a family whose draw expects "yes"
    and "no" passes those), so `bias: no` and `bias: false` mean the same."""

    def validate(value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
            value = value.strip().lower() in TRUE_WORDS
        if isinstance(value, bool):
            return true if value else false
        word = value.strip().lower() if isinstance(value, str) else None
        if word in words:
            return word
        if word in _EITHER and _EITHER & set(words):  # 'either' and 'any' mean the same everywhere
            return next(w for w in words if w in _EITHER)
        raise ValueError(f"choose one of {', '.join(['true', 'false', *(repr(w) for w in words)])}")

    validate.accepts_booleans = True  # type: ignore[attr-defined]  # resolve_options says so in its hint
    return validate


def boolean(value: Any) -> bool:
    """True or false (yes/no, on/off and their text work too)."""
    return flag()(value)


boolean.accepts_booleans = True  # type: ignore[attr-defined]


def strs_from(allowed: tuple[str, ...]) -> Callable[[Any], list[str]]:
    """A non-empty list of names, each from `allowed` (a single name is accepted too),
    returned without repeats in the order of `allowed` so that draws do not depend on
    how the bank happened to list them."""

    def validate(value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError("expected a list of names")
        if not value:
            raise ValueError("needs at least one name")
        bad = [v for v in value if v not in allowed]
        if bad:
            raise ValueError(f"{bad} not allowed; choose from {', '.join(allowed)}")
        return [name for name in allowed if name in value]

    return validate


def _span(allowed: list[int] | range) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start}..{allowed.stop - 1}"
    return ", ".join(map(str, allowed))
