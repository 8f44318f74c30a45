"""What `gen grade` tells students and the instructor: a value it cannot read is reported
as unreadable with the reason (not as "no answer"), the report lists problems in the
exam's order (not by slot id), and counts read as English ("1 row was skipped")."""

import csv
import json

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.grade import grade_class, plural
from generator.report import slot_points

BANK = {"title": "Order test", "problems": [
    {"id": "zeta", "family": "sgd_step", "points": 6},
    {"id": "alpha", "family": "conv_params", "points": 4},
    {"id": "10", "family": "conv_output_size", "points": 2},
    {"id": "2", "family": "yolo_output", "points": 2},
]}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("feedback")
    (base / "bank.yaml").write_text(yaml.safe_dump(BANK, sort_keys=False))
    (base / "class.csv").write_text("id,name\ns0,Ada\ns1,Bo\n")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(base / "bank.yaml"), "--roster", str(base / "class.csv"),
                                      "--seed", "3", "--out", str(base / "class"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return base


def _write(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["id", "problem", "answer", "value"], *rows])


def test_an_unreadable_value_is_reported_with_its_reason(made, tmp_path):
    _write(tmp_path / "r.csv", [["s0", 1, "w_plain", "0,99"], ["s0", 1, "w_decay", "1"]])
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "r.csv"), "--exams", str(made / "class"),
                                      "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert "1 row skipped" in result.output and "of 1 student;" in result.output
    with open(tmp_path / "g" / "grades.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["answer"] == "w_plain")
    assert (row["verdict"], row["points"], row["given"]) == ("unreadable", "0", "0,99")
    assert "may be a decimal comma" in row["note"]
    feedback = (tmp_path / "g" / "feedback" / "s0.txt").read_text()
    line = next(line for line in feedback.splitlines() if "one plain SGD step" in line)
    assert "0,99 could not be read: '0,99' may be a decimal comma; write a decimal point (0.99)" in line
    assert "no answer" not in line and "It gets no points." in line
    report = (tmp_path / "g" / "report.html").read_text()
    assert "1 row of the responses was skipped (1 unreadable value); it is listed at the end." in report
    assert "1 answer could not be read and got no points" in report
    with open(tmp_path / "g" / "summary.csv", newline="") as handle:
        summary = next(csv.DictReader(handle))
    assert summary["unreadable"] == "1"


def test_a_later_readable_row_replaces_an_unreadable_one(made, tmp_path):
    contract = json.loads((made / "class" / "s0" / "answers.json").read_text())
    right = contract["problems"][0]["answers"]["w_plain"]
    _write(tmp_path / "r.csv", [["s0", 1, "w_plain", "0,99"], ["s0", 1, "w_plain", right]])
    grading, _ = grade_class(tmp_path / "r.csv", made / "class", tmp_path / "g")
    row = next(g for g in grading.graded if g.answer == "w_plain")
    assert row.verdict == "correct"


def test_only_unreadable_values_is_nothing_to_grade(made, tmp_path):
    _write(tmp_path / "r.csv", [["s0", 1, "w_plain", "0,99"]])
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "r.csv"), "--exams", str(made / "class"),
                                      "--out", str(tmp_path / "g")])
    assert result.exit_code == 2 and "decimal comma" in result.output


def test_the_report_follows_the_exam_order(made, tmp_path):
    _write(tmp_path / "r.csv", [["s0", 1, "w_plain", "1"], ["s1", 2, "params", "1"]])
    grading, _ = grade_class(tmp_path / "r.csv", made / "class", tmp_path / "g")
    assert [slot.slot for slot in slot_points(grading)] == ["zeta", "alpha", "10", "2"]


def test_counts_read_as_english(made, tmp_path):
    assert (plural(1, "row"), plural(2, "row"), plural(0, "answer")) == ("1 row", "2 rows", "0 answers")
    _write(tmp_path / "r.csv", [["s0", 1, "w_plain", "1"], ["nobody", 1, "w_plain", "1"]])
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "r.csv"), "--exams", str(made / "class"),
                                      "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert "of 1 student;" in result.output and "1 row skipped" in result.output
    report = (tmp_path / "g" / "report.html").read_text()
    assert "1 of 2 students in the class returned answers" in report
    assert "1 row of the responses was skipped (1 unknown student); it is listed at the end." in report
    assert "1 rows" not in report and "1 students" not in report
