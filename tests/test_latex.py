"""Every family's LaTeX compiles for 50 seeds (one combined key per family, which
holds the statements too), and user text is printed literally, never interpreted."""

import subprocess

import pytest

from generator.bank import Bank
from generator.compile import compile_pdf
from generator.family import load_families
from generator.pipeline import render_exam
from generator.variants import Exam, make_problem


def _exam(family_id: str, seeds: range) -> Exam:
    problems = [make_problem(family_id, seed) for seed in seeds]
    for number, problem in enumerate(problems, 1):
        problem.number = number
    bank = Bank(name="compile-test", title=f"All variants of {family_id}", slots=[])
    return Exam(bank=bank, seed=0, variant="TEST-0000", problems=problems)


@pytest.mark.parametrize("family_id", sorted(load_families()))
def test_family_compiles_for_50_seeds(family_id, tmp_path):
    pdf = compile_pdf(render_exam(_exam(family_id, range(50)), key=True), label=family_id)
    assert pdf.startswith(b"%PDF")


def test_hostile_text_is_printed_literally(tmp_path):
    hostile = r"\input{/etc/passwd} \write18{touch pwned} \immediate\write ^^5c { } } O'Brien & Søren_% #1"
    exam = _exam("sgd_step", range(1))
    exam.bank = Bank(name="x", title=hostile, slots=[], course=hostile, instructions=hostile)
    exam.student = {"id": "s{1}", "name": hostile}
    pdf = tmp_path / "exam.pdf"
    pdf.write_bytes(compile_pdf(render_exam(exam, key=False)))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert r"\input{/etc/passwd}" in text
    assert r"\write18{touch pwned}" in text
    assert "^^5c" in text
    assert "O'Brien & Søren_% #1" in text
    assert "root:" not in text


def test_no_template_starts_an_expression_with_a_minus():
    """`\\VAR{-x}` reads as Jinja whitespace control and silently drops the sign."""
    from pathlib import Path

    from generator.render import TEMPLATE_DIR

    offenders = [str(p) for p in Path(TEMPLATE_DIR).rglob("*.tex") if r"\VAR{-" in p.read_text()]
    assert offenders == []
