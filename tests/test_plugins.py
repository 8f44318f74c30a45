"""Families from other packages (plugins, entry-point group `gen.families`), the
`gen new-family` scaffold, and `gen preview`.

The example plugin in tests/plugin_example is pip-installed (editable, no deps, no build
isolation: fast and offline) for this module and uninstalled afterwards if it was not
installed before. An editable install takes effect in new processes only, so the
commands that use it run `python -m generator` in a subprocess. Broken plugins are
simulated with fake entry points instead of installing broken packages."""

import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from generator import family
from generator.cli import cli
from generator.family import Family, Solution, load_families

EXAMPLE = Path(__file__).parent / "plugin_example"
EXAMPLE_PACKAGE = "gen-plugin-example"


def gen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`gen ...` in a new process, which sees packages installed after this one started."""
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


def run(*args: str) -> Result:
    """`gen ...` in this process (for the simulated plugins)."""
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True,
                   capture_output=True)


def installed(package: str) -> bool:
    try:
        importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture(scope="module")
def example_plugin() -> Iterator[None]:
    already = installed(EXAMPLE_PACKAGE)
    if not already:
        pip("install", "--no-deps", "--no-build-isolation", "-e", str(EXAMPLE))
    yield
    if not already:
        pip("uninstall", "-y", EXAMPLE_PACKAGE)


def _bank(folder: Path, *families: str) -> Path:
    path = folder / "bank.yaml"
    path.write_text("title: Plugin test\nproblems:\n" + "".join(f"  - family: {f}\n" for f in families),
                    encoding="utf-8")
    return path


# --- an installed plugin is a family like any other -------------------------------


def test_plugin_is_listed_with_its_package(example_plugin):
    done = gen("list")
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("example_dropout "))
    assert "Inverted dropout" in line and f"[plugin: package {EXAMPLE_PACKAGE} 0.1.0]" in line
    assert "sgd_step" in done.stdout
    assert "warning" not in done.stderr


def test_plugin_problem_is_a_contract_object(example_plugin):
    done = gen("problem", "example_dropout", "--seed", "3", "--json")
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)
    assert obj["family"] == "example_dropout" and set(obj["answers"]) == {"y"}


def test_plugin_in_a_bank_exam_and_check(example_plugin, tmp_path):
    bank = _bank(tmp_path, "example_dropout", "sgd_step")
    done = gen("exam", "--bank", str(bank), "--seed", "4", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    answers = json.loads((tmp_path / "out" / "answers.json").read_text(encoding="utf-8"))
    assert [p["family"] for p in answers["problems"]] == ["example_dropout", "sgd_step"]
    key = subprocess.run(["pdftotext", str(tmp_path / "out" / "key.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    assert "Inverted dropout zeroes the dropped units" in key  # the plugin's own template, compiled
    done = gen("check", "--bank", str(bank), "--seeds", "100")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "problem 1 example_dropout: 100/100 drawn, ok" in done.stdout
    assert "sample of every problem compiled" in done.stdout


# --- broken plugins: reported by name, and the other families still work -----------


class NoSolve(Family):
    id = "no_solve"
    title = "Draws but never solves"

    def draw(self, rng: Any, options: dict[str, Any]) -> dict[str, Any]:
        return {}


class NoTitle(Family):
    id = "no_title"

    def draw(self, rng: Any, options: dict[str, Any]) -> dict[str, Any]:
        return {}

    def solve(self, params: dict[str, Any]) -> Solution:
        return Solution(answers={})


class NoTemplate(NoTitle):
    id = "no_template"
    title = "Has everything but its template"


class NotAFamily:
    id = "not_a_family"


@pytest.fixture
def fake_plugins(monkeypatch) -> Iterator[Any]:
    """Make exactly the given entry points the installed plugins; the registry as it was
    is restored afterwards. The dicts are changed in place: other modules hold them."""
    load_families()
    saved = [(d, dict(d)) for d in (family.REGISTRY, family.PLUGINS, family.BROKEN)]

    def install(*points: tuple[str, str]) -> None:
        for family_id in family.PLUGINS:
            family.REGISTRY.pop(family_id)
        family.PLUGINS.clear()
        family.BROKEN.clear()
        eps = [importlib.metadata.EntryPoint(name, value, family.ENTRY_POINT_GROUP) for name, value in points]
        monkeypatch.setattr(family, "entry_points", lambda group: eps if group == family.ENTRY_POINT_GROUP else [])
        family.load_plugins.cache_clear()

    yield install
    for current, before in saved:
        current.clear()
        current.update(before)


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("ghost", "no_such_module_for_gen_tests:Ghost", "ModuleNotFoundError: No module named 'no_such_module"),
        ("no_solve", f"{__name__}:NoSolve", "`solve` is not implemented"),
        ("no_title", f"{__name__}:NoTitle", "class attribute `title` is missing or empty"),
        ("no_template", f"{__name__}:NoTemplate", "no_template.tex does not exist"),
        ("not_a_family", f"{__name__}:NotAFamily", "is not a subclass of generator.family.Family"),
        ("renamed", f"{__name__}:NoTemplate", "its id 'no_template' differs from the entry point's name 'renamed'"),
    ],
)
def test_broken_plugin_is_named_with_its_reason(fake_plugins, name, value, reason):
    fake_plugins((name, value))
    listed = run("list")
    assert listed.exit_code == 0
    assert f"warning: plugin family {name!r}" in listed.stderr and reason in listed.stderr
    assert "sgd_step" in listed.stdout and name not in listed.stdout
    used = run("problem", name, "--seed", "1")
    assert used.exit_code == 2
    assert f"plugin family {name!r}" in used.output and reason in used.output and "fix the plugin" in used.output
    assert run("problem", "sgd_step", "--seed", "1").exit_code == 0


def test_broken_plugin_in_a_bank_names_the_problem(fake_plugins, tmp_path):
    fake_plugins(("ghost", "no_such_module_for_gen_tests:Ghost"))
    result = run("exam", "--bank", str(_bank(tmp_path, "sgd_step", "ghost")), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "bank.yaml" in result.output and "plugin family 'ghost'" in result.output


def test_plugin_cannot_take_a_built_in_id(fake_plugins):
    fake_plugins(("sgd_step", f"{__name__}:SgdImpostor"))
    assert "already taken by generator.families.sgd_step" in run("list").stderr
    assert type(family.get_family("sgd_step")).__module__ == "generator.families.sgd_step"


class SgdImpostor(NoTitle):
    id = "sgd_step"
    title = "Not the real one"


# --- gen new-family ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_package(tmp_path_factory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("scaffold") / "gen-demo"
    result = run("new-family", "demo", "--out", str(folder))
    assert result.exit_code == 0, result.output
    pip("install", "--no-deps", "--no-build-isolation", "-e", str(folder))
    yield folder
    pip("uninstall", "-y", "gen-demo")  # an editable install's entry point stays visible until then


def test_scaffold_works_as_generated(demo_package):
    assert (demo_package / "gen_demo" / "templates" / "families" / "demo.tex").is_file()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=demo_package,
                           capture_output=True, text=True, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=demo_package,
                          capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    done = gen("problem", "demo", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert "total_params = " in done.stdout


def test_scaffolded_family_compiles(demo_package, tmp_path):
    bank = _bank(tmp_path, "demo")
    done = gen("check", "--bank", str(bank), "--seeds", "50")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [("9lives", "cannot name a family"), ("Dense", "cannot name a family"), ("dense-params", "cannot name a family"),
     ("class", "cannot name a family"), ("sgd_step", "a family 'sgd_step' already exists")],
)
def test_new_family_rejects_bad_names(tmp_path, name, message):
    result = run("new-family", name, "--out", str(tmp_path / "pkg"))
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "pkg").exists()


def test_new_family_will_not_write_into_a_full_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = run("new-family", "fresh_family", "--out", str(tmp_path))
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


# --- gen preview -------------------------------------------------------------------


def test_preview_writes_one_png_of_problem_and_solution(tmp_path):
    result = run("preview", "sgd_step", "--seed", "3", "--options", "{momentum: true}", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path == tmp_path / "sgd_step-3.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_preview_without_pdftoppm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr("generator.preview.shutil.which", lambda name: None)
    result = run("preview", "sgd_step", "--seed", "3", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "pdftoppm was not found" in result.output and "poppler-utils" in result.output


def test_new_commands_have_help():
    for command in ("preview", "new-family"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output


def test_plugin_problems_are_graded_with_their_slips(example_plugin, tmp_path):
    """A class made with a plugin family, then graded: a right answer and a slip."""
    import csv

    (tmp_path / "r.csv").write_text("id,name\na,Ada\nb,Bob\n", encoding="utf-8")
    done = gen("exam", "--bank", str(_bank(tmp_path, "example_dropout")), "--roster", str(tmp_path / "r.csv"),
               "--out", str(tmp_path / "class"))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = ["id,problem,answer,value"]
    for sid, pick in (("a", "answer"), ("b", "slip")):
        problem = json.loads((tmp_path / "class" / sid / "answers.json").read_text())["problems"][0]
        value = problem["answers"]["y"] if pick == "answer" else problem["slips"]["y"][0]["value"]
        rows.append(f'{sid},1,y,"[{", ".join(map(str, value))}]"')
    (tmp_path / "responses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    done = gen("grade", str(tmp_path / "responses.csv"), "--exams", str(tmp_path / "class"),
               "--out", str(tmp_path / "grades"))
    assert done.returncode == 0, done.stdout + done.stderr
    with open(tmp_path / "grades" / "grades.csv", newline="", encoding="utf-8") as handle:
        verdicts = {row["student"]: (row["verdict"], row["slip"]) for row in csv.DictReader(handle)}
    assert verdicts == {"a": ("correct", ""), "b": ("slip", "no_rescale")}
