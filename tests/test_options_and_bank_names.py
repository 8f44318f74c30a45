"""Boolean options take YAML booleans in every family (`bias: no` is false, as YAML
reads it), and `--bank NAME` always finds a bank file, never a folder of that name."""

import pytest
import yaml
from click.testing import CliRunner

from generator.bank import BANK_DIR, bank_note, find_bank
from generator.cli import cli
from generator.errors import BankError, OptionError
from generator.family import load_families
from generator.variants import make_problem


def _boolean_options():
    """(family, option) for every option that takes true and false (perhaps among words)."""
    found = []
    for family_id, family in sorted(load_families().items()):
        for name, option in family.options.items():
            try:
                option.validate(True)
            except (TypeError, ValueError):
                continue
            found.append((family_id, name))
    return found


BOOLEAN_OPTIONS = _boolean_options()


def test_the_known_boolean_options_are_found():
    assert {("conv_params", "bias"), ("resblock_params", "bias"), ("rnn_params", "bias"),
            ("rnn_params", "bidirectional"), ("sgd_step", "momentum")} <= set(BOOLEAN_OPTIONS)


@pytest.mark.parametrize("family_id, option", BOOLEAN_OPTIONS)
@pytest.mark.parametrize("written", ["true", "false", "yes", "no", "on", "off", "'No'", "'TRUE'"])
def test_yaml_booleans_work_for_every_boolean_option(family_id, option, written):
    value = yaml.safe_load(f"{{{option}: {written}}}")[option]
    family = load_families()[family_id]
    resolved = family.resolve_options({option: value})[option]
    truth = written.strip("'").lower() in ("true", "yes", "on")
    # the family's own word for true and false ("yes"/"no" for conv_params), the same for every spelling
    assert resolved == family.resolve_options({option: truth})[option]
    assert resolved == family.options[option].validate(truth)
    make_problem(family_id, 3, {option: value})


def test_conv_params_bias_false_and_no_draw_layers_without_bias():
    for written in ("{bias: false}", "{bias: no}", "{bias: 'no'}"):
        problem = make_problem("conv_params", 5, yaml.safe_load(written))
        assert problem.params["bias"] is False
        assert problem.options["bias"] == "no"  # as before: the contract's options are unchanged
    assert make_problem("conv_params", 5, {"bias": "either"}).options["bias"] == "either"
    assert make_problem("conv_params", 5, {"bias": "any"}).options["bias"] == "either"  # the same word


def test_a_wrong_value_names_the_choices_and_says_booleans_work():
    with pytest.raises(OptionError) as caught:
        make_problem("conv_params", 1, {"bias": "maybe"})
    text = str(caught.value)
    assert "choose one of true, false, 'either'" in text and "yes/no" in caught.value.hint
    with pytest.raises(OptionError) as caught:
        make_problem("sgd_step", 1, {"momentum": 2})
    assert "yes/no" in caught.value.hint


def test_a_bank_with_bias_no_makes_an_exam(tmp_path):
    bank = tmp_path / "b.yaml"
    bank.write_text("title: t\nproblems:\n  - family: conv_params\n    options: {bias: no}\n"
                    "  - family: resblock_params\n    options: {bias: no}\n")
    result = CliRunner().invoke(cli, ["exam", "--bank", str(bank), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output


# --- --bank NAME -------------------------------------------------------------------


def test_an_output_folder_named_like_a_bank_does_not_hide_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "midterm").mkdir()  # gen exam --out midterm made it
    (tmp_path / "midterm" / "answers.json").write_text("{}")
    assert find_bank("midterm") == BANK_DIR / "midterm.yaml"
    (tmp_path / "banks").mkdir()
    (tmp_path / "banks" / "midterm.yaml").write_text("title: mine\nproblems: [{family: sgd_step}]\n")
    assert find_bank("midterm").resolve() == (tmp_path / "banks" / "midterm.yaml").resolve()


def test_a_course_folder_here_is_a_bank(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "course2").mkdir()
    (tmp_path / "course2" / "bank.yaml").write_text("title: c\nproblems: [{family: sgd_step}]\n")
    assert find_bank("course2").resolve() == (tmp_path / "course2" / "bank.yaml").resolve()


def test_a_folder_without_a_bank_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    with pytest.raises(BankError, match="no bank named 'notes'; 'notes' here is a folder without a bank.yaml"):
        find_bank("notes")
    result = CliRunner().invoke(cli, ["exam", "--bank", "./notes", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "has no bank.yaml" in result.output


def test_a_bank_file_here_that_a_name_does_not_read_is_noted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bank_note("midterm") is None
    (tmp_path / "midterm.yaml").write_text("title: mine\nproblems: [{family: sgd_step}]\n")
    note = bank_note("midterm")
    assert note and "not midterm.yaml in this folder" in note and "--bank ./midterm.yaml" in note
