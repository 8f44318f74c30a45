"""Softmax and log-softmax as exact sympy expressions (exponentials of rationals), shared
by the families that need them (attention weights, cross-entropy). The keys show them
rounded with `rounding.rounded` (correctly rounded from 50 digits, exactly near a
rounding boundary); the expressions themselves never pass through floats."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp


def softmax(logits: Sequence[sp.Expr]) -> list[sp.Expr]:
    """exp(z_i) / sum_j exp(z_j), shifted by the largest logit as libraries do (the value
    is the same; the shifted form is the one a student computes by hand)."""
    shift = max(logits)
    exps = [sp.exp(z - shift) for z in logits]
    total = sum(exps, sp.Integer(0))
    return [e / total for e in exps]


def log_softmax(logits: Sequence[sp.Expr]) -> list[sp.Expr]:
    """log of softmax: z_i - log(sum_j exp(z_j))."""
    shift = max(logits)
    log_total = shift + sp.log(sum((sp.exp(z - shift) for z in logits), sp.Integer(0)))
    return [z - log_total for z in logits]
