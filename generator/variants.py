"""Seeded drawing: a bank and an exam seed (and a student) -> concrete problems.

Each problem's seed is derived from (bank, exam seed, student, position), so one
student's exam never depends on anyone else's."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .bank import Bank
from .errors import GenError
from .family import Family, Solution, get_family
from .numbers import to_json
from .seeds import derive_seed, rng_for, variant_code


@dataclass
class Problem:
    family: Family
    seed: int
    options: dict[str, Any]
    params: dict[str, Any]
    solution: Solution
    points: Fraction = Fraction(10)
    number: int = 1

    @property
    def fingerprint(self) -> str:
        """Identifies the variant (family and drawn values): equal fingerprints, same problem."""
        text = json.dumps([self.family.id, to_json(self.params)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def contract(self) -> dict[str, Any]:
        """The contract's object for this problem (plus extra fields)."""
        return {
            "number": self.number,
            "points": _points_json(self.points),
            "family": self.family.id,
            "seed": self.seed,
            "options": self.options,
            "fingerprint": self.fingerprint,
            "params": to_json(self.params),
            "answers": to_json(self.solution.answers),
            "slips": distinct_slips(self),
        }


@dataclass
class Exam:
    bank: Bank
    seed: int
    variant: str
    problems: list[Problem]
    student: dict[str, str] | None = None

    @property
    def total_points(self) -> Fraction:
        return sum((p.points for p in self.problems), Fraction(0))

    def contract(self) -> dict[str, Any]:
        return {
            "bank": self.bank.name,
            "seed": self.seed,
            "variant": self.variant,
            "student": self.student,
            "total_points": _points_json(self.total_points),
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


def make_problem(
    family_id: str, seed: int, options: dict[str, Any] | None = None
) -> Problem:
    """Draw and solve one problem; runs the family's invariants before returning."""
    family = get_family(family_id)
    resolved = family.resolve_options(options)
    params = family.draw(rng_for(seed), resolved)
    solution = family.solve(params)
    violations = family.check(params, solution)
    if violations:
        raise GenError(
            f"family {family.id!r}, seed {seed}: drawn variant is not well posed: "
            + "; ".join(violations)
        )
    return Problem(family=family, seed=seed, options=resolved, params=params, solution=solution)


def draw_exam(bank: Bank, seed: int, student: dict[str, str] | None = None) -> Exam:
    student_id = student["id"] if student else ""
    problems = []
    for number, slot in enumerate(bank.slots, 1):
        problem_seed = derive_seed(bank.name, seed, student_id, number)
        problem = make_problem(slot.family, problem_seed, slot.options)
        problem.points, problem.number = slot.points, number
        problems.append(problem)
    code = variant_code(bank.name, seed, student_id, *(p.seed for p in problems))
    return Exam(bank=bank, seed=seed, variant=code, problems=problems, student=student)
