"""Multiple choice whose distractors are slips: options, their distinctness after
rounding, the seeded order, the errors when slips are too few, near-miss filling, and
how the exam, the key and answers.json show them."""

import json
import subprocess
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from generator.bank import ChoiceSpec, parse_bank
from generator.choice import ask_as_choice, option_text
from generator.cli import cli
from generator.errors import GenError
from generator.family import PLUGINS, get_family, load_families
from generator.glyphs import unprintable
from generator.variants import draw_exam, make_problem, problem_for

SEEDS = range(60)


def _bank(*problems, title="Choice test"):
    return parse_bank({"title": title, "problems": list(problems)}, name="choice-test", where="test")


def _choice(seed, **entry):
    bank = _bank({"family": "sgd_step", "format": "choice", **entry})
    return problem_for(bank.slots[0].choices[0], seed)


def test_options_are_the_answer_and_the_slips_named():
    for seed in SEEDS:
        problem = _choice(seed, answer="w_decay")
        contract = problem.contract()
        choice = contract["choice"]
        assert choice["answer"] == "w_decay"
        assert [o["letter"] for o in choice["options"]] == ["A", "B", "C", "D"]
        correct = [o for o in choice["options"] if o["kind"] == "answer"]
        assert len(correct) == 1 and correct[0]["letter"] == choice["correct"]
        assert correct[0]["value"] == contract["answers"]["w_decay"]
        slips = {s["name"]: s for s in contract["slips"]["w_decay"]}
        for option in choice["options"]:
            if option["kind"] == "slip":
                assert option["value"] == slips[option["slip"]]["value"]
                assert option["says"] == slips[option["slip"]]["says"]
        texts = [o["text"] for o in choice["options"]]
        assert len(set(texts)) == len(texts)


def test_order_is_seeded_and_varies():
    letters = {_choice(seed, answer="w_decay").choice.correct for seed in SEEDS}
    assert letters == {"A", "B", "C", "D"}
    assert _choice(7, answer="w_decay").contract() == _choice(7, answer="w_decay").contract()


def test_options_never_print_the_same():
    # 3333/10000 prints as 0.3333, exactly like 1/3 rounded to four decimals: it must go
    slips = {"x": [{"name": "same_print", "says": "s", "value": "3333/10000"},
                   {"name": "other", "says": "o", "value": "1/2"}]}
    choice = ask_as_choice("demo", {"x": "1/3"}, slips, 1, ChoiceSpec(count=2))
    assert sorted(o.text for o in choice.options) == ["0.3333", "0.5"]
    assert option_text([["1/3", 2], ["5/2", "B"]]) == "[[0.3333, 2], [2.5, B]]"
    with pytest.raises(GenError, match="distinct slip values per answer are x: 1"):
        ask_as_choice("demo", {"x": "1/3"}, slips, 1, ChoiceSpec(count=3))


def test_default_answer_is_the_first_with_enough_slips():
    problem = _choice(3, choices=4)
    assert problem.choice.answer == "w_decay"  # w_plain (first) has only one slip


def test_too_few_slips_names_family_and_counts():
    bank = _bank({"family": "conv_params", "format": "choice", "choices": 8})
    with pytest.raises(GenError) as caught:
        draw_exam(bank, 1)
    message = str(caught.value)
    assert "conv_params" in message and "8-option" in message and "needs 7 distractors" in message
    assert "params:" in message and "near_miss" in message
    assert "problem 1" in message  # where in the bank


def test_near_misses_fill_up():
    for seed in SEEDS:
        problem = _choice(seed, choices=8, answer="w_plain", fill="near_miss")
        options = problem.choice.options
        assert len(options) == 8 and len({o.text for o in options}) == 8
        kinds = [o.kind for o in options]
        assert kinds.count("answer") == 1 and "near_miss" in kinds and "slip" in kinds
        correct = Fraction(problem.contract()["answers"]["w_plain"])
        assert all(Fraction(o.value) != correct for o in options if o.kind != "answer")


