import math

import pytest
import torch
from family_suite import FamilySuite
from oracle import as_float

from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

FAMILY = "weight_init"
SAMPLES = 20_000  # weights pooled for the statistical check: the std is then known to about 0.5 %


def _half_unit(*values: float, digits: int = 4) -> float:
    """Half a unit in the last of `digits` significant digits of the larger value."""
    return 0.5 * 10 ** (math.floor(math.log10(max(abs(v) for v in values))) - digits + 1)


def _shape(layer: dict) -> tuple[int, ...]:
    """The weight's shape as torch.nn stores it, from the contract's layer."""
    if layer["type"] == "Linear":
        return layer["out_features"], layer["in_features"]
    k = layer["kernel_size"]
    return layer["out_channels"], layer["in_channels"], k, k


def _init(weight: torch.Tensor, p: dict, generator: torch.Generator) -> None:
    """torch.nn.init's own function for the scheme, as the statement calls it."""
    slope = as_float(p["negative_slope"])
    function = getattr(torch.nn.init, p["scheme"] + "_")
    if p["scheme"].startswith("xavier"):
        gain = torch.nn.init.calculate_gain(p["nonlinearity"], slope if p["nonlinearity"] == "leaky_relu" else None)
        function(weight, gain=gain, generator=generator)
    else:
        function(weight, a=slope, mode=p["mode"], nonlinearity=p["nonlinearity"], generator=generator)


def _sampled(p: dict, seed: int) -> torch.Tensor:
    """At least SAMPLES weights, each drawn by initialising a weight of the layer's shape."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.empty(_shape(p["layer"]), dtype=torch.float32)
    draws = []
    for _ in range(-(-SAMPLES // weight.numel())):
        _init(weight, p, generator)
        draws.append(weight.flatten()[:SAMPLES].clone())
    return torch.cat(draws).double()


def _check_against_torch(contract: dict) -> None:
    p, a = contract["params"], contract["answers"]
    weight = torch.empty(_shape(p["layer"]))
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(weight)
    assert (a["fan_in"], a["fan_out"]) == (fan_in, fan_out)
    leaky = p["nonlinearity"] == "leaky_relu"
    gain = torch.nn.init.calculate_gain(p["nonlinearity"], as_float(p["negative_slope"]) if leaky else None)
    assert abs(gain - as_float(a["gain"])) <= _half_unit(gain) + 1e-9, (gain, a["gain"])
    # torch's own formulas (nn.init), evaluated with torch's fans and gain
    if p["scheme"].startswith("xavier"):
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    else:
        std = gain / math.sqrt(fan_in if p["mode"] == "fan_in" else fan_out)
    assert as_float(a["variance"]) == pytest.approx(std**2, rel=1e-12)
    uniform = p["scheme"].endswith("uniform")
    assert ("bound" in a) == uniform and ("std" in a) != uniform
    spread = math.sqrt(3.0) * std if uniform else std
    given = as_float(a["bound" if uniform else "std"])
    assert abs(spread - given) <= _half_unit(spread, given) + 1e-9, (spread, given)
    # and what torch's initialisation really draws
    samples = _sampled(p, contract["seed"])
    assert samples.square().mean().sqrt().item() == pytest.approx(std, rel=0.03)
    if uniform:
        top = samples.abs().max().item()
        assert 0.99 * spread < top <= spread * (1 + 1e-6), (top, spread)


class TestWeightInit(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "kaiming_fan_out_convs": {"schemes": ["kaiming_uniform", "kaiming_normal"], "modes": ["fan_out"],
                                  "layers": ["Conv2d"], "kernel_sizes": [1, 3, 11]},
        "xavier_leaky": {"schemes": ["xavier_uniform"], "nonlinearities": ["leaky_relu"]},
        "linear_tanh": {"layers": ["Linear"], "nonlinearities": ["tanh", "linear"], "modes": ["fan_in"]},
    }
    pins = [
        ({"scheme": "he_normal"}, "scheme must be one of"),
        ({"nonlinearity": "gelu"}, "nonlinearity must be one of"),
        ({"negative_slope": "1.5"}, "negative_slope must be"),
        ({"mode": "fan_avg"}, "mode must be"),
        ({"layer": {"type": "Linear", "in_features": 0, "out_features": 10}},
         "layer in_features must be an integer from 1 to 4096"),
        ({"layer": {"type": "Conv1d", "in_channels": 3, "out_channels": 8, "kernel_size": 3}},
         "layer must be a Linear or Conv2d layer"),
    ]

    def oracle(self, contract: dict) -> None:
        _check_against_torch(contract)


def _solve(scheme: str, layer: dict, nonlinearity: str, mode: str | None = None, slope: str = "0") -> dict:
    params = {"scheme": scheme, "layer": layer, "nonlinearity": nonlinearity, "negative_slope": exact(slope),
              "mode": mode}
    assert get_family(FAMILY).check_params(params) == []
    return get_family(FAMILY).solve(params).answers


def test_he_et_al_3x3_conv_with_64_channels():
    """He et al. (2015): std sqrt(2/n) with n = k*k*c = 3*3*64 = 576 for a 3x3 conv on 64 channels."""
    a = _solve("kaiming_normal", {"type": "Conv2d", "in_channels": 64, "out_channels": 64, "kernel_size": 3},
               "relu", "fan_in")
    assert (a["fan_in"], a["fan_out"], a["variance"]) == (576, 576, exact("1/288"))
    assert a["std"] == exact("0.05893")


def test_glorot_uniform_linear_100_to_50():
    """Glorot & Bengio (2010): U(-sqrt(6/(n_in + n_out)), ...), here sqrt(6/150) = 0.2 exactly."""
    a = _solve("xavier_uniform", {"type": "Linear", "in_features": 100, "out_features": 50}, "linear")
    assert (a["gain"], a["variance"], a["bound"]) == (1, exact("1/75"), exact("1/5"))


def test_calculate_gain_values_from_the_torch_docs():
    """torch.nn.init.calculate_gain: tanh 5/3, relu sqrt(2), leaky_relu(0.2) sqrt(2/1.04)."""
    layer = {"type": "Linear", "in_features": 256, "out_features": 128}
    assert _solve("kaiming_normal", layer, "tanh", "fan_in")["gain"] == exact("5/3")
    assert _solve("kaiming_normal", layer, "relu", "fan_in")["gain"] == exact("1.414")
    assert _solve("kaiming_normal", layer, "leaky_relu", "fan_in", "0.2")["gain"] == exact("1.387")
    # kaiming_uniform on 256 inputs with ReLU: bound sqrt(6/256) = 0.1531
    assert _solve("kaiming_uniform", layer, "relu", "fan_in")["bound"] == exact("0.1531")


@pytest.mark.parametrize("seed", range(200))
def test_mode_only_for_kaiming_and_slope_only_for_leaky(seed):
    p = make_problem(FAMILY, seed).params
    assert (p["mode"] is None) == p["scheme"].startswith("xavier")
    assert (p["negative_slope"] != 0) == (p["nonlinearity"] == "leaky_relu")


def test_a_leaky_slope_too_small_to_grade_is_refused():
    """Slope 0.01 moves the gain by 0.005 %: the ReLU-gain slip would be graded right."""
    from pins import rejected

    says = rejected(FAMILY, {"nonlinearity": "leaky_relu", "negative_slope": "0.01"})
    assert "slope_ignored on gain is within the tolerance" in says
