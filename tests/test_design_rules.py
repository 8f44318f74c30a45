"""conv_architecture's design answers graded by the statement's rules, not against the
key's network: any valid design is right, an invalid one is wrong with the rule it
breaks named, and the shapes, parameter count and receptive field are checked against
the network the student gave. Designs are typed in the notation of generator.designs."""

import csv
import json
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.designs import design_text, parse_design
from generator.family import get_family
from generator.numbers import to_json
from generator.shapes import receptive_field, shapes_through, total_params
from generator.variants import make_problem

FAMILY = get_family("conv_architecture")


def _problem(seed, options=None):
    problem = make_problem("conv_architecture", seed, options)
    return to_json(problem.params), to_json(problem.solution.answers)


def _other_design(params, key_layers):
    """A valid design other than the key's: a depth-first search over conv/pool sequences."""
    target_side, allowed = params["target"][1], params["kernel_sizes"]
    key = design_text(key_layers)

    def search(side, after_pool, tokens):
        if len(tokens) > 7:
            return None
        if side == target_side and tokens:
            convs = [t for t in tokens if t != "pool"]
            filters = [8] * (len(convs) - 1) + [params["target"][0]]
            items, i = [], 0
            for t in tokens:
                if t == "pool":
                    items.append("pool")
                else:
                    items.append(f"conv {t}x{t} {filters[i]}")
                    i += 1
            text = ", ".join(items)
            if text != key:
                return text
        for k in allowed:
            if k <= side:
                found = search(side - k + 1, False, [*tokens, k])
                if found:
                    return found
        if tokens and not after_pool and side >= 2 and (params["odd_pool"] or side % 2 == 0):
            return search(side // 2, True, [*tokens, "pool"])
        return None

    return search(params["input"][1], True, [])


def _grade(name, given, params):
    return FAMILY.grade_answer(name, given, params)


@pytest.mark.parametrize("seed", range(12))
def test_the_keys_design_and_another_valid_one_are_right(seed):
    params, key = _problem(seed)
    own = design_text(key["layers"])
    assert FAMILY.check_design(parse_design(own, params["input"][0]), params) == []
    assert _grade("layers", {"layers": own}, params).correct
    other = _other_design(params, key["layers"])
    assert other and other != own
    verdict = _grade("layers", {"layers": other}, params)
    assert verdict.correct, (other, verdict.reason)
    layers = parse_design(other, params["input"][0])
    given = {"layers": other, "total_params": Fraction(total_params(layers)),
             "shapes": shapes_through(layers, params["input"]), "receptive_field": receptive_field(layers)}
    for name in ("total_params", "shapes", "receptive_field"):
        assert _grade(name, given, params).correct, name
    if total_params(layers) != key["total_params"]:  # the key's count is wrong for this network
        wrong = _grade("total_params", {**given, "total_params": key["total_params"]}, params)
        assert not wrong.correct and wrong.expected == total_params(layers)
        assert wrong.slip or f"for the network you gave it is {total_params(layers)}" == wrong.reason


@pytest.mark.parametrize("seed", range(6))
def test_an_invalid_design_names_the_broken_rule(seed):
    params, key = _problem(seed)
    own = design_text(key["layers"])
    pools = own.replace("pool", "pool, pool", 1)
    assert "two pools in a row" in _grade("layers", {"layers": pools}, params).reason
    short = ", ".join(own.split(", ")[:-1]) or "pool"
    verdict = _grade("layers", {"layers": short}, params)
    assert not verdict.correct and ("misses the target" in verdict.reason or "first layer" in verdict.reason)
    items = own.split(", ")
    last = max(i for i, item in enumerate(items) if item.startswith("conv"))
    items[last] = items[last].rsplit(" ", 1)[0] + f" {params['target'][0] + 1}"
    verdict = _grade("layers", {"layers": ", ".join(items)}, params)
    assert not verdict.correct and f"the target has {params['target'][0]}" in verdict.reason


@pytest.mark.parametrize("design, says", [
    ("pool, conv 3x3 8", "the first layer must be a convolution"),
    ("conv 3x3 8 stride 2, pool", "layer 1: a convolution with stride 2; convolutions have stride 1"),
    ("conv 3x3 8 pad 1, pool", "layer 1: a convolution with padding 1; convolutions have no padding"),
    ("conv 3x3 8, pool 3x3", "layer 2: a 3x3 pool with stride 3; pools are 2x2 with stride 2"),
    ("conv 3x3 8, avg pool", "layer 2: an average pool; pools are max pools"),
    ("conv 9x9 8", "layer 1: a 9x9 convolution, but the kernels allowed are 3, 5"),
    ("conv 3x5 8", "layer 1: kernels are square (k x k), not 3x5"),
    ("conv 3x3 8, pool, pool", "layers 2 and 3 are two pools in a row"),
    ("conv 5x5 8, pool, conv 5x5 16, pool, conv 5x5 16", "layer 5: a 5x5 convolution does not fit the 4x4 map"),
    ("conv 3x3 8, pool, conv 3x3 16, pool", "the shape 16x5x5 misses the target 16x4x4"),
    ("conv 5x5 8, pool, conv 5x5 12, pool, conv 3x3 8", "the last convolution gives 8 channels, the target has 16"),
])
def test_each_rule_is_named(design, says):
    params = {"input": [3, 28, 28], "target": [16, 4, 4], "kernel_sizes": [3, 5], "odd_pool": True}
    if "channels" in says:
        params["target"] = [16, 2, 2]
    verdict = _grade("layers", {"layers": design}, params)
    assert not verdict.correct and says in verdict.reason, verdict.reason


def test_an_odd_side_is_refused_where_the_problem_says_so():
    params = {"input": [3, 28, 28], "target": [16, 12, 12], "kernel_sizes": [3, 4], "odd_pool": False}
    assert _grade("layers", {"layers": "conv 4x4 16, pool"}, params).reason.startswith(
        "layer 2: the pool receives an odd side (25)")
    assert _grade("layers", {"layers": "conv 3x3 8, pool, conv 2x2 16"}, params) is not None
    assert _grade("layers", {"layers": "conv 3x3 16, pool, conv 3x3 16, conv 3x3 16"}, {
        **params, "target": [16, 9, 9]}).correct


def test_a_design_not_in_the_notation_is_left_to_a_person():
    params, _ = _problem(1)
    assert _grade("layers", {"layers": "a VGG-like stack"}, params) is None
    assert _grade("total_params", {"layers": "a VGG-like stack", "total_params": Fraction(5)}, params) is None
    assert _grade("total_params", {"layers": None, "total_params": Fraction(5)}, params) is None


@pytest.mark.parametrize("text, expected", [
    ("conv 5x5 16, pool, conv 3x3 32, pool", "conv 5x5 16, pool, conv 3x3 32, pool"),
    ("Conv 3x3 to 8 channels -> max pool -> conv3x3 16 filters", "conv 3x3 8, pool, conv 3x3 16"),
    ("[conv 3 8; relu; maxpool; conv 5 16]", "conv 3x3 8, pool, conv 5x5 16"),
    ("conv 3x3 8 stride 2, pad 1\npool 2x2 stride 2", "conv 3x3 8 stride 2 padding 1, pool"),
])
def test_the_notation(text, expected):
    assert design_text(parse_design(text, 3)) == expected


@pytest.mark.parametrize("text", ["", "a resnet", "conv 3x3", "conv 3x3 16 maybe", "stride 2, conv 3x3 8"])
def test_what_is_not_the_notation_says_how_to_write_it(text):
    with pytest.raises(ValueError, match="conv|layer"):
        parse_design(text, 3)


def test_gen_grade_accepts_any_valid_design(tmp_path):
    """The key's design, another valid one, a pool after a pool and a shape that misses the
    target: right, right, wrong naming the rule, wrong naming the rule."""
    bank = {"title": "Designs", "problems": [{"family": "conv_architecture", "points": 8}]}
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(bank))
    (tmp_path / "class.csv").write_text("id,name\n" + "".join(f"s{i},S{i}\n" for i in range(4)))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--roster",
                                      str(tmp_path / "class.csv"), "--seed", "5", "--out", str(tmp_path / "c"),
                                      "--jobs", "1"])
    assert result.exit_code == 0, result.output
    rows, expected = [["id", "problem", "answer", "value"]], {}
    for i in range(4):
        problem = json.loads((tmp_path / "c" / f"s{i}" / "answers.json").read_text())["problems"][0]
        params, key = problem["params"], problem["answers"]
        own = design_text(key["layers"])
        design = [own, _other_design(params, key["layers"]), own.replace("pool", "pool, pool", 1),
                  ", ".join(own.split(", ")[:-1])][i]
        rows.append([f"s{i}", 1, "layers", design])
        layers = parse_design(design, params["input"][0])
        rows.append([f"s{i}", 1, "total_params", str(total_params(layers))])
        expected[f"s{i}"] = ["correct", "correct", "wrong", "wrong"][i]
    with open(tmp_path / "r.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "r.csv"), "--exams", str(tmp_path / "c"),
                                      "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "g" / "grades.csv", newline="") as handle:
        grades = {(r["student"], r["answer"]): r for r in csv.DictReader(handle)}
    for student, verdict in expected.items():
        assert grades[student, "layers"]["verdict"] == verdict, grades[student, "layers"]
        assert grades[student, "total_params"]["verdict"] == "correct"  # counted for the network they gave
    assert "two pools in a row" in grades["s2", "layers"]["note"]
    assert "misses the target" in grades["s3", "layers"]["note"] or "first layer" in grades["s3", "layers"]["note"]
    feedback = (tmp_path / "g" / "feedback" / "s2.txt").read_text()
    assert "is not right: layers" in feedback and "two pools in a row" in feedback
    assert "One network that works: [Conv2d(" in feedback
    with open(tmp_path / "g" / "summary.csv", newline="") as handle:
        summary = {r["student"]: r for r in csv.DictReader(handle)}
    assert summary["s0"]["status"] == "final" and Fraction(summary["s0"]["pending_points"]) == 0
