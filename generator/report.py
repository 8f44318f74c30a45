"""The class report of `gen grade`: report.html, one self-contained file (charts as PNG
embedded in base64), plus the charts as PNG files for slides.

Charts: how the points of each problem are distributed over the class, how the totals
are, and how many students made each slip. Drawn with matplotlib's object interface
(Figure, no pyplot), which renders with the Agg backend and keeps no global state.
The HTML is built with xml.etree, so names and answers are escaped by construction.
"""

from __future__ import annotations

import base64
import io
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from matplotlib.figure import Figure

from .files import write_atomic
from .grade import Graded, Grading, pending_points, plural, points_text, status

BAR = "#4c72b0"
SLIP_BAR = "#dd8452"
COLUMNS = 3  # small multiples per row in the points chart


@dataclass(frozen=True)
class SlotPoints:
    """One bank problem over the class: each graded student's points on it, and the
    scores shown on the chart's axis (the sums of its answers' points where they are
    few, else the scores students got; `one_of` alternatives may have different
    answers, so the union over the class)."""

    slot: str
    families: str
    max_points: Fraction
    levels: list[Fraction]
    points: list[Fraction]


def slot_points(grading: Grading) -> list[SlotPoints]:
    """Per slot (a bank problem, whatever number it had on each shuffled exam), in the
    exam's order: by the number the slot's problem has on the exams (on average, when
    the bank shuffles), not by the slot's id."""
    rows: dict[str, dict[str, list[Graded]]] = defaultdict(lambda: defaultdict(list))
    numbers: dict[str, list[int]] = defaultdict(list)
    for g in grading.graded:
        rows[g.slot][g.student].append(g)
        numbers[g.slot].append(g.problem)
    order = sorted(rows, key=lambda slot: (Fraction(sum(numbers[slot]), len(numbers[slot])), _slot_order(slot)))
    return [_slot(slot, list(rows[slot].values())) for slot in order]


MAX_LEVELS = 16  # more possible scores than this no longer label an axis: the scores students got instead


def _slot(slot: str, students: list[list[Graded]]) -> SlotPoints:
    points = [sum((g.points for g in mine), Fraction(0)) for mine in students]
    most = max(sum(g.max_points for g in mine) for mine in students)
    possible: set[Fraction] = set()
    for mine in {tuple(g.max_points for g in mine) for mine in students}:  # answers' points, per kind of exam
        sums = {Fraction(0)}
        for worth in mine:
            sums |= {s + worth for s in sums}
            if len(sums) > MAX_LEVELS:
                break
        possible |= sums
    levels = possible if len(possible) <= MAX_LEVELS else {Fraction(0), most}
    return SlotPoints(
        slot=slot,
        families=", ".join(sorted({mine[0].family for mine in students})),
        max_points=most,
        levels=sorted(levels | set(points)),  # points given by hand may fall between
        points=points,
    )


def _slot_order(slot: str) -> tuple[int, str]:
    return (int(slot), "") if slot.isdigit() else (10**9, slot)


@dataclass(frozen=True)
class SlipCount:
    family: str
    slip: str
    says: str
    answers: str  # the answers it was diagnosed on
    students: list[str]


def slip_counts(grading: Grading) -> list[SlipCount]:
    """Each slip with the students who made it (once per student), most frequent first."""
    found: dict[tuple[str, str], list[Graded]] = defaultdict(list)
    for g in grading.graded:
        if g.slip:
            found[(g.family, g.slip)].append(g)
    counts = [SlipCount(family, slip, rows[0].says or "", ", ".join(dict.fromkeys(r.answer for r in rows)),
                        list(dict.fromkeys(r.student for r in rows))) for (family, slip), rows in found.items()]
    return sorted(counts, key=lambda c: (-len(c.students), c.family, c.slip))


# --- charts ----------------------------------------------------------------------


