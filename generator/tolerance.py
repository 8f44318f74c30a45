"""How close a returned answer must be to the key's exact value.

A tolerance is part of the answer contract (`tolerance` in each problem object), so
graders and LMS exports read the same rule the generator meant. Kinds:

- `exact`: the same value (integer counts, shapes, labels; numbers compared as
  fractions, labels ignoring case and surrounding spaces);
- `abs`: |given - correct| <= value, per element for vectors and matrices;
- `rel`: |given - correct| <= value * |correct|, per element;
- `manual`: more than one answer is right (a design of the student's own), so a
  person grades it; only the key's own value is recognised automatically.

The default rule: anything made only of integers and labels is exact; anything holding
a non-integer rational gets an absolute tolerance of half a unit in the 4th decimal
(1/20000), so a student who rounds correctly to 4 decimals, as the key's decimals do,
is right. A family overrides it per answer (`Family.tolerances`), a bank per problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import BankError

KINDS = ("exact", "abs", "rel", "manual")


@dataclass(frozen=True)
class Tolerance:
    kind: str
    value: Fraction | None = None  # for abs and rel only

    def to_json(self) -> dict[str, str]:
        data = {"kind": self.kind}
        if self.value is not None:
            data["value"] = str(self.value)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Tolerance:
        """The contract's form back, e.g. {"kind": "abs", "value": "1/20000"}."""
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ValueError(f"not a tolerance: {data!r}")
        value = data.get("value")
        return cls(data["kind"], None if value is None else Fraction(value))

    def accepts(self, given: Fraction, correct: Fraction) -> bool:
        """True when one number is close enough to the correct one."""
        error = abs(given - correct)
        if self.kind == "abs":
            return error <= self.value
        if self.kind == "rel":
            return error <= self.value * abs(correct)
        return error == 0

    def bound(self, correct: Fraction) -> Fraction:
        """The largest accepted |given - correct| for this correct value."""
        if self.kind == "abs":
            return self.value
        if self.kind == "rel":
            return self.value * abs(correct)
        return Fraction(0)


def half_unit(places: int) -> Tolerance:
    """Absolute tolerance of half a unit in the given decimal place: exactly the values
    that round to the key's value at that many decimals are accepted."""
    return Tolerance("abs", Fraction(1, 2 * 10**places))


EXACT = Tolerance("exact")
MANUAL = Tolerance("manual")
DEFAULT_PLACES = 4  # the key's decimals for non-terminating values (numbers.decimal)


def default_tolerance(value: Any) -> Tolerance:
    """Exact for integers, lists of integers and labels; half a unit in the 4th decimal
    for anything holding a non-integer rational. `value` is in the contract's JSON form."""
    return half_unit(DEFAULT_PLACES) if _has_fraction(value) else EXACT


def _has_fraction(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_fraction(v) for v in value)
    if isinstance(value, str):
        try:
            return Fraction(value).denominator != 1
        except ValueError:  # a label, not a number
            return False
    return False


def parse_tolerance(spec: Any, *, where: str) -> Tolerance:
    """A bank's tolerance: `exact`, `manual`, `{abs: X}` or `{rel: X}` with X a positive
    number (`0.001`, `"1/1000"`)."""
    if spec in ("exact", "manual"):
        return Tolerance(spec)
    if isinstance(spec, dict) and len(spec) == 1:
        ((kind, raw),) = spec.items()
        if kind in ("abs", "rel"):
            return Tolerance(kind, _positive(raw, f"tolerance {kind}", where))
    raise BankError(f"a tolerance is `exact`, `manual`, {{abs: X}} or {{rel: X}}, got {spec!r}", where=where,
                    hint='e.g. tolerance: {w_decay: {abs: "1/1000"}} or, for every answer, tolerance: {rel: 0.01}')


def _positive(raw: Any, what: str, where: str) -> Fraction:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BankError(f"{what} must be a positive number, got {raw!r}", where=where)
    try:
        # str() first: YAML's 0.001 is a float, whose binary value is not 1/1000
        number = Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError):
        raise BankError(f"{what} must be a positive number like 0.001 or \"1/1000\", got {raw!r}",
                        where=where) from None
    if number <= 0:
        raise BankError(f"{what} must be positive, got {raw!r}", where=where)
    return number
