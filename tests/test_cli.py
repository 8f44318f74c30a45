"""The command line as a user meets it: commands, outputs, and clear errors (exit 2,
no traceback) for bad input."""

import json

import pytest
from click.testing import CliRunner

from generator.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_list_shows_every_family_with_a_line():
    code, out = run("list")
    assert code == 0
    assert "sgd_step" in out
    assert all(len(line.split(None, 1)) == 2 for line in out.strip().splitlines())


def test_problem_json_is_one_contract_object():
    code, out = run("problem", "sgd_step", "--seed", "7", "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["family"] == "sgd_step" and obj["seed"] == 7
    assert set(obj["params"]) >= {"lr", "weight_decay", "w", "grad"}
    assert set(obj["answers"]) >= {"w_plain", "w_decay"}
    assert "float" not in json.dumps(obj)
    assert not any(isinstance(v, float) for v in obj["answers"].values())


def test_problem_text_and_tex():
    code, out = run("problem", "sgd_step", "--seed", "7")
    assert code == 0 and "w_decay" in out
    code, out = run("problem", "sgd_step", "--seed", "7", "--tex")
    assert code == 0 and r"\result{" in out


def test_every_command_has_help():
    for command in ("list", "problem", "exam"):
        code, out = run(command, "--help")
        assert code == 0 and "Usage" in out


def _bank(tmp_path, text: str) -> str:
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("bank", "expected"),
    [
        ("title: x\nproblems: [\n  - family: sgd_step\n", "bank.yaml:3:"),
        ("title: x\nproblems:\n  - family: sgd_stpe\n", "did you mean sgd_step"),
        ("title: x\nproblems:\n  - family: sgd_step\n    options: {colour: red}\n", "allowed options"),
        ("title: x\nproblems:\n  - family: sgd_step\n    options: {places: 9}\n", "between 1 and 2"),
        ("title: x\nproblems:\n  - family: sgd_step\n    options: {places: two}\n", "expected an integer"),
        ("title: x\nproblems:\n  - family: sgd_step\n    points: -3\n", "points must be positive"),
        ("title: x\nproblems:\n  - family: sgd_step\n    points: lots\n", "positive number"),
        ("title: x\nproblems: []\n", "non-empty list"),
        ("problems:\n  - family: sgd_step\n", "`title` is required"),
        ("- just\n- a list\n", "a bank is a mapping"),
        ("title: x\nproblems:\n  - family: sgd_step\n    option: {momentum: true}\n", "did you mean `options`"),
        ("title: x\nshufle: true\nproblems:\n  - family: sgd_step\n", "did you mean `shuffle`"),
        # options under which no well-posed problem exists, found by a bounded search
        ("title: x\nproblems:\n  - family: conv_architecture\n    options: {kernel_sizes: [1], input: [3, 32, 32],"
         " target: [64, 5, 5]}\n", "bank.yaml: problem 1: no stack of at most 6 convolutions"),
        ("title: x\nproblems:\n  - family: resblock_params\n    options: {channels: [32], reduction: [4], "
         "kernel_sizes: [3], bias: false, kinds: [basic, bottleneck], plain_width: inner}\n",
         "the same parameter count"),
    ],
)
def test_bad_bank_is_a_clear_error(tmp_path, bank, expected):
    code, out = run("exam", "--bank", _bank(tmp_path, bank), "--out", str(tmp_path / "out"))
    assert code == 2
    assert expected in out
    assert not (tmp_path / "out").exists()


def test_unknown_bank_name_lists_the_known_ones(tmp_path):
    code, out = run("exam", "--bank", "no-such-bank", "--out", str(tmp_path))
    assert code == 2 and "known banks" in out and "default" in out


@pytest.mark.parametrize("seed", ["-1", "abc", "1.5"])
def test_bad_seed(tmp_path, seed):
    code, out = run("exam", "--seed", seed, "--out", str(tmp_path))
    assert code == 2 and "--seed" in out


def test_out_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    code, out = run("exam", "--out", str(tmp_path / "taken"))
    assert code == 2 and "is a file" in out


def test_out_cannot_be_created(tmp_path):
    (tmp_path / "taken").write_text("x")
    code, out = run("exam", "--out", str(tmp_path / "taken" / "sub"))
    assert code == 2 and "cannot create output folder" in out


def test_unknown_family_and_bad_options_for_problem():
    code, out = run("problem", "sgd", "--seed", "1")
    assert code == 2 and "did you mean sgd_step" in out
    code, out = run("problem", "sgd_step", "--seed", "1", "--options", "{places: [")
    assert code == 2 and "not valid YAML" in out


def test_new_family_into_an_impossible_folder(tmp_path):
    (tmp_path / "afile").write_text("x")
    code, out = run("new-family", "foo", "--out", str(tmp_path / "afile" / "foo"))
    assert code == 2 and "cannot create output folder" in out
