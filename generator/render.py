"""Jinja2 -> LaTeX. Delimiters that do not clash with TeX (\\VAR{}, \\BLOCK{}), and
escaping in `finalize`, so every value a template prints is escaped unless it is
LaTeX that our own code produced (a `Tex`). No template can forget to escape."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import sympy as sp

from . import numbers
from .errors import GenError
from .glyphs import printable

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


# The LaTeX of texts pdflatex's fonts cannot show (generator/scripts.py: names, one-line
# texts, and the runs of words of paragraphs that `foreign_runs` cuts out), while an
# exam or sheet that prints them is rendered (`typeset_strings`); empty otherwise.
_TYPESET: contextvars.ContextVar[dict[str, Tex]] = contextvars.ContextVar("gen_typeset", default={})  # noqa: B039


@contextlib.contextmanager
def typeset_strings(typeset: dict[str, Tex]) -> Iterator[None]:
    """While rendering, `escape` prints each text of `typeset` (or run of words of it, see
    `foreign_runs`) as its LaTeX, the page LuaLaTeX typeset it on."""
    token = _TYPESET.set(typeset)
    try:
        yield
    finally:
        _TYPESET.reset(token)


def escape(text: Any) -> Tex:
    """User text -> LaTeX that prints it literally (braces, backslashes, ^^, %...). Under
    `typeset_strings`, a text or a run of words in a script pdflatex cannot show prints
    as the string LuaLaTeX typeset."""
    text = str(text)
    typeset = _TYPESET.get()
    if typeset and not text.isascii():
        if text in typeset:
            return typeset[text]
        return Tex("".join(typeset.get(part, "") or part.translate(_ESCAPE_TABLE) if foreign
                           else part.translate(_ESCAPE_TABLE) for part, foreign in foreign_runs(text)))
    return Tex(text.translate(_ESCAPE_TABLE))


def lacking(text: str) -> list[str]:
    """The characters of text that pdflatex cannot set, in order of appearance: those its
    fonts lack, CJK aside (CJKutf8 sets it) and whitespace aside (a line break is no glyph).
    Such text is typeset by LuaLaTeX (generator/scripts.py)."""
    table = printable()
    return list(dict.fromkeys(c for c in text if c not in table and not c.isspace() and not needs_cjk(c)))


def _rtl(word: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in word)


def _neutral(word: str) -> bool:
    """No letters: digits, punctuation, symbols, which a right-to-left run takes in."""
    return not any(unicodedata.category(c)[0] == "L" for c in word)


def foreign_runs(text: str) -> list[tuple[str, bool]]:
    """text cut into parts, in order, each with whether pdflatex cannot show it (so it is
    typeset by LuaLaTeX, generator/scripts.py). Such a part is one word of a
    left-to-right script (so lines still break between words; Thai, written without
    spaces, stays one part up to a space), or a whole right-to-left run: Arabic or
    Hebrew words with the spaces, digits and punctuation between them, joined by single
    spaces, so that it reads in its own order. Spaces and Latin words are parts as they are."""
    pieces = re.split(r"(\s+)", text)  # words at even indices, the spaces between at odd ones
    parts: list[tuple[str, bool]] = []
    i = 0
    while i < len(pieces):
        word = pieces[i]
        if i % 2 or not lacking(word):
            if word:
                parts.append((word, False))
            i += 1
            continue
        last = i
        if _rtl(word):
            for j in range(i + 2, len(pieces), 2):
                if _rtl(pieces[j]):
                    last = j
                elif not _neutral(pieces[j]) or not pieces[j]:
                    break
        run = " ".join(pieces[i:last + 1:2])
        if _rtl(word):  # punctuation pdflatex shows at a right-to-left run's ends stays outside,
            # where a reader's left-to-right paragraph puts it: (مرحبا). not .(مرحبا)
            core = run.strip(_OUTSIDE)
            start = run.index(core) if core else 0
            parts += [(run[:start], False), (core, True), (run[start + len(core):], False)]
        else:
            parts.append((run, True))
        i = last + 1
    return [(part, foreign) for part, foreign in parts if part]


_OUTSIDE = ".,;:!?()[]\"'"


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
