"""Rosters: a CSV with a header and at least `id` and `name` columns. Read as UTF-8
(a byte-order mark and Windows line endings are fine); every problem is reported
with its row number."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .errors import GenError


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    row: int  # line of the CSV file, for messages
    extra: dict[str, str]  # the other columns, carried into answers.csv

    def contract(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def load_roster(path: Path) -> list[Student]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GenError(f"cannot read roster {str(path)!r}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise GenError(
            f"the roster is not UTF-8 text (byte {raw[exc.start]:#04x})",
            where=f"{path}:{line}",
            hint="save the file as UTF-8 (in a spreadsheet: CSV UTF-8)",
        ) from None
    return parse_roster(text, where=str(path))


def parse_roster(text: str, *, where: str) -> list[Student]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        return _students(reader, where)
    except csv.Error as exc:
        raise GenError(f"not a readable CSV file ({exc})", where=where,
                       hint='look for a field whose opening " is never closed') from None


def _delimiter(text: str) -> str:
    """Comma, or the semicolon or tab that spreadsheets in many locales write, whichever
    splits the header into columns that include `id` and `name`."""
    header = text.split("\n", 1)[0]
    for delimiter in (",", ";", "\t"):
        if {"id", "name"} <= {c.strip() for c in header.split(delimiter)}:
            return delimiter
    return ","


def _students(reader: csv.DictReader, where: str) -> list[Student]:
    columns = [c.strip() for c in reader.fieldnames or []]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise GenError(f"the roster's header names {', '.join(map(repr, repeated))} more than once", where=where)
    missing = [c for c in ("id", "name") if c not in columns]
    if missing:
        raise GenError(
            f"the roster has no {' or '.join(repr(c) for c in missing)} column",
            where=where,
            hint=f"the header must name the columns id and name (found: {', '.join(columns) or 'nothing'})",
        )
    reader.fieldnames = columns
    students: list[Student] = []
    seen: dict[str, int] = {}
    for record in reader:
        row = reader.line_num
        if all(not (v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # blank line
        student_id = (record.get("id") or "").strip()
        name = (record.get("name") or "").strip()
        if not student_id:
            raise GenError("empty student id", where=f"{where}:{row}")
        if not name:
            raise GenError(f"student {student_id!r} has an empty name", where=f"{where}:{row}")
        if student_id in seen:
            raise GenError(f"duplicate student id {student_id!r} (also on line {seen[student_id]})",
                           where=f"{where}:{row}")
        if not _safe_folder_name(student_id):
            raise GenError(f"student id {student_id!r} cannot be a folder name",
                           where=f"{where}:{row}", hint="ids may not contain / or \\ or be . or ..")
        seen[student_id] = row
        extra = {k: (v or "").strip() for k, v in record.items() if k not in ("id", "name") and k}
        students.append(Student(id=student_id, name=name, row=row, extra=extra))
    if not students:
        raise GenError("the roster has no students", where=where)
    return students


def _safe_folder_name(student_id: str) -> bool:
    return student_id not in (".", "..") and not any(c in student_id for c in "/\\\x00")
