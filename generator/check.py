"""`gen check`: draw many seeds of every problem in a bank and verify them before an
exam is printed: invariants hold, the answers are exact contract values, every variant
is gradable (no slip, and no answer the problem contrasts with another, is accepted
within the answer's tolerance), how many distinct variants each problem really has
(and whether a class of a given size has enough), how the answers spread, and that a
sample compiles."""

from __future__ import annotations

import json
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import Any

import sympy as sp

from . import scripts
from .bank import Bank, Choice
from .compile import compile_pdf
from .errors import GenError
from .grade import matches, readable
from .numbers import decimal, to_json
from .pipeline import exam_parts, render_part
from .questions import Asked, Question, ask
from .render import render_document
from .seeds import derive_seed, rng_for
from .tolerance import Tolerance
from .variants import Exam, Item, Problem, problem_for

SAMPLE_PER_PROBLEM = 3  # variants of each problem compiled together at the end


@dataclass
class SlotReport:
    label: str  # the problem's number, with a letter per `one_of` alternative
    family: str
    drawn: int = 0
    distinct: int = 0
    failures: list[str] = field(default_factory=list)
    # variants a grader cannot grade: a mistake (a slip, or a contrasted answer) earns full marks
    ungradable: list[str] = field(default_factory=list)
    question: bool = False  # a question written in the bank: printed as it is, nothing drawn
    choice: Choice | None = field(default=None, repr=False)  # the family problem checked
    fingerprints: set[str] = field(default_factory=set, repr=False)  # of its distinct variants
    spread: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # answer -> min, median, max


@dataclass
class CheckReport:
    slots: list[SlotReport]
    compile_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.compile_error is None and not any(s.failures or s.ungradable for s in self.slots)


def check_bank(bank: Bank, seeds: int, *, compile_sample: bool = True,
               progress: Callable[[int], None] | None = None) -> CheckReport:
    reports: list[SlotReport] = []
    samples: list[Item] = []
    for number, slot in enumerate(bank.slots, 1):
        for alternative, choice in enumerate(slot.choices):
            label = _label(number, alternative, len(slot.choices))
            if isinstance(choice, Question):  # written as it is printed: nothing to draw, only to compile
                reports.append(SlotReport(label=label, family=f"question {choice.id}", drawn=seeds, distinct=1,
                                          question=True))
                samples.append(_asked(bank, label, choice, slot.points_of(alternative)))
                if progress:
                    progress(seeds)
                continue
            report, drawn = _check_choice(bank, label, choice, seeds, progress)
            reports.append(report)
            samples.extend(drawn[:SAMPLE_PER_PROBLEM])
    error = None if samples else "no variant could be drawn, so there was nothing to compile"
    if compile_sample and samples:
        try:
            sample = Exam(bank=bank, seed=0, variant="CHECK-RUN", problems=samples)
            course = bank.look.templates
            with tempfile.TemporaryDirectory(prefix="gen-strings-") as tmp:
                # text in scripts pdflatex cannot show, typeset by LuaLaTeX as for an exam
                strings = scripts.needing(scripts.bank_texts(bank), cjk=bank.language == "zh")
                files = dict(bank.images)
                if strings:
                    scripts.typeset(strings, Path(tmp))
                    sample.typeset, files = scripts.placeholders(strings), {**files, **scripts.files_in(Path(tmp))}
                compile_pdf(render_document([render_part(p) for p in exam_parts(sample)], course),
                            label="check sample", files=files)
        except GenError as exc:
            error = str(exc)
    return CheckReport(reports, error)


def _asked(bank: Bank, label: str, question: Question, points: Fraction) -> Asked:
    asked = ask(question, points, rng_for(derive_seed(bank.name, "check", label)))
    asked.slot = label
    return asked


