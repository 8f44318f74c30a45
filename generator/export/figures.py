"""Problem statements and worked solutions as PNG images for LMS questions, typeset by
pdflatex from the same templates as the printed exam (figures, tables and the
families' own macros included), each cut to its content, then rasterised by pdftoppm.
A piece is as wide as the text of the bank's paper, so it looks as that paper's exam prints it.
All pieces go into one document, so an export costs one pdflatex run."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..bank import PAPERS
from ..compile import compile_pdf
from ..errors import GenError, ToolError
from ..render import Tex, render_template

RESOLUTION_DPI = 110  # sharp enough to read subscripts, small enough to embed by the hundred


def render_pngs(pieces: list[Tex], paper: str = PAPERS[0]) -> list[bytes]:
    """One PNG per piece of LaTeX (a statement or a solution), in order, each as wide as
    the text of `paper` (a4 or letter)."""
    if not pieces:
        return []
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise ToolError("pdftoppm was not found, so the questions' images cannot be made",
                        hint="install it with: sudo apt-get install poppler-utils")
    pdf = compile_pdf(render_template("export.tex", {"pieces": pieces, "paper": paper}), label="export images")
    pngs = _rasterise(pdftoppm, pdf)
    if len(pngs) != len(pieces):
        raise GenError(f"expected {len(pieces)} images, pdflatex made {len(pngs)} pages")
    return pngs


def _rasterise(pdftoppm: str, pdf: bytes) -> list[bytes]:
    with tempfile.TemporaryDirectory(prefix="gen-export-") as tmp:
        source = Path(tmp) / "pieces.pdf"
        source.write_bytes(pdf)
        done = subprocess.run([pdftoppm, "-png", "-r", str(RESOLUTION_DPI), str(source), str(Path(tmp) / "page")],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ToolError(f"pdftoppm failed: {done.stderr.strip()}")
        # pdftoppm pads page numbers to the width of the largest, so names sort in page order
        return [page.read_bytes() for page in sorted(Path(tmp).glob("page-*.png"))]
