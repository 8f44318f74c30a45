"""Independent computations with PyTorch, the tests' oracle. Nothing here imports
the generator's solvers: answers are recomputed from the drawn parameters only."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import torch

torch.set_default_dtype(torch.float64)


def as_float(value: Any) -> float:
    """Contract value (int or 'p/q' string) -> float, for comparing with torch."""
    return float(Fraction(value))


def tensor(values: Any) -> torch.Tensor:
    """Nested contract values -> float64 tensor."""
    if isinstance(values, list):
        return torch.stack([tensor(v) for v in values]) if values else torch.zeros(0)
    return torch.tensor(as_float(values))


def build(layers: list[dict[str, Any]]) -> torch.nn.Sequential:
    """The contract's own recipe: torch.nn.Sequential from the layer dicts."""
    modules = []
    for layer in layers:
        kwargs = dict(layer)
        modules.append(getattr(torch.nn, kwargs.pop("type"))(**kwargs))
    return torch.nn.Sequential(*modules)


def trainable_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def close(a: Any, b: Any, tol: float = 1e-9) -> bool:
    return torch.allclose(tensor(a) if not isinstance(a, torch.Tensor) else a,
                          tensor(b) if not isinstance(b, torch.Tensor) else b,
                          atol=tol, rtol=0)
