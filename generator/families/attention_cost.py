"""The cost of one multi-head self-attention layer for a sequence of n tokens: the
multiply-accumulates of the Q, K, V and output projections (4 n d_model^2), of the
scores Q_h K_h^T and of the weighted sums A_h V_h over all heads (n^2 d_model each), the
number of attention weights (h n^2), how each grows when n doubles, and the sequence
length at which the two quadratic terms catch up with the projections (n = 2 d_model).
No biases; the scaling and the softmax are not counted (they are O(h n^2), not MACs)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..errors import InfeasibleError
from ..family import Family, Option, Slip, Solution, ints_from, register
from ..numbers import in_words, rounded
from ..tolerance import half_unit

# Widths and head counts of real encoders (BERT-base 768/12, ViT-S 384/6, GPT-2 medium
# 1024/16...), and sequence lengths in powers of two and the round numbers models use
# (77 CLIP text tokens, 196 or 197 ViT patches, 500 or 1000 in textbooks).
D_MODELS = [64, 128, 192, 256, 320, 384, 512, 576, 640, 768, 960, 1024]
HEADS = [2, 3, 4, 6, 8, 12, 16]
SEQ_LENS = [16, 32, 50, 64, 77, 100, 128, 196, 197, 200, 256, 300, 384, 500, 512, 768, 1000, 1024, 1536, 2000,
            2048, 3072, 4096, 8192]
# Head widths of real models (BERT and GPT-2 64, ViT-S 64, ViT-L 64, T5 64, LLaMA 128...).
HEAD_DIMS = (16, 32, 48, 64, 80, 96, 128, 256)
# The total grows by 4(d + n)/(2d + n) when n doubles, strictly between 2 and 4; keeping
# n between d/16 and 64 d keeps it at least 0.05 from both, so the "it is linear" and
# "it is quadratic" answers are clearly wrong at two decimals.
RATIO_LOW, RATIO_HIGH = sp.Rational(1, 16), 64
GROWTH_PLACES = 2


@cache
def _triples(d_models: tuple[int, ...], heads: tuple[int, ...],
             seq_lens: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """Every (n, d_model, h) of the options that the family's domain allows."""
    return [(n, d, h) for d in d_models for h in heads if d % h == 0 and d // h in HEAD_DIMS
            for n in seq_lens if RATIO_LOW * d <= n <= RATIO_HIGH * d]


def costs(n: int, d: int, h: int) -> dict[str, sp.Integer]:
    """The counts of one layer at sequence length n: each of the four projections is an
    (n x d)(d x d) product; each head multiplies (n x d/h)(d/h x n) for its scores and
    (n x n)(n x d/h) for its weighted sum, and h heads of d/h add up to d."""
    n, d, h = sp.Integer(n), sp.Integer(d), sp.Integer(h)
    return {
        "macs_projections": 4 * n * d * d,
        "macs_scores": h * n * n * (d / h),
        "macs_weighted_sum": h * n * n * (d / h),
        "attention_entries": h * n * n,
    }


