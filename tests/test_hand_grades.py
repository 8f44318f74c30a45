"""Grades given by a person, back into `gen grade`: it writes hand.csv pre-filled with
every answer a person grades; filling in its points (or a rubric's criteria) and grading
again with --hand makes the totals final, and comments reach the students' feedback."""

import csv
import json
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.csvcells import read_cell, safe_row

BANK = {"title": "Hand grades", "problems": [
    {"family": "sgd_step", "points": 6},
    {"family": "conv_architecture", "points": 8},
    {"question": "degradation", "points": 6, "text": "Explain the degradation problem.",
     "answer": "Deeper plain networks train worse.",
     "rubric": [{"points": 4, "criterion": "=training error of deeper plain nets rises"},
                {"points": 2, "criterion": "the identity path helps"}]},
]}
STUDENTS = ["s0", "s1", "s2"]


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _read(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return [{k: read_cell(v) for k, v in zip(rows[0], row, strict=True)} for row in rows[1:]]


def _write(path, rows):
    header = list(rows[0])
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(safe_row([row[c] for c in header]) for row in rows)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("hand")
    (base / "bank.yaml").write_text(yaml.safe_dump(BANK, sort_keys=False))
    (base / "class.csv").write_text("id,name\n" + "".join(f"{s},Student {s}\n" for s in STUDENTS))
    result = _run("exam", "--bank", base / "bank.yaml", "--roster", base / "class.csv", "--seed", 8,
                  "--out", base / "class", "--jobs", 1)
    assert result.exit_code == 0, result.output
    rows = [["id", "problem", "answer", "value"]]
    for student in STUDENTS:
        contract = json.loads((base / "class" / student / "answers.json").read_text())
        rows.append([student, 1, "w_plain", contract["problems"][0]["answers"]["w_plain"]])  # right: 2 points
        rows.append([student, 2, "layers", "see my drawing on the paper"])  # only a person can read it
    with open(base / "responses.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = _run("grade", base / "responses.csv", "--exams", base / "class", "--out", base / "grades")
    assert result.exit_code == 0, result.output
    return base, result.output


def test_grade_writes_hand_csv_with_every_pending_answer(made):
    base, output = made
    assert "to grade by hand, so totals are provisional (fill in the points column of" in output
    rows = _read(base / "grades" / "hand.csv")
    assert {(r["id"], r["answer"]) for r in rows} == {(s, a) for s in STUDENTS for a in ("layers", "written")}
    layers = next(r for r in rows if r["answer"] == "layers")
    assert (layers["given"], layers["max_points"], layers["points"]) == ("see my drawing on the paper", "2", "")
    assert layers["label"] == "the layers of your network" and "the key's is [Conv2d(" in layers["note"]
    written = next(r for r in rows if r["answer"] == "written")
    assert (written["given"], written["max_points"], written["problem"]) == ("on paper", "6", "3")
    assert written["criterion_1"] == "=training error of deeper plain nets rises (4)"
    assert written["criterion_2"] == "the identity path helps (2)" and written["criterion_2_points"] == ""
    raw = (base / "grades" / "hand.csv").read_text()
    assert "'=training error" in raw  # spreadsheet-safe: a criterion is never run as a formula
    summary = _read(base / "grades" / "summary.csv")
    assert {r["status"] for r in summary} == {"provisional"}


def _filled(base, tmp_path):
    """hand.csv with every points cell filled: layers 1, 1.5, 2; written by points or by criteria."""
    rows = _read(base / "grades" / "hand.csv")
    given = {"s0": "1", "s1": "1.5", "s2": "2"}
    for row in rows:
        if row["answer"] == "layers":
            row["points"] = given[row["id"]]
            row["comment"] = f"=design note for {row['id']}" if row["id"] == "s0" else ""
        elif row["id"] == "s1":
            row["criterion_1_points"], row["criterion_2_points"] = "3", "1"
        else:
            row["points"] = "5" if row["id"] == "s0" else "6"
    path = tmp_path / "hand.csv"
    _write(path, rows)
    return path, {"s0": 2 + 1 + 5, "s1": 2 + Fraction(3, 2) + 4, "s2": 2 + 2 + 6}


def test_filled_hand_grades_make_every_total_final(made, tmp_path):
    base, _ = made
    hand, totals = _filled(base, tmp_path)
    result = _run("grade", base / "responses.csv", "--exams", base / "class", "--out", tmp_path / "g",
                  "--hand", hand)
    assert result.exit_code == 0, result.output
    assert "6 graded by hand; every total is final" in result.output
    summary = {r["student"]: r for r in _read(tmp_path / "g" / "summary.csv")}
    for student, total in totals.items():
        row = summary[student]
        assert (row["status"], Fraction(row["pending_points"])) == ("final", 0), row
        assert Fraction(row["points"]) == total, (student, row["points"], total)
    grades = {(r["student"], r["answer"]): r for r in _read(tmp_path / "g" / "grades.csv")}
    assert (grades["s1", "layers"]["points"], grades["s1", "layers"]["verdict"]) == ("1.5", "by hand")
    assert grades["s1", "written"]["points"] == "4"  # 3 + 1 from the criteria
    feedback = (tmp_path / "g" / "feedback" / "s0.txt").read_text()
    assert "  the layers of your network: see my drawing on the paper: graded by hand, 1 of 2 points." in feedback
    assert "    Comment: =design note for s0" in feedback
    assert "  your written answer: Graded by hand, 5 of 6 points." in feedback
    assert "provisional" not in feedback
    report = (tmp_path / "g" / "report.html").read_text()
    assert "6 answers were graded by hand" in report and "to be graded by hand:" not in report


def test_grading_again_with_the_same_file_keeps_what_the_grader_wrote(made, tmp_path):
    base, _ = made
    hand, _ = _filled(base, tmp_path)
    rows = _read(hand)
    rows[0]["points"] = "1,5"  # a decimal comma: not used, but not lost either
    _write(hand, rows)
    out = tmp_path / "g"
    result = _run("grade", base / "responses.csv", "--exams", base / "class", "--out", out, "--hand", hand)
    assert result.exit_code == 0 and "may be a decimal comma" in result.output
    assert _read(out / "hand.csv") == _read(hand)  # rewritten with every cell the grader filled in
    first = (out / "hand.csv").read_text()
    result = _run("grade", base / "responses.csv", "--exams", base / "class", "--out", out, "--hand", out / "hand.csv")
    assert result.exit_code == 0, result.output
    assert (out / "hand.csv").read_text() == first  # reading and rewriting the same file changes nothing
    summary = {r["student"]: r for r in _read(out / "summary.csv")}
    assert summary[rows[0]["id"]]["status"] == "provisional" and summary["s2"]["status"] == "final"


@pytest.mark.parametrize("row, says", [
    (["s0", 1, "w_plain", "1", ""], "was graded by gen (correct); hand grades complete only answers graded by hand"),
    (["s0", 2, "layers", "3", ""], "3 points, but the answer is worth 2"),
    (["nobody", 2, "layers", "1", ""], "no student 'nobody' in the class"),
    (["s0", 9, "layers", "1", ""], "student 's0' has no problem '9'"),
    (["s0", 2, "layer", "1", ""], "has no answer 'layer'"),
    (["s0", 2, "layers", "-1", ""], "must not be negative"),
    (["s0", 3, "written", "5", "4"], "points 5 but the criteria's points add up to 4"),
])
def test_hand_grades_that_cannot_be_used_are_named(made, tmp_path, row, says):
    base, _ = made
    path = tmp_path / "h.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["id", "problem", "answer", "points", "criterion_1_points"], row])
    result = _run("grade", base / "responses.csv", "--exams", base / "class", "--out", tmp_path / "g", "--hand", path)
    assert result.exit_code == 0, result.output
    assert "skipped h.csv line 2:" in result.output and says in result.output
    assert "1 hand grade skipped" in result.output
    assert "Hand grades not used" in (tmp_path / "g" / "report.html").read_text()


def test_a_comment_alone_reaches_the_feedback_of_any_answer(made, tmp_path):
    base, _ = made
    path = tmp_path / "h.csv"
    path.write_text("student,problem,answer,points,comment\ns1,1,w_plain,,Well done.\n")
    result = _run("grade", base / "responses.csv", "--exams", base / "class", "--out", tmp_path / "g", "--hand", path)
    assert result.exit_code == 0, result.output
    feedback = (tmp_path / "g" / "feedback" / "s1.txt").read_text()
    assert "correct.\n    Comment: Well done." in feedback


def test_a_hand_file_without_the_columns_exits_2(made, tmp_path):
    base, _ = made
    path = tmp_path / "h.csv"
    path.write_text("id,problem,answer\ns0,2,layers\n")
    result = _run("grade", base / "responses.csv", "--exams", base / "class", "--out", tmp_path / "g", "--hand", path)
    assert result.exit_code == 2 and "no column points" in result.output and "h.csv:1" in result.output
