import functools

import pytest
import torch
from family_suite import FamilySuite
from torch import nn

from generator.errors import OptionError
from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

FAMILY = "batchnorm_shapes"
SEEDS = range(200)
SMALL = {"N": 3, "C": 4, "H": 5, "W": 6}  # distinct sizes, so a wrong axis cannot pass


def _batchnorm(x: torch.Tensor, layout: str) -> torch.Tensor:
    """PyTorch's BatchNorm in training mode, applied in the given layout (NHWC is moved
    to NCHW and back, which is what a channels-last BatchNorm means)."""
    channels = x.shape[layout.index("C")]
    if layout == "NC":
        return nn.BatchNorm1d(channels, affine=False)(x)
    if layout == "NHWC":
        return nn.BatchNorm2d(channels, affine=False)(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    return nn.BatchNorm2d(channels, affine=False)(x)


def _normalise(x: torch.Tensor, dims: list[int], eps: float = 1e-5) -> torch.Tensor:
    """Normalise with batch statistics over the given axes."""
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


def _full_size(small_stats: torch.Size, layout: str, shape: list[int]) -> list[int]:
    """A keepdim statistic's shape on the small tensor, scaled up to the real input:
    kept axes take the real size, reduced axes stay 1."""
    return [shape[d] if n > 1 else 1 for d, n in enumerate(small_stats)]


@functools.cache
def _reference(layout: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A small random input in the layout, with PyTorch's BatchNorm and LayerNorm outputs
    (computed once per layout: the small tensor does not depend on the drawn sizes)."""
    small_shape = [SMALL[a] for a in layout]
    x = torch.randn(small_shape, generator=torch.Generator().manual_seed(0))
    layernorm = nn.LayerNorm(small_shape[1:], elementwise_affine=False)
    return x, _batchnorm(x, layout), layernorm(x)


def _check_against_torch(params: dict, answers: dict) -> None:
    shape, layout = params["input_shape"], params["layout"]
    x, batchnorm_out, layernorm_out = _reference(layout)
    # the answer's reduction reproduces PyTorch's BatchNorm output ...
    dims = answers["reduce_dims"]
    assert torch.allclose(batchnorm_out, _normalise(x, dims), atol=1e-5)
    # ... and its shapes are that reduction with keepdim=True, on the real input size
    stats = _full_size(x.mean(dim=dims, keepdim=True).shape, layout, shape)
    assert answers["mean_shape"] == stats
    assert answers["var_shape"] == _full_size(x.var(dim=dims, keepdim=True).shape, layout, shape)
    assert torch.broadcast_shapes(tuple(stats), tuple(shape)) == tuple(shape)
    assert answers["values_per_stat"] * torch.Size(stats).numel() == torch.Size(shape).numel()
    # LayerNorm over each sample: the answer's pattern reproduces nn.LayerNorm
    ln_dims = [d for d, n in enumerate(answers["layernorm_shape"]) if n == 1]
    assert torch.allclose(layernorm_out, _normalise(x, ln_dims), atol=1e-5)
    assert answers["layernorm_shape"] == _full_size(x.mean(dim=ln_dims, keepdim=True).shape, layout, shape)
    module = nn.BatchNorm1d if layout == "NC" else nn.BatchNorm2d
    bn = module(shape[layout.index("C")])
    assert answers["trainable_params"] == sum(t.numel() for t in bn.parameters() if t.requires_grad)


class TestBatchnormShapes(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, **{layout: {"layouts": layout} for layout in ("NC", "NCHW", "NHWC")}}
    pins = [
        ({"layout": "NCWH"}, "layout must be one of NC, NCHW, NHWC"),
        ({"layout": "NC", "input_shape": [32, 1]}, "input_shape[2] must be an integer from 2 to 1024"),
        ({"layout": "NC", "input_shape": [32, 64, 7]}, "input_shape must give one size per axis of NC"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract["params"], contract["answers"])


@pytest.mark.parametrize(("params", "expected"), [
    ({"input_shape": [128, 32], "layout": "NC"}, [1, 32]),
    ({"input_shape": [128, 16, 16, 32], "layout": "NHWC"}, [1, 1, 1, 32]),
])
def test_sheet_002_q3(params, expected):
    """Sheet 002 #3: statistics 1 x C for NC input, 1 x 1 x 1 x C for NHWC input."""
    answers = get_family(FAMILY).solve(params).answers
    assert answers["mean_shape"] == answers["var_shape"] == expected
    _check_against_torch(params, answers)


def test_nchw_case():
    answers = get_family(FAMILY).solve({"input_shape": [64, 128, 14, 14], "layout": "NCHW"}).answers
    assert answers["mean_shape"] == [1, 128, 1, 1]
    assert answers["values_per_stat"] == 64 * 14 * 14
    assert answers["layernorm_shape"] == [64, 1, 1, 1]


def test_well_posed():
    family = get_family(FAMILY)
    layouts = set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        p = problem.params
        layouts.add(p["layout"])
        named = dict(zip(p["layout"], p["input_shape"], strict=True))
        assert len(p["input_shape"]) == len(p["layout"]) and min(p["input_shape"]) >= 2
        assert named["N"] != named["C"] and named.get("H") not in (named["N"], named["C"])
        assert named.get("W") not in (named["N"], named["C"])
        if "W" in named:
            assert named["W"] in (named["H"], 2 * named["H"]) or 2 * named["W"] == named["H"]
    assert layouts == {"NC", "NCHW", "NHWC"}
    assert family.check({"input_shape": [32, 32, 8, 8], "layout": "NCHW"},
                        family.solve({"input_shape": [32, 32, 8, 8], "layout": "NCHW"}))


def test_options():
    assert all(make_problem(FAMILY, s, {"layouts": "NHWC"}).params["layout"] == "NHWC" for s in range(20))
    assert {make_problem(FAMILY, s, {"layouts": ["NC", "NCHW"]}).params["layout"] for s in range(30)} == {"NC", "NCHW"}
    with pytest.raises(OptionError):
        make_problem(FAMILY, 0, {"layouts": ["NCL"]})
    with pytest.raises(OptionError):
        make_problem(FAMILY, 0, {"layouts": []})


def test_slip_values_nhwc():
    family = get_family(FAMILY)
    params = {"input_shape": [128, 16, 16, 32], "layout": "NHWC"}
    slips = {s.name: s.value for s in family.slips(params, family.solve(params))}
    assert slips["per_sample"] == [128, 1, 1, 32]
    assert slips["over_channels"] == [128, 16, 16, 1]
    assert slips["channels_first"] == [1, 32, 1, 1]
    assert slips["flat_vector"] == [32]


def test_the_input_shape_never_breaks_across_lines():
    """Issue #15: "128x8x" ended one line and "16x64" began the next. The shape is one unit of
    the formula (in braces), so the line can only break at the equals sign before it."""
    for seed in range(20):
        problem = make_problem(FAMILY, seed)
        shape = r"\times ".join(map(str, problem.params["input_shape"]))
        assert f"= {{{shape}}}$" in render_problem(problem)["statement"]


def test_part_a_asks_the_axes_by_their_indices():
    """Issue #15: reduce_dims is graded as a list of indices, but the statement asked only "over which
    axes", which a student answers with names; the key now boxes the indices it grades."""
    for layouts in (["NC"], ["NCHW"], ["NHWC"]):
        problem = make_problem(FAMILY, 0, {"layouts": layouts})
        rendered = render_problem(problem)
        assert "give their indices, counting from 0" in " ".join(rendered["statement"].split())
        assert f"\\result{{{', '.join(map(str, problem.solution.answers['reduce_dims']))}}}" in rendered["solution"]
