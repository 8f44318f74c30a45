"""Spreadsheet-safe CSV cells (CSV or formula injection, as OWASP describes it).

Rosters come from registration systems and answers from students, so neither is
trusted text, yet instructors open gen's CSV files in Excel, LibreOffice or Google
Sheets, which run a cell that begins with = + - @ (or a tab or carriage return) as a
formula. Every CSV gen writes passes its cells through `safe_cell`, which puts a `'`
before such text; numbers such as -0.25 or -3/8 stay as they are. A leading `'` is
itself escaped the same way, so `read_cell` gives back exactly the text that was
written, whatever it was."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import GenError

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)(/\d+)?")


def safe_cell(value: Any) -> Any:
    """The cell as a spreadsheet shows it inert: text beginning with a formula trigger
    (or with the escape quote itself) gets a leading quote; numbers are left alone."""
    if not isinstance(value, str) or not value.startswith((*TRIGGERS, QUOTE)):
        return value
    if NUMBER.fullmatch(value):
        return value
    return QUOTE + value


def safe_row(row: list[Any]) -> list[Any]:
    return [safe_cell(cell) for cell in row]


def read_cell(text: str) -> str:
    """A cell of a CSV that gen wrote, as the text it stood for."""
    if text.startswith(QUOTE) and text[1:].startswith((*TRIGGERS, QUOTE)):
        return text[1:]
    return text


def read_records(path: Path, what: str, required: tuple[str, ...], hint: str,
                 column: Callable[[str], str] = str) -> list[tuple[int, dict[str, str]]]:
    """The non-blank rows of a UTF-8 CSV (a BOM is fine) as (line, {column: cell}), its
    cells read back with `read_cell`; `column` normalises a header name (after strip and
    lower-casing). A file that cannot be read, or lacks a `required` column, is a GenError
    naming `what` it should have been."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise GenError(f"cannot read {what} {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise GenError(f"{path} is not UTF-8 text",
                       hint="save the file as UTF-8 (in a spreadsheet: CSV UTF-8)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column(h.strip().lower()) for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise GenError(f"the {what} have no column {', '.join(missing)}", where=f"{path}:1", hint=hint)
    return [(reader.line_num, {name: read_cell(row[i]) if i < len(row) else "" for i, name in enumerate(header)})
            for row in reader if any(cell.strip() for cell in row)]
