"""The exam pipeline's last stages: drawn exam -> LaTeX (exam and key) -> PDFs ->
files. Each stage is a small function with plain data in and out."""

from __future__ import annotations

import json
import re
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import numbers, scripts
from .bank import Bank
from .choice import rounded
from .compile import epoch_for
from .errors import GenError
from .files import prepare_dir, write_atomic
from .i18n import DEFAULT, text, translator
from .markdown import inline_latex, to_latex
from .parts import compile_parts, reusable_figures, split
from .questions import Asked
from .render import Tex, escape, render_block, render_document, render_template, typeset_strings
from .variants import Exam, Item, Problem


def problem_context(problem: Problem) -> dict[str, Any]:
    """What a family template sees: p(arams), a(nswers), w(ork), o(ptions), pts (each
    answer's points as printed) and part_points: `\\part\\VAR{part_points("w_decay")}`
    gives a part the points of the answers it asks for in exam.cls's own way ("(b) (4
    points)") when the bank sets `answer_points`, and nothing otherwise (the heading's
    total is then shared equally)."""
    return {
        "p": problem.params,
        "a": problem.solution.answers,
        "w": problem.solution.work,
        "o": problem.options,
        "pts": {name: _points_text(problem.points_of(name)) for name in problem.solution.answers},
        "part_points": lambda *names: _part_points(problem, names),
    }


def _part_points(problem: Problem, names: tuple[str, ...], placed: set[str] | None = None) -> Tex:
    """`[N]` for exam.cls's \\part when the bank weights answers; the answers a variant
    does not ask (an option turned them off) count nothing."""
    asked = [name for name in names if name in problem.solution.answers]
    if placed is not None:
        placed.update(asked)
    if not problem.answer_points or not asked:
        return Tex("")
    return Tex(f"[{_points_text(sum((problem.points_of(name) for name in asked), Fraction(0)))}]")


def answer_points_line(problem: Problem, language: str = DEFAULT, placed: set[str] = frozenset()) -> Tex:
    """The line under a problem's heading that gives the points of each answer no part
    of the statement shows them for (by the answer's label), when the bank sets
    `answer_points`; otherwise nothing (the points are shared equally, as the heading's
    total says)."""
    unplaced = [name for name in problem.solution.answers if name not in placed]
    if not problem.answer_points or not unplaced:
        return Tex("")
    t = translator(language)
    items = [Tex(f"{escape(problem.family.answer_label(name))} ({_points_text(problem.points_of(name))} "
                 f"{t('point' if problem.points_of(name) == 1 else 'points')})") for name in unplaced]
    return Tex(f"\\noindent{{\\small {t('answer_points', items=Tex('; '.join(items)))}}}\\par\\medskip\n")


def render_problem(problem: Problem, course: Path | None = None, language: str = DEFAULT) -> dict[str, Any]:
    """A family problem for part.tex (its template looked up in the course's template
    folder first, when the bank has one); the statement is the family's own English.
    Points of answers that the template's parts do not show go under the heading.
    Rendering also tells each answer's part (problem.parts, for the grading sheet and
    the cover): part_points first leaves a mark where it stands among the \\part macros."""
    asked: list[tuple[str, ...]] = []  # part_points' calls, in the statement's order

    def mark(*names: str) -> Tex:
        asked.append(names)
        return Tex(f"\x00{len(asked) - 1}\x00")

    family = problem.family
    context = problem_context(problem)
    marked = render_block(family.template, "statement", {**context, "part_points": mark}, family.template_dir, course)
    placed: set[str] = set()
    problem.parts = _part_labels(marked, asked, problem.solution.answers)
    statement = reusable_figures(Tex(PART_MARK.sub(
        lambda m: _part_points(problem, asked[int(m.group(1))], placed) if m.group(1) else m.group(0), marked)))
    statement = Tex(answer_points_line(problem, language, placed) + statement)
    return {
        "kind": "family",
        "title": family.heading(problem.params),
        "points": _points_text(problem.points),
        "statement": statement,
        # the statement before its parts, and the parts (layout: compact keeps the first together)
        **_opening_and_parts(statement),
        "solution": render_block(family.template, "solution", context, family.template_dir, course),
        "choice": render_choice(problem, language),
    }


