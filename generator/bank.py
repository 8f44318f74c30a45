"""Banks: the YAML file an instructor writes. Read with yaml.safe_load (data, never
code) and validated into plain dataclasses; every error names the file and, where
YAML knows it, the line and column."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from .errors import BankError, GenError
from .family import get_family
from .tolerance import Tolerance, parse_tolerance

BANK_DIR = Path(__file__).resolve().parent.parent / "banks"
MAX_CHOICES = 8  # letters A-H; more options no longer fit a printed line or an LMS list


@dataclass(frozen=True)
class ChoiceSpec:
    """`format: choice`: ask one answer as a multiple-choice question with `count`
    options; `answer` None means the first answer with enough distinct slips, and
    `near_miss` lets near-miss values fill up when the slips are too few."""

    count: int = 4
    answer: str | None = None
    near_miss: bool = False


@dataclass(frozen=True)
class Choice:
    """One problem a slot may hold: a family, the options it draws with, the
    parameters the instructor pinned instead of drawing, tolerances that replace the
    family's (`tolerance` for every answer, `tolerances` per answer name) and, for a
    multiple-choice question, how it is asked. `where` names it in messages."""

    family: str
    options: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tolerance: Tolerance | None = None
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    ask: ChoiceSpec | None = None
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Slot:
    """One numbered problem of the exam; with `one_of`, several alternatives, of which
    each student gets one."""

    id: str
    points: Fraction
    choices: list[Choice]


@dataclass(frozen=True)
class Bank:
    name: str
    title: str
    slots: list[Slot]
    course: str = ""
    date: dt.date | None = None
    instructions: str = ""
    shuffle: bool = False
    distinct: bool = False  # with a roster: redraw a variant a student above already has


# The keys a bank and its problems may have: a misspelt key is an error, not silently
# ignored (an instructor who writes `shufle: true` must not believe the exam is shuffled).
BANK_KEYS = ("title", "course", "date", "instructions", "problems", "shuffle", "distinct")
SLOT_KEYS = ("id", "points", "one_of")
CHOICE_KEYS = ("family", "options", "params", "tolerance", "format", "choices", "answer", "fill")


def find_bank(name_or_path: str) -> Path:
    """`--bank NAME` -> banks/NAME.yaml in the current folder, else the project's own
    banks/NAME.yaml; anything that looks like a path is a path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise BankError(f"bank file {str(path)!r} not found")
        return path
    for folder in (Path("banks"), BANK_DIR):
        if (folder / f"{name_or_path}.yaml").is_file():
            return folder / f"{name_or_path}.yaml"
    known = sorted({p.stem for folder in (Path("banks"), BANK_DIR) for p in folder.glob("*.yaml")})
    raise BankError(f"no bank named {name_or_path!r}", hint=f"known banks: {', '.join(known)}")


