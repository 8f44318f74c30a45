"""transformer_params against torch: the layer, its attention, feed-forward network and
LayerNorms, and the stack, built as torch.nn modules on the meta device (shapes only, no
memory) and counted; plus the published counts of BERT-base and the original Transformer."""

from fractions import Fraction
from typing import Any

import pytest
import torch
from family_suite import FamilySuite
from oracle import trainable_params

from generator.family import get_family
from generator.variants import make_problem

FAMILY = "transformer_params"


def _layer(p: dict[str, Any]) -> torch.nn.TransformerEncoderLayer:
    return torch.nn.TransformerEncoderLayer(p["d_model"], p["nhead"], p["dim_feedforward"], bias=p["bias"],
                                            device="meta")


def torch_counts(p: dict[str, Any]) -> dict[str, Any]:
    """Every required answer, counted by torch from the params alone."""
    layer = _layer(p)
    attention = torch.nn.MultiheadAttention(p["d_model"], p["nhead"], bias=p["bias"], device="meta")
    norm = torch.nn.LayerNorm(p["d_model"], bias=p["bias"], device="meta")
    stack = torch.nn.TransformerEncoder(layer, p["num_layers"], enable_nested_tensor=False)
    assert trainable_params(layer.self_attn) == trainable_params(attention)
    assert trainable_params(layer.norm1) == trainable_params(layer.norm2) == trainable_params(norm)
    ffn = trainable_params(layer.linear1) + trainable_params(layer.linear2)
    return {
        "params_attention": trainable_params(attention),
        "params_ffn": ffn,
        "params_norm": 2 * trainable_params(norm),
        "params_layer": trainable_params(layer),
        "total_params": trainable_params(stack),
        "ffn_share": ffn / trainable_params(layer),
    }


class TestTransformerParams(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "no_bias": {"bias": False},
        "bert_base": {"preset": "bert_base"},
        "small_and_deep": {"d_models": [128, 192, 704], "layers": [2, 48], "bias": "any"},
    }
    pins = [
        ({"d_model": -64}, "d_model must be an integer from 2 to 8192"),
        ({"d_model": 500, "nhead": 7}, "nhead must divide d_model"),
        ({"num_layers": 0}, "num_layers must be an integer from 1 to 96"),
        ({"dim_feedforward": 0}, "dim_feedforward must be an integer from 1 to 65536"),
    ]

    def oracle(self, contract: dict) -> None:
        expected, answers = torch_counts(contract["params"]), contract["answers"]
        for name in ("params_attention", "params_ffn", "params_norm", "params_layer", "total_params"):
            assert answers[name] == expected[name], name
        # the answer is the exact fraction; the grader accepts it to three decimals
        assert abs(float(Fraction(answers["ffn_share"])) - expected["ffn_share"]) <= 1e-9


def _solve(d_model: int, nhead: int, ff: int, layers: int, bias: bool = True) -> dict[str, Any]:
    params = {"name": "", "d_model": d_model, "nhead": nhead, "dim_feedforward": ff, "num_layers": layers,
              "bias": bias}
    return get_family(FAMILY).solve(params).answers


def test_bert_base():
    """BERT-base: 7,087,872 parameters per encoder layer, 85,054,464 in its 12 layers."""
    answers = _solve(768, 12, 3072, 12)
    assert answers["params_layer"] == 7_087_872
    assert answers["total_params"] == 85_054_464
    assert answers["params_attention"] == 2_362_368 and answers["params_ffn"] == 4_722_432
    problem = make_problem(FAMILY, 0, {"preset": "bert_base"})
    assert problem.solution.answers["total_params"] == 85_054_464
    assert torch_counts(problem.contract()["params"])["total_params"] == 85_054_464


def test_original_transformer_base_encoder():
    """Vaswani et al.'s base model: d 512, 8 heads, 2048, six encoder layers of 3,152,384."""
    answers = _solve(512, 8, 2048, 6)
    assert answers["params_layer"] == 3_152_384 and answers["total_params"] == 18_914_304


def test_without_bias_layernorm_keeps_only_its_scale():
    answers = _solve(768, 12, 3072, 12, bias=False)
    assert answers["params_norm"] == 2 * 768
    assert answers["params_layer"] == 4 * 768**2 + 2 * 768 * 3072 + 2 * 768 == 7_079_424


@pytest.mark.parametrize("seed", range(40))
def test_heads_do_not_change_the_count(seed):
    """The statement asks why: every other divisor of d_model gives torch's same count."""
    p = make_problem(FAMILY, seed).params
    counts = {trainable_params(torch.nn.MultiheadAttention(p["d_model"], h, bias=p["bias"], device="meta"))
              for h in (1, 2, 4, p["nhead"]) if p["d_model"] % h == 0}
    assert len(counts) == 1


def test_slips_match_torch():
    """A few slips recomputed from the torch modules: without W_O, without the LayerNorms,
    and every head with full-width projections."""
    family = get_family(FAMILY)
    for seed in range(30):
        problem = make_problem(FAMILY, seed)
        p = problem.params
        layer = _layer(p)
        found = {(s.answer, s.name): s.value for s in family.slips(p, problem.solution)}
        out_proj = trainable_params(layer.self_attn.out_proj)
        norms = trainable_params(layer.norm1) + trainable_params(layer.norm2)
        assert found[("params_attention", "no_out_proj")] == trainable_params(layer.self_attn) - out_proj
        assert found[("params_layer", "no_norm")] == trainable_params(layer) - norms
        wide = torch.nn.MultiheadAttention(p["d_model"], 1, bias=p["bias"], device="meta")
        in_proj = trainable_params(wide) - trainable_params(wide.out_proj)
        assert found[("params_attention", "heads_full_width")] == p["nhead"] * in_proj + out_proj


def test_drawn_configurations_are_realistic():
    for seed in range(300):
        p = make_problem(FAMILY, seed).params
        assert p["d_model"] % 64 == 0 and 128 <= p["d_model"] <= 1024
        assert p["d_model"] // p["nhead"] in (32, 48, 64, 80, 96, 128)
        assert 3 * p["d_model"] <= 2 * p["dim_feedforward"] <= 8 * p["d_model"]
        assert 2 <= p["num_layers"] <= 24
