import pytest
import torch
from family_suite import FamilySuite
from oracle import as_float

from generator.family import get_family
from generator.numbers import exact
from generator.pipeline import render_problem
from generator.variants import make_problem

FAMILY = "computational_graph"
# the contract's op names as torch functions: the oracle is an interpreter of the nodes
TORCH_OPS = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "square": torch.square,
    "relu": torch.relu, "max": torch.maximum, "neg": torch.neg, "exp": torch.exp, "log": torch.log,
    "sigmoid": torch.sigmoid,
}
SMOOTH = {"exp", "log", "sigmoid"}
EXACT = 1e-9
ROUNDED = 0.5e-4 + 1e-9  # answers rounded to four decimals
ROUNDED_INTERMEDIATES = 1e-3  # what the family promises a student who rounds every value


def autograd(params: dict) -> dict:
    """Every node's value and gradient, and every input's gradient, from torch.autograd on
    float64 scalars built from the contract's nodes."""
    tensors = {x: torch.tensor(as_float(v), requires_grad=True) for x, v in params["inputs"].items()}
    for node in params["nodes"]:
        tensors[node["name"]] = TORCH_OPS[node["op"]](*(tensors[a] for a in node["args"]))
        tensors[node["name"]].retain_grad()
    output = tensors[params["nodes"][-1]["name"]]
    output.backward()
    names = [n["name"] for n in params["nodes"]]
    return {
        "value": output.item(),
        "node_values": {n: tensors[n].item() for n in names},
        "node_grads": {n: tensors[n].grad.item() for n in names},
        "grads": {x: 0.0 if tensors[x].grad is None else tensors[x].grad.item() for x in params["inputs"]},
    }


def rounded_by_hand(params: dict) -> dict:
    """The forward and backward pass as a student with a calculator does it, every value
    written down rounded to four decimals; each local gradient comes from autograd on the
    node's rounded arguments."""
    def r(value: float) -> float:
        return round(value * 10**4) / 10**4

    values = {x: as_float(v) for x, v in params["inputs"].items()}
    for node in params["nodes"]:
        args = [torch.tensor(values[a]) for a in node["args"]]
        values[node["name"]] = r(TORCH_OPS[node["op"]](*args).item())
    grads = {params["nodes"][-1]["name"]: 1.0}
    for node in reversed(params["nodes"]):
        args = [torch.tensor(values[a], requires_grad=True) for a in node["args"]]
        locals_ = torch.autograd.grad(TORCH_OPS[node["op"]](*args), args)
        for arg, slope in zip(node["args"], locals_, strict=True):
            product = r(grads[node["name"]] * r(slope.item()))
            grads[arg] = r(grads[arg] + product) if arg in grads else product
    names = [n["name"] for n in params["nodes"]]
    return {"value": values[names[-1]], "node_values": {n: values[n] for n in names},
            "node_grads": {n: grads[n] for n in names}, "grads": {x: grads.get(x, 0.0) for x in params["inputs"]}}


def _flat(answers: dict) -> dict[str, float]:
    flat = {"value": as_float(answers["value"])}
    for name in ("node_values", "node_grads", "grads"):
        flat |= {f"{name}.{k}": as_float(v) for k, v in answers[name].items()}
    return flat


def _within(answers: dict, expected: dict, tol: float) -> None:
    given, wanted = _flat(answers), {}
    wanted["value"] = expected["value"]
    for name in ("node_values", "node_grads", "grads"):
        wanted |= {f"{name}.{k}": v for k, v in expected[name].items()}
    assert given.keys() == wanted.keys()
    for key, value in wanted.items():
        assert abs(given[key] - value) <= tol, f"{key}: {given[key]} versus {value}"


class TestComputationalGraph(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "smooth": {"smooth": True},
        "max": {"shapes": ["max_branch", "neg_max"]},
        "quotient": {"shapes": "quotient", "smooth": True},
    }
    pins = [
        ({"inputs": {"x": "1/3", "y": 1, "z": 2}}, "inputs[x] must be a decimal with at most 1 digit"),
        ({"inputs": {"x": 1, "y": 2}}, "inputs must give a value to each of x, y, z"),
        ({"nodes": [{"name": "p", "op": "pow", "args": ["x", "y"]}, {"name": "q", "op": "add", "args": ["p", "z"]},
                    {"name": "f", "op": "mul", "args": ["q", "x"]}]}, "op must be one of"),
        ({"nodes": [{"name": "p", "op": "add", "args": ["x", "w"]}, {"name": "q", "op": "add", "args": ["p", "z"]},
                    {"name": "f", "op": "mul", "args": ["q", "y"]}]}, "args must name inputs or earlier nodes"),
        ({"nodes": [{"name": "p", "op": "relu", "args": ["x", "y"]}, {"name": "q", "op": "add", "args": ["p", "z"]},
                    {"name": "f", "op": "mul", "args": ["q", "y"]}]}, "relu takes 1 argument"),
    ]

    def oracle(self, contract: dict) -> None:
        params, answers = contract["params"], contract["answers"]
        smooth = any(n["op"] in SMOOTH for n in params["nodes"])
        _within(answers, autograd(params), ROUNDED if smooth else EXACT)
        if smooth:
            _within(answers, rounded_by_hand(params), ROUNDED_INTERMEDIATES)
        assert set(contract["tolerance"]) == {"value", "node_values", "node_grads", "grads"}


