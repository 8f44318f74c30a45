"""Questions written in the bank (not computed by a family): a self-contained unit
like a family, in five kinds.

- `written`: answered in words, graded by a person; the key prints the model
  `answer` and the `rubric` (points per criterion);
- `true_false`: `correct: true|false`;
- `choice`: `options` (2 to 8) and `correct` (an option's position counted from 0, its
  text, or a list of them); more than one correct option, or `multiple: true`, makes
  it "mark every correct option"; options are shuffled per student unless
  `shuffle: false`;
- `numeric`: `correct` a number, with a `tolerance` as for families;
- `text`: a short answer, `correct` one text or a list of accepted ones (compared
  ignoring case and surrounding spaces).

Text, answers, options and criteria are Markdown with LaTeX math (generator.markdown),
parsed when the bank is read, so a refused command is reported with the file and line
before anything is drawn. A question asked of a student (`Asked`) has its points, its
place in the exam and, for a choice question, that student's order of the options;
`contract()` is its object in answers.json."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from .assets import Assets
from .errors import BankError
from .markdown import Markdown, MarkdownError, parse
from .tolerance import EXACT, Tolerance, default_tolerance, parse_tolerance
from .yamlload import line_of, text_line

KINDS = ("written", "true_false", "choice", "numeric", "text")
LETTERS = "ABCDEFGH"
COMMON_KEYS = ("question", "kind", "points", "id", "title", "text", "answer")
KIND_KEYS = {
    "written": ("rubric", "space"),
    "true_false": ("correct",),
    "choice": ("options", "correct", "multiple", "shuffle"),
    "numeric": ("correct", "tolerance", "space"),
    "text": ("correct", "space"),
}
DEFAULT_SPACE = {"written": "6cm", "numeric": "2cm", "text": "1.5cm"}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_LENGTH = re.compile(r"\d+(\.\d+)?(cm|mm|in|pt|em)")


@dataclass(frozen=True)
class Criterion:
    points: Fraction
    text: Markdown


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: Markdown
    title: str = ""
    points: Fraction | None = None  # None: the slot's points
    answer: Markdown | None = None  # the model answer (written) or an explanation (the others)
    rubric: tuple[Criterion, ...] = ()
    space: str | None = None  # room to write on the exam, e.g. "8cm"
    correct: Any = None  # bool (true_false), tuple of option positions (choice), Fraction (numeric), texts (text)
    options: tuple[Markdown, ...] = ()
    multiple: bool = False
    shuffle: bool = True
    tolerance: Tolerance = EXACT
    where: str = field(default="", compare=False)  # file:line of the question, for messages


def parse_question(entry: dict[str, Any], *, file: Path, assets: Assets) -> Question:
    """A question from its YAML mapping (in a bank, or a question file next to it);
    text and images are resolved relative to the file's folder."""
    where = _where(file, entry)
    qid = entry.get("question")
    if not isinstance(qid, str | int) or isinstance(qid, bool) or not _ID.fullmatch(str(qid)):
        raise BankError(f"`question` is the question's id (letters, digits, _ . -), got {qid!r}", where=where)
    qid = str(qid)
    kind = entry.get("kind", "written")
    if kind not in KINDS:
        raise BankError(f"question {qid!r}: `kind` is one of {', '.join(KINDS)}, got {kind!r}", where=where)
    allowed = COMMON_KEYS + KIND_KEYS[kind]
    unknown = [str(key) for key in entry if key not in allowed]
    if unknown:
        raise BankError(f"question {qid!r}: `{unknown[0]}` is not a key of a {kind} question", where=where,
                        hint=f"allowed here: {', '.join(allowed)}")
    reader = _Reader(qid, entry, file, assets)
    title = entry.get("title", "")
    if not isinstance(title, str | int | float) or isinstance(title, bool):
        raise BankError(f"question {qid!r}: `title` must be text", where=where)
    question = Question(
        id=qid, kind=kind, text=reader.markdown("text", required=True), title=str(title),
        points=_points(entry["points"], qid, where) if "points" in entry else None,
        answer=reader.markdown("answer") if "answer" in entry else None,
        rubric=reader.rubric(), space=_space(entry.get("space", DEFAULT_SPACE.get(kind)), qid, where),
        where=where,
    )
    return _with_answer(question, entry, reader)


