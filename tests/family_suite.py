"""The tests every family shares, in one place: a family's test file subclasses
FamilySuite, names the family, gives its independent torch oracle and its nonsensical
pins, and adds only what is its own (the sheets' fixed cases, special properties).

    class TestAdamStep(FamilySuite):
        family = "adam_step"
        option_sets = {"default": {}, "two_steps": {"steps": 2}}
        pins = [({"lr": "-1"}, "lr must be between")]

        def oracle(self, contract: dict) -> None:
            ...  # recompute the answers from contract["params"] with torch; assert they agree

The suite then runs, for that family:
- the oracle over `seeds` for each of `option_sets` (the failing seed is named);
- the oracle over seeds and options drawn by hypothesis from tests/strategies.py,
  with the contract's exactness checked on every draw;
- every slip differs from its answer on at least `min_slip_rate` of the seeds, and on
  every seed the variant is gradable (generator.check.gradability, what `gen check`
  enforces): no slip is accepted within its answer's tolerance (a slip the grader
  cannot tell from the answer would give full marks for the mistake), and no two
  answers the family contrasts (`Family.contrasts`) are accepted for each other;
- the same gradability over seeds and options drawn by hypothesis (GRADABLE_EXAMPLES
  of them, 200 unless the environment's GEN_GRADABLE_EXAMPLES says otherwise), so that
  options outside the named option sets are covered too;
- at least `min_distinct` distinct variants in 1,000 seeds with the default options;
- the key of 50 seeds of each option set compiles without an overfull box over 1pt (a line too
  wide, or a page too high);
- with the bank's `answer_points`, every answer's points stand beside exactly one part of the
  statement (exam.cls's "(b) (4 points)"), and no answer is left for a line under the heading;
- every pin is refused with a message containing its text.
Parametrization comes from conftest.py's pytest_generate_tests, which reads the class."""

from __future__ import annotations

import os
import re
from fractions import Fraction
from functools import reduce
from typing import Any, ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import slip_difference_rates
from pins import rejected
from strategies import OPTIONS, PROPERTY, SEED, feasible

from generator.bank import Bank
from generator.check import gradability
from generator.compile import compile_tex
from generator.grade import matches
from generator.pipeline import render_exam, render_problem
from generator.variants import Exam, make_problem

# pdflatex's warning for a line that sticks out into the margin, with the amount
PART_POINTS = re.compile(r"\\(?:sub)*part\[(\d+)\]")  # exam.cls's \part[4]
OVERFULL = re.compile(r"^Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\)", re.MULTILINE)
# Drawn (seed, options) examples of the gradability property: a draw no slip can spoil is
# cheap to check (no torch), and the variants that spoil one are rare, so many are drawn.
GRADABLE_EXAMPLES = int(os.environ.get("GEN_GRADABLE_EXAMPLES", "200"))


class FamilySuite:
    family: ClassVar[str]
    seeds: ClassVar[range] = range(200)
    option_sets: ClassVar[dict[str, dict[str, Any]]] = {"default": {}}
    pins: ClassVar[list[tuple[dict[str, Any], str]]] = []
    min_slip_rate: ClassVar[float] = 0.95
    min_distinct: ClassVar[int] = 500  # distinct variants in 1,000 default seeds
    overfull_limit_pt: ClassVar[float] = 1.0

    def oracle(self, contract: dict[str, Any]) -> None:
        """Recompute the answers of `contract` (the problem's contract object) independently,
        with torch, and assert that they agree."""
        raise NotImplementedError

    def test_matches_torch(self, option_set: dict[str, Any]) -> None:
        for seed in self.seeds:
            contract = make_problem(self.family, seed, option_set).contract()
            try:
                self.oracle(contract)
            except AssertionError as exc:
                raise AssertionError(f"seed {seed}, options {option_set}: {exc}") from exc

    # One test method serves every family's subclass: hypothesis would otherwise take
    # the change of `self` between subclasses for a mistake.
    @settings(PROPERTY, suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data())
    def test_property(self, data: st.DataObject) -> None:
        """Any seed, any valid options: the contract is exact and torch agrees."""
        problem = feasible(self.family, data.draw(SEED, label="seed"), data.draw(OPTIONS[self.family], label="options"))
        self.oracle(problem.contract())

    def test_slips_differ_from_the_answer(self, option_set: dict[str, Any]) -> None:
        rates = slip_difference_rates(self.family, self.seeds, option_set, among_offered=True)
        assert rates, "the family offers no slips"
        assert all(rate >= self.min_slip_rate for rate in rates.values()), rates

    def test_no_slip_within_the_tolerance(self, option_set: dict[str, Any]) -> None:
        for seed in self.seeds:
            findings = gradability(make_problem(self.family, seed, option_set))
            assert not findings, f"seed {seed}, options {option_set}: " + "; ".join(findings)

    # Like test_property, one method for every subclass.
    @settings(PROPERTY, max_examples=GRADABLE_EXAMPLES, suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data())
    def test_gradable_property(self, data: st.DataObject) -> None:
        """Any seed, any valid options: no slip or contrasted answer is graded right."""
        seed, options = data.draw(SEED, label="seed"), data.draw(OPTIONS[self.family], label="options")
        findings = gradability(feasible(self.family, seed, options))
        assert not findings, f"seed {seed}, options {options}: " + "; ".join(findings)

    def test_varied(self) -> None:
        fingerprints = {make_problem(self.family, seed).fingerprint for seed in range(1000)}
        assert len(fingerprints) >= self.min_distinct, f"{len(fingerprints)} distinct variants in 1,000 seeds"

    def test_clean_page(self, option_set: dict[str, Any]) -> None:
        problems = [make_problem(self.family, seed, option_set) for seed in range(50)]
        for number, problem in enumerate(problems, 1):
            problem.number = number
        exam = Exam(bank=Bank(name="clean-page", title=self.family, slots=[]), seed=0, variant="TEST-0000",
                    problems=problems)
        _, log = compile_tex(render_exam(exam, key=True), label=self.family)
        wide = [float(pt) for pt in OVERFULL.findall(log) if float(pt) > self.overfull_limit_pt]
        assert not wide, f"overfull boxes of {wide} pt"

    def test_parts_show_their_points(self, option_set: dict[str, Any]) -> None:
        for seed in range(5):
            problem = make_problem(self.family, seed, option_set)
            # weights 1, 2, 4, ...: a part's points say which answers it shows, each one bit
            problem.answer_points = {name: Fraction(2**i) for i, name in enumerate(problem.solution.answers)}
            problem.points = sum(problem.answer_points.values(), Fraction(0))
            statement = render_problem(problem)["statement"]
            shown = [int(points) for points in PART_POINTS.findall(statement)]
            assert not statement.startswith("\\noindent{\\small"), f"seed {seed}: answers no part shows"
            assert sum(shown) == problem.points and reduce(int.__or__, shown, 0) == problem.points, \
                f"seed {seed}: parts show {shown} of {problem.answer_points}: an answer in two parts, or in none"

    def test_nonsensical_pins_are_rejected_by_name(self, pin: dict[str, Any], says: str) -> None:
        assert says in rejected(self.family, pin)

    def test_declares_pins(self) -> None:
        assert self.pins, f"{type(self).__name__} lists no nonsensical pins to refuse"


def matches_json(given: Any, correct: Any, tolerance: Any) -> bool:
    """The grader's own comparison, for a value in the contract's JSON form."""
    def number(value: Any) -> Any:
        if isinstance(value, list):
            return [number(v) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        try:
            return Fraction(value)
        except (TypeError, ValueError):
            return value

    return matches(number(given), correct, tolerance)
