"""Names (and titles) in every script: typeset by LuaLaTeX where pdflatex's fonts
cannot show them, and read back exactly from the PDFs."""

import csv
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from generator import bank as bank_module
from generator import scripts
from generator.cli import cli
from generator.render import Tex, escape, foreign_runs, typeset_strings

NAMES = {
    "vi": "Nguyễn Thị Hương", "ru": "Дмитрий Иванов", "zh": "王芳", "el": "Νίκος Παπαδόπουλος",
    "ja": "山田 太郎", "kana": "やまだ たろう", "ko": "김민준", "ar": "محمد علي", "he": "דוד כהן",
    "hi": "अनिल कुमार", "th": "สมชาย ใจดี", "hostile": r"\input{/etc/passwd} ^^5c Дмитрий {x} %",
    "latin": "Ann Smith",
}
BANK = "title: Quiz\ncourse: Test Course\nproblems:\n  - family: yolo_output\n    points: 2\n"
BIDI_MARKS = dict.fromkeys(range(0x202A, 0x202F))  # pdftotext marks right-to-left runs with these


def _text(pdf) -> str:
    raw = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(raw.translate(BIDI_MARKS).split())


def test_runs_split_by_script_and_keep_spaces_with_their_run():
    runs = scripts.script_runs("Ann محمد علي 王")
    assert [(face.script, text) for face, text in runs] == [
        ("Latin", "Ann "), ("Arabic", "محمد علي"), ("Latin", " "), ("CJK", "王")]
    assert scripts.script_runs("山田 やまだ")[0][0] == scripts.CJK_JP


def test_only_what_pdflatex_cannot_show_is_typeset():
    assert scripts.needing(["Ann", "Zoë Dvořák", "王芳", None, "王芳"]) == ["王芳"]
    assert scripts.needing(["王芳", "Дмитрий"], cjk=True) == ["Дмитрий"]


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("scripts")
    (root / "bank.yaml").write_text(BANK)
    with open(root / "roster.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        writer.writerows(NAMES.items())
    result = CliRunner().invoke(cli, ["exam", "--bank", str(root / "bank.yaml"), "--roster", str(root / "roster.csv"),
                                      "--out", str(root / "class")])
    assert result.exit_code == 0, result.output
    return root / "class"


@pytest.mark.parametrize("student", sorted(NAMES))
def test_every_name_is_printed_exactly_on_exam_and_key(klass, student):
    for pdf in ("exam.pdf", "key.pdf"):
        assert NAMES[student] in _text(klass / student / pdf), (student, pdf)


def test_a_latin_class_does_not_need_luatex(klass):
    assert "genstring" not in (klass / "latin" / "exam.tex").read_text()
    assert "genstring" in (klass / "ar" / "exam.tex").read_text()


def test_without_luatex_such_students_are_reported_and_the_rest_is_built(tmp_path, monkeypatch):
    monkeypatch.setattr(scripts, "available", lambda: False)
    (tmp_path / "bank.yaml").write_text(BANK)
    (tmp_path / "roster.csv").write_text("id,name\na,Ann Smith\nb,王芳\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--roster",
                                      str(tmp_path / "roster.csv"), "--out", str(tmp_path / "out")])
    assert "LuaLaTeX" in result.output and "texlive-luatex" in result.output
    assert (tmp_path / "out" / "a" / "exam.pdf").exists() and not (tmp_path / "out" / "b" / "exam.pdf").exists()


def test_a_title_in_another_script_is_printed(tmp_path):
    (tmp_path / "bank.yaml").write_text("title: Глубокое обучение\ncourse: 深度学习\nproblems:\n"
                                        "  - family: yolo_output\n    points: 2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    text = _text(tmp_path / "o" / "exam.pdf")
    assert "Глубокое обучение" in text and "深度学习" in text
    fonts = _fonts(tmp_path / "o" / "exam.pdf")  # the title in \bfseries, the course in regular
    assert "NotoSans-Bold" in fonts and "NotoSansCJKsc-Regular" in fonts and "NotoSansCJKsc-Bold" not in fonts


def _fonts(pdf) -> str:
    return subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout


def test_a_name_takes_the_weight_of_the_text_around_it(klass):
    """The name field prints the name in bold (as it prints the id), the grading sheet's
    table in regular: each script's bold face on the exam, its regular one on the sheet."""
    for student, face in [("ru", "NotoSans"), ("ar", "NotoSansArabic"), ("hi", "NotoSansDevanagari"),
                          ("zh", "NotoSansCJKsc")]:
        assert f"{face}-Bold" in _fonts(klass / student / "exam.pdf"), student
        assert f"{face}-Regular" in _fonts(klass / "grading.pdf"), student


def test_each_string_is_typeset_in_both_weights():
    document = scripts.strings_document(["Дмитрий", "王芳"], 11)
    assert document.count("\\genstring{") == 4 and document.count("\\genstring{\\bfseries") == 2


def test_a_script_without_a_bold_face_falls_back_to_regular(tmp_path, monkeypatch):
    regular_only = "AR PL SungtiL GB"  # latex-cjk-chinese-arphic-gbsn00lp: Cyrillic, no bold
    listed = subprocess.run(["fc-list", ":", "family", "style"], capture_output=True, text=True).stdout
    if regular_only not in listed or "SungtiL GB:style=Bold" in listed:
        pytest.skip(f"needs {regular_only} without a bold face")
    monkeypatch.setitem(scripts.FACES, "CYRILLIC", scripts.Face(regular_only, "Cyrillic"))
    assert scripts.typeset(["Дмитрий"], tmp_path) == {}
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", "2", str(tmp_path / scripts.FILE_NAME)],
                           capture_output=True, text=True, check=True).stdout
    pages = [line.split(":", 1)[1].split("pts")[0].strip() for line in sizes.splitlines()
             if line.startswith("Page") and "size:" in line]
    assert len(pages) == 2 and pages[0] == pages[1]  # the bold page set in the regular face
    assert "genstring@1@b" in (tmp_path / scripts.MACROS_FILE).read_text()