def points_chart(slots: list[SlotPoints]) -> bytes:
    """Small multiples: for each problem, how many students got each possible score."""
    rows = -(-len(slots) // COLUMNS)
    columns = min(COLUMNS, len(slots))
    figure = Figure(figsize=(3.4 * columns, 2.6 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).flatten()
    for ax, slot in zip(axes, slots, strict=False):
        counts = Counter(slot.points)
        width = float(min(b - a for a, b in zip(slot.levels, slot.levels[1:], strict=False))) * 0.8
        ax.bar([float(v) for v in slot.levels], [counts[v] for v in slot.levels], width=width, color=BAR)
        ax.set_xticks([float(v) for v in slot.levels], [points_text(v) for v in slot.levels], fontsize=7)
        ax.yaxis.get_major_locator().set_params(integer=True)
        mean = sum(slot.points) / len(slot.points)
        mean_text = f"mean {float(mean):.2f} of {points_text(slot.max_points)}"  # a summary, not an answer
        ax.set_title(f"Problem {slot.slot}: {slot.families}\n{mean_text}", fontsize=8)
        ax.set_xlabel("points", fontsize=8)
        ax.set_ylabel("students", fontsize=8)
    for ax in axes[len(slots):]:
        ax.set_visible(False)
    figure.suptitle("Points per problem", fontsize=10)
    return _png(figure)


def totals_chart(totals: list[Fraction], most: Fraction, provisional: bool) -> bytes:
    figure = Figure(figsize=(6, 2.6), layout="constrained")
    ax = figure.subplots()
    ax.hist([float(t) for t in totals], bins=10, range=(0, float(most)), color=BAR,
            edgecolor="white")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(f"total points (of {points_text(most)})", fontsize=8)
    ax.set_ylabel("students", fontsize=8)
    ax.set_title("Totals (provisional: some answers are still to be graded by hand)" if provisional else "Totals",
                 fontsize=10)
    return _png(figure)


def slips_chart(slips: list[SlipCount], graded_students: int) -> bytes:
    """One bar per slip: how many students made it, labelled with what went wrong."""
    height = 1.2 + 0.5 * max(1, len(slips))
    figure = Figure(figsize=(10, height), layout="constrained")
    ax = figure.subplots()
    if not slips:
        ax.text(0.5, 0.5, "no slip was diagnosed", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        labels = [textwrap.fill(textwrap.shorten(f"{s.family}: {s.says}", 110, placeholder="…"), 58) for s in slips]
        positions = range(len(slips))
        bars = ax.barh(positions, [len(s.students) for s in slips], color=SLIP_BAR)
        ax.bar_label(bars, fontsize=7, padding=2)
        ax.set_yticks(positions, labels, fontsize=7)
        ax.invert_yaxis()  # most frequent on top
        ax.set_xlim(0, graded_students)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel(f"students (of {graded_students} graded)", fontsize=8)
    ax.set_title("Slips: how many students made each mistake", fontsize=10)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # no Software tag: the same grades give the same bytes whatever matplotlib made them
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


# --- the HTML page ---------------------------------------------------------------


def charts(grading: Grading) -> dict[str, bytes]:
    slots = slot_points(grading)
    totals = [sum((g.points for g in grading.graded if g.student == s), Fraction(0)) for s in grading.students]
    most = max(sum((g.max_points for g in grading.graded if g.student == s), Fraction(0)) for s in grading.students)
    return {
        "points.png": points_chart(slots),
        "totals.png": totals_chart(totals, most, any(g.pending for g in grading.graded)),
        "slips.png": slips_chart(slip_counts(grading), len(grading.students)),
    }


STYLE = """
body { font-family: sans-serif; max-width: 64rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
img { max-width: 100%; }
.skipped { color: #a33; }
"""


def report_html(grading: Grading, images: dict[str, bytes]) -> str:
    html = ET.Element("html", lang="en")
    head = ET.SubElement(html, "head")
    ET.SubElement(head, "meta", charset="utf-8")
    _add(head, "title", "Class report")
    _add(head, "style", STYLE)
    body = ET.SubElement(html, "body")
    _add(body, "h1", "Class report")
    _overview(body, grading)
    for name, alt in (("points.png", "points per problem"), ("totals.png", "totals"), ("slips.png", "slips")):
        ET.SubElement(body, "img", src="data:image/png;base64," + base64.b64encode(images[name]).decode(), alt=alt)
    _slips_table(body, slip_counts(grading))
    _students_table(body, grading)
    _skipped_table(body, grading)
    return "<!DOCTYPE html>\n" + ET.tostring(html, encoding="unicode", method="html") + "\n"


def _add(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _table(parent: ET.Element, header: list[str], rows: list[list[str]]) -> None:
    table = ET.SubElement(parent, "table")
    head = ET.SubElement(table, "tr")
    for cell in header:
        _add(head, "th", cell)
    for row in rows:
        line = ET.SubElement(table, "tr")
        for cell in row:
            _add(line, "td", cell)


def _overview(body: ET.Element, grading: Grading) -> None:
    graded, everyone = len(grading.students), len(grading.exams)
    answers = len(grading.graded)
    text = (f"{graded} of {plural(everyone, 'student')} in the class returned answers; "
            f"{plural(answers, 'answer')} {_were(answers)} graded. "
            "Each answer is worth its points in answers.json (`answer_points`: the bank's, or else the "
            "problem's points shared equally by its answers).")
    _add(body, "p", text)
    reasons = Counter(s.reason for s in grading.skipped)
    if reasons:
        why = "; ".join(plural(count, reason) for reason, count in reasons.most_common())
        count = len(grading.skipped)
        _add(body, "p", f"{plural(count, 'row')} of the responses {_were(count)} skipped ({why}); "
                        f"{'it is' if count == 1 else 'they are'} listed at the end.", **{"class": "skipped"})
    else:
        _add(body, "p", "No row of the responses was skipped.")
    unreadable = [g for g in grading.graded if g.verdict == "unreadable"]
    if unreadable:
        _add(body, "p", f"{plural(len(unreadable), 'answer')} could not be read and got no points (verdict "
                        "unreadable; the reasons are in the table of skipped rows and in the students' feedback).",
             **{"class": "skipped"})
    by_hand = sum(g.hand for g in grading.graded)
    if by_hand:
        _add(body, "p", f"{plural(by_hand, 'answer')} {_were(by_hand)} graded by hand (the hand grades file).")
    if grading.hand_skipped:
        count = len(grading.hand_skipped)
        _add(body, "p", f"{plural(count, 'hand grade')} {_were(count)} not used; "
                        f"{'it is' if count == 1 else 'they are'} listed at the end.", **{"class": "skipped"})
    pending = [g for g in grading.graded if g.pending]
    if pending:
        students = len({g.student for g in pending})
        one = len(pending) == 1
        _add(body, "p", f"{plural(len(pending), 'answer')} of {plural(students, 'student')} {'is' if one else 'are'} "
                        f"to be graded by hand: {'its' if one else 'their'} points are not in the totals yet, so "
                        f"{'that total is' if students == 1 else 'those totals are'} provisional (see the students' "
                        "status).")
    verdicts = Counter(g.verdict for g in grading.graded)
    _table(body, ["verdict", "answers"], [[v, str(n)] for v, n in verdicts.most_common()])


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _slips_table(body: ET.Element, slips: list[SlipCount]) -> None:
    _add(body, "h2", "Slips")
    if not slips:
        _add(body, "p", "No wrong answer equals a known slip.")
        return
    _table(body, ["family", "slip", "what went wrong", "answers", "students", "who"],
           [[s.family, s.slip, s.says, s.answers, str(len(s.students)), ", ".join(s.students)] for s in slips])


def _students_table(body: ET.Element, grading: Grading) -> None:
    _add(body, "h2", "Students")
    rows = []
    for student in grading.students:
        mine = [g for g in grading.graded if g.student == student]
        slips = ", ".join(dict.fromkeys(g.slip for g in mine if g.slip))
        pending = pending_points(mine)
        rows.append([student, mine[0].name, points_text(sum(g.points for g in mine)),
                     points_text(sum(g.max_points for g in mine)), points_text(pending), status(pending), slips])
    _table(body, ["id", "name", "points", "of", "pending (by hand)", "status", "slips"], rows)


def _skipped_table(body: ET.Element, grading: Grading) -> None:
    if grading.skipped:
        _add(body, "h2", "Skipped rows")
        _table(body, ["line", "reason", "message"], [[str(s.line), s.reason, s.message] for s in grading.skipped])
    if grading.hand_skipped:
        _add(body, "h2", "Hand grades not used")
        _table(body, ["line", "reason", "message"],
               [[str(s.line), s.reason, s.message] for s in grading.hand_skipped])


def write_report(grading: Grading, out_dir: Path) -> list[Path]:
    """report.html with the charts inside, and the charts as PNG files."""
    images = charts(grading)
    written = []
    for name, png in images.items():
        write_atomic(out_dir / name, png)
        written.append(out_dir / name)
    write_atomic(out_dir / "report.html", report_html(grading, images))
    return [out_dir / "report.html", *written]
