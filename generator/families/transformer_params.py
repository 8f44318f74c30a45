"""Trainable parameters of a transformer encoder layer as torch.nn.TransformerEncoderLayer
builds it (multi-head self-attention, a two-Linear feed-forward network, two LayerNorms,
all with or without biases) and of a stack of them (nn.TransformerEncoder, no final
norm); why the number of heads does not change the count, and the feed-forward
network's share of the layer."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, flag, ints_from, one_of, register
from ..numbers import rounded
from ..tolerance import half_unit

D_MODELS = list(range(128, 1025, 64))
HEADS = range(2, 17)
HEAD_DIMS = (32, 48, 64, 80, 96, 128)  # d_model / nhead of real models
ROUND_FFS = [512, 768, 1024, 1536, 2048, 3072, 4096]
LAYERS = range(1, 49)


def _preset(name: str, d_model: int, nhead: int, ff: int, layers: int) -> dict[str, Any]:
    return {"name": name, "d_model": d_model, "nhead": nhead, "dim_feedforward": ff, "num_layers": layers,
            "bias": True}


# Encoders of well-known models (their layers have the parameters of a TransformerEncoderLayer
# of these sizes, whatever their activation); BERT-base's layer has 7,087,872 (the tests check it).
PRESETS: dict[str, dict[str, Any]] = {
    "transformer_base": _preset("Transformer (base) of Vaswani et al.", 512, 8, 2048, 6),
    "transformer_big": _preset("Transformer (big) of Vaswani et al.", 1024, 16, 4096, 6),
    "bert_base": _preset("BERT-base", 768, 12, 3072, 12),
    "bert_large": _preset("BERT-large", 1024, 16, 4096, 24),
    "distilbert": _preset("DistilBERT", 768, 12, 3072, 6),
    "vit_small": _preset("ViT-S/16", 384, 6, 1536, 12),
}


def feed_forward_sizes(d_model: int) -> list[int]:
    """dim_feedforward of real models: 4 d_model (most), 2 d_model, or a round number
    between, at least 1.5 d_model; always wider than d_model, so its biases differ from
    the second Linear's."""
    rounds = [ff for ff in ROUND_FFS if 3 * d_model <= 2 * ff < 8 * d_model and ff != 2 * d_model]
    return [4 * d_model, 4 * d_model, 2 * d_model, *rounds[:1], *rounds[1:][-1:]]


def counts(d: int, ff: int, bias: bool) -> dict[str, sp.Integer]:
    """Every piece of one layer's count: the attention's packed Q, K, V in-projection and
    its out-projection, the two Linear layers, the two LayerNorms (bias=False drops every
    bias, LayerNorm's shift included)."""
    b = int(bias)
    parts = {
        "in_weight": 3 * d * d, "in_bias": 3 * d * b, "out_weight": d * d, "out_bias": d * b,
        "w1": d * ff, "b1": ff * b, "w2": ff * d, "b2": d * b,
        "norm_one": d * (1 + b),
    }
    parts["attention"] = parts["in_weight"] + parts["in_bias"] + parts["out_weight"] + parts["out_bias"]
    parts["ffn"] = parts["w1"] + parts["b1"] + parts["w2"] + parts["b2"]
    parts["norm"] = 2 * parts["norm_one"]
    parts["layer"] = parts["attention"] + parts["ffn"] + parts["norm"]
    return {name: sp.Integer(value) for name, value in parts.items()}