def _opening_and_parts(statement: Tex) -> dict[str, Tex | None]:
    at = statement.find("\\begin{parts}")
    if at < 0:
        return {"opening": None, "parts": None}
    return {"opening": Tex(statement[:at]), "parts": Tex(statement[at:])}


PART_MARK = re.compile(r"\\(?:sub)?part\b|\x00(\d+)\x00")  # exam.cls's parts, and part_points' marks
ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")


def _part_labels(statement: str, asked: list[tuple[str, ...]], answers: dict[str, Any]) -> dict[str, str]:
    """Each answer's part as the exam prints it, "(b)" or "(a)(ii)", read from where the
    statement's \\part and \\subpart macros stand before each part_points mark."""
    labels: dict[str, str] = {}
    part, subpart = -1, -1
    for match in PART_MARK.finditer(statement):
        if match.group(1) is None:
            if match.group(0) == "\\part":
                part, subpart = part + 1, -1
            else:
                subpart += 1
            continue
        label = f"({chr(ord('a') + part)})" + (f"({ROMAN[subpart]})" if subpart >= 0 else "")
        labels.update((name, label) for name in asked[int(match.group(1))] if name in answers)
    return labels


def render_question(asked: Asked, bank: Bank) -> dict[str, Any]:
    """A question written in the bank for question.tex: its Markdown as LaTeX, the
    options in this student's order, and what the key shows."""
    q = asked.question
    t = translator(bank.language)
    needed = _scaled(q.space, bank.look.space_scale) if q.space else "0cm"
    return {
        "kind": "question",
        "qkind": q.kind,
        "title": q.title,
        "points": _points_text(asked.points),
        "text": Tex(to_latex(q.text)),
        "space": Tex(q.space or "0cm"),
        "needspace": Tex(f"\\dimexpr {needed}+8\\baselineskip\\relax"),
        "truth": q.correct if q.kind == "true_false" else None,
        "multiple": q.multiple,
        "options": [{"letter": letter, "tex": Tex(inline_latex(option)), "correct": right}
                    for letter, option, right in asked.options],
        "correct": ", ".join(asked.answers.get("answer", [])) if q.kind == "choice" else "",
        "result": _result(asked),
        "within": _within(asked, t),
        "accepted": ", ".join(q.correct[1:]) if q.kind == "text" else "",
        "answer": Tex(to_latex(q.answer)) if q.answer else None,
        "answer_title": t("model_answer" if q.kind == "written" else "explanation"),
        "rubric": [{"points": _points_text(c.points), "tex": Tex(inline_latex(c.text) or to_latex(c.text))}
                   for c in q.rubric],
    }


def _result(asked: Asked) -> Tex | str:
    """The answer a numeric or text question's key shows."""
    q = asked.question
    if q.kind == "numeric":
        return Tex(f"${numbers.tex_number(q.correct)}$")
    return q.correct[0] if q.kind == "text" else ""


def _within(asked: Asked, t: Any) -> Tex | None:
    """A numeric answer's tolerance as the key states it; nothing when exact."""
    tolerance = asked.question.tolerance
    if asked.question.kind != "numeric" or tolerance.kind not in ("abs", "rel"):
        return None
    if tolerance.kind == "abs":
        return t("within_abs", value=numbers.decimal(str(tolerance.value), 12))
    return t("within_rel", value=numbers.decimal(str(tolerance.value * 100), 12))


def _scaled(length: str, scale: Fraction) -> str:
    """A length such as 8cm times the bank's space scale."""
    unit = length.lstrip("0123456789.")
    number = Fraction(length[: len(length) - len(unit)]) * scale
    return f"{numbers.decimal(str(number), 3)}{unit}"


def render_choice(problem: Problem, language: str = DEFAULT) -> dict[str, Any] | None:
    """A problem's choice question as LaTeX for part.tex: the answer's label and the
    options, printed with the same rounding that made them distinct; vectors and
    matrices get a line each."""
    choice = problem.choice
    if choice is None:
        return None
    return {
        "label": problem.family.answer_label(choice.answer),
        "correct": choice.correct,
        "env": Tex("choices" if any(isinstance(o.value, list) for o in choice.options) else "oneparchoices"),
        "options": [{"letter": o.letter, "tex": Tex(f"${option_tex(rounded(o.value))}$"), "correct": o.kind == "answer",
                     "why": o.says or (text(language, "near_miss") if o.kind == "near_miss" else "")}
                    for o in choice.options],
    }


