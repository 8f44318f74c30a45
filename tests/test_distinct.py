"""`distinct: true`: within a class, no two students get the same variant of a problem
while its family has others to give; the roster order decides who keeps a variant."""

import csv
import json
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from generator.bank import load_bank
from generator.cli import cli
from generator.variants import draw_exam

BANK = Path(__file__).parent / "data" / "distinct.yaml"
IDS = [f"s{i:03d}" for i in range(8)]


def _first_variants(bank, ids, distinct):
    taken = {} if distinct else None
    return [draw_exam(bank, 2026, {"id": i, "name": "A"}, taken).problems[0].fingerprint for i in ids]


def test_distinct_gives_everyone_their_own_variant_where_independent_draws_repeat():
    bank = load_bank(str(BANK))
    independent = _first_variants(replace(bank, distinct=False), IDS, distinct=False)
    assert len(set(independent)) < len(IDS)  # the case distinct is for
    distinct = _first_variants(bank, IDS, distinct=True)
    assert len(set(distinct)) == len(IDS)
    assert distinct[0] == independent[0]  # the first student never needs to redraw
    # whoever's own draw no one above has keeps it
    for n, variant in enumerate(independent):
        if variant not in distinct[:n]:
            assert distinct[n] == variant


def test_with_too_few_variants_every_variant_is_used_before_any_repeats():
    bank = load_bank(str(BANK))
    variants = _first_variants(bank, [f"s{i:03d}" for i in range(13)], distinct=True)
    assert len(set(variants)) == 10 == len(set(variants[:10]))


def _roster(path, ids):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        writer.writerows([i, f"Student {i}"] for i in ids)
    return path


def _gen(*args):
    result = CliRunner().invoke(cli, ["exam", "--bank", str(BANK), "--seed", "2026", *map(str, args)])
    assert "Traceback" not in result.output
    return result


def _variant(out, student_id):
    return json.loads((out / student_id / "answers.json").read_text())["problems"][0]["fingerprint"]


def test_class_build_only_and_late_joiner(tmp_path):
    out = tmp_path / "out"
    result = _gen("--roster", _roster(tmp_path / "class.csv", IDS), "--out", out)
    assert result.exit_code == 0, result.output
    assert "drew the same variant" not in result.output
    assert len({_variant(out, i) for i in IDS}) == len(IDS)
    independent = _first_variants(replace(load_bank(str(BANK)), distinct=False), IDS, distinct=False)
    redrawn = next(i for n, i in enumerate(IDS) if _variant(out, i) != independent[n])

    # a make-up copy of a student who had to redraw is the copy the class got
    alone = tmp_path / "alone"
    result = _gen("--roster", tmp_path / "class.csv", "--out", alone, "--only", redrawn)
    assert result.exit_code == 0, result.output
    assert (alone / redrawn / "answers.json").read_bytes() == (out / redrawn / "answers.json").read_bytes()

    # a student added at the end changes no one above
    bigger = tmp_path / "bigger"
    result = _gen("--roster", _roster(tmp_path / "bigger.csv", [*IDS, "s999"]), "--out", bigger)
    assert result.exit_code == 0, result.output
    for i in IDS:
        assert (bigger / i / "answers.json").read_bytes() == (out / i / "answers.json").read_bytes()


def test_distinct_must_be_true_or_false(tmp_path):
    bank = tmp_path / "bank.yaml"
    bank.write_text(BANK.read_text().replace("distinct: true", "distinct: maybe"))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(bank), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "`distinct` must be true or false" in result.output
