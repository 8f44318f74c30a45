"""Final answers in short form, for the cover of a key (bank option `cover: true`) and
for the grading sheet of a class (DIR/grading.pdf, written by `gen exam --roster`).

A short answer is what the key boxes, as one line of LaTeX: numbers exact when their
decimal ends, otherwise to four decimals or four significant digits below 0.1
(pipeline.option_tex of choice.rounded, as the
multiple-choice options print them), vectors in brackets, matrices as small matrices;
a multiple-choice answer leads with its letter; an answer more than one value of which
is right (tolerance `manual`) and a written question say "by hand".

The grading sheet has one table per problem number (the number printed on the
exams): every student in the order of exams.pdf, with id, name, variant and the
final answers of their variant, and an empty box for the points. While a class is
drawn only each student's row texts are kept (plain strings, like their answers.csv
rows), and the sheet is compiled once at the end by one pdflatex run."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import numbers
from .bank import Bank
from .choice import as_number, rounded
from .compile import compile_pdf
from .files import write_atomic
from .glyphs import unprintable
from .i18n import translator
from .numbers import to_json
from .pipeline import option_tex
from .questions import Asked
from .render import Tex, escape, lacking, render_document, render_template, typeset_strings
from .variants import Exam, Item, Problem

FILE_NAME = "grading.pdf"
TAGS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Short:
    """One final answer: its label (plain text; empty for a question's one answer) and
    its short form as LaTeX."""

    label: str
    tex: Tex
    tag: str = ""  # the exam's part that asks it, "(b)"; "(b1)", "(b2)" when a part asks several


def short_answers(item: Item, language: str) -> list[Short]:
    """The final answers of a problem or question as the key boxes them, in order."""
    t = translator(language)
    if isinstance(item, Asked):
        return [Short("", _question_answer(item, t))]
    answers = item.solution.answers
    if all(_manual(item, name) for name in answers):
        return [Short("", t("by_hand"))]  # a design of the student's own: a person grades it
    shorts = []
    # in the order the exam's parts ask them, tagged by their part
    order = [*(name for name in item.parts if name in answers), *(name for name in answers if name not in item.parts)]
    tags = _part_tags([item.parts.get(name, "") for name in order])
    for name, tag in zip(order, tags, strict=True):
        label = item.family.answer_label(name)
        if _manual(item, name):
            shorts.append(Short(label, t("by_hand"), tag))
            continue
        tex = f"${short_tex(to_json(answers[name]))}$"
        if item.choice is not None and item.choice.answer == name:
            tex = f"{item.choice.correct}: {tex}"
        shorts.append(Short(label, Tex(tex), tag))
    return shorts


def _part_tags(parts: list[str]) -> list[str]:
    """"(b)" for an answer its part asks alone, "(b1)", "(b2)" for several in one part;
    an answer whose part is not known gets a letter of its own, as before."""
    counts = {part: parts.count(part) for part in parts}
    seen: dict[str, int] = {}
    tags = []
    for index, part in enumerate(parts):
        if not part:
            tags.append(f"{TAGS[index]})")
            continue
        seen[part] = seen.get(part, 0) + 1
        tags.append(part if counts[part] == 1 else f"{part[:-1]}{seen[part]})")
    return tags


def _question_answer(asked: Asked, t: Any) -> Tex:
    q = asked.question
    if q.kind == "written":
        return t("by_hand")
    if q.kind == "true_false":
        return t("true" if q.correct else "false")
    if q.kind == "choice":
        return escape(", ".join(asked.answers["answer"]))
    if q.kind == "numeric":
        return Tex(f"${numbers.tex_number(q.correct)}$")
    return escape(q.correct[0])


def _manual(item: Problem, name: str) -> bool:
    """Whether more than one value is right (a person grades it): only a rule of the
    bank or the family says so, never the default (so that is not computed here)."""
    rule = item.tolerances.get(name) or item.family.tolerances.get(name)
    return rule is not None and rule.kind == "manual"


_MATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", re.S)


def short_tex(value: Any) -> str:
    """Math-mode LaTeX of a contract value as the key prints it: option_tex(rounded(value))
    with matrices as small ones (a line of a table, not a display). Numbers, vectors
    and matrices take a path in plain integers, the same text without sympy (it runs
    for every answer of every student of a class)."""
    if _is_matrix(value):
        return (r"\left[\begin{smallmatrix} " + r" \\ ".join(" & ".join(_number_tex(x) for x in row) for row in value)
                + r" \end{smallmatrix}\right]")
    if isinstance(value, list) and all(as_number(v) is not None for v in value):
        return "[" + r",\ ".join(_number_tex(v) for v in value) + "]"
    if as_number(value) is not None:
        return _number_tex(value)
    return _MATRIX.sub(r"\\left[\\begin{smallmatrix}\1\\end{smallmatrix}\\right]", option_tex(rounded(value)))


def _is_matrix(value: Any) -> bool:
    return (isinstance(value, list) and bool(value) and all(isinstance(row, list) for row in value)
            and all(as_number(x) is not None for row in value for x in row))


def _number_tex(value: Any) -> str:
    """numbers.tex_number(choice.rounded(value)): exact when the decimal ends, else to 4
    places, or 4 significant digits below 0.1 (1/392 is 0.002551, as the key works it,
    not 0.0026), half away from zero; integers of 5 digits and more grouped by thin spaces."""
    number = as_number(value)
    assert number is not None
    p, q = number.numerator, number.denominator
    rest = q
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    digits = 0
    if rest == 1:
        while (p * 10**digits) % q:
            digits += 1
    else:
        digits = numbers.short_places(p, q)
    n = (2 * abs(p) * 10**digits + q) // (2 * q)
    sign = "-" if p < 0 and n != 0 else ""
    whole, fraction = divmod(n, 10**digits)
    while digits and fraction % 10 == 0:  # 0.5000 is printed 0.5
        fraction //= 10
        digits -= 1
    if digits:
        return f"{sign}{whole}.{fraction:0{digits}d}"
    return sign + (f"{whole:,}".replace(",", "\\,") if whole >= 10000 else str(whole))


LONG_WORD = 12  # characters: a longer word of a name or id may break anywhere in its narrow column


def breakable(text: str) -> Tex:
    """Text for a narrow column: escaped, and a word longer than LONG_WORD characters
    (an id, or a name such as `\\input{/etc/passwd}` with nowhere to hyphenate) allowed
    to break between any two characters rather than run into the next column."""
    def split(word: str) -> str:  # no break before a combining accent: it belongs to the letter before
        return "".join(("" if i == 0 or unicodedata.combining(c) else "\\hspace{0pt}") + escape(c)
                       for i, c in enumerate(word))

    return Tex(" ".join(escape(word) if len(word) <= LONG_WORD else split(word) for word in text.split(" ")))


def points_text(points: Fraction) -> Tex:
    return Tex(str(points.numerator) if points.denominator == 1 else f"{float(points):g}")


def _title(item: Item) -> str:
    """A family's title, a question's title or, for a question without one, the first
    words of its text as plain text (simple maths such as 5×5 kept, other maths as an
    ellipsis, Markdown marks left out); its id when those words hold characters that
    pdflatex's fonts lack."""
    if not isinstance(item, Asked):
        return item.family.title
    if item.question.title:
        return item.question.title
    words = _MARKS.sub("", _MATH.sub(_plain_math, item.question.text.source)).split()
    title = " ".join(words[:TITLE_WORDS])
    if len(title) > TITLE_CHARS:
        title = title[:TITLE_CHARS]
    elif len(words) <= TITLE_WORDS:
        return item.question.id if lacking(title) else title
    return item.question.id if lacking(title) else title + " …"


TITLE_WORDS, TITLE_CHARS = 8, 60
_MATH = re.compile(r"\$\$(.*?)\$\$|\$([^$]*)\$", re.S)
_MARKS = re.compile(r"[*_`#>|]")
_SYMBOLS = {r"\times": "×", r"\cdot": "·", r"\to": "→", r"\pm": "±", r"\,": " ", r"\ ": " "}


def _plain_math(match: re.Match[str]) -> str:
    """Simple maths as plain text ($5\\times5$ -> 5×5); anything else as an ellipsis."""
    text = match.group(1) or match.group(2) or ""
    for command, symbol in _SYMBOLS.items():
        text = re.sub(re.escape(command) + r"(?![A-Za-z])", symbol, text)
    text = text.replace("{", "").replace("}", "")
    return "…" if "\\" in text or unprintable(text) else " ".join(text.split())


def cover(exam: Exam) -> dict[str, Any]:
    """What the cover shows besides the exam's header: per problem its number, title,
    points and (on the key) final answers, and the total."""
    shown = getattr(exam, "typeset", {})  # titles in scripts pdflatex cannot show, typeset (generator/scripts.py)
    rows = []
    for item in exam.problems:
        # the problem's own heading, as the exam prints it (the sheet, shared by every
        # student, keeps the family's title)
        title = _title(item) if isinstance(item, Asked) else item.family.heading(item.params)
        rows.append({"number": item.number, "title": shown.get(title, title), "points": points_text(item.points),
                     "answers": short_answers(item, exam.bank.language)})
    return {"rows": rows, "total": points_text(exam.total_points)}


@dataclass
class _Kind:
    """What a problem number holds for some students: a family (with its answers) or
    a question; its title and answer labels go into the table's legend once."""

    title: str
    labels: list[str]  # "(b) the height of the output", as the sheet's legend says it


@dataclass
class GradingSheet:
    """The grading sheet of a class, collected student by student: per problem number,
    the kinds of problem found under it and each student's row as LaTeX."""

    bank: Bank
    kinds: dict[int, dict[str, _Kind]] = field(default_factory=dict)  # number -> kind key -> legend
    points: dict[int, set[Fraction]] = field(default_factory=dict)
    students: list[tuple[str, str]] = field(default_factory=list)  # (id, LaTeX of id & name & variant)
    cells: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)  # id -> (number, kind, answers)
    nameless: list[str] = field(default_factory=list)  # ids whose names are not printed
    shown: dict[str, Tex] = field(default_factory=dict)  # texts pdflatex cannot show, typeset (scripts.py)

    def add(self, student_id: str, name: str, exam: Exam, typeset: dict[str, Tex] | None = None) -> None:
        """Keep what the sheet prints of one student (strings only); `typeset` holds the
        LaTeX of the names and titles pdflatex's fonts cannot show (generator/scripts.py)."""
        self.shown = typeset or self.shown
        name_tex = self.shown.get(name)
        if name_tex is None and lacking(name):  # pdflatex would stop at it: the id alone identifies them
            self.nameless.append(student_id)
            name_tex = Tex("")
        name_tex = name_tex if name_tex is not None else breakable(name)
        self.students.append((student_id, f"{breakable(student_id)} & {name_tex} & "
                                          f"\\texttt{{{escape(exam.variant)}}}"))
        cells = []
        for item in exam.problems:
            shorts = short_answers(item, self.bank.language)
            key = (f"q:{item.question.id}" if isinstance(item, Asked)
                   else f"f:{item.family.id}:{','.join(s.tag + s.label for s in shorts)}")
            labels = [f"{s.tag} {s.label}" for s in shorts if s.label]
            self.kinds.setdefault(item.number, {}).setdefault(key, _Kind(_title(item), labels))
            self.points.setdefault(item.number, set()).add(item.points)
            tagged = len(shorts) > 1 or bool(labels)
            answers = r"\quad ".join(f"\\mbox{{{s.tag + ' ' if tagged else ''}{s.tex}}}" for s in shorts)
            cells.append((item.number, key, f"{answers} & \\genscore{{{points_text(item.points)}}}"))
        self.cells[student_id] = cells

    def render(self, done: list[str]) -> str:
        """The sheet's LaTeX, with the students of `done` (in the order of exams.pdf)."""
        with typeset_strings(self.shown):
            return self._render(done)

    def _render(self, done: list[str]) -> str:
        kept = set(done)
        students = [(sid, row) for sid, row in self.students if sid in kept]
        problems = []
        for number in sorted(self.kinds):
            kinds = self.kinds[number]
            mixed = len(kinds) > 1
            legend = [{"title": kind.title if mixed else "",
                       "labels": kind.labels}
                      for kind in kinds.values()]
            rows = []
            for index, (sid, row) in enumerate(students, 1):
                _, key, answers = next(c for c in self.cells[sid] if c[0] == number)
                title = f"\\textit{{{self._text(kinds[key].title)}}}\\newline " if mixed else ""
                rows.append(Tex(f"{index} & {row} & {title}{answers}"))
            worth = sorted(self.points[number])
            problems.append({"number": number, "title": "" if mixed else self._text(next(iter(kinds.values())).title),
                             "points": points_text(worth[0]) if len(worth) == 1 else None,
                             "legend": [k for k in legend if k["labels"] or k["title"]], "rows": rows})
        bank = self.bank
        context = {"sheet": {"title": self._text(bank.title), "course": self._text(bank.course),
                             "header": self._text(bank.look.header or bank.course),
                             "date": bank.date.isoformat() if bank.date else "", "count": len(students),
                             "problems": problems, "page": Tex("\\thepage"), "paper": bank.look.paper},
                   "t": translator(bank.language)}
        body = Tex(render_template("grading-sheet.tex", context, bank.look.templates))
        document = render_document([body], bank.look.templates)
        # longtable and array (column types) for the sheet alone, not in every exam's preamble
        return document.replace("\\begin{document}", "\\usepackage{longtable,array}\n\\begin{document}", 1)

    def _text(self, text: str) -> Tex:
        return self.shown.get(text) or escape(text)

    def write(self, out_dir: Path, done: list[str], *, epoch: int, files: dict[str, Path] | None = None) -> Path:
        """Compile the sheet (one pdflatex run) and write DIR/grading.pdf atomically; an
        old sheet is removed first, so a failed run leaves none rather than a stale one."""
        path = out_dir / FILE_NAME
        path.unlink(missing_ok=True)
        pdf = compile_pdf(self.render(done), epoch=epoch, label="grading sheet", files=files)
        write_atomic(path, pdf)
        return path