def option_tex(value: Any) -> str:
    """Math-mode LaTeX of a rounded option: a matrix, a bracketed list, a number or a label."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return numbers.tex_matrix(value)
    if isinstance(value, list):
        return "[" + r",\ ".join(option_tex(v) for v in value) + "]"
    if isinstance(value, dict):  # values by name: the gradients of a graph's inputs
        return r",\ ".join(rf"\text{{{escape(k)}}}: {option_tex(v)}" for k, v in value.items())
    if isinstance(value, Fraction):
        return numbers.tex_number(value)
    if value is None:
        return r"-\infty"
    return rf"\text{{{escape(value)}}}"


def exam_parts(exam: Exam) -> tuple[dict[str, Any], dict[str, Any]]:
    """The exam's and the key's part of a document (problems rendered once). Text that
    pdflatex cannot show prints as the strings LuaLaTeX typeset (`exam.typeset`)."""
    with typeset_strings(exam.typeset):
        return _exam_parts(exam)


def _exam_parts(exam: Exam) -> tuple[dict[str, Any], dict[str, Any]]:
    bank, look = exam.bank, exam.bank.look
    t = translator(bank.language)
    shown = exam.typeset.get
    common = {
        "title": shown(bank.title, bank.title),
        "course": shown(bank.course, bank.course),
        "date": bank.date.isoformat() if bank.date else "",
        "instructions": bank.instructions,
        "variant": exam.variant,
        "student": {k: shown(v, v) for k, v in exam.student.items()} if exam.student else None,
        "total_points": _points_text(exam.total_points),
        "problems": _rendered_items(exam),
        "language": bank.language,
        "templates": look.templates,
        "header": shown(look.header, look.header),
        "footer": shown(look.footer, look.footer),
        "logo": Tex(look.logo) if look.logo else None,  # a name the generator made (img-<hash>.png)
        "honour_code": Tex(to_latex(look.honour_code)) if look.honour_code else None,
        "fields": _fields(exam, t),
        "space_scale": _points_text(look.space_scale) if look.space_scale != 1 else None,
        "page": Tex("\\thepage{}"),
        "total": Tex("\\gentotal{}"),  # the copy's page count (preamble.tex)
        "paper": look.paper,
        "compact": look.layout == "compact",  # problems follow each other; each part keeps its room to write
        "pad": True,  # to an even page count, so that the next copy starts on a right-hand page
        "cover": _cover(exam) if look.cover else None,
        "typeset": exam.typeset,  # for render_part: the texts its template prints
    }
    return {**common, "key": False}, {**common, "key": True}


def _cover(exam: Exam) -> dict[str, Any]:
    from .gradingsheet import cover  # it uses option_tex from here

    return cover(exam)


def _rendered_items(exam: Exam) -> list[dict[str, Any]]:
    """Every problem and question for part.tex; the first of each section carries the
    section's heading, and on the exam a family problem keeps its pages to itself (unless
    the bank's layout is compact: then problems follow each other on a page)."""
    bank = exam.bank
    items = exam.problems
    rendered = []
    for index, item in enumerate(items):
        data = (render_question(item, bank) if isinstance(item, Asked)
                else render_problem(item, bank.look.templates, bank.language))
        following = items[index + 1] if index + 1 < len(items) else None
        data["section"] = _section(exam, item) if index == 0 or items[index - 1].section != item.section else None
        data["page_after"] = following is not None and bank.look.layout == "page" and (
            isinstance(item, Problem) or isinstance(following, Problem) or following.section != item.section)
        rendered.append(data)
    return rendered


def _section(exam: Exam, item: Item) -> dict[str, Any] | None:
    if item.section is None:
        return None
    bank = exam.bank
    section = bank.sections[item.section - 1]
    points = exam.section_points(item.section)
    shown = translator(bank.language)("section_points", points=_points_text(points))
    return {"heading": section.heading, "intro": Tex(to_latex(section.intro)) if section.intro else None,
            "points": shown if bank.look.section_points else None}


