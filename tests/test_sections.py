"""Sections, pools, question files and the instructor's look: the bank format beyond
a plain list of families, and that a bank without any of it renders as before."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.bank import load_bank, parse_bank
from generator.cli import cli
from generator.pipeline import render_exam
from generator.questions import Asked
from generator.render import environment
from generator.variants import draw_exam

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
       b"\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def _gen(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def _write(folder: Path, data: dict, name: str = "bank.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder / name


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_a_bank_without_the_new_keys_uses_none_of_them():
    """Today's banks: no section, question or CJK macros, the English strings as before."""
    for name in ("default", "midterm"):
        bank = load_bank(name)
        assert bank.sections == [] and bank.language == "en" and bank.images == {}
        tex = render_exam(draw_exam(bank, 1, {"id": "s1", "name": "A"}), key=False)
        for absent in ("\\genquestion", "needspace", "CJK", "\\fullwidth", "\\pointpoints", "\\genlogo",
                       "adjustbox", "\\raggedbottom"):
            assert absent not in tex
        assert "\\makebox[0.62\\textwidth][l]{Name: \\textbf{A}}%\nStudent ID: \\textbf{s1}\n" in tex
        assert "This exam has" in tex and "\\footer{}{\\genvariant{} --- page \\thepage{} of \\gentotal{}}{}" in tex


def test_shuffle_stays_within_sections():
    data = {"title": "Sections", "shuffle": True, "sections": [
        {"heading": "A", "problems": [{"question": f"a{i}", "text": f"question a{i}", "points": 1}
                                      for i in range(4)]},
        {"heading": "B", "problems": [{"family": "conv_params"}, {"family": "conv_output_size"},
                                      {"question": "b", "text": "t"}]},
    ]}
    bank = parse_bank(data, name="sections", where="test")
    orders = set()
    for i in range(20):
        exam = draw_exam(bank, 1, {"id": f"s{i}", "name": "x"})
        assert [p.section for p in exam.problems] == [1, 1, 1, 1, 2, 2, 2]
        orders.add(tuple(p.slot for p in exam.problems))
        assert exam.contract()["sections"] == [{"number": 1, "heading": "A", "points": 4},
                                               {"number": 2, "heading": "B", "points": 30}]
    assert len(orders) > 5


