"""Short text in any script (roster names, titles) for documents that pdflatex typesets.

pdflatex's fonts show Latin, and nothing of Cyrillic, Greek, Chinese, Arabic, ... A
whole class compiled with LuaLaTeX would show everything, but at several times the
cost. So the common case stays pdflatex, and only the strings pdflatex cannot show are
typeset once per build by LuaLaTeX with HarfBuzz shaping and Noto fonts (Debian's
fonts-noto-core and fonts-noto-cjk), one string a page cut to its box, into a PDF that
the pdflatex document includes page by page (`\\includegraphics[page=N]`). The text
stays text: pdftotext reads it back, and it is shaped as a native reader expects.

Each string is split into runs of one script (`script_runs`), each run set in the font
and OpenType script that shape it, and right-to-left runs (Arabic, Hebrew) in LuaTeX's
right-to-left direction. User text is escaped before it reaches LaTeX, as everywhere.

Each string is typeset in both weights, regular and bold, in the same run (fontspec
loads a family's bold face when it declares it, so the second page costs only its
shaping), and \\genstring picks the page of the weight around it: a title in
`\\bfseries` prints in bold. A script whose bold face is not installed gets its regular
face on the bold page (fontspec's substitution, a warning, not an error)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compile import TIME_LIMIT_S
from .errors import LatexError, ToolError
from .glyphs import unprintable
from .render import Tex, escape, foreign_runs, needs_cjk

FILE_NAME = "gen-strings.pdf"  # the strings' pages, copied into each compile folder


@dataclass(frozen=True)
class Face:
    """A font for a run of one script: its fontspec name, the OpenType script that
    HarfBuzz shapes it with, and whether the run reads right to left."""

    font: str
    script: str
    rtl: bool = False


LATIN = Face("Noto Sans", "Latin")
FACES = {
    "ARABIC": Face("Noto Sans Arabic", "Arabic", rtl=True),
    "HEBREW": Face("Noto Sans Hebrew", "Hebrew", rtl=True),
    "DEVANAGARI": Face("Noto Sans Devanagari", "Devanagari"),
    "THAI": Face("Noto Sans Thai", "Thai"),
    "CYRILLIC": Face("Noto Sans", "Cyrillic"),
    "GREEK": Face("Noto Sans", "Greek"),
    "HANGUL": Face("Noto Sans CJK KR", "Hangul"),
}
CJK_SC, CJK_JP = Face("Noto Sans CJK SC", "CJK"), Face("Noto Sans CJK JP", "CJK")
KANA = ("HIRAGANA", "KATAKANA")


def needing(texts: Iterable[str | None], *, cjk: bool = False) -> list[str]:
    """The texts (once each, in order) that hold characters pdflatex's fonts lack. With
    `cjk`, the document loads CJK support (a Chinese exam), which shows CJK characters."""
    def lacking(text: str) -> list[str]:
        return [c for c in unprintable(text) if not (cjk and needs_cjk(c))]

    return [text for text in dict.fromkeys(t for t in texts if t) if lacking(text)]


def bank_texts(bank: Any) -> list[str | None]:
    """The bank's texts LuaLaTeX may have to typeset: its one-line texts a page prints
    whole (title, course, header, footer, questions' titles), then, from its paragraphs,
    each run of words that `render.foreign_runs` cuts out (a word of a left-to-right
    script, a whole right-to-left run), which `render.escape` replaces by its string."""
    from .bank import paragraphs  # bank.py asks `available` of this module
    from .markdown import Markdown, texts
    from .questions import Question

    lines = [bank.title, bank.course, bank.look.header, bank.look.footer]
    lines += [q.title for slot in bank.slots for q in slot.choices if isinstance(q, Question) and q.title]
    runs = [part for _, text in paragraphs(bank) if text
            for piece in (texts(text) if isinstance(text, Markdown) else [text])
            for part, foreign in foreign_runs(piece) if foreign]
    return [*lines, *runs]


def _face_of(char: str, cjk: Face) -> Face | None:
    """The face of a character's script; None for spaces, digits and punctuation,
    which join the run they stand in."""
    name = unicodedata.name(char, "")
    first = name.split(" ")[0]
    if first in FACES:
        return FACES[first]
    if first in KANA or name.startswith(("CJK ", "IDEOGRAPHIC", "HALFWIDTH", "FULLWIDTH")):
        return cjk
    if unicodedata.category(char)[0] == "L" or unicodedata.category(char) == "Mn":
        return LATIN
    return None


def script_runs(text: str) -> list[tuple[Face, str]]:
    """text as runs of one script each, in logical order. Han characters take the
    Japanese face in a string with kana, the Chinese one otherwise."""
    cjk = CJK_JP if any(unicodedata.name(c, "").startswith(KANA) for c in text) else CJK_SC
    runs: list[tuple[Face, str]] = []
    for char in text:
        face = _face_of(char, cjk)
        if runs and (face is None or face == runs[-1][0]):
            runs[-1] = (runs[-1][0], runs[-1][1] + char)
        else:
            runs.append((face or LATIN, char))
    return _trailing_neutrals_out_of_rtl(runs)


def _trailing_neutrals_out_of_rtl(runs: list[tuple[Face, str]]) -> list[tuple[Face, str]]:
    """A space between a right-to-left run and the next run belongs between them, not
    at the right-to-left run's (visual) left end."""
    fixed: list[tuple[Face, str]] = []
    for face, text in runs:
        if face.rtl and text != text.rstrip() and len(fixed) + 1 < len(runs):
            fixed += [(face, text.rstrip()), (LATIN, text[len(text.rstrip()):])]
        else:
            fixed.append((face, text))
    return fixed


def _command(face: Face) -> str:
    """The LaTeX font-switch name of a face: letters only."""
    return "genface" + "".join(c for c in face.font + face.script if c.isalpha())


MACROS_FILE = "gen-strings.tex"  # \\genstring@N (regular) and \\genstring@N@b (bold): pages of FILE_NAME
# the pages of each string, in order: the macro's suffix and the weight's switch
WEIGHTS = (("", ""), ("@b", "\\bfseries"))


def placeholders(strings: list[str]) -> dict[str, Tex]:
    """LaTeX for each string, known before LuaLaTeX has run: the macro that includes the
    string's page. So exams are rendered while LuaLaTeX works; only compiling waits."""
    return {text: Tex(f"\\genstring{{{page}}}") for page, text in enumerate(dict.fromkeys(strings), 1)}


_MISSING = re.compile(r"Missing character: There is no (.+?) \(U\+[0-9A-F]+\)")


def typeset(strings: list[str], folder: Path, *, size_pt: int = 11) -> dict[str, str]:
    """Typeset each distinct string once (in the order of `placeholders`) in each weight
    into folder/FILE_NAME, one page as large as its box, and write folder/MACROS_FILE,
    which defines \\genstring@N and \\genstring@N@b to include string N's regular and bold
    page lowered by its depth, so it sits on the line like text (preamble.tex's
    \\genstring{N} picks one by the current series). Returns the strings with characters no
    font has (emoji, unassigned code points), which print as gaps, with those characters."""
    distinct = list(dict.fromkeys(strings))
    pdf, log = _run_lualatex(strings_document(distinct, size_pt))
    depths: list[str] = []
    missing: dict[str, str] = {}
    lost = ""
    for line in log.splitlines():  # a page's warnings come between its BEGIN and END lines
        if line.startswith("GEN-STRING-BEGIN"):
            lost = ""
        elif (found := _MISSING.search(line)) is not None:
            lost += found.group(1)
        elif line.startswith("GEN-STRING-END "):
            if lost:
                text = distinct[len(depths) // len(WEIGHTS)]
                missing[text] = "".join(dict.fromkeys(missing.get(text, "") + lost))
            depths.append(line.split()[1])
    if len(depths) != len(distinct) * len(WEIGHTS):
        raise LatexError(f"LuaLaTeX typeset {len(depths) // len(WEIGHTS)} of {len(distinct)} names and titles")
    (folder / FILE_NAME).write_bytes(pdf)
    macros = "".join(f"\\expandafter\\def\\csname genstring@{page // len(WEIGHTS) + 1}{WEIGHTS[page % len(WEIGHTS)][0]}"
                     f"\\endcsname{{\\raisebox{{-{depth}}}{{\\includegraphics[page={page + 1}]{{{FILE_NAME}}}}}}}\n"
                     for page, depth in enumerate(depths))
    (folder / MACROS_FILE).write_text(macros, encoding="utf-8")
    return missing


def files_in(folder: Path) -> dict[str, Path]:
    """The files a compiled document needs from `typeset`, for compile_tex's `files`."""
    return {name: folder / name for name in (FILE_NAME, MACROS_FILE)}


def strings_document(strings: list[str], size_pt: int) -> str:
    """The LuaLaTeX source: a font family per face used, then one page per string and
    weight (regular, bold)."""
    faces = list(dict.fromkeys(face for text in strings for face, _ in script_runs(text)))
    # ItalicFont={}: no italic shapes, so fontspec does not load the italic and bold italic
    # faces it would otherwise try (which pays for loading the bold ones)
    fonts = "\n".join(f"\\newfontfamily\\{_command(f)}{{{f.font}}}[ItalicFont={{}}, Renderer=HarfBuzz, "
                      f"Script={f.script}]" for f in faces)
    pages = "\n".join(f"\\genstring{{{weight}{_runs_tex(text)}}}" for text in strings for _, weight in WEIGHTS)
    return rf"""\documentclass[{size_pt}pt]{{article}}
\usepackage{{fontspec}}
{fonts}
\pdfvariable horigin 0pt
\pdfvariable vorigin 0pt
\tracinglostchars=1
\newdimen\gendepth
\newcommand\genstring[1]{{%
  \typeout{{GEN-STRING-BEGIN}}%
  \setbox0\hbox{{#1}}%
  \gendepth=\dp0
  \pagewidth=\wd0 \pageheight=\dimexpr\ht0+\dp0\relax
  \shipout\box0
  \typeout{{GEN-STRING-END \the\gendepth}}}}
\begin{{document}}
{pages}
\end{{document}}
"""


# a number inside a right-to-left run still reads left to right: 2024, 3.5, ٢٠٢٤
_NUMBER = re.compile(r"([0-9\u0660-\u0669\u06f0-\u06f9]+(?:[.,:/][0-9\u0660-\u0669\u06f0-\u06f9]+)*)")


def _runs_tex(text: str) -> str:
    parts = []
    for face, run in script_runs(text):
        if face.rtl:
            body = "".join(f"{{\\textdir TLT {escape(piece)}}}" if index % 2 else escape(piece)
                           for index, piece in enumerate(_NUMBER.split(run)))
            parts.append(f"{{\\textdir TRT \\{_command(face)}{{}}{body}}}")
        else:
            parts.append(f"{{\\{_command(face)}{{}}{escape(run)}}}")
    return "".join(parts)


INSTALL_HINT = "run ./install.sh, or: sudo apt-get install texlive-luatex fonts-noto-core fonts-noto-cjk"


def available() -> bool:
    return shutil.which("lualatex") is not None


def _run_lualatex(tex: str) -> tuple[bytes, str]:
    lualatex = shutil.which("lualatex")
    if lualatex is None:
        raise ToolError("lualatex was not found, and a name or title needs it (pdflatex cannot show its script)",
                        hint=INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="gen-strings-") as tmp:
        workdir = Path(tmp)
        (workdir / "strings.tex").write_text(tex, encoding="utf-8")
        env = {**os.environ, "openin_any": "p", "openout_any": "p", "shell_escape": "f",
               "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        try:
            subprocess.run([lualatex, "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode",
                            "strings.tex"], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIME_LIMIT_S * 4,
                           check=False)
        except subprocess.TimeoutExpired:
            raise LatexError("LuaLaTeX took too long typesetting names") from None
        log = (workdir / "strings.log").read_text(encoding="utf-8", errors="replace") \
            if (workdir / "strings.log").exists() else ""
        pdf = workdir / "strings.pdf"
        if not pdf.exists() or "\n! " in log:
            lines = [line for line in log.splitlines() if line.startswith("!")]
            raise LatexError("LuaLaTeX could not typeset the names: " + ("; ".join(lines[:3]) or "no PDF"))
        return pdf.read_bytes(), log
