"""`gen grade`: score a class's returned answers against their answers.json and name
the slips behind wrong ones.

Only the answer contract is read (DIR/<id>/answers.json, as `gen exam --roster` writes
it): the correct values, each answer's tolerance, the slips' values and words, and the
choice options. Values are compared as exact fractions. Each answer is worth the
problem's `answer_points` for it (answers.json written before they existed: an equal
share of the problem's points). Bad rows are skipped and each is reported with its line.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import i18n, numbers
from .choice import as_number
from .csvcells import read_records, safe_row
from .errors import GenError
from .family import Verdict, get_family
from .files import prepare_dir, write_atomic
from .responses import exact_value, parse_value
from .tolerance import Tolerance, default_tolerance

COLUMNS = ("id", "problem", "answer", "value")
GRADE_COLUMNS = ["student", "name", "variant", "problem", "slot", "family", "answer", "given", "correct",
                 "points", "max_points", "verdict", "slip", "note", "comment"]
SUMMARY_COLUMNS = ["student", "name", "variant", "points", "max_points", "pending_points", "status", "correct",
                   "slips", "wrong", "by_hand", "blank", "unreadable"]
# `unreadable`: given, but gen could not read it (the reason is in the feedback and the report)
VERDICTS = ("correct", "slip", "wrong", "by hand", "blank", "unreadable")


def plural(count: int, word: str, many: str | None = None) -> str:
    """"1 row", "2 rows"."""
    return f"{count} {word if count == 1 else many or word + 's'}"


@dataclass(frozen=True)
class Response:
    line: int  # in the CSV file, the header being line 1
    student: str
    problem: int
    answer: str
    text: str  # as written, trimmed
    value: Any  # exact (Fraction, list or label); None when left blank or unreadable
    error: str | None = None  # why the value cannot be read


@dataclass(frozen=True)
class Skipped:
    line: int
    reason: str  # the kind of fault, for the report's counts
    message: str


@dataclass(frozen=True)
class Graded:
    """One answer of one student."""

    student: str
    name: str
    variant: str
    problem: int
    slot: str
    family: str
    answer: str
    given: str
    correct: Any  # contract JSON
    points: Fraction
    max_points: Fraction
    verdict: str  # one of VERDICTS
    label: str  # the answer as students read it (the contract's `labels`)
    manual: bool  # more than one answer is right: a person grades it
    slip: str | None = None
    says: str | None = None
    reason: str | None = None  # why an unreadable value cannot be read
    hand: bool = False  # its points were given by a person (hand.csv)
    comment: str = ""  # the person's comment, for the student's feedback

    @property
    def pending(self) -> bool:
        """Given, but waiting for a person: its points (0 so far) are not final."""
        return self.verdict == "by hand" and not self.hand


def pending_points(graded: list[Graded]) -> Fraction:
    """The points still to be given by hand, which the totals so far leave out."""
    return sum((g.max_points for g in graded if g.pending), Fraction(0))


@dataclass
class Grading:
    exams: dict[str, dict[str, Any]]  # every student of the class, by id
    graded: list[Graded] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    hand_skipped: list[Skipped] = field(default_factory=list)  # rows of the hand grades that were not used

    @property
    def students(self) -> list[str]:
        """The students with at least one graded answer, in the class's order."""
        ids = {g.student for g in self.graded}
        return [s for s in self.exams if s in ids]


def load_class(folder: Path) -> dict[str, dict[str, Any]]:
    """Every student's answers.json under a folder made by `gen exam --roster`."""
    if not folder.is_dir():
        raise GenError(f"exams folder {str(folder)!r} not found", hint="give the --out folder of gen exam --roster")
    exams = {}
    for path in sorted(folder.glob("*/answers.json")):
        try:
            contract = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GenError(f"cannot read {path}: {exc}") from None
        student = contract.get("student") if isinstance(contract, dict) else None
        if student:
            exams[student["id"]] = contract
    if not exams:
        raise GenError(f"{str(folder)!r} holds no student's answers.json",
                       hint="grade the --out folder of gen exam --roster (DIR/<id>/answers.json)")
    return exams


