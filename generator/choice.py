"""Multiple choice whose distractors are real mistakes.

A bank asks one answer of a problem as a choice question (`format: choice`): the
options are the correct value and the family's slip values for that answer, never two
that print the same (numbers are compared after rounding to the precision they are
printed with), shuffled by the problem's seed. When the slips are too few the error
says so, unless the bank lets near-miss values fill up (`fill: near_miss`).

Everything here works on the contract's JSON form, so the exam, the key, answers.json,
the grader and the LMS exports all see the same options.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import numbers
from .bank import ChoiceSpec
from .errors import GenError
from .seeds import derive_seed, rng_for

LETTERS = "ABCDEFGH"
# Near misses: the correct value scaled a little, then a lot, then shifted by one or two;
# ordered so that the most plausible-looking ones are used first.
NEAR_FACTORS = [Fraction(11, 10), Fraction(9, 10), Fraction(6, 5), Fraction(4, 5), Fraction(3, 2),
                Fraction(1, 2), Fraction(2), Fraction(10), Fraction(1, 10)]
NEAR_STEPS = [1, -1, 2, -2, 3, -3]


@dataclass(frozen=True)
class ChoiceOption:
    letter: str
    value: Any  # exact, in the contract's JSON form
    text: str  # as printed: numbers rounded to the printed precision
    kind: str  # "answer", "slip" or "near_miss"
    slip: str | None = None  # the slip's name, for kind "slip"
    says: str | None = None  # the slip in plain words

    def contract(self) -> dict[str, Any]:
        return {"letter": self.letter, "value": self.value, "text": self.text, "kind": self.kind,
                "slip": self.slip, "says": self.says}


@dataclass(frozen=True)
class ChoiceQuestion:
    answer: str  # the answer asked as multiple choice
    options: list[ChoiceOption]

    @property
    def correct(self) -> str:
        return next(o.letter for o in self.options if o.kind == "answer")

    def contract(self) -> dict[str, Any]:
        return {"answer": self.answer, "correct": self.correct, "options": [o.contract() for o in self.options]}


def ask_as_choice(family_id: str, answers: dict[str, Any], slips: dict[str, list[dict[str, Any]]],
                  seed: int, spec: ChoiceSpec) -> ChoiceQuestion:
    """The choice question for one drawn problem (`answers` and `slips` as in its contract)."""
    candidates = {name: _distinct(_candidates(value, slips.get(name, []), spec.near_miss))
                  for name, value in answers.items()}
    name = _pick_answer(family_id, candidates, spec)
    picked = candidates[name][: spec.count]
    order = rng_for(derive_seed("choice", seed, name)).permutation(len(picked))
    options = [ChoiceOption(LETTERS[i], **picked[int(j)]) for i, j in enumerate(order)]
    return ChoiceQuestion(answer=name, options=options)


def _candidates(correct: Any, slips: list[dict[str, Any]], near_miss: bool) -> Iterator[dict[str, Any]]:
    """The correct value first, then the slips in the family's order (most common
    mistakes first), then near misses if allowed."""
    yield {"value": correct, "kind": "answer"}
    for slip in slips:
        yield {"value": slip["value"], "kind": "slip", "slip": slip["name"], "says": slip["says"]}
    if near_miss:
        for value in near_misses(correct):
            yield {"value": value, "kind": "near_miss"}


def _distinct(candidates: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the candidates whose printed text differs from every earlier one."""
    kept: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        text = option_text(candidate["value"])
        kept.setdefault(text, {**candidate, "text": text})
    return list(kept.values())


def _pick_answer(family_id: str, candidates: dict[str, list[dict[str, Any]]], spec: ChoiceSpec) -> str:
    if spec.answer is not None and spec.answer not in candidates:
        raise GenError(f"family {family_id!r} has no answer {spec.answer!r} to ask as multiple choice",
                       hint=f"its answers are: {', '.join(candidates)}")
    names = [spec.answer] if spec.answer is not None else list(candidates)
    for name in names:
        if len(candidates[name]) >= spec.count:
            return name
    counts = ", ".join(f"{name}: {len(candidates[name]) - 1}" for name in names)
    raise GenError(
        f"family {family_id!r} has too few distinct slips for a {spec.count}-option multiple choice: "
        f"it needs {spec.count - 1} distractors, and the distinct slip values per answer are {counts}",
        hint="ask for fewer `choices`, name another `answer`, or let near misses fill up with `fill: near_miss`",
    )


def near_misses(value: Any) -> Iterator[Any]:
    """Values close to the correct one (same type: integers stay integers), for filling
    up a choice question; none for labels."""
    if isinstance(value, list | dict):
        for factor in NEAR_FACTORS:
            yield _scaled(value, factor)
        return
    number = as_number(value)
    if number is None:
        return
    for factor in NEAR_FACTORS:
        yield _scaled(value, factor)
    for step in NEAR_STEPS:
        yield to_json_number(number + step)


def _scaled(value: Any, factor: Fraction) -> Any:
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    if isinstance(value, dict):
        return {k: _scaled(v, factor) for k, v in value.items()}
    number = as_number(value)
    if number is None:
        return value
    scaled = number * factor
    return to_json_number(round(scaled) if number.denominator == 1 else scaled)


def as_number(value: Any) -> Fraction | None:
    """The exact number a contract value holds, or None for labels and lists."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        try:
            return Fraction(value)
        except (ValueError, ZeroDivisionError):
            return None
    return None


def to_json_number(number: Fraction | int) -> int | str:
    number = Fraction(number)
    return number.numerator if number.denominator == 1 else str(number)


def rounded(value: Any) -> Any:
    """The value as printed: numbers exact when their decimal expansion ends, otherwise
    rounded to 4 decimals, or 4 significant digits below 0.1 (numbers.short_decimal);
    labels unchanged."""
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    number = as_number(value)
    return value if number is None else Fraction(numbers.short_decimal(str(number)))


def option_text(value: Any) -> str:
    """Plain text of an option as printed; equal texts would be indistinguishable."""
    return _text(rounded(value))


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, Fraction):
        return numbers.decimal(str(value))
    return numbers.MASKED if value is None else str(value)
