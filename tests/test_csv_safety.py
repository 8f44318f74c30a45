"""No CSV gen writes holds a cell a spreadsheet would run as a formula, and the text
of every cell reads back as it was (issue: CSV injection)."""

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.csvcells import NUMBER, TRIGGERS, read_cell, safe_cell

NAMES = ['=HYPERLINK("http://x";"click")', "+SUM(1,1)", "@cmd", "-2+3", "Ann-Marie", "'quoted"]
BANK = "title: CSV check\nproblems:\n  - family: resblock_params\n    points: 4\n  - family: sgd_step\n    points: 4\n"


@pytest.mark.parametrize("text", [*NAMES, "-0.25", "-3/8", "+5", "\tx", "\rx", "''x", "'=x", "", "plain"])
def test_a_cell_reads_back_as_written(text):
    assert read_cell(safe_cell(text)) == text


@pytest.mark.parametrize("number", ["-0.25", "-3/8", "-12", "+0.5", "-.5"])
def test_numbers_stay_numbers(number):
    assert safe_cell(number) == number


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("csv")
    (root / "bank.yaml").write_text(BANK)
    with open(root / "roster.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        writer.writerows([f"s{i}", name] for i, name in enumerate(NAMES))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(root / "bank.yaml"), "--roster", str(root / "roster.csv"),
                                      "--out", str(root / "class")])
    assert result.exit_code == 0, result.output
    with open(root / "responses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "problem", "answer", "value"])
        writer.writerows([["s0", 1, "fewer", "=1+1"], ["s1", 1, "fewer", "@x"], ["s2", 2, "w_plain", "-0.25"]])
    result = CliRunner().invoke(cli, ["grade", str(root / "responses.csv"), "--exams", str(root / "class"),
                                      "--out", str(root / "grades")])
    assert result.exit_code == 0, result.output
    return root


def _cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_no_cell_of_any_written_csv_starts_a_formula(graded):
    written = sorted(graded.rglob("*.csv"))
    written = [p for p in written if p.name not in ("roster.csv", "responses.csv")]
    assert {p.name for p in written} >= {"answers.csv", "grades.csv", "summary.csv"}
    for path in written:
        bad = [c for c in _cells(path) if c.startswith(TRIGGERS) and not NUMBER.fullmatch(c)]
        assert bad == [], (path.name, bad)


def test_names_and_answers_read_back_unchanged(graded):
    names = {read_cell(c) for c in _cells(graded / "class" / "answers.csv")}
    assert set(NAMES) <= names
    given = {read_cell(c) for c in _cells(graded / "grades" / "grades.csv")}
    assert {"=1+1", "@x"} <= given
