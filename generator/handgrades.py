"""Grades given by a person, back into `gen grade`: hand.csv.

`gen grade` writes DIR/grades/hand.csv with one row per answer that needs a person
(pending: a written question, an answer where more than one is right and gen could not
decide; also the values gen could not read), pre-filled with the student, the problem,
the answer, its maximum points and what the student gave ("on paper" for a written
question), plus one pair of columns per rubric criterion where the question has a
rubric. The grader fills in `points` (or the criteria's points) and optionally
`comment`; `gen grade ... --hand hand.csv` reads them back: the points complete the
answers, the comments go to the students' feedback, and a student's summary is final
once nothing of theirs is pending.

hand.csv is written again on every run from the grades it read (cells as the grader
wrote them, even those it could not use), so grading again with `--hand` pointing at
the same file loses nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from .csvcells import read_records, safe_row
from .grade import WRITTEN, Graded, Grading, Skipped, points_text, readable, source
from .responses import parse_number

KEY_COLUMNS = ("id", "problem", "answer")  # `student` is read as `id`
HAND_COLUMNS = ["id", "name", "problem", "answer", "label", "max_points", "given", "points", "comment", "note"]
ON_PAPER = "on paper"


@dataclass(frozen=True)
class HandGrade:
    """One row of hand.csv: the points a person gave (None: not yet) and a comment; the
    cells as written, to be written back."""

    line: int
    points: Fraction | None
    comment: str
    cells: dict[str, str] = field(default_factory=dict)


Key = tuple[str, int, str]  # student, problem number, answer name


def read_hand(path: Path, exams: dict[str, dict[str, Any]]) -> tuple[dict[Key, HandGrade], list[Skipped]]:
    """The usable rows of a hand-grades CSV, and the skipped ones with their reasons. A
    row without points (nor criteria's points) and without a comment is not read: it is
    still to be graded."""
    grades: dict[Key, HandGrade] = {}
    skipped: list[Skipped] = []
    for line, record in _records(path):
        key = None
        try:
            key, grade = _hand_row(line, record, exams)
        except _BadHand as bad:
            skipped.append(Skipped(line, bad.reason, f"{path.name} line {line}: {bad}"))
            if bad.key is not None:  # keep what the grader wrote, to write it back
                grades.setdefault(bad.key, HandGrade(line, None, "", _cells(record)))
            continue
        if grade is None:
            continue
        if key in grades and (grades[key].points is not None or grades[key].comment):
            skipped.append(Skipped(line, "duplicate hand grade", f"{path.name} line {line}: student {key[0]!r}, "
                                   f"problem {key[1]}, answer {key[2]!r} was already graded on line "
                                   f"{grades[key].line}; the first one counts"))
            continue
        grades[key] = grade
    return grades, skipped


def _records(path: Path) -> list[tuple[int, dict[str, str]]]:
    records = read_records(path, "hand grades", (*KEY_COLUMNS, "points"),
                           "fill in the hand.csv that gen grade wrote (columns id, problem, answer, points and "
                           "optionally comment)", column=lambda name: "id" if name == "student" else name)
    return [(line, {name: cell.strip() for name, cell in record.items()}) for line, record in records]


class _BadHand(Exception):
    def __init__(self, reason: str, message: str, key: Key | None = None):
        super().__init__(message)
        self.reason = reason
        self.key = key


def _cells(record: dict[str, str]) -> dict[str, str]:
    """What a grader fills in: points, comment and the criteria's points."""
    return {k: v for k, v in record.items() if k in ("points", "comment") or _criterion_points(k)}


def _criterion_points(column: str) -> int | None:
    """1 for `criterion_1_points`, ...; None for any other column."""
    parts = column.split("_")
    if len(parts) == 3 and parts[0] == "criterion" and parts[2] == "points" and parts[1].isdigit():
        return int(parts[1])
    return None


def _hand_row(line: int, record: dict[str, str], exams: dict[str, dict[str, Any]]) -> tuple[Key, HandGrade | None]:
    student, number, answer = (record[c] for c in KEY_COLUMNS)
    if student not in exams:
        raise _BadHand("unknown student", f"no student {student!r} in the class")
    problems = {str(p["number"]): p for p in exams[student]["problems"]}
    if number not in problems:
        raise _BadHand("unknown problem", f"student {student!r} has no problem {number!r}")
    problem = problems[number]
    names = [WRITTEN] if problem.get("kind") == "written" else list(problem["answers"])
    if answer not in names:
        raise _BadHand("unknown answer", f"problem {number} ({source(problem)}) has no answer {answer!r}; its "
                       f"answers are {', '.join(names)}")
    key = (student, int(number), answer)
    where = f"student {student!r}, problem {number}, answer {answer!r}"
    points = _number(record["points"], where, key, "points")
    criteria = _criteria(record, problem, where, key)
    if criteria is not None:
        if points is not None and points != criteria:
            raise _BadHand("points differ from the criteria", f"{where}: points {points_text(points)} but the "
                           f"criteria's points add up to {points_text(criteria)}; give one or make them agree", key)
        points = criteria
    comment = record.get("comment", "")
    if points is None and not comment:
        return key, None
    return key, HandGrade(line, points, comment, _cells(record))


def _number(text: str, where: str, key: Key, column: str) -> Fraction | None:
    if not text:
        return None
    try:
        value = parse_number(text)
    except ValueError as exc:
        raise _BadHand("unreadable points", f"{where}: {column} {exc}", key) from None
    if value < 0:
        raise _BadHand("negative points", f"{where}: {column} must not be negative, got {text}", key)
    return value


def _criteria(record: dict[str, str], problem: dict[str, Any], where: str, key: Key) -> Fraction | None:
    """The sum of the criteria's points the grader filled in (None if none), each at
    most what its criterion is worth."""
    rubric = problem.get("rubric") or []
    given = {n: record[c] for c in record if (n := _criterion_points(c)) is not None and record[c]}
    if not given:
        return None
    total = Fraction(0)
    for n, text in sorted(given.items()):
        if not 1 <= n <= len(rubric):
            raise _BadHand("unknown criterion", f"{where}: the question has {len(rubric)} rubric criteria, so "
                           f"criterion_{n}_points means nothing", key)
        value = _number(text, where, key, f"criterion_{n}_points")
        most = Fraction(str(rubric[n - 1]["points"]))
        if value is not None and value > most:
            raise _BadHand("points above the maximum", f"{where}: criterion {n} is worth {points_text(most)} "
                           f"points, got {text}", key)
        total += value or 0
    return total


def apply_hand(graded: list[Graded], hand: dict[Key, HandGrade], skipped: list[Skipped], name: str) -> list[Graded]:
    """The graded answers with the hand grades put in: a person's points complete an
    answer graded by hand (pending, or unreadable, or left blank where a person grades);
    a comment goes with any answer. A grade for an answer gen graded itself, or above
    its maximum, is skipped and said."""
    done = []
    for g in graded:
        grade = hand.get((g.student, g.problem, g.answer))
        if grade is None or (grade.points is None and not grade.comment):
            done.append(g)
            continue
        if grade.points is None:
            done.append(replace(g, comment=grade.comment))
            continue
        where = f"{name} line {grade.line}: student {g.student!r}, problem {g.problem}, answer {g.answer!r}"
        if not (g.verdict in ("by hand", "unreadable") or (g.verdict == "blank" and g.manual)):
            skipped.append(Skipped(grade.line, "hand grade for an answer gen graded",
                                   f"{where} was graded by gen ({g.verdict}); hand grades complete only answers "
                                   "graded by hand (a comment alone is taken)"))
            done.append(replace(g, comment=grade.comment))
            continue
        if grade.points > g.max_points:
            skipped.append(Skipped(grade.line, "points above the maximum",
                                   f"{where}: {points_text(grade.points)} points, but the answer is worth "
                                   f"{points_text(g.max_points)}"))
            done.append(g)
            continue
        done.append(replace(g, points=grade.points, verdict="by hand", hand=True, comment=grade.comment))
    return done


def hand_csv(grading: Grading, hand: dict[Key, HandGrade]) -> str:
    """hand.csv: every answer a person grades (pending or already graded by hand) and
    every value gen could not read, pre-filled; the cells the grader wrote are kept."""
    rows: list[dict[str, str]] = []
    rubrics = 0
    for g in grading.graded:
        if not (g.verdict == "by hand" or g.verdict == "unreadable"):
            continue
        problem = next(p for p in grading.exams[g.student]["problems"] if p["number"] == g.problem)
        rubric = (problem.get("rubric") or []) if g.answer == WRITTEN else []
        rubrics = max(rubrics, len(rubric))
        row = {"id": g.student, "name": g.name, "problem": str(g.problem), "answer": g.answer, "label": g.label,
               "max_points": points_text(g.max_points), "given": g.given or (ON_PAPER if g.answer == WRITTEN else ""),
               "points": "", "comment": "", "note": _note(g)}
        for n, criterion in enumerate(rubric, 1):
            row[f"criterion_{n}"] = f"{criterion['criterion']} ({points_text(Fraction(str(criterion['points'])))})"
        row.update((hand.get((g.student, g.problem, g.answer)) or HandGrade(0, None, "")).cells)
        rows.append(row)
    header = HAND_COLUMNS + [c for n in range(1, rubrics + 1) for c in (f"criterion_{n}", f"criterion_{n}_points")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row(header))
    writer.writerows(safe_row([row.get(column, "") for column in header]) for row in rows)
    return buffer.getvalue()


def _note(g: Graded) -> str:
    if g.reason:
        return f"gen could not read it ({g.reason}); it has 0 points unless you give some"
    if g.answer == WRITTEN:
        return "a written question: grade the paper"
    if g.manual:
        return f"more than one answer is right; the key's is {readable(g.correct)}"
    return ""