def read_responses(path: Path, exams: dict[str, dict[str, Any]]) -> tuple[list[Response], list[Skipped]]:
    """The usable rows of a responses CSV and the skipped ones, each with its reason. A
    value that cannot be read is skipped too, and its answer is graded `unreadable`
    (with the reason) unless a later row gives a readable value: the response is then
    in the list with `error` set."""
    responses, skipped = [], []
    seen: dict[tuple[str, int, str], int] = {}
    unreadable: dict[tuple[str, int, str], Response] = {}
    for line, record in _records(path):
        try:
            response = _response(line, record, exams)
        except _BadRow as bad:
            skipped.append(Skipped(line, bad.reason, f"line {line}: {bad}"))
            if bad.response is not None:
                r = bad.response
                unreadable.setdefault((r.student, r.problem, r.answer), r)
            continue
        key = (response.student, response.problem, response.answer)
        if key in seen:
            skipped.append(Skipped(line, "duplicate row", f"line {line}: student {response.student!r}, problem "
                                   f"{response.problem}, answer {response.answer!r} was already given on line "
                                   f"{seen[key]}; the first one is graded"))
            continue
        seen[key] = line
        responses.append(response)
    responses += [r for key, r in unreadable.items() if key not in seen]
    return responses, skipped


def _records(path: Path) -> list[tuple[int, dict[str, str]]]:
    # a sheet gen wrote (or one saved from it) may hold quote-escaped cells: read_records undoes them
    return read_records(path, "responses", COLUMNS, f"the header must name the columns {', '.join(COLUMNS)}")


class _BadRow(Exception):
    def __init__(self, reason: str, message: str, response: Response | None = None):
        super().__init__(message)
        self.reason = reason
        self.response = response  # an unreadable value, graded as such


def _response(line: int, record: dict[str, str], exams: dict[str, dict[str, Any]]) -> Response:
    student, number, answer = (record[c].strip() for c in ("id", "problem", "answer"))
    if student not in exams:
        raise _BadRow("unknown student", f"no student {student!r} in the class")
    problems = {str(p["number"]): p for p in exams[student]["problems"]}
    if number not in problems:
        raise _BadRow("unknown problem", f"student {student!r} has no problem {number!r} "
                      f"(their exam has problems 1 to {len(problems)})")
    problem = problems[number]
    if problem.get("kind") == "written":
        raise _BadRow("written question", f"problem {number} ({problem['question']}) is a written question: a person "
                      "grades it from the paper, so its rows are not read")
    if answer not in problem["answers"]:
        raise _BadRow("unknown answer", f"problem {number} ({source(problem)}) has no answer {answer!r}; "
                      f"its answers are {', '.join(problem['answers'])}")
    text = record["value"].strip()
    try:
        value = read_value(text, problem, answer) if text else None
    except ValueError as exc:
        raise _BadRow("unreadable value", f"student {student!r}, problem {number}, answer {answer!r}: {exc}",
                      Response(line, student, int(number), answer, text, None, error=str(exc))) from None
    return Response(line, student, int(number), answer, text, value)


def source(problem: dict[str, Any]) -> str:
    """What a contract problem comes from: its family, or the id of a question written in the bank."""
    return problem.get("family") or problem.get("question", "")


def read_value(text: str, problem: dict[str, Any], answer: str) -> Any:
    """A letter picks an option of a choice question; anything else is a written value.
    What cannot be read is a ValueError that, for a choice question, names its letters."""
    kind = problem.get("kind")
    if kind == "true_false":
        return read_truth(text)
    if kind == "choice":
        return read_letters(text, problem["choice"])
    choice = problem.get("choice")
    if not (choice and choice["answer"] == answer):
        return parse_value(text, problem["answers"][answer])
    letters = {o["letter"]: o["value"] for o in choice["options"]}
    if text.upper() in letters:
        return exact_value(letters[text.upper()])
    allowed = ", ".join(letters)
    if len(text) == 1 and text.isalpha():
        raise ValueError(f"{text!r} is not an option of this multiple-choice question; mark one of {allowed}")
    try:
        return parse_value(text, problem["answers"][answer])
    except ValueError as exc:
        raise ValueError(f"{exc}; or mark one of the options {allowed}") from None


def truth_words() -> dict[str, bool]:
    """What a student may write for true and false: the words of every language gen
    prints in, T/F, yes/no and 1/0."""
    words = {"t": True, "f": False, "yes": True, "no": False, "y": True, "n": False, "1": True, "0": False,
             "true": True, "false": False}
    for language in i18n.languages():
        words[i18n.text(language, "true").casefold()] = True
        words[i18n.text(language, "false").casefold()] = False
    return words


def read_truth(written: str) -> bool:
    words = truth_words()
    found = words.get(written.strip().casefold())
    if found is None:
        raise ValueError(f"{written!r} is neither true nor false; write true or false (or T/F)")
    return found


