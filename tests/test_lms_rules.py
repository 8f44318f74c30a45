"""The exports read and graded the way Moodle and Canvas read and grade them, by small
readers written from the LMSs' own code (never from gen's writers), against what the
bank says (the answer contract: values, tolerances, slips, points).

Moodle (moodle/moodle):
- question/type/multianswer/questiontype.php, qtype_multianswer_extract_question: a
  Cloze sub-question is `{mark:TYPE:alternatives}`; alternatives are split by `~`; each
  is an optional grade (`=` is 100%, `%n%` n%, nothing 0%), an answer that ends at the
  first `~`, `#` or `}` not preceded by a backslash, `&` or `&amp;`, and an optional
  `#feedback` that ends at the first `~` or `}` not preceded by a backslash; answers
  that are not numbers and feedback are html_entity_decode'd, then `\\}` and `\\#`
  become `}` and `#` (nothing else is un-escaped); a NUMERICAL answer is
  `number[:tolerance]`; the question's mark is the sum of its sub-questions' marks.
  qtype_multianswer_validate_question: every sub-question needs a 100% answer, a
  multiple choice two options, a numerical answer must be a number.
- question/type/numerical/question.php, qtype_numerical_answer: the first answer whose
  interval holds the response decides; the interval is answer +- (tolerance +
  1e-14 * max(1, |answer|)) (PHP's `precision` 14), in floating point.
- question/format/xml/format.php, import_multianswer: <defaultgrade> is not read.

Canvas (instructure/canvas-lms):
- public/javascripts/take_quiz.js: a typed number is replaced by
  parseFloat(value).toFixed(4) before it is saved, so Canvas grades four decimals;
- gems/plugins/qti_exporter/lib/qti/numeric_interaction.rb: <or> with a varequal and an
  <and> of vargte/varlte is an exact answer whose margin is upper bound minus exact
  value; vargte/varlte alone are a range; numbers go through to_f;
- app/models/quizzes/quiz_question/numerical_question.rb: graded with BigDecimal,
  exact - margin <= answer <= exact + margin, or start <= answer <= end;
- gems/plugins/qti_exporter/lib/qti/assessment_test_converter.rb: a section with a
  selection is a question group whose question_points are points_per_item, the points
  of every question drawn from it;
- lib/cc/importer/canvas/quiz_metadata_converter.rb: the quiz's title and points come
  from <ident>/assessment_meta.xml, listed in a learning-application-resource.

Every box of the default and midterm banks (seed 2026, 3 variants), of a bank with
`format: choice` problems and one with questions written in the bank, and of the course
example is graded: the right answer, every slip, each edge of the tolerance and a value
just outside. Images are not made (no pdflatex): they do not take part in grading.
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

import pytest
import yaml

import generator.export.questions as export_questions
from generator.bank import load_bank
from generator.export.moodle import cloze_html, cloze_text, moodle_xml
from generator.export.qti import qti_zip
from generator.export.questions import position_words
from generator.questions import Question
from generator.tolerance import Tolerance

SEED, VARIANTS = 2026, 3
PNG = b"\x89PNG\r\n\x1a\n"
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
MANIFEST = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
CANVAS = "{http://canvas.instructure.com/xsd/cccv1p0}"

CHOICE_BANK = {"title": "Choice {and} #1 ~ a/b", "problems": [
    {"family": "sgd_step", "points": 8, "format": "choice", "answer": "w_decay"},
    {"family": "conv_output_size", "points": 4, "format": "choice", "choices": 3},
    {"family": "resblock_params", "points": 6, "format": "choice", "answer": "params_A", "fill": "near_miss"},
    {"family": "two_layer_backprop", "points": 5, "format": "choice", "answer": "loss", "choices": 3},
    {"family": "focal_loss", "points": 3, "format": "choice", "fill": "near_miss"},
    {"family": "conv_params", "points": 5, "tolerance": {"biases": "manual"}},  # partly graded by hand
    {"family": "conv_macs", "points": 2.5, "tolerance": {"macs_standard": {"rel": "1/1000"}}},
]}
QUESTIONS_BANK = {"title": "Written <questions> & answers", "problems": [
    {"question": "lr", "kind": "numeric", "points": 3, "text": "The rate {a} ~ b # c, in 1/s?",
     "correct": "0.0123456", "tolerance": {"abs": "0.00002"}},
    {"question": "tiny", "kind": "numeric", "points": 2, "text": "A small number.", "correct": "0.00003",
     "tolerance": {"rel": "1/100"}},
    {"question": "third", "kind": "numeric", "points": 2, "text": "One third.", "correct": "1/3",
     "tolerance": {"abs": "1/20000"}},
    {"question": "count", "kind": "numeric", "points": 1, "text": "A count.", "correct": 17745},
    {"question": "pick", "kind": "choice", "points": 2, "text": "Which?", "options": ["a ~ b", "c } d", "e # f"],
     "correct": "c } d"},
    {"question": "tf", "kind": "true_false", "points": 1, "text": "True?", "correct": True},
    {"question": "name", "kind": "text", "points": 1, "text": "Name it.", "correct": ["a/b", "A over B"]},
    {"question": "essay", "kind": "written", "points": 4, "text": "Explain.", "answer": "Because.",
     "rubric": [{"points": 4, "criterion": "says why"}]},
    {"family": "sgd_step", "points": 8},
]}


@dataclass
class Export:
    bank: Any
    contracts: dict[str, dict]  # fingerprint or question id -> the answer contract's problem object
    questions: dict[str, Any]  # question id -> Question
    moodle: ET.Element
    qti: zipfile.ZipFile


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Export]:
    base = tmp_path_factory.mktemp("lms")
    found = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(export_questions, "render_pngs", lambda pieces, paper="a4": [PNG] * len(pieces))
        for name, source in (("default", "default"), ("midterm", "midterm"), ("choice", CHOICE_BANK),
                             ("questions", QUESTIONS_BANK), ("course", "course")):
            if isinstance(source, dict):
                (base / f"{name}.yaml").write_text(yaml.safe_dump(source))
                source = str(base / f"{name}.yaml")
            bank = load_bank(source)
            categories, _ = export_questions.collect(bank, SEED, VARIANTS)
            contracts = {v.problem.fingerprint: v.problem.contract() for c in categories for v in c.variants}
            contracts |= {a.question.id: a.contract() for c in categories for a in c.questions}
            questions = {a.question.id: a.question for c in categories for a in c.questions}
            found[name] = Export(bank, contracts, questions, ET.fromstring(moodle_xml(bank, categories)),
                                 zipfile.ZipFile(io.BytesIO(qti_zip(bank, categories, SEED))))
    return found


BANKS = ["default", "midterm", "choice", "questions", "course"]


# --- what the bank says --------------------------------------------------------------


def _elements(value, position=()):
    if isinstance(value, list):
        return [pair for i, item in enumerate(value, 1) for pair in _elements(item, (*position, i))]
    return [(position, value)]


def _at(value, position):
    for i in position:
        if not isinstance(value, list) or not 0 < i <= len(value):
            return None
        value = value[i - 1]
    return None if isinstance(value, list) else value


def _number(value) -> Fraction | None:
    try:
        return Fraction(str(value)) if not isinstance(value, bool) else None
    except (ValueError, ZeroDivisionError):
        return None


def _boxes_by_label(contract) -> dict[str, tuple[str, tuple]]:
    """Every element's label as students read it -> (answer name, position)."""
    found = {}
    for name, value in contract["answers"].items():
        for position, _ in _elements(value):
            found[contract["labels"][name] + position_words(position)] = (name, position)
    return found


