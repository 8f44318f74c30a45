"""`gen export`: Moodle XML and a QTI 1.2 zip, parsed back. Structure (categories,
distinct variants, question groups, images), every exported value against the answer
contract, tolerances, multiple choice with slip feedback, escaping, and a small fixed
export compared with golden files.

The golden files are tests/golden/export-moodle.xml and tests/golden/export-qti.xml
(images replaced by a placeholder, since PNG bytes depend on the TeX and poppler
versions). After a deliberate change of the export, regenerate them with
    GEN_REGENERATE_GOLDEN=1 python -m pytest tests/test_export.py -k golden
and review the diff before committing.
"""

import base64
import html
import io
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.bank import load_bank
from generator.cli import cli
from generator.export.moodle import category_path, cloze_boxes, cloze_text
from generator.export.qti import canvas_number
from generator.export.questions import Category, blanks, capitalized, draw_variants
from generator.seeds import derive_seed
from generator.tolerance import Tolerance

GOLDEN = Path(__file__).parent / "golden"
QTI_NS = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
MANIFEST_NS = {"m": "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"}
PNG = b"\x89PNG\r\n\x1a\n"
SEED, VARIANTS = 3, 2
BANK = {"title": "Export <test> & \"co\" / 2", "problems": [
    {"family": "sgd_step", "points": 8, "format": "choice", "answer": "w_decay"},
    {"family": "resblock_params", "points": 10},
    {"family": "gd_convergence", "points": 6},
    {"family": "conv_architecture", "points": 10},
    {"family": "conv_macs", "points": 6, "tolerance": {"macs_standard": {"rel": "1/1000"}}},
]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    (base / "bank.yaml").write_text(yaml.safe_dump(BANK))
    for form, name in (("moodle", "quiz.xml"), ("qti", "quiz.zip")):
        result = CliRunner().invoke(cli, ["export", "--format", form, "--bank", str(base / "bank.yaml"),
                                          "--seed", str(SEED), "--variants", str(VARIANTS), "--out", str(base / name)])
        assert result.exit_code == 0, result.output
    bank = load_bank(str(base / "bank.yaml"))
    contracts = {}
    for slot in bank.slots:
        for problem in draw_variants(bank, SEED, slot, VARIANTS):
            contracts[problem.fingerprint] = problem.contract()
            BLANKS[problem.fingerprint] = blanks(problem)
            BOXED[problem.fingerprint] = [box.blank for box in cloze_boxes(problem) if box.blank is not None]
    return base, contracts


BLANKS = {}  # fingerprint -> the problem's blanks, as the exporters made them
BOXED = {}  # fingerprint -> the blanks that Moodle's Cloze question has boxes for


# --- reading Moodle Cloze back ------------------------------------------------------


def _unescape(text):
    """What Moodle's Cloze extractor undoes: HTML character references, then \\} and \\#."""
    return html.unescape(text).replace("\\}", "}").replace("\\#", "#")


def _subquestions(text):
    """(type, [(grade, answer, feedback)]) for every Cloze sub-question of a question text
    (tests/test_lms_rules.py reads them with all of Moodle's rules)."""
    found = []
    for match in re.finditer(r"\{(\d+):([A-Z_]+):((?:\\.|[^\\}])*)\}", text):
        answers = []
        for part in re.split(r"(?<!\\)~", match.group(3)):
            grade = "100" if part.startswith("=") else part[1:].split("%")[0] if part.startswith("%") else "0"
            answer, feedback = (re.split(r"(?<!\\)(?<!&)#", re.sub(r"^(=|%\d+%)", "", part), maxsplit=1) + [""])[:2]
            answers.append((grade, _unescape(answer), _unescape(feedback)))
        found.append((match.group(2), answers))
    return found


def _moodle(base):
    return ET.parse(base / "quiz.xml").getroot()


def test_moodle_has_a_category_per_problem_with_distinct_variants(exported):
    base, contracts = exported
    quiz = _moodle(base)
    categories, current = {}, None
    for question in quiz.findall("question"):
        if question.get("type") == "category":
            current = question.findtext("category/text")
            categories[current] = []
        else:
            categories[current].append(question.findtext("idnumber"))
    assert len(categories) == len(BANK["problems"])
    assert all(path.startswith("$course$/top/Export <test> & \"co\" // 2/Problem ") for path in categories)
    for ids in categories.values():
        assert len(ids) == VARIANTS and len(set(ids)) == VARIANTS and set(ids) <= set(contracts)


def test_every_moodle_value_equals_the_contract(exported):
    base, contracts = exported
    for question in _moodle(base).findall("question"):
        if question.get("type") == "category":
            continue
        contract = contracts[question.findtext("idnumber")]
        text = question.findtext("questiontext/text")
        assert '<img src="@@PLUGINFILE@@/statement.png"' in text
        for area in ("questiontext", "generalfeedback"):
            files = question.findall(f"{area}/file")
            assert len(files) == 1 and base64.b64decode(files[0].text).startswith(PNG)
        if question.get("type") == "essay":
            assert all(t["kind"] == "manual" for t in contract["tolerance"].values())
            continue
        labels = [html.unescape(label) for label in re.findall(r"<td>([^<{]+)</td><td>\{", text)]
        subs = _subquestions(text)
        numeric = [s for s in subs if s[0] in ("NUMERICAL", "SHORTANSWER")]
        fields = BOXED[question.findtext("idnumber")]
        assert labels == [capitalized(field.label) for field in fields]  # what students read
        assert len(labels) == len(numeric)
        for field, (kind, answers) in zip(fields, numeric, strict=True):
            name, *index = re.split(r"[\[\]]+", field.key.strip("]"))
            expected = contract["answers"][name]
            for i in index:
                expected = expected[int(i) - 1]
            grade, given, _ = answers[0]
            assert grade == "100"
            if kind == "SHORTANSWER":
                assert given == str(expected)
                continue
            value, tolerance = given.split(":")
            bound = Tolerance.from_json(contract["tolerance"][name]).bound(Fraction(expected))
            assert abs(Fraction(value) - Fraction(expected)) <= Fraction(1, 10**12)
            assert Fraction(bound) - Fraction(1, 10**12) <= Fraction(tolerance) <= bound
            slips = {}
            for slip in contract["slips"].get(name, []):
                element = slip["value"]
                for i in index:
                    element = element[int(i) - 1]
                slips.setdefault(Fraction(element), slip["says"])
            for grade, wrong, feedback in answers[1:]:
                assert grade == "0"
                slip_value = Fraction(wrong.split(":")[0])
                match = min(slips, key=lambda v: abs(v - slip_value))
                assert abs(match - slip_value) <= Fraction(1, 10**12)
                assert feedback.lower().startswith(slips[match][:20].lower())
        choices = [s for s in subs if s[0] == "MULTICHOICE_V"]
        if "choice" in contract:
            (_, answers), = choices
            options = contract["choice"]["options"]
            assert [a[1] for a in answers] == [o["text"] for o in options]
            for (grade, _, feedback), option in zip(answers, options, strict=True):
                assert (grade == "100") == (option["kind"] == "answer")
                if option["kind"] == "slip":
                    assert feedback.startswith(option["says"][:1].upper() + option["says"][1:30])
        else:
            assert not choices


def test_tolerances_come_from_family_and_bank(exported):
    _, contracts = exported
    macs = [c["tolerance"] for c in contracts.values() if c["family"] == "conv_macs"]
    assert macs and all(t["macs_standard"] == {"kind": "rel", "value": "1/1000"} for t in macs)  # the bank's
    assert all(t["saving_ratio"] == {"kind": "abs", "value": "1/200"} for t in macs)  # the family's
    assert all(t["params_standard"] == {"kind": "exact"} for t in macs)  # the default rule


# --- QTI --------------------------------------------------------------------------


def _qti(base):
    archive = zipfile.ZipFile(base / "quiz.zip")
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    resources = manifest.findall("m:resources/m:resource", MANIFEST_NS)
    quiz = next(r for r in resources if r.get("type") == "imsqti_xmlv1p2")
    return archive, resources, ET.fromstring(archive.read(quiz.get("href")))


def test_qti_package_lists_its_files(exported):
    base, contracts = exported
    archive, resources, assessment = _qti(base)
    names = set(archive.namelist())
    for resource in resources:
        for file in resource.findall("m:file", MANIFEST_NS):
            assert file.get("href") in names
    images = [r.get("href") for r in resources if r.get("type") == "webcontent"]
    assert len(images) == 2 * len(contracts)
    assert all(archive.read(path).startswith(PNG) for path in images)
    html = " ".join(m.text for m in assessment.iter(f"{{{QTI_NS['q']}}}mattext"))
    for src in re.findall(r'src="([^"]+)"', html):
        assert src.startswith("%24IMS-CC-FILEBASE%24/") and src.split("/", 1)[1] in names


def _field(item, label):
    for field in item.iter(f"{{{QTI_NS['q']}}}qtimetadatafield"):
        if field.findtext("q:fieldlabel", namespaces=QTI_NS) == label:
            return field.findtext("q:fieldentry", namespaces=QTI_NS)
    raise AssertionError(label)


def test_every_qti_value_lies_in_the_contracts_tolerance(exported):
    base, contracts = exported
    _, _, assessment = _qti(base)
    groups = assessment.findall("q:assessment/q:section/q:section", QTI_NS)
    kinds = Counter()
    for group in groups:
        assert group.findtext("q:selection_ordering/q:selection/q:selection_number", namespaces=QTI_NS) == "1"
        items = group.findall("q:item", QTI_NS)
        assert 1 <= len(items) <= VARIANTS
        for item in items:
            kind = _field(item, "question_type")
            kinds[kind] += 1
            contract = contracts[item.get("ident")[1:13]]
            label = _blank_key(item)
            if kind == "numerical_question":
                _check_range(item, contract, label)
            elif kind == "multiple_choice_question":
                correct = item.find("q:resprocessing/q:respcondition[q:setvar]/q:conditionvar/q:varequal",
                                    QTI_NS).text
                assert correct == contract["choice"]["correct"]
            elif kind == "short_answer_question":
                given = item.find("q:resprocessing/q:respcondition[q:setvar]/q:conditionvar/q:varequal",
                                  QTI_NS).text
                assert given == str(_element(contract, label))
    assert set(kinds) == {"numerical_question", "multiple_choice_question", "short_answer_question",
                          "essay_question"}


def _blank_key(item):
    """The blank an item asks for, found through its ident (made from the blank's key)."""
    fingerprint = item.get("ident")[1:13]
    keys = {f"i{fingerprint}_{derive_seed(field.key):08x}": field.key for field in BLANKS[fingerprint]}
    return keys.get(item.get("ident"), "")


def _element(contract, label):
    name, *index = re.split(r"[\[\]]+", label.strip("]"))
    value = contract["answers"][name]
    for i in index:
        value = value[int(i) - 1]
    return value


def _check_range(item, contract, label):
    prompt = item.find("q:presentation/q:material/q:mattext", QTI_NS).text
    scale = re.search(r"multiplied by (\d+)", prompt)
    scale = Fraction(scale.group(1)) if scale else 1
    condition = item.find("q:resprocessing/q:respcondition[q:setvar]/q:conditionvar", QTI_NS)
    low = Fraction(condition.findtext(".//q:vargte", namespaces=QTI_NS))
    high = Fraction(condition.findtext(".//q:varlte", namespaces=QTI_NS))
    value = Fraction(_element(contract, label))
    name = label.split("[")[0]
    bound = Tolerance.from_json(contract["tolerance"][name]).bound(value)
    assert (value - bound) * scale <= low <= value * scale <= high <= (value + bound) * scale
    assert "rounded to 4 decimal places" in prompt or "as a whole number" in prompt  # Canvas keeps four decimals


def test_canvas_ranges():
    # the range is the tolerance's, both ends included: a value of 7 decimals keeps them
    found = canvas_number(Fraction("1.4103465"), Fraction(1, 20000))
    assert (found.scale, found.low, found.high, found.exact) == (0, Fraction("1.4102965"), Fraction("1.4103965"), True)
    assert canvas_number(Fraction(3921, 5000), Fraction(0)).low == Fraction(3921, 5000)
    # 1/3 to the default tolerance: the bounds have no short decimal, so a range rounded inward
    third = canvas_number(Fraction(1, 3), Fraction(1, 20000))
    assert third.scale == 0 and not third.exact
    assert Fraction(1, 3) - Fraction(1, 20000) < third.low == Fraction("0.33328333333334")  # 15 digits
    # four decimals of 0.00003 would be 0: asked for 10 x the value
    assert canvas_number(Fraction(3, 100000), Fraction(1, 2000000)).scale == 1
    assert canvas_number(Fraction(147840), Fraction(0)).whole
    assert canvas_number(Fraction(1, 3), Fraction(0)) is None  # no decimal states 1/3: asked as text
    # a slip that rounds into the range at four decimals: asked for 10 x the value
    assert canvas_number(Fraction("1.2345"), Fraction(1, 10000), [Fraction("1.23465")]).scale == 0
    assert canvas_number(Fraction("1.2345"), Fraction(1, 10000), [Fraction("1.23461")]).scale == 1


# --- escaping ---------------------------------------------------------------------


def test_cloze_specials_are_encoded():
    text = 'a}b#c~d/e"f\\g{h'
    encoded = cloze_text(text)
    assert not re.search(r'[}~"\\{]|(?<!&)#', encoded)  # nothing Moodle's extractor reads as syntax
    assert "/" in encoded  # and no escapes it would show as written
    assert _unescape(encoded) == text


def test_category_names_keep_slashes():
    bank = load_bank("default")
    path = category_path(bank, Category(bank.slots[0], "Problem 1: a/b", []))
    assert path.endswith("/Problem 1: a//b")


def test_folder_as_out_is_refused(tmp_path):
    result = CliRunner().invoke(cli, ["export", "--format", "moodle", "--out", str(tmp_path)])
    assert result.exit_code == 2


# --- golden files -----------------------------------------------------------------

GOLDEN_BANK = {"title": "Golden", "problems": [
    {"family": "sgd_step", "points": 4, "format": "choice", "answer": "w_decay",
     "params": {"lr": "1/10", "weight_decay": "1/50", "w": "0.8", "grad": "0.3"}},
    {"family": "yolo_output", "points": 3, "params": {"S": 7, "B": 2, "C": 20}},
]}


def _without_images(xml: bytes) -> str:
    text = xml.decode("utf-8")
    text = re.sub(r'(encoding="base64">)[A-Za-z0-9+/=\s]+(</file>)', r"\1PNG\2", text)
    return text


@pytest.mark.parametrize("form", ["moodle", "qti"])
def test_golden(form, tmp_path):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(GOLDEN_BANK))
    out = tmp_path / f"golden.{form}"
    result = CliRunner().invoke(cli, ["export", "--format", form, "--bank", str(tmp_path / "bank.yaml"),
                                      "--variants", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    if form == "moodle":
        text = _without_images(out.read_bytes())
    else:
        archive = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
        parts = sorted(n for n in archive.namelist() if n.endswith(".xml"))
        text = "".join(f"--- {name}\n{archive.read(name).decode()}" for name in parts)
    golden = GOLDEN / f"export-{form}.xml"
    if os.environ.get("GEN_REGENERATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


# --- what students read -----------------------------------------------------------


def _student_texts(base):
    """Every question text and feedback of both exports, with the Cloze answers cut out."""
    texts = [question.findtext(f"{area}/text") for question in _moodle(base).findall("question")
             for area in ("questiontext", "generalfeedback") if question.find(area) is not None]
    _, _, assessment = _qti(base)
    texts += [m.text for m in assessment.iter(f"{{{QTI_NS['q']}}}mattext")]
    return [html.unescape(re.sub(r"\{\d+:[A-Z_]+:(?:\\.|[^\\}])*\}", "", t)) for t in texts]


def test_students_read_labels_never_answer_names(exported):
    base, contracts = exported
    names = {name for c in contracts.values() for name in c["answers"] if "_" in name}  # w_decay, grad_W1, ...
    texts = _student_texts(base)
    assert not [(name, t) for t in texts for name in names if name in t]
    everything = " ".join(texts)
    assert "Multiple choice for the weight after one step with weight decay: mark the one right option (" \
        in everything
    assert "Mark the weight after one step with weight decay." in everything  # QTI
    assert "<td>The bound on the learning rate below which gradient descent converges</td>" in everything
    assert "Give the eigenvalues of A, entry 1 as a whole number." in everything
    assert "The layers of your network: [Conv2d(in_channels=" in everything  # the key's example, no dict repr
    assert "Graded by hand (more than one answer is right): the layers of your network, the output shape" \
        in everything


ONE_OF_BANK = {"title": "One of", "problems": [
    {"id": "conv", "points": 6, "one_of": [{"family": "conv_output_size"}, {"family": "conv_params"},
                                           {"family": "yolo_output"}]},
]}


@pytest.mark.parametrize("count", [2, 3, 5])
def test_variants_come_from_every_alternative_in_turn(tmp_path, count):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(ONE_OF_BANK))
    bank = load_bank(str(tmp_path / "bank.yaml"))
    problems = draw_variants(bank, SEED, bank.slots[0], count)
    families = [p.family.id for p in problems]
    assert len({p.fingerprint for p in problems}) == count
    assert families == [["conv_output_size", "conv_params", "yolo_output"][i % 3] for i in range(count)]
    assert [p.alternative for p in problems] == [i % 3 for i in range(count)]


def test_one_of_category_offers_both_alternatives_and_qti_warns(tmp_path):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump({"title": "One of", "problems": [
        {"points": 6, "one_of": [{"family": "conv_params"}, {"family": "yolo_output"}]}]}))
    outputs = {}
    for form in ("moodle", "qti"):
        result = CliRunner().invoke(cli, ["export", "--format", form, "--bank", str(tmp_path / "bank.yaml"),
                                          "--variants", "2", "--out", str(tmp_path / f"quiz.{form}")])
        assert result.exit_code == 0, result.output
        outputs[form] = result.output
    texts = [q.findtext("questiontext/text") for q in ET.parse(tmp_path / "quiz.moodle").getroot().findall("question")
             if q.get("type") != "category"]
    assert len(texts) == 2
    for title in ("Parameters of a convolutional layer", "Size of a YOLO detector's output tensor"):
        assert any(f'alt="statement of {title}"' in t for t in texts), title
    assert "Canvas cannot pick one of the `one_of` alternatives" in outputs["qti"]
    assert "Canvas cannot" not in outputs["moodle"]
