"""The `gen` command line: parses arguments, calls one pipeline function, shows
errors. No logic lives here."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from . import numbers
from .bank import PAPERS, Bank, bank_note, load_bank, uneven_pools
from .check import check_bank, format_report, thin_for_class, thin_problems
from .classroom import build_class
from .errors import GenError
from .export import FORMATS, export_bank
from .family import BROKEN, PLUGINS, load_families
from .grade import HAND_FILE, grade_class, plural
from .newfamily import scaffold_family
from .pipeline import render_problem, write_exam
from .preview import write_preview
from .roster import load_roster
from .variants import draw_exam, make_problem


class _Shown(click.ClickException):
    """A GenError on its way to the terminal, with the error's own exit status."""

    def __init__(self, error: GenError):
        super().__init__(str(error))
        self.exit_code = error.exit_code


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GenError as exc:
            raise _Shown(exc) from None


SEED = click.IntRange(min=0, max=2**63 - 1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Generate deep-learning exams with exact, worked answer keys."""


@cli.command("list")
def list_families() -> None:
    """List the problem families, one line each (plugins say which package they come from)."""
    registry = load_families()
    width = max(len(name) for name in registry)
    for name in sorted(registry):
        source = f"  [plugin: {PLUGINS[name]}]" if name in PLUGINS else ""
        click.echo(f"{name:<{width}}  {registry[name].title}{source}")
    for failure in BROKEN.values():
        click.echo(f"warning: {failure.message}", err=True)


@cli.command()
@click.argument("family")
@click.option("--seed", type=SEED, required=True, help="Seed of the problem.")
@click.option("--options", "options_yaml", default=None, metavar="YAML",
              help='Family options as YAML, e.g. "{channels: [64, 128]}".')
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON object.")
@click.option("--tex", "as_tex", is_flag=True, help="Print the LaTeX statement and solution.")
def problem(family: str, seed: int, options_yaml: str | None, as_json: bool, as_tex: bool) -> None:
    """Draw one problem of FAMILY and show it with its solution."""
    item = make_problem(family, seed, _parse_options(options_yaml))
    if as_json:
        obj = item.contract()
        for field in ("number", "points", "answer_points"):  # an exam's, not the problem's
            obj.pop(field)
        click.echo(json.dumps(obj, indent=2, ensure_ascii=False))
        return
    if as_tex:
        rendered = render_problem(item)
        click.echo(f"{rendered['statement']}\n\n% --- solution ---\n{rendered['solution']}")
        return
    click.echo(f"{item.family.id}, seed {seed}: {item.family.title}")
    click.echo("params:")
    for name, value in item.params.items():
        click.echo(f"  {name} = {_text(value)}")
    click.echo("answers:")
    for name, value in item.solution.answers.items():
        click.echo(f"  {name} = {_text(value)}")


@cli.command()
@click.argument("family")
@click.option("--seed", type=SEED, required=True, help="Seed of the problem.")
@click.option("--options", "options_yaml", default=None, metavar="YAML",
              help='Family options as YAML, e.g. "{channels: [64, 128]}".')
@click.option("--out", type=click.Path(path_type=Path), default=Path("output"), show_default=True,
              help="Folder for the PNG.")
@click.option("--paper", type=click.Choice(PAPERS), default=PAPERS[0], show_default=True,
              help="Paper size: the PNG is as wide as its page, lines break as on its exam.")
def preview(family: str, seed: int, options_yaml: str | None, out: Path, paper: str) -> None:
    """Render one problem of FAMILY and its worked solution to a PNG; print its path."""
    item = make_problem(family, seed, _parse_options(options_yaml))
    click.echo(str(write_preview(item, out, paper)))


@cli.command("new-family")
@click.argument("name")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder of the new package  [default: gen-NAME]")
def new_family(name: str, out: Path | None) -> None:
    """Create a plugin package with a small working family NAME, its template and tests."""
    folder = out or Path(f"gen-{name.replace('_', '-')}")
    for path in scaffold_family(name, folder):
        click.echo(f"wrote {path}")
    click.echo(f"\nnext: pip install -e {folder}  &&  gen problem {name} --seed 1\n"
               f"      cd {folder}  &&  python -m pytest  &&  ruff check .")


def _text(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return json.dumps(numbers.to_json(value))
    if isinstance(value, dict):
        return json.dumps(numbers.to_json(value))
    return numbers.text_value(value)


def _parse_options(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GenError(f"--options is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise GenError("--options must be a YAML mapping, e.g. '{channels: [64, 128]}'")
    return data


@cli.command()
@click.option("--bank", default="default", show_default=True, metavar="NAME|PATH",
              help="A bank in banks/ by name, or a path to a YAML bank file.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Exam seed.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("output"),
              show_default=True, help="Folder for the exam, key and answers.json.")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV with id and name columns: one variant per student.")
@click.option("--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="cores",
              help="pdflatex processes run at once (with --roster).")
@click.option("--only", default=None, metavar="ID", help="With --roster: rebuild this student only.")
@click.option("--paper", type=click.Choice(PAPERS), default=None, help="Paper size, instead of the bank's `paper`.")
def exam(bank: str, seed: int, out: Path, roster: Path | None, jobs: int, only: str | None,
         paper: str | None) -> None:
    """Make an exam and its answer key (PDF and LaTeX) plus answers.json;
    with --roster, one per student plus exams.pdf, keys.pdf and answers.csv."""
    loaded = _load_bank(bank)
    if paper is not None:
        loaded.look = dataclasses.replace(loaded.look, paper=paper)
    if roster is not None:
        _exam_for_class(loaded, seed, out, roster, jobs, only)
        return
    if only is not None:
        raise GenError("--only needs --roster")
    drawn = draw_exam(loaded, seed)
    written = write_exam(drawn, out)
    click.echo(f"variant {drawn.variant}: wrote " + ", ".join(str(p) for p in written))


def _load_bank(name: str, *, pools: bool = True) -> Bank:
    """The bank, with notes on stderr: which file a name found when one here looks like
    it, and pools whose alternatives are worth different points."""
    loaded = load_bank(name)
    notes = [bank_note(name)] + (uneven_pools(loaded) if pools else [])
    for note in filter(None, notes):
        click.echo(f"note: {note}", err=True)
    return loaded


def _exam_for_class(bank: Bank, seed: int, out: Path, roster: Path, jobs: int, only: str | None) -> None:
    students = load_roster(roster)
    started = time.perf_counter()
    count = 1 if only else len(students)
    show = sys.stderr.isatty()
    with click.progressbar(length=count, label="compiling", file=sys.stderr if show else io.StringIO()) as bar:
        result = build_class(bank, seed, students, out, jobs=jobs, only=only, progress=bar.update)
    for student_id, reason in result.failed.items():
        click.echo(f"student {student_id}: {reason}", err=True)
    for note in result.shared + result.strangers:
        click.echo(f"note: {note}", err=True)
    for warning in thin_for_class(bank, result.drawn) if only is None else []:
        click.echo(f"warning: {warning}", err=True)
    if result.print_note:
        click.echo(result.print_note)
    if result.class_files:
        click.echo(f"note: {result.class_files}", err=True)
    if result.shared and not bank.distinct:
        click.echo("hint: `distinct: true` in the bank gives each student their own variant "
                   "(docs/classes.md says what it costs)", err=True)
    seconds = time.perf_counter() - started
    click.echo(f"{len(result.done)} of {plural(count, 'student')} done in {seconds:.1f} s; files in {out}"
               + (f"; {len(result.failed)} failed" if result.failed else ""))
    if result.failed:
        raise SystemExit(1)


@cli.command()
@click.option("--bank", default="default", show_default=True, metavar="NAME|PATH",
              help="A bank in banks/ by name, or a path to a YAML bank file.")
@click.option("--seeds", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Seeds drawn for every problem of the bank.")
@click.option("--class", "students", type=click.IntRange(min=1), default=None, metavar="N",
              help="Students in the class: warn about problems with fewer distinct variants than N.")
def check(bank: str, seeds: int, students: int | None) -> None:
    """Draw many variants of every problem in a bank and verify them: invariants,
    exact answers, gradability (no slip or contrasted answer accepted within the
    answer's tolerance), distinct variants, answer spread, and a compiled sample."""
    loaded = _load_bank(bank)
    show = sys.stderr.isatty()
    with click.progressbar(length=seeds * len(loaded.slots), label="checking",
                           file=sys.stderr if show else io.StringIO()) as bar:
        report = check_bank(loaded, seeds, progress=bar.update)
    click.echo(format_report(report, seeds))
    for warning in thin_problems(loaded, report, students) if students else []:
        click.echo(f"warning: {warning}", err=True)
    if not report.ok:
        raise SystemExit(1)


@cli.command()
@click.argument("responses", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--exams", type=click.Path(path_type=Path, file_okay=False), required=True, metavar="DIR",
              help="The class folder made by gen exam --roster (DIR/<id>/answers.json).")
@click.option("--out", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Folder for grades.csv, summary.csv, hand.csv, feedback/ and report.html  [default: DIR/grades]")
@click.option("--hand", "hand", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              metavar="CSV", help="Grades given by hand (the hand.csv gen grade wrote, its points filled in).")
def grade(responses: Path, exams: Path, out: Path | None, hand: Path | None) -> None:
    """Grade RESPONSES (CSV: id, problem, answer, value) against the class's answers.json,
    name the slips behind wrong answers, and write grades, feedback and a class report;
    hand.csv lists what a person grades, and --hand takes those grades back in."""
    grading, written = grade_class(responses, exams, out or exams / "grades", hand)
    for skipped in grading.skipped + grading.hand_skipped:
        click.echo(f"skipped {skipped.message}", err=True)
    pending = sum(g.pending for g in grading.graded)
    by_hand = sum(g.hand for g in grading.graded)
    unread = sum(g.verdict == "unreadable" and not g.hand for g in grading.graded)
    sheet = next(p for p in written if p.name == HAND_FILE)
    click.echo(f"graded {plural(len(grading.graded), 'answer')} of {plural(len(grading.students), 'student')}"
               + (f"; {by_hand} graded by hand" if by_hand else "")
               + (f"; {pending} to grade by hand, so totals are provisional (fill in the points column of {sheet} "
                  f"and grade again with --hand {sheet})" if pending else "; every total is final")
               + (f" ({plural(unread, 'unreadable value')} {'counts' if unread == 1 else 'count'} 0 unless you give "
                  f"points in {sheet})" if unread else "")
               + (f"; {plural(len(grading.skipped), 'row')} skipped (see report.html)" if grading.skipped else "")
               + (f"; {plural(len(grading.hand_skipped), 'hand grade')} skipped" if grading.hand_skipped else "")
               + f"; wrote {written[0].parent}: " + ", ".join(p.name for p in written if p.parent == written[0].parent))


@cli.command()
@click.option("--format", "form", type=click.Choice(list(FORMATS)), required=True,
              help="moodle: Moodle XML; qti: QTI 1.2 zip for Canvas.")
@click.option("--bank", default="default", show_default=True, metavar="NAME|PATH",
              help="A bank in banks/ by name, or a path to a YAML bank file.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed the variants are drawn from.")
@click.option("--variants", type=click.IntRange(min=1, max=200), default=5, show_default=True,
              help="Distinct variants per problem of the bank.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="The file to write  [default: BANK-FORMAT.xml or .zip]")
@click.option("--paper", type=click.Choice(PAPERS), default=None,
              help="Paper size, instead of the bank's `paper`: the images are as wide as its text.")
def export(form: str, bank: str, seed: int, variants: int, out: Path | None, paper: str | None) -> None:
    """Export the bank's problems to an LMS: one category (Moodle) or question groups
    (Canvas) per problem, each with distinct variants, tolerances, slip feedback and the
    worked solution."""
    loaded = _load_bank(bank, pools=False)
    if paper is not None:
        loaded.look = dataclasses.replace(loaded.look, paper=paper)
    path, warnings = export_bank(loaded, seed, variants, form, out)
    for warning in warnings:
        click.echo(warning, err=True)
    click.echo(f"wrote {path}")


def main() -> None:
    cli(prog_name="gen")