@dataclass(frozen=True)
class Truth:
    value: Fraction
    tolerance: Fraction
    slips: list[Fraction]

    def accepts(self, given: Fraction) -> bool:
        return abs(given - self.value) <= self.tolerance


def _truth(contract, name, position) -> Truth | None:
    value = _number(_at(contract["answers"][name], position))
    if value is None:
        return None
    tolerance = Tolerance.from_json(contract["tolerance"][name]).bound(value)
    slips = [_number(_at(s["value"], position)) for s in contract["slips"].get(name, [])]
    return Truth(value, tolerance, [s for s in slips if s is not None and s != value])


def _decimal(number: Fraction, places: int, rounding=ROUND_HALF_UP) -> str:
    """`number` as a student types it: exact when it has at most `places` decimals,
    otherwise rounded to `places` (half up unless told)."""
    with localcontext() as context:
        context.prec = 80
        exact = Decimal(number.numerator) / Decimal(number.denominator)
        text = format(exact.quantize(Decimal(1).scaleb(-places), rounding=rounding), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _terminates(number: Fraction, places: int = 15) -> bool:
    """A decimal with at most `places` decimals states it exactly."""
    return (number * 10**places).denominator == 1


def _probes(truth: Truth) -> list[str]:
    """What a student types: the right answer, every slip, each edge of the tolerance (a
    hair inside where the edge has no short decimal) and a value just outside each
    edge, as decimals of at most 15 places (rounded toward the right answer)."""
    v, t = truth.value, truth.tolerance
    hair = max(Fraction(1), abs(v)) / 10**10
    values = [v, *truth.slips]
    for edge, inward in ((v - t, 1), (v + t, -1)):
        values.append(edge if _terminates(edge) else edge + inward * hair)
        values.append(edge - inward * 10 * hair)
    return [_decimal(x, 15, ROUND_FLOOR if x > v else ROUND_CEILING) for x in values]


# --- Moodle: the Cloze extractor and the numerical grader ------------------------------

_TYPES = ("NUMERICAL|NM|MULTICHOICE|MC|MULTICHOICE_V|MCV|MULTICHOICE_H|MCH|SHORTANSWER|SA|MW|SHORTANSWER_C|SAC|MWC|"
          "MULTICHOICE_S|MCS|MULTICHOICE_VS|MCVS|MULTICHOICE_HS|MCHS|MULTIRESPONSE|MR|MULTIRESPONSE_H|MRH|"
          "MULTIRESPONSE_S|MRS|MULTIRESPONSE_HS|MRHS")
_GRADE = r"(?:=|%-?[0-9]+(?:[.,][0-9]*)?%)"
_ANSWER_END = r"(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK_END = r"(?<!\\)(?=[~}]|$)"
_ONE = rf"{_GRADE}?.+?{_ANSWER_END}(?:#.*?{_FEEDBACK_END})?"
_SUBQUESTION = re.compile(rf"\{{([0-9]*):({_TYPES}):({_ONE}(?:~{_ONE})*)\}}", re.S)
_ALTERNATIVE = re.compile(rf"~?(?P<grade>{_GRADE})?(?P<answer>.+?){_ANSWER_END}(?:#(?P<feedback>.*?){_FEEDBACK_END})?",
                          re.S)
