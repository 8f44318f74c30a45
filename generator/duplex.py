"""Class files a print shop can take as they are.

Every copy already has an even number of pages (part.tex adds a page that says it is
blank), so in exams.pdf and keys.pdf each student starts on a right-hand page when
printed double-sided. With the bank's `pages: uniform`, every copy of a class is also
padded to the length of the longest, so that a stack can be stapled every N sheets;
the run then says what to tell the print shop."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from .compile import compile_pdf
from .files import write_atomic
from .parts import save
from .render import escape


def page_count(pdf: Path) -> int:
    with pikepdf.open(pdf) as document:
        return len(document.pages)


def blank_pages(paper: str, note: str, owners: list[str], epoch: int) -> bytes:
    """One page per owner, of the class's paper size: the owner's id at the top right (a
    page loose from the staple still has an owner) and, in small print, that it is blank."""
    pages = "\\newpage".join(f"\\hfill {escape(owner)}\\par\\vfill\\begin{{center}}\\small\\itshape {escape(note)}"
                             "\\end{center}\\vfill" for owner in owners)
    tex = (f"\\documentclass[11pt]{{article}}\\usepackage[{paper}paper,margin=2.2cm]{{geometry}}\\pagestyle{{empty}}"
           f"\\begin{{document}}{pages}\\end{{document}}")
    return compile_pdf(tex, epoch=epoch, label="blank pages")


def pad(pdf: Path, pages: int, blanks: pikepdf.Pdf, owner: int) -> None:
    """Append copies of the owner's blank page until `pdf` has `pages` pages."""
    with pikepdf.open(pdf) as document:
        missing = pages - len(document.pages)
        if missing <= 0:
            return
        for _ in range(missing):
            document.pages.append(blanks.pages[owner])
        data = save(document)
    write_atomic(pdf, data)


def print_note(copies: int, exam_pages: list[int], *, uniform: bool) -> str:
    """What to tell the print shop about exams.pdf."""
    total = sum(exam_pages)
    if uniform and exam_pages:
        sheets = exam_pages[0] // 2
        return (f"exams.pdf: print double-sided, staple every {sheets} sheet{'s' if sheets != 1 else ''}: "
                f"{copies} copies, {total:,} pages")
    low, high = min(exam_pages, default=0), max(exam_pages, default=0)
    length = f"{low} pages each" if low == high else f"{low} to {high} pages (`pages: uniform` evens them out)"
    return f"exams.pdf: print double-sided, each copy starts on a right-hand page: {copies} copies of {length}"
