from click.testing import CliRunner

from generator.cli import cli
from generator.family import get_family


def test_check_reports_variants_and_spread():
    result = CliRunner().invoke(cli, ["check", "--seeds", "40"])
    assert result.exit_code == 0, result.output
    assert "problem 2 sgd_step: 40/40 drawn, ok" in result.output
    assert "distinct variants" in result.output and "median" in result.output
    assert "sample of every problem compiled" in result.output


def test_check_fails_loudly_when_an_invariant_breaks(monkeypatch, tmp_path):
    family = get_family("sgd_step")
    monkeypatch.setattr(type(family), "check", lambda self, params, solution: ["always broken"])
    bank = tmp_path / "b.yaml"
    bank.write_text("title: t\nproblems:\n  - family: sgd_step\n")
    result = CliRunner().invoke(cli, ["check", "--bank", str(bank), "--seeds", "5"])
    assert result.exit_code == 1
    assert "5 FAILED" in result.output and "always broken" in result.output


# sgd_step pinned to one variant: w_plain = 0.48, w_decay = 0.4795 (the decay moves the
# weight by 1/2000 only); `tolerance` below accepts either for the other.
PINNED = ("  - family: sgd_step\n"
          "    params: {w: '0.5', grad: '0.2', lr: '0.1', weight_decay: '0.01'}\n")


def _check(tmp_path, bank_text, *args):
    bank = tmp_path / "b.yaml"
    bank.write_text("title: t\nproblems:\n" + bank_text)
    return CliRunner().invoke(cli, ["check", "--bank", str(bank), *args])


def test_a_slip_within_the_tolerance_of_a_pinned_variant_fails_the_check(tmp_path):
    result = _check(tmp_path, PINNED + "    tolerance: {w_decay: {abs: 0.001}}\n", "--seeds", "3")
    assert result.exit_code == 1, result.output
    assert "problem 1 sgd_step: 3/3 drawn, ok, 1 distinct variants, 9 NOT GRADABLE" in result.output
    assert ("the slip w_decay:decay_sign gives 0.4805, which is graded right: the answer is 0.4795 (accepted "
            "within 0.001)") in result.output
    assert ("w_plain = 0.48 is graded right as w_decay = 0.4795 (accepted within 0.001), and the problem contrasts "
            "the two") in result.output
    assert "NOT GRADABLE: 9 finding(s) in problem(s) 1" in result.output


def test_answers_the_problem_contrasts_must_not_be_graded_as_each_other(tmp_path):
    result = _check(tmp_path, PINNED + "    tolerance: {w_plain: {abs: 0.001}}\n", "--seeds", "2")
    assert result.exit_code == 1, result.output
    assert ("w_decay = 0.4795 is graded right as w_plain = 0.48 (accepted within 0.001), and the problem contrasts "
            "the two") in result.output


def test_the_same_pinned_variant_with_its_own_tolerances_is_gradable(tmp_path):
    result = _check(tmp_path, PINNED, "--seeds", "2")
    assert result.exit_code == 0, result.output
    assert "1 distinct variants, gradable" in result.output and "NOT GRADABLE" not in result.output


def test_a_class_larger_than_a_problems_variants_is_warned_about(tmp_path):
    yolo = "  - family: yolo_output\n    options: {grid_sizes: [7], boxes: [2, 3], classes: [20]}\n"
    result = _check(tmp_path, PINNED + yolo, "--seeds", "20", "--class", "3")
    assert result.exit_code == 0, result.output
    assert ("warning: problem 1 sgd_step: 1 distinct variants in 29 draws, fewer than the 3 students of the class"
            in result.output)
    assert "problem 2 yolo_output: 2 distinct variants in 29 draws" in result.output
    # drawn variants that merely repeat by chance are drawn further, not reported
    assert "problem" not in _check(tmp_path, "  - family: sgd_step\n", "--seeds", "20", "--class", "20").stderr


def test_a_roster_larger_than_a_problems_variants_is_warned_about(tmp_path):
    bank = tmp_path / "b.yaml"
    bank.write_text("title: t\nproblems:\n" + PINNED + "  - family: conv_params\n")
    roster = tmp_path / "class.csv"
    roster.write_text("id,name\n" + "".join(f"s{i},Student {i}\n" for i in range(3)))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(bank), "--roster", str(roster), "--out",
                                      str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "warning: problem 1 sgd_step: 1 distinct variants in 12 draws, fewer than the 3 students" in result.output
    assert "problem 2" not in result.output.split("warning:", 1)[1]