def test_pools_pick_k_distinct_and_stable():
    data = {"title": "Pool", "problems": [
        {"id": "pool", "pick": 3, "from": [{"question": f"q{i}", "text": f"t{i}", "points": 2} for i in range(6)]
         + [{"family": "conv_params", "points": 2}]},
        {"family": "sgd_step"},
    ]}
    bank = parse_bank(data, name="pool", where="test")
    seen = set()
    for i in range(40):
        student = {"id": f"s{i}", "name": "x"}
        exam = draw_exam(bank, 9, student)
        picked = [p.alternative for p in exam.problems if p.slot == "pool"]
        assert len(picked) == 3 and len(set(picked)) == 3 and picked == sorted(picked)
        assert picked == [p.alternative for p in draw_exam(bank, 9, student).problems if p.slot == "pool"]
        assert exam.total_points == 6 + 10 and [p.number for p in exam.problems] == [1, 2, 3, 4]
        seen.update(picked)
    assert seen == set(range(7))


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "t", "problems": [{"pick": 3, "from": [{"family": "sgd_step"}]}]}, "1 to 1"),
    ({"title": "t", "problems": [{"pick": 1}]}, "`pick: k` with `from:`"),
    ({"title": "t", "problems": [{"family": "sgd_step"}], "sections": []}, "either `problems` or `sections`"),
    ({"title": "t", "sections": [{"problems": [{"family": "sgd_step"}]}]}, "needs a `heading`"),
    ({"title": "t", "sections": [{"heading": "A", "problem": []}]}, "unknown key `problem`"),
    ({"title": "t", "language": "tlh", "problems": [{"family": "sgd_step"}]}, "`language` is one of"),
    ({"title": "t", "fields": ["name", "shoe_size"], "problems": [{"family": "sgd_step"}]}, "`fields`"),
    ({"title": "t", "space_scale": 0, "problems": [{"family": "sgd_step"}]}, "`space_scale`"),
    ({"title": "t", "logo": "../logo.png", "problems": [{"family": "sgd_step"}]}, "leads out of"),
    ({"title": "t", "templates": "/etc", "problems": [{"family": "sgd_step"}]}, "is absolute"),
    ({"title": "t", "problems": [{"include": "questions/none.yaml"}]}, "was not found"),
    ({"title": "t", "problems": [{"include": "../outside.yaml"}]}, "leads out of"),
])
def test_bad_bank_keys_are_refused(tmp_path, data, message):
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "outside.yaml").write_text("question: x\ntext: t\n")
    path = _write(tmp_path / "course", data)
    result = _gen("exam", "--bank", path, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_question_files_and_folders(tmp_path):
    course = tmp_path / "course"
    _write(course / "questions", {"question": "one", "text": "See ![](fig.png)", "points": 3}, "one.yaml")
    (course / "questions" / "fig.png").write_bytes(PNG)
    _write(course / "questions" / "quick", {"question": "tf", "kind": "true_false", "text": "t", "correct": True,
                                            "points": 1}, "a.yaml")
    _write(course / "questions" / "quick", [{"question": "n", "kind": "numeric", "text": "t", "correct": 3,
                                             "points": 1}], "b.yaml")
    _write(course, {"title": "Files", "problems": [
        {"include": "questions/one.yaml"},
        {"pick": 2, "from": [{"include": "questions/quick/"}]},
    ]})
    bank = load_bank(str(course))
    assert bank.name == "course"
    assert [type(c).__name__ for s in bank.slots for c in s.choices] == ["Question", "Question", "Question"]
    assert len(bank.images) == 1 and next(iter(bank.images.values())) == (course / "questions" / "fig.png").resolve()
    exam = draw_exam(bank, 1)
    assert [p.question.id for p in exam.problems if isinstance(p, Asked)] == ["one", "tf", "n"]
    bad = course / "questions" / "quick" / "c.yaml"
    bad.write_text("question: c\nkind: choice\ntext: t\noptions: [a, b]\ncorrect: 5\n")
    result = _gen("exam", "--bank", course, "--out", tmp_path / "out")
    assert result.exit_code == 2 and f"{bad}:1" in result.output


def test_bank_named_by_its_folder_keeps_file_banks_seeds(tmp_path):
    """`--bank banks/x/bank.yaml` is the file bank `bank`, as before; the folder is `x`."""
    path = _write(tmp_path / "x", {"title": "t", "problems": [{"family": "sgd_step"}]})
    assert load_bank(str(path)).name == "bank" and load_bank(str(tmp_path / "x")).name == "x"


def test_the_instructors_look(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "logo.png").write_bytes(PNG)
    _write(course, {
        "title": "Look", "course": "CS 1", "logo": "logo.png", "header": "Header & {text}",
        "footer": "Footer $ text", "honour_code": "I did this **alone**.", "space_scale": 1.5,
        "fields": ["name", "student_id", "section", "seat", "signature"],
        "sections": [{"heading": "Part A", "intro": "Be brief.", "problems": [
            {"question": "w", "text": "Why?", "points": 4, "space": "4cm"}]},
                     {"heading": "Part B", "problems": [{"family": "conv_params", "points": 6}]}],
    })
    result = _gen("exam", "--bank", course, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    tex = (tmp_path / "out" / "exam.tex").read_text()
    assert "\\vspace*{1.5\\dimexpr#1\\relax}" in tex and "\\answerspace[4cm]" in tex
    assert "\\genlogo{img-" in tex
    text = _text(tmp_path / "out" / "exam.pdf")
    for shown in ("Header & {text}", "Footer $ text", "I did this alone.", "Signature:", "Section:", "Seat:",
                  "Part A (4 points)", "Be brief.", "Part B (6 points)"):
        assert shown in text, shown
    quiet = _write(course, {"title": "Quiet", "section_points": False, "sections": [
        {"heading": "Part A", "problems": [{"family": "conv_params"}]}]}, "quiet.yaml")
    tex = render_exam(draw_exam(load_bank(str(quiet)), 1), key=False)
    assert "Part A (" not in tex and "{\\large\\bfseries Part A\\par}" in tex


def test_a_course_template_folder_overrides_templates(tmp_path):
    course = tmp_path / "course"
    (course / "templates").mkdir(parents=True)
    question = (Path(__file__).parent.parent / "templates" / "question.tex").read_text()
    (course / "templates" / "question.tex").write_text(question.replace(
        "\\VAR{problem.text}", "\\textsc{Course style:} \\VAR{problem.text}"))
    _write(course, {"title": "Own templates", "templates": "templates",
                    "problems": [{"question": "w", "text": "Why?"}, {"family": "sgd_step"}]})
    result = _gen("exam", "--bank", course, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Course style: Why?" in _text(tmp_path / "out" / "exam.pdf")
    # a course template runs sandboxed: no way into Python's internals
    (course / "templates" / "question.tex").write_text("\\VAR{problem.__class__.__mro__[1].__subclasses__()}")
    environment.cache_clear()  # templates are read once per run; this test changes them within one
    result = _gen("exam", "--bank", course, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "template" in result.output and "unsafe" in result.output
    (course / "templates" / "question.tex").write_text("\\BLOCK{if}")
    environment.cache_clear()
    result = _gen("exam", "--bank", course, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "question.tex:1" in result.output


def test_uneven_pool_points_are_noted(tmp_path):
    path = _write(tmp_path, {"title": "t", "problems": [
        {"pick": 1, "from": [{"question": "a", "text": "t", "points": 2},
                             {"question": "b", "text": "t", "points": 3}]}]})
    result = _gen("exam", "--bank", path, "--out", tmp_path / "out")
    assert result.exit_code == 0 and "worth 2 to 3 points" in result.output
    contract = json.loads((tmp_path / "out" / "answers.json").read_text())
    assert contract["problems"][0]["points"] in (2, 3)
