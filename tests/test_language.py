"""The bank's `language`: every fixed string of the exam and the key comes from the
language's file (checked in the PDFs with pdftotext), Chinese compiles with CJK
support, and every language file has every string English has."""

import subprocess

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.i18n import LANG_DIR, languages, strings

FIXED = {  # strings of the exam and of the key, in the language's own words
    "de": (["Matrikelnummer:", "Diese Prüfung hat", "Seite 1", "Variante", "Kreuzen Sie eine Option an.",
            "Wahr", "Falsch", "Antwort:", "Teil A: Kurzfragen (", "Punkte)", "Unterschrift:"],
           ["LÖSUNG", "— Lösung", "Musterlösung.", "Lösungsweg.", "Bewertung (Punkte je Kriterium):",
            "Richtig:", "Jede Lösung zeigt"]),
    "zh": (["姓名：", "学号：", "本试卷共", "第 1 页", "试卷版本", "请勾选一个选项。", "对", "错", "答：", "签名："],
           ["答案", "参考答案。", "解答过程。", "评分标准（每项得分）：", "正确答案："]),
}


def _bank(language: str, heading: str, words: str) -> dict:
    return {
        "title": f"{words} 1", "language": language, "honour_code": words,
        "sections": [{"heading": heading, "problems": [
            {"question": "w", "points": 4, "text": f"{words}: $\\mathcal{{F}}(x) + x$?", "answer": words,
             "rubric": [{"points": 4, "criterion": words}]},
            {"question": "tf", "kind": "true_false", "points": 1, "text": words, "correct": False},
            {"question": "c", "kind": "choice", "points": 1, "text": words, "options": ["A1", "B2", "C3"],
             "correct": 0},
            {"question": "n", "kind": "numeric", "points": 1, "text": words, "correct": 37},
        ]}, {"heading": "B", "problems": [{"family": "sgd_step", "points": 4}]}],
        "fields": ["name", "student_id", "signature"],
    }


@pytest.mark.parametrize(("language", "heading", "words"), [
    ("de", "Teil A: Kurzfragen", "Erklären Sie das Degradationsproblem"),
    ("zh", "第一部分：简答题", "解释残差网络的退化问题"),
])
def test_fixed_strings_are_translated(tmp_path, language, heading, words):
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(_bank(language, heading, words), allow_unicode=True),
                                        encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path), "--seed", "2", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    exam_words, key_words = FIXED[language]
    for name, expected in (("exam", exam_words), ("key", key_words)):
        text = subprocess.run(["pdftotext", str(tmp_path / "out" / f"{name}.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        text = _squeezed(text)  # pdftotext spaces out CJK glyphs of some fonts
        assert _squeezed(words) in text and _squeezed(heading) in text
        for fixed in expected:
            assert _squeezed(fixed) in text, (name, fixed)
        for english in ("Student ID", "This exam has", "page 1", "Model answer", "Worked solution", "ANSWER KEY"):
            assert _squeezed(english) not in text, (name, english)
    tex = (tmp_path / "out" / "exam.tex").read_text(encoding="utf-8")
    assert ("\\usepackage{CJKutf8}" in tex) == (language == "zh")


def _squeezed(text: str) -> str:
    return "".join(text.split())


def test_cjk_support_only_where_needed(tmp_path):
    """An English bank whose text holds Chinese gets CJK support too; one without none."""
    bank = {"title": "Mixed", "problems": [{"question": "q", "text": "What does 残差 mean?"}]}
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(bank, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "\\begin{CJK}{UTF8}{gbsn}" in (tmp_path / "out" / "exam.tex").read_text(encoding="utf-8")
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "exam.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Whatdoes残差mean?" in _squeezed(text)


def test_every_language_has_every_string():
    assert {"en", "de", "fr", "es", "zh"} <= set(languages())
    reference = yaml.safe_load((LANG_DIR / "en.yaml").read_text(encoding="utf-8"))
    for language in languages():
        own = yaml.safe_load((LANG_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
        required = {k for k in reference if not k.endswith("_one")}
        assert required <= set(own), (language, sorted(required - set(own)))
        assert set(own) <= set(reference), (language, sorted(set(own) - set(reference)))
        for key, value in own.items():  # the same {fields} as English
            assert sorted(_fields(value)) == sorted(_fields(reference[key])), (language, key)
        assert strings(language)["page"].count("{page}") == 1


def _fields(text: str) -> list[str]:
    import string

    return [field for _, field, _, _ in string.Formatter().parse(text) if field]


def test_chinese_names_print_in_a_chinese_exam(tmp_path):
    bank = {"title": "期末考试", "language": "zh", "problems": [{"question": "q", "text": "解释退化问题。"}]}
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(bank, allow_unicode=True), encoding="utf-8")
    (tmp_path / "class.csv").write_text("id,name\ns1,李小龙\ns2,Ada Lovelace\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path), "--roster", str(tmp_path / "class.csv"),
                                      "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "s1" / "exam.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "李小龙" in _squeezed(text) and "姓名" in text
