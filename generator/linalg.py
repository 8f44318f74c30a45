"""Exact matrix arithmetic on nested lists of sympy numbers, the form in which the
contract and the keys carry matrices and vectors (rows of Integers and Rationals)."""

from __future__ import annotations

from typing import Any

import sympy as sp

Matrix = list[list[sp.Rational]]
Vector = list[sp.Rational]


def transpose(m: Matrix) -> Matrix:
    return [list(col) for col in zip(*m, strict=True)]


def matmul(p: Matrix, q: Matrix) -> Matrix:
    return [[sum(pi * qi for pi, qi in zip(row, col, strict=True)) for col in zip(*q, strict=True)] for row in p]


def matvec(m: Matrix, v: Vector) -> Vector:
    return [sum(mi * vi for mi, vi in zip(row, v, strict=True)) for row in m]


def scaled(value: Any, factor: sp.Rational) -> Any:
    """A number, vector or matrix (nested to any depth) times `factor`."""
    if isinstance(value, list):
        return [scaled(v, factor) for v in value]
    return value * factor
