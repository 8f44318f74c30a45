"""`gen exam --seed 42`, the first thing a user runs, checked on the PDFs themselves."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.numbers import decimal


def _text(pdf) -> str:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"[\s,]|\u2009", "", text).replace("\u2212", "-")  # thin spaces, unicode minus


@pytest.fixture(scope="module")
def seed42(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed42")
    result = CliRunner().invoke(cli, ["exam", "--seed", "42", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _final_answers(answers: dict) -> list[str]:
    """Scalar numeric answers, as the key prints them (long enough not to occur by chance)."""
    shown = []
    for problem in answers["problems"]:
        for value in problem["answers"].values():
            if isinstance(value, bool) or not isinstance(value, int | str):
                continue
            try:
                text = decimal(value)
            except TypeError:
                continue
            if len(text.lstrip("-")) >= 4:
                shown.append(text)
    return shown


def test_default_exam_has_the_four_core_families(seed42):
    answers = json.loads((seed42 / "answers.json").read_text())
    assert [p["family"] for p in answers["problems"]] == [
        "resblock_params", "sgd_step", "conv_architecture", "two_layer_backprop"]
    assert answers["bank"] == "default" and answers["seed"] == 42 and answers["student"] is None


def test_key_shows_the_answers_and_the_exam_does_not(seed42):
    answers = json.loads((seed42 / "answers.json").read_text())
    exam, key = _text(seed42 / "exam.pdf"), _text(seed42 / "key.pdf")
    assert answers["variant"] in exam and answers["variant"] in key
    finals = _final_answers(answers)
    assert len(finals) >= 6
    for value in finals:
        assert value in key, value
        assert value not in exam, value


def test_two_runs_are_identical_and_another_seed_differs(seed42, tmp_path):
    CliRunner().invoke(cli, ["exam", "--seed", "42", "--out", str(tmp_path / "again")])
    CliRunner().invoke(cli, ["exam", "--seed", "43", "--out", str(tmp_path / "other")])
    for name in ("exam.tex", "key.tex", "answers.json"):
        assert (tmp_path / "again" / name).read_bytes() == (seed42 / name).read_bytes()
    first = json.loads((seed42 / "answers.json").read_text())["problems"]
    other = json.loads((tmp_path / "other" / "answers.json").read_text())["problems"]
    assert all(a["params"] != b["params"] for a, b in zip(first, other, strict=True))


def test_midterm_bank_compiles_with_its_families(tmp_path):
    result = CliRunner().invoke(cli, ["exam", "--bank", "midterm", "--seed", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    families = {p["family"] for p in json.loads((tmp_path / "answers.json").read_text())["problems"]}
    assert families == _bank_families("midterm")
    assert (tmp_path / "key.pdf").read_bytes().startswith(b"%PDF")


def _bank_families(name: str) -> set[str]:
    """Every family id a shipped bank names, in its slots and their alternatives."""
    import yaml

    def ids(node) -> set[str]:
        if isinstance(node, dict):
            return ({node["family"]} if isinstance(node.get("family"), str) else set()).union(
                *(ids(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(ids(v) for v in node))
        return set()

    return ids(yaml.safe_load((Path(__file__).parents[1] / "banks" / f"{name}.yaml").read_text()))


def test_shipped_banks_together_use_every_built_in_family():
    """The midterm holds the first half of the course, the final the second: a new
    built-in family goes into one of them (derived from the registry, not a list)."""
    from generator.family import PLUGINS, load_families

    built_in = {name for name in load_families() if name not in PLUGINS}
    shipped = set().union(*(_bank_families(p.stem) for p in (Path(__file__).parents[1] / "banks").glob("*.yaml")))
    assert built_in - shipped == set()


def test_key_repeats_every_word_of_the_exam_figures_included(seed42):
    """The key holds the whole statement, figures too (they are typeset once and reused)."""
    from collections import Counter

    # headers, footers and the page that pads a copy to an even length
    running = ("Variant", "Deep Learning, Practice Exam", "Neural Networks and Deep Learning", "ANSWER KEY",
               "This page is intentionally left blank.")

    def words(pdf):
        lines = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.splitlines()
        return Counter(w for line in lines if not line.startswith(running) for w in line.split())

    exam, key = words(seed42 / "exam.pdf"), words(seed42 / "key.pdf")
    missing = {w: n - key[w] for w, n in exam.items() if key[w] < n}
    assert missing == {}
