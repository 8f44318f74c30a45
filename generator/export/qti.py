"""QTI 1.2 package (a zip with imsmanifest.xml and assessment_meta.xml), the quiz
format Canvas imports.

Canvas cannot ask several numeric blanks in one question, so every box of a problem
(a scalar answer, an element of a vector or matrix) is a question of its own, and the
K variants' same box forms a question group that draws one of them ("pick 1"), every
item worth the group's points, the groups adding up to the problem's points
(family_groups). Each question shows its variant's whole statement, so it stands alone.
Numbers are numerical questions accepting exactly the tolerance (canvas_number); labels
and fractions no decimal can state are short answers; the answer asked as multiple
choice is a multiple-choice question with feedback per option; answers graded by hand
are one essay question. Images are files in the package (images/), listed in the
manifest and referenced the way Canvas's own exports do ($IMS-CC-FILEBASE$), since
Canvas drops base64 images.

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
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import floor

from ..bank import Bank
from ..choice import ChoiceQuestion
from ..numbers import terminates as numbers_terminate
from ..questions import Asked
from ..seeds import derive_seed
from .markup import add, answer_html, html, image, markdown_html, option_feedback, solution_html
from .questions import (
    MANUAL_PART,
    Blank,
    Category,
    Part,
    Variant,
    apportion,
    ceil_to,
    decimal_text,
    floor_to,
    parts,
    spread,
)

CANVAS_PLACES = 4
MAX_SCALE = 12  # powers of ten tried before a number is asked as text
SIGNIFICANT = 15  # digits of a decimal that survive Canvas's float conversion (DBL_DIG)
QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
# Canvas's own quiz settings file (lib/cc/qti/qti_generator.rb, generate_assessment_meta;
# read back by CC::Importer::Canvas::QuizMetadataConverter, which looks for
# "<assessment ident>/assessment_meta.xml" in a resource whose type ends in
# "learning-application-resource")
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
CANVAS_XSD = "https://canvas.instructure.com/xsd/cccv1p0.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
LOR = "associatedcontent/imscc_xmlv1p1/learning-application-resource"
ASSESSMENT_META = "assessment_meta.xml"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so the same export gives the same bytes


def typed(number: Fraction) -> Fraction:
    """What Canvas keeps of a typed number: classic quizzes round it to four decimals in
    the browser before saving it (public/javascripts/take_quiz.js: on change of a
    .numerical_question_input, `parseFloat(val).toFixed(4)`), half away from zero."""
    scaled = abs(number) * 10**CANVAS_PLACES
    whole = floor(scaled + Fraction(1, 2))
    return (1 if number >= 0 else -1) * Fraction(whole, 10**CANVAS_PLACES)


@dataclass(frozen=True)
class CanvasNumber:
    """How a number is asked in Canvas: as value * 10**scale (scale 0 mostly), rounded
    to four decimals, accepted in [low, high] (scaled). `exact`: written as Canvas
    writes an exact answer with a margin, [value - margin, value + margin]; otherwise as
    a range."""

    scale: int
    value: Fraction
    low: Fraction
    high: Fraction
    exact: bool

    @property
    def whole(self) -> bool:
        """A whole number and nothing else is right: no decimals to ask for."""
        return self.value.denominator == 1 and self.low == self.high


def canvas_number(value: Fraction, tolerance: Fraction, slips: Iterable[Fraction] = ()) -> CanvasNumber | None:
    """The accepted range is exactly [value - tolerance, value + tolerance] (scaled),
    so that it holds the exact answer and every value within the tolerance and nothing
    else; Canvas compares with BigDecimal, both ends included
    (app/models/quizzes/quiz_question/numerical_question.rb). Since Canvas keeps four
    decimals of what students type, the question asks for four decimals, of the value
    times the smallest power of ten for which the right answer rounded to four decimals
    is accepted and each slip, rounded the same way, is graded as the slip itself is
    (so that rounding neither saves nor sinks an answer). None when no power up to
    10**MAX_SCALE does (an exact 1/3): the number is then asked as text."""
    for scale in range(MAX_SCALE + 1):
        factor = 10**scale
        low = _bound(value * factor - tolerance * factor, up=True)
        high = _bound(value * factor + tolerance * factor, up=False)
        if not low <= typed(value * factor) <= high:
            continue
        if any((low <= typed(slip * factor) <= high) != (abs(slip - value) <= tolerance) for slip in slips):
            continue
        exact = (low == (value - tolerance) * factor and high == (value + tolerance) * factor
                 and all(_short(x) for x in (value * factor, tolerance * factor)))
        return CanvasNumber(scale, value * factor, low, high, exact)
    return None


def _short(number: Fraction) -> bool:
    """A decimal that Canvas's float conversion keeps exactly (15 significant digits)."""
    if not numbers_terminate(number):
        return False
    digits = decimal_text(number).lstrip("-").replace(".", "").strip("0")
    return len(digits) <= SIGNIFICANT