def _check_choice(bank: Bank, label: str, choice: Choice, seeds: int,
                  progress: Callable[[int], None] | None) -> tuple[SlotReport, list[Item]]:
    report = SlotReport(label=label, family=choice.family, choice=choice)
    fingerprints, values, drawn = report.fingerprints, {}, []
    for index in range(seeds):
        seed = derive_seed(bank.name, "check", label, index)
        try:
            problem = problem_for(choice, seed)  # with the bank's tolerances and choice options
            json.dumps(problem.contract())  # exact values only: to_json refuses floats
        except (GenError, TypeError, ValueError, ArithmeticError) as exc:
            report.failures.append(f"seed {seed}: {exc}")
            continue
        report.drawn += 1
        report.ungradable.extend(f"seed {seed}: {finding}" for finding in gradability(problem))
        fingerprints.add(problem.fingerprint)
        drawn.append(problem)
        for name, value in problem.solution.answers.items():
            if isinstance(value, int | sp.Rational) and not isinstance(value, bool):
                values.setdefault(name, []).append(sp.Rational(value))
        if progress:
            progress(1)
    report.distinct = len(fingerprints)
    report.spread = {name: _spread(v) for name, v in values.items()}
    return report, drawn


def gradability(problem: Problem) -> list[str]:
    """Where a grader could not tell a mistake from the answer in this variant, in
    words: a slip accepted within its answer's tolerance (the mistake earns full
    marks), or two answers the problem contrasts (`Family.contrasts`) accepted for each
    other (the contrast shows nothing). The comparison is the grader's own rule
    (generator.grade.matches), with the bank's tolerances where it sets them."""
    answers, found = problem.solution.answers, []
    for slip in problem.family.slips(problem.params, problem.solution):
        tolerance = problem.tolerance(slip.answer)
        if graded_right(slip.value, answers[slip.answer], tolerance):
            found.append(f"the slip {slip.answer}:{slip.name} gives {_shown(slip.value)}, which is graded right: "
                         f"the answer is {_shown(answers[slip.answer])} ({tolerance_text(tolerance)})")
    for group in problem.family.contrasts:
        for first, second in combinations([name for name in group if name in answers], 2):
            for given, correct in ((first, second), (second, first)):
                tolerance = problem.tolerance(correct)
                if graded_right(answers[given], answers[correct], tolerance):
                    found.append(f"{given} = {_shown(answers[given])} is graded right as {correct} = "
                                 f"{_shown(answers[correct])} ({tolerance_text(tolerance)}), and the problem "
                                 "contrasts the two")
                    break
    return found


def graded_right(value: Any, correct: Any, tolerance: Tolerance) -> bool:
    """Whether a student who returns the exact `value` gets the marks of the answer
    `correct` (both as the family gives them) by the grader's rule."""
    return matches(_as_given(to_json(value)), to_json(correct), tolerance)


