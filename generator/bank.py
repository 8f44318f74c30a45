"""Banks: the YAML file an instructor writes. Read as data (never code) and validated
into plain dataclasses; every error names the file and, where YAML knows it, the line.

A bank lists problems (`problems:`), or sections of them (`sections:`, each with a
heading, an optional intro and its own problems). A problem is a family (`family:`), a
question written in the bank (`question:`, see generator.questions), a file or folder
of questions next to the bank (`include:`), or a pool that gives each student k of its
alternatives (`pick: k` with `from:`; `one_of:` is `pick: 1`). The bank may also set
the exam's look (logo, header, footer, honour code, the fields to fill in, the answer
space, a folder of its own templates) and its `language`. Files a bank names must lie
inside its folder (generator.assets)."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .assets import Assets, inside
from .errors import BankError, GenError
from .family import get_family
from .i18n import DEFAULT, languages
from .markdown import Markdown, MarkdownError, parse
from .questions import Question, parse_question
from .render import lacking
from .scripts import INSTALL_HINT, available
from .tolerance import Tolerance, parse_tolerance
from .yamlload import line_of, load_yaml, text_line

BANK_DIR = Path(__file__).resolve().parent.parent / "banks"
BANK_FILE = "bank.yaml"  # the bank of a course folder (`--bank NAME` for banks/NAME/bank.yaml)
MAX_CHOICES = 8  # letters A-H; more options no longer fit a printed line or an LMS list


@dataclass(frozen=True)
class ChoiceSpec:
    """`format: choice`: ask one answer as a multiple-choice question with `count`
    options; `answer` None means the first answer with enough distinct slips, and
    `near_miss` lets near-miss values fill up when the slips are too few."""

    count: int = 4
    answer: str | None = None
    near_miss: bool = False


@dataclass(frozen=True)
class Choice:
    """One family problem a slot may hold: a family, the options it draws with, the
    parameters the instructor pinned instead of drawing, tolerances that replace the
    family's (`tolerance` for every answer, `tolerances` per answer name) and, for a
    multiple-choice question, how it is asked. `points`, when the alternative of a pool
    sets its own, replaces the slot's. `where` names it in messages."""

    family: str
    options: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tolerance: Tolerance | None = None
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    ask: ChoiceSpec | None = None
    where: str = field(default="", compare=False)
    points: Fraction | None = None
    answer_points: dict[str, Fraction] = field(default_factory=dict)  # points per answer, adding up to the points


Alternative = Choice | Question


@dataclass(frozen=True)
class Slot:
    """One entry of the bank's problem list: a family problem or a question, or a pool
    of alternatives of which each student gets `pick` (distinct ones)."""

    id: str
    points: Fraction
    choices: list[Alternative]
    pick: int = 1
    section: int | None = None  # 1-based number of its section, when the bank has sections

    def points_of(self, alternative: int) -> Fraction:
        """An alternative's own points if it sets them, otherwise the slot's."""
        return self.choices[alternative].points or self.points


@dataclass(frozen=True)
class Section:
    heading: str
    intro: Markdown | None = None


FIELDS = ("name", "student_id", "section", "seat", "room", "signature")


@dataclass(frozen=True)
class Look:
    """How the exam looks beyond its problems (all optional)."""

    logo: str | None = None  # the image's name in the compile folder
    header: str = ""  # replaces the course/title at the left of the page headers
    footer: str = ""  # at the left of the page footers
    honour_code: Markdown | None = None  # a framed block on the first page, with a line to sign
    fields: tuple[str, ...] = ("name", "student_id")
    space_scale: Fraction = Fraction(1)  # multiplies every answer space
    section_points: bool = True  # a section's heading says its points
    templates: Path | None = None  # a course's own templates, looked up before templates/
    cover: bool = False  # the first page is a cover: header, fields and a score table (the key: answers)
    paper: str = "a4"  # a4 or letter (gen exam --paper overrides it)
    pages: str = "even"  # even: each copy padded to an even count; uniform: every copy as long as the longest
    layout: str = "page"  # page: each problem starts a page; compact: problems follow each other on a page


