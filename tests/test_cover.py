"""The cover page (bank option `cover: true`): the exam's first page holds the header
and a score table with every problem, its points and the total, and the problems
start on the next page; the key's cover lists the final answers as the key boxes them;
without the option the exam and the key are byte for byte what they were."""

import json
import re
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from generator.choice import option_text
from generator.cli import cli

BANK = {
    "title": "Quiz",
    "course": "Test Course",
    "instructions": "Show all steps.",
    "problems": [
        {"family": "sgd_step", "points": 4},
        {"family": "yolo_output", "points": 2, "format": "choice", "choices": 3},
        {"question": "why", "points": 3, "text": "Why does a *residual* block help training?"},
        {"question": "count", "kind": "numeric", "points": 1.5, "text": "How many outputs has $S = 13$?",
         "correct": 17745},
        {"question": "bn", "kind": "true_false", "points": 1, "title": "Batch statistics",
         "text": "BatchNorm uses running averages at test time.", "correct": True},
    ],
}
POINTS = ["4", "2", "3", "1.5", "1"]
TOTAL = "11.5"


def _build(folder, **extra):
    """The exam of BANK plus `extra` keys, in folder/out; the bank file is always quiz.yaml
    (its name is part of every seed)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "quiz.yaml").write_text(yaml.safe_dump({**BANK, **extra}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(folder / "quiz.yaml"), "--seed", "3",
                                      "--out", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return folder / "out"


def _page(pdf, first, last=None, *, layout=False):
    args = ["pdftotext", "-f", str(first), "-l", str(last or first), *(["-layout"] if layout else []), str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _squeezed(text):
    return re.sub(r"[\s\u2009]", "", text).replace("\u2212", "-")


@pytest.fixture(scope="module")
def covered(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("cover"), cover=True)


def test_the_exam_cover_has_a_score_table_with_every_problem_and_the_total(covered):
    cover = _page(covered / "exam.pdf", 1, layout=True)
    for word in ("Quiz", "Test Course", "Show all steps.", "For the graders", "Problem", "Points", "Score", "Total"):
        assert word in cover, word
    variant = json.loads((covered / "answers.json").read_text())["variant"]
    assert f"Variant {variant}" in cover
    lines = cover.splitlines()
    for number, points in enumerate(POINTS, 1):  # one row per problem: its number, title ..., its points
        assert any(re.fullmatch(rf"\s*{number}\s+\S.*\s{re.escape(points)}\s*", line) for line in lines), number
    assert any(re.fullmatch(rf"\s*Total\s+{re.escape(TOTAL)}\s*", line) for line in lines)
    assert "Batch statistics" in cover and "Why does a residual block help" in cover  # titles, or first words
    # the problems start on the next page
    assert "1. (4 points)" not in cover
    assert "1. (4 points)" in _page(covered / "exam.pdf", 2)


def test_the_key_cover_lists_the_final_answers_as_the_key_boxes_them(covered):
    answers = json.loads((covered / "answers.json").read_text())
    cover = _page(covered / "key.pdf", 1)
    assert "Final answers" in cover and "Score" not in cover
    squeezed = _squeezed(cover)
    sgd, yolo = answers["problems"][0], answers["problems"][1]
    for name, value in sgd["answers"].items():
        assert _squeezed(sgd["labels"][name]) in squeezed
        assert _squeezed(option_text(value)) in squeezed, (name, value)
    choice = yolo["choice"]  # the multiple-choice answer leads with its letter
    assert _squeezed(f"{choice['correct']}: {option_text(yolo['answers'][choice['answer']])}") in squeezed
    assert "by hand" in cover  # the written question
    assert "17745" in squeezed and "True" in cover  # the numeric and true/false questions
    assert "1. (4 points)" in _page(covered / "key.pdf", 2)


def test_without_cover_the_exam_and_key_are_unchanged(tmp_path):
    before = _build(tmp_path / "plain")
    after = _build(tmp_path / "off", cover=False)
    for name in ("exam.tex", "key.tex", "exam.pdf", "key.pdf", "answers.json"):
        assert (before / name).read_bytes() == (after / name).read_bytes(), name


def test_a_cover_in_another_language(tmp_path):
    out = _build(tmp_path, cover=True, language="de")
    cover = _page(out / "exam.pdf", 1)
    for word in ("Für die Korrektur", "Aufgabe", "Punkte", "Erreicht", "Summe"):
        assert word in cover, word
    assert "Endergebnisse" in _page(out / "key.pdf", 1)


@pytest.mark.parametrize(("value", "says"), [("yes", "`cover` must be true or false"),
                                             (1, "`cover` must be true or false")])
def test_cover_must_be_true_or_false(tmp_path, value, says):
    (tmp_path / "quiz.yaml").write_text(yaml.safe_dump({**BANK, "cover": value}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "quiz.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and says in result.output


def test_a_misspelt_cover_is_named(tmp_path):
    (tmp_path / "quiz.yaml").write_text(yaml.safe_dump({**BANK, "covers": True}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "quiz.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "did you mean `cover`" in result.output
