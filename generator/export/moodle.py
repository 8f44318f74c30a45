"""Moodle XML: one question category per problem of the bank, each holding that
problem's variants, so that a quiz can draw a "random question from category".

A variant is a Cloze (embedded answers) question: the statement as an image, then a
NUMERICAL box per number (vectors and matrices one box per element) with the contract's
tolerance, whose scalar slips are listed as 0% answers with feedback naming the
mistake; labels as SHORTANSWER; the answer asked as multiple choice as MULTICHOICE_V
with the slip distractors and their feedback. A problem whose answers are all graded by
hand becomes an essay question. The worked solution (image) and the exact answers are
the general feedback. Images travel inside the XML, base64-encoded (@@PLUGINFILE@@).

A question written in the bank goes into its problem's category as the Moodle question
type of its kind, its text and the model answer as HTML (math for Moodle's MathJax):
written -> essay (the model answer and rubric as the grader's information),
true_false -> truefalse, choice -> multichoice (one or several right, shuffled by
Moodle), numeric -> numerical with the tolerance, text -> shortanswer.
"""

from __future__ import annotations

import base64
import math
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from ..bank import Bank
from ..choice import ChoiceQuestion
from ..questions import Asked
from ..variants import Problem
from .markup import add, answer_html, html, image, markdown_html, option_feedback, slip_feedback, solution_html
from .questions import Blank, Category, Variant, blanks, capitalized, decimal_text, floor_to

# Characters Moodle's Cloze parser reads as syntax inside a sub-question; the backslash
# comes first so that the escapes it adds are not escaped again.
CLOZE_SPECIALS = ("\\", "}", "#", "~", "/", '"')
TOLERANCE_DIGITS = 12  # a tolerance that does not end in decimals is rounded down to these


def cloze_escape(text: str) -> str:
    for char in CLOZE_SPECIALS:
        text = text.replace(char, "\\" + char)
    return text


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
    fields = blanks(problem)
    kind = "cloze" if fields or problem.choice else "essay"
    question = ET.Element("question", type=kind)
    add(add(question, "name"), "text", f"{category.title} ({problem.fingerprint})")
    _text_with_image(question, "questiontext", _question_html(variant, fields), "statement.png", variant.statement_png)
    _text_with_image(question, "generalfeedback", solution_html(problem, "@@PLUGINFILE@@/solution.png"),
                     "solution.png", variant.solution_png)
    add(question, "defaultgrade", decimal_text(Fraction(problem.points)))
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


def _question_html(variant: Variant, fields: list[Blank]) -> str:
    problem = variant.problem
    root = ET.Element("div")
    image(root, "@@PLUGINFILE@@/statement.png", f"statement of {problem.family.title}")
    weights = _weights(problem, fields)
    if fields:
        table = add(root, "table")
        for field in fields:
            row = add(table, "tr")
            add(row, "td", capitalized(field.label))
            add(row, "td", _subquestion(field, weights[field.key]))
    if problem.choice:
        add(root, "p", f"Multiple choice for {variant.choice_label}: mark the one right option.")
        add(root, "p", _multichoice(problem.choice, weights[problem.choice.answer]))
    if variant.manual:
        add(root, "p", f"Graded by hand (more than one answer is right): {variant.manual_text}. "
                       "Write these in the box below." if not fields and not problem.choice else
                       f"Answered on paper and graded by hand: {variant.manual_text}.")
    return html(root)


def _weights(problem: Problem, fields: list[Blank]) -> dict[str, int]:
    """Cloze weights are integers: each box's share of the points, scaled to the
    smallest whole numbers in the same ratio. Keyed by blank key and, for the choice,
    by answer name (the choice's answer is never a blank)."""
    shares = {field.key: field.points for field in fields}
    if problem.choice:
        shares[problem.choice.answer] = problem.points / len(problem.solution.answers)
    if not shares:
        return {}
    scale = math.lcm(*(share.denominator for share in shares.values()))
    whole = {label: int(share * scale) for label, share in shares.items()}
    divisor = math.gcd(*whole.values())
    return {label: weight // divisor for label, weight in whole.items()}


def _subquestion(field: Blank, weight: int) -> str:
    if not field.numeric:
        return f"{{{weight}:SHORTANSWER:={cloze_escape(field.value)}#Correct.}}"
    tolerance = decimal_text(floor_to(field.tolerance, TOLERANCE_DIGITS))
    answers = [f"={decimal_text(field.value)}:{tolerance}#Correct."]
    answers += [f"%0%{decimal_text(value)}:{tolerance}#{cloze_escape(slip_feedback(says))}"
                for value, says in field.slips]
    return f"{{{weight}:NUMERICAL:{'~'.join(answers)}}}"


def _multichoice(choice: ChoiceQuestion, weight: int) -> str:
    options = [f"{'=' if o.kind == 'answer' else ''}{cloze_escape(o.text)}#{cloze_escape(option_feedback(o))}"
               for o in choice.options]
    return f"{{{weight}:MULTICHOICE_V:{'~'.join(options)}}}"


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
