"""Questions written in the bank, end to end: a bank with written, true/false, choice,
numeric and text questions, a `pick: 2` pool and two sections; a class built with a
roster compiles; each student's questions and option orders are stable and differ
between students; answers.json follows the contract; `gen grade` scores the
fixed-answer questions and leaves the written ones to a person; Moodle and QTI
exports hold them; hostile text is refused or printed literally, never run."""

import csv
import json
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.bank import load_bank
from generator.cli import cli
from generator.grade import read_truth
from generator.questions import Asked
from generator.variants import draw_exam

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
       b"\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")

BANK = {
    "title": "Questions test",
    "shuffle": True,
    "fields": ["name", "student_id", "seat"],
    "sections": [
        {"heading": "Part A: short questions", "intro": "Answer *briefly*.", "problems": [
            {"question": "degradation", "points": 6,
             "text": "Explain the *degradation problem* that motivated residual networks.\n"
                     "Why is it not overfitting? Use $\\mathcal{F}(x) + x$.\n\n![](figures/block.png)\n",
             "answer": "Deeper **plain** networks have a higher *training* error.",
             "rubric": [{"points": 3, "criterion": "training error of deeper plain nets rises"},
                        {"points": 3, "criterion": "the identity path makes the deeper net at least as good"}],
             "space": "5cm"},
            {"pick": 2, "from": [
                {"question": "bn_lr", "kind": "true_false", "points": 2,
                 "text": "Batch normalisation allows higher learning rates.", "correct": True},
                {"question": "norms", "kind": "choice", "points": 2, "text": "Which one uses batch statistics?",
                 "options": ["LayerNorm", "BatchNorm", "GroupNorm", "InstanceNorm"], "correct": [1]},
                {"question": "yolo_terms", "kind": "numeric", "points": 2,
                 "text": "How many outputs for $S = 13$, $B = 5$, $C = 80$?", "correct": "17745",
                 "tolerance": "exact"},
                {"family": "conv_params", "points": 2},
            ]},
        ]},
        {"heading": "Part B: problems", "problems": [
            {"family": "sgd_step", "points": 8},
            {"question": "cheaper", "kind": "choice", "points": 3, "text": "Which have fewer weights?",
             "options": ["two $3\\times3$", "one $7\\times7$", "depthwise + pointwise", "a wider $5\\times5$"],
             "correct": [0, 2]},
            {"question": "proposals", "kind": "text", "points": 1, "text": "What proposes the boxes?",
             "correct": ["RPN", "region proposal network"]},
            {"question": "lr", "kind": "numeric", "points": 1, "text": "Give $\\eta$ to two places.",
             "correct": 0.25, "tolerance": {"abs": 0.005}},
        ]},
    ],
}
STUDENTS = 6