@register
class TransformerParams(Family):
    id = "transformer_params"
    title = "Parameters of a transformer encoder layer and stack"
    answer_labels = {
        "params_attention": "the number of parameters of the multi-head attention",
        "params_ffn": "the number of parameters of the feed-forward network",
        "params_norm": "the number of parameters of the two LayerNorms",
        "params_layer": "the number of parameters of one encoder layer",
        "total_params": "the number of parameters of the whole encoder stack",
        "ffn_share": "the fraction of the layer's parameters in the feed-forward network",
    }
    tolerances = {"ffn_share": half_unit(3)}  # asked to three decimals
    options = {
        "preset": Option("none", "pin a well-known encoder (" + ", ".join(PRESETS) + "); d_models, layers and "
                         "bias are then ignored", one_of("none", *PRESETS)),
        "d_models": Option(D_MODELS, "d_model values to draw from (multiples of 64 from 128 to 1024)",
                           ints_from(D_MODELS)),
        "layers": Option(list(range(2, 25)), "numbers of stacked layers to draw from (2 to 48)",
                         ints_from(range(2, 49))),
        "bias": Option("mostly", "biases: 'mostly' (three in four variants), 'any' (half), true or false",
                       flag("mostly", "any")),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        if options["preset"] != "none":
            params = dict(PRESETS[options["preset"]])
        else:
            d = pick(rng, options["d_models"])
            heads = [h for h in HEADS if d % h == 0 and d // h in HEAD_DIMS]
            bias = options["bias"] if isinstance(options["bias"], bool) else bool(
                rng.integers(4 if options["bias"] == "mostly" else 2))
            params = {"name": "", "d_model": d, "nhead": pick(rng, heads),
                      "dim_feedforward": pick(rng, feed_forward_sizes(d)), "num_layers": pick(rng, options["layers"]),
                      "bias": bias}
        return params

    def solve(self, params: dict[str, Any]) -> Solution:
        d, h, ff, layers = (params[k] for k in ("d_model", "nhead", "dim_feedforward", "num_layers"))
        c = counts(d, ff, params["bias"])
        answers = {"params_attention": c["attention"], "params_ffn": c["ffn"], "params_norm": c["norm"],
                   "params_layer": c["layer"], "total_params": layers * c["layer"],
                   "ffn_share": c["ffn"] / c["layer"]}
        head_dim = d // h
        work = {
            **c,
            "head_dim": head_dim,
            "per_head": sp.Integer(3 * d * head_dim),  # W_Q, W_K, W_V slices of one head
            "ffn_share_approx": rounded(c["ffn"] / c["layer"], 3),
            "attention_share_approx": rounded(c["attention"] / c["layer"], 3),
            "millions": rounded(sp.Rational(layers * c["layer"], 10**6), 1),
        }
        return Solution(answers=answers, work=work)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        d, h, ff, layers, bias = (params[k] for k in ("d_model", "nhead", "dim_feedforward", "num_layers", "bias"))
        c = solution.work
        # every head given full d x d projections: h times the in-projection
        per_head_full = h * (c["in_weight"] + c["in_bias"]) + c["out_weight"] + c["out_bias"]
        no_out = c["in_weight"] + c["in_bias"]
        slips = [
            Slip("params_attention", "no_out_proj", "you left out the output projection W_O (d_model x d_model"
                 f"{', plus its bias' if bias else ''}) that mixes the heads", no_out),
            Slip("params_layer", "no_out_proj", "you left out the attention's output projection W_O", c["layer"]
                 - c["out_weight"] - c["out_bias"]),
            Slip("params_ffn", "one_linear", "you counted only the first Linear layer of the feed-forward network",
                 c["w1"] + c["b1"]),
            Slip("params_norm", "one_norm", "you counted one LayerNorm; the layer has two, one after each "
                 "residual addition", c["norm_one"]),
            Slip("params_layer", "no_norm", "you left out the two LayerNorms", c["attention"] + c["ffn"]),
            Slip("total_params", "no_norm", "you left out the LayerNorms of every layer",
                 layers * (c["attention"] + c["ffn"])),
            Slip("total_params", "no_out_proj", "you left out the attention's output projection in every layer",
                 layers * (c["layer"] - c["out_weight"] - c["out_bias"])),
        ]
        if h > 1:  # with one head the two readings agree
            slips += [
                Slip("params_attention", "heads_full_width", "you gave every head its own d_model x d_model "
                     "projections; the heads split d_model, each projecting to d_model/nhead", per_head_full),
                Slip("params_layer", "heads_full_width", "you gave every attention head its own d_model x d_model "
                     "projections", c["layer"] - c["attention"] + per_head_full),
            ]
        if bias:
            slips += [
                Slip("params_attention", "no_bias", "you left out the biases of the projections", 4 * d * d),
                Slip("params_ffn", "no_bias", "you left out the biases of the two Linear layers", c["w1"] + c["w2"]),
                Slip("params_norm", "gamma_only", "you counted only LayerNorm's scale; with bias=True it also "
                     "learns a shift, 2 d_model parameters per LayerNorm", c["norm_one"]),
            ]
            if ff != d:
                slips.append(Slip("params_ffn", "bias_both_ff", "you gave the second Linear layer dim_feedforward "
                                  "biases; it has d_model outputs, so d_model biases", c["w1"] + c["w2"] + 2 * ff))
        else:
            slips.append(Slip("params_norm", "norm_shift", "you counted a shift per LayerNorm; with bias=False "
                              "LayerNorm learns only its scale", 4 * d))
        slips.append(Slip("ffn_share", "over_attention", "you divided by the attention's parameters instead "
                          "of the whole layer's", c["ffn"] / c["attention"]))
        return slips

    def check_params(self, params: dict[str, Any]) -> list[str]:
        d, h = params["d_model"], params["nhead"]
        problems = [*domain.integer("d_model", d, 2, 8192),
                    *domain.integer("nhead", h, 1, 128),
                    *domain.integer("dim_feedforward", params["dim_feedforward"], 1, 65536),
                    *domain.integer("num_layers", params["num_layers"], 1, 96)]
        if not isinstance(params["bias"], bool):
            problems.append(f"bias must be true or false, got {domain.shown(params['bias'])}")
        if not isinstance(params["name"], str):
            problems.append(f"name must be a text, got {domain.shown(params['name'])}")
        if not problems and d % h:
            # nn.MultiheadAttention refuses it: the heads split d_model evenly
            problems.append(f"nhead must divide d_model ({d} is not a multiple of {h})")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        w, a = solution.work, solution.answers
        if a["params_layer"] != a["params_attention"] + a["params_ffn"] + a["params_norm"]:
            problems.append("the parts do not add up to the layer")
        if w["per_head"] * params["nhead"] != w["in_weight"]:
            problems.append("the heads' projections do not add up to the in-projection")
        return problems
