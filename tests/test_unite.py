"""Joining the class's PDFs with pdfunite: pages in order, the same bytes every time."""

import pikepdf
import pytest

from generator import unite as unite_module
from generator.errors import ToolError
from generator.unite import _fix_id, unite


def _pdf(path, pages):
    with pikepdf.new() as pdf:
        for _ in range(pages):
            pdf.add_blank_page()
        pdf.save(path)
    return path


def test_pages_in_order_and_same_bytes_twice(tmp_path):
    sources = [_pdf(tmp_path / f"{n}.pdf", n) for n in (1, 2, 3)]
    unite(sources, tmp_path / "a.pdf")
    unite(sources, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    with pikepdf.open(tmp_path / "a.pdf") as joined:
        assert len(joined.pages) == 6


def test_the_id_is_replaced_whatever_bytes_its_strings_hold():
    # literal strings may hold brackets, escaped parentheses and balanced ones
    tail = b"trailer\n<</Size 3 /ID [(a]\\)b) (x(y)z)] /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"
    pdf = bytearray(b"%PDF-1.4\nxref\n" + tail)
    _fix_id(pdf, b"0123456789abcdef")
    assert bytes(pdf).endswith(
        b"/ID [(0123456789abcdef) (0123456789abcdef)] /Root 1 0 R >>\nstartxref\n9\n%%EOF\n")


def test_no_sources_leave_no_file(tmp_path):
    stale = _pdf(tmp_path / "exams.pdf", 1)
    unite([], stale)
    assert not stale.exists()


def test_missing_pdfunite_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(unite_module.shutil, "which", lambda name: None)
    with pytest.raises(ToolError, match="pdfunite was not found"):
        unite([_pdf(tmp_path / "a.pdf", 1)], tmp_path / "out.pdf")
