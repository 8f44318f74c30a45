"""YAML read as data (yaml.SafeLoader: never code), with the line of every mapping and
of every value kept, so that an error in a bank or a question file names its line.

A mapping comes back as a `Located` dict: `line` is where it starts, `lines[key]` where
the value of `key` starts (for a block scalar `|` or `>`, the line of its first text
line) and `spans[key]` its first and last line and whether it is a literal block, whose
lines are the text's lines. Everything else is what yaml.safe_load returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import BankError


class Located(dict):
    """A YAML mapping that knows its lines (1-based)."""

    line: int = 0
    lines: dict[str, int]
    spans: dict[str, tuple[int, int, bool]]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lines = {}
        self.spans = {}


def line_of(data: Any, key: str | None = None) -> int | None:
    """The line of a mapping (key None) or of one of its values, when known."""
    if not isinstance(data, Located):
        return None
    return data.lines.get(key, data.line) if key is not None else data.line


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = Located()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            block = isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">")
            first = value_node.start_mark.line + 1 + int(block)
            data.lines[str(key_node.value)] = first
            data.spans[str(key_node.value)] = (first, value_node.end_mark.line + 1,
                                               isinstance(value_node, yaml.ScalarNode) and value_node.style == "|")


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)


def text_line(path: Path, data: Any, key: str, text: str, line: int) -> int | None:
    """The file line of line `line` (from 1) of the text that `data[key]` holds: exact in a
    literal block; otherwise (quoted or folded text, a list of texts) the first line of
    the value's span that holds that line's words; None when the lines are unknown."""
    span = data.spans.get(key) if isinstance(data, Located) else None
    if span is None:
        return None
    first, last, literal = span
    if literal:
        return first + line - 1
    wanted = (text.split("\n")[line - 1] if 0 < line <= text.count("\n") + 1 else "").strip()
    try:
        source = path.read_text(encoding="utf-8").split("\n")
    except OSError:
        return first
    forms = [wanted[:40], wanted[:40].replace("\\", "\\\\")]  # as written plain, or escaped in "..."
    for number in range(first, min(last, len(source)) + 1):
        if wanted and any(form in source[number - 1] for form in forms):
            return number
    return first


def load_yaml(path: Path) -> Any:
    """A YAML file's data; a syntax error names the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BankError("not UTF-8 text", where=str(path), hint="save the file as UTF-8") from None
    except OSError as exc:
        raise BankError(f"cannot read: {exc.strerror}", where=str(path)) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass: data only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise BankError(f"not valid YAML: {exc.problem}", where=where) from None
    except yaml.YAMLError as exc:
        raise BankError(f"cannot read bank: {exc}", where=str(path)) from None
