"""The guide to writing a family (docs/writing-a-family.md and docs/family-rules.md)
stays current with the code: every template filter and every option validator is
documented, every rule in the rules table names tests that exist, and every test of the
shared harness is named there. Two rules the guide states that no other test enforces
are checked here: every built-in family has a FamilySuite test file, and draws the same
problem from the same seed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from family_suite import FamilySuite

from generator import family as family_module
from generator.family import PLUGINS, load_families
from generator.render import FILTERS
from generator.variants import make_problem

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "writing-a-family.md"
RULES = ROOT / "docs" / "family-rules.md"
PAGES = (GUIDE, RULES)
# A test named in a rules table: `tests/file.py::function` or `tests/file.py::Class::method`
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:::(\w+))?`")


def _tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of `text`: its rows (header first, separator left out), each a
    list of cells."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _table_with(column: str, text: str) -> list[dict[str, str]]:
    """The rows of the tables whose header has `column`, as dicts by header."""
    rows = []
    for table in _tables(text):
        header, *body = table
        if column in header:
            rows += [dict(zip(header, row, strict=False)) for row in body]
    return rows


def _first_names(rows: list[dict[str, str]], column: str) -> set[str]:
    """The name in backticks at the start of each row's `column`: `dec(places=4)` -> dec."""
    names = set()
    for row in rows:
        found = re.match(r"`(\w+)", row[column])
        assert found, f"a row without a name in backticks: {row}"
        names.add(found.group(1))
    return names


def _defined(path: Path) -> dict[str, set[str]]:
    """Module-level functions of a Python file ("" -> names) and each class's methods."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names[""].add(node.name)
        elif isinstance(node, ast.ClassDef):
            names[node.name] = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
    return names


RULE_ROWS = _table_with("Enforced by", RULES.read_text(encoding="utf-8"))


def test_every_filter_is_in_the_guide_and_no_other():
    documented = _first_names(_table_with("Filter", GUIDE.read_text(encoding="utf-8")), "Filter")
    assert documented == set(FILTERS), (
        f"not in the guide's filter table: {sorted(set(FILTERS) - documented)}; "
        f"in it but not in render.FILTERS: {sorted(documented - set(FILTERS))}")


def _validators() -> set[str]:
    """The public functions generator/family.py defines after its validators' heading."""
    source = Path(family_module.__file__).read_text(encoding="utf-8")
    heading = source.index("# --- validators shared by the families' options")
    line = source.count("\n", 0, heading) + 1
    return {node.name for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.lineno > line and not node.name.startswith("_")}


def test_every_option_validator_is_in_the_guide_and_no_other():
    validators = _validators()
    assert {"int_in", "ints_from", "decimal_in", "one_of", "boolean", "flag", "strs_from"} <= validators
    documented = _first_names(_table_with("Validator", GUIDE.read_text(encoding="utf-8")), "Validator")
    assert documented == validators, (
        f"not in the guide's validator table: {sorted(validators - documented)}; "
        f"in it but not in generator/family.py: {sorted(documented - validators)}")


def test_the_rules_table_is_there():
    names = {row["Rule"].split(" (")[0] for row in RULE_ROWS}
    assert {"registered", "labels", "strategies", "shipped", "gradable", "varied", "one reading",
            "clean page", "figures from the same data"} <= names, names


@pytest.mark.parametrize("row", RULE_ROWS, ids=[row["Rule"] for row in RULE_ROWS])
def test_every_rule_names_tests_that_exist(row):
    references = TEST_REFERENCE.findall(row["Enforced by"])
    assert references, f"the rule {row['Rule']!r} names no test (`tests/file.py::test_name`)"
    for path, first, second in references:
        file = ROOT / path
        assert file.is_file(), f"rule {row['Rule']!r}: {path} does not exist"
        defined = _defined(file)
        if second:
            assert second in defined.get(first, set()), f"rule {row['Rule']!r}: no {first}.{second} in {path}"
        else:
            assert first in defined[""], f"rule {row['Rule']!r}: no function {first} in {path}"
        name = second or first
        assert name.startswith("test_"), f"rule {row['Rule']!r}: {name} is not a test"


def test_every_harness_test_is_a_rules_enforcer():
    """A test added to the shared harness is added to the rules table too."""
    named = {second for row in RULE_ROWS for path, first, second in TEST_REFERENCE.findall(row["Enforced by"])
             if path == "tests/family_suite.py" and first == "FamilySuite"}
    harness = {name for name in vars(FamilySuite) if name.startswith("test_")}
    assert harness - named == set(), f"harness tests not in docs/family-rules.md: {sorted(harness - named)}"


def test_every_harness_setting_is_in_the_guide():
    text = GUIDE.read_text(encoding="utf-8")
    declared = {*FamilySuite.__annotations__, *vars(FamilySuite)}  # `family` is only annotated
    settings = {name for name in declared if not name.startswith(("_", "test_"))}
    assert {"family", "oracle", "option_sets", "pins", "min_distinct", "min_slip_rate"} <= settings
    missing = {name for name in settings if f"`{name}`" not in text and f"`{name}(" not in text}
    assert not missing, f"FamilySuite settings the guide does not explain: {sorted(missing)}"


def test_the_guide_names_only_rules_that_exist():
    """A rule named in italics in the guide (*labels*) is a row of the rules table."""
    names = {row["Rule"].split(" (")[0] for row in RULE_ROWS}
    text = GUIDE.read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![*\w])\*([a-z][a-z ]+)\*(?![*\w])", text)) - {"built-in"}
    assert named - names == set(), f"the guide names rules that are not in the table: {sorted(named - names)}"


def _anchors(page: Path) -> set[str]:
    """The anchors of a page's headings, as GitHub makes them."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_links_between_the_pages_lead_somewhere(page):
    for target, anchor in re.findall(r"\]\(([^)#:]*)(?:#([^)]*))?\)", page.read_text(encoding="utf-8")):
        linked = page.parent / target if target else page
        assert linked.exists(), f"{page.name} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{page.name} links to {target}#{anchor}, a heading it lacks"


BUILT_IN = sorted(name for name in load_families() if name not in PLUGINS)


def _suite_families() -> dict[str, str]:
    """family id -> the test file whose FamilySuite subclass names it (`family = "id"`,
    or `family = FAMILY` with FAMILY a string constant of the module)."""
    found = {}
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        module = ast.parse(path.read_text(encoding="utf-8")).body
        constants = {target.id: node.value.value for node in module if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Constant) for target in node.targets
                     if isinstance(target, ast.Name)}
        for node in module:
            suite = isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) == "FamilySuite" for b in node.bases)
            if not suite:
                continue
            for item in node.body:
                if isinstance(item, ast.Assign) and any(getattr(t, "id", None) == "family" for t in item.targets):
                    value = item.value
                    name = value.value if isinstance(value, ast.Constant) else constants.get(getattr(value, "id", ""))
                    found[name] = path.name
    return found


def test_every_built_in_family_has_a_family_suite():
    suites = _suite_families()
    missing = [name for name in BUILT_IN if suites.get(name) != f"test_{name}.py"]
    assert not missing, f"built-in families without a FamilySuite subclass in tests/test_<id>.py: {missing}"


@pytest.mark.parametrize("family_id", BUILT_IN)
def test_the_same_seed_draws_the_same_problem(family_id):
    for seed in (0, 1, 2**31 + 5):
        assert make_problem(family_id, seed).contract() == make_problem(family_id, seed).contract()
