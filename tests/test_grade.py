"""`gen grade` on a synthetic class made with --roster: correct answers written in
every accepted way get full marks, slip values are diagnosed by name (feedback in
plain words), garbage rows are reported by line, and the report and charts are made."""

import base64
import csv
import json
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.grade import matches, readable
from generator.responses import parse_value
from generator.tolerance import Tolerance, default_tolerance, parse_tolerance

BANK = {"title": "Grading test", "problems": [
    {"family": "sgd_step", "points": 8, "format": "choice", "answer": "w_decay"},
    {"family": "resblock_params", "points": 10},
    {"family": "two_layer_backprop", "points": 12},
    {"family": "conv_architecture", "points": 10},
    {"family": "conv_macs", "points": 6},
]}
STUDENTS = 6
PNG = b"\x89PNG\r\n\x1a\n"


def _written(value, style: int) -> str:
    """A correct value as a student might write it; `style` varies the form."""
    if isinstance(value, list):
        return "[" + ", ".join(_written(v, 0) for v in value) + "]"
    if isinstance(value, int):
        return [str(value), f"{value:,}", f"{value:,}".replace(",", " ")][style % 3]
    number = Fraction(value) if "/" in value or value[:1].isdigit() or value[:1] == "-" else None
    if number is None:
        return f" {value.lower()} "  # a label, in another case and with spaces
    if style % 2:
        return str(number)
    return f"{float(number):.6f}" if number.denominator != 1 else str(number)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, a responses CSV with what each row should get, and the CLI result."""
    base = tmp_path_factory.mktemp("grading")
    (base / "bank.yaml").write_text(yaml.safe_dump(BANK))
    with open(base / "class.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["id", "name"]] + [[f"s{i}", f"Student {i}"] for i in range(STUDENTS)])
    result = CliRunner().invoke(cli, ["exam", "--bank", str(base / "bank.yaml"), "--roster", str(base / "class.csv"),
                                      "--seed", "11", "--out", str(base / "class"), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    rows, expected, garbage = [["id", "problem", "answer", "value"]], {}, {}
    for i in range(STUDENTS):
        contract = json.loads((base / "class" / f"s{i}" / "answers.json").read_text())
        for problem in contract["problems"]:
            for k, (name, value) in enumerate(problem["answers"].items()):
                key = (f"s{i}", problem["number"], name)
                slips = problem["slips"].get(name, [])
                choice = problem.get("choice")
                if choice and choice["answer"] == name:
                    option = choice["options"][(i + k) % len(choice["options"])]
                    rows.append([*key, option["letter"].lower() if i % 2 else option["letter"]])
                    expected[key] = ("correct", None) if option["kind"] == "answer" else ("slip", option["slip"])
                elif problem["tolerance"][name]["kind"] == "manual":
                    continue  # graded by hand: left out here, checked in test_manual_answers
                elif slips and (i + k) % 3 == 1:
                    slip = slips[(i + k) % len(slips)]
                    rows.append([*key, _written(slip["value"], i + k)])
                    expected[key] = ("slip", slip["name"])
                elif (i + k) % 3 == 2:
                    expected[key] = ("blank", None)
                else:
                    rows.append([*key, _written(value, i + k)])
                    expected[key] = ("correct", None)
    for label, row in (("unknown student", ["nobody", 1, "w_plain", "1"]),
                       ("unknown problem", ["s0", 99, "w_plain", "1"]),
                       ("unknown answer", ["s1", 1, "w_plane", "1"]),
                       ("unreadable value", ["s2", 1, "w_plain", "one half"]),
                       ("duplicate row", rows[1][:3] + ["12345"])):
        rows.append(row)
        garbage[len(rows)] = label  # the CSV line: the header is line 1
        if label == "unreadable value" and expected.get((row[0], row[1], row[2])) == ("blank", None):
            expected[(row[0], row[1], row[2])] = ("unreadable", None)  # reported as such, not as no answer
    with open(base / "responses.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = CliRunner().invoke(cli, ["grade", str(base / "responses.csv"), "--exams", str(base / "class"),
                                      "--out", str(base / "grades")])
    return base, expected, garbage, result


def _grades(base):
    with open(base / "grades" / "grades.csv", newline="") as handle:
        return {(r["student"], int(r["problem"]), r["answer"]): r for r in csv.DictReader(handle)}


def test_grading_succeeds_with_skipped_rows_reported(graded):
    _, _, garbage, result = graded
    assert result.exit_code == 0, result.output
    for line in garbage:
        assert f"skipped line {line}:" in result.output
    assert f"{len(garbage)} rows skipped" in result.output


def test_correct_answers_get_full_marks_and_slips_are_named(graded):
    base, expected, _, _ = graded
    grades = _grades(base)
    seen = {"correct": 0, "slip": 0, "blank": 0, "unreadable": 0}
    for key, (verdict, slip) in expected.items():
        row = grades[key]
        assert (row["verdict"], row["slip"] or None) == (verdict, slip), (key, row)
        full = Fraction(row["max_points"]) if verdict == "correct" else 0
        assert Fraction(row["points"]) == full, row
        seen[verdict] += 1
    assert all(count > 5 for verdict, count in seen.items() if verdict != "unreadable"), seen


def test_feedback_names_each_slip_in_plain_words(graded):
    base, expected, _, _ = graded
    for student in {key[0] for key in expected}:
        contract = json.loads((base / "class" / student / "answers.json").read_text())
        says = {(p["number"], answer, s["name"]): s["says"] for p in contract["problems"]
                for answer, slips in p["slips"].items() for s in slips}
        feedback = (base / "grades" / "feedback" / f"{student}.txt").read_text()
        for (who, number, answer), (verdict, slip) in expected.items():
            if who == student and verdict == "slip":
                assert f"It looks like {says[(number, answer, slip)]}." in feedback


def test_summary_totals_add_up(graded):
    base, *_ = graded
    grades = _grades(base)
    with open(base / "grades" / "summary.csv", newline="") as handle:
        summary = {r["student"]: r for r in csv.DictReader(handle)}
    assert set(summary) == {f"s{i}" for i in range(STUDENTS)}
    for student, row in summary.items():
        mine = [g for key, g in grades.items() if key[0] == student]
        assert abs(Fraction(row["points"]) - sum(Fraction(g["points"]) for g in mine)) < Fraction(1, 100)
        assert Fraction(row["max_points"]) == 46


def test_manual_answers_are_left_to_a_person(graded):
    base, *_ = graded
    rows = [g for key, g in _grades(base).items() if key[2] == "layers"]
    assert rows and all(g["verdict"] == "blank" for g in rows)


def test_report_is_self_contained_and_counts_skipped_rows(graded):
    base, _, garbage, _ = graded
    report = (base / "grades" / "report.html").read_text()
    assert f"{len(garbage)} rows of the responses were skipped" in report
    for label in garbage.values():
        assert label in report
    images = [part.split('"')[0] for part in report.split('src="data:image/png;base64,')[1:]]
    assert len(images) == 3 and all(base64.b64decode(image).startswith(PNG) for image in images)
    for name in ("points.png", "totals.png", "slips.png"):
        assert (base / "grades" / name).read_bytes().startswith(PNG)
    assert "src=\"http" not in report and "<script" not in report


def test_letters_grade_a_choice_question(graded):
    base, expected, _, _ = graded
    choice_rows = [key for key in expected if key[2] == "w_decay"]
    assert {expected[key][0] for key in choice_rows} == {"correct", "slip"}


def test_nothing_gradable_exits_2_naming_each_row(graded, tmp_path):
    base, *_ = graded
    bad = tmp_path / "bad.csv"
    bad.write_text("id,problem,answer,value\nghost,1,w_plain,1\ns0,1,w_plain,abc\n")
    result = CliRunner().invoke(cli, ["grade", str(bad), "--exams", str(base / "class"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "line 2: no student 'ghost'" in result.output and "line 3:" in result.output and "'abc'" in result.output


def test_missing_columns_exit_2(graded, tmp_path):
    base, *_ = graded
    bad = tmp_path / "bad.csv"
    bad.write_text("student,problem,value\ns0,1,1\n")
    result = CliRunner().invoke(cli, ["grade", str(bad), "--exams", str(base / "class")])
    assert result.exit_code == 2
    assert "no column id, answer" in result.output and "bad.csv:1" in result.output


def test_not_a_class_folder_exits_2(tmp_path):
    (tmp_path / "r.csv").write_text("id,problem,answer,value\n")
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "r.csv"), "--exams", str(tmp_path)])
    assert result.exit_code == 2 and "holds no student's answers.json" in result.output


@pytest.mark.parametrize("text, value", [
    ("0.7842", Fraction(3921, 5000)), ("3921/5000", Fraction(3921, 5000)), ("-1.5e-2", Fraction(-3, 200)),
    ("147,840", 147840), ("147 840", 147840), (" 0.5 ", Fraction(1, 2)), ("\u22120.25", Fraction(-1, 4)),
    ("1,234,567.5", Fraction(2469135, 2)), (".5", Fraction(1, 2)), ("- 3 / 4".replace(" ", ""), Fraction(-3, 4)),
])
def test_numbers_as_students_write_them(text, value):
    parsed = parse_value(text, "1/3")
    assert isinstance(parsed, Fraction) and parsed == value


def test_lists_and_labels():
    assert parse_value("[[1, 2.5], [-3/4, 0]]", [["1"]]) == [[1, Fraction(5, 2)], [Fraction(-3, 4), 0]]
    assert parse_value("(1, 1, 1, 32)", [1]) == [1, 1, 1, 32]
    assert parse_value("  fewer ", "B") == "fewer"


@pytest.mark.parametrize("text, expected", [
    ("abc", 1), ("0,5", 1), ("1,5", 1), ("1/0", 1), ("nan", 1), ("1.2.3", 1),
    ("[1 2]", [1]), ("[1, 2", [1]), ("[1,,2]", [1]), ("[1] x", [1]), ("12", [1]),
])
def test_unreadable_values_are_refused(text, expected):
    with pytest.raises(ValueError):
        parse_value(text, expected)


def test_comparison_is_exact_and_within_tolerance():
    quarter_unit = default_tolerance("1/3")
    assert quarter_unit == Tolerance("abs", Fraction(1, 20000))
    assert matches(Fraction("0.3333"), "1/3", quarter_unit)
    assert not matches(Fraction("0.3334"), "1/3", quarter_unit)
    exact = default_tolerance(147840)
    assert {default_tolerance(v).kind for v in (147840, [[1, 2]], "B")} == {"exact"}
    assert matches(Fraction(147840), 147840, exact) and not matches(Fraction("147840.0001"), 147840, exact)
    assert matches("b", "B", exact) and not matches(Fraction(1), "B", exact)
    relative = parse_tolerance({"rel": 0.01}, where="test")
    assert relative.value == Fraction(1, 100)  # from the text "0.01", not the binary float
    assert matches(Fraction(101), 100, relative) and not matches(Fraction("101.01"), 100, relative)
    assert matches([Fraction(1), Fraction(2)], [1, 2], exact) and not matches([Fraction(1)], [1, 2], exact)


# --- answers a person grades, and the messages for values that cannot be read ----


@pytest.fixture(scope="module")
def hand_graded(graded, tmp_path_factory):
    """s0 writes a network (graded by hand) and a few unreadable values; s1 leaves the network out."""
    base, *_ = graded
    out = tmp_path_factory.mktemp("hand")
    rows = [["id", "problem", "answer", "value"],
            ["s0", 4, "layers", "a small VGG-like stack, see the drawing"],  # not in the notation: by hand
            ["s0", 1, "w_decay", "E"],  # the choice question has A to D
            ["s0", 1, "w_plain", "0,995"],  # a decimal comma
            ["s0", 3, "y", "[1 2 3]"],  # a vector without commas
            ["s1", 1, "w_plain", "1"]]
    with open(out / "responses.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = CliRunner().invoke(cli, ["grade", str(out / "responses.csv"), "--exams", str(base / "class"),
                                      "--out", str(out / "grades")])
    assert result.exit_code == 0, result.output
    return out / "grades", result.output


def test_unreadable_values_say_what_to_write(hand_graded):
    _, output = hand_graded
    assert "line 3: student 's0', problem 1, answer 'w_decay': 'E' is not an option of this multiple-choice " \
           "question; mark one of A, B, C, D" in output
    assert "line 4: student 's0', problem 1, answer 'w_plain': '0,995' may be a decimal comma; write a decimal " \
           "point (0.995)" in output
    assert "line 5: student 's0', problem 3, answer 'y': '1 2 3' needs commas between its numbers; write a " \
           "vector as [1, 2, 3]" in output


def test_answers_graded_by_hand_are_pending(hand_graded):
    folder, output = hand_graded
    assert "1 to grade by hand, so totals are provisional" in output
    with open(folder / "grades.csv", newline="") as handle:
        layers = {r["student"]: r for r in csv.DictReader(handle) if r["answer"] == "layers"}
    assert (layers["s0"]["verdict"], layers["s0"]["points"]) == ("by hand", "")  # no points yet, not 0
    assert (layers["s1"]["verdict"], Fraction(layers["s1"]["points"])) == ("blank", 0)
    with open(folder / "summary.csv", newline="") as handle:
        summary = {r["student"]: r for r in csv.DictReader(handle)}
    assert (summary["s0"]["status"], Fraction(summary["s0"]["pending_points"])) == ("provisional", Fraction(10, 4))
    assert (summary["s1"]["status"], Fraction(summary["s1"]["pending_points"])) == ("final", 0)
    feedback = (folder / "feedback" / "s0.txt").read_text()
    assert "so far (provisional: 2.5 points are still to be graded by hand)" in feedback.splitlines()[1]
    assert "your teacher grades it by hand (pending)" in feedback
    assert "1 answer of 1 student is to be graded by hand" in (folder / "report.html").read_text()


def test_feedback_reads_like_the_exam(hand_graded):
    folder, _ = hand_graded
    feedback = (folder / "feedback" / "s1.txt").read_text()
    assert "  the layers of your network: no answer. More than one answer is right here" in feedback
    assert "  the weight after one plain SGD step: 1 is not right" in feedback
    assert "{'" not in feedback and "w_plain" not in feedback  # no Python reprs, no internal names


def test_readable_prints_layers_as_pytorch_does():
    layer = {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 5, "bias": True}
    assert readable([layer, {"type": "MaxPool2d", "kernel_size": 2}]) == \
        "[Conv2d(in_channels=3, out_channels=8, kernel_size=5, bias=True), MaxPool2d(kernel_size=2)]"


@pytest.mark.parametrize("text", ["0,995", "-0,5", "00,500", "0,5", "1,5"])
def test_a_possible_decimal_comma_is_refused(text):
    with pytest.raises(ValueError, match="decimal comma; write a decimal point"):
        parse_value(text, "1/3")


def test_thousands_separators_still_work():
    assert [parse_value(t, 1) for t in ("147,840", "147 840", "1,000", "-1,234,567")] == [147840, 147840, 1000,
                                                                                          -1234567]
