"""Every family's LaTeX compiles for 50 seeds (one combined key per family, which
holds the statements too) and for seeds and options drawn by hypothesis, and user text
is printed literally, never interpreted."""

import subprocess

import pytest
from hypothesis import given, settings
from strategies import OPTIONS, SEED, feasible

from generator.bank import Bank
from generator.compile import compile_pdf
from generator.family import load_families
from generator.pipeline import exam_parts, render_exam, render_part
from generator.render import render_document
from generator.variants import Exam, Problem, make_problem


def _exam(family_id: str, seeds: range) -> Exam:
    return _exam_of([make_problem(family_id, seed) for seed in seeds], f"All variants of {family_id}")


def _exam_of(problems: list[Problem], title: str) -> Exam:
    for number, problem in enumerate(problems, 1):
        problem.number = number
    bank = Bank(name="compile-test", title=title, slots=[])
    return Exam(bank=bank, seed=0, variant="TEST-0000", problems=problems)


@pytest.mark.parametrize("family_id", sorted(load_families()))
def test_family_compiles_for_50_seeds(family_id, tmp_path):
    pdf = compile_pdf(render_exam(_exam(family_id, range(50)), key=True), label=family_id)
    assert pdf.startswith(b"%PDF")


def _drawn(family_id: str, count: int = 5) -> list[Problem]:
    """`count` problems of the family, their seeds and options drawn by hypothesis from the
    property tests' strategies; derandomized and without the example database, so every
    run draws the same ones. (The first is hypothesis's simplest: seed 0, the defaults.)"""
    problems: list[Problem] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None)
    @given(seed=SEED, options=OPTIONS[family_id])
    def collect(seed: int, options: dict) -> None:
        problems.append(feasible(family_id, seed, options))

    collect()
    return problems


def test_drawn_options_compile():
    """Five drawn (seed, options) problems of every family, the exam and the key of all of
    them in one document: a single pdflatex run."""
    problems = [problem for family_id in sorted(OPTIONS) for problem in _drawn(family_id)]
    assert {p.family.id for p in problems} == set(OPTIONS)
    exam = _exam_of(problems, "Drawn options of every family")
    tex = render_document([render_part(part) for part in exam_parts(exam)])
    assert compile_pdf(tex, label="drawn-options").startswith(b"%PDF")


def test_widest_matrices_compile():
    """A padded gradient row of 11 entries (k=4, p=2, L=8): beyond amsmath's default of
    10 matrix columns, which failed the compile before MaxMatrixCols was raised."""
    options = {"in_channels": [1], "out_channels": [1], "kernel_size": [4], "input_length": [8], "padding": [2]}
    exam = _exam_of([make_problem("conv_as_matrix", 0, options)], "Widest matrices")
    assert compile_pdf(render_exam(exam, key=True), label="widest").startswith(b"%PDF")


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