_NUMBER = r"-?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?"
_NUMERICAL = re.compile(rf"({_NUMBER})(?::({_NUMBER}))?")


@dataclass
class Alternative:
    fraction: float
    answer: str  # as Moodle stores it (decoded); for NUMERICAL the number
    tolerance: str | None
    feedback: str  # as Moodle stores it (HTML for feedback)


@dataclass
class Sub:
    mark: int
    kind: str
    alternatives: list[Alternative]
    source: str  # the markup, where it stood


def _moodle_decode(text: str) -> str:
    """html_entity_decode, then the only two escapes the extractor undoes."""
    return html.unescape(text).replace("\\}", "}").replace("\\#", "#")


def extract(questiontext: str) -> list[Sub]:
    subs = []
    for match in _SUBQUESTION.finditer(questiontext):
        mark = int(match.group(1)) if match.group(1) else 1
        kind = match.group(2)
        numerical = kind in ("NUMERICAL", "NM")
        rest, alternatives = match.group(3), []
        while rest:
            alt = _ALTERNATIVE.match(rest)
            assert alt, f"Moodle cannot read {rest!r}"
            grade = alt.group("grade") or ""
            fraction = 1.0 if grade == "=" else float(grade.strip("%").replace(",", ".")) / 100 if grade else 0.0
            feedback = _moodle_decode(alt.group("feedback") or "")
            number = _NUMERICAL.fullmatch(alt.group("answer")) if numerical else None
            if number:
                alternatives.append(Alternative(fraction, number.group(1), number.group(2) or "0", feedback))
            else:
                alternatives.append(Alternative(fraction, _moodle_decode(alt.group("answer")), None, feedback))
            rest = rest[alt.end():]
        subs.append(Sub(mark, kind, alternatives, match.group(0)))
    return subs


def validate(sub: Sub) -> None:
    """qtype_multianswer_validate_question's rules."""
    assert any(a.fraction == 1 for a in sub.alternatives), f"no 100% answer in {sub.source}"
    if sub.kind.startswith("MULTICHOICE") or sub.kind.startswith("MC"):
        assert len(sub.alternatives) >= 2, sub.source
    if sub.kind in ("NUMERICAL", "NM"):
        assert all(a.tolerance is not None or a.answer == "*" for a in sub.alternatives), sub.source


