"""Values as students write them, read into exact numbers.

`0.7842`, `3921/5000`, `-1.5e-2`, `147,840`, `147 840` and ` 0.5 ` are numbers (read
with fractions.Fraction, so `0.1` is exactly 1/10, never a binary float); vectors and
matrices are bracketed lists (`[1, 2]`, `[[1, 2], [3, 4]]`, parentheses work too);
labels such as `B` are text. What is expected decides how a value is read, so a word
where a number belongs is reported as unreadable rather than graded as wrong.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from .choice import as_number
from .numbers import MASKED

# Thousands separators are only recognised between groups of exactly three digits, the
# first group not starting with 0, so `147,840` is a number while `0,5`, `1,5` and
# `0,995` (decimal commas?) are refused, not guessed.
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:[,\u00a0\u202f\u2009 ]\d{3})+(?:\.\d+)?")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_SEPARATORS = str.maketrans("", "", ",\u00a0\u202f\u2009 ")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # typographic minus and en dash from word processors
_FRACTION = re.compile(r"([+-]?\d+)\s*/\s*([+-]?\d+)")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TOKENS = re.compile(r"\s*([\[\]()]|,|[^\[\](),]+)")

NUMBER_HELP = "write a number such as 0.7842, 3921/5000, -1.5e-2 or 147840"
LIST_HELP = f"write a vector as [1, 2, 3] and a matrix as [[1, 2], [3, 4]]; a masked entry as {MASKED} or -inf"
NAMED_HELP = "write each value by its name, as x: 0.5, y: -2"
# How a student may write an entry that does not exist (a masked attention score: -inf before the softmax)
_MASKED_WORDS = {MASKED, "-inf", "null", "none", "-", "x", "−inf", "-∞", "−∞"}


def exact_value(value: Any) -> Any:
    """A contract value (JSON form) as Fractions, lists and labels: the form answers are compared in."""
    if isinstance(value, list):
        return [exact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: exact_value(v) for k, v in value.items()}
    number = as_number(value)
    return value if number is None else number


def parse_value(text: str, expected: Any) -> Any:
    """Read what a student wrote for an answer shaped like `expected` (its contract
    value); raises ValueError saying what is wrong."""
    text = text.strip()
    if isinstance(expected, dict) and not expected.get("type"):
        return parse_named(text, expected)
    if isinstance(expected, list):
        if any(isinstance(v, dict) for v in expected):
            return text  # a structure (e.g. a list of layers) only a person can read
        return parse_list(text)
    if as_number(expected) is None:
        return text  # a label
    return parse_number(text)


def parse_number(text: str) -> Fraction:
    text = text.strip().translate(_MINUS)
    if _GROUPED.fullmatch(text):
        text = text.translate(_SEPARATORS)
    elif _COMMA_DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} may be a decimal comma; write a decimal point ({text.replace(',', '.')}) - a "
                         "comma only separates groups of three digits, as in 147,840")
    fraction = _FRACTION.fullmatch(text)
    if fraction:
        numerator, denominator = (int(g) for g in fraction.groups())
        if denominator == 0:
            raise ValueError(f"{text!r} divides by zero")
        return Fraction(numerator, denominator)
    if _DECIMAL.fullmatch(text):
        return Fraction(text)
    raise ValueError(f"{text!r} is not a number; {NUMBER_HELP}")


def parse_list(text: str) -> list[Any]:
    """A bracketed list of numbers, nested for matrices: `[1, 2]`, `[[1, 2], [3, 4]]`."""
    tokens = _tokens(text)
    if not tokens or tokens[0] not in "[(":
        raise ValueError(f"{text!r} is not a bracketed list; {LIST_HELP}")
    value, used = _list(tokens, 0)
    if used != len(tokens):
        raise ValueError(f"{text!r} has something after the closing bracket")
    return value


def _tokens(text: str) -> list[str]:
    tokens, position, text = [], 0, text.strip()
    while position < len(text):
        match = _TOKENS.match(text, position)
        tokens.append(match.group(1).strip())
        position = match.end()
    return [t for t in tokens if t]


def _list(tokens: list[str], start: int) -> tuple[list[Any], int]:
    """The list opening at tokens[start]; returns it and the index after its closing bracket."""
    closing = "]" if tokens[start] == "[" else ")"
    items: list[Any] = []
    position = start + 1
    while position < len(tokens) and tokens[position] != closing:
        if items:
            if tokens[position] != ",":
                raise ValueError(f"expected a comma between the list's items, found {tokens[position]!r}")
            position += 1
        if position < len(tokens) and tokens[position] in "[(":
            item, position = _list(tokens, position)
        elif position < len(tokens) and tokens[position] not in "])":
            item, position = _list_number(tokens[position]), position + 1
        else:
            raise ValueError("a list item is missing")
        items.append(item)
    if position >= len(tokens):
        raise ValueError(f"a list is not closed with {closing!r}")
    return items, position + 1


def parse_named(text: str, expected: dict[str, Any]) -> dict[str, Any]:
    """Values by name, `x: 0.5, y: -2` (braces and = work too), for an answer that is a
    mapping such as the gradients of a graph's inputs; every name must be given once."""
    body = text.strip()
    if body[:1] == "{" and body[-1:] == "}":
        body = body[1:-1]
    given: dict[str, Any] = {}
    for item in filter(None, (i.strip() for i in re.split(r"[,;]", body))):
        name, sep, value = item.replace("=", ":", 1).partition(":")
        name = name.strip().strip("'\"")
        if not sep or not name:
            raise ValueError(f"{item!r} has no name; {NAMED_HELP}")
        if name not in expected:
            raise ValueError(f"{name!r} is not one of {', '.join(expected)}")
        given[name] = parse_value(value, expected[name])
    missing = [name for name in expected if name not in given]
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}; {NAMED_HELP}")
    return given


def _list_number(token: str) -> Fraction | None:
    """A list item; several numbers separated by spaces are a list without commas."""
    if token.strip().lower() in _MASKED_WORDS:
        return None
    try:
        return parse_number(token)
    except ValueError:
        if len(token.split()) > 1:
            raise ValueError(f"{token!r} needs commas between its numbers; {LIST_HELP}") from None
        raise
