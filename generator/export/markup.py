"""HTML fragments for question texts and feedback, built with xml.etree so that every
text is escaped by construction; shared by the Moodle and QTI writers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from ..choice import ChoiceOption
from ..markdown import Markdown, to_html
from ..questions import Asked
from ..variants import Problem
from .questions import capitalized, key_lines


def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def html(root: ET.Element) -> str:
    """The HTML inside `root` (a <div>), as the string an LMS stores."""
    return ET.tostring(root, encoding="unicode", method="html")


def image(parent: ET.Element, src: str, alt: str) -> None:
    add(add(parent, "p"), "img", src=src, alt=alt)


def solution_html(problem: Problem, solution_src: str) -> str:
    """General feedback: the worked solution as on the key, then the exact answers as text."""
    root = ET.Element("div")
    image(root, solution_src, f"worked solution of {problem.family.title}")
    add(root, "p", "Answers:")
    items = add(root, "ul")
    for line in key_lines(problem):
        add(items, "li", line)
    return html(root)


def slip_feedback(says: str) -> str:
    """A slip's words as a feedback sentence: "You left out the biases (...)."."""
    return f"{capitalized(says)}."


def option_feedback(option: ChoiceOption) -> str:
    if option.kind == "answer":
        return "Correct."
    if option.says:
        return slip_feedback(option.says)
    return "Not this one: it is close to the answer, but not equal."


def markdown_html(text: Markdown, image_src: Callable[[str], str]) -> str:
    """Bank Markdown as the HTML an LMS stores (math left to its MathJax)."""
    return html(to_html(text, image_src))


def answer_html(asked: Asked, image_src: Callable[[str], str]) -> str:
    """What a grader (or, after the attempt, the student) reads: the model answer or
    explanation, and the rubric with its points per criterion."""
    q = asked.question
    root = ET.Element("div")
    if q.answer:
        root.append(to_html(q.answer, image_src))
    if q.rubric:
        add(root, "p", "Rubric (points per criterion):")
        items = add(root, "ul")
        for criterion in q.rubric:
            item = add(items, "li", f"({criterion.points}) ")
            item.append(to_html(criterion.text, image_src))
    return html(root)