def moodle_numerical(alternatives: list[Alternative], response: str) -> Alternative | None:
    """The first answer whose nominal tolerance interval holds the response (floats)."""
    given = float(response)
    for alt in alternatives:
        answer, tolerance = float(alt.answer.replace(",", ".")), abs(float(alt.tolerance.replace(",", ".")))
        margin = tolerance + 10**-14 * max(1.0, abs(answer))
        if answer - margin <= given <= answer + margin:
            return alt
    return None


def shown(stored_html: str) -> str:
    """What a student reads of an HTML text Moodle stores."""
    return html.unescape(re.sub(r"<[^>]*>", "", stored_html))


def _says(says: str) -> str:
    return says[:1].upper() + says[1:] + "."


def _cloze_questions(export: Export):
    for question in export.moodle.findall("question"):
        if question.get("type") == "cloze":
            yield question, export.contracts[question.findtext("idnumber")]


def _rows(questiontext: str) -> list[tuple[str, str]]:
    """(label, sub-question markup) for every row of the boxes' table."""
    return [(html.unescape(label), markup) for label, markup in
            re.findall(r"<tr><td>([^<]*)</td><td>(\{[^<]*\})</td>", questiontext)]


@pytest.mark.parametrize("name", BANKS)
def test_moodle_marks_are_the_banks_points(exports, name):
    export = exports[name]
    seen = 0
    for question in export.moodle.findall("question"):
        kind = question.get("type")
        if kind == "category":
            continue
        contract = export.contracts[question.findtext("idnumber")]
        if kind == "cloze":
            subs = extract(question.findtext("questiontext/text"))
            for sub in subs:
                validate(sub)
            mark = sum(sub.mark for sub in subs)  # what Moodle makes the question worth
        else:
            mark = Fraction(question.findtext("defaultgrade"))  # other types keep <defaultgrade>
        points = Fraction(str(contract["points"]))
        expected = points if kind != "cloze" or points.denominator == 1 else int(points + Fraction(1, 2))
        assert mark == expected, (question.findtext("name/text"), mark, points)
        seen += 1
    assert seen


def moodle_shortanswer(alternatives: list[Alternative], response: str) -> Alternative | None:
    """The first answer the response matches, ignoring case (Cloze SHORTANSWER), `*`
    standing for anything (question/type/shortanswer/question.php)."""
    for alt in alternatives:
        pattern = ".*".join(re.escape(part) for part in alt.answer.split("*"))
        if re.fullmatch(pattern, response.strip(), re.IGNORECASE | re.S):
            return alt
    return None


@pytest.mark.parametrize("name", BANKS)
def test_moodle_grades_every_box_as_the_bank_does(exports, name):
    export = exports[name]
    graded = 0
    for question, contract in _cloze_questions(export):
        text = question.findtext("questiontext/text")
        labels = _boxes_by_label(contract)
        rows = _rows(text)
        for label, markup in rows:
            (sub,) = extract(markup)
            answer, position = labels[label[:1].lower() + label[1:]]
            truth = _truth(contract, answer, position)
            if sub.kind == "SHORTANSWER":  # a label, or a fraction no decimal states
                right = str(_at(contract["answers"][answer], position))
                for response in (right, right.upper(), right.lower()):
                    assert moodle_shortanswer(sub.alternatives, response).fraction == 1, (label, response)
                wrong = [str(_at(s["value"], position)) for s in contract["slips"].get(answer, [])]
                for response in [w for w in wrong if w.lower() != right.lower()] + ["0.3333", "zz"]:
                    hit = moodle_shortanswer(sub.alternatives, response)
                    assert hit is None or hit.fraction == 0, (label, response)
                graded += 1
                continue
            assert sub.kind == "NUMERICAL" and truth is not None, markup
            for typed in _probes(truth):
                hit = moodle_numerical(sub.alternatives, typed)
                assert (hit is not None and hit.fraction == 1) == truth.accepts(Fraction(typed)), (label, typed)
                graded += 1
            slips = [(_number(_at(slip["value"], position)), slip["says"])
                     for slip in contract["slips"].get(answer, [])]
            for value, _ in slips:  # a wrong answer's feedback names a slip that gives it, as written
                hit = moodle_numerical(sub.alternatives, _decimal(value, 15)) if value is not None else None
                if hit is not None and hit.fraction == 0:
                    assert shown(hit.feedback) in {_says(says) for other, says in slips
                                                   if other is not None and abs(other - value) <= truth.tolerance}
        in_rows = [markup for _, markup in rows]
        for sub in extract(text):
            if sub.source in in_rows:
                continue
            if sub.kind == "MULTICHOICE_V":  # the answer asked as multiple choice
                options = contract["choice"]["options"]
                assert [shown(a.answer) for a in sub.alternatives] == [o["text"] for o in options]
                for alt, option in zip(sub.alternatives, options, strict=True):
                    assert (alt.fraction == 1) == (option["kind"] == "answer")
                    if option["kind"] == "slip":
                        assert shown(alt.feedback) == _says(option["says"])
                graded += len(options)
            else:  # the answers graded by hand: anything typed waits for a person
                assert sub.kind == "SHORTANSWER" and moodle_shortanswer(sub.alternatives, "my own design").fraction == 0
                assert any(c["kind"] == "manual" for c in contract["tolerance"].values())
    assert graded or name == "questions"


