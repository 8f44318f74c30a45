"""rnn_params against torch: the module built as torch.nn.RNN / LSTM / GRU from the params
alone, its parameters counted (in total and per layer, from torch's parameter names) and
a forward pass on zeros(T, B, input_size) for the shapes; plus the counts a teacher checks
(LSTM(10, 20) has 2,560 parameters because torch keeps two bias vectors)."""

from typing import Any

import pytest
import torch
from family_suite import FamilySuite
from oracle import trainable_params

from generator.family import get_family
from generator.variants import make_problem

FAMILY = "rnn_params"


def _module(p: dict[str, Any]) -> torch.nn.RNNBase:
    return getattr(torch.nn, p["cell"])(p["input_size"], p["hidden_size"], p["num_layers"], bias=p["bias"],
                                        bidirectional=p["bidirectional"])


def _layer_params(module: torch.nn.RNNBase, layer: int) -> int:
    """Parameters of one layer, both directions: torch names them ..._l<k> and ..._l<k>_reverse."""
    return sum(p.numel() for name, p in module.named_parameters()
               if name.endswith(f"_l{layer}") or name.endswith(f"_l{layer}_reverse"))


def torch_answers(p: dict[str, Any]) -> dict[str, Any]:
    module = _module(p)
    answers: dict[str, Any] = {"params": trainable_params(module)}
    if p["num_layers"] > 1:
        answers["params_first_layer"] = _layer_params(module, 0)
        later = {_layer_params(module, k) for k in range(1, p["num_layers"])}
        assert len(later) == 1, "every later layer has the same count"
        answers["params_later_layer"] = later.pop()
    if "seq_len" in p:
        with torch.no_grad():
            output, state = module(torch.zeros(p["seq_len"], p["batch"], p["input_size"]))
        answers["output_shape"] = list(output.shape)
        if p["cell"] == "LSTM":
            answers["h_n_shape"], answers["c_n_shape"] = list(state[0].shape), list(state[1].shape)
        else:
            answers["h_n_shape"] = list(state.shape)
    return answers


class TestRnnParams(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "lstm_bidirectional_deep": {"cells": ["LSTM"], "bidirectional": True, "layers": [3, 4]},
        "counts_only_no_bias": {"cells": ["RNN", "GRU"], "bias": False, "with_shapes": False},
        "one_layer": {"bidirectional": False, "layers": [1], "bias": "any"},
    }
    pins = [
        ({"cell": "Transformer"}, "cell must be one of RNN, LSTM, GRU"),
        ({"hidden_size": 0}, "hidden_size must be an integer from 1 to 4096"),
        ({"num_layers": 100}, "num_layers must be an integer from 1 to 16"),
        ({"batch": -3}, "batch must be an integer from 1 to 4096"),
    ]

    def oracle(self, contract: dict) -> None:
        # every required answer and every extra one, exactly (counts and shapes are integers)
        assert contract["answers"] == torch_answers(contract["params"])


def _count(cell: str, input_size: int, hidden: int, layers: int = 1, bidirectional: bool = False,
           bias: bool = True) -> int:
    params = {"cell": cell, "input_size": input_size, "hidden_size": hidden, "num_layers": layers,
              "bidirectional": bidirectional, "bias": bias}
    return get_family(FAMILY).solve(params).answers["params"]


@pytest.mark.parametrize(("cell", "expected"), [("LSTM", 2560), ("GRU", 1920), ("RNN", 640)])
def test_single_layer_counts(cell, expected):
    """LSTM(10, 20) = 4*20*(10+20) + 2*4*20 = 2,560; GRU(10, 20) = 1,920; RNN(10, 20) = 640."""
    assert _count(cell, 10, 20) == expected == trainable_params(getattr(torch.nn, cell)(10, 20))


def test_two_layer_bidirectional_lstm():
    """Layer 1: 2 x 2,560; layer 2 reads 2 x 20 = 40 features: 2 x (4*20*(40+20) + 160) = 9,920."""
    assert _count("LSTM", 10, 20, layers=2, bidirectional=True) == 2 * 2560 + 2 * (4 * 20 * (40 + 20) + 160) == 15040
    assert trainable_params(torch.nn.LSTM(10, 20, 2, bidirectional=True)) == 15040


def test_one_bias_vector_is_a_slip():
    """Without b_hh an LSTM(10, 20) would have 2,480: the slip the fixed case is about."""
    problem = make_problem(FAMILY, 0, pinned={"cell": "LSTM", "input_size": 10, "hidden_size": 20, "num_layers": 1,
                                              "bidirectional": False, "bias": True})
    slips = {s.name: s.value for s in get_family(FAMILY).slips(problem.params, problem.solution)
             if s.answer == "params"}
    assert problem.solution.answers["params"] == 2560
    assert slips["one_bias"] == 2480 and slips["no_gates"] == 640


def test_slips_match_torch():
    """The count slips recomputed with torch modules that make the same mistake."""
    family = get_family(FAMILY)
    for seed in range(60):
        problem = make_problem(FAMILY, seed)
        p = problem.params
        found = {(s.answer, s.name): s.value for s in family.slips(p, problem.solution)}
        module = _module(p)
        if p["bias"]:
            b_hh = sum(t.numel() for name, t in module.named_parameters() if name.startswith("bias_hh"))
            assert found[("params", "one_bias")] == trainable_params(module) - b_hh
        w_hh = sum(t.numel() for name, t in module.named_parameters() if name.startswith("weight_hh"))
        assert found[("params", "no_recurrent")] == trainable_params(module) - w_hh
        if p["cell"] != "RNN":  # one gate block: a plain RNN of the same sizes
            assert found[("params", "no_gates")] == trainable_params(_module({**p, "cell": "RNN"}))


def test_drawn_variants_are_gradable_by_construction():
    for seed in range(300):
        p = make_problem(FAMILY, seed).params
        d = 2 if p["bidirectional"] else 1
        if p["num_layers"] > 1:
            assert p["input_size"] != d * p["hidden_size"]
        assert p["seq_len"] != p["batch"] and p["batch"] != d * p["num_layers"]
