"""The fixed strings gen prints (Name, Student ID, Answer key, points, page, Worked
solution, ...) in the bank's `language`: one YAML file per language in
generator/lang/, English the reference. A new language is a new file with the same
keys. Family statements are not translated (they are the families' own English)."""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .render import Tex, escape

LANG_DIR = Path(__file__).resolve().parent / "lang"
DEFAULT = "en"


def languages() -> list[str]:
    return sorted(path.stem for path in LANG_DIR.glob("*.yaml"))


@functools.cache
def strings(language: str) -> dict[str, str]:
    """The language's strings; a key the file lacks falls back to English."""
    reference = _read(DEFAULT)
    return reference if language == DEFAULT else {**reference, **_read(language)}


def _read(language: str) -> dict[str, str]:
    data = yaml.safe_load((LANG_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in data.items()}


def text(language: str, key: str, **values: Any) -> str:
    """A string as plain text (for exports and messages), values filled in."""
    return _pick(strings(language), key, values).format(**{k: str(v) for k, v in values.items()})


def translator(language: str) -> Callable[..., Tex]:
    """`t(key, **values)` for templates: the string as LaTeX that prints it literally,
    with the values filled in (generator-made LaTeX in a `Tex` value stays as it is;
    anything else is escaped). Line breaks in a string are kept as line breaks."""
    table = strings(language)

    def t(key: str, **values: Any) -> Tex:
        out = []
        for literal, field, _, _ in string.Formatter().parse(_pick(table, key, values)):
            out.append("\n".join(escape(line) for line in literal.split("\n")))
            if field is not None:
                value = values[field]
                out.append(value if isinstance(value, Tex) else escape(value))
        return Tex("".join(out))

    return t


def _pick(table: dict[str, str], key: str, values: dict[str, Any]) -> str:
    """`key_one` when the count (or points) is 1 and the language has that form."""
    count = values.get("count", values.get("points"))
    if str(count) == "1" and f"{key}_one" in table:
        return table[f"{key}_one"]
    return table[key]