def read_letters(written: str, choice: dict[str, Any]) -> list[str]:
    """The letters marked on a choice question written in the bank (`B`, `b, d`, `BD`),
    sorted; one letter only where one option is right."""
    letters = [c for c in written.upper().replace(",", " ").replace(";", " ") if not c.isspace()]
    allowed = [o["letter"] for o in choice["options"]]
    if not letters or any(c not in allowed for c in letters):
        raise ValueError(f"{written!r} does not mark options of this question; write the letters of the marked "
                         f"options from {', '.join(allowed)}" + (", e.g. A, C" if choice.get("multiple") else ""))
    if len(set(letters)) > 1 and not choice.get("multiple"):
        raise ValueError(f"{written!r} marks {len(set(letters))} options; this question has one right option")
    return sorted(set(letters))


def grade(exams: dict[str, dict[str, Any]], responses: list[Response], skipped: list[Skipped],
          hand: Hand | None = None) -> Grading:
    """Every answer of every student who returned at least one usable row (or has a
    grade given by hand); a missing answer counts as blank. `hand` (from hand.csv, see
    generator.handgrades) completes the answers a person grades and adds comments."""
    from .handgrades import apply_hand

    given = {(r.student, r.problem, r.answer): r for r in responses}
    grading = Grading(exams=exams, skipped=skipped)
    grades, hand_name = (hand.grades, hand.name) if hand else ({}, "")
    if hand:
        grading.hand_skipped = list(hand.skipped)
    students = {r.student for r in responses} | {key[0] for key in grades}
    for student_id, contract in exams.items():
        if student_id not in students:
            continue
        for problem in contract["problems"]:
            if problem.get("kind") == "written":
                grading.graded.append(written_answer(contract, problem))
                continue
            shares = answer_shares(problem)
            mine = {a: given.get((student_id, problem["number"], a)) for a in problem["answers"]}
            values = {a: r.value if r and not r.error else None for a, r in mine.items()}
            family = _family(problem)
            for answer, response in mine.items():
                verdict = (family.grade_answer(answer, values, problem["params"])
                           if family and values[answer] is not None else None)
                grading.graded.append(grade_answer(contract, problem, answer, response, shares[answer], verdict))
    if grades:
        grading.graded = apply_hand(grading.graded, grades, grading.hand_skipped, hand_name)
    return grading


@dataclass(frozen=True)
class Hand:
    """The grades read from a hand-grades file (generator.handgrades.read_hand)."""

    name: str  # the file's name, for messages
    grades: dict[tuple[str, int, str], Any]
    skipped: list[Skipped]


def _family(problem: dict[str, Any]) -> Any:
    """The family of a contract problem, for its own rules (Family.grade_answer); None
    for a question written in the bank or a family this installation lacks (a plugin
    since removed): its answers are then compared with the key."""
    try:
        return get_family(problem["family"]) if "family" in problem else None
    except GenError:
        return None


def answer_shares(problem: dict[str, Any]) -> dict[str, Fraction]:
    """Each answer's points: the contract's `answer_points` (the bank's, or an equal
    share); answers.json written before they existed shares the points equally."""
    given = problem.get("answer_points") or {}
    if set(given) >= set(problem["answers"]):
        return {name: Fraction(str(given[name])) for name in problem["answers"]}
    return {name: Fraction(str(problem["points"])) / len(problem["answers"]) for name in problem["answers"]}


WRITTEN = "written"  # the answer name of a written question's one row in grades.csv


def written_answer(contract: dict[str, Any], problem: dict[str, Any]) -> Graded:
    """A written question: answered on paper, so never in the responses; pending until a
    person grades it (its points are in pending_points, not in the total)."""
    points = Fraction(str(problem["points"]))
    return Graded(
        student=contract["student"]["id"], name=contract["student"]["name"], variant=contract["variant"],
        problem=problem["number"], slot=str(problem.get("slot", problem["number"])), family=problem["question"],
        answer=WRITTEN, given="", correct=problem.get("model_answer", ""), points=Fraction(0), max_points=points,
        verdict="by hand", label="your written answer", manual=True,
    )