@dataclass
class Bank:
    name: str
    title: str
    slots: list[Slot]
    course: str = ""
    date: dt.date | None = None
    instructions: str = ""
    shuffle: bool = False
    distinct: bool = False  # with a roster: redraw a variant a student above already has
    sections: list[Section] = field(default_factory=list)
    language: str = DEFAULT
    look: Look = field(default_factory=Look)
    images: dict[str, Path] = field(default_factory=dict)  # compile-folder name -> file in the bank's folder


# The keys a bank and its problems may have: a misspelt key is an error, not silently
# ignored (an instructor who writes `shufle: true` must not believe the exam is shuffled).
LOOK_KEYS = ("logo", "header", "footer", "honour_code", "fields", "space_scale", "section_points", "templates",
             "cover", "paper", "pages", "layout")
PAPERS = ("a4", "letter")
PAGES = ("even", "uniform")
LAYOUTS = ("page", "compact")
BANK_KEYS = ("title", "course", "date", "instructions", "problems", "shuffle", "distinct", "sections", "language",
             *LOOK_KEYS)
SLOT_KEYS = ("id", "points", "one_of")
POOL_KEYS = ("id", "points", "one_of", "pick", "from")
SECTION_KEYS = ("heading", "intro", "problems")
CHOICE_KEYS = ("family", "options", "params", "tolerance", "format", "choices", "answer", "fill", "answer_points")


def find_bank(name_or_path: str) -> Path:
    """`--bank NAME` -> banks/NAME.yaml (or the course folder banks/NAME/bank.yaml) in the
    current folder, else the project's own; anything that looks like a path is a path
    (a folder meaning its bank.yaml). Always a bank file, never a folder: a folder without
    a bank.yaml (an output folder named like the bank) does not hide the bank of that name."""
    path = Path(name_or_path)
    bare = _bare(name_or_path)  # a name, unless a folder of that name here is a course folder
    if path.is_dir():
        if (path / BANK_FILE).is_file():
            return path / BANK_FILE
        if not bare:
            raise BankError(f"the folder {str(path)!r} has no {BANK_FILE}, so it is not a course folder",
                            hint="give a bank file (.yaml) or a folder holding a bank.yaml")
    elif path.suffix in (".yaml", ".yml") or (path.exists() and not bare):
        if not path.is_file():
            raise BankError(f"bank file {str(path)!r} not found")
        return path
    for folder in (Path("banks"), BANK_DIR):
        for candidate in (folder / f"{name_or_path}.yaml", folder / name_or_path / BANK_FILE):
            if candidate.is_file():
                return candidate
    if path.is_file():  # a bank file without .yaml, named like one
        return path
    known = sorted({p.stem for folder in (Path("banks"), BANK_DIR) for p in folder.glob("*.yaml")}
                   | {p.parent.name for folder in (Path("banks"), BANK_DIR) for p in folder.glob(f"*/{BANK_FILE}")})
    also = f"; {str(path)!r} here is a folder without a {BANK_FILE}, not a bank" if path.is_dir() else ""
    raise BankError(f"no bank named {name_or_path!r}{also}", hint=f"known banks: {', '.join(known)}")


def _bare(name_or_path: str) -> bool:
    """A bank's name rather than a path: no folder separator and no .yaml."""
    return not any(sep in name_or_path for sep in ("/", "\\")) and not name_or_path.endswith((".yaml", ".yml"))


def bank_note(name_or_path: str) -> str | None:
    """What to tell the user when a bank name found a bank other than a file or folder
    of that name in the current folder (which is then not read)."""
    if not _bare(name_or_path):
        return None
    try:
        found = find_bank(name_or_path)
    except BankError:
        return None
    here = Path(f"{name_or_path}.yaml")
    if not here.is_file() or here.resolve() == found.resolve():
        return None  # a folder of that name (an output folder) is simply not a bank
    return f"--bank {name_or_path} reads {found}, not {here} in this folder (for that one: --bank ./{here})"