def test_moodle_shows_feedback_as_written(exports):
    """No escape of gen's shows: `\\/` was shown to students as written."""
    for export in exports.values():
        for question, _ in _cloze_questions(export):
            for sub in extract(question.findtext("questiontext/text")):
                for alt in sub.alternatives:
                    assert "\\" not in shown(alt.feedback) and "\\" not in alt.answer, alt


@pytest.mark.parametrize("text", ['a}b#c~d/e"f\\g{h<i>&j', "\\}", "\\#", "x\\", "=5", "%50%y", "&amp;", "&#35;",
                                  "lambda/2 ~ 1/2", "} # ~", "a\\\\}b"])
def test_cloze_text_survives_the_extractor(text):
    markup = f"{{1:SHORTANSWER:={cloze_text(text)}#{cloze_html(text)}~%0%other#x}}"
    (sub,) = extract(markup)
    assert sub.alternatives[0].answer == text  # stored as plain text
    assert shown(sub.alternatives[0].feedback) == text  # stored as HTML, shown as the text
    assert len(sub.alternatives) == 2
    markup = f"{{1:MULTICHOICE_V:={cloze_html(text)}#{cloze_html(text)}~{cloze_html('b')}}}"
    (sub,) = extract(markup)
    assert shown(sub.alternatives[0].answer) == text


@pytest.mark.parametrize("name", ["questions", "course"])
def test_moodle_grades_questions_written_in_the_bank(exports, name):
    export = exports[name]
    for question in export.moodle.findall("question"):
        qid = question.findtext("idnumber")
        if qid not in export.questions:
            continue
        q = export.questions[qid]
        answers = [(float(a.get("fraction")), a.findtext("text"), a.findtext("tolerance"))
                   for a in question.findall("answer")]
        if q.kind == "numeric":
            truth = Truth(q.correct, q.tolerance.bound(q.correct), [])
            alternatives = [Alternative(f / 100, text, tol or "0", "") for f, text, tol in answers]
            for typed in _probes(truth):
                hit = moodle_numerical(alternatives, typed)
                assert (hit is not None and hit.fraction == 1) == truth.accepts(Fraction(typed)), (qid, typed)
        elif q.kind == "true_false":
            assert [text for f, text, _ in answers if f == 100] == ["true" if q.correct else "false"]
        elif q.kind == "text":
            assert [text for f, text, _ in answers if f == 100] == list(q.correct)


# --- Canvas: the QTI importer, the numerical grader, question groups --------------------


