"""QTI 1.2 package (a zip with imsmanifest.xml), the quiz format Canvas imports.

Canvas cannot ask several numeric blanks in one question, so every blank of a problem
(every scalar answer, every element of a vector or matrix) is a question of its own,
and the K variants of one blank form a question group that draws one of them
("pick 1"). Each question shows its variant's whole statement, so it stands alone.
Numbers are numerical questions with a range answer; labels and fractions no decimal
can state are short answers; the answer asked as multiple choice is a multiple-choice
question with feedback per option; answers graded by hand are one essay question.
Images are files in the package (images/), listed in the manifest and referenced the
way Canvas's own exports do ($IMS-CC-FILEBASE$), since Canvas drops base64 images.

Canvas keeps four decimals of a numeric answer (anything below 1e-4 becomes 0), so a
range is written with bounds rounded inward to four decimals (never looser than the
contract's tolerance); when no four-decimal number lies in the range, or the value is
below 1e-4, the question asks for the value times a power of ten; a value that cannot
be stated either way (an exact 1/3) is asked as text.

A question written in the bank is an item of the type of its kind (essay, true/false,
multiple choice or multiple answers, numerical with the tolerance's range, short
answer), its text as HTML (math for Canvas's MathJax) and its images as package files.
A pool of questions only, all worth the same, is one group that picks as many as the
bank's `pick`; otherwise each question is a group of its own (with a warning).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from fractions import Fraction

from ..bank import Bank
from ..choice import ChoiceQuestion
from ..questions import Asked
from ..seeds import derive_seed
from .markup import add, answer_html, html, image, markdown_html, option_feedback, solution_html
from .questions import Blank, Category, Variant, blanks, ceil_to, decimal_text, floor_to

CANVAS_PLACES = 4
CANVAS_SMALLEST = Fraction(1, 10**CANVAS_PLACES)
MAX_SCALE = 12  # powers of ten tried before a number is asked as text
QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so the same export gives the same bytes


def canvas_range(value: Fraction, tolerance: Fraction) -> tuple[int, Fraction, Fraction] | None:
    """(k, low, high): ask for value * 10**k and accept [low, high], both with at most
    four decimals and inside the tolerance; None when no such range exists."""
    for k in range(MAX_SCALE + 1):
        scale = 10**k
        low = ceil_to((value - tolerance) * scale, CANVAS_PLACES)
        high = floor_to((value + tolerance) * scale, CANVAS_PLACES)
        if low <= high and (value == 0 or abs(value) * scale >= CANVAS_SMALLEST):
            return k, low, high
    return None


def qti_zip(bank: Bank, categories: list[Category], seed: int) -> bytes:
    ident = f"gen_{derive_seed(bank.name, seed, 'qti'):08x}"
    images = {_image_path(kind, variant): png for category in categories for variant in category.variants
              for kind, png in (("statement", variant.statement_png), ("solution", variant.solution_png))}
    images |= {f"images/{name}": bank.images[name].read_bytes()
               for name in used_images([a for c in categories for a in c.questions])}
    files = {
        "imsmanifest.xml": _xml(_manifest(ident, list(images))),
        f"{ident}/{ident}.xml": _xml(_assessment(bank, categories, ident)),
        **images,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _image_path(kind: str, variant: Variant) -> str:
    return f"images/{kind}-{variant.problem.fingerprint}.png"


def _image_src(kind: str, variant: Variant) -> str:
    """Where Canvas finds a packaged file once imported (the '$' percent-encoded, as in its exports)."""
    return "%24IMS-CC-FILEBASE%24/" + _image_path(kind, variant)


def _manifest(ident: str, images: list[str]) -> ET.Element:
    manifest = ET.Element("manifest", identifier=f"{ident}_manifest", xmlns=MANIFEST_NS)
    metadata = add(manifest, "metadata")
    add(metadata, "schema", "IMS Content")
    add(metadata, "schemaversion", "1.1.3")
    add(manifest, "organizations")
    resource = add(add(manifest, "resources"), "resource", identifier=ident, type="imsqti_xmlv1p2",
                   href=f"{ident}/{ident}.xml")
    add(resource, "file", href=f"{ident}/{ident}.xml")
    resources = manifest.find("resources")
    for index, path in enumerate(images):
        add(add(resources, "resource", identifier=f"{ident}_image_{index}", type="webcontent", href=path),
            "file", href=path)
    return manifest


def _assessment(bank: Bank, categories: list[Category], ident: str) -> ET.Element:
    root = ET.Element("questestinterop", xmlns=QTI_NS)
    assessment = add(root, "assessment", ident=ident, title=bank.title)
    top = add(assessment, "section", ident="root_section")
    for number, category in enumerate(categories, 1):
        groups = [(label, 1, items) for (*_, label), items in _groups(category).items()]
        for index, (label, pick, items) in enumerate(groups + question_groups(category), 1):
            group = add(top, "section", ident=f"g{number}_{index}", title=f"{category.title}: {label}")
            selection = add(add(group, "selection_ordering"), "selection")
            add(selection, "selection_number", str(pick))
            add(add(selection, "selection_extension"), "points_per_item", decimal_text(items[0][1]))
            for item, _ in items:
                group.append(item)
    return root


def _groups(category: Category) -> dict[tuple[str, str, str], list[tuple[ET.Element, Fraction]]]:
    """Per blank, every variant's question with its points, keyed by (family, blank, the
    label students read), so that `one_of` alternatives never share a group."""
    groups: dict[tuple[str, str, str], list[tuple[ET.Element, Fraction]]] = defaultdict(list)
    for variant in category.variants:
        problem = variant.problem
        family, share = problem.family.id, problem.points / len(problem.solution.answers)
        for field in blanks(problem):
            groups[(family, field.key, field.label)].append((_blank_item(variant, field), field.points))
        if problem.choice:
            groups[(family, problem.choice.answer, variant.choice_label)].append(
                (_choice_item(variant, problem.choice), share))
        if variant.manual:
            groups[(family, "graded by hand", f"graded by hand: {variant.manual_text}")].append(
                (_essay_item(variant), share * len(variant.manual)))
    return groups


def _item(variant: Variant, key: str, label: str, kind: str, points: Fraction,
          prompt: str) -> tuple[ET.Element, ET.Element]:
    """An item with its metadata and question text; returns it and its <presentation>.
    `key` names the blank uniquely (for the ident), `label` as students read it."""
    ident = f"i{variant.problem.fingerprint}_{derive_seed(key):08x}"
    item = ET.Element("item", ident=ident, title=f"{variant.problem.family.title}: {label}")
    fields = add(add(item, "itemmetadata"), "qtimetadata")
    for label, entry in (("question_type", kind), ("points_possible", decimal_text(points))):
        field = add(fields, "qtimetadatafield")
        add(field, "fieldlabel", label)
        add(field, "fieldentry", entry)
    presentation = add(item, "presentation")
    add(add(presentation, "material"), "mattext", _statement(variant, prompt), texttype="text/html")
    return item, presentation


def _statement(variant: Variant, prompt: str) -> str:
    root = ET.Element("div")
    image(root, _image_src("statement", variant), f"statement of {variant.problem.family.title}")
    add(root, "p", prompt)
    return html(root)


def _blank_item(variant: Variant, field: Blank) -> ET.Element:
    found = canvas_range(field.value, field.tolerance) if field.numeric else None
    if found is None:
        return _text_item(variant, field)
    k, low, high = found
    times = f"{10**k} × " if k else ""
    prompt = f"Give {times}{field.label} as a decimal number" + (f" (your value multiplied by {10**k})." if k else ".")
    item, presentation = _item(variant, field.key, field.label, "numerical_question", field.points, prompt)
    fib = add(add(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib",
              fibtype="Decimal")
    add(fib, "response_label", ident="answer1")
    condition = _scoring(item, variant)
    add(condition, "vargte", decimal_text(low), respident="response1")
    add(condition, "varlte", decimal_text(high), respident="response1")
    return item


def _text_item(variant: Variant, field: Blank) -> ET.Element:
    how = "as an exact fraction p/q" if "/" in field.value else "(one word or letter)"
    item, presentation = _item(variant, field.key, field.label, "short_answer_question", field.points,
                               f"Give {field.label} {how}.")
    add(add(add(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib"),
        "response_label", ident="answer1", rshuffle="No")
    add(_scoring(item, variant), "varequal", field.value, respident="response1")
    return item


def _choice_item(variant: Variant, choice: ChoiceQuestion) -> ET.Element:
    points = variant.problem.points / len(variant.problem.solution.answers)
    item, presentation = _item(variant, choice.answer, variant.choice_label, "multiple_choice_question", points,
                               f"Mark {variant.choice_label}.")
    options = add(add(presentation, "response_lid", ident="response1", rcardinality="Single"), "render_choice")
    for option in choice.options:
        label = add(options, "response_label", ident=option.letter)
        add(add(label, "material"), "mattext", option.text, texttype="text/plain")
    processing = _processing(item, variant)
    for option in choice.options:
        if option.kind != "answer":  # a wrong option: say which mistake gives it
            when = add(processing, "respcondition", **{"continue": "Yes"})
            add(add(when, "conditionvar"), "varequal", option.letter, respident="response1")
            add(when, "displayfeedback", feedbacktype="Response", linkrefid=f"{option.letter}_fb")
            _feedback(item, f"{option.letter}_fb", option_feedback(option))
    add(_scoring(item, variant), "varequal", choice.correct, respident="response1")
    return item


def _essay_item(variant: Variant) -> ET.Element:
    points = variant.problem.points / len(variant.problem.solution.answers) * len(variant.manual)
    item, presentation = _item(variant, "graded by hand", "graded by hand", "essay_question", points,
                               f"Give {variant.manual_text}. More than one answer is right, so these are "
                               "graded by hand.")
    add(add(add(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib"),
        "response_label", ident="answer1", rshuffle="No")
    _processing(item, variant)
    return item


def _processing(item: ET.Element, variant: Variant) -> ET.Element:
    """<resprocessing> with the score variable and the worked solution as general
    feedback, shown after every attempt."""
    return _resprocessing(item, solution_html(variant.problem, _image_src("solution", variant)))


def _resprocessing(item: ET.Element, feedback: str) -> ET.Element:
    processing = add(item, "resprocessing")
    add(add(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    always = add(processing, "respcondition", **{"continue": "Yes"})
    add(add(always, "conditionvar"), "other")
    add(always, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    _feedback(item, "general_fb", feedback)
    return processing


def _scoring(item: ET.Element, variant: Variant) -> ET.Element:
    """The condition that gives full marks; returns its <conditionvar> to be filled."""
    processing = item.find("resprocessing")
    if processing is None:
        processing = _processing(item, variant)
    correct = add(processing, "respcondition", **{"continue": "No"})
    condition = add(correct, "conditionvar")
    add(correct, "setvar", "100", action="Set", varname="SCORE")
    return condition


def _feedback(item: ET.Element, ident: str, text: str) -> None:
    feedback = add(item, "itemfeedback", ident=ident)
    add(add(add(feedback, "flow_mat"), "material"), "mattext", text, texttype="text/html")


# --- questions written in the bank ------------------------------------------------


def question_groups(category: Category) -> list[tuple[str, int, list[tuple[ET.Element, Fraction]]]]:
    """(label, how many to pick, items with their points) for a category's questions."""
    questions = category.questions
    slot = category.slot
    if questions and len(questions) == len(slot.choices) and len({a.points for a in questions}) == 1:
        label = questions[0].question.id if len(questions) == 1 else f"{slot.pick} of {len(questions)} questions"
        return [(label, slot.pick, [(bank_item(a), a.points) for a in questions])]
    return [(a.question.id, 1, [(bank_item(a), a.points)]) for a in questions]