def _fields(exam: Exam, t: Any) -> list[list[dict[str, Any]]]:
    """The fields to fill in, two to a row: a student's name and id (and, from the
    roster, the other fields it has) printed, the rest left as lines to write on."""
    known = {**exam.filled, **({"name": exam.student["name"], "student_id": exam.student["id"]}
                               if exam.student else {})}
    fields = list(exam.bank.look.fields)
    rows = [fields[i : i + 2] for i in range(0, len(fields), 2)]
    return [[{"label": t(name), "fill": _fill(known.get(name), exam.typeset, last=column == len(row) - 1)}
             for column, name in enumerate(row)] for row in rows]


def _fill(value: str | None, typeset: dict[str, Tex], *, last: bool) -> Tex:
    if value:
        return Tex(f"\\textbf{{{typeset.get(value) or escape(value)}}}")
    return Tex("\\enspace\\hrulefill" if last else "\\enspace\\hrulefill\\quad")


def render_part(part: dict[str, Any]) -> Tex:
    """One student's exam or key as LaTeX, ready to go into any document."""
    context = {"part": part, "t": translator(part["language"])}
    with typeset_strings(part.get("typeset", {})):
        return Tex(render_template("part.tex", context, part["templates"]))


def render_exam(exam: Exam, *, key: bool) -> str:
    return render_document([render_part(exam_parts(exam)[key])], exam.bank.look.templates)


def _points_text(points: Fraction) -> Tex:
    """Points as printed: whole, or to at most two decimals (an equal share of 10 among
    3 answers prints 3.33; grading keeps the exact share)."""
    return Tex(str(points.numerator) if points.denominator == 1 else f"{float(points):.2f}".rstrip("0"))


def answers_json(exam: Exam) -> str:
    return json.dumps(exam.contract(), indent=2, ensure_ascii=False) + "\n"


def write_exam(exam: Exam, out_dir: Path, *, make_pdf: bool = True) -> list[Path]:
    """Write exam.tex, key.tex, answers.json, then exam.pdf and key.pdf.

    The sources are written first so they exist even when LaTeX is missing or fails;
    a PDF is replaced only by a complete new one, and a failed build removes the old
    PDFs so no stale key is left next to new sources."""
    prepare_dir(out_dir)
    course = exam.bank.look.templates
    with tempfile.TemporaryDirectory(prefix="gen-strings-") as tmp:
        strings = scripts.needing([*scripts.bank_texts(exam.bank), *(exam.student or {}).values()],
                                  cjk=exam.bank.language == "zh")
        files = dict(exam.bank.images)
        if strings and make_pdf:
            scripts.typeset(strings, Path(tmp))
            exam.typeset, files = scripts.placeholders(strings), {**files, **scripts.files_in(Path(tmp))}
        return _write_exam(exam, out_dir, course, files, make_pdf=make_pdf)


def _write_exam(exam: Exam, out_dir: Path, course: Path | None, files: dict[str, Path], *,
                make_pdf: bool) -> list[Path]:
    exam_tex, key_tex = (render_part(part) for part in exam_parts(exam))
    sources = {"exam": render_document([exam_tex], course), "key": render_document([key_tex], course)}
    written = []
    for name, tex in sources.items():
        write_atomic(out_dir / f"{name}.tex", tex)
        written.append(out_dir / f"{name}.tex")
    write_atomic(out_dir / "answers.json", answers_json(exam))
    written.append(out_dir / "answers.json")
    if not make_pdf:
        return written
    try:
        # One document holding exam then key: one pdflatex run, figures drawn once.
        document, ranges = compile_parts([exam_tex, key_tex], epoch=epoch_for(exam.bank.date), label="exam and key",
                                         course=course, files=files)
    except GenError:
        for name in sources:
            (out_dir / f"{name}.pdf").unlink(missing_ok=True)
        raise
    for name, pdf in zip(sources, split(document, ranges), strict=True):
        write_atomic(out_dir / f"{name}.pdf", pdf)
        written.append(out_dir / f"{name}.pdf")
    return written