def bank_name(name_or_path: str, path: Path) -> str:
    """A bank's name (part of every seed): its file name without .yaml, or the course
    folder's name when the bank was named by its folder (`--bank course`)."""
    named_by_folder = path.name == BANK_FILE and not name_or_path.endswith((".yaml", ".yml"))
    return path.parent.name if named_by_folder else path.stem


def _known_keys(entry: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [str(key) for key in entry if key not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=1)
        raise BankError(f"unknown key `{unknown[0]}`" + (f" (did you mean `{close[0]}`?)" if close else ""),
                        where=where, hint=f"allowed here: {', '.join(allowed)}")


def load_bank(name_or_path: str) -> Bank:
    path = find_bank(name_or_path)
    return parse_bank(load_yaml(path), name=bank_name(name_or_path, path), where=str(path), folder=path.parent)


def parse_bank(data: Any, *, name: str, where: str, folder: Path | None = None) -> Bank:
    """A bank from its YAML data; `folder` is where its files (questions, images,
    templates) live, the current folder when not given."""
    if not isinstance(data, dict):
        raise BankError("a bank is a mapping with at least `title` and `problems`", where=where)
    _known_keys(data, BANK_KEYS, where)
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BankError("`title` is required and must be text", where=where)
    reader = _Reader(Path(where), Assets(folder or Path(".")))
    slots, sections = reader.problems(data, where)
    ids = [slot.id for slot in slots]
    if len(set(ids)) != len(ids):
        raise BankError("two problems have the same `id`", where=where)
    shuffle, distinct = (data.get(key, False) for key in ("shuffle", "distinct"))
    for key, value in (("shuffle", shuffle), ("distinct", distinct)):
        if not isinstance(value, bool):
            raise BankError(f"`{key}` must be true or false", where=where)
    date = data.get("date")
    if date is not None and not isinstance(date, dt.date):
        raise BankError("`date` must be a date like 2026-12-01", where=where)
    language = data.get("language", DEFAULT)
    if language not in languages():
        raise BankError(f"`language` is one of {', '.join(languages())}, got {language!r}", where=where,
                        hint="a new language is one YAML file of strings in generator/lang/")
    bank = Bank(
        name=name,
        title=title,
        slots=slots,
        course=_text(data.get("course"), "course", where),
        date=date,
        instructions=_text(data.get("instructions"), "instructions", where),
        shuffle=shuffle,
        distinct=distinct,
        sections=sections,
        language=language,
        look=reader.look(data, where),
        images=reader.assets.images,
    )
    _paragraphs_printable(bank, where)
    return bank


def paragraphs(bank: Bank) -> list[tuple[str, str | Markdown | None]]:
    """The bank's texts that pdflatex sets as paragraphs (instructions, honour code,
    sections, written questions), each with what names it in a message."""
    texts: list[tuple[str, str | Markdown | None]] = [("instructions", bank.instructions),
                                                      ("honour_code", bank.look.honour_code)]
    texts += [(f"section {number}", part) for number, section in enumerate(bank.sections, 1)
              for part in (section.heading, section.intro)]
    for slot in bank.slots:
        for alternative in slot.choices:
            if isinstance(alternative, Question):
                q = alternative
                texts += [(f"question {q.id!r}", part) for part in
                          (q.title, q.text, q.answer, *q.options, *(c.text for c in q.rubric),
                           *(q.correct if q.kind == "text" else ()))]
    return texts


def _paragraphs_printable(bank: Bank, where: str) -> None:
    """Paragraphs of the bank are set by pdflatex, whose fonts show Latin scripts (and CJK,
    through CJKutf8); words in other scripts are typeset by LuaLaTeX (generator/scripts.py).
    Without LuaLaTeX, say so now rather than let LaTeX fail later."""
    if available():
        return
    for label, text in paragraphs(bank):
        source = text.source if isinstance(text, Markdown) else text
        missing = sorted(lacking(source or ""))
        if missing:
            raise BankError(f"{label} holds characters pdflatex's fonts cannot print ({''.join(missing[:8])}), "
                            "and LuaLaTeX, which typesets them, is not installed", where=where,
                            hint=INSTALL_HINT)


def _text(value: Any, key: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise BankError(f"`{key}` must be text", where=where)
    return str(value)


class _Reader:
    """Reads a bank's problems, sections and look; holds its folder and images."""

    def __init__(self, file: Path, assets: Assets):
        self.file = file
        self.assets = assets
        self.questions: dict[str, str] = {}  # id -> where, to refuse a question asked twice

    def at(self, data: Any, key: str | None = None, file: Path | None = None) -> str:
        line = line_of(data, key)
        return f"{file or self.file}:{line}" if line else str(file or self.file)

    def problems(self, data: dict[str, Any], where: str) -> tuple[list[Slot], list[Section]]:
        if ("problems" in data) == ("sections" in data):
            raise BankError("a bank has either `problems` or `sections`" if "problems" in data else
                            "`problems` must be a non-empty list", where=where)
        if "problems" in data:
            return self.slots(data["problems"], where, section=None, first=1), []
        groups = data["sections"]
        if not isinstance(groups, list) or not groups:
            raise BankError("`sections` must be a non-empty list of {heading, problems}", where=where)
        slots: list[Slot] = []
        sections = []
        for number, group in enumerate(groups, 1):
            at = self.at(group) if isinstance(group, dict) else where
            if not isinstance(group, dict):
                raise BankError(f"section {number} is a mapping with `heading` and `problems`", where=at)
            _known_keys(group, SECTION_KEYS, at)
            heading = group.get("heading")
            if not isinstance(heading, str | int | float) or isinstance(heading, bool) or not str(heading).strip():
                raise BankError(f"section {number} needs a `heading` (text)", where=at)
            sections.append(Section(str(heading), self.markdown(group, "intro") if "intro" in group else None))
            slots += self.slots(group.get("problems"), f"{where}: section {number}", section=number,
                                first=len(slots) + 1)
        return slots, sections

    def markdown(self, data: dict[str, Any], key: str) -> Markdown:
        value = data[key]
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise BankError(f"`{key}` must be text", where=self.at(data, key))
        try:
            return parse(str(value), lambda written: self.assets.image(self.file.parent, written))
        except MarkdownError as exc:
            line = text_line(self.file, data, key, str(value), exc.line)
            raise BankError(f"`{key}`: {exc}", where=f"{self.file}:{line}" if line else str(self.file)) from None

    def slots(self, problems: Any, where: str, *, section: int | None, first: int) -> list[Slot]:
        if not isinstance(problems, list) or not problems:
            raise BankError("`problems` must be a non-empty list", where=where)
        slots: list[Slot] = []
        for entry, file in self.expand(problems, where):
            position = first + len(slots)
            slots.append(self.slot(entry, position, f"{where}: problem {position}", file, section))
        return slots

    def expand(self, entries: list[Any], where: str) -> list[tuple[Any, Path]]:
        """The entries with every `include:` replaced by what its file or folder holds,
        each with the file it comes from."""
        found: list[tuple[Any, Path]] = []
        for entry in entries:
            if isinstance(entry, dict) and "include" in entry:
                found += self.include(entry, where)
            else:
                found.append((entry, self.file))
        return found

    def include(self, entry: dict[str, Any], where: str) -> list[tuple[Any, Path]]:
        at = self.at(entry)
        if set(entry) != {"include"} or not isinstance(entry["include"], str):
            raise BankError("`include:` stands alone and names a question file or folder next to the bank",
                            where=at)
        try:
            path = inside(self.assets.root, self.file.parent, entry["include"], "include")
        except ValueError as exc:
            raise BankError(str(exc), where=at) from None
        files = sorted(p for p in path.glob("*.y*ml") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
        if not files:
            raise BankError(f"the folder {entry['include']!r} holds no .yaml question files", where=at)
        found: list[tuple[Any, Path]] = []
        for file in files:
            data = load_yaml(file)
            for item in data if isinstance(data, list) else [data]:
                if not isinstance(item, dict) or "include" in item:
                    raise BankError("a question file holds one question (a mapping with `question:`) or a "
                                    "list of them, and includes nothing itself", where=self.at(item, file=file))
                found.append((item, file))
        return found

    def slot(self, entry: Any, position: int, where: str, file: Path, section: int | None) -> Slot:
        if not isinstance(entry, dict):
            raise BankError("each problem is a mapping with a `family` or `question` (or a pool: `pick`/`one_of`)",
                            where=where)
        slot_id = str(entry.get("id", position))
        if "one_of" in entry or "pick" in entry or "from" in entry:
            return self.pool(entry, slot_id, where, section)
        alternative = self.alternative(entry, where, file, slot_keys=True)
        points = alternative.points or _points(entry.get("points", 10), where)
        slot = Slot(id=slot_id, points=points, choices=[alternative], section=section)
        _check_rubric(slot)
        _check_answer_points(slot)
        return slot

    def pool(self, entry: dict[str, Any], slot_id: str, where: str, section: int | None) -> Slot:
        _known_keys(entry, POOL_KEYS if "one_of" not in entry else SLOT_KEYS, where)
        if "one_of" in entry:
            alternatives, pick = entry["one_of"], 1
        elif "from" not in entry or "pick" not in entry:
            raise BankError("a pool is `pick: k` with `from:` (a list of problems)", where=where)
        else:
            alternatives, pick = entry["from"], entry["pick"]
        key = "one_of" if "one_of" in entry else "from"
        if not isinstance(alternatives, list) or not alternatives:
            raise BankError(f"`{key}` must be a non-empty list of problems", where=where)
        expanded = self.expand(alternatives, where)
        choices = [self.alternative(alt, f"{where}, alternative {i}", file, slot_keys=False)
                   for i, (alt, file) in enumerate(expanded, 1)]
        if isinstance(pick, bool) or not isinstance(pick, int) or not 1 <= pick <= len(choices):
            raise BankError(f"`pick` is how many of the {len(choices)} alternatives each student gets "
                            f"(1 to {len(choices)}), got {pick!r}", where=where)
        slot = Slot(id=slot_id, points=_points(entry.get("points", 10), where), choices=choices, pick=pick,
                    section=section)
        _check_rubric(slot)
        _check_answer_points(slot)
        return slot

    def alternative(self, entry: Any, where: str, file: Path, *, slot_keys: bool) -> Alternative:
        if isinstance(entry, dict) and "question" in entry:
            question = parse_question(entry, file=file, assets=self.assets)
            if not slot_keys and "id" in entry:
                raise BankError(f"question {question.id!r}: an alternative of a pool has no `id`",
                                where=question.where)
            if question.id in self.questions:
                raise BankError(f"question {question.id!r} is in the bank twice (also at "
                                f"{self.questions[question.id]})", where=question.where,
                                hint="a question is asked at most once per exam; give the copy another id")
            self.questions[question.id] = question.where
            return question
        return _parse_choice(entry, where=where)

    def look(self, data: dict[str, Any], where: str) -> Look:
        fields = data.get("fields", list(Look.fields))
        if not isinstance(fields, list) or not fields or not all(f in FIELDS for f in fields):
            raise BankError(f"`fields` is a list of the fields to fill in, from {', '.join(FIELDS)}; got {fields!r}",
                            where=self.at(data, "fields"))
        scale = data.get("space_scale", 1)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 5:
            raise BankError(f"`space_scale` multiplies the answer space: a number above 0 and at most 5, "
                            f"got {scale!r}", where=self.at(data, "space_scale"))
        section_points = data.get("section_points", True)
        if not isinstance(section_points, bool):
            raise BankError("`section_points` must be true or false", where=self.at(data, "section_points"))
        cover = data.get("cover", False)
        if not isinstance(cover, bool):
            raise BankError("`cover` must be true or false", where=self.at(data, "cover"))
        for key, allowed in (("paper", PAPERS), ("pages", PAGES), ("layout", LAYOUTS)):
            if data.get(key, allowed[0]) not in allowed:
                raise BankError(f"`{key}` is one of {', '.join(allowed)}, got {data[key]!r}", where=self.at(data, key))
        return Look(
            paper=data.get("paper", PAPERS[0]),
            pages=data.get("pages", PAGES[0]),
            layout=data.get("layout", LAYOUTS[0]),
            logo=self.file_key(data, "logo", image=True),
            header=_text(data.get("header"), "header", where),
            footer=_text(data.get("footer"), "footer", where),
            honour_code=self.markdown(data, "honour_code") if "honour_code" in data else None,
            fields=tuple(dict.fromkeys(fields)),
            space_scale=Fraction(str(scale)),
            section_points=section_points,
            templates=self.file_key(data, "templates", image=False),
            cover=cover,
        )

    def file_key(self, data: dict[str, Any], key: str, *, image: bool) -> Any:
        """`logo` (an image: its compile-folder name) or `templates` (a folder)."""
        if key not in data:
            return None
        written = data[key]
        at = self.at(data, key)
        if not isinstance(written, str):
            raise BankError(f"`{key}` is a path relative to the bank's folder", where=at)
        try:
            if image:
                return self.assets.image(self.file.parent, written)
            path = inside(self.assets.root, self.file.parent, written, "templates")
        except ValueError as exc:
            raise BankError(str(exc), where=at) from None
        if not path.is_dir():
            raise BankError(f"`templates` names a folder of templates, and {written!r} is not one", where=at)
        return path


def uneven_pools(bank: Bank) -> list[str]:
    """Notes on pools whose alternatives are worth different points: then students'
    totals differ (allowed, but rarely meant)."""
    notes = []
    for slot in bank.slots:
        worth = sorted({slot.points_of(i) for i in range(len(slot.choices))})
        if len(worth) > 1:
            notes.append(f"problem {slot.id}: its alternatives are worth {_shown(worth[0])} to {_shown(worth[-1])} "
                         "points, so students' totals differ; give them the same `points` for equal exams")
    return notes


def _check_answer_points(slot: Slot) -> None:
    """A problem's `answer_points` add up to its points."""
    for index, alternative in enumerate(slot.choices):
        if isinstance(alternative, Choice) and alternative.answer_points:
            total = sum(alternative.answer_points.values(), Fraction(0))
            if total != slot.points_of(index):
                shown = ", ".join(f"{name}: {_shown(p)}" for name, p in alternative.answer_points.items())
                raise BankError(f"`answer_points` ({shown}) add up to {_shown(total)}, but the problem is worth "
                                f"{_shown(slot.points_of(index))} points", where=alternative.where,
                                hint="make them add up to the problem's `points`, or change `points`")


def _answer_points(spec: Any, family: Any, options: dict[str, Any], params: dict[str, Any],
                   where: str) -> dict[str, Fraction]:
    """`answer_points: {w_plain: 2, w_decay: 4, shrink_factor: 2}`: a positive number per
    answer of the family, naming every answer the problem asks (their sum is checked
    against the points once they are known, in _check_answer_points)."""
    if spec is None:
        return {}
    if not isinstance(spec, dict) or not spec:
        raise BankError("`answer_points` maps each answer's name to its points, e.g. {w_plain: 2, w_decay: 4}",
                        where=where)
    known, asked = _answers_of(family, options, params)
    unknown = [str(name) for name in spec if name not in known]
    if unknown:
        raise BankError(f"`answer_points` names {', '.join(map(repr, unknown))}, which family {family.id!r} has no "
                        f"answer of", where=where, hint=f"its answers are: {', '.join(known)}")
    missing = [name for name in asked if name not in spec]
    if missing:
        raise BankError(f"`answer_points` gives no points to {', '.join(map(repr, missing))}; name every answer "
                        "the problem asks", where=where, hint=f"its answers are: {', '.join(asked)}")
    points = {}
    for name, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise BankError(f"`answer_points` of {name!r} must be a positive number, got {value!r}", where=where)
        points[str(name)] = Fraction(str(value))
    return points


def _answers_of(family: Any, options: dict[str, Any], params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The answers a family can have (its labels, and those of a sample variant drawn
    with the bank's options and pins) and the ones that sample asks."""
    from .variants import make_problem  # variants imports this module

    try:
        asked = list(make_problem(family.id, 0, options, params).solution.answers)
    except GenError:
        asked = []  # the bank's pins or options fail when drawn, with their own message
    return list(dict.fromkeys([*asked, *family.answer_labels])), asked


def _check_rubric(slot: Slot) -> None:
    """A rubric's points add up to its question's."""
    for index, alternative in enumerate(slot.choices):
        if isinstance(alternative, Question) and alternative.rubric:
            total = sum((c.points for c in alternative.rubric), Fraction(0))
            if total != slot.points_of(index):
                raise BankError(f"question {alternative.id!r}: the rubric's points add up to {_shown(total)}, the "
                                f"question is worth {_shown(slot.points_of(index))}", where=alternative.where)


def _shown(number: Fraction) -> str:
    return str(number.numerator) if number.denominator == 1 else f"{float(number):g}"


def _parse_choice(entry: Any, *, where: str) -> Choice:
    if not isinstance(entry, dict) or "family" not in entry:
        raise BankError("each problem needs a `family` or a `question`", where=where)
    _known_keys(entry, CHOICE_KEYS + SLOT_KEYS[:2], where)
    options = entry.get("options") or {}
    params = entry.get("params") or {}
    for key, value in (("options", options), ("params", params)):
        if not isinstance(value, dict):
            raise BankError(f"`{key}` must be a mapping", where=where)
    try:
        family = get_family(str(entry["family"]))
        family.resolve_options(options)  # fail early, naming the problem
    except GenError as exc:
        exc.where = where
        raise
    every, per_answer = _tolerances(entry.get("tolerance"), where)
    return Choice(family=family.id, options=options, params=params, tolerance=every, tolerances=per_answer,
                  ask=_choice_spec(entry, where), where=where,
                  points=_points(entry["points"], where) if "points" in entry else None,
                  answer_points=_answer_points(entry.get("answer_points"), family, options, params, where))


def _tolerances(spec: Any, where: str) -> tuple[Tolerance | None, dict[str, Tolerance]]:
    """`tolerance:` is one rule for every answer (`exact`, {abs: X}, ...) or a mapping
    from answer names to rules; the names are checked once the answers are known."""
    if spec is None:
        return None, {}
    if isinstance(spec, dict) and spec and not set(spec) <= {"abs", "rel"}:
        return None, {str(name): parse_tolerance(rule, where=f"{where}, tolerance of {name!r}")
                      for name, rule in spec.items()}
    return parse_tolerance(spec, where=where), {}


def _choice_spec(entry: dict[str, Any], where: str) -> ChoiceSpec | None:
    """`format: choice` with optional `choices` (how many options), `answer` and
    `fill: near_miss`; these keys mean nothing without it."""
    form = entry.get("format", "open")
    if form not in ("open", "choice"):
        raise BankError(f"`format` is `open` or `choice`, got {form!r}", where=where)
    if form == "open":
        stray = [key for key in ("choices", "answer", "fill") if key in entry]
        if stray:
            raise BankError(f"{', '.join(f'`{k}`' for k in stray)} need `format: choice`", where=where)
        return None
    count = entry.get("choices", ChoiceSpec.count)
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_CHOICES:
        raise BankError(f"`choices` is the number of options, 2 to {MAX_CHOICES}, got {count!r}", where=where)
    answer = entry.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise BankError(f"`answer` names one answer of the family, got {answer!r}", where=where)
    fill = entry.get("fill")
    if fill not in (None, "near_miss"):
        raise BankError(f"`fill` can only be `near_miss`, got {fill!r}", where=where,
                        hint="near-miss values fill up the options when the family has too few distinct slips")
    return ChoiceSpec(count=count, answer=answer, near_miss=fill == "near_miss")


def _points(value: Any, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BankError(f"points must be a positive number, got {value!r}", where=where)
    points = Fraction(str(value))
    if points <= 0:
        raise BankError(f"points must be positive, got {value!r}", where=where)
    return points
