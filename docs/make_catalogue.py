"""Regenerate docs/families.md and its pictures: one section per built-in family with its
title, options and a preview of seed 1 (the statement and the worked key).

    python docs/make_catalogue.py

Run it after adding or changing a family; the pictures are made by `gen preview` at a
lower resolution, so the catalogue stays small."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from generator.compile import compile_pdf
from generator.family import PLUGINS, load_families
from generator.preview import preview_tex
from generator.variants import make_problem

DOCS = Path(__file__).resolve().parent
SEED = 1
DPI = 60


def picture(family_id: str) -> Path:
    """docs/families/<id>.png: the key of seed 1, one page as tall as its content."""
    pdf = compile_pdf(preview_tex(make_problem(family_id, SEED)), label=family_id)
    target = DOCS / "families" / family_id
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "p.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-singlefile", str(source), str(target)], check=True)
    return target.with_suffix(".png")


def section(family_id: str) -> str:
    family = load_families()[family_id]
    options = "\n".join(f"- `{name}`: {option.help} (default `{option.default!r}`)"
                        for name, option in family.options.items()) or "- none"
    return (f"## `{family_id}`\n\n{family.title}.\n\nOptions:\n{options}\n\n"
            f"![{family_id}, seed {SEED}](families/{family_id}.png)\n")


def main() -> None:
    (DOCS / "families").mkdir(exist_ok=True)
    ids = sorted(i for i in load_families() if i not in PLUGINS)
    for family_id in ids:
        picture(family_id)
    header = ("# The families\n\nEvery built-in problem family, with its options (set them in a bank's "
              "`options:`) and the key of seed 1 as `gen preview FAMILY --seed 1` shows it. "
              "Made by `python docs/make_catalogue.py`.\n\n")
    index = "\n".join(f"- [`{i}`](#{i}): {load_families()[i].title}" for i in ids)
    (DOCS / "families.md").write_text(header + index + "\n\n" + "\n".join(section(i) for i in ids))


if __name__ == "__main__":
    main()
