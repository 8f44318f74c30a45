"""Nothing lost, nothing half-written, nothing run that should not, byte-for-byte
reproducible output."""

import hashlib
import os
import subprocess

import pytest
from click.testing import CliRunner

import generator.classroom
from generator import compile as compile_module
from generator.cli import cli
from generator.compile import compile_pdf
from generator.errors import LatexError
from generator.files import write_atomic
from generator.render import Tex


def _gen(*args):
    result = CliRunner().invoke(cli, ["exam", *map(str, args)])
    assert "Traceback" not in result.output
    return result


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_command_twice_gives_identical_bytes_pdfs_included(tmp_path):
    assert _gen("--seed", 42, "--out", tmp_path / "a").exit_code == 0
    assert _gen("--seed", 42, "--out", tmp_path / "b").exit_code == 0
    first = _hashes(tmp_path / "a")
    assert set(first) == {"exam.tex", "key.tex", "answers.json", "exam.pdf", "key.pdf"}
    assert first == _hashes(tmp_path / "b")
    assert _gen("--seed", 42, "--out", tmp_path / "a").exit_code == 0  # rerun replaces cleanly
    assert _hashes(tmp_path / "a") == first


def test_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "answers.json"
    target.write_text("old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new" * 1000)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["answers.json"]  # no temporary left behind


def test_pdflatex_cannot_run_commands_read_or_write_outside(tmp_path):
    marker = tmp_path / "pwned"
    doc = (r"\documentclass{article}\begin{document}\immediate\write18{touch " + str(marker) + "}"
           r"\newread\r\immediate\openin\r=/etc/passwd \ifeof\r CLOSED\else OPEN\fi\end{document}")
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(compile_pdf(doc))
    assert not marker.exists()
    assert "CLOSED" in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    evil = tmp_path / "evil.tex"
    with pytest.raises(LatexError, match="write on file"):
        compile_pdf(r"\documentclass{article}\begin{document}\immediate\openout5=" + str(evil)
                    + r" \immediate\write5{x}\end{document}")
    assert not evil.exists()


def test_latex_failure_leaves_no_stale_pdf(tmp_path, monkeypatch):
    assert _gen("--seed", 1, "--out", tmp_path).exit_code == 0
    monkeypatch.setattr("generator.parts.compile_tex", lambda *a, **k: (_ for _ in ()).throw(
        LatexError("exam.tex: LaTeX failed:\n! Undefined control sequence.")))
    result = _gen("--seed", 2, "--out", tmp_path)
    assert result.exit_code == 1
    assert "Undefined control sequence" in result.output
    assert not (tmp_path / "exam.pdf").exists() and not (tmp_path / "key.pdf").exists()
    assert (tmp_path / "exam.tex").exists()


def test_without_pdflatex_sources_are_written_and_packages_named(tmp_path, monkeypatch):
    monkeypatch.setattr(compile_module.shutil, "which", lambda name: None)
    result = _gen("--seed", 3, "--out", tmp_path)
    assert result.exit_code == 1
    assert "texlive-latex-extra" in result.output
    assert {p.name for p in tmp_path.iterdir()} == {"exam.tex", "key.tex", "answers.json"}


def test_one_students_latex_failure_spares_the_class(tmp_path, monkeypatch):
    roster = tmp_path / "r.csv"
    roster.write_text("id,name\ns1,Ada\ns2,Bob\ns3,Cy\n")
    real = generator.classroom.render_part

    def broken_for_bob(part):
        tex = real(part)
        return Tex(tex.replace("Bob", r"Bob\undefinedmacro")) if part["student"]["id"] == "s2" else tex

    monkeypatch.setattr(generator.classroom, "render_part", broken_for_bob)
    result = _gen("--roster", roster, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "student s2" in result.output and "Undefined control sequence" in result.output
    assert (tmp_path / "out" / "s1" / "exam.pdf").exists() and (tmp_path / "out" / "s3" / "key.pdf").exists()
    assert not (tmp_path / "out" / "s2" / "exam.pdf").exists()