def typed_by_canvas(text: str) -> Decimal:
    """take_quiz.js: parseFloat(value).toFixed(4); toFixed rounds the double's exact value
    half away from zero."""
    return Decimal(float(text)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def canvas_interval(condition: ET.Element) -> tuple[Decimal, Decimal]:
    """The accepted interval as Canvas imports and grades it."""
    either = condition.find(f"{QTI}or")
    if either is not None:
        exact_text = either.findtext(f"{QTI}varequal")
        upper = either.find(f"{QTI}and/{QTI}varlte")
        exact = float(exact_text)
        margin = float(Decimal(upper.text) - Decimal(exact_text))
        value, spread = Decimal(repr(exact)), Decimal(repr(margin))  # BigDecimal(x.to_s)
        return value - spread, value + spread
    start, end = float(condition.findtext(f"{QTI}vargte")), float(condition.findtext(f"{QTI}varlte"))
    low, high = sorted((Decimal(repr(start)), Decimal(repr(end))))
    return low, high


def _qti_parts(export: Export):
    archive = export.qti
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    resources = manifest.findall(f"{MANIFEST}resources/{MANIFEST}resource")
    (quiz,) = [r for r in resources if r.get("type") == "imsqti_xmlv1p2"]
    return manifest, resources, ET.fromstring(archive.read(quiz.get("href")))


def _field(item, label):
    for field in item.iter(f"{QTI}qtimetadatafield"):
        if field.findtext(f"{QTI}fieldlabel") == label:
            return field.findtext(f"{QTI}fieldentry")
    raise AssertionError(label)


def _owner(export: Export, item) -> dict:
    ident = item.get("ident")
    return export.contracts[ident[2:] if ident.startswith("q_") else ident[1:13]]


def _expected_total(export: Export) -> Fraction:
    return sum((slot.pick * slot.points_of(0) for slot in export.bank.slots), Fraction(0))


@pytest.mark.parametrize("name", BANKS)
def test_canvas_groups_are_worth_the_banks_points(exports, name):
    export = exports[name]
    _, _, assessment = _qti_parts(export)
    totals: dict[tuple, Fraction] = {}
    expected: dict[tuple, Fraction] = {}
    quiz_points = Fraction(0)
    for group in assessment.iter(f"{QTI}section"):
        pick = group.findtext(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_number")
        if pick is None:
            continue
        points = Fraction(group.findtext(f".//{QTI}points_per_item"))  # each drawn item's points
        items = group.findall(f"{QTI}item")
        assert items and all(Fraction(_field(item, "points_possible")) == points for item in items)
        owners = [_owner(export, item) for item in items]
        quiz_points += int(pick) * points
        if "family" in owners[0]:  # one box of every variant of a family problem
            keys = {(o["slot"], o["alternative"]) for o in owners}
            assert len(keys) == 1 and int(pick) == 1
            assert len({o["fingerprint"] for o in owners}) == len(items)
            key = keys.pop()
            variants = [c for c in export.contracts.values() if "family" in c and (c["slot"], c["alternative"]) == key]
            assert len(items) == len(variants)  # every variant, each once
            totals[key] = totals.get(key, 0) + points
            expected[key] = Fraction(str(owners[0]["points"]))
        else:  # questions written in the bank: all worth the same, pick as many as the bank
            assert {Fraction(str(o["points"])) for o in owners} == {points}
    assert totals == expected
    meta = ET.fromstring(export.qti.read(f"{assessment.find(f'{QTI}assessment').get('ident')}/assessment_meta.xml"))
    assert Fraction(meta.findtext(f"{CANVAS}points_possible")) == quiz_points
    if name != "course":  # the course bank's one_of has groups for both alternatives
        assert quiz_points == _expected_total(export)


@pytest.mark.parametrize("name", BANKS)
def test_canvas_reads_the_quiz_settings(exports, name):
    export = exports[name]
    manifest, resources, assessment = _qti_parts(export)
    ident = assessment.find(f"{QTI}assessment").get("ident")
    meta_path = f"{ident}/assessment_meta.xml"
    lor = [r for r in resources if r.get("type", "").endswith("learning-application-resource")]
    assert [f.get("href") for r in lor for f in r.findall(f"{MANIFEST}file")] == [meta_path]
    meta = ET.fromstring(export.qti.read(meta_path))
    assert meta.tag == f"{CANVAS}quiz" and meta.get("identifier") == ident
    assert meta.findtext(f"{CANVAS}title") == export.bank.title
    names = set(export.qti.namelist())
    assert all(f.get("href") in names for r in resources for f in r.findall(f"{MANIFEST}file"))


_PROMPT = re.compile(r"Give (?:(\d+) × )?(.+?)(?: \(your value multiplied by (\d+)\))? as "
                     r"(?:a whole number|a decimal number, rounded to (\d+) decimal places)\.")


def _canvas_check(truth: Truth, factor: int, places: int | None, condition: ET.Element, where) -> int:
    low, high = canvas_interval(condition)
    lo, hi = Fraction(low), Fraction(high)
    v, t = truth.value * factor, truth.tolerance * factor
    quantum = Fraction(1, 10**4)
    # the range holds the exact answer and every value within the tolerance, and nothing else
    # Canvas could tell apart: exactly, or (where the bounds have no short decimal) with
    # the same four-decimal answers inside
    assert v - t <= lo <= v <= hi <= v + t, where
    if all(_terminates(x) and len(_decimal(x, 15).lstrip("-0.").replace(".", "")) <= 15 for x in (v - t, v + t)):
        assert (lo, hi) == (v - t, v + t), where
    ceil4 = -((-(v - t)) // quantum) * quantum
    floor4 = ((v + t) // quantum) * quantum
    assert -((-lo) // quantum) * quantum == ceil4 and (hi // quantum) * quantum == floor4, where
    if places is None:  # a whole number: nothing but the value itself
        assert lo == hi == v and v.denominator == 1, where
    else:
        assert places == 4, where  # what Canvas keeps of a typed number

    def canvas(text: str) -> bool:
        return low <= typed_by_canvas(text) <= high

    right = _decimal(v, 4)  # the right answer, rounded to four decimals as the question asks
    assert canvas(right), where
    for slip in truth.slips:  # a slip, rounded the same way, graded as the slip itself
        assert canvas(_decimal(slip * factor, 4)) == truth.accepts(slip), (where, slip)
    for grid in (ceil4, floor4):  # the four-decimal answers at each edge, and one step outside
        assert canvas(str(Decimal(grid.numerator) / grid.denominator)), (where, grid)
        assert truth.accepts(grid / factor), (where, grid)
    for outside in (ceil4 - quantum, floor4 + quantum):
        text = str(Decimal(outside.numerator) / outside.denominator)
        assert not canvas(text) and not truth.accepts(outside / factor), (where, outside)
    return 5 + len(truth.slips)


@pytest.mark.parametrize("name", BANKS)
def test_canvas_grades_every_box_as_the_bank_does(exports, name):
    export = exports[name]
    _, _, assessment = _qti_parts(export)
    graded = 0
    for item in assessment.iter(f"{QTI}item"):
        kind = _field(item, "question_type")
        contract = _owner(export, item)
        condition = item.find(f"{QTI}resprocessing/{QTI}respcondition[{QTI}setvar]/{QTI}conditionvar")
        prompt = shown(item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext"))
        if "question" in contract:  # written in the bank
            q = export.questions[contract["question"]]
            if q.kind == "numeric":
                match = _PROMPT.search(prompt)
                factor = int(match.group(1) or 1) if match else 1
                places = int(match.group(4)) if match and match.group(4) else None
                truth = Truth(q.correct, q.tolerance.bound(q.correct), [])
                if match:
                    graded += _canvas_check(truth, factor, places, condition, q.id)
                else:  # no decimal states it: only the value itself
                    assert canvas_interval(condition)[0] == canvas_interval(condition)[1]
            continue
        if kind == "numerical_question":
            match = _PROMPT.search(prompt)
            assert match, prompt
            factor = int(match.group(1) or 1)
            answer, position = _boxes_by_label(contract)[match.group(2)]
            truth = _truth(contract, answer, position)
            graded += _canvas_check(truth, factor, int(match.group(4)) if match.group(4) else None, condition,
                                    (contract["fingerprint"], match.group(2)))
        elif kind == "short_answer_question":
            label = re.search(r"Give (.+?) (?:as an exact fraction p/q|\(one word or letter\))\.", prompt).group(1)
            answer, position = _boxes_by_label(contract)[label]
            assert condition.findtext(f"{QTI}varequal") == str(_at(contract["answers"][answer], position))
            graded += 1
        elif kind == "multiple_choice_question":
            choice = contract["choice"]
            assert condition.findtext(f"{QTI}varequal") == choice["correct"]
            texts = [label.findtext(f"{QTI}material/{QTI}mattext")
                     for label in item.iter(f"{QTI}response_label")]
            assert texts == [o["text"] for o in choice["options"]]
            graded += len(texts)
    assert graded


def test_written_question_bank_exports_every_kind(exports):
    export = exports["questions"]
    kinds = {q.get("type") for q in export.moodle.findall("question")}
    assert {"numerical", "multichoice", "truefalse", "shortanswer", "essay", "cloze"} <= kinds
    assert all(isinstance(q, Question) for q in export.questions.values())