def _gen(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def write_bank(folder: Path, data: dict) -> Path:
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    (folder / "figures" / "block.png").write_bytes(PNG)
    (folder / "bank.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The bank folder and a class of six built from it."""
    base = tmp_path_factory.mktemp("questions")
    bank = write_bank(base / "course", BANK)
    with open(base / "class.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["id", "name", "seat"]] + [[f"s{i}", f"Student {i}", f"A{i}"]
                                                                 for i in range(STUDENTS)])
    result = _gen("exam", "--bank", bank, "--roster", base / "class.csv", "--seed", 3, "--out", base / "class",
                  "--jobs", 2)
    assert result.exit_code == 0, result.output
    return base


def _contracts(base: Path) -> dict[str, dict]:
    return {f"s{i}": json.loads((base / "class" / f"s{i}" / "answers.json").read_text()) for i in range(STUDENTS)}


def test_class_compiles_with_sections_and_every_kind(built):
    contracts = _contracts(built)
    for student, contract in contracts.items():
        assert (built / "class" / student / "exam.pdf").read_bytes().startswith(b"%PDF")
        assert [s["heading"] for s in contract["sections"]] == ["Part A: short questions", "Part B: problems"]
        problems = contract["problems"]
        assert [p["number"] for p in problems] == list(range(1, 8))
        # shuffle stays within a section: part A's three problems come first
        assert [p["section"] for p in problems] == [1, 1, 1, 2, 2, 2, 2]
        pool = [p for p in problems if p["slot"] == "2"]
        assert len(pool) == 2 and len({p["alternative"] for p in pool}) == 2
        assert all(p["pool"] == {"pick": 2, "of": 4} for p in pool)
        assert contract["total_points"] == 6 + 2 + 2 + 8 + 3 + 1 + 1
    kinds = {p.get("kind", "family") for c in contracts.values() for p in c["problems"]}
    assert kinds == {"written", "true_false", "choice", "numeric", "text", "family"}
    text = subprocess.run(["pdftotext", str(built / "class" / "s0" / "exam.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Part A: short questions (" in text and "Answer briefly." in text and "Seat: A0" in text
    key = subprocess.run(["pdftotext", str(built / "class" / "s0" / "key.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    assert "Model answer." in key and "training error of deeper plain nets rises" in key


def test_contract_of_questions(built):
    problems = {p.get("question"): p for c in _contracts(built).values() for p in c["problems"]}
    written = problems["degradation"]
    assert written["kind"] == "written" and written["answers"] == {}
    assert written["model_answer"].startswith("Deeper **plain** networks")
    assert written["rubric"] == [{"points": 3, "criterion": "training error of deeper plain nets rises"},
                                 {"points": 3, "criterion": "the identity path makes the deeper net at least as good"}]
    assert "family" not in written and "seed" not in written and "params" not in written
    cheaper = problems["cheaper"]
    letters = [o["letter"] for o in cheaper["choice"]["options"]]
    assert letters == ["A", "B", "C", "D"] and cheaper["choice"]["multiple"] is True
    right = [o["letter"] for o in cheaper["choice"]["options"] if o["correct"]]
    assert cheaper["answers"] == {"answer": right} and len(right) == 2
    assert {o["text"] for o in cheaper["choice"]["options"] if o["correct"]} == {"two $3\\times3$",
                                                                                "depthwise + pointwise"}
    assert problems["lr"]["answers"] == {"answer": "1/4"}
    assert problems["lr"]["tolerance"] == {"answer": {"kind": "abs", "value": "1/200"}}
    assert problems["proposals"]["accepted"] == ["RPN", "region proposal network"]
    if "bn_lr" in problems:
        assert problems["bn_lr"]["answers"] == {"answer": True}
    if "yolo_terms" in problems:
        assert problems["yolo_terms"]["answers"] == {"answer": "17745"}


def test_stable_per_student_and_different_between_students(tmp_path):
    bank = load_bank(str(write_bank(tmp_path / "course", BANK)))
    orders, picks = set(), set()
    for i in range(30):
        student = {"id": f"s{i}", "name": "x"}
        first, again = draw_exam(bank, 3, student), draw_exam(bank, 3, student)
        assert first.contract() == again.contract()
        cheaper = next(p for p in first.problems if isinstance(p, Asked) and p.question.id == "cheaper")
        orders.add(cheaper.order)
        picks.add(tuple(p.alternative for p in first.problems if p.slot == "2"))
    assert len(orders) > 5 and len(picks) > 3


def test_one_of_is_pick_one(tmp_path):
    alternatives = [{"family": "sgd_step"}, {"family": "conv_params"}, {"family": "focal_loss"}]
    one_of = {"title": "t", "problems": [{"id": "x", "one_of": alternatives}]}
    pick = {"title": "t", "problems": [{"id": "x", "pick": 1, "from": alternatives}]}
    for data, name in ((one_of, "a"), (pick, "b")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "same.yaml").write_text(yaml.safe_dump(data))
    a, b = load_bank(str(tmp_path / "a" / "same.yaml")), load_bank(str(tmp_path / "b" / "same.yaml"))
    for i in range(10):
        student = {"id": f"s{i}", "name": "x"}
        assert draw_exam(a, 1, student).contract() == draw_exam(b, 1, student).contract()


def _answer(problem: dict, right: bool) -> str:
    """What a student writes for a fixed-answer question: right or wrong."""
    kind, correct = problem["kind"], problem["answers"]["answer"]
    if kind == "true_false":
        return ("true" if correct else "false") if right else ("wahr" if not correct else "F")
    if kind == "choice":
        letters = [o["letter"] for o in problem["choice"]["options"]]
        return ", ".join(c.lower() for c in correct) if right else next(x for x in letters if x not in correct)
    if kind == "text":
        return " region PROPOSAL network " if right else "RoI pooling"
    if kind == "numeric":
        return ("0.251" if correct == "1/4" else correct) if right else "17,746"
    raise AssertionError(kind)


def test_grade_scores_fixed_answers_and_leaves_written_ones(built):
    rows, expected = [["id", "problem", "answer", "value"]], {}
    for student, contract in _contracts(built).items():
        right = student in ("s0", "s2", "s4")
        for problem in contract["problems"]:
            if problem.get("kind") in ("true_false", "choice", "numeric", "text"):
                rows.append([student, problem["number"], "answer", _answer(problem, right)])
                expected[(student, problem["number"])] = "correct" if right else "wrong"
            elif problem.get("kind") == "written":
                expected[(student, problem["number"])] = "by hand"
    rows.append(["s1", next(p["number"] for p in _contracts(built)["s1"]["problems"] if p.get("kind") == "written"),
                 "answer", "an essay"])
    with open(built / "responses.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = _gen("grade", built / "responses.csv", "--exams", built / "class", "--out", built / "grades")
    assert result.exit_code == 0, result.output
    assert "is a written question" in result.output  # the row for a written question is skipped, with its line
    with open(built / "grades" / "grades.csv") as handle:
        graded = {(r["student"], int(r["problem"])): r for r in csv.DictReader(handle)}
    for key, verdict in expected.items():
        assert graded[key]["verdict"] == verdict, (key, graded[key])
    written = [r for r in graded.values() if r["verdict"] == "by hand"]
    assert written and all(r["points"] == "" and r["max_points"] == "6" and r["answer"] == "written"
                           for r in written)
    with open(built / "grades" / "summary.csv") as handle:
        summary = {r["student"]: r for r in csv.DictReader(handle)}
    assert all(r["status"] == "provisional" and r["pending_points"] == "6" for r in summary.values())
    feedback = (built / "grades" / "feedback" / "s0.txt").read_text()
    assert "your written answer: a written answer: your teacher grades it by hand (pending)." in feedback


def test_exports_hold_the_questions(built, tmp_path):
    bank = built / "course"
    result = _gen("export", "--format", "moodle", "--bank", bank, "--variants", 1, "--out", tmp_path / "q.xml")
    assert result.exit_code == 0, result.output
    quiz = ET.parse(tmp_path / "q.xml").getroot()
    types = {q.findtext("idnumber"): q.get("type") for q in quiz.findall("question") if q.get("type") != "category"}
    assert {types[k] for k in ("degradation", "bn_lr", "norms", "yolo_terms", "cheaper", "proposals", "lr")} == {
        "essay", "truefalse", "multichoice", "numerical", "shortanswer"}
    essay = next(q for q in quiz.findall("question") if q.findtext("idnumber") == "degradation")
    assert "higher <em>training</em> error" in essay.find("graderinfo").findtext("text")
    assert "\\(\\mathcal{F}(x) + x\\)" in essay.find("questiontext").findtext("text")
    assert essay.find("questiontext").find("file") is not None  # the figure travels with the text
    cheaper = next(q for q in quiz.findall("question") if q.findtext("idnumber") == "cheaper")
    assert cheaper.findtext("single") == "false"
    assert sorted(a.get("fraction") for a in cheaper.findall("answer")) == ["-50", "-50", "50", "50"]
    lr = next(q for q in quiz.findall("question") if q.findtext("idnumber") == "lr")
    assert lr.find("answer").findtext("text") == "0.25" and lr.find("answer").findtext("tolerance") == "0.005"

    result = _gen("export", "--format", "qti", "--bank", bank, "--variants", 1, "--out", tmp_path / "q.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "q.zip") as archive:
        names = archive.namelist()
        assessment = ET.fromstring(archive.read(next(n for n in names if n.startswith("gen_") and n.endswith(".xml"))))
    assert any(n.startswith("images/img-") for n in names)
    ns = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
    kinds = {item.get("ident"): item.find(".//q:qtimetadatafield/q:fieldentry", ns).text
             for item in assessment.iterfind(".//q:item", ns) if item.get("ident").startswith("q_")}
    assert kinds == {"q_degradation": "essay_question", "q_bn_lr": "true_false_question",
                     "q_norms": "multiple_choice_question", "q_yolo_terms": "numerical_question",
                     "q_cheaper": "multiple_answers_question", "q_proposals": "short_answer_question",
                     "q_lr": "numerical_question"}


def test_grade_reads_true_and_false_in_every_language():
    for written, value in (("wahr", True), ("Falsch", False), ("vrai", True), ("faux", False), ("verdadero", True),
                           ("对", True), ("错", False), ("T", True), ("no", False)):
        assert read_truth(written) is value
    with pytest.raises(ValueError, match="neither true nor false"):
        read_truth("maybe")


# --- hostile text and bad banks ------------------------------------------------------


HOSTILE = [
    (r"Read $\input{/etc/passwd}$ now", r"`\input`"),
    (r"$\immediate\write18{touch pwned}$", r"`\immediate`"),
    (r"$\catcode`\^=7$", r"`\catcode`"),
    (r"$\def\x{\x}\x$", r"`\def`"),
    (r"$\begin{verbatim}$", "`verbatim`"),
    ("$$\\csname x\\endcsname$$", r"`\csname`"),
    (r"$x^^5c$", "`^^`"),
]


@pytest.mark.parametrize(("text", "named"), HOSTILE)
def test_hostile_math_is_refused_with_file_line_and_command(tmp_path, text, named):
    bank = {"title": "Hostile", "problems": [
        {"family": "conv_params"},
        {"question": "evil", "points": 2, "text": f"First line.\n\nThird line {text}.\n"},
    ]}
    folder = write_bank(tmp_path, bank)
    result = _gen("exam", "--bank", folder, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert named in result.output and "question 'evil'" in result.output
    line = next(i for i, row in enumerate((folder / "bank.yaml").read_text().splitlines(), 1) if "Third line" in row)
    assert f"bank.yaml:{line}:" in result.output
    assert not (tmp_path / "out" / "exam.pdf").exists()


def test_hostile_text_outside_math_is_printed_literally(tmp_path):
    evil = (r"\input{/etc/passwd} \write18{touch pwned} \catcode`\{=12 \def\x{y} \csname relax\endcsname "
            r"\begin{verbatim} never ends ^^5c %")
    bank = {"title": "Hostile", "problems": [{"question": "evil", "points": 2, "text": evil, "answer": evil}]}
    folder = write_bank(tmp_path, bank)
    result = _gen("exam", "--bank", folder, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    for name in ("exam", "key"):
        text = subprocess.run(["pdftotext", str(tmp_path / "out" / f"{name}.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert r"\input{/etc/passwd}" in text and r"\begin{verbatim} never ends ^^5c %" in text
        assert "root:" not in text
    assert not Path("pwned").exists() and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("entry", "message"), [
    ({"question": "img", "text": "![x](../outside.png)"}, "leads out of the bank's folder"),
    ({"question": "img", "text": "![x](/etc/passwd)"}, "is absolute"),
    ({"question": "img", "text": "![x](figures/missing.png)"}, "was not found"),
    ({"question": "c", "kind": "choice", "text": "t", "options": ["a", "b"], "correct": [0, 1],
      "multiple": False}, "`multiple` is false"),
    ({"question": "c", "kind": "choice", "text": "t", "options": ["a", "b"], "correct": 2}, "counted from 0"),
    ({"question": "c", "kind": "choice", "text": "t", "options": [4, 2, 1], "correct": 2}, "could be the option"),
    ({"question": "t", "kind": "true_false", "text": "t", "correct": "yes"}, "true or false"),
    ({"question": "n", "kind": "numeric", "text": "t", "correct": "many"}, "must be a number"),
    ({"question": "w", "text": "t", "options": ["a"]}, "`options` is not a key of a written question"),
    ({"question": "w", "points": 5, "text": "t", "rubric": [{"points": 2, "criterion": "x"}]}, "add up to 2"),
    ({"question": "bad id!", "text": "t"}, "question's id"),
    ({"question": "w", "kind": "essay", "text": "t"}, "`kind` is one of"),
    ({"question": "w"}, "needs `text`"),
])
def test_bad_questions_are_refused(tmp_path, entry, message):
    (tmp_path / "outside.png").write_bytes(PNG)
    folder = write_bank(tmp_path / "course", {"title": "Bad", "problems": [entry]})
    result = _gen("exam", "--bank", folder, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in result.output and "bank.yaml" in result.output


def test_a_question_asked_twice_is_refused(tmp_path):
    question = {"question": "same", "text": "t"}
    folder = write_bank(tmp_path, {"title": "Twice", "problems": [question, {"pick": 1, "from": [question]}]})
    result = _gen("exam", "--bank", folder, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "is in the bank twice" in result.output
