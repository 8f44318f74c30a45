"""A whole class at once: one variant per roster student, compiled in chunks.

Each chunk is one LaTeX document holding its students' exams and then their keys,
each part on fresh pages; one pdflatex pass per chunk (point totals come from
Python, so nothing needs a second pass). Chunks go to pdflatex as soon as they are
rendered, in parallel on the cores, so drawing and compiling overlap; drawing waits
when a few chunks are queued, and of a student already sent only their answers.csv
rows and fingerprints are kept, so memory is bounded by the chunk size, not the
class size. The log says where each part starts (GEN-PART-START); pikepdf (qpdf)
cuts each chunk into the per-student PDFs and into its exams and its keys, which
pdfunite joins into exams.pdf and keys.pdf."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from . import duplex, numbers, scripts
from .bank import Bank
from .compile import epoch_for
from .csvcells import read_cell, safe_row
from .errors import GenError
from .files import prepare_dir, write_atomic
from .gradingsheet import FILE_NAME as GRADING_FILE
from .gradingsheet import GradingSheet
from .i18n import text
from .parts import compile_parts, extract
from .pipeline import answers_json, exam_parts, render_part
from .render import Tex, render_document
from .roster import Student
from .unite import require_pdfunite, unite
from .variants import Exam, Problem, draw_exam

# Students per document. Fixed, not derived from --jobs, because a PDF cut from a chunk
# embeds the fonts its chunk used: the same roster must give the same bytes on any machine.
# Small enough to bound memory and the cost of a failed chunk, large enough to amortise
# pdflatex's start-up.
CHUNK = 25


@dataclass
class Entry:
    """One student on the way through the pipeline."""

    student: Student
    exam_tex: Tex
    key_tex: Tex


@dataclass(frozen=True)
class Setup:
    """What every chunk's document shares: the creation date, the course's own
    templates and the images its questions use."""

    epoch: int
    course: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    # LuaLaTeX typesetting the names pdflatex cannot show (generator/scripts.py), which
    # runs while the exams are drawn; a chunk waits for it before compiling
    strings: Future[dict[str, str]] | None = None


@dataclass
class ChunkOutcome:
    exams: list[Path] = field(default_factory=list)  # files of the chunk's exams, in roster order
    keys: list[Path] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass
class ClassResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student id -> reason
    shared: list[str] = field(default_factory=list)  # notes on students who drew the same variant
    # (slot id, alternative) -> the fingerprints of the variants the students drew, one each
    drawn: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    strangers: list[str] = field(default_factory=list)  # notes on folders of an earlier build
    print_note: str = ""  # what to tell the print shop about exams.pdf
    class_files: str = ""  # with --only: what became of the class files (a student new to them is added)


def build_class(bank: Bank, seed: int, students: list[Student], out_dir: Path, *, jobs: int,
                only: str | None = None, progress: Callable[[int], None] | None = None) -> ClassResult:
    """Write DIR/<id>/{exam,key}.{tex,pdf} and answers.json for every student, then
    (for the whole class) exams.pdf, keys.pdf and answers.csv."""
    prepare_dir(out_dir)
    if only is None:
        require_pdfunite()  # now rather than after the class is compiled
    taken: dict[str, set[str]] | None = {} if bank.distinct else None  # slot -> variants given out
    if only is not None:
        students = [_only(students, only, bank, seed, taken)]
    result, exams, keys = ClassResult(), [], []
    extra = list(dict.fromkeys(k for student in students for k in student.extra))
    rows: list[list[str]] = []
    holders: dict[tuple[str, str], list[str]] = {}  # (slot, fingerprint) -> student ids
    sheet = GradingSheet(bank)  # grading.pdf: like `rows`, a few strings per student
    epoch = epoch_for(bank.date)

    def collect(future: Future[ChunkOutcome]) -> None:
        outcome = future.result()
        result.done.extend(outcome.done)
        result.failed.update(outcome.failed)
        exams.extend(outcome.exams)
        keys.extend(outcome.keys)
        if progress:
            progress(len(outcome.done) + len(outcome.failed))

    with tempfile.TemporaryDirectory(prefix="gen-class-") as tmp, ThreadPoolExecutor(max(1, jobs)) as pool, \
            ThreadPoolExecutor(1) as side:
        in_flight: deque[Future[ChunkOutcome]] = deque()
        pending: list[Entry] = []
        setup, shown, unshown = _setup(bank, epoch, students, Path(tmp), side)
        for number, student in enumerate(students):
            exam = draw_exam(bank, seed, student.contract(), taken)
            exam.filled = {k: v for k, v in student.extra.items() if k in bank.look.fields and v}
            exam.typeset = shown
            rows.extend(csv_rows(student, exam, extra))
            for problem in exam.problems:
                if isinstance(problem, Problem):  # a question written in the bank has no variants
                    holders.setdefault((problem.slot, problem.fingerprint), []).append(student.id)
                    result.drawn.setdefault((problem.slot, problem.alternative or 0), []).append(problem.fingerprint)
            entry = _render(student, exam, out_dir)
            sheet.add(student.id, student.name, exam, exam.typeset)  # after _render: it knows each answer's part
            if student.name in unshown:
                result.failed[student.id] = f"roster line {student.row}: {unshown[student.name]}"
            else:
                pending.append(entry)
            if len(pending) == CHUNK or number == len(students) - 1 and pending:
                chunk_file = Path(tmp) / f"chunk-{number}.pdf"
                in_flight.append(pool.submit(_build_chunk, pending, setup, chunk_file, out_dir))
                pending = []
                while len(in_flight) > jobs:  # enough queued to keep every core busy
                    collect(in_flight.popleft())
        # The grading sheet compiles beside the last chunks (on the side thread, after any
        # LaTeX of names) rather than after them: it lists the students expected to be done,
        # and is compiled again in the rare case that a copy failed.
        expected = [student.id for student in students if student.name not in unshown]
        grading = side.submit(sheet.write, out_dir, expected, epoch=epoch, files=setup.files) if only is None \
            else None
        while in_flight:
            collect(in_flight.popleft())
        gaps = [f"{text!r} holds characters no installed font has ({chars}): they print as gaps"
                for text, chars in (setup.strings.result() if setup.strings else {}).items()]
        if only is None:
            exams, keys, result.print_note = _stacks(bank, out_dir, result.done, Path(tmp), epoch, exams, keys)
            if result.done != expected:
                wait([grading])
                grading = side.submit(sheet.write, out_dir, result.done, epoch=epoch, files=setup.files)
            joined = [pool.submit(unite, files, out_dir / name) for files, name in ((exams, "exams.pdf"),
                                                                                    (keys, "keys.pdf"))]
            for future in joined:
                future.result()
    if only is None:
        write_atomic(out_dir / "answers.csv", answers_csv(rows, extra))
        result.shared = shared_variants(holders)
        result.strangers = strangers(out_dir, students)
        grading.result()  # a LaTeX failure of the grading sheet, once every other file is written
    elif result.done:
        result.class_files = late_joiner(bank, out_dir, students[0], rows, extra)
    result.strangers += gaps
    return result


def late_joiner(bank: Bank, out_dir: Path, student: Student, rows: list[list[str]], extra: list[str]) -> str:
    """After `--only ID`: a student the class files do not have yet (added to the roster
    after the class was built) is appended to answers.csv, exams.pdf and keys.pdf, at the
    end; what cannot be appended is named with the command that rebuilds it. Returns
    what was done, in words ("" for a student the class files already have: a make-up
    or a lost copy leaves them alone)."""
    table = out_dir / "answers.csv"
    if not table.is_file():
        return (f"{out_dir} has no class files yet (answers.csv, exams.pdf, keys.pdf), so {student.id} is only in "
                f"{out_dir / student.id}; the same gen exam --roster command without --only makes them")
    with open(table, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    header = [read_cell(cell) for cell in lines[0]] if lines else CSV_COLUMNS
    column = header.index("student_id") if "student_id" in header else 0
    if any(read_cell(line[column]) == student.id for line in lines[1:] if len(line) > column):
        return ""
    ours = CSV_COLUMNS + extra
    added = [[dict(zip(ours, row, strict=True)).get(name, "") for name in header] for row in rows]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(safe_row(row) for row in added)
    write_atomic(table, table.read_text(encoding="utf-8") + buffer.getvalue())
    done, left = ["answers.csv"], []
    for name, kind in (("exams.pdf", "exam"), ("keys.pdf", "key")):
        stack = out_dir / name
        if stack.is_file() and bank.look.pages != "uniform":  # uniform stacks pad every copy to the longest
            unite([stack, out_dir / student.id / f"{kind}.pdf"], stack)
            done.append(name)
        else:
            left.append(name)
    if (out_dir / GRADING_FILE).is_file():
        left.append(GRADING_FILE)
    text = (f"{student.id} was not in the class files yet: added to {', '.join(done)}, at the end (a run "
            "without --only puts everyone in roster order)")
    if left:
        text += (f"; {', '.join(left)} {'does' if len(left) == 1 else 'do'} not have them yet: the same gen exam "
                 "--roster command without --only rebuilds the class files")
    return text


def _stacks(bank: Bank, out_dir: Path, done: list[str], tmp: Path, epoch: int, exams: list[Path],
            keys: list[Path]) -> tuple[list[Path], list[Path], str]:
    """The files exams.pdf and keys.pdf are joined from, and the print shop's note. With
    `pages: uniform`, every student's exam (and key) is first padded to the longest one's
    length, and the stacks are joined from the padded per-student files."""
    copies = {kind: [out_dir / sid / f"{kind}.pdf" for sid in done] for kind in ("exam", "key")}
    if bank.look.pages != "uniform" or not done:
        return exams, keys, duplex.print_note(len(done), [duplex.page_count(f) for f in copies["exam"]],
                                              uniform=False)
    blank = tmp / "blank.pdf"
    blank.write_bytes(duplex.blank_pages(bank.look.paper, text(bank.language, "blank_page"), done, epoch))
    with pikepdf.open(blank) as blanks:
        for files in copies.values():
            longest = max(duplex.page_count(f) for f in files)
            for owner, copy in enumerate(files):
                duplex.pad(copy, longest, blanks, owner)
    lengths = [duplex.page_count(f) for f in copies["exam"]]
    return copies["exam"], copies["key"], duplex.print_note(len(done), lengths, uniform=True)


def strangers(out_dir: Path, students: list[Student]) -> list[str]:
    """Student folders of an earlier build whose ids the roster no longer has: left in
    place (gen deletes nothing of the user's), but said, since `gen grade` reads them."""
    ids = {s.id for s in students}
    old = sorted(d.name for d in out_dir.iterdir() if (d / "answers.json").is_file() and d.name not in ids)
    return [f"{out_dir} also holds {', '.join(old)} from an earlier build, not in this roster"] if old else []


def _only(students: list[Student], only: str, bank: Bank, seed: int, taken: dict[str, set[str]] | None) -> Student:
    """The student of --only; with `distinct`, the students above them are drawn first,
    since their variants decide which ones this student avoids."""
    index = next((i for i, s in enumerate(students) if s.id == only), None)
    if index is None:
        raise GenError(f"no student with id {only!r} in the roster")
    if taken is not None:
        for earlier in students[:index]:
            draw_exam(bank, seed, earlier.contract(), taken)
    return students[index]


def shared_variants(holders: dict[tuple[str, str], list[str]]) -> list[str]:
    """Students who drew the same variant (fingerprint) of the same slot.

    By default variants are not re-drawn to avoid this: a student's exam depends only
    on the bank, the seed and their own id, so that no change to the roster changes
    anyone else's exam. A bank with `distinct: true` re-draws (see draw_exam); then a
    pair is left only where a family has too few variants."""
    return [f"problem {slot}: students {', '.join(ids)} drew the same variant"
            for (slot, _), ids in holders.items() if len(ids) > 1]


def _render(student: Student, exam: Exam, out_dir: Path) -> Entry:
    """Render the student's exam and key once; write their sources and answers.json."""
    exam_part, key_part = exam_parts(exam)
    entry = Entry(student, render_part(exam_part), render_part(key_part))
    folder = prepare_dir(out_dir / student.id)
    course = exam.bank.look.templates
    write_atomic(folder / "exam.tex", render_document([entry.exam_tex], course))
    write_atomic(folder / "key.tex", render_document([entry.key_tex], course))
    write_atomic(folder / "answers.json", answers_json(exam))
    return entry


def _setup(bank: Bank, epoch: int, students: list[Student], tmp: Path,
           side: ThreadPoolExecutor) -> tuple[Setup, dict[str, Tex], dict[str, str]]:
    """What every chunk shares; the LaTeX of the names and titles pdflatex cannot show
    (LuaLaTeX typesets them on the side thread meanwhile); and, where LuaLaTeX is not
    installed, why such a student gets no PDF."""
    texts = [*scripts.bank_texts(bank), *(s.name for s in students)]
    texts += [v for s in students for k, v in s.extra.items() if k in bank.look.fields]
    strings = scripts.needing(texts, cjk=bank.language == "zh")
    if not strings:
        return Setup(epoch, bank.look.templates, bank.images), {}, {}
    if not scripts.available():
        why = ("the name needs LuaLaTeX (pdflatex cannot show its script), which is not installed; "
               f"no PDF was made for this student ({scripts.INSTALL_HINT})")
        return Setup(epoch, bank.look.templates, bank.images), {}, {text: why for text in strings}
    folder = prepare_dir(tmp / "strings")
    future = side.submit(scripts.typeset, strings, folder)
    return (Setup(epoch, bank.look.templates, {**bank.images, **scripts.files_in(folder)}, future),
            scripts.placeholders(strings), {})


def _build_chunk(chunk: list[Entry], setup: Setup, chunk_file: Path, out_dir: Path) -> ChunkOutcome:
    """Compile a chunk (its exams, then its keys) and cut it per student; if it fails,
    compile its students one by one so that only the faulty ones are lost, each
    reported with its log lines."""
    parts = [e.exam_tex for e in chunk] + [e.key_tex for e in chunk]
    if setup.strings is not None:
        setup.strings.result()  # the names' pages exist before pdflatex includes them
    try:
        pdf, ranges = compile_parts(parts, epoch=setup.epoch, label="class chunk", course=setup.course,
                                    files=setup.files)
    except GenError as exc:
        if len(chunk) == 1:
            reason = str(exc).replace("class chunk", f"student {chunk[0].student.id}")
            return ChunkOutcome(failed={chunk[0].student.id: reason})
        outcome = ChunkOutcome()
        for i, entry in enumerate(chunk):
            alone = _build_chunk([entry], setup, chunk_file.with_suffix(f".{i}.pdf"), out_dir)
            outcome.exams += alone.exams
            outcome.keys += alone.keys
            outcome.done += alone.done
            outcome.failed |= alone.failed
        return outcome
    chunk_file.write_bytes(pdf)
    outcome = ChunkOutcome(exams=[chunk_file.with_suffix(".exams.pdf")], keys=[chunk_file.with_suffix(".keys.pdf")])
    with pikepdf.open(chunk_file) as source:
        for i, entry in enumerate(chunk):
            folder = out_dir / entry.student.id
            write_atomic(folder / "exam.pdf", extract(source, ranges[i]))
            write_atomic(folder / "key.pdf", extract(source, ranges[len(chunk) + i]))
            outcome.done.append(entry.student.id)
        # exams then keys: each half of the chunk is one run of pages
        outcome.exams[0].write_bytes(extract(source, range(0, ranges[len(chunk)].start)))
        outcome.keys[0].write_bytes(extract(source, range(ranges[len(chunk)].start, ranges[-1].stop)))
    return outcome


CSV_COLUMNS = ["student_id", "name", "variant", "problem", "family", "answer", "exact", "decimal"]


def csv_rows(student: Student, exam: Exam, extra: list[str]) -> list[list[str]]:
    """A student's rows of answers.csv: one per problem and answer, then the roster's
    `extra` columns. A question written in the bank has its id in the `family` column;
    a written one has a row without a value (a person grades it)."""
    rows = []
    for problem in exam.problems:
        if not isinstance(problem, Problem):
            answer = problem.contract()["answers"].get("answer")
            exact_value = "" if answer is None else answer if isinstance(answer, str) else json.dumps(answer)
            rows.append([student.id, student.name, exam.variant, str(problem.number), problem.question.id,
                         "answer" if answer is not None else "written", exact_value,
                         _decimal(problem.question.correct) if problem.question.kind == "numeric" else ""]
                        + [student.extra.get(k, "") for k in extra])
            continue
        for name, value in problem.solution.answers.items():
            exact_value = numbers.to_json(value)
            rows.append([
                student.id, student.name, exam.variant, str(problem.number), problem.family.id, name,
                exact_value if isinstance(exact_value, str | int) else json.dumps(exact_value),
                _decimal(value),
            ] + [student.extra.get(k, "") for k in extra])
    return rows


def answers_csv(rows: list[list[str]], extra: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row(CSV_COLUMNS + extra))
    writer.writerows(safe_row(row) for row in rows)
    return buffer.getvalue()


def _decimal(value: object) -> str:
    """Decimal form of a number or (as JSON) of a vector/matrix; blank for other answers."""
    try:
        return json.dumps(_decimals(value)) if isinstance(value, list) else numbers.decimal(value)
    except TypeError:
        return ""


def _decimals(value: object) -> object:
    return [_decimals(v) for v in value] if isinstance(value, list) else numbers.decimal(value)
