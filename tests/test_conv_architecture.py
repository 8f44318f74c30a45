"""conv_architecture against PyTorch: the designed stack is built with torch.nn, run on a
zero tensor and its shapes, parameter count and receptive field (autograd) compared
with the key; the layer count is checked minimal by an independent search over sides."""

import pytest
import torch
from family_suite import FamilySuite
from oracle import build, trainable_params

from generator.errors import InfeasibleError, OptionError
from generator.families.conv_architecture import INPUT_CHANNELS, INPUT_SIDES, TARGET_CHANNELS
from generator.family import Solution, get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

FAMILY = "conv_architecture"
SEEDS = range(200)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The nets are tiny; on a shared 2-core machine extra threads only spin and wait."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def problems():
    return [make_problem(FAMILY, seed) for seed in SEEDS]


def _shapes(net: torch.nn.Sequential, input_shape: list[int], device: str = "cpu") -> list[list[int]]:
    """[C, H, W] after every module, from a forward pass on zeros (on the meta device
    only the shapes are computed, which is all the slips' checks need)."""
    net, x, shapes = net.to(device), torch.zeros(1, *input_shape, device=device), []
    with torch.no_grad():
        for module in net:
            x = module(x)
            shapes.append(list(x.shape[1:]))
    return shapes


def _field(layers: list[dict], input_shape: list[int], pool: dict | None = None) -> int:
    """Receptive field by autograd: weights one, biases zero, each max pool replaced by an
    average pool (by default of the same geometry) so every input in a window gets gradient;
    the side of the nonzero gradient of the centre output unit. The field depends on the
    geometry only, so every conv gets one channel in and out (fast)."""
    swapped = [dict(pool or {"type": "AvgPool2d", "kernel_size": 2, "stride": 2}) if layer["type"] == "MaxPool2d"
               else layer | {"in_channels": 1, "out_channels": 1} for layer in layers]
    input_shape = [1, *input_shape[1:]]
    net = build(swapped)
    for module in net:
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.ones_(module.weight)
            torch.nn.init.zeros_(module.bias)
    x = torch.ones(1, *input_shape, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad[0].abs().sum(dim=(0, 2))).flatten()
    cols = torch.nonzero(x.grad[0].abs().sum(dim=(0, 1))).flatten()
    assert len(rows) == rows[-1] - rows[0] + 1, "the field should be one contiguous window"
    assert rows[-1] - rows[0] == cols[-1] - cols[0]
    return int(rows[-1] - rows[0] + 1)


