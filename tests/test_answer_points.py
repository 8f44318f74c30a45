"""Points per answer: a bank problem's `answer_points` (adding up to its points) are
validated when the bank is read, printed on the exam beside each answer's label,
recorded in answers.json and used by `gen grade` and the LMS exports; without them a
problem's points are shared equally, as before."""

import csv
import json
import re
import shutil
import subprocess
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from generator.bank import load_bank
from generator.cli import cli
from generator.export.moodle import cloze_boxes
from generator.pipeline import answer_points_line, problem_context
from generator.variants import draw_slot, problem_for

WEIGHTED = {"family": "sgd_step", "points": 8, "answer_points": {"w_plain": 2, "w_decay": 4, "shrink_factor": 2}}
BANK = {"title": "Weighted parts", "problems": [WEIGHTED, {"family": "conv_params", "points": 6}]}


def _bank(tmp_path, bank, name="bank.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(bank, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("weights")
    bank = _bank(base, BANK)
    (base / "class.csv").write_text("id,name\ns0,Ada\ns1,Bo\n")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(bank), "--roster", str(base / "class.csv"), "--seed", "4",
                                      "--out", str(base / "class"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return base


def test_answers_json_records_the_points_of_every_answer(made):
    contract = json.loads((made / "class" / "s0" / "answers.json").read_text())
    weighted, equal = contract["problems"]
    assert weighted["answer_points"] == {"w_plain": 2, "w_decay": 4, "shrink_factor": 2}
    assert set(equal["answer_points"]) == set(equal["answers"])  # the default: equal shares
    assert sum(Fraction(str(v)) for v in equal["answer_points"].values()) == 6
    assert len(set(equal["answer_points"].values())) == 1


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_the_exam_prints_each_parts_points(made):
    text = subprocess.run(["pdftotext", str(made / "class" / "s0" / "exam.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = " ".join(text.split())
    # exam.cls's own part points, beside (a), (b), (c), in the order the parts ask
    shown = re.findall(r"\(([abc])\) \((\d+) points?\)", flat)
    assert shown == [("a", "2"), ("b", "4"), ("c", "2")]
    assert "Points per answer" not in flat  # every answer has its part; no line under the heading


def test_answers_no_part_shows_get_a_line_under_the_heading(tmp_path):
    bank = load_bank(str(_bank(tmp_path, BANK)))
    problem = draw_slot(bank, 0, "x", bank.slots[0])
    placed = {"w_plain", "w_decay"}
    line = answer_points_line(problem, placed=placed)
    assert "the shrink factor c (2 points)" in line and "plain" not in line
    assert answer_points_line(problem, placed=set(problem.solution.answers)) == ""


def test_grade_gives_an_answer_its_own_points(made, tmp_path):
    rows = [["id", "problem", "answer", "value"]]
    for student, right in (("s0", True), ("s1", False)):
        contract = json.loads((made / "class" / student / "answers.json").read_text())
        decay = contract["problems"][0]["answers"]["w_decay"]
        rows.append([student, 1, "w_decay", decay if right else "12345"])
        rows.append([student, 1, "w_plain", contract["problems"][0]["answers"]["w_plain"]])
    with open(tmp_path / "r.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "r.csv"), "--exams", str(made / "class"),
                                      "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "g" / "grades.csv", newline="") as handle:
        grades = {(r["student"], r["answer"]): r for r in csv.DictReader(handle)}
    assert (grades["s0", "w_decay"]["points"], grades["s0", "w_decay"]["max_points"]) == ("4", "4")
    assert (grades["s1", "w_decay"]["points"], grades["s1", "w_decay"]["max_points"]) == ("0", "4")
    assert grades["s1", "w_plain"]["points"] == "2" and grades["s1", "shrink_factor"]["max_points"] == "2"
    with open(tmp_path / "g" / "summary.csv", newline="") as handle:
        summary = {r["student"]: r for r in csv.DictReader(handle)}
    assert (summary["s0"]["points"], summary["s1"]["points"], summary["s0"]["max_points"]) == ("6", "2", "14")


def test_templates_see_each_answers_points(tmp_path):
    bank = load_bank(str(_bank(tmp_path, BANK)))
    problem = draw_slot(bank, 0, "x", bank.slots[0])
    assert problem_context(problem)["pts"] == {"w_plain": "2", "w_decay": "4", "shrink_factor": "2"}
    plain = draw_slot(bank, 0, "x", bank.slots[1])
    assert set(problem_context(plain)["pts"].values()) == {"1.5"}


def test_the_moodle_export_weights_the_boxes(tmp_path):
    bank = load_bank(str(_bank(tmp_path, BANK)))
    problem = draw_slot(bank, 0, "export-0", bank.slots[0])
    assert [(box.part.name, box.marks) for box in cloze_boxes(problem)] == [("w_plain", 2), ("w_decay", 4),
                                                                            ("shrink_factor", 2)]


def test_a_pool_alternative_has_its_own_answer_points(tmp_path):
    pool = {"title": "t", "problems": [{"points": 8, "one_of": [
        {"family": "sgd_step", "answer_points": {"w_plain": 1, "w_decay": 6, "shrink_factor": 1}},
        {"family": "conv_output_size"}]}]}
    bank = load_bank(str(_bank(tmp_path, pool)))
    problem = draw_slot(bank, 0, "x", bank.slots[0], alternative=0)
    assert problem.points_of("w_decay") == 6


@pytest.mark.parametrize("answer_points, says", [
    ({"w_plain": 2, "w_decay": 4, "shrink_factor": 3}, "add up to 9, but the problem is worth 8 points"),
    ({"w_plain": 2, "w_decay": 6}, "gives no points to 'shrink_factor'"),
    ({"w_plain": 2, "w_decay": 4, "shrink": 2}, "names 'shrink', which family 'sgd_step' has no answer of"),
    ({"w_plain": 2, "w_decay": -4, "shrink_factor": 10}, "of 'w_decay' must be a positive number, got -4"),
    ({"w_plain": True, "w_decay": 6, "shrink_factor": 1}, "of 'w_plain' must be a positive number"),
    ([2, 4, 2], "maps each answer's name to its points"),
])
def test_bad_answer_points_exit_2_naming_the_bank_file(tmp_path, answer_points, says):
    path = _bank(tmp_path, {"title": "t", "problems": [{**WEIGHTED, "answer_points": answer_points}]}, "mine.yaml")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "mine.yaml: problem 1" in result.output and says in result.output


def test_a_variant_without_some_named_answers_keeps_the_proportions(tmp_path):
    """rnn_params asks for the first and later layers' parameters only for some variants."""
    weights = {"params_first_layer": 2, "params_later_layer": 2, "params": 2, "output_shape": 1, "h_n_shape": 1,
               "c_n_shape": 2}
    bank = load_bank(str(_bank(tmp_path, {"title": "t", "problems": [
        {"family": "rnn_params", "points": 10, "answer_points": weights}]})))
    choice = bank.slots[0].choices[0]
    seen = set()
    for seed in range(40):
        problem = problem_for(choice, seed)
        problem.points = Fraction(10)
        names = list(problem.solution.answers)
        seen.add(len(names))
        assert sum(problem.points_of(name) for name in names) == 10
        share = problem.points_of("params") / weights["params"]
        assert all(problem.points_of(name) == share * weights[name] for name in names)
    assert len(seen) > 1  # some variants ask fewer answers
