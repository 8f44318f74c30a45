"""The example course folder (banks/course): a dozen and more written questions kept as
files, fixed-answer questions in a folder, and a bank that mixes them with families in
three sections; `gen exam --bank course --seed 1` makes the exam and key, `gen check`
passes, and the questions are written in their own words."""

import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from generator.bank import load_bank
from generator.cli import cli
from generator.questions import Question

COURSE = Path(__file__).parent.parent / "banks" / "course"
SEEDS = Path("/work/shared/seeds")


def _questions() -> list[Question]:
    return [c for slot in load_bank(str(COURSE)).slots for c in slot.choices if isinstance(c, Question)]


def test_the_course_folder_holds_a_dozen_written_questions_and_quick_ones():
    questions = _questions()
    written = [q for q in questions if q.kind == "written"]
    assert len(written) >= 12
    assert all(q.answer and q.rubric and q.title for q in written)
    assert {q.kind for q in questions} == {"written", "true_false", "choice", "numeric", "text"}
    bank = load_bank("course")
    assert bank.name == "course" and [s.heading for s in bank.sections] == [
        "Part A: concepts", "Part B: quick checks", "Part C: computations"]
    assert bank.look.logo and bank.look.honour_code and "seat" in bank.look.fields


def test_gen_exam_course_seed_1(tmp_path):
    result = CliRunner().invoke(cli, ["exam", "--bank", "course", "--seed", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output  # every pool gives everyone the same points
    contract = json.loads((tmp_path / "answers.json").read_text())
    assert contract["total_points"] == 60
    assert [s["points"] for s in contract["sections"]] == [28, 8, 24]
    assert (tmp_path / "exam.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "key.pdf").read_bytes().startswith(b"%PDF")


def test_gen_check_course(tmp_path):
    result = CliRunner().invoke(cli, ["check", "--bank", "course", "--seeds", "20"])
    assert result.exit_code == 0, result.output
    assert "question degradation" in result.output and "sample of every problem compiled" in result.output


def test_questions_are_in_their_own_words():
    """No sentence of the exercise sheets the course covers is copied into a question."""
    if not SEEDS.is_dir():
        return
    sheets = " ".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt"))
    sentences = {s.strip() for s in re.split(r"(?<=[.?!])\s+", sheets) if len(s.strip()) > 40}
    for path in COURSE.rglob("*.yaml"):
        text = " ".join(str(v) for v in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))))
        copied = [s for s in sentences if s in text]
        assert not copied, (path, copied[:2])


def _strings(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)
    elif isinstance(data, str):
        yield " ".join(data.split())


def test_readme_and_docs_say_family_statements_stay_english():
    root = Path(__file__).parent.parent
    assert "Family statements stay in English" in (root / "README.md").read_text(encoding="utf-8")
    assert "Family statements and\ntheir worked solutions stay in English" in (
        root / "docs" / "bank-format.md").read_text(encoding="utf-8")