@register
class AttentionCost(Family):
    id = "attention_cost"
    title = "Cost of a self-attention layer and how it grows with the sequence"
    answer_labels = {
        "macs_projections": "the MACs of the four projections",
        "macs_scores": "the MACs of the scores over all heads",
        "macs_weighted_sum": "the MACs of the weighted sums over all heads",
        "attention_entries": "the number of attention weights over all heads",
        "macs_total": "the total MACs of the layer",
        "growth_projections": "the factor by which the projection MACs grow",
        "growth_scores": "the factor by which the score MACs grow",
        "growth_total": "the factor by which the total MACs grow",
        "crossover_seq_len": "the sequence length at which the quadratic terms equal the projections",
    }
    tolerances = {"growth_total": half_unit(GROWTH_PLACES)}  # asked to two decimals
    options = {
        "d_models": Option(D_MODELS, "model widths d_model to draw from", ints_from(range(16, 4097))),
        "heads": Option(HEADS, "head counts to draw from (each must divide d_model)", ints_from(range(2, 65))),
        "seq_lens": Option(SEQ_LENS, "sequence lengths n to draw from", ints_from(range(2, 65537))),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        triples = _triples(tuple(options["d_models"]), tuple(options["heads"]), tuple(options["seq_lens"]))
        if not triples:
            raise InfeasibleError(
                f"no drawn (d_model, heads, seq_len) fits: a head has {', '.join(map(str, HEAD_DIMS))} dimensions "
                "and n must lie between d_model/16 and 64 d_model",
                hint="add head counts that divide the widths, or sequence lengths closer to the widths")
        n, d, h = pick(rng, triples)
        return {"seq_len": sp.Integer(n), "d_model": sp.Integer(d), "num_heads": sp.Integer(h)}

    def solve(self, params: dict[str, Any]) -> Solution:
        n, d, h = _unpack(params)
        now, doubled = costs(n, d, h), costs(2 * n, d, h)
        total = now["macs_projections"] + now["macs_scores"] + now["macs_weighted_sum"]
        total_doubled = doubled["macs_projections"] + doubled["macs_scores"] + doubled["macs_weighted_sum"]
        quadratic = now["macs_scores"] + now["macs_weighted_sum"]
        answers = {
            **now,
            "macs_total": total,
            "growth_projections": doubled["macs_projections"] / now["macs_projections"],
            "growth_scores": doubled["macs_scores"] / now["macs_scores"],
            "growth_total": total_doubled / total,
            # 2 n^2 d = 4 n d^2  <=>  n = 2 d
            "crossover_seq_len": sp.Integer(2 * d),
        }
        return Solution(answers=answers, work={
            "head_dim": sp.Integer(d // h), "n2": sp.Integer(n * n), "d2": sp.Integer(d * d),
            "one_projection": sp.Integer(n * d * d), "per_head_scores": sp.Integer(n * n * (d // h)),
            "quadratic": quadratic, "doubled": doubled, "total_doubled": total_doubled, "n_doubled": 2 * n,
            "quadratic_percent": rounded(100 * quadratic / total, 0),
            "quadratic_wins": n > 2 * d, "balanced": n == 2 * d,
            "growth_total_approx": rounded(answers["growth_total"], GROWTH_PLACES),
            "growth_total_terminates": (answers["growth_total"] * 10**GROWTH_PLACES).q == 1,
            "words_total": in_words(total),  # "about 12.9 billion", not 12,884,901,888
        })

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        n, d, h = _unpack(params)
        a = solution.answers
        n, d, h = sp.Integer(n), sp.Integer(d), sp.Integer(h)
        return [
            Slip("macs_projections", "no_output_projection", "you left out the output projection W_O: Q, K, V and "
                 "the output make four d_model x d_model products", 3 * n * d * d),
            Slip("macs_projections", "divided_by_heads", "you divided by the number of heads; splitting into heads "
                 "does not make the projections any cheaper", 4 * n * d * d / h),
            Slip("macs_scores", "one_head", "you counted one head only; every head computes its own scores",
                 a["macs_scores"] / h),
            Slip("macs_scores", "full_width_heads", "you gave every head all d_model dimensions; each head works on "
                 "d_model/h of them", h * n * n * d),
            Slip("macs_weighted_sum", "one_head", "you counted one head only; every head forms its own weighted sum",
                 a["macs_weighted_sum"] / h),
            Slip("macs_weighted_sum", "full_width_heads", "you gave every head all d_model dimensions; each head "
                 "works on d_model/h of them", h * n * n * d),
            Slip("attention_entries", "one_head", "you counted the weights of one head only; each head has its own "
                 "n x n matrix", n * n),
            Slip("macs_total", "no_weighted_sum", "you left the weighted sums A V out of the total",
                 a["macs_projections"] + a["macs_scores"]),
            Slip("macs_total", "no_projections", "you left the projections out of the total",
                 a["macs_scores"] + a["macs_weighted_sum"]),
            Slip("growth_projections", "quadratic", "the projections handle each token on its own, so they grow "
                 "linearly in n, not quadratically", sp.Integer(4)),
            Slip("growth_scores", "linear", "every token is scored against every token: n^2 grows four-fold",
                 sp.Integer(2)),
            Slip("growth_total", "linear", "only the projections grow linearly; the quadratic terms grow four-fold",
                 sp.Integer(2)),
            Slip("growth_total", "quadratic", "only the attention terms grow four-fold; the projections double",
                 sp.Integer(4)),
            Slip("growth_total", "inverted", "you divided the cost at n by the cost at 2n", 1 / a["growth_total"]),
            Slip("crossover_seq_len", "scores_only", "you compared the projections with the scores alone; the "
                 "weighted sums cost as much again", 4 * d),
            Slip("crossover_seq_len", "no_output_projection", "you counted three projections instead of four",
                 3 * d / 2),
            Slip("crossover_seq_len", "head_dim", "you used d_head instead of d_model; the heads together span "
                 "all of d_model", 2 * d / h),
        ]

    def check_params(self, params: dict[str, Any]) -> list[str]:
        problems = [*domain.integer("seq_len", params["seq_len"], 2, 65536),
                    *domain.integer("d_model", params["d_model"], 16, 4096),
                    *domain.integer("num_heads", params["num_heads"], 2, 64)]
        if problems:
            return problems
        n, d, h = _unpack(params)
        if d % h or d // h not in HEAD_DIMS:
            problems.append(f"num_heads must divide d_model into heads of {', '.join(map(str, HEAD_DIMS))} "
                            f"dimensions, got d_model {d} and num_heads {h}")
        if not RATIO_LOW * d <= n <= RATIO_HIGH * d:
            problems.append(f"seq_len must lie between d_model/16 and 64 d_model ({d // 16} to {64 * d}), got {n}, "
                            "so that the growth of the total is neither almost 2 nor almost 4")
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        a = solution.answers
        n, d, _ = _unpack(params)
        if not 2 < a["growth_total"] < 4:
            problems.append("the total does not grow between linearly and quadratically")
        # closed forms derived separately: total = 2 n d (2d + n), growth = 4 (d + n) / (2d + n)
        if a["macs_total"] != 2 * n * d * (2 * d + n) or a["growth_total"] != sp.Rational(4 * (d + n), 2 * d + n):
            problems.append("the total or its growth disagrees with its closed form")
        distance = min(a["growth_total"] - 2, 4 - a["growth_total"])
        if distance < sp.Rational(1, 20):
            problems.append("the growth of the total is within 0.05 of 2 or 4")
        return problems


def _unpack(params: dict[str, Any]) -> tuple[int, int, int]:
    return int(params["seq_len"]), int(params["d_model"]), int(params["num_heads"])