def _with_answer(question: Question, entry: dict[str, Any], reader: _Reader) -> Question:
    """The kind's correct answer, options and tolerance."""
    qid, where, kind = question.id, question.where, question.kind
    raw = entry.get("correct")
    if kind == "written":
        return question
    if raw is None:
        raise BankError(f"question {qid!r}: a {kind} question needs `correct`", where=where)
    if kind == "true_false":
        if not isinstance(raw, bool):
            raise BankError(f"question {qid!r}: `correct` is true or false, got {raw!r}", where=where)
        return replace(question, correct=raw)
    if kind == "numeric":
        number = _number(raw, qid, where)
        tolerance = (parse_tolerance(entry["tolerance"], where=where) if "tolerance" in entry
                     else default_tolerance(str(number)))
        if tolerance.kind == "manual":
            raise BankError(f"question {qid!r}: a numeric answer is graded automatically; for an answer a "
                            "person grades, use kind: written", where=where)
        return replace(question, correct=number, tolerance=tolerance)
    if kind == "text":
        accepted = raw if isinstance(raw, list) else [raw]
        if not accepted or not all(isinstance(a, str | int | float) and not isinstance(a, bool) and str(a).strip()
                                   for a in accepted):
            raise BankError(f"question {qid!r}: `correct` is the answer text or a list of accepted texts",
                            where=where)
        return replace(question, correct=tuple(str(a).strip() for a in accepted))
    options = reader.options()
    correct = _correct_options(raw, options, qid, where)
    multiple = entry.get("multiple", len(correct) > 1)
    shuffle = entry.get("shuffle", True)
    for key, value in (("multiple", multiple), ("shuffle", shuffle)):
        if not isinstance(value, bool):
            raise BankError(f"question {qid!r}: `{key}` is true or false, got {value!r}", where=where)
    if len(correct) > 1 and not multiple:
        raise BankError(f"question {qid!r}: {len(correct)} options are correct but `multiple` is false", where=where)
    return replace(question, options=options, correct=correct, multiple=multiple, shuffle=shuffle)



class _Reader:
    """Reads the Markdown fields of one question, naming the file and line of a fault."""

    def __init__(self, qid: str, entry: dict[str, Any], file: Path, assets: Assets):
        self.qid, self.entry, self.file, self.assets = qid, entry, file, assets

    def markdown(self, key: str, *, required: bool = False, data: Any = None, value: Any = None) -> Markdown:
        """The Markdown in `data[key]` (data: the question, or a rubric entry), or `value`,
        an item of the list in it (an option)."""
        data = self.entry if data is None else data
        value = data.get(key) if value is None else value
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise BankError(f"question {self.qid!r} needs `{key}`", where=self._at(line_of(data)))
            value = ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise BankError(f"question {self.qid!r}: `{key}` must be text", where=self._at(line_of(data, key)))
        try:
            return parse(str(value), lambda path: self.assets.image(self.file.parent, path))
        except MarkdownError as exc:
            line = text_line(self.file, data, key, str(value), exc.line)
            raise BankError(f"question {self.qid!r}, `{key}`: {exc}", where=self._at(line)) from None

    def rubric(self) -> tuple[Criterion, ...]:
        items = self.entry.get("rubric") or []
        where = self._at(line_of(self.entry, "rubric") or 0)
        if not isinstance(items, list):
            raise BankError(f"question {self.qid!r}: `rubric` is a list of {{points, criterion}}", where=where)
        criteria = []
        for item in items:
            if not isinstance(item, dict) or set(item) != {"points", "criterion"}:
                raise BankError(f"question {self.qid!r}: each rubric entry is {{points: N, criterion: text}}, "
                                f"got {item!r}", where=self._at(line_of(item) or 0))
            points = _points(item["points"], self.qid, where)
            criteria.append(Criterion(points, self.markdown("criterion", data=item)))
        return tuple(criteria)

    def options(self) -> tuple[Markdown, ...]:
        items = self.entry.get("options")
        where = self._at(line_of(self.entry, "options") or 0)
        if not isinstance(items, list) or not 2 <= len(items) <= len(LETTERS):
            raise BankError(f"question {self.qid!r}: `options` is a list of 2 to {len(LETTERS)} options",
                            where=where)
        options = tuple(self.markdown("options", value=item) for item in items)
        texts = [o.source.strip() for o in options]
        if len(set(texts)) != len(texts):
            raise BankError(f"question {self.qid!r}: two options are the same", where=where)
        if not all(o.inline for o in options):
            raise BankError(f"question {self.qid!r}: an option is one paragraph (no lists, code blocks or tables)",
                            where=where)
        return options

    def _at(self, line: int | None) -> str:
        return f"{self.file}:{line}" if line else str(self.file)


def _where(file: Path, entry: dict[str, Any]) -> str:
    line = line_of(entry)
    return f"{file}:{line}" if line else str(file)


