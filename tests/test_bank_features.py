"""Bank features: pinned parameters, `one_of` alternatives per slot, shuffled order."""

import json
import subprocess

from click.testing import CliRunner

from generator.bank import parse_bank
from generator.cli import cli
from generator.variants import draw_exam


def _gen(*args):
    result = CliRunner().invoke(cli, list(map(str, args)))
    assert "Traceback" not in result.output
    return result


def _bank(tmp_path, text):
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_pinned_values_reach_answers_and_pdf(tmp_path):
    bank = _bank(tmp_path, "title: Pins\nproblems:\n  - family: sgd_step\n"
                           "    params: {lr: \"1/20\", weight_decay: 0.02, w: \"0.80\", grad: \"3/10\"}\n")
    result = _gen("exam", "--bank", bank, "--seed", 5, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    problem = json.loads((tmp_path / "out" / "answers.json").read_text())["problems"][0]
    assert problem["params"] == {"lr": "1/20", "weight_decay": "1/50", "w": "4/5", "grad": "3/10"}
    assert problem["answers"]["w_decay"] == "3921/5000"  # sheet 000 Q2: 0.7842
    key = subprocess.run(["pdftotext", str(tmp_path / "out" / "key.pdf"), "-"], capture_output=True, text=True).stdout
    assert "0.7842" in key and "0.05" in key


def test_partly_pinned_problem_draws_the_rest(tmp_path):
    bank = _bank(tmp_path, "title: Pins\nproblems:\n  - family: sgd_step\n    params: {w: \"4/5\"}\n")
    values = set()
    for seed in range(5):
        result = _gen("exam", "--bank", bank, "--seed", seed, "--out", tmp_path / f"o{seed}")
        assert result.exit_code == 0, result.output
        params = json.loads((tmp_path / f"o{seed}" / "answers.json").read_text())["problems"][0]["params"]
        assert params["w"] == "4/5"
        values.add(params["grad"])
    assert len(values) > 1


def test_impossible_pins_are_rejected_by_name(tmp_path):
    bank = _bank(tmp_path, "title: Pins\nproblems:\n  - family: sgd_step\n    params: {w: 0}\n")
    result = _gen("exam", "--bank", bank, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "pinned parameter(s) w" in result.output and "weight decay changes nothing" in result.output


def test_pins_outside_the_domain_are_rejected_by_name(tmp_path):
    """A negative learning rate used to be accepted (the key then said c = 1.25, "shrinking")."""
    bank = _bank(tmp_path, "title: Pins\nproblems:\n  - family: sgd_step\n    params: {lr: \"-5\"}\n")
    result = _gen("exam", "--bank", bank, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "pinned parameter(s) lr" in result.output and "lr must be between 0 and 1" in result.output
    assert not (tmp_path / "out" / "key.pdf").exists()


def test_unknown_or_ill_typed_pins(tmp_path):
    bank = _bank(tmp_path, "title: Pins\nproblems:\n  - family: sgd_step\n    params: {eta: 1}\n")
    result = _gen("exam", "--bank", bank, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "no parameter 'eta'" in result.output and "lr" in result.output
    bank = _bank(tmp_path, "title: Pins\nproblems:\n  - family: sgd_step\n    params: {lr: fast}\n")
    result = _gen("exam", "--bank", bank, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "pinned parameter 'lr'" in result.output


ONE_OF = {
    "title": "Alternatives",
    "problems": [
        {"points": 5, "one_of": [{"family": "sgd_step"}, {"family": "sgd_step", "options": {"momentum": True}},
                                 {"family": "conv_architecture"}]},
        {"family": "sgd_step", "points": 5},
    ],
}


def test_one_of_spreads_alternatives_and_is_stable_per_student():
    bank = parse_bank(ONE_OF, name="alt", where="test")
    seen = {}
    for i in range(40):
        student = {"id": f"s{i}", "name": f"S {i}"}
        first = draw_exam(bank, 7, student).problems[0]
        again = draw_exam(bank, 7, student).problems[0]
        assert (first.alternative, first.fingerprint) == (again.alternative, again.fingerprint)
        seen[first.alternative] = seen.get(first.alternative, 0) + 1
        assert first.contract()["alternative"] == first.alternative and first.points == 5
    assert set(seen) == {0, 1, 2}, seen


def test_shuffle_changes_order_per_student_but_keeps_slot_ids():
    data = {"title": "Shuffled", "shuffle": True,
            "problems": [{"family": f, "id": f"q-{f}"} for f in ("sgd_step", "conv_architecture", "focal_loss")]}
    bank = parse_bank(data, name="shuffled", where="test")
    orders = set()
    for i in range(20):
        exam = draw_exam(bank, 3, {"id": f"s{i}", "name": "x"})
        contract = exam.contract()["problems"]
        assert [p["number"] for p in contract] == [1, 2, 3]
        assert {p["slot"]: p["family"] for p in contract} == {
            "q-sgd_step": "sgd_step", "q-conv_architecture": "conv_architecture", "q-focal_loss": "focal_loss"}
        orders.add(tuple(p["slot"] for p in contract))
        # a slot's variant does not depend on where the shuffle put it
        unshuffled = draw_exam(parse_bank({**data, "shuffle": False}, name="shuffled", where="t"), 3,
                               {"id": f"s{i}", "name": "x"})
        assert {p.slot: p.fingerprint for p in exam.problems} == {p.slot: p.fingerprint for p in unshuffled.problems}
    assert len(orders) > 1
