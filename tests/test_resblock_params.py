from collections import Counter

import pytest
import torch
from family_suite import FamilySuite
from oracle import build, trainable_params
from torch.utils.flop_counter import FlopCounterMode

from generator.errors import InfeasibleError, OptionError
from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import distinct_slips, make_problem

FAMILY = "resblock_params"
SEEDS = range(200)


def _build(layers, device="meta"):
    """The design as torch.nn modules; on the meta device shapes and parameter counts
    are exact while the big convolutions cost nothing to run."""
    with torch.device(device):
        return build([dict(layer) for layer in layers]).eval()


def _conv_macs(module, feature_map, device="meta", full=False):
    """MACs of the convolutions on a zero input: FlopCounterMode counts 2 FLOPs
    (a multiply and an add) per MAC. BatchNorm and ReLU neither change the shape nor
    count, and on the meta device they are slow, so by default only the convs run."""
    x = torch.zeros(1, *feature_map, device=device)
    layers = [module] if full else [m for m in module if isinstance(m, torch.nn.Conv2d)]
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        for layer in layers:
            x = layer(x)
    assert list(x.shape[1:]) == list(feature_map), "the branch must keep the shape for the skip"
    flops = counter.get_flop_counts()["Global"]
    return sum(v for op, v in flops.items() if "convolution" in str(op)) // 2


def _oracle(params):
    answers = {}
    for label, layers in params["blocks"].items():
        module = _build(layers)
        answers[f"params_{label}"] = trainable_params(module)
        if "feature_maps" in params:
            answers[f"macs_{label}"] = _conv_macs(module, params["feature_maps"][label])
    counts = {label: answers[f"params_{label}"] for label in params["blocks"]}
    answers["fewer"] = min(counts, key=counts.get)
    return answers


class TestResblockParams(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "three_designs": {"designs": 3, "macs": False, "kernel_sizes": [3, 5, 7]},
                   "wide": {"designs": 3, "channels": [384, 512], "reduction": [8], "kernel_sizes": [7]}}
    pins = [
        ({"channels": -64}, "channels must be an integer from 2 to 1024"),
        ({"bottleneck_width": 1000}, "bottleneck_width must be an integer from 1 to"),
        ({"kernel_size": 4}, "kernel_size must be one of 3, 5, 7"),
        ({"order": "sideways"}, "order must be one of pre, post"),
    ]

    def oracle(self, contract: dict) -> None:
        assert contract["answers"] == _oracle(contract["params"])


def test_three_designs_ask_for_the_fewest_and_give_the_widths():
    """Issue #15: with designs: 3 the statement asked which design has "fewer" parameters and
    called designs of equal width "different widths"."""
    for seed in range(40):
        problem = make_problem(FAMILY, seed, {"designs": 3})
        statement = " ".join(render_problem(problem)["statement"].split())
        assert "has the fewest parameters" in statement and "has fewer parameters" not in statement
        assert "of different widths" not in statement
        widths = [problem.solution.work["designs"][i]["in_channels"] for i in range(3)]
        if len(set(widths)) > 1:
            assert (f"not all of the same width (design A: {widths[0]} channels, design B: {widths[1]} channels, "
                    f"design C: {widths[2]} channels)") in statement
    two = " ".join(render_problem(make_problem(FAMILY, 0))["statement"].split())
    assert "has fewer parameters" in two
    assert "Two residual blocks of different widths are compared (design A: 32 channels, design B: 128 channels)" in two


# --- the sheets' own numbers ------------------------------------------------------