@pytest.mark.parametrize(("extra", "named"), [
    ({"instructions": "Ответьте на все вопросы."}, "instructions"),
    ({"problems": [{"question": "why", "points": 2, "text": "لماذا؟"}]}, "question 'why'"),
])
def test_without_luatex_a_paragraph_in_another_script_is_refused_by_name(tmp_path, monkeypatch, extra, named):
    """Words of paragraphs in other scripts are typeset by LuaLaTeX: without it, a clear
    error (exit 2) naming the text, not a LaTeX failure after drawing the class."""
    monkeypatch.setattr(bank_module, "available", lambda: False)
    bank = {"title": "Deep learning", "problems": [{"family": "conv_params", "points": 2}], **extra}
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(bank, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert f"{named} holds characters pdflatex's fonts cannot print" in result.output
    assert "texlive-luatex" in result.output
    assert not (tmp_path / "o").exists()


def test_paragraphs_are_cut_into_words_and_right_to_left_runs():
    text = "Read مرحبا بالعالم 2024 يا صديقي and (שלום). Then καλημέρα κόσμε, नमस्ते x 王"
    runs = foreign_runs(text)
    assert [part for part, foreign in runs if foreign] == [
        "مرحبا بالعالم 2024 يا صديقي", "שלום", "καλημέρα", "κόσμε,", "नमस्ते"]
    assert "".join(part for part, _ in runs) == text
    assert foreign_runs("Ann Zoë") == [("Ann", False), (" ", False), ("Zoë", False)]


def test_escape_prints_typeset_runs_only_while_an_exam_is_rendered():
    typeset = {"Вопрос:": Tex("\\genstring{1}"), "مرحبا بالعالم": Tex("\\genstring{2}")}
    with typeset_strings(typeset):
        assert escape("Вопрос: مرحبا بالعالم & x") == "\\genstring{1} \\genstring{2} \\& x"
    assert escape("Вопрос") == "Вопрос"


PARAGRAPHS = {
    "title": "Quiz", "course": "Test Course", "instructions": "Ответьте на все вопросы. Answer every question.",
    "sections": [{"heading": "Раздел первый", "intro": "Прочитайте **внимательно** текст.", "problems": [
        {"question": "multi", "title": "Вопрос о словах", "points": 4,
         "text": "Translate the Arabic مرحبا بالعالم 2024 يا صديقي, the Greek καλημέρα κόσμε\n"
                 "and the Hindi नमस्ते दुनिया, then compute $x^2$ for $x = 3$.",
         "answer": "Ответ: $x^2 = 9$, שלום עולם.", "rubric": [{"points": 4, "criterion": "Правильный перевод"}]},
        {"family": "conv_params", "points": 2}]}],
}
WORDS = ["Ответьте", "вопросы.", "Раздел первый", "внимательно", "Вопрос о словах", "مرحبا", "بالعالم", "2024",
         "صديقي", "καλημέρα", "κόσμε", "नमस्ते", "दुनिया", "compute"]
KEY_WORDS = ["Ответ:", "שלום", "עולם", "Правильный перевод"]


def test_paragraphs_in_other_scripts_print_on_exam_and_key(tmp_path):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(PARAGRAPHS, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    exam, key = _text(tmp_path / "o" / "exam.pdf"), _text(tmp_path / "o" / "key.pdf")
    assert all(word in exam for word in WORDS), exam
    assert all(word in key for word in WORDS + KEY_WORDS), key
    source = (tmp_path / "o" / "exam.tex").read_text(encoding="utf-8")
    assert "$x^2$" in source and "compute" in source  # maths and Latin text stay pdflatex's


def test_paragraphs_in_other_scripts_print_for_a_class_and_its_sheet(tmp_path):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(PARAGRAPHS, allow_unicode=True), encoding="utf-8")
    (tmp_path / "roster.csv").write_text("id,name\na,Ann Smith\nb,Дмитрий Иванов\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--roster",
                                      str(tmp_path / "roster.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for student in "ab":
        assert all(word in _text(tmp_path / "out" / student / "exam.pdf") for word in WORDS), student
    assert "Вопрос о словах" in _text(tmp_path / "out" / "grading.pdf")


def test_check_compiles_its_sample_with_paragraphs_in_other_scripts(tmp_path):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(PARAGRAPHS, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--bank", str(tmp_path / "bank.yaml"), "--seeds", "5"])
    assert "sample of every problem compiled" in result.output, result.output
