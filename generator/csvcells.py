"""Spreadsheet-safe CSV cells (CSV or formula injection, as OWASP describes it).

Rosters come from registration systems and answers from students, so neither is
trusted text, yet instructors open gen's CSV files in Excel, LibreOffice or Google
Sheets, which run a cell that begins with = + - @ (or a tab or carriage return) as a
formula. Every CSV gen writes passes its cells through `safe_cell`, which puts a `'`
before such text; numbers such as -0.25 or -3/8 stay as they are. A leading `'` is
itself escaped the same way, so `read_cell` gives back exactly the text that was
written, whatever it was."""

from __future__ import annotations

import re
from typing import Any

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
