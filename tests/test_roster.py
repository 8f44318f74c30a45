"""A whole class from a roster: per-student files, combined PDFs, answers.csv,
independence of students, reproducibility, and roster errors."""

import csv
import hashlib
import json
import subprocess
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from generator.cli import cli

AWKWARD = ["O'Brien & Søren_% #1 {x}", "Zoë Łukasz Dvořák", r"\input{/etc/passwd}", "^^5c \\write18{ls}"]


def _roster(path, count, extra_rows=()):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "section"])
        for i in range(count):
            writer.writerow([f"s{i:03d}", AWKWARD[i] if i < len(AWKWARD) else f"Student Number {i}", f"L{i % 3}"])
        writer.writerows(extra_rows)
    return path


SMALL_BANK = Path(__file__).parent / "data" / "small.yaml"


def _gen(*args):
    result = CliRunner().invoke(cli, ["exam", "--bank", str(SMALL_BANK), *map(str, args)])
    assert "Traceback" not in result.output
    return result


def _text(pdf) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _page_count(pdf) -> int:
    with pikepdf.open(pdf) as document:
        return len(document.pages)


def _digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    roster = _roster(base / "class.csv", 30)
    result = _gen("--roster", roster, "--seed", 2026, "--out", base / "out", "--jobs", 2)
    assert result.exit_code == 0, result.output
    return base


def test_every_student_has_their_own_pdfs(klass):
    out = klass / "out"
    for i in range(30):
        sid = f"s{i:03d}"
        answers = json.loads((out / sid / "answers.json").read_text())
        assert answers["student"]["id"] == sid
        name = AWKWARD[i] if i < len(AWKWARD) else f"Student Number {i}"
        assert answers["student"]["name"] == name
        for kind in ("exam", "key"):
            text = _text(out / sid / f"{kind}.pdf")
            assert name in text, (sid, kind)
            assert answers["variant"] in text
    assert "root:" not in _text(out / "s002" / "exam.pdf")


def test_class_pdfs_hold_every_student_in_order(klass):
    out = klass / "out"
    for name, kind in (("exams.pdf", "exam"), ("keys.pdf", "key")):
        text = _text(out / name)
        positions = [text.index(json.loads((out / f"s{i:03d}" / "answers.json").read_text())["variant"])
                     for i in range(30)]
        assert positions == sorted(positions)
        total = sum(_page_count(out / f"s{i:03d}" / f"{kind}.pdf") for i in range(30))
        assert _page_count(out / name) == total


def test_only_rebuilds_one_student_identically(klass, tmp_path):
    out = klass / "out"
    result = _gen("--roster", klass / "class.csv", "--seed", 2026, "--out", tmp_path, "--only", "s017")
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["s017"]
    assert (tmp_path / "s017" / "answers.json").read_bytes() == (out / "s017" / "answers.json").read_bytes()
    for kind in ("exam", "key"):
        alone, split = tmp_path / "s017" / f"{kind}.pdf", out / "s017" / f"{kind}.pdf"
        assert _page_count(alone) == _page_count(split)
        assert _text(alone) == _text(split)  # pdftotext separates pages with form feeds


