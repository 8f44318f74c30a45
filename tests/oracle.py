"""Independent computations with PyTorch, the tests' oracle. None of them uses the
generator's solvers: answers are recomputed from the drawn parameters only. Also the
check every family's slips share, which compares a family's slips with its own answers."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from generator.family import get_family
from generator.variants import make_problem

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


def macs(module: torch.nn.Module, shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass on a zero input of `shape` ([C, H, W]),
    on the meta device (shapes only); FlopCounterMode counts a MAC as 2 FLOPs."""
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, *shape, device="meta"))
    return counter.get_total_flops() // 2


def trainable_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def close(a: Any, b: Any, tol: float = 1e-9) -> bool:
    return torch.allclose(tensor(a) if not isinstance(a, torch.Tensor) else a,
                          tensor(b) if not isinstance(b, torch.Tensor) else b,
                          atol=tol, rtol=0)


def slip_difference_rates(family_id: str, seeds: Iterable[int], options: dict[str, Any] | None = None, *,
                          among_offered: bool = False) -> dict[str, float]:
    """Per slip offered on some seed ("answer:name"), the fraction of the seeds on which it
    is offered and differs from its answer: a slip that gives the right answer, or is not
    offered, cannot tell a student what went wrong. With among_offered the fraction is of
    the seeds on which it is offered, for slips that only some variants allow."""
    family, seeds = get_family(family_id), list(seeds)
    offered: dict[str, int] = {}
    differ: dict[str, int] = {}
    for seed in seeds:
        problem = make_problem(family_id, seed, options)
        for slip in family.slips(problem.params, problem.solution):
            key = f"{slip.answer}:{slip.name}"
            offered[key] = offered.get(key, 0) + 1
            differ[key] = differ.get(key, 0) + (slip.value != problem.solution.answers[slip.answer])
    return {key: differ[key] / (offered[key] if among_offered else len(seeds)) for key in offered}
