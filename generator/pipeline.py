"""The exam pipeline's last stages: drawn exam -> LaTeX (exam and key) -> PDFs ->
files. Each stage is a small function with plain data in and out."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import numbers
from .choice import rounded
from .compile import epoch_for
from .errors import GenError
from .files import prepare_dir, write_atomic
from .parts import compile_parts, reusable_figures, split
from .render import Tex, escape, render_block, render_document, render_template
from .variants import Exam, Problem


def problem_context(problem: Problem) -> dict[str, Any]:
    """What a family template sees: p(arams), a(nswers), w(ork), o(ptions)."""
    return {
        "p": problem.params,
        "a": problem.solution.answers,
        "w": problem.solution.work,
        "o": problem.options,
    }


def render_problem(problem: Problem) -> dict[str, Any]:
    context = problem_context(problem)
    return {
        "title": problem.family.title,
        "points": _points_text(problem.points),
        "statement": reusable_figures(
            render_block(problem.family.template, "statement", context, problem.family.template_dir)
        ),
        "solution": render_block(problem.family.template, "solution", context, problem.family.template_dir),
        "choice": render_choice(problem),
    }


def render_choice(problem: Problem) -> dict[str, Any] | None:
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
                     "why": o.says or ("a near miss" if o.kind == "near_miss" else "")} for o in choice.options],
    }


def option_tex(value: Any) -> str:
    """Math-mode LaTeX of a rounded option: a matrix, a bracketed list, a number or a label."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return numbers.tex_matrix(value)
    if isinstance(value, list):
        return "[" + r",\ ".join(option_tex(v) for v in value) + "]"
    if isinstance(value, Fraction):
        return numbers.tex_number(value)
    return rf"\text{{{escape(value)}}}"


def exam_parts(exam: Exam) -> tuple[dict[str, Any], dict[str, Any]]:
    """The exam's and the key's part of a document (problems rendered once)."""
    bank = exam.bank
    common = {
        "title": bank.title,
        "course": bank.course,
        "date": bank.date.isoformat() if bank.date else "",
        "instructions": bank.instructions,
        "variant": exam.variant,
        "student": exam.student,
        "total_points": _points_text(exam.total_points),
        "problems": [render_problem(p) for p in exam.problems],
    }
    return {**common, "key": False}, {**common, "key": True}


def render_part(part: dict[str, Any]) -> Tex:
    """One student's exam or key as LaTeX, ready to go into any document."""
    return Tex(render_template("part.tex", {"part": part}))


def render_exam(exam: Exam, *, key: bool) -> str:
    return render_document([render_part(exam_parts(exam)[key])])


def _points_text(points: Fraction) -> Tex:
    return Tex(str(points.numerator) if points.denominator == 1 else f"{float(points):g}")


def answers_json(exam: Exam) -> str:
    return json.dumps(exam.contract(), indent=2, ensure_ascii=False) + "\n"


def write_exam(exam: Exam, out_dir: Path, *, make_pdf: bool = True) -> list[Path]:
    """Write exam.tex, key.tex, answers.json, then exam.pdf and key.pdf.

    The sources are written first so they exist even when LaTeX is missing or fails;
    a PDF is replaced only by a complete new one, and a failed build removes the old
    PDFs so no stale key is left next to new sources."""
    prepare_dir(out_dir)
    exam_tex, key_tex = (render_part(part) for part in exam_parts(exam))
    sources = {"exam": render_document([exam_tex]), "key": render_document([key_tex])}
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
        document, ranges = compile_parts([exam_tex, key_tex], epoch=epoch_for(exam.bank.date), label="exam and key")
    except GenError:
        for name in sources:
            (out_dir / f"{name}.pdf").unlink(missing_ok=True)
        raise
    for name, pdf in zip(sources, split(document, ranges), strict=True):
        write_atomic(out_dir / f"{name}.pdf", pdf)
        written.append(out_dir / f"{name}.pdf")
    return written
