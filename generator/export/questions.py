"""What every LMS format is made from: for every problem of the bank, K distinct
variants (distinct fingerprints), drawn from the exam seed as if for students
`export-0`, `export-1`, ...; the statement and the worked solution of each as PNG images
typeset from the same templates as the printed exam (figures.py); and each answer as
one or more blanks with its exact value and the contract's tolerance."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil, floor
from typing import Any

from .. import numbers
from ..bank import Bank, Slot
from ..choice import as_number
from ..grade import readable
from ..pipeline import render_problem
from ..questions import Asked, Question
from ..variants import Problem, distinct_slips, draw_slot
from .figures import render_pngs

ATTEMPTS_PER_VARIANT = 20  # draws tried per wanted variant before accepting fewer distinct ones
DECIMALS = 12  # digits of an exported decimal that does not end (far below any tolerance)


@dataclass(frozen=True)
class Blank:
    """One box to fill: a whole scalar answer, or one element of a vector or matrix."""

    answer: str
    key: str  # the answer's name, with the element's position for vectors and matrices: unique in a problem
    label: str  # what students read: the answer's label, with the element's position in words
    value: Fraction | str  # exact number, or the text to type (a label, or a fraction no decimal can state)
    tolerance: Fraction  # largest accepted |given - value| (0 for text)
    points: Fraction
    slips: list[tuple[Fraction, str]]  # (value, what went wrong) for a scalar answer's slips

    @property
    def numeric(self) -> bool:
        return isinstance(self.value, Fraction)


@dataclass(frozen=True)
class Variant:
    problem: Problem
    statement_png: bytes
    solution_png: bytes

    @property
    def name(self) -> str:
        return f"{self.problem.family.id} {self.problem.fingerprint}"

    @property
    def manual(self) -> list[str]:
        """Answers a person grades (more than one is right)."""
        return [name for name in self.problem.solution.answers if self.problem.tolerance(name).kind == "manual"]

    @property
    def manual_text(self) -> str:
        """The answers graded by hand, as students read them."""
        return ", ".join(self.problem.family.answer_label(name) for name in self.manual)

    @property
    def choice_label(self) -> str:
        """The answer asked as multiple choice, as students read it."""
        return self.problem.family.answer_label(self.problem.choice.answer) if self.problem.choice else ""


@dataclass(frozen=True)
class Category:
    """One problem of the bank: the variants of its family problems and the questions
    written in the bank that it holds (a pool may hold both)."""

    slot: Slot
    title: str
    variants: list[Variant]
    questions: list[Asked] = field(default_factory=list)


def draw_variants(bank: Bank, seed: int, slot: Slot, count: int) -> list[Problem]:
    """Up to `count` variants of a slot's family problems with distinct fingerprints
    (fewer when the bank pins so much that fewer exist). The draws take a pool's family
    alternatives in turn, so that a question category offers every alternative, not only
    the ones that the export's pseudo-students happened to draw."""
    alternatives = [i for i, choice in enumerate(slot.choices) if not isinstance(choice, Question)]
    found: dict[str, Problem] = {}
    for index in range(count * ATTEMPTS_PER_VARIANT if alternatives else 0):
        problem = draw_slot(bank, seed, f"export-{index}", slot, alternative=alternatives[index % len(alternatives)])
        found.setdefault(problem.fingerprint, problem)
        if len(found) == count:
            break
    return list(found.values())


def slot_questions(slot: Slot) -> list[Asked]:
    """A slot's questions written in the bank, options in the bank's order (the LMS
    shuffles them for each attempt)."""
    return [Asked(question=choice, points=slot.points_of(i), order=tuple(range(len(choice.options))), slot=slot.id,
                  alternative=i if len(slot.choices) > 1 else None)
            for i, choice in enumerate(slot.choices) if isinstance(choice, Question)]


def collect(bank: Bank, seed: int, count: int) -> tuple[list[Category], list[str]]:
    """The categories with their variants and images, and warnings on slots whose
    family problems have fewer distinct variants than asked for."""
    drawn = {slot.id: draw_variants(bank, seed, slot, count) for slot in bank.slots}
    rendered = [render_problem(p, bank.look.templates) for problems in drawn.values() for p in problems]
    pngs = iter(render_pngs([piece for r in rendered for piece in (r["statement"], r["solution"])],
                            paper=bank.look.paper))
    categories = []
    for number, slot in enumerate(bank.slots, 1):
        variants = [Variant(p, next(pngs), next(pngs)) for p in drawn[slot.id]]
        questions = slot_questions(slot)
        names = [p.family.title for p in drawn[slot.id]] + [a.question.title or a.question.id for a in questions]
        categories.append(Category(slot, f"Problem {number}: {', '.join(dict.fromkeys(names))}", variants, questions))
    warnings = [f"problem {slot.id}: only {len(drawn[slot.id])} distinct variant(s) exist, not {count}"
                for slot in bank.slots
                if len(drawn[slot.id]) < count and not all(isinstance(c, Question) for c in slot.choices)]
    return categories, warnings


def blanks(problem: Problem) -> list[Blank]:
    """The auto-graded boxes of a problem: every answer except those graded by hand
    and the one asked as multiple choice. Each answer is worth its points (the bank's
    `answer_points`, or an equal share), shared equally by its elements."""
    asked = problem.choice.answer if problem.choice else None
    slips = distinct_slips(problem)
    found = []
    for name, value in numbers.to_json(problem.solution.answers).items():
        if name == asked or problem.tolerance(name).kind == "manual":
            continue
        elements = _elements(value, ())
        share = problem.points_of(name) / len(elements)
        found += [_blank(problem, name, position, element, share, _slips(slips.get(name, []), position))
                  for position, element in elements]
    return found