def grade_answer(contract: dict[str, Any], problem: dict[str, Any], answer: str, response: Response | None,
                 share: Fraction, ruled: Verdict | None = None) -> Graded:
    """One answer: compared with the key within its tolerance (a slip's value names the
    slip), or, where the family gives a verdict by its own rules (`ruled`), that one:
    right or wrong with the rule it breaks, checked against what is right for the
    student's own answer (`correct` is then that value)."""
    correct = problem["answers"][answer]
    tolerance = tolerance_of(problem, answer)
    accepted = [correct, *problem.get("accepted", [])[1:]]  # a text question's other accepted answers
    verdict, slip = _verdict(response, accepted, tolerance, problem.get("slips", {}).get(answer, []))
    reason = response.error if response and response.error else None
    if ruled is not None:
        verdict = "correct" if ruled.correct else "slip" if ruled.slip else "wrong"
        slip = {"name": ruled.slip, "says": ruled.says} if ruled.slip else None
        correct = correct if ruled.expected is None else numbers.to_json(ruled.expected)
        reason = ruled.reason or None
    label = problem.get("labels", {}).get(answer, answer)  # answers.json written before labels existed has none
    return Graded(
        student=contract["student"]["id"], name=contract["student"]["name"], variant=contract["variant"],
        problem=problem["number"], slot=str(problem.get("slot", problem["number"])), family=source(problem),
        answer=answer, given=response.text if response else "", correct=correct,
        points=share if verdict == "correct" else Fraction(0), max_points=share, verdict=verdict, label=label,
        manual=tolerance.kind == "manual", slip=slip["name"] if slip else None, says=slip["says"] if slip else None,
        reason=reason,
    )


def tolerance_of(problem: dict[str, Any], answer: str) -> Tolerance:
    """The contract's tolerance; answers.json written before tolerances existed gets the default rule."""
    stated = problem.get("tolerance", {}).get(answer)
    return Tolerance.from_json(stated) if stated else default_tolerance(problem["answers"][answer])


