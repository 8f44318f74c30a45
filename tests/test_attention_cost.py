"""attention_cost against torch.utils.flop_counter.FlopCounterMode: the layer is built in
torch from the params alone (four bias-free nn.Linear projections on a (1, n, d_model)
meta tensor, the per-head torch.matmul of Q_h K_h^T and of A_h V_h on (1, h, n, d/h)
tensors), each piece counted on its own, and again at 2n for the growth factors."""


import pytest
import torch
from family_suite import FamilySuite
from oracle import as_float, macs

from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

FAMILY = "attention_cost"


class Projections(torch.nn.Module):
    """W_Q, W_K, W_V and W_O, each d x d without bias; W_O sees an n x d input as the
    heads' concatenated outputs are, so it costs what it costs in the layer."""

    def __init__(self, d: int):
        super().__init__()
        self.q, self.k, self.v, self.o = (torch.nn.Linear(d, d, bias=False) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(self.q(x) + self.k(x) + self.v(x))


def _heads(x: torch.Tensor, h: int) -> torch.Tensor:
    """(1, n, d) -> (1, h, n, d/h), as MultiheadAttention splits the projections."""
    batch, n, d = x.shape
    return x.reshape(batch, n, h, d // h).transpose(1, 2)


class Scores(torch.nn.Module):
    def __init__(self, h: int):
        super().__init__()
        self.h = h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k = _heads(x, self.h), _heads(x, self.h)
        return torch.matmul(q, k.transpose(-2, -1))


class WeightedSum(torch.nn.Module):
    def __init__(self, h: int):
        super().__init__()
        self.h = h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = _heads(x, self.h)
        weights = torch.zeros(1, self.h, x.shape[1], x.shape[1], device=x.device)
        return torch.matmul(weights, v)


def _pieces(n: int, d: int, h: int) -> dict[str, int]:
    """MACs of each piece at sequence length n, and the attention matrices' entries."""
    with torch.device("meta"):
        projections, scores, weighted = Projections(d), Scores(h), WeightedSum(h)
    entries = scores(torch.zeros(1, n, d, device="meta")).numel()
    return {"macs_projections": macs(projections, (n, d)), "macs_scores": macs(scores, (n, d)),
            "macs_weighted_sum": macs(weighted, (n, d)), "attention_entries": entries}


def _check(contract: dict) -> None:
    p, a = contract["params"], contract["answers"]
    n, d, h = p["seq_len"], p["d_model"], p["num_heads"]
    now, doubled = _pieces(n, d, h), _pieces(2 * n, d, h)
    for name, count in now.items():
        assert a[name] == count, (name, a[name], count)
    total = now["macs_projections"] + now["macs_scores"] + now["macs_weighted_sum"]
    total_doubled = doubled["macs_projections"] + doubled["macs_scores"] + doubled["macs_weighted_sum"]
    assert a["macs_total"] == total
    assert as_float(a["growth_projections"]) == doubled["macs_projections"] / now["macs_projections"]
    assert as_float(a["growth_scores"]) == doubled["macs_scores"] / now["macs_scores"]
    assert abs(as_float(a["growth_total"]) - total_doubled / total) <= 0.005 + 1e-9
    # at the crossover the two quadratic pieces cost exactly what the projections cost, one
    # token less and they cost less (quadratic against linear: one crossing only)
    at = _pieces(a["crossover_seq_len"], d, h)
    assert at["macs_scores"] + at["macs_weighted_sum"] == at["macs_projections"]
    before = _pieces(a["crossover_seq_len"] - 1, d, h)
    assert before["macs_scores"] + before["macs_weighted_sum"] < before["macs_projections"]


class TestAttentionCost(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "bert_widths": {"d_models": [768], "heads": [12], "seq_lens": [128, 256, 512, 1024]},
        "long_sequences": {"d_models": [256, 512], "heads": [4, 8], "seq_lens": [4096, 8192, 16384]},
        "short_sequences": {"d_models": [1024], "heads": [8, 16], "seq_lens": [64, 77, 100]},
    }
    pins = [
        ({"num_heads": 5, "d_model": 768}, "num_heads must divide d_model"),
        ({"seq_len": 0}, "seq_len must be an integer from 2 to 65536"),
        ({"d_model": 100000}, "d_model must be an integer from 16 to 4096"),
        ({"seq_len": 8, "d_model": 1024, "num_heads": 8}, "seq_len must lie between d_model/16 and 64 d_model"),
    ]

    def oracle(self, contract: dict) -> None:
        _check(contract)


def test_bert_base():
    """BERT-base: n = 512, d_model = 768, 12 heads (Devlin et al.; the numbers are the
    textbook 4 n d^2 and n^2 d)."""
    params = {"seq_len": exact(512), "d_model": exact(768), "num_heads": exact(12)}
    answers = get_family(FAMILY).solve(params).answers
    assert answers["macs_projections"] == 1_207_959_552
    assert answers["macs_scores"] == 201_326_592
    assert answers["macs_weighted_sum"] == 201_326_592
    assert answers["attention_entries"] == 3_145_728
    assert answers["macs_total"] == 1_610_612_736
    assert answers["crossover_seq_len"] == 1536
    assert answers["growth_total"] == exact("5/2")  # 4 (768 + 512) / (1536 + 512)
    _check(make_problem(FAMILY, 0, pinned={k: int(v) for k, v in params.items()}).contract())


@pytest.mark.parametrize("seed", range(100))
def test_growth_sits_between_linear_and_quadratic(seed):
    a = make_problem(FAMILY, seed).solution.answers
    assert a["growth_projections"] == 2 and a["growth_scores"] == 4
    assert exact("2.05") <= a["growth_total"] <= exact("3.95")


def test_infeasible_options_say_which_to_change():
    from generator.errors import InfeasibleError

    with pytest.raises(InfeasibleError) as info:
        make_problem(FAMILY, 0, {"d_models": [64], "heads": [16]})
    assert "a head has" in info.value.message