def _bound(number: Fraction, *, up: bool) -> Fraction:
    """A range end as written: exact when Canvas keeps it exactly, otherwise rounded
    inward at the last decimal it keeps (at least four decimals, so the four-decimal
    answers inside are the same)."""
    if _short(number):
        return number
    whole_digits = len(str(abs(int(number))))
    places = max(CANVAS_PLACES, SIGNIFICANT - whole_digits)
    return ceil_to(number, places) if up else floor_to(number, places)


def qti_zip(bank: Bank, categories: list[Category], seed: int) -> bytes:
    ident = f"gen_{derive_seed(bank.name, seed, 'qti'):08x}"
    images = {_image_path(kind, variant): png for category in categories for variant in category.variants
              for kind, png in (("statement", variant.statement_png), ("solution", variant.solution_png))}
    images |= {f"images/{name}": bank.images[name].read_bytes()
               for name in used_images([a for c in categories for a in c.questions])}
    assessment, points = _assessment(bank, categories, ident)
    files = {
        "imsmanifest.xml": _xml(_manifest(ident, list(images))),
        f"{ident}/{ident}.xml": _xml(assessment),
        f"{ident}/{ASSESSMENT_META}": _xml(_assessment_meta(bank, ident, points)),
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
    """The package's manifest as Canvas writes a quiz's (lib/cc/qti/qti_generator.rb,
    generate_quiz): the assessment, which depends on the resource that holds its
    settings (assessment_meta.xml), then the images."""
    manifest = ET.Element("manifest", identifier=f"{ident}_manifest", xmlns=MANIFEST_NS)
    metadata = add(manifest, "metadata")
    add(metadata, "schema", "IMS Content")
    add(metadata, "schemaversion", "1.1.3")
    add(manifest, "organizations")
    resources = add(manifest, "resources")
    resource = add(resources, "resource", identifier=ident, type="imsqti_xmlv1p2", href=f"{ident}/{ident}.xml")
    add(resource, "file", href=f"{ident}/{ident}.xml")
    add(resource, "dependency", identifierref=f"{ident}_meta")
    meta = add(resources, "resource", identifier=f"{ident}_meta", type=LOR, href=f"{ident}/{ASSESSMENT_META}")
    add(meta, "file", href=f"{ident}/{ASSESSMENT_META}")
    for index, path in enumerate(images):
        add(add(resources, "resource", identifier=f"{ident}_image_{index}", type="webcontent", href=path),
            "file", href=path)
    return manifest


def _assessment_meta(bank: Bank, ident: str, points: Fraction) -> ET.Element:
    """The quiz's settings as Canvas exports them: its title and points (what the
    question groups add up to), a graded quiz, unpublished, one attempt."""
    quiz = ET.Element("quiz", {"identifier": ident, "xmlns": CANVAS_NS, "xmlns:xsi": XSI_NS,
                               "xsi:schemaLocation": f"{CANVAS_NS} {CANVAS_XSD}"})
    description = ET.Element("div")
    if bank.instructions:
        add(description, "p", str(bank.instructions))
    for tag, text in (("title", bank.title), ("description", html(description) if bank.instructions else ""),
                      ("shuffle_answers", "false"), ("scoring_policy", "keep_highest"), ("hide_results", ""),
                      ("quiz_type", "assignment"), ("points_possible", decimal_text(points)),
                      ("show_correct_answers", "true"), ("anonymous_submissions", "false"),
                      ("could_be_locked", "false"), ("allowed_attempts", "1"), ("one_question_at_a_time", "false"),
                      ("cant_go_back", "false"), ("available", "false"), ("one_time_results", "false"),
                      ("show_correct_answers_last_attempt", "false"), ("only_visible_to_overrides", "false"),
                      ("module_locked", "false")):
        add(quiz, tag, text)
    return quiz


def _assessment(bank: Bank, categories: list[Category], ident: str) -> tuple[ET.Element, Fraction]:
    """The assessment, a question group per box of each problem, and the points its
    groups add up to. Canvas makes every question drawn from a group worth the group's
    points_per_item (gems/plugins/qti_exporter/lib/qti/assessment_test_converter.rb:
    the group's question_points), so every item of a group is written with them."""
    root = ET.Element("questestinterop", xmlns=QTI_NS)
    assessment = add(root, "assessment", ident=ident, title=bank.title)
    top = add(assessment, "section", ident="root_section")
    total = Fraction(0)
    for number, category in enumerate(categories, 1):
        groups = family_groups(category) + question_groups(category)
        for index, (label, pick, points, items) in enumerate(groups, 1):
            group = add(top, "section", ident=f"g{number}_{index}", title=f"{category.title}: {label}")
            selection = add(add(group, "selection_ordering"), "selection")
            add(selection, "selection_number", str(pick))
            add(add(selection, "selection_extension"), "points_per_item", decimal_text(points))
            for item in items:
                group.append(item)
            total += pick * points
    return root, total


Group = tuple[str, int, Fraction, list[ET.Element]]  # label, how many to pick, points per item, items


def family_groups(category: Category) -> list[Group]:
    """The groups of a problem's family variants: per family (a `one_of` alternative),
    one group per box, each holding that box of every variant, so that every group
    holds one item per variant, all worth the same. The parts (answers) that every
    variant has share the problem's points equally (the answers graded by hand one
    share each); a part is asked in as many boxes as its smallest variant has, evenly
    spread over the larger ones' elements, and its share is split equally over its
    boxes; the points are then rounded to hundredths (finer where needed) so that the
    problem's groups add up to its points exactly."""
    families: dict[str, list[Variant]] = {}
    for variant in category.variants:
        families.setdefault(variant.problem.family.id, []).append(variant)
    groups: list[Group] = []
    for variants in families.values():
        forms = [{part.name: part for part in parts(v.problem)} for v in variants]
        common = [name for name in forms[0] if all(name in form and form[name].kind == forms[0][name].kind
                                                   for form in forms)]
        counts = {name: min(form[name].boxes for form in forms) for name in common}
        points = _rounded(Fraction(variants[0].problem.points), [Fraction(forms[0][name].shares) for name in common],
                          [counts[name] for name in common])
        prefix = f"{variants[0].problem.family.title}: " if len(families) > 1 else ""
        for name, worths in zip(common, points, strict=True):
            for i, worth in enumerate(worths):
                label = _part_label(variants[0], forms[0][name])
                if counts[name] > 1:
                    label += f", box {i + 1} of {counts[name]}"
                items = [_part_item(variant, form[name], i, counts[name], worth)
                         for variant, form in zip(variants, forms, strict=True)]
                groups.append((prefix + label, 1, worth, items))
    return groups


def _rounded(total: Fraction, weights: list[Fraction], counts: list[int]) -> list[list[Fraction]]:
    """`total` shared by parts in proportion to `weights`, each part's share split
    equally over its `counts` boxes: exactly where every box's share is a multiple of
    0.0001, otherwise in hundredths (finer where a box would get nothing), parts first
    and then their boxes by largest remainders, so that everything adds up to `total`."""
    ideal = [total * weight / sum(weights) for weight in weights]
    if all((share / count * 10**CANVAS_PLACES).denominator == 1 for share, count in zip(ideal, counts, strict=True)):
        return [[share / count] * count for share, count in zip(ideal, counts, strict=True)]
    unit = Fraction(1, 100)
    while unit >= Fraction(1, 10**12):
        if (total / unit).denominator == 1:
            shares = apportion(int(total / unit), [share / unit for share in ideal])
            boxes = [apportion(share, [Fraction(share, count)] * count) for share, count in zip(shares, counts,
                                                                                                  strict=True)]
            if all(all(part) for part in boxes):
                return [[units * unit for units in part] for part in boxes]
        unit /= 10
    return [[share / count] * count for share, count in zip(ideal, counts, strict=True)]


def _part_label(variant: Variant, part: Part) -> str:
    if part.kind == "choice":
        return variant.choice_label
    if part.kind == "manual":
        return f"{MANUAL_PART}: {variant.manual_text}"
    return variant.problem.family.answer_label(part.name)


def _part_item(variant: Variant, part: Part, index: int, count: int, points: Fraction) -> ET.Element:
    """The item of the `index`-th of `count` boxes of a part of this variant."""
    if part.kind == "choice":
        return _choice_item(variant, variant.problem.choice, points)
    if part.kind == "manual":
        return _essay_item(variant, points)
    chosen = spread(len(part.blanks), count) if count < len(part.blanks) else range(len(part.blanks))
    return _blank_item(variant, part.blanks[list(chosen)[index]], points)


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


def _blank_item(variant: Variant, field: Blank, points: Fraction) -> ET.Element:
    found = canvas_number(field.value, field.tolerance, [value for value, _ in field.slips]) if field.numeric else None
    if found is None:
        return _text_item(variant, field, points)
    item, presentation = _item(variant, field.key, field.label, "numerical_question", points,
                               f"Give {_asked(field.label, found)}.")
    _numeric_answer(item, presentation, _scoring(item, variant), found)
    return item


def _asked(label: str, found: CanvasNumber) -> str:
    """What the question asks for: the label, times a power of ten where needed, and
    how many decimals (Canvas keeps four)."""
    times = f"{10**found.scale} × {label} (your value multiplied by {10**found.scale})" if found.scale else label
    if found.whole:
        return f"{times} as a whole number"
    return f"{times} as a decimal number, rounded to {CANVAS_PLACES} decimal places"


def _numeric_answer(item: ET.Element, presentation: ET.Element, condition: ET.Element,
                    found: CanvasNumber) -> None:
    """The answer box and the accepted range, written as Canvas writes its numerical
    answers (lib/cc/qti/qti_items.rb, numerical_resprocessing): an exact answer with a
    margin as <or><varequal/><and><vargte/><varlte/></and></or> (the importer,
    gems/plugins/qti_exporter/lib/qti/numeric_interaction.rb, takes the margin as
    upper bound minus exact value), a range as <vargte/><varlte/>."""
    fib = add(add(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib",
              fibtype="Decimal")
    add(fib, "response_label", ident="answer1")
    if found.exact:
        either = add(condition, "or")
        add(either, "varequal", decimal_text(found.value), respident="response1")
        condition = add(either, "and")
    add(condition, "vargte", decimal_text(found.low), respident="response1")
    add(condition, "varlte", decimal_text(found.high), respident="response1")


def _text_item(variant: Variant, field: Blank, points: Fraction) -> ET.Element:
    how = "as an exact fraction p/q" if "/" in field.value else "(one word or letter)"
    item, presentation = _item(variant, field.key, field.label, "short_answer_question", points,
                               f"Give {field.label} {how}.")
    add(add(add(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib"),
        "response_label", ident="answer1", rshuffle="No")
    add(_scoring(item, variant), "varequal", field.value, respident="response1")
    return item


def _choice_item(variant: Variant, choice: ChoiceQuestion, points: Fraction) -> ET.Element:
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


def _essay_item(variant: Variant, points: Fraction) -> ET.Element:
    item, presentation = _item(variant, MANUAL_PART, MANUAL_PART, "essay_question", points,
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


def question_groups(category: Category) -> list[Group]:
    """(label, how many to pick, points per item, items) for a category's questions."""
    questions = category.questions
    slot = category.slot
    if questions and len(questions) == len(slot.choices) and len({a.points for a in questions}) == 1:
        label = questions[0].question.id if len(questions) == 1 else f"{slot.pick} of {len(questions)} questions"
        return [(label, slot.pick, questions[0].points, [bank_item(a) for a in questions])]
    return [(a.question.id, 1, a.points, [bank_item(a)]) for a in questions]


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
    text = markdown_html(q.text, _bank_src)
    number = canvas_number(q.correct, q.tolerance.bound(q.correct)) if q.kind == "numeric" else None
    if number is not None:  # how to give the number, as for family problems
        text += html(add(ET.Element("div"), "p", f"Give {_asked('your answer', number)}."))
    add(add(presentation, "material"), "mattext", text, texttype="text/html")
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
    if q.kind == "numeric":  # no decimal states an exact 1/3: nothing but the point itself is right
        exact = CanvasNumber(0, q.correct, q.correct, q.correct, False)
        _numeric_answer(item, presentation, condition, number or exact)
        return item
    fib = add(add(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib")
    add(fib, "response_label", ident="answer1", rshuffle="No")
    if q.kind == "text":
        for accepted in q.correct:
            add(condition, "varequal", accepted, respident="response1")
    else:  # written: a person grades it
        processing.remove(correct)
    return item
