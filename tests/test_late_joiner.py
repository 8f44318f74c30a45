"""`gen exam --roster ... --only ID` for a student added to the roster after the class
was built: their rows are appended to answers.csv and their exam and key to exams.pdf
and keys.pdf, and the command says so (and what it did not update); for a student the
class files already have, --only leaves the class files alone, as before."""

import csv
import shutil
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli

pytestmark = pytest.mark.skipif(shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None,
                                reason="needs poppler's pdfinfo and pdftotext")

BANK = {"title": "Late joiners", "problems": [{"family": "sgd_step", "points": 6},
                                              {"family": "conv_params", "points": 4}]}


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _pages(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])


def _text(pdf, first, last):
    return subprocess.run(["pdftotext", "-f", str(first), "-l", str(last), str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _ids(table):
    with open(table, newline="") as handle:
        return [row["student_id"] for row in csv.DictReader(handle)]


@pytest.fixture
def built(tmp_path):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(BANK))
    (tmp_path / "class.csv").write_text("id,name,email\ns1,Ada,a@example.org\ns2,Bo,b@example.org\n")
    result = _run("exam", "--bank", tmp_path / "bank.yaml", "--roster", tmp_path / "class.csv", "--seed", 3,
                  "--out", tmp_path / "c", "--jobs", 1)
    assert result.exit_code == 0, result.output
    with open(tmp_path / "class.csv", "a") as handle:
        handle.write("s1151,Late Joiner,late@example.org\n")
    return tmp_path


def test_a_late_joiner_is_appended_to_the_class_files(built):
    out = built / "c"
    before = {name: _pages(out / name) for name in ("exams.pdf", "keys.pdf")}
    rows_before = _ids(out / "answers.csv")
    result = _run("exam", "--bank", built / "bank.yaml", "--roster", built / "class.csv", "--seed", 3,
                  "--out", out, "--only", "s1151")
    assert result.exit_code == 0, result.output
    assert "s1151 was not in the class files yet: added to answers.csv, exams.pdf, keys.pdf" in result.output
    assert "1 of 1 student done" in result.output
    ids = _ids(out / "answers.csv")
    assert ids[: len(rows_before)] == rows_before and set(ids[len(rows_before):]) == {"s1151"}
    with open(out / "answers.csv", newline="") as handle:
        late = [row for row in csv.DictReader(handle) if row["student_id"] == "s1151"]
    assert late and all(row["email"] == "late@example.org" and row["name"] == "Late Joiner" for row in late)
    own = _pages(out / "s1151" / "exam.pdf")
    assert _pages(out / "exams.pdf") == before["exams.pdf"] + own
    assert _pages(out / "keys.pdf") == before["keys.pdf"] + _pages(out / "s1151" / "key.pdf")
    appended = _text(out / "exams.pdf", before["exams.pdf"] + 1, before["exams.pdf"] + own)
    assert "Late Joiner" in appended and "Ada" not in appended
    for page in range(1, own + 1):  # the student's id on every page of their exam, and "page N of M"
        text = _text(out / "s1151" / "exam.pdf", page, page)
        assert "s1151" in text and f"page {page} of {own}" in text, page
    assert f"page {own} of {own}" in _text(out / "exams.pdf", before["exams.pdf"] + own, before["exams.pdf"] + own)
    if (out / "grading.pdf").exists():
        assert "grading.pdf does not have them yet: the same gen exam --roster command without --only" \
               in result.output


def test_a_second_run_for_the_same_student_adds_nothing(built):
    out = built / "c"
    args = ["exam", "--bank", built / "bank.yaml", "--roster", built / "class.csv", "--seed", 3, "--out", out,
            "--only", "s1151"]
    assert _run(*args).exit_code == 0
    pages, rows = _pages(out / "exams.pdf"), _ids(out / "answers.csv")
    result = _run(*args)
    assert result.exit_code == 0 and "not in the class files" not in result.output
    assert (_pages(out / "exams.pdf"), _ids(out / "answers.csv")) == (pages, rows)


def test_a_rebuilt_copy_leaves_the_class_files_alone(built):
    out = built / "c"
    stamp = {name: (out / name).read_bytes() for name in ("answers.csv", "exams.pdf", "keys.pdf")}
    result = _run("exam", "--bank", built / "bank.yaml", "--roster", built / "class.csv", "--seed", 3,
                  "--out", out, "--only", "s2")
    assert result.exit_code == 0, result.output
    assert "class files" not in result.output
    assert {name: (out / name).read_bytes() for name in stamp} == stamp


def test_without_class_files_the_command_says_what_makes_them(built):
    result = _run("exam", "--bank", built / "bank.yaml", "--roster", built / "class.csv", "--seed", 3,
                  "--out", built / "fresh", "--only", "s1151")
    assert result.exit_code == 0, result.output
    assert "has no class files yet (answers.csv, exams.pdf, keys.pdf)" in result.output
    assert "without --only makes them" in result.output
    assert not (built / "fresh" / "answers.csv").exists()


def test_uniform_stacks_are_not_appended_to_and_the_command_says_so(built):
    bank = {**BANK, "pages": "uniform"}
    (built / "uniform.yaml").write_text(yaml.safe_dump(bank))
    (built / "first.csv").write_text("id,name\ns1,Ada\ns2,Bo\n")
    out = built / "u"
    assert _run("exam", "--bank", built / "uniform.yaml", "--roster", built / "first.csv", "--seed", 3,
                "--out", out, "--jobs", 1).exit_code == 0
    pages = _pages(out / "exams.pdf")
    result = _run("exam", "--bank", built / "uniform.yaml", "--roster", built / "class.csv", "--seed", 3,
                  "--out", out, "--only", "s1151")
    assert result.exit_code == 0, result.output
    assert "added to answers.csv, at the end" in result.output
    assert "exams.pdf, keys.pdf" in result.output and "without --only rebuilds the class files" in result.output
    assert _pages(out / "exams.pdf") == pages and "s1151" in _ids(out / "answers.csv")
