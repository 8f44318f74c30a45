"""`gen export`: the bank's variants as questions for a learning-management system,
as Moodle XML (moodle.py) or a QTI 1.2 package for Canvas (qti.py). questions.py draws
the variants and turns answers into blanks; figures.py makes the images."""

from __future__ import annotations

from pathlib import Path

from ..bank import Bank, Slot
from ..errors import GenError
from ..files import prepare_dir, write_atomic
from ..questions import Question
from .moodle import cloze_marks, moodle_xml
from .qti import qti_zip
from .questions import collect, decimal_text

FORMATS = {"moodle": ".xml", "qti": ".zip"}


def export_bank(bank: Bank, seed: int, count: int, form: str, out: Path | None) -> tuple[Path, list[str]]:
    """Write the export; returns its path and warnings (problems with fewer distinct
    variants than asked for)."""
    if out is not None and out.is_dir():
        raise GenError(f"--out {str(out)!r} is a folder",
                       hint=f"give a file name, e.g. {out / (bank.name + FORMATS[form])}")
    categories, warnings = collect(bank, seed, count)
    if form == "qti":
        warnings += _qti_one_of_warnings(bank)
    else:
        warnings += _moodle_mark_warnings(bank)
    data = moodle_xml(bank, categories) if form == "moodle" else qti_zip(bank, categories, seed)
    path = out or Path(f"{bank.name}-{form}{FORMATS[form]}")
    prepare_dir(path.parent)
    write_atomic(path, data)
    return path, warnings


def _moodle_mark_warnings(bank: Bank) -> list[str]:
    """Moodle makes a Cloze question worth the sum of its boxes' whole marks, so a family
    problem's points that are not whole are rounded there."""
    return [f"problem {slot.id}: Moodle gives Cloze questions whole marks, so its {decimal_text(points)} points are "
            f"{cloze_marks(points)} marks in Moodle; set the mark you want in the quiz"
            for slot in bank.slots
            for points in dict.fromkeys(slot.points_of(i) for i, choice in enumerate(slot.choices)
                                        if not isinstance(choice, Question))
            if points.denominator != 1]


def _qti_one_of_warnings(bank: Bank) -> list[str]:
    """Canvas draws questions from one group but cannot draw one of several groups, so a
    quiz made from a `one_of` slot asks every alternative; the teacher has to know. A
    pool of questions written in the bank, all worth the same, is one group that picks."""
    return [f"problem {slot.id}: Canvas cannot pick "
            + ("one of the `one_of` alternatives" if slot.pick == 1 else f"{slot.pick} of the pool's alternatives")
            + ", so the QTI quiz has "
            "question groups for each of them; delete the groups you do not want after importing"
            for slot in bank.slots if len(slot.choices) > 1 and not _one_group(slot)]


def _one_group(slot: Slot) -> bool:
    """Questions written in the bank, all worth the same: one group Canvas picks from."""
    return (all(isinstance(c, Question) for c in slot.choices)
            and len({slot.points_of(i) for i in range(len(slot.choices))}) == 1)
