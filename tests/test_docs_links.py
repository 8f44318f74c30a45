"""Every relative link of the README and the manual (docs/*.md) points to a file that
exists. Anchors are not checked: `docs/grading.md#points-per-answer` passes when
docs/grading.md exists. Links inside code (fenced blocks, `spans`) are not links, and
addresses with a scheme (https:, mailto:) are left alone."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Pages a script writes: a link to one is good while its script exists, so the README may
# link the catalogue before it is regenerated; once written it is checked as any file.
GENERATED = {ROOT / "docs" / "families.md": ROOT / "docs" / "make_catalogue.py"}

FENCE = re.compile(r"^ {0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+).*?\1")
# [text](target) and ![alt](target), with an optional "title"; [label]: target definitions
INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def links(text: str) -> list[tuple[int, str]]:
    """The link targets of Markdown `text` with their line numbers, code left out."""
    found, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        line = CODE_SPAN.sub("", line)
        targets = [m.group(1) for m in INLINE.finditer(line)]
        definition = DEFINITION.match(line)
        if definition:
            targets.append(definition.group(1))
        found += [(number, target.strip("<>")) for target in targets]
    return found


def relative_file(target: str) -> str | None:
    """The file part of a relative link, or None for an address or an anchor alone."""
    if SCHEME.match(target) or target.startswith("#"):
        return None
    return unquote(target.split("#", 1)[0])


def test_links_are_found_and_code_is_skipped():
    text = ("See [a](a.md#x), ![b](img/b.png \"B\") and <https://example.org>.\n"
            "`[c](c.md)` is code.\n```\n[d](d.md)\n```\n[e]: e.md\n[f](https://example.org/f)\n")
    assert links(text) == [(1, "a.md#x"), (1, "img/b.png"), (6, "e.md"), (7, "https://example.org/f")]
    assert [relative_file(t) for _, t in links(text)] == ["a.md", "img/b.png", "e.md", None]


def test_the_readme_links_the_manual():
    files = {relative_file(t) for _, t in links((ROOT / "README.md").read_text(encoding="utf-8"))}
    assert {"docs/" + page.name for page in PAGES[1:]} <= files, "a docs page the README does not link"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(page: Path):
    broken = []
    for number, target in links(page.read_text(encoding="utf-8")):
        name = relative_file(target)
        if name is None:
            continue
        path = (page.parent / name).resolve()
        if not path.exists() and not (path in GENERATED and GENERATED[path].exists()):
            broken.append(f"{page.relative_to(ROOT)}:{number}: {target}")
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)
