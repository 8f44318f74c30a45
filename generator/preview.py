"""`gen preview`: one problem and its worked solution as a PNG, to look at a family
while writing it. The key document is typeset on one page cut to its content
(templates/preview.tex), so a single image shows everything; the page is as wide as the
paper's (a4 or letter), so lines break as they do on that paper's exam."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .bank import PAPERS, Bank, Look
from .compile import compile_pdf
from .errors import ToolError
from .files import prepare_dir, write_atomic
from .pipeline import exam_parts, render_part
from .render import render_template
from .variants import Exam, Problem

RESOLUTION_DPI = 110  # sharp enough to read subscripts, small enough to open anywhere


def preview_tex(problem: Problem, paper: str = PAPERS[0]) -> str:
    """The key of a one-problem exam, as a single page of the paper's width as tall as its content."""
    bank = Bank(name="preview", title=problem.family.title, slots=[], look=Look(paper=paper))
    exam = Exam(bank=bank, seed=problem.seed, variant=f"{problem.family.id} seed {problem.seed}", problems=[problem])
    key_part = {**exam_parts(exam)[1], "pad": False}  # one page cut to its content
    return render_template("preview.tex", {"part": render_part(key_part), "paper": paper})


def write_preview(problem: Problem, out_dir: Path, paper: str = PAPERS[0]) -> Path:
    """Compile the preview and write `<family>-<seed>.png` into out_dir."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise ToolError("pdftoppm was not found, so no PNG was made",
                               hint="install it with: sudo apt-get install poppler-utils")
    pdf = compile_pdf(preview_tex(problem, paper), label=f"preview of {problem.family.id}")
    png = _to_png(pdftoppm, pdf)
    path = prepare_dir(out_dir) / f"{problem.family.id}-{problem.seed}.png"
    write_atomic(path, png)
    return path


def _to_png(pdftoppm: str, pdf: bytes) -> bytes:
    with tempfile.TemporaryDirectory(prefix="gen-preview-") as tmp:
        source, target = Path(tmp) / "preview.pdf", Path(tmp) / "preview"
        source.write_bytes(pdf)
        done = subprocess.run([pdftoppm, "-png", "-r", str(RESOLUTION_DPI), "-singlefile", str(source), str(target)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ToolError(f"pdftoppm failed: {done.stderr.strip()}")
        return target.with_suffix(".png").read_bytes()
