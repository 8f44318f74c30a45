"""Jinja2 -> LaTeX. Delimiters that do not clash with TeX (\\VAR{}, \\BLOCK{}), and
escaping in `finalize`, so every value a template prints is escaped unless it is
LaTeX that our own code produced (a `Tex`). No template can forget to escape."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import sympy as sp

from . import numbers
from .errors import GenError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


class Tex(str):
    """LaTeX produced by the generator itself: printed as is."""


# Each character that TeX would interpret, as a command that prints it. Quotes and
# hyphens are included so that ligatures (O'Brien -> O’Brien, -- -> en dash) and
# T1's curly quotes do not change what the user wrote.
_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
    "#": r"\#", "%": r"\%", "_": r"\_", "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}", "'": r"\textquotesingle{}", "`": r"\textasciigrave{}",
    '"': r"\textquotedbl{}", "-": "-{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}", "\n": " ", "\r": " ", "\t": " ",
}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)


def escape(text: Any) -> Tex:
    """User text -> LaTeX that prints it literally (braces, backslashes, ^^, %...)."""
    return Tex(str(text).translate(_ESCAPE_TABLE))


def _finalize(value: Any) -> Any:
    if isinstance(value, Tex):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | sp.Rational):
        return numbers.tex_number(value)
    if value is None:
        return ""
    return escape(value)


def _tex_filter(func):
    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Tex:
        return Tex(func(*args, **kwargs))

    return wrapped


def _parenthesized(value: Any) -> str:
    text = numbers.tex_number(value)
    return f"({text})" if numbers.exact(value) < 0 else text


def _shape(shape: list[int]) -> str:
    return r"\times ".join(str(n) for n in shape)


def _hw(shape: list[int]) -> str:
    """[C, H, W] -> 'C maps of H x W'."""
    return rf"{shape[0]}\ \text{{maps of}}\ {shape[1]}\times {shape[2]}"


FILTERS = {
    "n": numbers.tex_number,  # exact: 147\,840, 0.785, \frac{1}{3}
    "paren": _parenthesized,  # as n, in parentheses when negative: 0.2 \cdot (-0.36)
    "frac": numbers.tex_fraction,  # always a fraction
    "dec": numbers.decimal,  # decimal text, exact when it terminates
    "sig": numbers.significant_text,  # sig(4): 1.050, four significant digits, zeros kept
    "grp": lambda v: numbers.grouped(v, sep="{,}"),  # 147{,}840 in math mode
    "mat": numbers.tex_matrix,
    "shape": _shape,
    "hw": _hw,
    "tex": lambda s: s,  # mark generator-made LaTeX (never user text) as safe
}


@functools.cache
def environment(extra_dirs: tuple[str, ...] = (), *, sandboxed: bool = False) -> jinja2.Environment:
    """The template environment; `extra_dirs` are searched before templates/. A course's
    own template folder is data from a bank, so its templates run sandboxed (no access
    to Python internals); a plugin family's templates come with its code."""
    kind = jinja2.sandbox.SandboxedEnvironment if sandboxed else jinja2.Environment
    env = kind(
        loader=jinja2.FileSystemLoader([*extra_dirs, str(TEMPLATE_DIR)]),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_comment_prefix="%#",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # escaping is done by _finalize, for LaTeX rather than HTML
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run; checking costs a stat each
    )
    env.filters.update({name: _tex_filter(f) for name, f in FILTERS.items()})
    return env


def render_block(template_name: str, block: str, context: dict[str, Any], template_dir: Path = TEMPLATE_DIR,
                 course: Path | None = None) -> Tex:
    """Render one named block (`statement` or `solution`) of a family template, looked up
    first in a course's template folder (when the bank has one), then in `template_dir`
    (a plugin's own templates), then in the project's."""
    extra_dirs = () if template_dir == TEMPLATE_DIR else (str(template_dir),)
    with _course_errors(course, template_name):
        template = _environment(course, extra_dirs).get_template(template_name)
        if block not in template.blocks:
            return Tex("")
        ctx = template.new_context(context)
        return Tex("".join(template.blocks[block](ctx)).strip("\n"))


def _environment(course: Path | None, extra_dirs: tuple[str, ...] = ()) -> jinja2.Environment:
    if course is None:
        return environment(extra_dirs)
    return environment((str(course), *extra_dirs), sandboxed=True)


def render_template(template_name: str, context: dict[str, Any], course: Path | None = None) -> str:
    """A template of templates/ (or of the course's own folder, which overrides it)."""
    with _course_errors(course, template_name):
        return _environment(course).get_template(template_name).render(context)


@contextlib.contextmanager
def _course_errors(course: Path | None, template_name: str) -> Iterator[None]:
    """A fault in a course's own templates is the user's to fix: a GenError naming the
    template and line (exit status 2), never a traceback."""
    if course is None:
        yield
        return
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        raise GenError(f"template error: {exc.message}", where=f"{exc.filename or template_name}:{exc.lineno}",
                       hint=f"the course's templates are in {course}") from None
    except jinja2.TemplateError as exc:
        raise GenError(f"template error while rendering {template_name}: {exc}",
                       hint=f"the course's templates are in {course}") from None


# Ideographs, kana, hangul and their punctuation and full-width forms: text in these
# scripts needs the CJK package.
_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


_QUESTION_MACROS = re.compile(r"\\gen(question|image|logo)\b")


def needs_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


_PAPER = re.compile(r"^% gen-paper: (a4|letter)$", re.MULTILINE)  # written by part.tex


def render_document(parts: list[Tex], course: Path | None = None) -> str:
    """One LaTeX document holding the given rendered parts (exams and/or keys), in order.
    What only some documents use is loaded only there (`doc` in preamble.tex): CJK
    support when a part holds Chinese, Japanese or Korean text, and the macros of
    questions written in the bank and their images; other documents stay as they were."""
    text = "".join(parts)
    doc = {"cjk": needs_cjk(text), "questions": bool(_QUESTION_MACROS.search(text)),
           "strings": "\\genstring{" in text,
           "paper": paper.group(1) if (paper := _PAPER.search(text)) else "a4"}
    return render_template("document.tex", {"parts": parts, "doc": doc}, course)