def _solve(inputs: dict, nodes: list[tuple[str, str, list[str]]]) -> dict:
    params = {"inputs": {k: exact(v) for k, v in inputs.items()},
              "nodes": [{"name": n, "op": op, "args": args} for n, op, args in nodes]}
    return get_family(FAMILY).solve(params).answers


def test_cs231n_add_multiply():
    """CS231n, "Backpropagation, Intuitions": f = (x + y) z at x = -2, y = 5, z = -4 gives
    q = 3, f = -12, df/dx = df/dy = z = -4 and df/dz = q = 3."""
    answers = _solve({"x": -2, "y": 5, "z": -4}, [("q", "add", ["x", "y"]), ("f", "mul", ["q", "z"])])
    assert answers["value"] == -12 and answers["node_values"]["q"] == 3
    assert answers["grads"] == {"x": -4, "y": -4, "z": 3}


def test_cs231n_sigmoid_neuron():
    """CS231n's sigmoid neuron, w = (2, -3, -3), x = (-1, -2): output 0.73, dx = (0.39, -0.59),
    dw = (-0.20, -0.39, 0.20) to the two decimals the notes print."""
    answers = _solve({"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
                     [("a", "mul", ["w0", "x0"]), ("b", "mul", ["w1", "x1"]), ("c", "add", ["a", "b"]),
                      ("d", "add", ["c", "w2"]), ("f", "sigmoid", ["d"])])
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    assert as_float(str(answers["value"])) == pytest.approx(0.73, abs=0.005)
    for name, value in expected.items():
        assert float(answers["grads"][name]) == pytest.approx(value, abs=0.005), name


@pytest.mark.parametrize("seed", range(100))
def test_two_paths_add(seed):
    """Checked with torch: in every variant some variable is used by two nodes and both
    paths carry gradient, so summing them matters."""
    params = make_problem(FAMILY, seed).contract()["params"]
    uses: dict[str, list[str]] = {}
    for node in params["nodes"]:
        for arg in node["args"]:
            uses.setdefault(arg, []).append(node["name"])
    assert any(len(users) >= 2 for users in uses.values())
    grads = autograd(params)["grads"]
    assert any(abs(g) > 1e-9 for g in grads.values())


@pytest.mark.parametrize("options", [{}, {"smooth": True}], ids=["default", "smooth"])
def test_every_slip_is_gradable_entry_by_entry(options):
    """The grader compares the dict answers entry by entry: every slip has an entry farther
    from the answer's than the tolerance, plus the student's own rounding (1/1000 again)."""
    for seed in range(200):
        obj = make_problem(FAMILY, seed, options).contract()
        for answer, slips in obj["slips"].items():
            tol = as_float(obj["tolerance"][answer]["value"])
            correct = obj["answers"][answer]
            for slip in slips:
                gaps = [abs(as_float(slip["value"][k]) - as_float(v)) for k, v in correct.items()]
                assert max(gaps) > 2 * tol, (seed, answer, slip["name"])


@pytest.mark.parametrize("smooth", [False, True])
def test_part_b_names_every_node_it_grades(smooth):
    """Issue #15: node_grads grades df/df = 1 too, but part (b) said only "every node v" and the
    key did not box it. The statement now names the nodes, the output first, and the key boxes
    each of them; argument values inside a function's own parentheses get no second pair."""
    for seed in range(5):
        problem = make_problem("computational_graph", seed, {"smooth": smooth})
        rendered = render_problem(problem)
        statement = " ".join(rendered["statement"].split())
        names = list(problem.solution.answers["node_grads"])
        listed = "($" + "$, $".join([names[-1], *reversed(names[:-1])]) + "$)"
        assert problem.solution.work["output"] == names[-1]
        assert f"every node $v$ {listed}" in statement
        assert f"\\bar {names[-1]} &= \\result{{1}}" in rendered["solution"]
        assert "((" not in rendered["solution"].replace("\\bigl(", "")