def test_answers_csv_agrees_with_answers_json(klass):
    out = klass / "out"
    with open(out / "answers.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = []
    for i in range(30):
        data = json.loads((out / f"s{i:03d}" / "answers.json").read_text())
        for problem in data["problems"]:
            for name, value in problem["answers"].items():
                expected.append((data["student"]["id"], data["variant"], str(problem["number"]), name,
                                 value if isinstance(value, str) else json.dumps(value)))
    got = [(r["student_id"], r["variant"], r["problem"], r["answer"], r["exact"]) for r in rows]
    assert got == expected
    assert rows[0]["section"] == "L0"


def test_adding_a_student_changes_no_one_else(klass, tmp_path):
    roster = _roster(tmp_path / "bigger.csv", 30, [["s999", "Late Joiner", "L1"]])
    result = _gen("--roster", roster, "--seed", 2026, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    for i in range(30):
        sid = f"s{i:03d}"
        assert (tmp_path / "out" / sid / "answers.json").read_bytes() == \
            (klass / "out" / sid / "answers.json").read_bytes()


def test_same_roster_and_seed_give_identical_files(klass, tmp_path):
    result = _gen("--roster", klass / "class.csv", "--seed", 2026, "--out", tmp_path / "again", "--jobs", 1)
    assert result.exit_code == 0, result.output
    assert _digest(tmp_path / "again") == _digest(klass / "out")


def test_a_name_with_characters_no_font_has_is_built_and_said(tmp_path):
    """Any script prints (tests/test_scripts.py); an emoji no installed font has prints as
    a gap, and the run says so instead of dropping the student."""
    roster = _roster(tmp_path / "r.csv", 2, [["s100", "Ann \U0001F600 Lee", "L1"]])
    result = _gen("--roster", roster, "--seed", 1, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "no installed font has" in result.output and "\U0001F600" in result.output
    assert (tmp_path / "out" / "s100" / "exam.pdf").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name,email\nAda,a@x\n", "no 'id' column"),
        (b"id,email\n1,a@x\n", "no 'name' column"),
        (b"id,name\n1,Ada\n1,Bob\n", "duplicate student id '1'"),
        (b"id,name\n1,Ada\n,Bob\n", "empty student id"),
        (b"id,name\n1,Ada\n2,Bj\xf6rn\n", "not UTF-8"),
        (b"id,name\n../x,Ada\n", "cannot be a folder name"),
        (b'id,name\ns1,"Ada\ns2,Bob\n', "never closed"),
        (b"id,name,id\ns1,Ada,x\n", "'id' more than once"),
    ],
)
def test_bad_roster_is_a_clear_error(tmp_path, content, expected):
    (tmp_path / "r.csv").write_bytes(content)
    result = _gen("--roster", tmp_path / "r.csv", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert expected in result.output


def test_semicolon_separated_roster_is_read(tmp_path):
    (tmp_path / "r.csv").write_bytes(b"id;name;section\ns1;Ada;L1\n")
    result = _gen("--roster", tmp_path / "r.csv", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Ada" in _text(tmp_path / "out" / "s1" / "exam.pdf")


def test_bom_and_windows_line_endings_are_fine(tmp_path):
    (tmp_path / "r.csv").write_bytes("\ufeffid,name\r\ns1,Zoë\r\n".encode())
    result = _gen("--roster", tmp_path / "r.csv", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Zoë" in _text(tmp_path / "out" / "s1" / "exam.pdf")


def test_a_figure_shared_by_students_is_on_every_copy(tmp_path):
    """The two-layer network's figure is the same for everyone in a chunk; each student's
    exam and key must still show it (it is typeset once and reused from a box)."""
    bank = tmp_path / "net.yaml"
    bank.write_text("title: Net\nproblems:\n  - family: two_layer_backprop\n")
    (tmp_path / "r.csv").write_text("id,name\na,Ada\nb,Bob\nc,Cy\n")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(bank), "--roster", str(tmp_path / "r.csv"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for kind in ("exam", "key"):
        # "linear output" labels the figure (and appears in the text once)
        counts = [_text(tmp_path / "out" / sid / f"{kind}.pdf").count("linear output") for sid in "abc"]
        assert counts == [counts[0]] * 3 and counts[0] >= 2, (kind, counts)


def test_folders_of_students_no_longer_in_the_roster_are_named(tmp_path):
    out = tmp_path / "out"
    assert _gen("--roster", _roster(tmp_path / "two.csv", 2), "--seed", 1, "--out", out).exit_code == 0
    result = _gen("--roster", _roster(tmp_path / "one.csv", 1), "--seed", 1, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"{out} also holds s001 from an earlier build, not in this roster" in result.output
    assert "distinct" not in result.output  # the hint is for shared variants only
    assert (out / "s001" / "answers.json").exists()  # kept: gen deletes nothing of the user's