def _points(value: Any, qid: str, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise BankError(f"question {qid!r}: points must be a positive number, got {value!r}", where=where)
    return Fraction(str(value))


def _space(value: Any, qid: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _LENGTH.fullmatch(value.strip()):
        raise BankError(f"question {qid!r}: `space` is a length such as 8cm, 60mm or 3in, got {value!r}",
                        where=where)
    return value.strip()


def _number(raw: Any, qid: str, where: str) -> Fraction:
    if not isinstance(raw, bool) and isinstance(raw, int | float | str):
        try:
            return Fraction(str(raw).strip())  # str first: YAML's 0.1 is a float
        except (ValueError, ZeroDivisionError):
            pass
    raise BankError(f"question {qid!r}: `correct` must be a number such as 17745, 0.25 or \"1/3\", got {raw!r}",
                    where=where)


def _correct_options(raw: Any, options: tuple[Markdown, ...], qid: str, where: str) -> tuple[int, ...]:
    texts = [o.source.strip() for o in options]
    found: list[int] = []
    for item in raw if isinstance(raw, list) else [raw]:
        position = isinstance(item, int) and not isinstance(item, bool)
        if position and str(item) in texts and texts.index(str(item)) != item:
            raise BankError(f"question {qid!r}: `correct: {item}` could be the option at position {item} (counted "
                            f"from 0) or the option {str(item)!r}", where=where,
                            hint=f"write the option's text in quotes (correct: \"{item}\") to mean the option")
        if position and 0 <= item < len(options):
            found.append(item)
        elif isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip() in texts:
            found.append(texts.index(str(item).strip()))
        else:
            raise BankError(f"question {qid!r}: `correct` names options by position, counted from 0 "
                            f"(0 to {len(options) - 1}), or by their text; got {item!r}", where=where)
    if not found:
        raise BankError(f"question {qid!r}: `correct` names no option", where=where)
    return tuple(sorted(set(found)))


# --- a question asked of one student ----------------------------------------------


@dataclass
class Asked:
    """A question on one student's exam (the counterpart of a drawn family Problem)."""

    question: Question
    points: Fraction
    order: tuple[int, ...] = ()  # choice: the bank's option positions in this student's order
    number: int = 1
    slot: str = "1"
    alternative: int | None = None
    section: int | None = None
    pool: dict[str, int] | None = None  # {"pick": k, "of": n} for a slot that picks k > 1

    @property
    def fingerprint(self) -> str:
        text = json.dumps(["question", self.question.id, list(self.order)])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def options(self) -> list[tuple[str, Markdown, bool]]:
        """(letter, option, correct) in this student's order."""
        q = self.question
        return [(LETTERS[i], q.options[j], j in q.correct) for i, j in enumerate(self.order)]

    @property
    def answers(self) -> dict[str, Any]:
        """The contract's `answers`: nothing for a written question (a person grades it)."""
        kind, correct = self.question.kind, self.question.correct
        if kind == "written":
            return {}
        if kind == "choice":
            return {"answer": [letter for letter, _, right in self.options if right]}
        if kind == "numeric":
            return {"answer": str(correct)}
        if kind == "text":
            return {"answer": correct[0]}
        return {"answer": correct}

    def contract(self) -> dict[str, Any]:
        q = self.question
        data: dict[str, Any] = {
            "number": self.number,
            "slot": self.slot,
            "alternative": self.alternative,
            **({"section": self.section} if self.section is not None else {}),
            **({"pool": self.pool} if self.pool else {}),
            "points": int(self.points) if self.points.denominator == 1 else str(self.points),
            "question": q.id,
            "kind": q.kind,
            "title": q.title,
            "text": q.text.source,
            "fingerprint": self.fingerprint,
            "answers": self.answers,
            "labels": {name: "the answer" for name in self.answers},
            "slips": {},
            "tolerance": {name: q.tolerance.to_json() for name in self.answers},
        }
        if q.kind == "written":
            data["model_answer"] = q.answer.source if q.answer else ""
            data["rubric"] = [{"points": int(c.points) if c.points.denominator == 1 else str(c.points),
                               "criterion": c.text.source} for c in q.rubric]
        elif q.answer:
            data["explanation"] = q.answer.source
        if q.kind == "choice":
            data["choice"] = {"multiple": q.multiple,
                              "options": [{"letter": letter, "text": option.source.strip(), "correct": right}
                                          for letter, option, right in self.options]}
        if q.kind == "text":
            data["accepted"] = list(q.correct)
        return data


def ask(question: Question, points: Fraction, rng: Any) -> Asked:
    """The question for one student: a choice question's options in an order drawn
    from the student's own generator (`rng`), unless the bank keeps them in order."""
    order: tuple[int, ...] = ()
    if question.kind == "choice":
        count = len(question.options)
        order = tuple(int(i) for i in rng.permutation(count)) if question.shuffle else tuple(range(count))
    return Asked(question=question, points=points, order=order)
