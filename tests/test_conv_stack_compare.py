import pytest
import torch
from hypothesis import given
from oracle import slip_difference_rates, trainable_params
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

SEEDS = range(200)
FAMILY = "conv_stack_compare"


def _conv(channels: int, kernel: int, device: str = "meta") -> torch.nn.Conv2d:
    return torch.nn.Conv2d(channels, channels, kernel, bias=False, device=device)


def _field(module: torch.nn.Module, side: int = 64) -> int:
    """Receptive field of an unpadded stride-1 stack: n input pixels give n - field + 1 outputs."""
    with torch.no_grad():
        return side - module(torch.zeros(1, 1, side, side)).shape[-1] + 1


@pytest.mark.parametrize("options", [{}, {"kernel_sizes": [2, 3, 4, 5, 6, 7], "depths": [2, 3, 4, 5, 6],
                                          "channels": [1, 3, 48, 100, 1024]}])
def test_matches_torch_modules(options):
    for seed in SEEDS:
        obj = make_problem(FAMILY, seed, options).contract()
        _check_against_torch(obj["params"], obj["answers"])


def _check_against_torch(p: dict, a: dict) -> None:
    c, k, n = (p[name] for name in ("channels", "kernel_size", "depth"))
    # the receptive field, measured on one-channel copies of the stack with zero images
    field = _field(torch.nn.Sequential(*[_conv(1, k, "cpu") for _ in range(n)]))
    assert a["receptive_field"] == field
    assert _field(_conv(1, field, "cpu")) == field  # the single conv sees the same region
    stack = trainable_params(torch.nn.Sequential(*[_conv(c, k) for _ in range(n)]))
    single = trainable_params(_conv(c, field))
    assert (a["params_stack"], a["params_single"]) == (stack, single)
    assert exact(a["ratio"]) == exact(stack) / single
    assert a["extra_nonlinearities"] == n - 1


@PROPERTY
@given(seed=SEED, options=OPTIONS[FAMILY])
def test_property_conv_stack_compare(seed: int, options: dict) -> None:
    """Any seed, any valid options: the contract holds and field and counts are torch's."""
    obj = feasible(FAMILY, seed, options).contract()
    _check_against_torch(obj["params"], obj["answers"])


@pytest.mark.parametrize("depth, single_kernel, stack_c2, single_c2", [(2, 5, 18, 25), (3, 7, 27, 49)])
def test_sheet_003_exercises_5_and_6(depth, single_kernel, stack_c2, single_c2):
    """Two 3x3 convs vs one 5x5: 18 C^2 vs 25 C^2; three 3x3 vs one 7x7: 27 C^2 vs 49 C^2."""
    family = get_family(FAMILY)
    for channels in (1, 64):
        answers = family.solve({"channels": channels, "kernel_size": 3, "depth": depth}).answers
        assert answers["receptive_field"] == single_kernel
        assert answers["params_stack"] == stack_c2 * channels**2
        assert answers["params_single"] == single_c2 * channels**2
        assert answers["ratio"] == exact(stack_c2) / single_c2


def test_well_posed_on_every_seed():
    family, seen = get_family(FAMILY), set()
    for seed in SEEDS:
        problem = make_problem(FAMILY, seed)
        assert family.check(problem.params, problem.solution) == []
        a = problem.solution.answers
        assert 0 < a["ratio"] < 1 and a["receptive_field"] % 2 == 1  # default odd kernels: a centred field
        seen.add(tuple(problem.params.values()))
    assert len(seen) >= 25


@pytest.mark.parametrize("answer, slip", [("receptive_field", "summed_kernels"), ("params_stack", "k_not_squared"),
                                          ("params_stack", "channels_once"), ("params_stack", "added_biases"),
                                          ("params_single", "summed_kernels")])
def test_slip_differs_from_answer(answer, slip):
    assert slip_difference_rates(FAMILY, SEEDS)[f"{answer}:{slip}"] >= 0.95


@pytest.mark.parametrize(("pin", "says"), [
    ({"channels": 0}, "channels must be an integer from 1 to 1024"),
    ({"depth": 1}, "depth must be an integer from 2 to 6"),
    ({"kernel_size": 100}, "kernel_size must be an integer from 2 to 7"),
])
def test_nonsensical_pins_are_rejected_by_name(pin: dict, says: str) -> None:
    """Pinned values outside the family's domain are refused with a message naming the parameter."""
    assert says in rejected(FAMILY, pin)