def _conv(cin, cout, k, bias):
    return {"type": "Conv2d", "in_channels": cin, "out_channels": cout, "kernel_size": k,
            "padding": k // 2, "bias": bias}


def _bn(c):
    return {"type": "BatchNorm2d", "num_features": c}


RELU = {"type": "ReLU"}


def _pre(*convs):
    """BN-ReLU-Conv for each conv, BN on the conv's input channels (sheet 000)."""
    return [layer for conv in convs for layer in (_bn(conv["in_channels"]), RELU, conv)]


def _post(*convs):
    """Conv-BN(-ReLU) for each conv, BN on its output channels (sheet 002)."""
    layers = []
    for conv in convs:
        layers += [conv, _bn(conv["out_channels"]), RELU]
    return layers[:-1]


def test_sheet_000_q1():
    """BN-ReLU-Conv3x3 at 128 channels with biases = 147,840; the pre-activation
    bottleneck 128->32->32->128 with biases = 17,984."""
    params = {"blocks": {
        "A": _pre(_conv(128, 128, 3, True)),
        "B": _pre(_conv(128, 32, 1, True), _conv(32, 32, 3, True), _conv(32, 128, 1, True)),
    }}
    answers = get_family(FAMILY).solve(params).answers
    assert answers == {"params_A": 147840, "params_B": 17984, "fewer": "B"}
    assert _oracle(params) == answers


def test_sheet_002_q2():
    """No conv biases, BN after each conv: basic block of two 3x3 convs at 32 channels
    = 18,560, bottleneck 128->32->32->128 = 17,792; both on 16x16 maps."""
    params = {
        "blocks": {
            "A": _post(_conv(32, 32, 3, False), _conv(32, 32, 3, False)),
            "B": _post(_conv(128, 32, 1, False), _conv(32, 32, 3, False), _conv(32, 128, 1, False)),
        },
        "feature_maps": {"A": [32, 16, 16], "B": [128, 16, 16]},
    }
    answers = get_family(FAMILY).solve(params).answers
    assert answers["params_A"] == 18560 and answers["params_B"] == 17792 and answers["fewer"] == "B"
    assert answers["macs_A"] == 2 * 9 * 32 * 32 * 256 and answers["macs_B"] == (2 * 128 * 32 + 9 * 32 * 32) * 256
    # the whole branch on real zero tensors this time, to tie the meta-device oracle to a real run
    for label in "AB":
        module = _build(params["blocks"][label], "cpu")
        real = _conv_macs(module, params["feature_maps"][label], "cpu", full=True)
        assert real == answers[f"macs_{label}"]


# --- well-posedness -----------------------------------------------------------------


def _layer_order_ok(layers):
    """Pre-activation: every conv is preceded by BN(c_in), ReLU; original order: every
    conv is followed by BN(c_out)."""
    for i, layer in enumerate(layers):
        if layer["type"] != "Conv2d":
            continue
        if layers[0]["type"] == "BatchNorm2d":
            ok = layers[i - 2] == _bn(layer["in_channels"]) and layers[i - 1] == RELU
        else:
            ok = layers[i + 1] == _bn(layer["out_channels"])
        if not ok:
            return False
    return True


def test_well_posed_on_every_seed():
    seen = Counter()
    family = get_family(FAMILY)
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        p, a = problem.params, problem.solution.answers
        assert family.check(p, problem.solution) == []
        counts = [a[f"params_{label}"] for label in p["blocks"]]
        assert len(set(counts)) == len(counts)
        kinds = sorted(sum(layer["type"] == "Conv2d" for layer in layers) for layers in p["blocks"].values())
        assert 3 in kinds and len(set(kinds)) == len(kinds), "distinct designs, one of them a bottleneck"
        for layers in p["blocks"].values():
            assert _layer_order_ok(layers)
            convs = [layer for layer in layers if layer["type"] == "Conv2d"]
            assert all(c["bias"] == p["bias"] for c in convs)
            assert all(c["padding"] == (c["kernel_size"] - 1) // 2 for c in convs)
            assert max(c["kernel_size"] for c in convs) == p["kernel_size"]
        seen.update([("fewer", a["fewer"]), ("order", p["order"]), ("bias", p["bias"]),
                     ("width", p["plain_width"]), ("kernel", p["kernel_size"])])
    # every variety the defaults allow shows up, and the answer is not always one label
    for key in [("fewer", "A"), ("fewer", "B"), ("order", "pre"), ("order", "post"), ("bias", True),
                ("bias", False), ("width", "outer"), ("width", "inner"), ("kernel", 3), ("kernel", 5)]:
        assert seen[key] >= 10, key


def test_check_flags_broken_variants():
    family = get_family(FAMILY)
    # a basic block at 8 channels and a 32->8->8->32 bottleneck, 3x3, no bias: 1184 parameters each
    tie = {"blocks": {
        "A": _pre(_conv(8, 8, 3, False), _conv(8, 8, 3, False)),
        "B": _pre(_conv(32, 8, 1, False), _conv(8, 8, 3, False), _conv(8, 32, 1, False)),
    }, "channels": 32, "bottleneck_width": 8, "kernel_size": 3, "bias": False, "order": "pre", "plain_width": "inner"}
    assert family.check_params(tie) == []
    assert any("same parameter count" in v for v in family.check(tie, family.solve(tie)))
    # a branch that does not come back to the block's width (no identity skip) is no design of these parameters
    mismatch = tie | {"blocks": {"A": tie["blocks"]["A"], "B": [_bn(32), RELU, _conv(32, 8, 1, False)]}}
    assert any("design B is not a single, basic or bottleneck branch" in v for v in family.check_params(mismatch))


def test_options_that_force_a_tie_are_infeasible():
    # basic block at 8 channels and bottleneck 32->8->8->32, 3x3, no bias: 1184 each
    options = {"kinds": ["basic", "bottleneck"], "plain_width": "inner", "channels": [32], "reduction": [4],
               "kernel_sizes": [3], "bias": False}
    with pytest.raises(InfeasibleError, match="same parameter count"):
        make_problem(FAMILY, 0, options)
    options["bias"] = True  # with biases the tie breaks
    assert make_problem(FAMILY, 0, options).solution.answers["fewer"] in "AB"


def test_impossible_option_combinations():
    with pytest.raises(InfeasibleError, match="3 designs need 3 different kinds"):
        make_problem(FAMILY, 0, {"designs": 3, "kinds": ["single", "bottleneck"]})
    with pytest.raises(OptionError, match="bottleneck"):
        make_problem(FAMILY, 0, {"kinds": ["single", "basic"]})


def test_options_are_honoured():
    for seed in range(30):
        p = make_problem(FAMILY, seed, {"channels": [128], "reduction": [4], "kernel_sizes": [7], "order": "post",
                                        "bias": False, "plain_width": "outer", "sizes": [14]}).params
        assert (p["channels"], p["bottleneck_width"], p["kernel_size"], p["order"]) == (128, 32, 7, "post")
        assert all(fm == [128, 14, 14] for fm in p["feature_maps"].values())


# --- slips ----------------------------------------------------------------------------


def _slip_oracle(layers):
    """Each slip's value recomputed from the torch modules."""
    module = _build(layers)
    count = trainable_params(module)
    convs = [m for m in module if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in module if isinstance(m, torch.nn.BatchNorm2d)]
    bn = sum(p.numel() for m in bns for p in m.parameters())
    stats = sum(m.running_mean.numel() + m.running_var.numel() for m in bns)
    bias = sum(m.bias.numel() for m in convs if m.bias is not None)
    squared = sum(m.weight.numel() for m in convs)
    linear = sum(m.out_channels * m.in_channels * m.kernel_size[0] for m in convs)
    return {"no_bias": count - bias, "no_batchnorm": count - bn, "running_stats": count + stats,
            "k_not_squared": count - squared + linear}


SLIP_NAMES = ["no_bias", "no_batchnorm", "running_stats", "k_not_squared"]


def test_slips_differ_and_match_torch():
    """Biases forced on, so that every slip applies; each value is recomputed from the
    torch modules and must differ from the answer on at least 95% of the seeds."""
    family = get_family(FAMILY)
    differs, total = Counter(), Counter()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed, {"bias": True})
        answers, slips = problem.solution.answers, family.slips(problem.params, problem.solution)
        for label, layers in problem.params["blocks"].items():
            expected = _slip_oracle(layers)
            found = {s.name: s.value for s in slips if s.answer == f"params_{label}"}
            assert found == expected
            differs.update(name for name, value in found.items() if value != answers[f"params_{label}"])
            total.update(found.keys())
            _, h, w = problem.params["feature_maps"][label]
            (positions,) = [s for s in slips if s.answer == f"macs_{label}"]
            assert positions.name == "no_positions" and positions.value * h * w == answers[f"macs_{label}"]
            differs.update([positions.name] * (positions.value != answers[f"macs_{label}"]))
            total.update([positions.name])
    assert set(total) == {*SLIP_NAMES, "no_positions"}
    for name in total:
        assert differs[name] >= 0.95 * total[name], name


def test_slips_reach_the_contract():
    slips = distinct_slips(make_problem(FAMILY, 5, {"bias": True}))
    assert {s["name"] for s in slips["params_A"]} == {"no_bias", "no_batchnorm", "running_stats", "k_not_squared"}


def test_no_bias_slip_only_where_there_are_biases():
    """Leaving out biases that do not exist gives the answer itself: not offered as a slip."""
    for seed in range(40):
        problem = make_problem(FAMILY, seed, {"bias": False})
        names = {slip.name for slip in get_family(FAMILY).slips(problem.params, problem.solution)}
        assert "no_bias" not in names and "no_batchnorm" in names
