
import pytest
import torch
from family_suite import FamilySuite
from oracle import as_float, tensor

from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

FAMILY = "rnn_forward"
GRADIENTS = {"grad_W_hh": "weight_hh_l0", "grad_W_xh": "weight_ih_l0", "grad_b": "bias_ih_l0"}
# tanh answers are rounded to four decimals; ReLU answers are exact
ROUNDED = 0.5e-4 + 1e-9
EXACT = 1e-9
# what the family promises a student who rounds every intermediate value to four decimals
ROUNDED_INTERMEDIATES = 1e-3


def torch_rnn(params: dict) -> dict[str, torch.Tensor]:
    """torch.nn.RNN with the contract's weights (bias_hh = 0), the loss 1/2 ||h_T||^2 and
    the gradients autograd finds."""
    x, w_xh = tensor(params["X"]), tensor(params["W_xh"])
    hidden, inputs = w_xh.shape
    rnn = torch.nn.RNN(inputs, hidden, nonlinearity=params["nonlinearity"])
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(w_xh)
        rnn.weight_hh_l0.copy_(tensor(params["W_hh"]))
        rnn.bias_ih_l0.copy_(tensor(params["b"]))
        rnn.bias_hh_l0.zero_()
    output, h_n = rnn(x.unsqueeze(1), tensor(params["h0"]).reshape(1, 1, hidden))
    loss = 0.5 * (h_n**2).sum()
    loss.backward()
    assert torch.equal(output[-1], h_n[0])
    return {"h": output.squeeze(1).detach(), "loss": loss.detach(),
            **{answer: getattr(rnn, name).grad for answer, name in GRADIENTS.items()}}


def rounded_by_hand(params: dict) -> dict[str, torch.Tensor]:
    """The recurrence and its back-propagation written out, every value rounded to four
    decimals as the tanh statement tells students to work."""
    def r(t: torch.Tensor) -> torch.Tensor:
        return torch.round(t * 10**4) / 10**4

    x, w_xh, w_hh, b = (tensor(params[k]) for k in ("X", "W_xh", "W_hh", "b"))
    states, pre = [tensor(params["h0"])], []
    for x_t in x:
        pre.append(r(w_xh @ x_t + w_hh @ states[-1] + b))
        states.append(r(torch.tanh(pre[-1])))
    delta = states[-1]
    grads = {name: torch.zeros(1) for name in GRADIENTS}
    terms: dict[str, list[torch.Tensor]] = {name: [] for name in GRADIENTS}
    for t in reversed(range(len(x))):
        g = r(delta * r(1 - states[t + 1] ** 2))
        terms["grad_W_hh"].append(r(torch.outer(g, states[t])))
        terms["grad_W_xh"].append(r(torch.outer(g, x[t])))
        terms["grad_b"].append(g)
        delta = r(w_hh.T @ g)
    grads = {name: r(sum(values)) for name, values in terms.items()}
    return {"h": torch.stack(states[1:]), "loss": r(0.5 * (states[-1] ** 2).sum()), **grads}


def _within(answers: dict, expected: dict[str, torch.Tensor], tol: float) -> None:
    for name, value in expected.items():
        error = (tensor(answers[name]) - value).abs().max().item()
        assert error <= tol, f"{name}: off by {error}"


class TestRnnForward(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "tanh": {"nonlinearity": "tanh"},
        "long": {"nonlinearity": "any", "steps": 3, "inputs": 2},
        "short": {"steps": 2, "inputs": 1},
    }
    pins = [
        ({"nonlinearity": "sigmoid"}, "nonlinearity must be one of relu, tanh"),
        ({"X": [["1/2"]]}, "X must be a matrix of 2 or 3 steps"),
        ({"b": ["1/10"]}, "b must be 2 biases"),
        ({"h0": ["3/2", "1/10"]}, "h0[1] must be between -1 and 1"),
        ({"W_hh": [["1/2", 1], [0, 1]], "nonlinearity": "relu"}, "W_hh[1][1] must be an integer"),
    ]

    def oracle(self, contract: dict) -> None:
        params, answers = contract["params"], contract["answers"]
        tanh = params["nonlinearity"] == "tanh"
        _within(answers, torch_rnn(params), ROUNDED if tanh else EXACT)
        if tanh:
            _within(answers, rounded_by_hand(params), ROUNDED_INTERMEDIATES)
        for name in ("h", "loss", *GRADIENTS):
            assert contract["tolerance"][name] == {"kind": "abs", "value": "1/1000"}


def test_worked_by_hand():
    """Two ReLU steps worked on paper: a_1 = (1.3, 1.9), a_2 = (0.4, -1.6), so the second
    unit is cut off at step 2 and sends nothing back; W_hh^T carries dL/da_2 = (0.4, 0) to
    dL/dh_1 = (0.4, 0)."""
    params = {"X": [[exact(1)], [exact(-1)]], "W_xh": [[exact(1)], [exact(2)]],
              "W_hh": [[exact(1), exact(0)], [exact(-1), exact(1)]], "b": [exact("0.1"), exact("-0.2")],
              "h0": [exact("0.2"), exact("0.3")], "nonlinearity": "relu"}
    answers = get_family(FAMILY).solve(params).answers
    assert answers["h"] == [[exact("1.3"), exact("1.9")], [exact("0.4"), 0]]
    assert answers["loss"] == exact("0.08")
    assert answers["grad_W_hh"] == [[exact("0.6"), exact("0.88")], [0, 0]]
    assert answers["grad_W_xh"] == [[0], [0]]
    assert answers["grad_b"] == [exact("0.8"), 0]


def test_tanh_first_step():
    """tanh(0.5) = 0.46211715726...: one step from h0 = 0 with W_xh x_1 = 0.5 is tabulated."""
    params = {"X": [[exact("0.5")], [exact("0.5")]], "W_xh": [[exact("1")], [exact("1")]],
              "W_hh": [[exact(0), exact(0)], [exact(0), exact(0)]], "b": [exact(0), exact(0)],
              "h0": [exact(0), exact(0)], "nonlinearity": "tanh"}
    answers = get_family(FAMILY).solve(params).answers
    assert answers["h"][0] == [exact("0.4621"), exact("0.4621")]


@pytest.mark.parametrize("seed", range(100))
def test_relu_cuts_a_unit_off_before_the_last_step(seed):
    """Checked with torch: some pre-activation before the last step is negative, and no
    pre-activation is zero."""
    params = make_problem(FAMILY, seed).contract()["params"]
    w_xh, w_hh, b = (tensor(params[k]) for k in ("W_xh", "W_hh", "b"))
    h, pre = tensor(params["h0"]), []
    for x_t in tensor(params["X"]):
        pre.append(w_xh @ x_t + w_hh @ h + b)
        h = torch.relu(pre[-1])
    assert all((a.abs() > 1e-9).all() for a in pre)
    assert any((a < 0).any() for a in pre[:-1])
    assert as_float(make_problem(FAMILY, seed).contract()["answers"]["loss"]) > 0
