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
