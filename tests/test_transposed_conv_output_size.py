import pytest
import torch
from family_suite import FamilySuite

from generator.family import get_family
from generator.pipeline import render_problem
from generator.variants import make_problem

FAMILY = "transposed_conv_output_size"


def _transposed_side(n: int, k: int, s: int, p: int, op: int, d: int) -> int:
    """Output side of nn.ConvTranspose2d on the meta device (shapes only)."""
    layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d, device="meta")
    out = layer(torch.empty(1, 1, n, n, device="meta"))
    assert out.shape[-2] == out.shape[-1]
    return out.shape[-1]


def _conv_side(n: int, k: int, s: int, p: int, d: int) -> int | None:
    """Output side of nn.Conv2d on the meta device; None when the input is too small."""
    conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, device="meta")
    try:
        return conv(torch.empty(1, 1, n, n, device="meta")).shape[-1]
    except RuntimeError:
        return None


def _check_against_torch(contract: dict) -> None:
    p, a = contract["params"], contract["answers"]
    n, k, s, pad, op, d = (p[x] for x in ("input_size", "kernel_size", "stride", "padding", "output_padding",
                                          "dilation"))
    out = _transposed_side(n, k, s, pad, op, d)
    assert a["output_size"] == out
    assert ("inverse_conv_output" in a) == p["inverse"]
    if not p["inverse"]:
        return
    assert a["inverse_conv_output"] == _conv_side(out, k, s, pad, d)
    # every size the Conv2d maps to n, by trying them all
    assert a["conv_input_sizes"] == [m for m in range(1, out + 2 * s + 1) if _conv_side(m, k, s, pad, d) == n]
    assert ("target_size" in p) == ("output_padding_needed" in a) == (s > 1)
    if s > 1:
        # the output_padding torch accepts (below max(stride, dilation)) that reaches the target
        fits = [o for o in range(max(s, d)) if _transposed_side(n, k, s, pad, o, d) == p["target_size"]]
        assert fits == [a["output_padding_needed"]]


class TestTransposedConvOutputSize(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "strided_dilated": {"strides": [2, 3], "dilations": [2, 3]},
        "no_inverse": {"inverse": False, "kernel_sizes": [1, 6, 7], "strides": [4]},
        "stride_one": {"strides": [1], "kernel_sizes": [3, 5]},
    }
    pins = [
        ({"input_size": 0}, "input_size must be an integer from 1 to 256"),
        ({"stride": 0}, "stride must be an integer from 1 to 4"),
        ({"kernel_size": 9}, "kernel_size must be an integer from 1 to 7"),
        ({"padding": -1}, "padding must be an integer from 0 to"),
        ({"output_padding": 5}, "output_padding must be an integer from 0 to"),
        ({"dilation": 0}, "dilation must be an integer from 1 to 3"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract)


def _solve(**params) -> dict:
    params.setdefault("inverse", True)
    family = get_family(FAMILY)
    assert family.check_params(params) == []
    return family.solve(params).answers


def test_torch_docs_upsample_example():
    """torch.nn.ConvTranspose2d's docs: Conv2d(3, stride=2, padding=1) takes 12 to 6; the
    ConvTranspose2d with the same settings gives 11 from 6, and output_size=12 (that is,
    output_padding 1) is needed to restore 12."""
    a = _solve(input_size=6, kernel_size=3, stride=2, padding=1, output_padding=0, dilation=1, target_size=12)
    assert a == {"output_size": 11, "inverse_conv_output": 6, "conv_input_sizes": [11, 12],
                 "output_padding_needed": 1}


def test_dcgan_generator_doubles_the_side():
    """DCGAN's generator: ConvTranspose2d(k=4, s=2, p=1) takes 4x4 to 8x8, 8 to 16, 16 to 32."""
    for n in (4, 8, 16):
        assert _solve(input_size=n, kernel_size=4, stride=2, padding=1, output_padding=0, dilation=1,
                      inverse=False) == {"output_size": 2 * n}


def test_figure_strip_agrees_with_the_counts():
    """The key's strip has exactly the padding, inserted zeros and output_padding it describes,
    and the first kernel window lies before the elided middle."""
    for seed in range(300):
        problem = make_problem(FAMILY, seed, {"dilations": [1, 2, 3]})
        p, w = problem.params, problem.solution.work
        strip, cell = w["strip"], w["strip"]["cell"]
        kinds = [c["kind"] for c in strip["cells"]]
        assert kinds.count("pad") == 2 * w["fill"] and kinds.count("extra") == p["output_padding"]
        if "gap" not in kinds:
            assert len(kinds) == w["total"] and kinds.count("x") == p["input_size"]
        else:
            assert strip["window"] <= kinds.index("gap") * cell
        assert strip["window"] == w["window"] * cell and len(strip["taps"]) == p["kernel_size"]
        assert strip["taps"][-1] < strip["window"] and strip["width"] <= 2800


@pytest.mark.parametrize("seed", range(200))
def test_target_is_another_size_the_conv_maps_back(seed):
    problem = make_problem(FAMILY, seed)
    p, a = problem.params, problem.solution.answers
    if "target_size" in p:
        assert p["target_size"] in a["conv_input_sizes"] and p["target_size"] != a["output_size"]


def test_statement_claims_no_upsampling_and_orders_the_list():
    """Issue #15: every statement said the decoder 'upsamples' the map, though with stride 1 the
    output can be no larger than the input; and part (c) asked for a list
    of sizes without saying in which order to give them."""
    problem = make_problem(FAMILY, 6, {"strides": [1]})  # 18 x 18 to 18 x 18
    assert problem.solution.answers["output_size"] <= problem.params["input_size"]
    statement = " ".join(render_problem(problem)["statement"].split())
    assert "upsamples" not in statement
    assert "(square inputs), from the smallest to the largest." in statement
