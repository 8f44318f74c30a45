"""`layout: compact` (#18): problems follow each other on a page instead of each starting
a new one, each part keeps its own room to write, and a problem's statement never breaks
from its first part; the default layout still starts every problem on a new page."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli

BANK = """title: Compact
layout: {layout}
problems:
  - {{family: conv_output_size, points: 6}}
  - {{family: conv_params, points: 6}}
  - {{family: sgd_step, points: 8}}
  - {{family: pool_backprop, points: 6}}
  - {{family: receptive_field, points: 6}}
  - {{family: two_layer_backprop, points: 10}}
"""
HEADINGS = ["Output size", "Parameters of a convolutional", "One SGD step", "Forward and backward pass through a pool",
            "Receptive field", "Forward pass, loss"]


def _build(root: Path, layout: str) -> list[str]:
    (root / "bank.yaml").write_text(BANK.format(layout=layout))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(root / "bank.yaml"), "--seed", "1", "--out",
                                      str(root / "out")])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(root / "out" / "exam.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")[:-1]]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return {layout: _build(tmp_path_factory.mktemp(layout), layout) for layout in ("page", "compact")}


def _page_of(pages: list[str], heading: str) -> int:
    return next(number for number, text in enumerate(pages) if heading in text)


def test_compact_problems_share_pages(pages):
    compact, paged = pages["compact"], pages["page"]
    assert len(compact) < len(paged)
    starts = [_page_of(compact, heading) for heading in HEADINGS]
    assert len(set(starts)) < len(HEADINGS)  # some problems begin on the page of the one before
    assert len({_page_of(paged, heading) for heading in HEADINGS}) == len(HEADINGS)


def test_a_statement_stays_with_its_first_part(pages):
    compact = pages["compact"]
    for heading in HEADINGS:
        page = compact[_page_of(compact, heading)]
        assert "(a)" in page.split(heading, 1)[1], heading


def test_a_layout_that_does_not_exist_is_named(tmp_path):
    (tmp_path / "bank.yaml").write_text(BANK.format(layout="dense"))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "`layout` is one of page, compact, got 'dense'" in result.output
