"""Jinja2 -> LaTeX. Delimiters that do not clash with TeX (\\VAR{}, \\BLOCK{}), and
escaping in `finalize`, so every value a template prints is escaped unless it is
LaTeX that our own code produced (a `Tex`). No template can forget to escape."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
import sympy as sp

from . import numbers

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
def environment(extra_dirs: tuple[str, ...] = ()) -> jinja2.Environment:
    env = jinja2.Environment(
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


def render_block(template_name: str, block: str, context: dict[str, Any], template_dir: Path = TEMPLATE_DIR) -> Tex:
    """Render one named block (`statement` or `solution`) of a family template, looked up
    first in `template_dir` (a plugin's own templates), then in the project's."""
    extra_dirs = () if template_dir == TEMPLATE_DIR else (str(template_dir),)
    template = environment(extra_dirs).get_template(template_name)
    if block not in template.blocks:
        return Tex("")
    ctx = template.new_context(context)
    return Tex("".join(template.blocks[block](ctx)).strip("\n"))


def render_template(template_name: str, context: dict[str, Any]) -> str:
    return environment().get_template(template_name).render(context)


def render_document(parts: list[Tex]) -> str:
    """One LaTeX document holding the given rendered parts (exams and/or keys), in order."""
    return render_template("document.tex", {"parts": parts})