@dataclass(frozen=True)
class Part:
    """One answer of a problem as an LMS asks it: its boxes (`kind` "blanks"), the
    answer asked as multiple choice ("choice"), or every answer graded by hand together
    ("manual"). `shares` is the part's weight: its answer's points (the manual part the
    sum of those of the answers it covers)."""

    name: str
    kind: str
    shares: Fraction
    blanks: tuple[Blank, ...] = ()

    @property
    def boxes(self) -> int:
        """How many boxes the part can be asked in: one per element, one otherwise."""
        return len(self.blanks) if self.kind == "blanks" else 1


MANUAL_PART = "graded by hand"


def parts(problem: Problem) -> list[Part]:
    """Every answer of a problem as a part, in the problem's order (the answers graded
    by hand as one part where the first of them stands)."""
    by_answer: dict[str, list[Blank]] = {}
    for blank in blanks(problem):
        by_answer.setdefault(blank.answer, []).append(blank)
    asked = problem.choice.answer if problem.choice else None
    manual = [name for name in problem.solution.answers if problem.tolerance(name).kind == "manual"]
    found: list[Part] = []
    for name in problem.solution.answers:
        if name == asked:
            found.append(Part(name, "choice", problem.points_of(name)))
        elif name in manual:
            if name == manual[0]:
                found.append(Part(MANUAL_PART, "manual", sum(problem.points_of(n) for n in manual)))
        elif by_answer.get(name):
            found.append(Part(name, "blanks", problem.points_of(name), tuple(by_answer[name])))
    return found


def apportion(total: int, quotas: list[Fraction], order: list[int] | None = None) -> list[int]:
    """`total` whole units shared as `quotas` (which add up to `total`) say, each share
    rounded down and the units left over given to the largest remainders; ties go to
    the parts earlier in `order` (default: as listed)."""
    shares = [floor(q) for q in quotas]
    rank = order if order is not None else list(range(len(quotas)))
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - shares[i]), rank.index(i)))
    for i in by_remainder[:total - sum(shares)]:
        shares[i] += 1
    return shares


def spread(count: int, wanted: int) -> list[int]:
    """`wanted` of the positions 0..count-1, evenly spread (the middle of each of
    `wanted` equal stretches), in order."""
    return [((2 * i + 1) * count) // (2 * wanted) for i in range(wanted)]


def _elements(value: Any, position: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Any]]:
    """(position, scalar) pairs, row-major, positions counted from 1 as printed; values by
    name (a graph's input gradients) by their names; a masked entry (None, a score that
    does not exist) is not asked."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _elements(item, (*position, key))]
    if not isinstance(value, list):
        return [(position, value)]
    return [pair for i, item in enumerate(value, 1) for pair in _elements(item, (*position, i))]


def position_words(position: tuple[int, ...]) -> str:
    """Where an element sits, for the label students read: nothing for a scalar."""
    if not position:
        return ""
    if len(position) == 1 and isinstance(position[0], str):
        return f", {position[0]}"  # a value by name
    if len(position) == 1:
        return f", entry {position[0]}"
    if len(position) == 2:
        return f", row {position[0]}, column {position[1]}"
    return f", position ({', '.join(map(str, position))})"


def _blank(problem: Problem, name: str, position: tuple[int, ...], value: Any, points: Fraction,
           slips: list[tuple[Fraction, str]]) -> Blank:
    key = name + "".join(f"[{i}]" for i in position)
    label = problem.family.answer_label(name) + position_words(position)
    number = as_number(value)
    if number is None:
        return Blank(name, key, label, str(value), Fraction(0), points, [])
    tolerance = problem.tolerance(name).bound(number)
    if tolerance == 0 and not numbers.terminates(number):
        return Blank(name, key, label, str(number), Fraction(0), points, [])  # no decimal states 1/3 exactly
    return Blank(name, key, label, number, tolerance, points, [(v, says) for v, says in slips if v != number])


def _slips(slips: list[dict[str, Any]], position: tuple[int, ...]) -> list[tuple[Fraction, str]]:
    """The answer's slips as values of this element (the slip's own element of a vector
    or matrix, where the slip has that shape), each value once."""
    found: dict[Fraction, str] = {}
    for slip in slips:
        value = slip["value"]
        for index in position:
            if isinstance(value, dict):
                value = value.get(index)
            else:
                value = value[index - 1] if isinstance(value, list) and 0 < index <= len(value) else None
        number = None if isinstance(value, list) else as_number(value)
        if number is not None:
            found.setdefault(number, slip["says"])
    return list(found.items())


def decimal_text(number: Fraction) -> str:
    """A decimal an LMS reads as a float: exact when the expansion ends, otherwise
    DECIMALS digits (the error is far below any tolerance)."""
    return numbers.decimal(number, DECIMALS)


def floor_to(number: Fraction, digits: int) -> Fraction:
    """Rounded down to `digits` decimals: a tolerance that is never looser than stated."""
    return Fraction(floor(number * 10**digits), 10**digits)


def ceil_to(number: Fraction, digits: int) -> Fraction:
    return Fraction(ceil(number * 10**digits), 10**digits)


def key_lines(problem: Problem) -> list[str]:
    """The answers as plain text lines for the feedback shown after an attempt."""
    return [f"{capitalized(problem.family.answer_label(name))}: {readable(value)}"
            for name, value in numbers.to_json(problem.solution.answers).items()]


def capitalized(text: str) -> str:
    """A label or a slip's words at the start of a sentence."""
    return text[:1].upper() + text[1:]