def _fewest_layers(side: int, target: int, kernels: list[int], odd_pool: bool, max_convs: int = 6) -> int | None:
    """Breadth-first over (side, last layer was a pool, convs used): the fewest layers
    of any allowed stack from side to target."""
    frontier, depth, seen = {(side, True, 0)}, 0, set()
    while frontier:
        if any(s == target and convs > 0 for s, _, convs in frontier):
            return depth
        seen |= frontier
        step = set()
        for s, pooled, convs in frontier:
            if convs < max_convs:
                step |= {(s - k + 1, False, convs + 1) for k in kernels if k <= s}
            if not pooled and s >= 2 and (odd_pool or s % 2 == 0):
                step.add((s // 2, True, convs))
        frontier, depth = step - seen, depth + 1
    return None


def _assert_valid(params: dict, layers: list[dict], device: str = "cpu") -> torch.nn.Sequential:
    """The rules of the statement, read from the torch modules."""
    with torch.device(device):
        net = build(layers)
    assert isinstance(net[0], torch.nn.Conv2d)
    for before, module in zip(net, net[1:], strict=False):
        assert not (isinstance(before, torch.nn.MaxPool2d) and isinstance(module, torch.nn.MaxPool2d))
    side = params["input"][1]
    for module, shape in zip(net, _shapes(net, params["input"], device), strict=True):
        if isinstance(module, torch.nn.Conv2d):
            assert module.stride == (1, 1) and module.padding == (0, 0) and module.dilation == (1, 1)
            assert module.kernel_size[0] in params["kernel_sizes"] and module.bias is not None
        else:
            assert isinstance(module, torch.nn.MaxPool2d) and module.kernel_size == 2 and module.stride == 2
            assert params["odd_pool"] or side % 2 == 0
        side = shape[1]
    return net


def _check_design(p: dict, a: dict, device: str = "cpu") -> None:
    """The key's design against torch: valid, reaches the target, and its counts and field
    are torch's; no allowed stack is shorter. On the meta device only shapes and counts
    are computed (for any channel counts the options allow)."""
    net = _assert_valid(p, a["layers"], device)
    shapes = _shapes(net, p["input"], device)
    assert shapes == a["shapes"]
    assert shapes[-1] == p["target"]
    assert trainable_params(net) == a["total_params"]
    assert _field(a["layers"], p["input"]) == a["receptive_field"]
    assert len(a["layers"]) == _fewest_layers(p["input"][1], p["target"][1], p["kernel_sizes"], p["odd_pool"])


class TestConvArchitecture(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "even_sides": {"odd_pool": False},
                   "fixed_target": {"target": [64, 4, 4], "kernel_sizes": [3, 5, 7]}}
    pins = [
        ({"input": [3, 32, 30]}, "input: only square maps"),
        ({"kernel_sizes": [0, 3]}, "kernel_sizes: [0] not allowed"),
        ({"target": [0, 4, 4]}, "target: need 1 <= C <= 512"),
    ]

    def oracle(self, contract: dict) -> None:
        """On the meta device: the options allow channel counts too large to run for real."""
        _check_design(contract["params"], contract["answers"], "meta")


def test_sheet_004_q3_design():
    """Sheet 004 Q3: 3x32x32 to 64 maps of 4x4 with 3x3, 5x5 or 7x7 kernels, stride 1, no padding."""
    params = {"input": [3, 32, 32], "target": [64, 4, 4], "kernel_sizes": [3, 5, 7], "odd_pool": True}
    a = get_family(FAMILY).solve(params).answers
    net = _assert_valid(params, a["layers"])
    assert _shapes(net, [3, 32, 32]) == a["shapes"] == [[32, 26, 26], [32, 13, 13], [64, 9, 9], [64, 4, 4]]
    assert trainable_params(net) == a["total_params"] == (7 * 7 * 3 * 32 + 32) + (5 * 5 * 32 * 64 + 64) == 56000
    assert _field(a["layers"], [3, 32, 32]) == a["receptive_field"] == 18
    # On even sides only, a two-pool design no longer exists with four layers at fewer parameters.
    even = dict(params, odd_pool=False)
    b = get_family(FAMILY).solve(even).answers
    assert _shapes(_assert_valid(even, b["layers"]), [3, 32, 32])[-1] == [64, 4, 4]
    assert len(b["layers"]) == 4 and b["total_params"] == trainable_params(build(b["layers"])) == 77600


def _conv(c_in: int, c_out: int, k: int, **extra) -> dict:
    return {"type": "Conv2d", "in_channels": c_in, "out_channels": c_out, "kernel_size": k, "bias": True, **extra}


POOL = {"type": "MaxPool2d", "kernel_size": 2, "stride": 2}
HAND = [_conv(3, 16, 5), POOL, _conv(16, 32, 5), POOL, _conv(32, 64, 3)]


def test_hand_made_stack_totals_and_slips():
    """conv5 3->16 (1216 parameters), pool, conv5 16->32, pool, conv3 32->64 on 3x32x32."""
    from generator.families.conv_architecture import field_steps, layer_rows

    params = {"input": [3, 32, 32], "target": [64, 3, 3], "kernel_sizes": [3, 5], "odd_pool": True}
    rows = layer_rows([3, 32, 32], HAND)
    assert [r["params"] for r in rows if r["conv"]] == [1216, 12832, 18496]
    assert sum(r["params"] for r in rows if r["conv"]) == trainable_params(build(HAND)) == 32544
    assert [r["shape"] for r in rows] == _shapes(build(HAND), [3, 32, 32])
    assert field_steps(HAND)[-1]["after"] == _field(HAND, [3, 32, 32]) == 24
    slips = {s.name: s.value for s in get_family(FAMILY).slips(params, Solution(answers={"layers": HAND}))}
    assert slips["no_bias"] == 32544 - (16 + 32 + 64)
    assert "ceil_pool" not in slips  # the pools see 28 and 10: rounding up cannot differ here
    assert slips["same_padding"] == [[16, 32, 32], [16, 16, 16], [32, 16, 16], [32, 8, 8], [64, 8, 8]]


def test_sheet_handwritten_stride_two_is_rejected():
    """The sheet's handwritten answer used stride 2 (conv3 3->16, pool, conv3 16->32), which the rules forbid."""
    layers = [_conv(3, 16, 3, stride=2), POOL, _conv(16, 32, 3, stride=2)]
    shapes = _shapes(build(layers), [3, 32, 32])
    params = {"input": [3, 32, 32], "target": shapes[-1], "kernel_sizes": [3, 5, 7], "odd_pool": True}
    solution = Solution(answers={"layers": layers, "shapes": shapes, "total_params": 5088, "receptive_field": 11})
    assert trainable_params(build(layers)) == 5088
    assert any("stride" in v for v in get_family(FAMILY).check(params, solution))


def test_well_posed_on_every_seed(problems):
    for problem in problems:
        p, a = problem.params, problem.solution.answers
        assert p["input"][1] in INPUT_SIDES and p["input"][0] in INPUT_CHANNELS
        assert 2 <= p["target"][1] <= 7 and p["target"][0] in TARGET_CHANNELS
        # drawn from a stack of 2-4 convs with pools between them: the key is never longer
        assert 2 <= len(a["layers"]) <= 8
        assert a["total_params"] < 300_000  # sums a student can do by hand
    assert len({(tuple(p.params["input"]), tuple(p.params["target"])) for p in problems}) > 40


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_slips_differ_and_match_torch(problems):
    differs: dict[str, int] = {}
    odd_seeds = 0
    for problem in problems:
        p, a = problem.params, problem.solution.answers
        slips = {s.name: s for s in get_family(FAMILY).slips(p, problem.solution)}
        for name, slip in slips.items():
            differs[name] = differs.get(name, 0) + (slip.value != a[slip.answer])
        convs = [layer for layer in a["layers"] if layer["type"] == "Conv2d"]
        assert slips["no_bias"].value == sum(trainable_params(build([c | {"bias": False}])) for c in convs)
        same = [c | {"padding": "same"} if c["type"] == "Conv2d" else c for c in a["layers"]]
        assert slips["same_padding"].value == _shapes(build(same), p["input"], "meta")
        assert slips["no_jump"].value == _field(a["layers"], p["input"], {"type": "AvgPool2d", "kernel_size": 2,
                                                                          "stride": 1})
        assert slips["pools_ignored"].value == _field(a["layers"], p["input"], {"type": "AvgPool2d",
                                                                                "kernel_size": 1, "stride": 2})
        has_odd_pool = any(s[1] % 2 for s, layer in zip([p["input"], *a["shapes"]], a["layers"], strict=False)
                           if layer["type"] == "MaxPool2d")
        odd_seeds += has_odd_pool
        # rounding up can only go wrong where a pool sees an odd side: offered exactly there, and differing
        assert ("ceil_pool" in slips) == has_odd_pool
        if has_odd_pool:
            ceil = [c | {"ceil_mode": True} if c["type"] == "MaxPool2d" else c for c in a["layers"]]
            assert slips["ceil_pool"].value == _shapes(build(ceil), p["input"], "meta") != a["shapes"]
    for name in ("no_bias", "no_in_channels", "same_padding", "no_jump", "pools_ignored"):
        assert differs[name] >= 0.95 * len(SEEDS), name
    assert odd_seeds >= 0.2 * len(SEEDS)


def test_fixed_input_and_target():
    problem = make_problem(FAMILY, 5, {"input": [3, 64, 64], "target": [128, 5, 5], "kernel_sizes": [3, 5]})
    a = problem.solution.answers
    assert _shapes(_assert_valid(problem.params, a["layers"]), [3, 64, 64])[-1] == [128, 5, 5]


def test_fixed_target_draws_a_solvable_input():
    for seed in range(20):
        problem = make_problem(FAMILY, seed, {"target": [64, 4, 4], "kernel_sizes": [3, 5, 7]})
        p, a = problem.params, problem.solution.answers
        assert _shapes(_assert_valid(p, a["layers"]), p["input"])[-1] == [64, 4, 4]


def test_even_sides_only():
    for seed in range(30):
        problem = make_problem(FAMILY, seed, {"odd_pool": False})
        _assert_valid(problem.params, problem.solution.answers["layers"])  # asserts even sides at pools


def test_infeasible_options_are_named():
    # 1x1 convs leave only the pools, so 32 reaches 16, 8, 4, 2, 1 but never 5
    with pytest.raises(InfeasibleError, match="kernels"):
        make_problem(FAMILY, 0, {"input": [3, 32, 32], "target": [8, 5, 5], "kernel_sizes": [1]})
    with pytest.raises(InfeasibleError, match="exceeds"):
        make_problem(FAMILY, 0, {"input": [3, 16, 16], "target": [8, 20, 20]})
    with pytest.raises(InfeasibleError):
        make_problem(FAMILY, 0, {"input": [3, 8, 8], "kernel_sizes": [11]})
    # 7x7 kernels take 32 to 3 only through an odd pool (26, 13, 7, 3)
    only_odd = {"input": [3, 32, 32], "target": [8, 3, 3], "kernel_sizes": [7]}
    assert make_problem(FAMILY, 0, only_odd).solution.answers["shapes"][-1] == [8, 3, 3]
    with pytest.raises(InfeasibleError, match="even sides only"):
        make_problem(FAMILY, 0, only_odd | {"odd_pool": False})
    with pytest.raises(OptionError):
        make_problem(FAMILY, 0, {"input": [3, 32, 30]})
    with pytest.raises(OptionError):
        make_problem(FAMILY, 0, {"kernel_sizes": [0, 3]})


def test_key_boxes_every_shape_it_grades():
    """Issue #15: the answer is the shape after every layer, but the key boxed only the last one."""
    problem = make_problem("conv_architecture", 7)
    solution = render_problem(problem)["solution"]
    for shape in problem.solution.answers["shapes"]:
        boxed = "\\result{" + "\\times ".join(map(str, shape)) + "}"
        assert boxed in solution