def _verdict(response: Response | None, accepted: list[Any], tolerance: Tolerance,
             slips: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    if response is not None and response.error:
        return "unreadable", None
    if response is None or response.value is None:
        return "blank", None
    if any(matches(response.value, correct, tolerance) for correct in accepted):
        return "correct", None
    if tolerance.kind == "manual":
        return "by hand", None
    slip = next((s for s in slips if matches(response.value, s["value"], tolerance)), None)
    return ("slip", slip) if slip else ("wrong", None)


def matches(given: Any, expected: Any, tolerance: Tolerance) -> bool:
    """Whether an exact given value equals a contract value within the tolerance,
    element by element for vectors, matrices and values by name; labels ignore case and
    spaces; an entry that does not exist (None, a masked score) matches only None."""
    if expected is None:
        return given is None
    if isinstance(expected, list):
        return (isinstance(given, list) and len(given) == len(expected)
                and all(matches(g, e, tolerance) for g, e in zip(given, expected, strict=True)))
    if isinstance(expected, dict):
        return (isinstance(given, dict) and given.keys() == expected.keys()
                and all(matches(given[k], e, tolerance) for k, e in expected.items()))
    if isinstance(expected, bool):
        return given is expected
    number = as_number(expected)
    if number is None:
        return isinstance(given, str) and given.strip().casefold() == str(expected).strip().casefold()
    return isinstance(given, Fraction) and tolerance.accepts(given, number)


# --- output files ---------------------------------------------------------------


def points_text(points: Fraction) -> str:
    return numbers.decimal(str(points), 2)


def value_text(value: Any) -> str:
    """A contract value for a CSV cell: exact, as written in the contract."""
    return value if isinstance(value, str) else json.dumps(value)


def readable(value: Any) -> str:
    """A contract value for a sentence: decimals where they end, fractions otherwise;
    a layer as PyTorch prints it, `Conv2d(in_channels=3, ...)`."""
    if isinstance(value, list):
        return "[" + ", ".join(readable(v) for v in value) + "]"
    if isinstance(value, dict) and "type" in value:
        fields = ", ".join(f"{k}={readable(v)}" for k, v in value.items() if k != "type")
        return f"{value['type']}({fields})"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {readable(v)}" for k, v in value.items())
    if value is None:
        return numbers.MASKED
    number = as_number(value)
    if number is None:
        return str(value)
    return numbers.decimal(str(number)) if numbers.terminates(str(number)) else str(number)


def grades_csv(grading: Grading) -> str:
    """One row per answer; an answer waiting to be graded by hand has no points yet
    (an empty cell, not 0)."""
    rows = [[g.student, g.name, g.variant, g.problem, g.slot, g.family, g.answer, g.given, value_text(g.correct),
             "" if g.pending else points_text(g.points), points_text(g.max_points), g.verdict, g.slip or "",
             g.reason or "", g.comment]
            for g in grading.graded]
    return _csv(GRADE_COLUMNS, rows)


def summary_csv(grading: Grading) -> str:
    """One row per student; `status` is provisional while answers wait to be graded by hand."""
    rows = []
    for student in grading.students:
        mine = [g for g in grading.graded if g.student == student]
        counts = [sum(g.verdict == v for g in mine) for v in VERDICTS]
        pending = pending_points(mine)
        rows.append([student, mine[0].name, mine[0].variant, points_text(sum(g.points for g in mine)),
                     points_text(sum(g.max_points for g in mine)), points_text(pending), status(pending), *counts])
    return _csv(SUMMARY_COLUMNS, rows)


def status(pending: Fraction) -> str:
    return "provisional" if pending else "final"


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return buffer.getvalue()


def feedback_text(graded: list[Graded]) -> str:
    """One student's feedback: every answer, and for a slip what went wrong in plain words."""
    first = graded[0]
    lines = [f"Feedback for {first.name} ({first.student}), variant {first.variant}",
             f"Total: {_points_line(graded)}", ""]
    for number in dict.fromkeys(g.problem for g in graded):
        mine = [g for g in graded if g.problem == number]
        lines.append(f"Problem {number} ({mine[0].family}): {_points_line(mine)}")
        for g in mine:
            lines.append(f"  {g.label}: {_comment(g)}")
            if g.comment:
                lines.append(f"    Comment: {g.comment}")
        lines.append("")
    return "\n".join(lines)


def _points_line(graded: list[Graded]) -> str:
    """"x of y points", saying how many are still to be graded by hand."""
    most = sum(g.max_points for g in graded)
    text = f"{points_text(sum(g.points for g in graded))} of {points_text(most)} point{'' if most == 1 else 's'}"
    pending = pending_points(graded)
    if pending:
        text += f" so far (provisional: {points_text(pending)} points are still to be graded by hand)"
    return text


def _comment(g: Graded) -> str:
    correct = readable(g.correct)
    if g.hand:
        graded = f"graded by hand, {points_text(g.points)} of {points_text(g.max_points)} points."
        return graded[0].upper() + graded[1:] if g.answer == WRITTEN else f"{g.given or 'on paper'}: {graded}"
    if g.verdict == "correct":
        return f"{g.given}, correct."
    if g.verdict == "blank" and g.manual:
        return "no answer. More than one answer is right here, so none is shown; the key gives one example."
    if g.verdict == "blank":
        return f"no answer; the answer is {correct}."
    if g.verdict == "unreadable":
        example = "" if g.manual else f" The answer is {correct}."
        return f"{g.given} could not be read: {g.reason}. It gets no points.{example}"
    if g.verdict == "by hand" and g.answer == WRITTEN:
        return "a written answer: your teacher grades it by hand (pending)."
    if g.verdict == "by hand":
        return f"{g.given}: more than one answer can be right here, so your teacher grades it by hand (pending)."
    if g.reason:  # a rule the answer breaks (Family.grade_answer)
        example = f" One network that works: {correct}." if g.manual and g.answer == "layers" else ""
        return f"{g.given} is not right: {g.reason}.{example}"
    said = f"{g.given} is not right; the answer is {correct}."
    return f"{said} It looks like {g.says}." if g.says else said


def write_grading(grading: Grading, out_dir: Path, hand: Hand | None = None) -> list[Path]:
    """grades.csv, summary.csv, hand.csv (what a person grades, pre-filled),
    feedback/<id>.txt and the class report."""
    from .handgrades import hand_csv
    from .report import write_report  # here, so that the other commands never wait for matplotlib to import

    prepare_dir(out_dir)
    written = {out_dir / "grades.csv": grades_csv(grading), out_dir / "summary.csv": summary_csv(grading),
               out_dir / HAND_FILE: hand_csv(grading, hand.grades if hand else {})}
    feedback = prepare_dir(out_dir / "feedback")
    for student in grading.students:
        written[feedback / f"{student}.txt"] = feedback_text([g for g in grading.graded if g.student == student])
    for path, text in written.items():
        write_atomic(path, text)
    return [*written, *write_report(grading, out_dir)]


HAND_FILE = "hand.csv"


def grade_class(responses_csv: Path, exams_dir: Path, out_dir: Path,
                hand_csv: Path | None = None) -> tuple[Grading, list[Path]]:
    """Read, grade and write; nothing usable in the responses (and no hand grades) is
    an error listing why. `hand_csv`: the grades a person gave (see generator.handgrades)."""
    from .handgrades import read_hand

    exams = load_class(exams_dir)
    responses, skipped = read_responses(responses_csv, exams)
    hand = Hand(hand_csv.name, *read_hand(hand_csv, exams)) if hand_csv else None
    if not any(r.error is None for r in responses) and not (hand and hand.grades):
        shown = [s.message for s in skipped[:20]] + ([f"... and {len(skipped) - 20} more"] if len(skipped) > 20 else [])
        detail = ":\n  " + "\n  ".join(shown) if shown else ": it has no rows"
        raise GenError(f"nothing in {responses_csv} can be graded{detail}")
    grading = grade(exams, responses, skipped, hand)
    return grading, write_grading(grading, out_dir, hand)
