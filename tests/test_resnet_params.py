from typing import Any

import pytest
import torch
from family_suite import FamilySuite
from torch import nn

from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

FAMILY = "resnet_params"
SEEDS = range(200)


class Block(nn.Module):
    """A torchvision-style residual block, written from the contract's description."""

    def __init__(self, cin: int, width: int, bottleneck: bool, expansion: int, stride: int):
        super().__init__()
        if bottleneck:
            mid = width // expansion
            specs = [(cin, mid, 1, 1), (mid, mid, 3, stride), (mid, width, 1, 1)]
        else:
            specs = [(cin, width, 3, stride), (width, width, 3, 1)]
        layers: list[nn.Module] = []
        for i, (a, b, k, s) in enumerate(specs):
            layers += [nn.Conv2d(a, b, k, stride=s, padding=k // 2, bias=False), nn.BatchNorm2d(b)]
            if i < len(specs) - 1:
                layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        self.shortcut: nn.Module = nn.Identity()
        if cin != width:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, width, 1, stride=stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def build(p: dict[str, Any]) -> nn.Module:
    """The whole network from the contract's params (on the meta device: no memory)."""
    k, c = p["stem_kernel"], p["stem_channels"]
    layers: list[nn.Module] = [nn.Conv2d(p["input_channels"], c, k, stride=2 if k == 7 else 1, padding=k // 2,
                                         bias=False), nn.BatchNorm2d(c), nn.ReLU()]
    if k == 7:
        layers.append(nn.MaxPool2d(3, stride=2, padding=1))
    for i, stage in enumerate(p["stages"]):
        for j in range(stage["blocks"]):
            stride = 2 if i > 0 and j == 0 else 1
            layers.append(Block(c, stage["width"], p["bottleneck"], p["expansion"], stride))
            c = stage["width"]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, p["num_classes"])]
    return nn.Sequential(*layers)


def torch_count(p: dict[str, Any]) -> int:
    with torch.device("meta"):  # no memory and no initialisation cost, even for ResNet-152
        net = build(p)
    return sum(t.numel() for t in net.parameters() if t.requires_grad)


def forward_shape(p: dict[str, Any]) -> tuple[int, ...]:
    """Run the oracle network once: the channels must wire up and the head must get the
    right number of features."""
    return tuple(build(p)(torch.zeros(2, p["input_channels"], 16, 16)).shape)



class TestResnetParams(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "basic_deep": {"block": "basic", "num_stages": [4], "max_blocks": 4},
                   "bottleneck_2": {"block": "bottleneck", "expansions": [2]}}
    pins = [
        ({"stages": [{"width": 64, "blocks": 0}, {"width": 128, "blocks": 1}]},
         "stages[1].blocks must be an integer from 1 to 50"),
        ({"stages": [{"width": 128, "blocks": 1}, {"width": 64, "blocks": 1}]}, "stages: the widths must increase"),
        ({"num_classes": 0}, "num_classes must be an integer from 1 to 100000"),
        ({"expansion": 3}, "expansion must be one of 1, 2, 4"),
    ]

    def oracle(self, contract: dict) -> None:
        assert contract["answers"]["total_params"] == torch_count(contract["params"])


def test_oracle_networks_run():
    for seed in range(0, 200, 8):
        p = make_problem(FAMILY, seed).contract()["params"]
        assert forward_shape(p) == (2, p["num_classes"])


# torchvision's published totals (torchvision itself is not installed here).
TORCHVISION = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
               "resnet101": 44_549_160, "resnet152": 60_192_808}


@pytest.mark.parametrize("preset", [*TORCHVISION, "cifar_resnet20", "cifar_bottleneck"])
def test_presets_match_torch(preset):
    obj = make_problem(FAMILY, 0, {"preset": preset}).contract()
    assert obj["answers"]["total_params"] == torch_count(obj["params"])
    if preset in TORCHVISION:
        assert obj["answers"]["total_params"] == TORCHVISION[preset]


