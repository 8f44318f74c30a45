"""No part of a problem split across a page break in the midterm and final banks' exams:
read back from the PDF (pdftotext's word boxes), a part that begins on one page never
continues on the next. A part's label "(b)" hangs left of the parts' text column, and
every line of the part's text (displays and figures too) begins at that column or right
of it, whereas a problem's heading and statement and a section's heading begin left of
it: a page whose first line begins at the column, below a part's label on the page
before, holds the rest of that part. Nor does anything run past the text area's foot."""

from __future__ import annotations

import html
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from generator.bank import load_bank
from generator.i18n import text
from generator.pipeline import write_exam
from generator.variants import draw_exam

BLANK = text("en", "blank_page")  # what the page that makes a copy's length even says
LABEL = re.compile(r"^\([a-z]{1,2}\)$")  # a part's label, (a) ... (z)
LINE = re.compile(r"<line[^>]*>(.*?)</line>", re.S)
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def page_lines(pdf: Path) -> list[list[list[tuple[float, float, str, float]]]]:
    """Per page, its body lines from top to bottom (the running header and footer left
    out), each line a list of its words as (x min, x max, text, y min)."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = []
    for page in xml.split("<page ")[1:]:
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        lines = []
        for line in LINE.findall(page):
            words = [(float(x0), float(y0), float(x1), html.unescape(text))
                     for x0, y0, x1, _, text in WORD.findall(line)]
            # the header and footer sit in the top and bottom margins (2.2 cm = 62 pt)
            if words and 62 < words[0][1] < height - 62:
                lines.append([(x0, x1, text, y0) for x0, y0, x1, text in words])
        pages.append(sorted(lines, key=lambda line: line[0][3]))  # top to bottom
    return pages


def split_parts(pdf: Path) -> list[str]:
    """The parts whose text runs from one page onto the next, as 'page N, (x) ...'."""
    pages = page_lines(pdf)
    # the parts' text column: where the word after a label begins (the most common place)
    column = Counter(round(line[1][0]) for lines in pages for line in lines
                     if len(line) > 1 and LABEL.match(line[0][2])).most_common(1)[0][0]
    found, open_part = [], None  # open_part: the part whose text the last line was part of
    for number, lines in enumerate(pages, 1):
        if [" ".join(w[2] for w in line) for line in lines] == [BLANK]:  # the page that makes a copy even
            open_part = None
            continue
        for index, line in enumerate(lines):
            first = line[0]
            label = LABEL.match(first[2]) and first[1] < column - 1
            inside = not label and first[0] >= column - 1  # a part's own text, display or figure
            if index == 0 and open_part and inside:
                found.append(f"page {number - 1}: {open_part} ... continues on page {number}: "
                             + " ".join(w[2] for w in line))
            if label:
                open_part = " ".join(w[2] for w in line)[:60]
            elif not inside:  # a problem's heading or statement, a section's heading
                open_part = None
    return found


def below_the_text(pdf: Path) -> list[str]:
    """Words printed below the text area, between its foot (2.2 cm above the page's edge,
    plus a descender's depth) and the footer: 'page N: word'."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = []
    for number, page in enumerate(xml.split("<page ")[1:], 1):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        found += [f"page {number}: {html.unescape(text)}" for _, _, _, y1, text in WORD.findall(page)
                  if height - 62.4 + 6 < float(y1) < height - 40]
    return found


@pytest.mark.parametrize(("bank", "seed"), [("midterm", 1), ("midterm", 2), ("midterm", 3), ("final", 1)])
def test_no_part_is_split_across_pages(bank: str, seed: int, tmp_path: Path) -> None:
    exam = draw_exam(load_bank(bank), seed)
    write_exam(exam, tmp_path)
    assert split_parts(tmp_path / "exam.pdf") == []
    # and nothing of the key's worked solutions runs past the page foot (midterm seed 1's
    # pooling figure did, 17 pt, inside exam.cls's framed solution)
    assert below_the_text(tmp_path / "key.pdf") == []
    assert below_the_text(tmp_path / "exam.pdf") == []


def test_text_past_the_foot_is_found(tmp_path: Path) -> None:
    tex = tmp_path / "tall.tex"
    tex.write_text(r"""\documentclass[11pt]{exam}
\usepackage[a4paper,margin=2.2cm]{geometry}
\begin{document}
\vbox to 1.02\textheight{Top\vfill Bottom}
\end{document}
""")
    subprocess.run(["pdflatex", "-interaction=batchmode", "tall.tex"], cwd=tmp_path, capture_output=True, check=False)
    assert [found.split(": ")[1] for found in below_the_text(tmp_path / "tall.pdf")] == ["Bottom"]


def test_a_split_part_is_found(tmp_path: Path) -> None:
    """The reading itself: a part too long for any page (plain exam.cls, without gen's
    preamble) runs on from page 1, and is reported."""
    tex = tmp_path / "split.tex"
    tex.write_text(r"""\documentclass[11pt]{exam}
\usepackage[a4paper,margin=2.2cm]{geometry}
\begin{document}
\begin{questions}
\question[8] \textbf{One SGD step}\par
\begin{parts}
\part Give the weight after one plain SGD step.
\part Repeat the step with decoupled weight decay: each step first shrinks the weight, and the velocity sees
only the data gradient. Give the weight after two steps to four decimal places, and explain why the two answers
differ although the first part showed that without momentum the two forms agree. """
                   + "Say it again. " * 900 + r"""
\part A short part.
\end{parts}
\end{questions}
\end{document}
""")
    subprocess.run(["pdflatex", "-interaction=batchmode", "split.tex"], cwd=tmp_path, capture_output=True, check=False)
    found = split_parts(tmp_path / "split.pdf")
    assert found and all(re.match(r"page \d: \(b\) Repeat the step", f) for f in found), found
