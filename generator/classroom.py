"""A whole class at once: one variant per roster student, compiled in chunks.

Each chunk is one LaTeX document holding its students' exams and then their keys,
each part on fresh pages; one pdflatex pass per chunk (point totals come from
Python, so nothing needs a second pass), chunks in parallel on the cores. The log
says where each part starts (GEN-PART-START), and pypdf cuts the chunk into the
per-student PDFs and appends it to exams.pdf and keys.pdf."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pypdf

from . import numbers
from .bank import Bank
from .compile import compile_tex, epoch_for
from .errors import GenError
from .files import prepare_dir, write_atomic
from .glyphs import unprintable
from .pipeline import answers_json, exam_parts, render_document, render_part
from .render import Tex
from .roster import Student
from .variants import Exam, draw_exam

# Students per document. Fixed, not derived from --jobs, because a PDF cut from a chunk
# embeds the fonts its chunk used: the same roster must give the same bytes on any machine.
# Small enough to bound memory and the cost of a failed chunk, large enough to amortise
# pdflatex's start-up.
CHUNK = 25


@dataclass
class Entry:
    """One student on the way through the pipeline."""

    student: Student
    exam: Exam
    exam_tex: Tex
    key_tex: Tex
    pdfs: tuple[bytes, bytes] | None = None


@dataclass
class ClassResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student id -> reason


def build_class(bank: Bank, seed: int, students: list[Student], out_dir: Path, *, jobs: int,
                only: str | None = None, progress: Callable[[int], None] | None = None) -> ClassResult:
    """Write DIR/<id>/{exam,key}.{tex,pdf} and answers.json for every student, then
    (for the whole class) exams.pdf, keys.pdf and answers.csv."""
    prepare_dir(out_dir)
    if only is not None:
        students = [s for s in students if s.id == only]
        if not students:
            raise GenError(f"no student with id {only!r} in the roster")
    result = ClassResult()
    entries, drawn = [], []
    for student in students:
        bad = unprintable(student.name)
        if bad:
            result.failed[student.id] = (
                f"roster line {student.row}: the name contains characters the PDF fonts cannot show "
                f"({''.join(bad)}); no PDF was made for this student"
            )
        exam = draw_exam(bank, seed, student.contract())
        drawn.append((student, exam))
        exam_part, key_part = exam_parts(exam)
        entry = Entry(student, exam, render_part(exam_part), render_part(key_part))
        _write_sources(entry, out_dir)
        if not bad:
            entries.append(entry)
    _compile_all(entries, bank, jobs, result, progress)
    for entry in entries:
        if entry.pdfs is not None:
            folder = out_dir / entry.student.id
            write_atomic(folder / "exam.pdf", entry.pdfs[0])
            write_atomic(folder / "key.pdf", entry.pdfs[1])
            result.done.append(entry.student.id)
    if only is None:
        _write_class_files([e for e in entries if e.pdfs], out_dir)
        write_atomic(out_dir / "answers.csv", answers_csv(drawn))
    return result


def _write_sources(entry: Entry, out_dir: Path) -> None:
    folder = prepare_dir(out_dir / entry.student.id)
    write_atomic(folder / "exam.tex", render_document([entry.exam_tex]))
    write_atomic(folder / "key.tex", render_document([entry.key_tex]))
    write_atomic(folder / "answers.json", answers_json(entry.exam))


def _compile_all(entries: list[Entry], bank: Bank, jobs: int, result: ClassResult,
                 progress: Callable[[int], None] | None) -> None:
    if not entries:
        return
    chunks = [entries[i : i + CHUNK] for i in range(0, len(entries), CHUNK)]
    epoch = epoch_for(bank.date)
    # Threads suffice: the work is in the pdflatex processes they wait for.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_compile_chunk, chunk, epoch): chunk for chunk in chunks}
        for future in as_completed(futures):
            result.failed.update(future.result())
            if progress:
                progress(len(futures[future]))


def _compile_chunk(chunk: list[Entry], epoch: int) -> dict[str, str]:
    """Compile a chunk and cut it per student; if it fails, compile its students one
    by one so that only the faulty ones are lost, each reported with its log lines."""
    parts = [e.exam_tex for e in chunk] + [e.key_tex for e in chunk]
    try:
        pdf, log = compile_tex(render_document(parts), epoch=epoch, label="class chunk")
    except GenError as exc:
        if len(chunk) == 1:
            return {chunk[0].student.id: str(exc).replace("class chunk", f"student {chunk[0].student.id}")}
        failures: dict[str, str] = {}
        for entry in chunk:
            failures |= _compile_chunk([entry], epoch)
        return failures
    pieces = split_parts(pdf, log, len(parts))
    for i, entry in enumerate(chunk):
        entry.pdfs = (pieces[i], pieces[len(chunk) + i])
    return {}


def split_parts(pdf: bytes, log: str, count: int) -> list[bytes]:
    """Cut a compiled document into its parts, using the page map in the log."""
    starts = [int(line.split()[1]) for line in log.splitlines() if line.startswith("GEN-PART-START ")]
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    if len(starts) != count:
        raise GenError(f"expected {count} parts in the compiled document, found {len(starts)}")
    bounds = [*starts, len(reader.pages)]
    return [_pages(reader, range(bounds[i], bounds[i + 1])) for i in range(count)]


def _pages(reader: pypdf.PdfReader, pages: range) -> bytes:
    writer = pypdf.PdfWriter()
    for index in pages:
        writer.add_page(reader.pages[index])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _write_class_files(entries: list[Entry], out_dir: Path) -> None:
    for name, index in (("exams.pdf", 0), ("keys.pdf", 1)):
        writer = pypdf.PdfWriter()
        for entry in entries:
            writer.append(pypdf.PdfReader(io.BytesIO(entry.pdfs[index])))
        buffer = io.BytesIO()
        writer.write(buffer)
        write_atomic(out_dir / name, buffer.getvalue())


CSV_COLUMNS = ["student_id", "name", "variant", "problem", "family", "answer", "exact", "decimal"]


def answers_csv(drawn: list[tuple[Student, Exam]]) -> str:
    """One row per student, problem and answer; roster columns beyond id and name follow."""
    extra = list(dict.fromkeys(k for student, _ in drawn for k in student.extra))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + extra)
    for student, exam in drawn:
        for problem in exam.problems:
            for name, value in problem.solution.answers.items():
                exact_value = numbers.to_json(value)
                writer.writerow([
                    student.id, student.name, exam.variant, problem.number, problem.family.id, name,
                    exact_value if isinstance(exact_value, str | int) else json.dumps(exact_value),
                    _decimal(value),
                ] + [student.extra.get(k, "") for k in extra])
    return buffer.getvalue()


def _decimal(value: object) -> str:
    """Decimal form of a number or (as JSON) of a vector/matrix; blank for other answers."""
    try:
        return json.dumps(_decimals(value)) if isinstance(value, list) else numbers.decimal(value)
    except TypeError:
        return ""


def _decimals(value: object) -> object:
    return [_decimals(v) for v in value] if isinstance(value, list) else numbers.decimal(value)