def _known_keys(entry: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [str(key) for key in entry if key not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=1)
        raise BankError(f"unknown key `{unknown[0]}`" + (f" (did you mean `{close[0]}`?)" if close else ""),
                        where=where, hint=f"allowed here: {', '.join(allowed)}")


def load_bank(name_or_path: str) -> Bank:
    path = find_bank(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise BankError(f"not valid YAML: {exc.problem}", where=where) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BankError(f"cannot read bank: {exc}", where=str(path)) from None
    return parse_bank(data, name=path.stem, where=str(path))


def parse_bank(data: Any, *, name: str, where: str) -> Bank:
    if not isinstance(data, dict):
        raise BankError("a bank is a mapping with at least `title` and `problems`", where=where)
    _known_keys(data, BANK_KEYS, where)
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BankError("`title` is required and must be text", where=where)
    problems = data.get("problems")
    if not isinstance(problems, list) or not problems:
        raise BankError("`problems` must be a non-empty list", where=where)
    slots = [_parse_slot(entry, i, where=f"{where}: problem {i}") for i, entry in enumerate(problems, 1)]
    ids = [slot.id for slot in slots]
    if len(set(ids)) != len(ids):
        raise BankError("two problems have the same `id`", where=where)
    shuffle, distinct = (data.get(key, False) for key in ("shuffle", "distinct"))
    for key, value in (("shuffle", shuffle), ("distinct", distinct)):
        if not isinstance(value, bool):
            raise BankError(f"`{key}` must be true or false", where=where)
    date = data.get("date")
    if date is not None and not isinstance(date, dt.date):
        raise BankError("`date` must be a date like 2026-12-01", where=where)
    return Bank(
        name=name,
        title=title,
        slots=slots,
        course=_text(data.get("course"), "course", where),
        date=date,
        instructions=_text(data.get("instructions"), "instructions", where),
        shuffle=shuffle,
        distinct=distinct,
    )


def _text(value: Any, key: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise BankError(f"`{key}` must be text", where=where)
    return str(value)


def _parse_slot(entry: Any, position: int, *, where: str) -> Slot:
    if not isinstance(entry, dict):
        raise BankError("each problem is a mapping with a `family` (or `one_of`)", where=where)
    points = _points(entry.get("points", 10), where)
    slot_id = str(entry.get("id", position))
    if "one_of" in entry:
        _known_keys(entry, SLOT_KEYS, where)
        alternatives = entry["one_of"]
        if not isinstance(alternatives, list) or not alternatives:
            raise BankError("`one_of` must be a non-empty list of problems", where=where)
        choices = [_parse_choice(alt, where=f"{where}, alternative {i}") for i, alt in enumerate(alternatives, 1)]
    else:
        choices = [_parse_choice(entry, where=where)]
    return Slot(id=slot_id, points=points, choices=choices)


def _parse_choice(entry: Any, *, where: str) -> Choice:
    if not isinstance(entry, dict) or "family" not in entry:
        raise BankError("each problem needs a `family`", where=where)
    _known_keys(entry, CHOICE_KEYS + SLOT_KEYS[:2], where)
    options = entry.get("options") or {}
    params = entry.get("params") or {}
    for key, value in (("options", options), ("params", params)):
        if not isinstance(value, dict):
            raise BankError(f"`{key}` must be a mapping", where=where)
    try:
        family = get_family(str(entry["family"]))
        family.resolve_options(options)  # fail early, naming the problem
    except GenError as exc:
        exc.where = where
        raise
    every, per_answer = _tolerances(entry.get("tolerance"), where)
    return Choice(family=family.id, options=options, params=params, tolerance=every, tolerances=per_answer,
                  ask=_choice_spec(entry, where), where=where)


def _tolerances(spec: Any, where: str) -> tuple[Tolerance | None, dict[str, Tolerance]]:
    """`tolerance:` is one rule for every answer (`exact`, {abs: X}, ...) or a mapping
    from answer names to rules; the names are checked once the answers are known."""
    if spec is None:
        return None, {}
    if isinstance(spec, dict) and spec and not set(spec) <= {"abs", "rel"}:
        return None, {str(name): parse_tolerance(rule, where=f"{where}, tolerance of {name!r}")
                      for name, rule in spec.items()}
    return parse_tolerance(spec, where=where), {}


def _choice_spec(entry: dict[str, Any], where: str) -> ChoiceSpec | None:
    """`format: choice` with optional `choices` (how many options), `answer` and
    `fill: near_miss`; these keys mean nothing without it."""
    form = entry.get("format", "open")
    if form not in ("open", "choice"):
        raise BankError(f"`format` is `open` or `choice`, got {form!r}", where=where)
    if form == "open":
        stray = [key for key in ("choices", "answer", "fill") if key in entry]
        if stray:
            raise BankError(f"{', '.join(f'`{k}`' for k in stray)} need `format: choice`", where=where)
        return None
    count = entry.get("choices", ChoiceSpec.count)
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_CHOICES:
        raise BankError(f"`choices` is the number of options, 2 to {MAX_CHOICES}, got {count!r}", where=where)
    answer = entry.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise BankError(f"`answer` names one answer of the family, got {answer!r}", where=where)
    fill = entry.get("fill")
    if fill not in (None, "near_miss"):
        raise BankError(f"`fill` can only be `near_miss`, got {fill!r}", where=where,
                        hint="near-miss values fill up the options when the family has too few distinct slips")
    return ChoiceSpec(count=count, answer=answer, near_miss=fill == "near_miss")


def _points(value: Any, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BankError(f"points must be a positive number, got {value!r}", where=where)
    points = Fraction(str(value))
    if points <= 0:
        raise BankError(f"points must be positive, got {value!r}", where=where)
    return points
