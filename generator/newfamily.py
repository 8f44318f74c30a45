"""`gen new-family NAME`: a plugin package holding a small working family, its
template and its tests, ready for `pip install -e`. The package's files are the
templates in generator/scaffold/ (Jinja with its usual {{ }} delimiters; the LaTeX
template inside uses gen's own \\VAR{} and \\BLOCK{}, which these leave alone)."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

import jinja2

from .errors import GenError
from .family import BROKEN, load_families
from .files import prepare_dir, write_atomic

SCAFFOLD_DIR = Path(__file__).resolve().parent / "scaffold"
# Lowercase like every family id, and a Python identifier because it also names the module.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name) or keyword.iskeyword(name):
        raise GenError(f"{name!r} cannot name a family",
                       hint="use a lowercase Python identifier: letters, digits and underscores, "
                            "starting with a letter, e.g. dense_params")
    if name in load_families() or name in BROKEN:
        raise GenError(f"a family {name!r} already exists", hint="`gen list` shows the names taken")


def scaffold_family(name: str, out_dir: Path) -> list[Path]:
    """Write the plugin package for the family `name` into out_dir (new or empty)."""
    check_name(name)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise GenError(f"{str(out_dir)!r} already exists and is not an empty folder", hint="choose another --out")
    context = {
        "name": name,
        "class_name": "".join(part.capitalize() for part in name.split("_")),
        "module": f"gen_{name}",
        "package": f"gen-{name.replace('_', '-')}",
    }
    prepare_dir(out_dir)  # a clear message when the folder cannot be made
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(SCAFFOLD_DIR), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    written = []
    for source in sorted(SCAFFOLD_DIR.rglob("*.tmpl")):
        relative = source.relative_to(SCAFFOLD_DIR)
        target = out_dir.joinpath(*(_target_part(part, context) for part in relative.parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, env.get_template(relative.as_posix()).render(context))
        written.append(target)
    return written


def _target_part(part: str, context: dict[str, str]) -> str:
    """A scaffold path part -> the package's: `package` is the module, `family` the family."""
    renames = {
        "package": context["module"],
        "family.tex.tmpl": f"{context['name']}.tex",
        "test_family.py.tmpl": f"test_{context['name']}.py",
    }
    return renames.get(part, part.removesuffix(".tmpl"))
