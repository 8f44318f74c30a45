"""One LaTeX document of many parts -> one PDF per part.

Every gen PDF comes from such a document: an exam and its key for `gen exam`, a chunk
of students' exams then keys for a roster. One pdflatex pass compiles them all; the
log carries the page on which each part starts (part.tex writes GEN-PART-START), and
pikepdf (qpdf) cuts the parts apart. Figures of a statement are typeset once and
reused where the key repeats the statement (see \\genfigure in preamble.tex)."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pikepdf

from .compile import compile_tex
from .errors import GenError
from .render import Tex, render_document

_FIGURE = re.compile(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", re.S)


def reusable_figures(tex: Tex) -> Tex:
    """Wrap each TikZ picture in \\genfigure{hash}{...}: a picture already typeset in
    the same document (the exam's copy of a statement, met again in the key) is reused
    from its box instead of being drawn again, which halves the TikZ work."""

    def wrap(match: re.Match[str]) -> str:
        key = hashlib.sha1(match.group(0).encode()).hexdigest()[:16]
        return f"\\genfigure{{{key}}}{{{match.group(0)}}}"

    return Tex(_FIGURE.sub(wrap, tex))


def compile_parts(parts: list[Tex], *, epoch: int, label: str, course: Path | None = None,
                  files: dict[str, Path] | None = None) -> tuple[bytes, list[range]]:
    """The compiled document and, for each part, the range of its pages; `course` is
    the bank's own template folder, `files` the images its parts use."""
    pdf, log = compile_tex(render_document(parts, course), epoch=epoch, label=label, files=files)
    starts = [int(line.split()[1]) for line in log.splitlines() if line.startswith("GEN-PART-START ")]
    if len(starts) != len(parts):
        raise GenError(f"{label}: expected {len(parts)} parts in the compiled document, found {len(starts)}")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        ends = [*starts[1:], len(document.pages)]
    return pdf, [range(start, end) for start, end in zip(starts, ends, strict=True)]


def extract(source: pikepdf.Pdf, pages: range) -> bytes:
    """The given pages of source as a PDF of their own."""
    with pikepdf.new() as target:
        target.pages.extend(source.pages[pages.start : pages.stop])
        return save(target)


def save(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)  # same pages, same bytes
    return buffer.getvalue()


def split(pdf: bytes, ranges: list[range]) -> list[bytes]:
    with pikepdf.open(io.BytesIO(pdf)) as source:
        return [extract(source, pages) for pages in ranges]