def _as_given(value: Any) -> Any:
    """A contract JSON value as gen grade reads a returned one: numbers as Fractions,
    labels as text, entries by name and element by element."""
    if isinstance(value, list):
        return [_as_given(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_given(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None:
        return value
    try:
        return Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return value


def tolerance_text(tolerance: Tolerance) -> str:
    if tolerance.kind == "abs":
        return f"accepted within {decimal(sp.Rational(tolerance.value), 8)}"
    if tolerance.kind == "rel":
        return f"accepted within {decimal(100 * sp.Rational(tolerance.value), 6)}% of it"
    return "accepted only exactly"


def _shown(value: Any) -> str:
    text = readable(to_json(value))
    return text if len(text) <= 80 else text[:77] + "..."


def thin_problems(bank: Bank, report: CheckReport, students: int, *, extra: int = 3) -> list[str]:
    """Warnings for the problems of a checked bank with fewer distinct variants than a
    class of `students` has students: some of them would share a variant. Where the
    check's draws show fewer (chance repeats variants too), up to `extra` times the
    class's size more are drawn before a problem is named."""
    warnings = []
    for slot in report.slots:
        if slot.question or slot.choice is None or slot.distinct >= students:
            continue
        seen, drawn = _more_variants(bank, slot.label, slot.choice, set(slot.fingerprints), students,
                                     range(slot.drawn, slot.drawn + extra * students))
        if len(seen) < students:
            warnings.append(_thin(slot.label, slot.family, len(seen), slot.drawn + drawn, students))
    return warnings


def thin_for_class(bank: Bank, drawn: dict[tuple[str, int], list[str]], *, extra: int = 3) -> list[str]:
    """The same warnings for a class that has been drawn: `drawn` holds, per (slot id,
    alternative), the fingerprints of the variants its students got. Where they repeat,
    up to `extra` times as many variants again are drawn (the seeds `gen check` draws)
    before a problem with fewer distinct variants than the students who got it is named."""
    numbers = {slot.id: number for number, slot in enumerate(bank.slots, 1)}
    warnings = []
    for (slot_id, alternative), fingerprints in drawn.items():
        students, seen = len(fingerprints), set(fingerprints)
        slot = bank.slots[numbers[slot_id] - 1]
        choice = slot.choices[alternative]
        if len(seen) >= students or isinstance(choice, Question):
            continue
        label = _label(numbers[slot_id], alternative, len(slot.choices))
        seen, tried = _more_variants(bank, label, choice, seen, students, range(extra * students))
        if len(seen) < students:
            warnings.append(_thin(label, choice.family, len(seen), students + tried, students))
    return warnings


def _more_variants(bank: Bank, label: str, choice: Choice, seen: set[str], students: int,
                   indices: range) -> tuple[set[str], int]:
    """Variants drawn from `gen check`'s seeds of the problem at `indices`, until as many
    distinct ones as students have been seen; the fingerprints and the draws made."""
    tried = 0
    for index in indices:
        if len(seen) >= students:
            break
        tried += 1
        try:
            seen.add(problem_for(choice, derive_seed(bank.name, "check", label, index)).fingerprint)
        except GenError:  # reported by the check itself, or by the student's own draw
            continue
    return seen, tried


def _thin(label: str, family: str, distinct: int, drawn: int, students: int) -> str:
    return (f"problem {label} {family}: {distinct} distinct variants in {drawn} draws, fewer than the "
            f"{students} students of the class, so some of them will get the same variant "
            "(widen the problem's options, or give the bank `distinct: true` to spread the variants it has)")


def _label(number: int, alternative: int, alternatives: int) -> str:
    """A problem's label in the check's report: its number, with a letter per `one_of`
    alternative."""
    return f"{number}" if alternatives == 1 else f"{number}{chr(ord('a') + alternative)}"


def _spread(values: list[sp.Rational]) -> tuple[str, str, str]:
    ordered = sorted(values)
    return decimal(ordered[0], 3), decimal(statistics.median_low(ordered), 3), decimal(ordered[-1], 3)


def format_report(report: CheckReport, seeds: int) -> str:
    lines = []
    for slot in report.slots:
        status = "ok" if not slot.failures else f"{len(slot.failures)} FAILED"
        gradable = "" if slot.question else (
            ", gradable" if not slot.ungradable else f", {len(slot.ungradable)} NOT GRADABLE")
        lines.append(f"problem {slot.label} {slot.family}: {slot.drawn}/{seeds} drawn, {status}, "
                     f"{slot.distinct} distinct variants{gradable}")
        for name, (low, mid, high) in slot.spread.items():
            lines.append(f"    {name}: min {low}, median {mid}, max {high}")
        lines.extend(f"    {failure}" for failure in slot.failures[:5])
        lines.extend(f"    not gradable: {finding}" for finding in slot.ungradable[:5])
    if report.compile_error is None:
        lines.append("sample of every problem compiled")
    else:
        lines.append(f"sample FAILED to compile:\n{report.compile_error}")
    ungradable = [slot for slot in report.slots if slot.ungradable]
    if ungradable:
        count = sum(len(slot.ungradable) for slot in ungradable)
        lines.append(f"NOT GRADABLE: {count} finding(s) in problem(s) "
                     f"{', '.join(slot.label for slot in ungradable)}: a mistake there is accepted as the answer "
                     "within its tolerance; draw such problems from gradable options, or tighten the tolerance")
    return "\n".join(lines)
