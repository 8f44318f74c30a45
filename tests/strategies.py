"""Hypothesis strategies of every built-in family's options, read off the family's
declared `options` (defaults, validators, allowed values), and the checks every drawn
problem must pass. Used by each family's property test (tests/test_<family>.py) and by
the compile test in tests/test_latex.py.

An option left out of a drawn dict takes its default. Where a validator allows a huge
range (channel counts up to 2048, map sides up to 256), the lists are kept short: the
values are still drawn from the whole allowed range. Some combinations are infeasible
by design (they raise InfeasibleError); `feasible` rejects those examples, and each
space is shaped so that most of its examples are feasible."""

from __future__ import annotations

import json
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import sympy as sp
from hypothesis import reject, settings
from hypothesis import strategies as st

from generator.errors import InfeasibleError
from generator.families.adam_step import BETA2S as ADAM_BETA2S
from generator.families.batchnorm_shapes import LAYOUTS
from generator.families.computational_graph import SHAPES as GRAPH_SHAPES
from generator.families.focal_loss import GRIDS
from generator.families.lr_schedule import SCHEDULES as LR_SCHEDULES
from generator.families.resblock_params import CHANNELS as BLOCK_CHANNELS
from generator.families.resblock_params import KERNELS as BLOCK_KERNELS
from generator.families.resblock_params import REDUCTIONS, SIZES
from generator.families.resnet_params import PRESETS
from generator.families.transformer_params import PRESETS as TRANSFORMER_PRESETS
from generator.families.weight_init import LAYER_TYPES as INIT_LAYERS
from generator.families.weight_init import MODES as INIT_MODES
from generator.families.weight_init import NONLINEARITIES as INIT_NONLINEARITIES
from generator.families.weight_init import SCHEMES as INIT_SCHEMES
from generator.variants import Problem, make_problem

SEED = st.integers(0, 2**32 - 1)
# The family tests' property test: 30 (seed, options) examples, no per-example deadline
# (the first example of a family pays for torch's warm-up).
PROPERTY = settings(max_examples=30, deadline=None)


def some(values: Iterable[Any], *, min_size: int = 1, max_size: int | None = 4) -> st.SearchStrategy[Any]:
    """What ints_from / strs_from accept: a list of distinct allowed values, or (when one
    value is enough) a bare value, which they read as a list of one."""
    values = list(values)
    lists = st.lists(st.sampled_from(values), unique=True, min_size=min_size, max_size=max_size)
    return lists | st.sampled_from(values) if min_size == 1 else lists


def one(*values: Any) -> st.SearchStrategy[Any]:
    """What one_of / boolean accept."""
    return st.sampled_from(values)


def _square(channels: st.SearchStrategy[int], sides: st.SearchStrategy[int]) -> st.SearchStrategy[list[int]]:
    return st.builds(lambda c, n: [c, n, n], channels, sides)


BOOL = one(True, False)

