"""The grading sheet (DIR/grading.pdf of `gen exam --roster`): one table per problem,
every student of the roster once in each, in the order of exams.pdf, with the final
answers of their variant exactly as answers.json has them (as the key prints them)."""

import csv
import json
import random
import re
import subprocess
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from generator.bank import parse_bank
from generator.choice import option_text, rounded
from generator.cli import cli
from generator.gradingsheet import GradingSheet, short_tex
from generator.pipeline import option_tex
from generator.variants import draw_exam

BANK = {
    "title": "Quiz",
    "course": "Test Course",
    "problems": [
        {"family": "sgd_step", "points": 4},
        {"family": "yolo_output", "points": 2},
        {"question": "count", "kind": "numeric", "points": 1, "text": "How many?", "correct": "1/8"},
        {"question": "why", "points": 3, "text": "Why does a residual block help?"},
    ],
}
NAMES = ["Ada Lovelace", "O'Brien & Søren_% #1 {x}", r"\input{/etc/passwd}", "Zoë Łukasz Dvořák", "Alan Turing",
         "Grace Hopper"]


def _text(pdf):
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _squeezed(text):
    return re.sub(r"[\s\u2009]", "", text).replace("\u2212", "-")


def _class(folder, names, seed=5):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "quiz.yaml").write_text(yaml.safe_dump(BANK), encoding="utf-8")
    with open(folder / "class.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        writer.writerows([f"s{i:02d}", name] for i, name in enumerate(names))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(folder / "quiz.yaml"), "--roster",
                                      str(folder / "class.csv"), "--seed", str(seed), "--out", str(folder / "out"),
                                      "--jobs", "2"])
    return result, folder / "out"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    result, out = _class(tmp_path_factory.mktemp("sheet"), NAMES)
    assert result.exit_code == 0, result.output
    return out


def _problems(pdf) -> dict[int, str]:
    """The sheet's text per problem number (each problem starts on a page of its own)."""
    found = {}
    for page in _text(pdf).split("\f"):
        heading = re.search(r"^Problem (\d+)", page, re.M)
        if heading:
            number = int(heading.group(1))
            found[number] = found.get(number, "") + page[heading.start():]
    return found


def test_every_student_is_listed_once_per_problem_in_the_order_of_exams_pdf(klass):
    problems = _problems(klass / "grading.pdf")
    assert sorted(problems) == [1, 2, 3, 4]
    ids = [f"s{i:02d}" for i in range(len(NAMES))]
    for number, text in problems.items():
        words = text.split()
        assert [w for w in words if re.fullmatch(r"s\d\d", w)] == ids, number
        for sid in ids:
            variant = json.loads((klass / sid / "answers.json").read_text())["variant"]
            assert words.count(variant) == 1, (number, sid)
    sheet = _text(klass / "grading.pdf")
    for sid in ids:  # pdftotext may read a variant code into the middle of a name that wraps
        sheet = sheet.replace(json.loads((klass / sid / "answers.json").read_text())["variant"], "")
    for name in NAMES:  # printed exactly, nothing run
        assert _squeezed(sheet).count(_squeezed(name)) == 4, name
    assert "root:" not in sheet


