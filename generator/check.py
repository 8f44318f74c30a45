"""`gen check`: draw many seeds of every problem in a bank and verify them before an
exam is printed: invariants hold, the answers are exact contract values, how many
distinct variants each problem really has, how the answers spread, and that a
sample compiles."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from .bank import Bank, Choice
from .compile import compile_pdf
from .errors import GenError
from .numbers import decimal
from .pipeline import exam_parts, render_part
from .questions import Asked, Question, ask
from .render import render_document
from .seeds import derive_seed, rng_for
from .variants import Exam, Item, problem_for

SAMPLE_PER_PROBLEM = 3  # variants of each problem compiled together at the end


@dataclass
class SlotReport:
    label: str  # the problem's number, with a letter per `one_of` alternative
    family: str
    drawn: int = 0
    distinct: int = 0
    failures: list[str] = field(default_factory=list)
    spread: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # answer -> min, median, max


@dataclass
class CheckReport:
    slots: list[SlotReport]
    compile_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.compile_error is None and not any(s.failures for s in self.slots)


def check_bank(bank: Bank, seeds: int, *, compile_sample: bool = True,
               progress: Callable[[int], None] | None = None) -> CheckReport:
    reports: list[SlotReport] = []
    samples: list[Item] = []
    for number, slot in enumerate(bank.slots, 1):
        for alternative, choice in enumerate(slot.choices):
            label = f"{number}" if len(slot.choices) == 1 else f"{number}{chr(ord('a') + alternative)}"
            if isinstance(choice, Question):  # written as it is printed: nothing to draw, only to compile
                reports.append(SlotReport(label=label, family=f"question {choice.id}", drawn=seeds, distinct=1))
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
            compile_pdf(render_document([render_part(p) for p in exam_parts(sample)], course), label="check sample",
                        files=bank.images)
        except GenError as exc:
            error = str(exc)
    return CheckReport(reports, error)


def _asked(bank: Bank, label: str, question: Question, points: Fraction) -> Asked:
    asked = ask(question, points, rng_for(derive_seed(bank.name, "check", label)))
    asked.slot = label
    return asked


def _check_choice(bank: Bank, label: str, choice: Choice, seeds: int,
                  progress: Callable[[int], None] | None) -> tuple[SlotReport, list[Item]]:
    report = SlotReport(label=label, family=choice.family)
    fingerprints, values, drawn = set(), {}, []
    for index in range(seeds):
        seed = derive_seed(bank.name, "check", label, index)
        try:
            problem = problem_for(choice, seed)  # with the bank's tolerances and choice options
            json.dumps(problem.contract())  # exact values only: to_json refuses floats
        except (GenError, TypeError, ValueError, ArithmeticError) as exc:
            report.failures.append(f"seed {seed}: {exc}")
            continue
        report.drawn += 1
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


def _spread(values: list[sp.Rational]) -> tuple[str, str, str]:
    ordered = sorted(values)
    return decimal(ordered[0], 3), decimal(statistics.median_low(ordered), 3), decimal(ordered[-1], 3)


def format_report(report: CheckReport, seeds: int) -> str:
    lines = []
    for slot in report.slots:
        status = "ok" if not slot.failures else f"{len(slot.failures)} FAILED"
        lines.append(f"problem {slot.label} {slot.family}: {slot.drawn}/{seeds} drawn, {status}, "
                     f"{slot.distinct} distinct variants")
        for name, (low, mid, high) in slot.spread.items():
            lines.append(f"    {name}: min {low}, median {mid}, max {high}")
        lines.extend(f"    {failure}" for failure in slot.failures[:5])
    if report.compile_error is None:
        lines.append("sample of every problem compiled")
    else:
        lines.append(f"sample FAILED to compile:\n{report.compile_error}")
    return "\n".join(lines)