def used_images(questions: list[Asked]) -> list[str]:
    """The bank's images that the questions' texts, options and answers show."""
    names: dict[str, None] = {}

    def record(name: str) -> str:
        names[name] = None
        return name

    for asked in questions:
        markdown_html(asked.question.text, record)
        answer_html(asked, record)
        for _, option, _ in asked.options:
            markdown_html(option, record)
    return list(names)


def _bank_src(name: str) -> str:
    return f"%24IMS-CC-FILEBASE%24/images/{name}"


QTI_TYPES = {"written": "essay_question", "true_false": "true_false_question", "numeric": "numerical_question",
             "text": "short_answer_question"}


def bank_item(asked: Asked) -> ET.Element:
    """One question written in the bank as a QTI item of its kind."""
    q = asked.question
    kind = QTI_TYPES.get(q.kind) or ("multiple_answers_question" if q.multiple else "multiple_choice_question")
    item = ET.Element("item", ident=f"q_{q.id}", title=q.title or q.id)
    fields = add(add(item, "itemmetadata"), "qtimetadata")
    for label, entry in (("question_type", kind), ("points_possible", decimal_text(asked.points))):
        field = add(fields, "qtimetadatafield")
        add(field, "fieldlabel", label)
        add(field, "fieldentry", entry)
    presentation = add(item, "presentation")
    add(add(presentation, "material"), "mattext", markdown_html(q.text, _bank_src), texttype="text/html")
    processing = _resprocessing(item, answer_html(asked, _bank_src))
    correct = add(processing, "respcondition", **{"continue": "No"})
    condition = add(correct, "conditionvar")
    add(correct, "setvar", "100", action="Set", varname="SCORE")
    if q.kind in ("true_false", "choice"):
        options = ([("true", "True", q.correct), ("false", "False", not q.correct)] if q.kind == "true_false" else
                   [(letter, markdown_html(option, _bank_src), right) for letter, option, right in asked.options])
        cardinality = "Multiple" if q.multiple else "Single"
        choices = add(add(presentation, "response_lid", ident="response1", rcardinality=cardinality), "render_choice")
        for ident, shown, _ in options:
            label = add(choices, "response_label", ident=ident)
            add(add(label, "material"), "mattext", shown, texttype="text/html")
        rights = [add(condition, "varequal", ident, respident="response1") for ident, _, right in options if right]
        if q.multiple:  # exactly the right ones: every right option and no other
            both = add(condition, "and")
            for element in rights:
                condition.remove(element)
                both.append(element)
            for ident, _, right in options:
                if not right:
                    add(add(both, "not"), "varequal", ident, respident="response1")
        return item
    fib = add(add(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib",
              **({"fibtype": "Decimal"} if q.kind == "numeric" else {}))
    add(fib, "response_label", ident="answer1", rshuffle="No")
    if q.kind == "numeric":
        found = canvas_range(q.correct, q.tolerance.bound(q.correct))
        low, high = (found[1], found[2]) if found and found[0] == 0 else (q.correct, q.correct)
        add(condition, "vargte", decimal_text(low), respident="response1")
        add(condition, "varlte", decimal_text(high), respident="response1")
    elif q.kind == "text":
        for accepted in q.correct:
            add(condition, "varequal", accepted, respident="response1")
    else:  # written: a person grades it
        processing.remove(correct)
    return item
