"""Answers that are not plain numbers or lists: masked entries (JSON null, a causal
attention score that does not exist) and values by name (a graph's input gradients) are
read from what students write, graded within the tolerance, and shown in text."""

import re
from fractions import Fraction

import pytest
from click.testing import CliRunner

from generator.choice import option_text
from generator.cli import cli
from generator.grade import matches
from generator.responses import parse_value
from generator.tolerance import Tolerance

TOL = Tolerance("abs", Fraction(1, 1000))
SCORES = [["1/2", None], ["1", "3/2"]]
GRADS = {"x": "-3", "y": "1/2"}


@pytest.mark.parametrize("masked", ["masked", "-inf", "−∞", "null", "-"])
def test_a_masked_entry_is_read_and_matches_only_a_masked_entry(masked):
    given = parse_value(f"[[0.5, {masked}], [1, 1.5]]", SCORES)
    assert given[0][1] is None and matches(given, SCORES, TOL)
    assert not matches(parse_value("[[0.5, 0], [1, 1.5]]", SCORES), SCORES, TOL)


@pytest.mark.parametrize("written", ["x: -3, y: 0.5", "{x: -3, y: 1/2}", "y = 0.5; x = -3.0004"])
def test_values_by_name_are_read_and_graded_by_name(written):
    assert matches(parse_value(written, GRADS), GRADS, TOL)


def test_a_wrong_named_value_is_wrong():
    assert not matches(parse_value("x: -3, y: 0.6", GRADS), GRADS, TOL)


@pytest.mark.parametrize(("written", "says"), [("x: 1", "no value for y"), ("x: 1, z: 2", "'z' is not one of"),
                                               ("oops", "has no name")])
def test_unreadable_named_values_say_why(written, says):
    with pytest.raises(ValueError, match=says):
        parse_value(written, GRADS)


def test_options_show_masked_entries_and_names():
    assert option_text(SCORES) == "[[0.5, masked], [1, 1.5]]"
    assert option_text(GRADS) == "x: -3, y: 0.5"


def test_the_text_view_of_a_causal_attention_problem_shows_its_masked_scores():
    for seed in range(40):
        result = CliRunner().invoke(cli, ["problem", "attention_by_hand", "--seed", str(seed),
                                          "--options", "{causal: true}"])
        assert result.exit_code == 0, result.output
        assert "masked" in result.output


def test_exports_ask_no_masked_entry_and_name_each_value(tmp_path):
    bank = tmp_path / "bank.yaml"
    bank.write_text("title: T\nproblems:\n  - family: attention_by_hand\n    points: 6\n    options: {causal: true}\n"
                    "  - family: computational_graph\n    points: 6\n")
    result = CliRunner().invoke(cli, ["export", "--format", "moodle", "--bank", str(bank), "--variants", "2",
                                      "--out", str(tmp_path / "quiz.xml")])
    assert result.exit_code == 0, result.output
    xml = (tmp_path / "quiz.xml").read_text()
    assert "None" not in xml
    # Moodle's marks are whole numbers, so with 6 points not every input's box is asked
    assert re.search(r"with respect to every input, [a-z]&lt;", xml)
