"""Moodle XML: one question category per problem of the bank, each holding that
problem's variants, so that a quiz can draw a "random question from category".

A variant is a Cloze (embedded answers) question: the statement as an image, then a
NUMERICAL box per number (vectors and matrices one box per element) with the contract's
tolerance, whose slips are listed as 0% answers with feedback naming the mistake;
labels as SHORTANSWER; the answer asked as multiple choice as MULTICHOICE_V with the
slip distractors and their feedback. Moodle makes a Cloze question worth the sum of its
boxes' whole marks, so the boxes' marks add up to the problem's points (cloze_boxes:
an answer with more elements than marks is asked in some of them). A problem whose
answers are all graded by hand becomes an essay question. The worked solution (image)
and the exact answers are the general feedback. Images travel inside the XML,
base64-encoded (@@PLUGINFILE@@).

A question written in the bank goes into its problem's category as the Moodle question
type of its kind, its text and the model answer as HTML (math for Moodle's MathJax):
written -> essay (the model answer and rubric as the grader's information),
true_false -> truefalse, choice -> multichoice (one or several right, shuffled by
Moodle), numeric -> numerical with the tolerance, text -> shortanswer.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from html import escape
from math import floor
from pathlib import Path

from .. import numbers
from ..bank import Bank
from ..choice import ChoiceQuestion
from ..grade import readable
from ..questions import Asked
from ..variants import Problem
from .markup import add, answer_html, html, image, markdown_html, option_feedback, slip_feedback, solution_html
from .questions import Blank, Category, Part, Variant, apportion, capitalized, decimal_text, floor_to, parts, spread

TOLERANCE_DIGITS = 12  # a tolerance that does not end in decimals is rounded down to these

# How Moodle reads a Cloze sub-question, from qtype_multianswer_extract_question and
# qtype_multianswer_validate_question (moodle/moodle, question/type/multianswer/
# questiontype.php), run on the question text's HTML source:
# - `{N:TYPE:alternatives}`: N, the sub-question's mark, is a whole number (empty
#   means 1), and the question's mark becomes the sum of its sub-questions' marks
#   (question/format/xml/format.php, import_multianswer, never reads <defaultgrade>);
# - alternatives are separated by `~`; each is an optional grade (`=` for 100%,
#   `%n%` for n%, nothing for 0%), the answer, and `#feedback`; an answer ends at the
#   first `~`, `#` or `}` not preceded by `\`, `&` or `&amp;`, a feedback at the first
#   `~` or `}` not preceded by `\`;
# - answers (other than numbers) and feedback are then html_entity_decode'd, and
#   `\}` and `\#` become `}` and `#`: nothing else is un-escaped, so `\~`, `\/`
#   or `\\` would be shown as written;
# - a NUMERICAL answer is `number` or `number:tolerance`, plain decimals; each
#   sub-question needs a 100% answer, a MULTICHOICE one at least two options.
# So special characters are written as HTML character references, which the decoding
# turns back into the characters: in a plain-text answer (SHORTANSWER) the character
# itself, in an HTML one (feedback, MULTICHOICE options) the HTML that shows it.
_CLOZE_REFERENCES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "{": "&#123;", "}": "&#125;",
                     "~": "&#126;", "#": "&#35;", "\\": "&#92;"}


def cloze_text(text: str) -> str:
    r"""A plain-text Cloze answer, as it goes into the question's HTML source, so that
    Moodle's extractor stores exactly `text`. A backslash before `}` or `#` is doubled,
    since the extractor turns `\}` and `\#` into `}` and `#` after decoding."""
    text = re.sub(r"\\(?=[}#])", r"\\\\", text)
    return "".join(_CLOZE_REFERENCES.get(char, char) for char in text)


def cloze_html(text: str) -> str:
    """Plain text for a Cloze feedback or multiple-choice option, which Moodle stores
    and shows as HTML: the HTML that shows `text`, then encoded as cloze_text does."""
    return cloze_text(escape(text, quote=False))


def category_path(bank: Bank, category: Category) -> str:
    """Moodle separates category levels with '/', and reads '//' as a '/' in a name."""
    names = [bank.title, category.title]
    return "$course$/top/" + "/".join(name.replace("/", "//") for name in names)


def moodle_xml(bank: Bank, categories: list[Category]) -> bytes:
    quiz = ET.Element("quiz")
    for category in categories:
        quiz.append(_category(bank, category))
        for variant in category.variants:
            quiz.append(_question(category, variant))
        for asked in category.questions:
            quiz.append(bank_question(category, asked, bank.images))
    ET.indent(quiz)
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True) + b"\n"


def _category(bank: Bank, category: Category) -> ET.Element:
    question = ET.Element("question", type="category")
    add(add(question, "category"), "text", category_path(bank, category))
    return question


def _question(category: Category, variant: Variant) -> ET.Element:
    problem = variant.problem
    online = cloze_boxes(problem)
    kind = "cloze" if online else "essay"
    question = ET.Element("question", type=kind)
    add(add(question, "name"), "text", f"{category.title} ({problem.fingerprint})")
    _text_with_image(question, "questiontext", _question_html(variant, online), "statement.png", variant.statement_png)
    _text_with_image(question, "generalfeedback", solution_html(problem, "@@PLUGINFILE@@/solution.png"),
                     "solution.png", variant.solution_png)
    # Moodle sets a Cloze question's mark from its sub-questions (see above); written
    # all the same, it says the same number
    add(question, "defaultgrade", str(sum(box.marks for box in online)) if online
        else decimal_text(Fraction(problem.points)))
    add(question, "penalty", "0")
    add(question, "hidden", "0")
    add(question, "idnumber", problem.fingerprint)
    if kind == "essay":
        _essay_settings(question, "Any answer that meets the problem's conditions is right; the key shows one.")
    return question


def _text_with_image(question: ET.Element, tag: str, text: str, name: str, png: bytes) -> None:
    element = add(question, tag, format="html")
    add(element, "text", text)
    add(element, "file", base64.b64encode(png).decode("ascii"), name=name, path="/", encoding="base64")


@dataclass(frozen=True)
class Box:
    """One Cloze sub-question: a blank, the multiple choice or the answers graded by
    hand (`blank` None for the last two), with its whole marks."""

    part: Part
    blank: Blank | None
    marks: int


def cloze_marks(points: Fraction) -> int:
    """A Cloze question's mark is a sum of whole numbers: the bank's points, rounded
    half up when they are not whole (export_bank warns), at least 1."""
    return max(1, floor(points + Fraction(1, 2)))


def cloze_boxes(problem: Problem) -> list[Box]:
    """The sub-questions of a problem's Cloze question, whose marks add up to its
    points. Each answer gets an equal share of the marks (the answers graded by hand
    one share each), shares rounded to whole marks by largest remainders (ties to the
    answers with more boxes, then to the earlier); an answer's marks go to its elements
    equally. An answer with more elements than marks is asked in as many elements as
    it has marks, evenly spread, 1 mark each; an answer whose share rounds to 0 (more
    answers than points) is not asked online. A problem graded only by hand has none:
    it is an essay question."""
    found = parts(problem)
    if all(part.kind == "manual" for part in found):
        return []
    total = cloze_marks(Fraction(problem.points))
    shares = sum(part.shares for part in found)
    quotas = [Fraction(total * part.shares, shares) for part in found]
    order = sorted(range(len(found)), key=lambda i: -found[i].boxes)
    online: list[Box] = []
    for part, marks in zip(found, apportion(total, quotas, order), strict=True):
        if marks == 0:
            continue
        if part.kind != "blanks":
            online.append(Box(part, None, marks))
        elif len(part.blanks) <= marks:
            count = len(part.blanks)
            online += [Box(part, blank, share)
                       for blank, share in zip(part.blanks, apportion(marks, [Fraction(marks, count)] * count),
                                               strict=True)]
        else:
            online += [Box(part, part.blanks[i], 1) for i in spread(len(part.blanks), marks)]
    return online


def _marks(marks: int) -> str:
    return f"{marks} mark" + ("" if marks == 1 else "s")


def _question_html(variant: Variant, online: list[Box]) -> str:
    """The statement's image, then a table of the boxes (label, box, marks), the
    multiple choice and the box for the answers graded by hand. The Cloze markup goes
    into the HTML source as it is (placeholders in the tree, replaced after)."""
    problem = variant.problem
    root = ET.Element("div")
    image(root, "@@PLUGINFILE@@/statement.png", f"statement of {problem.family.title}")
    markup: list[str] = []

    def place(cloze: str) -> str:
        markup.append(cloze)
        return f"@@CLOZE{len(markup) - 1}@@"

    if not online:
        add(root, "p", f"Graded by hand (more than one answer is right): {variant.manual_text}. "
                       "Write these in the box below.")
        return html(root)
    possible = sum(part.boxes for part in parts(problem))
    if len(online) < possible:
        add(root, "p", f"Online you give {len(online)} of the {possible} values the statement asks for, in the "
                       f"boxes below; each box is worth the marks shown, {sum(b.marks for b in online)} in all.")
    boxed = [box for box in online if box.blank is not None]
    if boxed:
        table = add(root, "table")
        for box in boxed:
            row = add(table, "tr")
            add(row, "td", capitalized(box.blank.label))
            add(row, "td", place(_subquestion(box.blank, box.marks)))
            add(row, "td", f"({_marks(box.marks)})")
    for box in online:
        if box.part.kind == "choice":
            add(root, "p", f"Multiple choice for {variant.choice_label}: mark the one right option "
                           f"({_marks(box.marks)}).")
            add(root, "p", place(_multichoice(problem.choice, box.marks)))
        elif box.part.kind == "manual":
            add(root, "p", f"Graded by hand (more than one answer is right): {variant.manual_text}. Write "
                           f"these in the box below ({_marks(box.marks)}); only the key's own answer is "
                           "recognised automatically, a person grades the others.")
            add(root, "p", place(_by_hand(problem, variant.manual, box.marks)))
    text = html(root)
    for index, cloze in enumerate(markup):
        text = text.replace(f"@@CLOZE{index}@@", cloze, 1)
    return text


def _subquestion(field: Blank, marks: int) -> str:
    if not field.numeric:
        return f"{{{marks}:SHORTANSWER:={cloze_text(field.value)}#{cloze_html('Correct.')}}}"
    tolerance = decimal_text(floor_to(field.tolerance, TOLERANCE_DIGITS))
    answers = [f"={decimal_text(field.value)}:{tolerance}#{cloze_html('Correct.')}"]
    answers += [f"%0%{decimal_text(value)}:{tolerance}#{cloze_html(slip_feedback(says))}"
                for value, says in field.slips if abs(value - field.value) > field.tolerance]  # others are right
    return f"{{{marks}:NUMERICAL:{'~'.join(answers)}}}"


def _multichoice(choice: ChoiceQuestion, marks: int) -> str:
    options = [f"{'=' if o.kind == 'answer' else ''}{cloze_html(o.text)}#{cloze_html(option_feedback(o))}"
               for o in choice.options]
    return f"{{{marks}:MULTICHOICE_V:{'~'.join(options)}}}"


def _by_hand(problem: Problem, names: list[str], marks: int) -> str:
    """A short-answer box for the answers graded by hand: the key's own answer is
    right, anything else (`*`) waits for a person, who overrides the mark."""
    key = "; ".join(readable(value) for name, value in numbers.to_json(problem.solution.answers).items()
                    if name in names)
    return (f"{{{marks}:SHORTANSWER:={cloze_text(key)}#{cloze_html('The key gives this answer.')}"
            f"~*#{cloze_html('A person grades this answer.')}}}")


def _essay_settings(question: ET.Element, grader_info: str) -> None:
    add(question, "responseformat", "editor")
    add(question, "responserequired", "1")
    add(question, "responsefieldlines", "15")
    add(question, "attachments", "0")
    grader = add(question, "graderinfo", format="html")
    add(grader, "text", grader_info)


# --- questions written in the bank ------------------------------------------------

QUESTION_TYPES = {"written": "essay", "true_false": "truefalse", "choice": "multichoice", "numeric": "numerical",
                  "text": "shortanswer"}


def bank_question(category: Category, asked: Asked, images: dict[str, Path]) -> ET.Element:
    """A question written in the bank as the Moodle question of its kind."""
    q = asked.question
    question = ET.Element("question", type=QUESTION_TYPES[q.kind])
    add(add(question, "name"), "text", f"{category.title} ({q.id})")
    text = _rich(question, "questiontext", markdown_html(q.text, _src), images)
    _rich(question, "generalfeedback", "" if q.kind == "written" else answer_html(asked, _src), images)
    add(question, "defaultgrade", decimal_text(asked.points))
    add(question, "penalty", "0")
    add(question, "hidden", "0")
    add(question, "idnumber", q.id)
    if q.kind == "written":
        _essay_settings(question, answer_html(asked, _src))
        _files(question.find("graderinfo"), answer_html(asked, _src), images)
    elif q.kind == "true_false":
        for value in (True, False):
            _answer(question, 100 if value == q.correct else 0, "true" if value else "false", "moodle_auto_format")
    elif q.kind == "choice":
        add(question, "single", "false" if q.multiple else "true")
        add(question, "shuffleanswers", "true" if q.shuffle else "false")
        add(question, "answernumbering", "ABCD")
        right, wrong = len(q.correct), len(q.options) - len(q.correct)
        options = []
        for _, option, correct in asked.options:
            fraction = Fraction(100, right) if correct else (Fraction(-100, wrong) if q.multiple else Fraction(0))
            options.append(markdown_html(option, _src))
            _answer(question, fraction, options[-1], "html")
        _files(text, "".join(options), images)  # Moodle finds the options' images with the question text
    elif q.kind == "numeric":
        answer = _answer(question, 100, decimal_text(q.correct), "moodle_auto_format")
        add(answer, "tolerance", decimal_text(floor_to(q.tolerance.bound(q.correct), TOLERANCE_DIGITS)))
    else:
        add(question, "usecase", "0")
        for accepted in q.correct:
            _answer(question, 100, accepted, "moodle_auto_format")
    return question


def _src(name: str) -> str:
    """Where Moodle finds an image attached to the text that shows it."""
    return f"@@PLUGINFILE@@/{name}"


def _rich(question: ET.Element, tag: str, text: str, images: dict[str, Path]) -> ET.Element:
    """An HTML text field with the images it shows attached as files."""
    element = add(question, tag, format="html")
    add(element, "text", text)
    _files(element, text, images)
    return element


def _files(element: ET.Element, text: str, images: dict[str, Path]) -> None:
    for name, path in images.items():
        if _src(name) in text and not any(f.get("name") == name for f in element.findall("file")):
            add(element, "file", base64.b64encode(path.read_bytes()).decode("ascii"), name=name, path="/",
                encoding="base64")


def _answer(question: ET.Element, fraction: Fraction | int, text: str, form: str) -> ET.Element:
    answer = add(question, "answer", fraction=_fraction(Fraction(fraction)), format=form)
    add(answer, "text", text)
    add(add(answer, "feedback", format="html"), "text", "")
    return answer


def _fraction(value: Fraction) -> str:
    """A grade fraction as Moodle lists them: 100, 50, 33.33333, -14.28571."""
    text = f"{float(value):.5f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