def _rows(pdf) -> dict[int, dict[str, str]]:
    """Per problem number, each student's row (all its lines, squeezed) as pdftotext
    -layout reads it."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    rows: dict[int, dict[str, str]] = {}
    number, sid = 0, None
    for line in text.splitlines():
        heading = re.match(r"\s*Problem (\d+)", line)
        start = re.match(r"\s*\d+\s+(s\d\d)\s", line)
        if heading:
            number, sid = int(heading.group(1)), None
        elif start:
            sid = start.group(1)
            rows.setdefault(number, {})[sid] = ""
        elif re.match(r"\s*page \d+", line):
            sid = None
        if sid is not None:
            rows[number][sid] += _squeezed(line)
    return rows


def test_the_answers_are_those_of_each_students_answers_json(klass):
    rows = _rows(klass / "grading.pdf")
    for i in range(len(NAMES)):
        sid = f"s{i:02d}"
        answers = json.loads((klass / sid / "answers.json").read_text())
        for number in (1, 2):  # sgd_step and yolo_output: a) b) c) in the family's order, as the key prints them
            values = answers["problems"][number - 1]["answers"].values()
            for tag, value in zip("abcdef", values, strict=False):
                assert f"{tag}){_squeezed(option_text(value))}" in rows[number][sid], (number, sid, tag)
            assert answers["variant"] in rows[number][sid]
        assert "0.125" in rows[3][sid]  # the numeric question's 1/8
        assert "byhand" in rows[4][sid]  # the written one
    problems = _problems(klass / "grading.pdf")
    assert "the weight after one plain SGD step" in problems[1]  # the legend names the answers


def test_only_leaves_the_sheet_alone(klass, tmp_path):
    before = (klass / "grading.pdf").read_bytes()
    result = CliRunner().invoke(cli, ["exam", "--bank", str(klass.parent / "quiz.yaml"), "--roster",
                                      str(klass.parent / "class.csv"), "--seed", "5", "--out", str(klass),
                                      "--only", "s03"])
    assert result.exit_code == 0, result.output
    assert (klass / "grading.pdf").read_bytes() == before


def test_a_name_in_another_script_does_not_break_the_sheet(tmp_path):
    """Every student with an exam is on the sheet, in order, named as on the exam."""
    names = ["Ada Lovelace", "Дмитрий Иванов", "王芳", "Alan Turing"]
    result, out = _class(tmp_path, names)
    assert (out / "grading.pdf").exists(), result.output
    with_exam = [(f"s{i:02d}", name) for i, name in enumerate(names) if (out / f"s{i:02d}" / "exam.pdf").exists()]
    assert ("s00", "Ada Lovelace") in with_exam and ("s03", "Alan Turing") in with_exam
    problems = _problems(out / "grading.pdf")
    for text in problems.values():
        assert [w for w in text.split() if re.fullmatch(r"s\d\d", w)] == [sid for sid, _ in with_exam]
    for sid, name in with_exam:
        assert name in _text(out / sid / "exam.pdf") and _squeezed(name) in _squeezed(_text(out / "grading.pdf"))


def test_a_problem_that_holds_different_families_names_each_in_its_rows():
    bank = parse_bank({"title": "T", "problems": [{"id": "p", "one_of": [{"family": "sgd_step"},
                                                                         {"family": "yolo_output"}]}]},
                      name="mixed", where="mixed.yaml")
    sheet = GradingSheet(bank)
    families = set()
    for i in range(12):
        exam = draw_exam(bank, 1, {"id": f"s{i}", "name": f"N {i}"})
        families.add(exam.problems[0].family.id)
        sheet.add(f"s{i}", f"N {i}", exam)
    assert families == {"sgd_step", "yolo_output"}
    tex = sheet.render([f"s{i}" for i in range(12)])
    assert tex.count("\\textit{One SGD step") + tex.count("\\textit{Size of a YOLO") == 12 + 2  # rows + legend


def test_short_forms_are_the_keys_formatting():
    """short_tex's fast path for numbers, vectors and matrices gives exactly what
    pipeline.option_tex(choice.rounded(value)) gives (matrices as small ones)."""
    rng = random.Random(14)

    def number():
        if rng.random() < 0.4:
            return rng.choice([rng.randint(-20, 20), rng.randint(-10**9, 10**9)])
        value = Fraction(rng.randint(-10**6, 10**6), rng.choice([2, 3, 7, 8, 16, 125, 1000, 20000, 99999]))
        return value.numerator if value.denominator == 1 else str(value)

    values = [0, "-1/30000", "1/20000", "-99995/10", 9999, 10000, -10000, "A", None, {"x": 1, "y": "-2/3"},
              ["A", "B"], [[1, None]], [], [[]]]
    values += [number() for _ in range(2000)] + [[number() for _ in range(3)] for _ in range(300)]
    values += [[[number() for _ in range(3)] for _ in range(2)] for _ in range(300)]
    for value in values:
        slow = option_tex(rounded(value)).replace(r"\begin{bmatrix}", r"\left[\begin{smallmatrix}")
        assert short_tex(value) == slow.replace(r"\end{bmatrix}", r"\end{smallmatrix}\right]"), value


def test_answers_are_tagged_by_the_exams_parts():
    """conv_output_size's answers list the output size first, but part (a) asks for the
    window's span: the sheet's tags and order follow the exam's parts, so a grader marking
    "(a)" reads the answer to (a); two answers of one part are (c1) and (c2)."""
    from generator.numbers import to_json
    from generator.pipeline import exam_parts

    bank = parse_bank({"title": "Parts", "problems": [{"family": "conv_output_size", "points": 4}]},
                      name="parts", where="parts.yaml")
    exam = draw_exam(bank, 3)
    exam_parts(exam)  # rendering the statement tells each answer's part
    sheet = GradingSheet(bank)
    sheet.add("s1", "Ada", exam)
    problem = exam.problems[0]
    answers = problem.solution.answers
    cell = sheet.cells["s1"][0][2]
    expected = [("(a)", "effective_kernel"), ("(b)", "output_size"), ("(c1)", "compare_effective_kernel"),
                ("(c2)", "compare_output_size")]
    shown = [f"\\mbox{{{tag} ${short_tex(to_json(answers[name]))}$}}" for tag, name in expected]
    assert cell.startswith("\\quad ".join(shown))
    legend = next(iter(sheet.kinds[1].values())).labels
    assert legend[0] == "(a) the span of one dilated kernel window"