def test_sheet_003_ex19_resnet50():
    """Sheet 003 ex. 19: ResNet-50 from its description -> exactly 25,557,032 (torchvision)."""
    params = {"name": "", "input_channels": 3, "stem_channels": 64, "stem_kernel": 7,
              "stages": [{"width": w, "blocks": n} for w, n in zip([256, 512, 1024, 2048], [3, 4, 6, 3], strict=True)],
              "bottleneck": True, "expansion": 4, "num_classes": 1000}
    solution = get_family(FAMILY).solve(params)
    assert solution.answers["total_params"] == 25_557_032
    assert solution.work["head"]["total"] == 2_049_000
    assert [s["total"] for s in solution.work["stages"]] == [215_808, 1_219_584, 7_098_368, 14_964_736]


def test_sheet_003_ex33_cifar_bottleneck():
    """Sheet 003 ex. 33: the CIFAR ResNet (3x3 stem to 16, three stages) with bottleneck blocks,
    n = 3 per stage, expansion 4 (inner widths 16/32/64, outputs 64/128/256), 10 classes."""
    params = {"name": "", "input_channels": 3, "stem_channels": 16, "stem_kernel": 3,
              "stages": [{"width": w, "blocks": 3} for w in (64, 128, 256)],
              "bottleneck": True, "expansion": 4, "num_classes": 10}
    total = get_family(FAMILY).solve(params).answers["total_params"]
    assert total == torch_count(params) == 313_114
    assert forward_shape(params) == (2, 10)


@pytest.mark.parametrize("seed", SEEDS)
def test_well_posed(seed):
    problem = make_problem(FAMILY, seed)
    p = problem.params
    widths = [s["width"] for s in p["stages"]]
    assert 2 <= len(widths) <= 3 and all(2 * a == b for a, b in zip(widths, widths[1:], strict=False))
    assert max(widths) <= 128 and all(1 <= s["blocks"] <= 2 for s in p["stages"])
    assert p["expansion"] == (4 if p["bottleneck"] else 1)
    # a bottleneck stem has the first inner width, a basic one the first width
    assert p["stem_channels"] * p["expansion"] == widths[0]
    assert problem.solution.work["projection_total"] > 0


def test_options():
    for seed in range(30):
        p = make_problem(FAMILY, seed, {"block": "basic", "num_stages": [4], "max_blocks": 4}).params
        assert not p["bottleneck"] and len(p["stages"]) == 4 and max(s["width"] for s in p["stages"]) <= 128
        q = make_problem(FAMILY, seed, {"block": "bottleneck", "expansions": [2]}).params
        assert q["bottleneck"] and q["expansion"] == 2 and all(s["width"] % 2 == 0 for s in q["stages"])
    drawn = [make_problem(FAMILY, s).params for s in range(60)]
    assert {p["bottleneck"] for p in drawn} == {True, False}
    assert {p["stem_kernel"] for p in drawn} == {3, 5, 7}
    assert any(s["blocks"] == 4 for s in make_problem(FAMILY, 1, {"max_blocks": 4, "num_stages": [4]}).params["stages"])


def test_check_flags_bad_networks():
    family = get_family(FAMILY)
    p = make_problem(FAMILY, 5, {"block": "bottleneck"}).params
    bad = {**p, "stages": list(reversed(p["stages"]))}
    assert family.check(bad, family.solve(bad))


def test_slip_values_on_resnet50():
    """The slips remove exactly the parts that torch attributes to BatchNorm, shortcuts and the head bias."""
    family = get_family(FAMILY)
    problem = make_problem(FAMILY, 0, {"preset": "resnet50"})
    slips = {s.name: s.value for s in family.slips(problem.params, problem.solution)}
    with torch.device("meta"):
        net = build(problem.contract()["params"])
    bn = sum(t.numel() for m in net.modules() if isinstance(m, nn.BatchNorm2d) for t in m.parameters())
    shortcuts = sum(t.numel() for m in net.modules() if isinstance(m, Block) for t in m.shortcut.parameters())
    assert slips["no_batchnorm"] == 25_557_032 - bn
    assert slips["running_stats"] == 25_557_032 + bn
    assert slips["no_projection"] == 25_557_032 - shortcuts
    assert slips["head_without_bias"] == 25_557_032 - 1000


@pytest.mark.parametrize("seed", range(3))
def test_the_stem_says_it_has_no_bias(seed):
    """Issue #15: "Every convolution has no bias" stood in the stages' item, so the stem's
    convolution could be read with a bias; the stem's item now says it has none."""
    statement = " ".join(render_problem(make_problem("resnet_params", seed))["statement"].split())
    assert "convolution without bias from" in statement
