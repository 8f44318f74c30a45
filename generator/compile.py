"""pdflatex, sandboxed: no shell escape, reads and writes only below its private
temporary folder (openin_any/openout_any = p), halts on the first error, has a time
limit, and a fixed creation date so the same .tex gives the same PDF bytes."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import LatexError, LatexMissingError

TEX_PACKAGES = (
    "texlive-latex-base texlive-latex-recommended texlive-latex-extra "
    "texlive-pictures texlive-fonts-recommended lmodern poppler-utils"
)
CJK_PACKAGES = "texlive-lang-chinese latex-cjk-chinese latex-cjk-chinese-arphic-gbsn00lp"
DEFAULT_EPOCH = 1767225600  # 2026-01-01T00:00:00Z, when the bank gives no date
TIME_LIMIT_S = 120


def require_pdflatex() -> str:
    path = shutil.which("pdflatex")
    if path is None:
        raise LatexMissingError(
            "pdflatex was not found, so no PDF was made (the .tex files and answers.json were written)",
            hint=f"install TeX Live: sudo apt-get install {TEX_PACKAGES}",
        )
    return path


def require_cjk() -> None:
    """Chinese text needs the CJK package and its Arphic font, which a basic TeX Live lacks."""
    kpsewhich = shutil.which("kpsewhich")
    found = kpsewhich and subprocess.run([kpsewhich, "CJKutf8.sty"], capture_output=True, check=False).returncode == 0
    if not found:
        raise LatexMissingError("the exam holds Chinese text, and LaTeX's CJK support (CJKutf8) is not installed, "
                                "so no PDF was made (the .tex files and answers.json were written)",
                                hint=f"install it: sudo apt-get install {CJK_PACKAGES}")


def epoch_for(date: dt.date | None) -> int:
    if date is None:
        return DEFAULT_EPOCH
    return int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc).timestamp())


def compile_pdf(tex: str, *, epoch: int = DEFAULT_EPOCH, label: str = "document",
                files: dict[str, Path] | None = None) -> bytes:
    """Compile LaTeX source to PDF bytes in one pdflatex pass, or raise LatexError
    carrying the log's error lines."""
    return compile_tex(tex, epoch=epoch, label=label, files=files)[0]


def compile_tex(tex: str, *, epoch: int = DEFAULT_EPOCH, label: str = "document",
                files: dict[str, Path] | None = None) -> tuple[bytes, str]:
    """Like compile_pdf, and also return pdflatex's log (it carries the page map).
    `files` (name -> source file, e.g. a bank's images) are copied into the compile
    folder first: pdflatex reads nothing outside it."""
    pdflatex = require_pdflatex()
    if "\\usepackage{CJKutf8}" in tex:
        require_cjk()
    with tempfile.TemporaryDirectory(prefix="gen-tex-") as tmp:
        workdir = Path(tmp)
        (workdir / "doc.tex").write_text(tex, encoding="utf-8")
        for name, source in (files or {}).items():
            shutil.copyfile(source, workdir / name)
        env = {
            **os.environ,
            "SOURCE_DATE_EPOCH": str(epoch),
            "FORCE_SOURCE_DATE": "1",
            "openin_any": "p",
            "openout_any": "p",
            "shell_escape": "f",
            "TEXMFOUTPUT": str(workdir),
        }
        command = [
            pdflatex, "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode",
            "-file-line-error", "doc.tex",
        ]
        try:
            subprocess.run(
                command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=TIME_LIMIT_S, check=False,
            )
        except subprocess.TimeoutExpired:
            raise LatexError(f"{label}: pdflatex took longer than {TIME_LIMIT_S} s") from None
        pdf = workdir / "doc.pdf"
        log = workdir / "doc.log"
        log_text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        errors = _error_lines(log_text)
        if not pdf.exists() or errors:
            raise LatexError(f"{label}: LaTeX failed:\n{errors or _tail(log_text)}")
        return pdf.read_bytes(), log_text


_ERROR = re.compile(r"^(!|\./doc\.tex:\d+: )")


def _error_lines(log_text: str, context: int = 6) -> str:
    """The lines of the log that explain a failure: each error and what follows it."""
    lines = log_text.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if _ERROR.match(line):
            picked.extend(lines[i : i + context])
    return "\n".join(picked[:40])


def _tail(log_text: str) -> str:
    return "\n".join(log_text.splitlines()[-20:]) or "(pdflatex wrote no log)"