def test_unknown_answer_lists_the_answers():
    with pytest.raises(GenError, match="(?s)no answer 'w'.*w_plain, w_decay, shrink_factor"):
        _choice(1, answer="w")


@pytest.mark.parametrize("entry, message", [
    ({"format": "choice", "choices": 1}, "`choices` is the number of options, 2 to 8"),
    ({"format": "choice", "choices": 9}, "2 to 8"),
    ({"format": "choice", "fill": "random"}, "`fill` can only be `near_miss`"),
    ({"format": "multiple"}, "`format` is `open` or `choice`"),
    ({"choices": 4}, "`choices` need `format: choice`"),
    ({"format": "choice", "answer": 3}, "`answer` names one answer"),
])
def test_bank_errors(entry, message):
    with pytest.raises(GenError, match=message):
        _bank({"family": "sgd_step", **entry})


def test_check_reports_seeds_without_enough_slips():
    from generator.check import check_bank

    report = check_bank(_bank({"family": "resblock_params", "format": "choice", "choices": 5}), 40,
                        compile_sample=False)
    assert not report.ok and any("too few distinct slips" in f for f in report.slots[0].failures)


def test_exam_and_key_show_the_options(tmp_path):
    bank = tmp_path / "bank.yaml"
    bank.write_text(yaml.safe_dump({"title": "Choice", "problems": [
        {"family": "sgd_step", "format": "choice", "answer": "w_decay"},
        {"family": "pool_backprop", "format": "choice", "choices": 3, "fill": "near_miss"},
    ]}))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(bank), "--seed", "4", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    contract = json.loads((tmp_path / "out" / "answers.json").read_text())
    choices = [p["choice"] for p in contract["problems"]]
    exam, key = (subprocess.run(["pdftotext", str(tmp_path / "out" / f"{name}.pdf"), "-"], capture_output=True,
                                text=True, check=True).stdout for name in ("exam", "key"))
    flat_exam, flat_key = (" ".join(text.split()) for text in (exam, key))
    for problem in contract["problems"]:
        label = problem["labels"][problem["choice"]["answer"]]
        # said before the parts, and again as the title of the options
        assert f"Multiple choice: {label} is answered by marking one option" in flat_exam
        assert f"Multiple choice for {label}. Mark the one right option; it is your answer to the part" in flat_exam
        assert f"Multiple choice for {label}. The options:" in flat_key
    assert "w_decay" not in flat_exam and "w\\_decay" not in flat_exam  # never the internal name
    first = choices[0]
    for option in first["options"]:
        assert f"{option['letter']}. {option['text']}" in flat_exam
    assert f"Correct: {first['correct']}." in flat_key
    assert "Correct:" not in exam
    for option in first["options"]:
        if option["kind"] == "slip":
            assert option["says"].split(" (")[0] in flat_key


# Option sets that bring out answers the defaults leave out.
EXTRA_OPTIONS = {"resblock_params": {"designs": 3}, "sgd_step": {"momentum": True}}


def _answer_names(family):
    names = {}
    for options in ({}, EXTRA_OPTIONS.get(family.id, {})):
        for seed in range(12):
            names |= dict.fromkeys(make_problem(family.id, seed, options).solution.answers)
    return list(names)


@pytest.mark.parametrize("family_id", sorted(n for n, f in load_families().items() if n not in PLUGINS))
def test_every_answer_has_a_label_students_can_read(family_id):
    family = get_family(family_id)
    names = _answer_names(family)
    labels = [family.answer_label(name) for name in names]
    assert all(name in family.answer_labels for name in names), set(names) - set(family.answer_labels)
    assert len(set(labels)) == len(labels)  # two answers never read the same
    for label in labels:
        assert label.startswith("the ") or label.startswith("how "), label  # a noun phrase that fits "Give ..."
        assert not unprintable(label) and "_" not in label, label  # the PDF fonts print it as is


def test_a_label_falls_back_to_words():
    assert get_family("sgd_step").answer_label("w_decay") == "the weight after one step with weight decay"
    assert get_family("sgd_step").answer_label("some_new_answer") == "some new answer"