# family id -> option name -> strategy of the values a bank may give it
SPACES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "batchnorm_shapes": {"layouts": some(LAYOUTS)},
    "adam_step": {"steps": one(1, 2), "beta2s": some(ADAM_BETA2S)},
    "lr_schedule": {"schedules": some(LR_SCHEDULES), "count": one(3, 4, 5)},
    "attention_by_hand": {
        "dims": some([1, 4, 9]),
        "causal": one(False, True, "either"),
        "lengths": some([2, 3]),
        "entries": one("integers", "tenths"),
    },
    "attention_cost": {
        "d_models": some([16, 32, 64, 96, 128, 192, 256, 320, 384, 512, 576, 640, 768, 960, 1024, 2048, 4096]),
        "heads": some([2, 3, 4, 6, 8, 12, 16, 32, 64]),
        "seq_lens": some([2, 16, 50, 77, 128, 197, 512, 1000, 2048, 8192, 65536]),
    },
    "softmax_cross_entropy": {"batch_sizes": some([2, 3]), "classes": some([2, 3, 4])},
    "batchnorm_forward": {
        "batch_sizes": some([4, 5]),
        "features": some([2, 3]),
        # "any", or one momentum with two decimals in (0, 1), 0.5 included
        "momentum": one("any") | st.integers(1, 99).map(lambda k: f"0.{k:02d}"),
    },
    "transposed_conv_output_size": {
        "kernel_sizes": some(range(1, 8)),
        "strides": some(range(1, 5)),
        "dilations": some(range(1, 4)),
        "inverse": BOOL,
    },
    "weight_init": {
        "schemes": some(INIT_SCHEMES),
        "layers": some(INIT_LAYERS),
        "nonlinearities": some(INIT_NONLINEARITIES),
        "modes": some(INIT_MODES),
        "kernel_sizes": some(range(1, 12)),
    },
    "rnn_forward": {"nonlinearity": one("relu", "tanh", "any"), "steps": some([2, 3]), "inputs": some([1, 2])},
    "computational_graph": {"shapes": some(GRAPH_SHAPES, max_size=None), "smooth": BOOL},
    "transformer_params": {
        "preset": one("none", *TRANSFORMER_PRESETS),
        "d_models": some(range(128, 1025, 64)),
        "layers": some(range(2, 49)),
        "bias": one("mostly", "any", True, False),
    },
    "rnn_params": {
        "cells": some(["RNN", "LSTM", "GRU"]),
        "bidirectional": one(False, True, "either"),
        "layers": some(range(1, 5)),
        "bias": one("mostly", "any", True, False),
        "with_shapes": BOOL,
    },
    "conv_architecture": {
        "kernel_sizes": st.none() | some(range(1, 12)),
        # sides a course would use: a 256-pixel input is valid, but only a target given
        # with it makes it feasible (2-4 convs do not reach a small map from there)
        "input": st.none() | _square(st.integers(1, 512), one(*range(4, 97))),
        "target": st.none() | _square(st.integers(1, 512), one(*range(1, 9))),
        "odd_pool": BOOL,
    },
    "conv_as_matrix": {
        "in_channels": some(range(1, 4)),
        "out_channels": some(range(1, 4)),
        "kernel_size": some(range(2, 5)),
        "input_length": some(range(2, 9)),
        "padding": some(range(0, 3)),
        "max_weight": one(*range(1, 6)),
    },
    "conv_by_hand": {
        "kernel_sizes": some([2, 3]),
        "strides": some([1, 2]),
        "paddings": some([0, 1]),
        "kernel": one("integer", "average", "either"),
    },
    "conv_macs": {
        "kernel_sizes": some([3, 5, 7]),
        "channels": some(range(2, 2049)),
        "map_sides": some(range(1, 257)),
        "square": BOOL,
    },
    "conv_output_size": {
        "kernel_sizes": some(range(1, 12)),
        "strides": some(range(1, 5)),
        # two at least: comparing (the default) needs two, and one is tested as infeasible
        "dilations": some(range(1, 7), min_size=2),
        "compare": BOOL,
        "flooring": BOOL,
    },
    "conv_params": {
        "channels": some(range(1, 2049), min_size=2),
        "kernel_sizes": some(range(1, 12)),
        "bias": one("yes", "no", "either"),
    },
    "conv_stack_compare": {
        "channels": some(range(1, 1025)),
        "kernel_sizes": some(range(2, 8)),
        "depths": some(range(2, 7)),
    },
    "focal_loss": {"gammas": some(range(1, 6)), "grid": one(*GRIDS), "count": one(*range(2, 6))},
    "gd_convergence": {"max_entry": one(*range(1, 13)), "fastest": BOOL},
    "inception_module": {
        "in_channels": some([64, 96, 128, 160, 192, 256, 384, 480, 512, 528, 832]),
        "kernel_sizes": some([3, 5, 7]),
        "map_sides": some(range(1, 113)),
    },
    "pool_backprop": {
        "mode": one("max", "avg", "any"),
        "kernel_sizes": some([2, 3, 4]),
        "overlap": BOOL,
        "max_input": one(*range(3, 10)),
    },
    "receptive_field": {
        "convs": some(range(1, 5)),
        "kernel_sizes": some(range(1, 12)),
        "conv_strides": some(range(1, 4)),
        "dilations": some(range(1, 25)),
        "pool_kernels": some([2, 3]),
        "pool": one("max", "avg", "either"),
    },
    "resblock_params": {
        "designs": one(2, 3),
        # must include the bottleneck (the validator says so), and bottleneck alone is less
        # than the two designs any comparison needs
        "kinds": st.lists(one("single", "basic"), unique=True, min_size=1).map(lambda kinds: [*kinds, "bottleneck"]),
        "channels": some(BLOCK_CHANNELS),
        "reduction": some(REDUCTIONS),
        "kernel_sizes": some(BLOCK_KERNELS),
        "bias": one(True, False, "any"),
        "order": one("pre", "post", "any"),
        "plain_width": one("outer", "inner", "any"),
        "macs": BOOL,
        "sizes": some(SIZES),
    },
    "resnet_params": {
        "preset": one("none", *PRESETS),
        "block": one("any", "basic", "bottleneck"),
        "num_stages": some([2, 3, 4]),
        "max_blocks": one(*range(1, 5)),
        "expansions": some([2, 4]),
    },
    "sgd_step": {"places": one(1, 2), "momentum": BOOL},
    "two_layer_backprop": {
        "samples": some(range(2, 5)),
        "inputs": some(range(2, 5)),
        "hidden": some(range(2, 4)),
    },
    "yolo_output": {
        "grid_sizes": some(range(1, 33)),
        "boxes": some(range(1, 7)),
        "classes": some(range(1, 1001)),
    },
}

# family id -> strategy of whole option dicts (every option may be left at its default)
OPTIONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    family_id: st.fixed_dictionaries({}, optional=space) for family_id, space in SPACES.items()
}


def feasible(family_id: str, seed: int, options: dict[str, Any]) -> Problem:
    """The drawn problem, its contract checked; an infeasible option combination
    (InfeasibleError) rejects the example instead."""
    try:
        problem = make_problem(family_id, seed, options)
    except InfeasibleError:
        reject()
    assert_exact_contract(problem.contract())
    return problem


def assert_exact_contract(obj: dict[str, Any]) -> None:
    """The contract is plain JSON without a single float, and its numbers are exact."""
    assert json.loads(json.dumps(obj)) == obj
    assert_json_without_floats(obj, "contract")
    assert_exact(obj["params"], "params")
    assert_exact(obj["answers"], "answers")


def assert_json_without_floats(value: Any, where: str) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_json_without_floats(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            assert_json_without_floats(item, f"{where}.{key}")
    else:
        assert value is None or isinstance(value, bool | int | str), f"{where}: {value!r}"


def assert_exact(value: Any, where: str) -> None:
    """Contract numbers: JSON integers or strings both Fraction and sympy parse."""
    assert not isinstance(value, float), where
    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_exact(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_exact(item, f"{where}.{key}")
    elif isinstance(value, str) and value[:1].isdigit() or isinstance(value, str) and value.startswith("-"):
        assert sp.Rational(value) == Fraction(value), where
