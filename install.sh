#!/usr/bin/env bash
# One-step set-up on a fresh Debian/Ubuntu machine: TeX Live (if pdflatex is missing),
# the gen package, then a first exam: output/exam.pdf and output/key.pdf.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! command -v pdflatex >/dev/null || ! kpsewhich exam.cls >/dev/null 2>&1 || ! kpsewhich pict2e.sty >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures \
    texlive-fonts-recommended latexmk lmodern poppler-utils
fi
# Names and titles in scripts pdflatex cannot show (Cyrillic, Arabic, Devanagari, CJK, ...):
# LuaLaTeX with HarfBuzz and the Noto fonts, when any of them is missing.
if ! command -v lualatex >/dev/null || ! kpsewhich fontspec.sty >/dev/null 2>&1 \
   || ! fc-list 2>/dev/null | grep -c NotoSansArabic >/dev/null \
   || ! fc-list 2>/dev/null | grep -c "Noto Sans CJK" >/dev/null; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    texlive-luatex fonts-noto-core fonts-noto-cjk fontconfig
fi
# Chinese exams (language: zh): the CJK package and its Arphic font, when CJKutf8 is missing.
if ! kpsewhich CJKutf8.sty >/dev/null 2>&1; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    texlive-lang-chinese latex-cjk-chinese latex-cjk-chinese-arphic-gbsn00lp
fi
python3 -m pip install --quiet -e .
gen exam --seed 42
