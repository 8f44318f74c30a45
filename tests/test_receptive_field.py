import torch
from family_suite import FamilySuite
from hypothesis import assume, given
from hypothesis import strategies as st
from oracle import build
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.family import get_family
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "receptive_field"


def _probe(layers: list[dict]) -> torch.nn.Sequential:
    """The same geometry on one channel: all-ones conv weights, and average pools in place of max
    pools, so every input pixel in the field gets a strictly positive gradient."""
    modules = []
    for layer in layers:
        geometry = {k: v for k, v in layer.items() if k in ("kernel_size", "stride", "dilation")}
        if layer["type"] == "Conv2d":
            conv = torch.nn.Conv2d(1, 1, bias=False, **geometry)
            torch.nn.init.ones_(conv.weight)
            modules.append(conv)
        else:
            modules.append(torch.nn.AvgPool2d(**geometry))
    return torch.nn.Sequential(*modules)


def _fields(layers: list[dict], side: int) -> tuple[int, int]:
    """(side of the input region feeding output unit (0, 0), shift of that region for unit (0, 1)),
    measured on a side x side input (no padding, so the top-left unit's field is never cut off)."""
    x = torch.zeros(1, 1, side, side, requires_grad=True)
    out = _probe(layers)(x)
    assert out.shape[-1] >= 2, "input too small for two output units"
    columns = []
    for unit in (0, 1):
        (grad,) = torch.autograd.grad(out[0, 0, 0, unit], x, retain_graph=True)
        rows = grad[0, 0].sum(1).nonzero().flatten()
        cols = grad[0, 0].sum(0).nonzero().flatten()
        assert rows.max() - rows.min() == cols.max() - cols.min()  # square field
        columns.append(cols)
    return int(columns[0].max() - columns[0].min() + 1), int(columns[1].min() - columns[0].min())


def _probe_side(answers: dict) -> int:
    """The answers only size the input (two fields side by side, plus slack); torch measures."""
    return answers["receptive_field"] + 3 * answers["jump"]


def _check_against_torch(layers: list[dict], answers: dict) -> None:
    assert _fields(layers, _probe_side(answers)) == (answers["receptive_field"], answers["jump"])


class TestReceptiveField(FamilySuite):
    family = FAMILY
    option_sets = {"default": {}, "wide": {"convs": [1, 3], "dilations": [1, 2, 3], "pool": "either",
                                           "pool_kernels": [2, 3], "conv_strides": [1, 2]},
                   "dilated": {"dilations": [2, 3]}}
    pins = [
        ({"layers": []}, "layers must be a list of 1 to 10 layers"),
        ({"layers": [{"type": "Linear"}]}, "layers[1].type must be one of Conv2d, MaxPool2d, AvgPool2d"),
        ({"layers": [{"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "padding": 1}]},
         "layers[1]: a Conv2d layer here has no padding"),
        ({"layers": [{"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": -3}]},
         "layers[1].kernel_size must be an integer from 1 to 11"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract["params"]["layers"], contract["answers"])

    @PROPERTY
    @given(data=st.data())
    def test_property(self, data: st.DataObject) -> None:
        """As the shared one, except that four strided convs with pools and large dilations reach
        fields of thousands of pixels, and the probe's cost grows with its area: those (about 7% of
        the examples) are skipped."""
        problem = feasible(FAMILY, data.draw(SEED, label="seed"), data.draw(OPTIONS[FAMILY], label="options"))
        obj = problem.contract()
        assume(_probe_side(obj["answers"]) <= 1024)
        self.oracle(obj)


def test_layers_build_in_torch():
    """The contract's recipe builds each network, and an input one field wide gives one output unit."""
    for seed in range(40):
        obj = make_problem(FAMILY, seed).contract()
        side = obj["answers"]["receptive_field"]
        with torch.no_grad():
            out = build(obj["params"]["layers"])(torch.zeros(1, 3, side, side))
        assert out.shape[-2:] == (1, 1), seed


def _conv(k: int, **extra) -> dict:
    return {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": k} | extra


def test_sheet_003_exercise_7():
    """conv 5x5 s1, pool 2x2 s2, conv 3x3 s1, pool 2x2 s2: 5, 6, 10, then the last pool makes 12
    (10 is the field before the final pool; torch's autograd agrees on 12)."""
    pool = {"type": "MaxPool2d", "kernel_size": 2, "stride": 2}
    layers = [_conv(5, stride=1), pool, _conv(3, stride=1), pool]
    solution = get_family(FAMILY).solve({"layers": layers})
    assert [row["field"] for row in solution.work["rows"]] == [5, 6, 10, 12]
    assert solution.answers["receptive_field"] == 12 and solution.answers["jump"] == 4
    assert _fields(layers, 40) == (12, 4)


def test_sheet_003_exercise_28():
    """One 3x3 convolution with dilation 18 sees 1 + 18 * 2 = 37 pixels."""
    solution = get_family(FAMILY).solve({"layers": [_conv(3, dilation=18)]})
    assert solution.answers["receptive_field"] == 37
    assert get_family(FAMILY).solve({"layers": [_conv(3, dilation=1)]}).answers["receptive_field"] == 3


def test_well_posed_on_every_seed():
    sizes = set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        layers = problem.params["layers"]
        kinds = [layer["type"] for layer in layers]
        assert kinds[0] == "Conv2d" and "MaxPool2d" in kinds
        assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))  # conv and pool alternate
        assert problem.solution.answers["receptive_field"] <= 256  # hand-sized with default options
        sizes.add(problem.solution.answers["receptive_field"])
    assert len(sizes) >= 40  # issue #15: 212 distinct variants in 1,000 seeds before strided convs and 3x3 pools
