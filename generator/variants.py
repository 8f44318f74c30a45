"""Seeded drawing: a bank and an exam seed (and a student) -> concrete problems.

Each problem's seed is derived from (bank, exam seed, student, position), so one
student's exam never depends on anyone else's."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from .bank import Bank, Choice, Slot
from .choice import ChoiceQuestion, ask_as_choice
from .errors import BankError, GenError, InfeasibleError, OptionError
from .family import Family, Solution, get_family
from .numbers import exact, to_json
from .questions import Asked, Question, ask
from .render import Tex
from .seeds import derive_seed, rng_for, variant_code
from .tolerance import Tolerance


@dataclass
class Problem:
    family: Family
    seed: int
    options: dict[str, Any]
    params: dict[str, Any]
    solution: Solution
    points: Fraction = Fraction(10)
    number: int = 1  # position on the printed exam
    slot: str = "1"  # the bank's id of the problem, stable under shuffling
    alternative: int | None = None  # which `one_of` alternative, if the slot has several
    tolerances: dict[str, Tolerance] = field(default_factory=dict)  # the bank's, replacing the family's
    choice: ChoiceQuestion | None = None  # the answer the bank asks as multiple choice
    section: int | None = None  # the number of its section, when the bank has sections
    pool: dict[str, int] | None = None  # {"pick": k, "of": n} for a slot that picks k > 1
    answer_points: dict[str, Fraction] = field(default_factory=dict)  # the bank's points per answer, if it sets them
    # Each answer's part on the printed exam, "(b)" or "(a)(ii)", in the order the parts ask
    # them; known once the statement is rendered (pipeline.render_problem), empty before.
    parts: dict[str, str] = field(default_factory=dict)

    def points_of(self, answer: str) -> Fraction:
        """What one answer is worth: the bank's `answer_points`, or else an equal share of
        the problem's points. A variant that asks only some of the answers the bank
        names (a family whose parts depend on the draw) shares the points among them in
        the same proportions, so the answers always add up to the problem's points."""
        names = self.solution.answers
        if not self.answer_points:
            return self.points / len(names)
        return self.points * self.answer_points[answer] / sum(self.answer_points[name] for name in names)

    def tolerance(self, answer: str) -> Tolerance:
        if answer in self.tolerances:
            return self.tolerances[answer]
        return self.family.tolerance(answer, to_json(self.solution.answers[answer]))

    @property
    def fingerprint(self) -> str:
        """Identifies the variant (family and drawn values): equal fingerprints, same problem."""
        text = json.dumps([self.family.id, to_json(self.params)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def contract(self) -> dict[str, Any]:
        """The contract's object for this problem (plus extra fields)."""
        return {
            "number": self.number,
            "slot": self.slot,
            "alternative": self.alternative,
            **({"section": self.section} if self.section is not None else {}),
            **({"pool": self.pool} if self.pool else {}),
            "points": _points_json(self.points),
            "answer_points": {name: _points_json(self.points_of(name)) for name in self.solution.answers},
            "family": self.family.id,
            "seed": self.seed,
            "options": to_json(self.options),
            "fingerprint": self.fingerprint,
            "params": to_json(self.params),
            "answers": to_json(self.solution.answers),
            "labels": {name: self.family.answer_label(name) for name in self.solution.answers},
            "slips": distinct_slips(self),
            "tolerance": {name: self.tolerance(name).to_json() for name in self.solution.answers},
            **({"choice": self.choice.contract()} if self.choice else {}),
        }


Item = Problem | Asked  # what an exam holds: drawn family problems and questions written in the bank


@dataclass
class Exam:
    bank: Bank
    seed: int
    variant: str
    problems: list[Item]
    student: dict[str, str] | None = None
    filled: dict[str, str] = field(default_factory=dict)  # other fields printed on the exam (roster's seat, ...)
    # names and titles pdflatex cannot show, as LaTeX that includes them typeset (generator/scripts.py)
    typeset: dict[str, Tex] = field(default_factory=dict)

    @property
    def total_points(self) -> Fraction:
        return sum((p.points for p in self.problems), Fraction(0))

    def section_points(self, section: int) -> Fraction:
        return sum((p.points for p in self.problems if p.section == section), Fraction(0))

    def contract(self) -> dict[str, Any]:
        sections = [{"number": number, "heading": section.heading, "points": _points_json(self.section_points(number))}
                    for number, section in enumerate(self.bank.sections, 1)]
        return {
            "bank": self.bank.name,
            "seed": self.seed,
            "variant": self.variant,
            "student": self.student,
            "total_points": _points_json(self.total_points),
            **({"sections": sections} if sections else {}),
            "problems": [p.contract() for p in self.problems],
        }


def distinct_slips(problem: Problem) -> dict[str, list[dict[str, Any]]]:
    """For each answer, the slips whose values differ from it and from each other."""
    result: dict[str, list[dict[str, Any]]] = {}
    for slip in problem.family.slips(problem.params, problem.solution):
        value = to_json(slip.value)
        seen = result.setdefault(slip.answer, [])
        correct = to_json(problem.solution.answers[slip.answer])
        if value != correct and all(value != s["value"] for s in seen):
            seen.append({"name": slip.name, "says": slip.says, "value": value})
    return {name: slips for name, slips in result.items() if slips}


def _points_json(points: Fraction) -> int | str:
    return int(points) if points.denominator == 1 else str(points)


PIN_ATTEMPTS = 200  # draws of the unpinned parameters tried around pinned ones


def make_problem(
    family_id: str, seed: int, options: dict[str, Any] | None = None, pinned: dict[str, Any] | None = None
) -> Problem:
    """Draw and solve one problem; runs the family's invariants before returning."""
    family = get_family(family_id)
    resolved = family.resolve_options(options)
    rng = rng_for(seed)
    if pinned:
        params, solution = _draw_around_pins(family, rng, resolved, pinned)
    else:
        params = family.draw(rng, resolved)
        solution = family.solve(params)
        violations = family.check(params, solution)
        if violations:
            raise GenError(
                f"family {family.id!r}, seed {seed}: drawn variant is not well posed: " + "; ".join(violations)
            )
    return Problem(family=family, seed=seed, options=resolved, params=params, solution=solution)


def _draw_around_pins(family: Family, rng: Any, options: dict[str, Any],
                      pinned: dict[str, Any]) -> tuple[dict[str, Any], Solution]:
    """Pinned parameters replace drawn ones; the rest is drawn again (a bounded number of
    times) until the family's invariants hold, so the pins are validated by the same
    constraints as any drawn variant. The parameters' domain is checked before solving:
    a pin outside it is then named, rather than reported as whatever the solver raised."""
    violations: list[str] = []
    for _ in range(PIN_ATTEMPTS):
        drawn = family.draw(rng, options)
        params = {**drawn, **coerce_pins(family, pinned, drawn)}
        try:
            violations = family.check_params(params)
            if not violations:
                solution = family.solve(params)
                violations = family.check(params, solution)
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
            violations = [f"cannot be solved ({exc})"]
        if not violations:
            return params, solution
    names = ", ".join(sorted(pinned))
    raise InfeasibleError(
        f"family {family.id!r}: no well-posed problem with the pinned parameter(s) {names}: "
        + "; ".join(violations)
    )


def coerce_pins(family: Family, pinned: dict[str, Any], drawn: dict[str, Any]) -> dict[str, Any]:
    """Pinned values from a bank in the types the family draws (exact numbers, ints,
    lists, layer dicts); a name the family does not draw is an error listing them."""
    unknown = sorted(set(pinned) - set(drawn))
    if unknown:
        raise OptionError(
            f"family {family.id!r} has no parameter {', '.join(map(repr, unknown))}",
            hint=f"its parameters are: {', '.join(drawn)}",
        )
    coerced = {}
    for name, value in pinned.items():
        try:
            coerced[name] = _like(value, drawn[name])
        except (TypeError, ValueError) as exc:
            raise OptionError(f"pinned parameter {name!r} of family {family.id!r}: {exc} (got {value!r})") from None
    return coerced


def _like(value: Any, model: Any) -> Any:
    if isinstance(model, bool):
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return value
    if isinstance(model, sp.Rational) or (isinstance(model, int) and isinstance(value, str)):
        number = exact(str(value) if isinstance(value, float) else value)
        return number if isinstance(model, sp.Rational) else _integer(number)
    if isinstance(model, int):
        return _integer(exact(str(value) if isinstance(value, float) else value))
    if isinstance(model, list):
        if not isinstance(value, list):
            raise TypeError("expected a list")
        return [_like(v, model[0]) for v in value] if model else value
    if isinstance(model, dict):
        if not isinstance(value, dict):
            raise TypeError("expected a mapping")
        return {k: _like(v, model[k]) if k in model else v for k, v in value.items()}
    return value


def _integer(number: sp.Rational) -> int:
    if number.q != 1:
        raise ValueError("expected an integer")
    return int(number)


def problem_for(choice: Choice, seed: int) -> Problem:
    """A bank problem: drawn and solved, with the bank's tolerances and, for `format:
    choice`, its multiple-choice options."""
    try:
        problem = make_problem(choice.family, seed, choice.options, choice.params)
    except GenError as exc:  # infeasible options or pins: say which problem of which bank
        exc.where = exc.where or choice.where
        raise
    answers = problem.solution.answers
    unknown = sorted(set(choice.tolerances) - set(answers))
    if unknown:
        raise BankError(f"family {choice.family!r} has no answer {', '.join(map(repr, unknown))} to set a "
                        "tolerance for", where=choice.where, hint=f"its answers are: {', '.join(answers)}")
    every = dict.fromkeys(answers, choice.tolerance) if choice.tolerance else {}
    problem.tolerances = {**every, **choice.tolerances}
    if choice.answer_points:
        unnamed = [name for name in answers if name not in choice.answer_points]
        if unnamed:
            raise BankError(f"`answer_points` gives no points to {', '.join(map(repr, unnamed))}, which this variant "
                            f"of {choice.family!r} asks (seed {seed})", where=choice.where,
                            hint="name every answer the family can ask; a variant without some of them shares the "
                                 "points among the rest in the same proportions")
        problem.answer_points = dict(choice.answer_points)
    if choice.ask:
        try:
            problem.choice = ask_as_choice(choice.family, to_json(answers), distinct_slips(problem), seed, choice.ask)
        except GenError as exc:
            exc.where = choice.where
            raise
    return problem


# With `distinct`, the draws a student may try per problem before settling for a variant
# someone above them already has (a family with fewer variants than the class).
ATTEMPTS = 20


def picked(bank: Bank, seed: int, student_id: str, slot: Slot) -> list[int]:
    """The alternatives of a slot that this student gets, in the bank's order: one
    (`one_of`, `pick: 1`) drawn from a seed of (bank, seed, student, slot id), or k
    distinct ones of a `pick: k` pool. A slot without alternatives gives its one problem."""
    if slot.pick == 1:
        return [derive_seed(bank.name, seed, student_id, slot.id, "one_of") % len(slot.choices)]
    order = rng_for(derive_seed(bank.name, seed, student_id, slot.id, "pick")).permutation(len(slot.choices))
    return sorted(int(i) for i in order[: slot.pick])


def draw_slot(bank: Bank, seed: int, student_id: str, slot: Slot, alternative: int | None = None,
              attempt: int = 0) -> Item:
    """One alternative of a slot for one student, drawn from a seed of (bank, seed,
    student, slot id; the alternative's position in a pool that picks several), so
    neither the order of slots nor the other students change it. The alternative is
    the student's own (see `picked`) unless the caller names it (the LMS export takes
    them in turn). Attempts after the first (see `distinct`) draw again from seeds of
    their own. A question is asked as written, a choice question's options in an order
    drawn from the same kind of seed."""
    if alternative is None:
        alternative = picked(bank, seed, student_id, slot)[0]
    choice = slot.choices[alternative]
    where = (f"alternative {alternative}",) if slot.pick > 1 else ()
    if isinstance(choice, Question):
        item: Item = ask(choice, slot.points_of(alternative),
                         rng_for(derive_seed(bank.name, seed, student_id, slot.id, *where, "options")))
    else:
        again = (attempt,) if attempt else ()
        item = problem_for(choice, derive_seed(bank.name, seed, student_id, slot.id, *where, *again))
        item.points = slot.points_of(alternative)
    item.slot, item.section = slot.id, slot.section
    item.alternative = alternative if len(slot.choices) > 1 else None
    item.pool = {"pick": slot.pick, "of": len(slot.choices)} if slot.pick > 1 else None
    return item


def draw_distinct(bank: Bank, seed: int, student_id: str, slot: Slot, alternative: int, taken: set[str]) -> Item:
    """The student's first draw whose variant is not in `taken` (the variants of the
    students above them in the roster); the first draw if every attempt is taken. A
    question has no variants to avoid."""
    first = draw_slot(bank, seed, student_id, slot, alternative)
    problem, attempt = first, 0
    while isinstance(first, Problem) and problem.fingerprint in taken and attempt < ATTEMPTS - 1:
        attempt += 1
        problem = draw_slot(bank, seed, student_id, slot, alternative, attempt=attempt)
    return problem if problem.fingerprint not in taken else first


def draw_exam(bank: Bank, seed: int, student: dict[str, str] | None = None,
              taken: dict[str, set[str]] | None = None) -> Exam:
    """One exam: every slot drawn for this student (see draw_slot; a pool gives its
    picks), in the bank's order or, with `shuffle`, in an order of the student's own
    (within each section, when the bank has sections). With `taken` (slot id ->
    fingerprints, for a bank with `distinct`), variants in it are avoided where the
    family has others, and the student's own are added to it."""
    student_id = student["id"] if student else ""
    problems: list[Item] = []
    for slot in bank.slots:
        for alternative in picked(bank, seed, student_id, slot):
            if taken is None:
                problems.append(draw_slot(bank, seed, student_id, slot, alternative))
            else:
                problems.append(draw_distinct(bank, seed, student_id, slot, alternative,
                                              taken.setdefault(slot.id, set())))
    if taken is not None:
        for problem in problems:
            if isinstance(problem, Problem):
                taken[problem.slot].add(problem.fingerprint)
    if bank.shuffle:
        problems = _shuffled(bank, seed, student_id, problems)
    for number, problem in enumerate(problems, 1):
        problem.number = number
    code = variant_code(bank.name, seed, student_id, *(p.fingerprint for p in problems))
    return Exam(bank=bank, seed=seed, variant=code, problems=problems, student=student)


def _shuffled(bank: Bank, seed: int, student_id: str, problems: list[Item]) -> list[Item]:
    """The student's order: of all problems, or within each section."""
    if not bank.sections:
        order = rng_for(derive_seed(bank.name, seed, student_id, "order")).permutation(len(problems))
        return [problems[int(i)] for i in order]
    result: list[Item] = []
    for number in range(1, len(bank.sections) + 1):
        group = [p for p in problems if p.section == number]
        order = rng_for(derive_seed(bank.name, seed, student_id, "order", number)).permutation(len(group))
        result += [group[int(i)] for i in order]
    return result
