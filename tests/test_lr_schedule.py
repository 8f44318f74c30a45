import math
from fractions import Fraction

import pytest
import torch
from family_suite import FamilySuite
from oracle import as_float

from generator.families.lr_schedule import HEIGHT, SCHEDULES
from generator.family import get_family
from generator.numbers import exact
from generator.variants import make_problem

FAMILY = "lr_schedule"
ROUNDED = 0.5e-6 + 1e-9  # rates with sqrt(2) or sqrt(3) are rounded to six decimals
EXACT = 1e-9  # the others are exact; CosineAnnealingLR's recursion adds float error only


def scheduler(p: dict, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    """The torch scheduler the problem names, on an optimizer whose lr is base_lr."""
    kind = p["schedule"]
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=p["step_size"], gamma=as_float(p["gamma"]))
    if kind == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=as_float(p["gamma"]))
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=p["T_max"], eta_min=as_float(p["eta_min"]))
    base, low = as_float(p["base_lr"]), as_float(p["eta_min"])
    warmup, total = p["warmup_steps"], p["total_steps"]

    def factor(t: int) -> float:  # the statement's definition, as a LambdaLR multiplier of base_lr
        if t < warmup:
            return t / warmup
        return (low + (base - low) * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) / 2) / base

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def torch_rates(p: dict) -> list[float]:
    """get_last_lr() after t calls of scheduler.step(), for each asked t."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=as_float(p["base_lr"]))
    sched = scheduler(p, optimizer)
    rates, t = [], 0
    for wanted in p["steps"]:
        while t < wanted:
            optimizer.step()  # no gradient: a no-op, called first as torch expects
            sched.step()
            t += 1
        rates.append(sched.get_last_lr()[0])
    return rates


def check_against_torch(contract: dict) -> None:
    p, answers = contract["params"], contract["answers"]["lr"]
    assert len(answers) == len(p["steps"])
    for t, given, rate in zip(p["steps"], answers, torch_rates(p), strict=True):
        value = Fraction(given)
        # a stored value with more than six decimals is exact; one with six may be rounded
        limit = EXACT if (value * 10**6).denominator != 1 else ROUNDED
        assert abs(rate - float(value)) <= limit, (t, given, rate)


class TestLrSchedule(FamilySuite):
    family = FAMILY
    option_sets = {
        "default": {},
        "step": {"schedules": ["step"], "count": 5},
        "exponential": {"schedules": "exponential", "count": 3},
        "cosine": {"schedules": ["cosine"]},
        "warmup_cosine": {"schedules": ["warmup_cosine"], "count": 5},
    }
    pins = [
        ({"base_lr": "-1"}, "base_lr must be between 0 and 1"),
        ({"schedule": "linear"}, "schedule must be one of"),
        ({"steps": [9, 3, 1]}, "steps must be increasing"),
        ({"steps": [1, 2, 100000000]}, "steps must be at most"),
    ]

    def oracle(self, contract: dict) -> None:
        check_against_torch(contract)


def solve(**params) -> list:
    """The family's rates for hand-written params (numbers as decimal strings)."""
    numbers = {k: exact(v) if isinstance(v, str) and k != "schedule" else v for k, v in params.items()}
    return get_family(FAMILY).solve(numbers).answers["lr"]


def test_resnet_imagenet_recipe():
    """torchvision's ResNet recipe: SGD lr 0.1, StepLR(step_size=30, gamma=0.1) per epoch,
    so 0.1 for epochs 0-29, 0.01 from epoch 30, 0.001 from epoch 60."""
    rates = solve(schedule="step", base_lr="0.1", step_size=30, gamma="0.1", steps=[29, 30, 59, 60, 89])
    assert rates == [exact(x) for x in ("0.1", "0.01", "0.01", "0.001", "0.001")]


def test_cosine_annealing_landmarks():
    """CosineAnnealingLR (Loshchilov & Hutter's SGDR without restarts): halfway the rate is
    the mean of eta_0 and eta_min; at T_max/3 it is eta_min + 3/4 of the range."""
    rates = solve(schedule="cosine", base_lr="0.1", T_max=90, eta_min="0.001", steps=[30, 45, 90])
    assert rates == [exact("0.07525"), exact("0.0505"), exact("0.001")]
    rates = solve(schedule="cosine", base_lr="0.1", T_max=100, eta_min="0", steps=[25])
    assert rates == [exact("0.085355")]  # 0.1 (2 + sqrt 2)/4 = 0.0853553...


def test_warmup_then_cosine():
    """Linear warm-up to the peak at warmup_steps, then the cosine from the peak."""
    rates = solve(schedule="warmup_cosine", base_lr="0.5", warmup_steps=10, total_steps=40, eta_min="0",
                  steps=[0, 5, 10, 20, 40])
    assert rates == [exact(x) for x in ("0", "0.25", "0.5", "0.375", "0")]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_each_schedule_is_drawn_and_varied(schedule):
    variants = {make_problem(FAMILY, seed, {"schedules": [schedule]}).fingerprint for seed in range(300)}
    assert len(variants) >= 150, len(variants)


def test_the_figure_marks_the_answers():
    """The dots of the key's figure sit at the rates of (a), on the curve."""
    for seed in range(40):
        problem = make_problem(FAMILY, seed)
        plot, rates = problem.solution.work["plot"], problem.solution.answers["lr"]
        base = problem.params["base_lr"]
        for (x, y), rate in zip(plot["points"], rates, strict=True):
            assert abs(y - HEIGHT * rate / base) <= Fraction(1, 20)
            assert (x, y) in plot["path"] or problem.params["schedule"] == "step"


def test_warmup_names_the_base_rate_eta_max():
    """Issue #15: the warm-up schedule's statement called the base rate eta_0 and said the rate
    at t = 0 'is still eta_0', while its formula gives eta_0 * 0/w = 0 there. With warm-up the
    base rate is the peak, eta_max; the other schedules keep eta_0, their rate at t = 0."""
    from generator.pipeline import render_problem

    warm = make_problem("lr_schedule", 3, {"schedules": ["warmup_cosine"]})
    statement = " ".join(render_problem(warm)["statement"].split())
    assert r"\eta_0" not in statement and "is still" not in statement
    assert r"base learning rate $\eta_{\max} =" in statement
    step = make_problem("lr_schedule", 3, {"schedules": ["step"]})
    assert r"when the rate is still $\eta_0$" in " ".join(render_problem(step)["statement"].split())


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_the_heading_names_the_one_schedule_asked(schedule):
    from generator.families.lr_schedule import HEADINGS
    from generator.pipeline import render_problem

    heading = render_problem(make_problem("lr_schedule", 1, {"schedules": [schedule]}))["title"]
    assert heading == "Learning-rate schedule: " + HEADINGS[schedule]
