"""Trainable parameters of torch.nn.RNN / LSTM / GRU (stacked, bidirectional, with or
without biases), layer by layer, and the shapes of what the module returns for a batch
of sequences (batch_first=False)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from .. import domain
from ..draws import pick
from ..family import Family, Option, Slip, Solution, boolean, ints_from, register, strs_from
from ..family import flag as flag_or

CELLS = ("RNN", "LSTM", "GRU")
# Gate blocks stacked in each weight matrix: LSTM i, f, g, o; GRU r, z, n; a plain RNN one.
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
# Sizes a student multiplies by hand (300: a word-embedding width).
INPUT_SIZES = [8, 10, 16, 20, 32, 50, 64, 100, 128, 256, 300]
HIDDEN_SIZES = [8, 10, 16, 20, 32, 50, 64, 100, 128, 256]
SEQ_LENS = [5, 6, 7, 10, 12, 15, 20, 25, 30, 50]
BATCHES = [2, 3, 4, 8, 16, 32, 64]


def _flag(value: Any, rng: np.random.Generator) -> bool:
    """A drawn boolean option: a fixed value, 'mostly' (true in three of four) or any."""
    if isinstance(value, bool):
        return value
    return bool(rng.integers(4 if value == "mostly" else 2))


def direction_count(gates: int, hidden: int, inputs: int, bias_vectors: int) -> dict[str, int]:
    """One layer in one direction: W_ih (g H x inputs), W_hh (g H x H) and the bias
    vectors b_ih, b_hh (g H each; torch keeps both)."""
    rows = gates * hidden
    parts = {"inputs": inputs, "w_ih": rows * inputs, "w_hh": rows * hidden, "bias": bias_vectors * rows}
    parts["total"] = parts["w_ih"] + parts["w_hh"] + parts["bias"]
    return parts


def module_counts(params: dict[str, Any], *, gates: int | None = None, bias_vectors: int | None = None,
                  later_inputs: int | None = None, recurrent: bool = True) -> dict[str, Any]:
    """First layer, each later layer and the total (all directions); the keywords change
    one step, for the slips."""
    hidden, layers = params["hidden_size"], params["num_layers"]
    directions = 2 if params["bidirectional"] else 1
    g = GATES[params["cell"]] if gates is None else gates
    vectors = (2 if params["bias"] else 0) if bias_vectors is None else bias_vectors
    inputs = directions * hidden if later_inputs is None else later_inputs
    first = direction_count(g, hidden, params["input_size"], vectors)
    later = direction_count(g, hidden, inputs, vectors)
    if not recurrent:
        first["total"] -= first["w_hh"]
        later["total"] -= later["w_hh"]
    first_layer, later_layer = directions * first["total"], directions * later["total"]
    return {"first": first, "later": later, "first_layer": sp.Integer(first_layer),
            "later_layer": sp.Integer(later_layer), "total": sp.Integer(first_layer + (layers - 1) * later_layer)}


def shapes(params: dict[str, Any]) -> dict[str, list[int]]:
    """What module(x) returns for x of shape (T, B, input_size), batch_first=False."""
    directions = 2 if params["bidirectional"] else 1
    t, b, h, layers = params["seq_len"], params["batch"], params["hidden_size"], params["num_layers"]
    found = {"output_shape": [t, b, directions * h], "h_n_shape": [directions * layers, b, h]}
    if params["cell"] == "LSTM":
        found["c_n_shape"] = [directions * layers, b, h]
    return found


@register
class RnnParams(Family):
    id = "rnn_params"
    title = "Parameters and output shapes of RNN, LSTM and GRU layers"
    answer_labels = {
        "params_first_layer": "the number of parameters of the first layer",
        "params_later_layer": "the number of parameters of each later layer",
        "params": "the number of parameters of the whole module",
        "output_shape": "the shape of the output",
        "h_n_shape": "the shape of the final hidden state",
        "c_n_shape": "the shape of the final cell state",
    }
    options = {
        "cells": Option(list(CELLS), "cell types to draw from: RNN, LSTM, GRU", strs_from(CELLS)),
        "bidirectional": Option("either", "bidirectional layers: true, false or 'either'",
                                flag_or("either")),
        "layers": Option([1, 2, 3], "numbers of stacked layers to draw from (1 to 4)", ints_from(range(1, 5))),
        "bias": Option("mostly", "biases: 'mostly' (three in four variants), 'any' (half), true or false",
                       flag_or("mostly", "any")),
        "with_shapes": Option(True, "also ask for the shapes the module returns on a batch", boolean),
    }

    def draw(self, rng: np.random.Generator, options: dict[str, Any]) -> dict[str, Any]:
        cell = pick(rng, options["cells"])
        bidirectional = bool(rng.integers(2)) if options["bidirectional"] == "either" else options["bidirectional"]
        directions, layers = 1 + bidirectional, pick(rng, options["layers"])
        # A later layer's input (D H) must differ from the first's, or the slip that feeds it
        # input_size inputs would be right.
        sizes = [(i, h) for i in INPUT_SIZES for h in HIDDEN_SIZES if layers == 1 or i != directions * h]
        input_size, hidden = pick(rng, sizes)
        params = {"cell": cell, "input_size": input_size, "hidden_size": hidden, "num_layers": layers,
                  "bidirectional": bidirectional, "bias": _flag(options["bias"], rng)}
        if options["with_shapes"]:
            # T != B and B != D L, so that putting the batch first gives another shape
            batches = [(t, b) for t in SEQ_LENS for b in BATCHES if t != b and b != directions * layers]
            params["seq_len"], params["batch"] = pick(rng, batches)
        return params

    def solve(self, params: dict[str, Any]) -> Solution:
        counts = module_counts(params)
        answers: dict[str, Any] = {}
        if params["num_layers"] > 1:
            answers["params_first_layer"] = counts["first_layer"]
            answers["params_later_layer"] = counts["later_layer"]
        answers["params"] = counts["total"]
        if "seq_len" in params:
            answers |= shapes(params)
        directions, gates, hidden = 2 if params["bidirectional"] else 1, GATES[params["cell"]], params["hidden_size"]
        work = {**counts, "gates": gates, "directions": directions, "rows": gates * hidden,
                "later_inputs": directions * hidden, "stacked": directions * params["num_layers"]}
        return Solution(answers=answers, work=work)

    def slips(self, params: dict[str, Any], solution: Solution) -> list[Slip]:
        counts = [
            ("no_recurrent", "you left out the hidden-to-hidden weights W_hh", module_counts(params, recurrent=False)),
        ]
        if params["bias"]:
            counts.append(("one_bias", "you counted one bias vector per gate block; PyTorch keeps two, b_ih and b_hh",
                           module_counts(params, bias_vectors=1)))
        if GATES[params["cell"]] > 1:
            article = "an" if params["cell"] == "LSTM" else "a"
            counts.append(("no_gates", f"you counted one weight block; {article} {params['cell']} stacks "
                           f"{GATES[params['cell']]} gate blocks in each weight matrix",
                           module_counts(params, gates=1)))
        found = [Slip(answer, name, says, values[key]) for name, says, values in counts
                 for answer, key in self._count_answers(solution)]
        found += self._input_slips(params, solution)
        if params["bidirectional"]:
            found += [Slip(answer, "one_direction", "you counted one direction per layer; a bidirectional layer "
                           "has its own weights for the forward and the backward direction",
                           solution.answers[answer] / 2) for answer, _ in self._count_answers(solution)]
        if "seq_len" in params:
            found += self._shape_slips(params, solution)
        return found

    @staticmethod
    def _count_answers(solution: Solution) -> list[tuple[str, str]]:
        names = [("params_first_layer", "first_layer"), ("params_later_layer", "later_layer"), ("params", "total")]
        return [(answer, key) for answer, key in names if answer in solution.answers]

    @staticmethod
    def _input_slips(params: dict[str, Any], solution: Solution) -> list[Slip]:
        """A later layer's input width taken as input_size, or as H for a bidirectional module."""
        if params["num_layers"] == 1:
            return []
        wrong_inputs = []
        if params["input_size"] != solution.work["later_inputs"]:
            wrong_inputs.append(("later_input_size", "you gave the later layers input_size inputs; they read the "
                                 "hidden states of the layer below", params["input_size"]))
        if params["bidirectional"]:
            wrong_inputs.append(("later_input_hidden", "you gave the later layers H inputs; they read both "
                                 "directions of the layer below, concatenated (2H)", params["hidden_size"]))
        found = []
        for name, says, inputs in wrong_inputs:
            values = module_counts(params, later_inputs=inputs)
            found += [Slip("params_later_layer", name, says, values["later_layer"]),
                      Slip("params", name, says, values["total"])]
        return found

    @staticmethod
    def _shape_slips(params: dict[str, Any], solution: Solution) -> list[Slip]:
        t, b, h = params["seq_len"], params["batch"], params["hidden_size"]
        d, layers = solution.work["directions"], params["num_layers"]
        states = [name for name in ("h_n_shape", "c_n_shape") if name in solution.answers]
        found = []
        if t != b:
            found.append(Slip("output_shape", "batch_first", "you put the batch first; with batch_first=False "
                              "the output is (T, B, features)", [b, t, d * h]))
        if d == 2:
            found.append(Slip("output_shape", "hidden_only", "the output concatenates the forward and backward "
                              "hidden states, 2H features per step", [t, b, h]))
        for name in states:
            if b != d * layers:
                found.append(Slip(name, "batch_first", "you put the batch first; the final states are always "
                                  "(layers x directions, B, H), whatever batch_first is", [b, d * layers, h]))
            if d == 2:
                found.append(Slip(name, "no_directions", "you left out the directions: each layer has a final "
                                  "state per direction, so the first size is 2 x num_layers", [layers, b, h]))
            if layers > 1:
                found.append(Slip(name, "last_layer_only", "you kept only the last layer's final state; every "
                                  "layer's is returned", [d, b, h]))
        return found

    def check_params(self, params: dict[str, Any]) -> list[str]:
        problems = [*domain.choice("cell", params["cell"], CELLS),
                    *domain.integer("input_size", params["input_size"], 1, 4096),
                    *domain.integer("hidden_size", params["hidden_size"], 1, 4096),
                    *domain.integer("num_layers", params["num_layers"], 1, 16)]
        for flag in ("bidirectional", "bias"):
            if not isinstance(params[flag], bool):
                problems.append(f"{flag} must be true or false, got {domain.shown(params[flag])}")
        if ("seq_len" in params) != ("batch" in params):
            problems.append("seq_len and batch must be given together")
        elif "seq_len" in params:
            problems += [*domain.integer("seq_len", params["seq_len"], 1, 10000),
                         *domain.integer("batch", params["batch"], 1, 4096)]
        return problems

    def check(self, params: dict[str, Any], solution: Solution) -> list[str]:
        if problems := self.check_params(params):
            return problems
        w, a = solution.work, solution.answers
        if a["params"] != w["first_layer"] + (params["num_layers"] - 1) * w["later_layer"]:
            problems.append("the layers do not add up to the total")
        return problems
