"""Class files a print shop takes as they are: the bank's paper size, every copy of an
even length (each student starts on a right-hand page when printed double-sided), with
`pages: uniform` all copies equally long, and the owner's id on every page; previews and
exports' images as wide as the paper's text."""

import subprocess
import zipfile

import pytest
from click.testing import CliRunner

from generator.cli import cli

BANK = """title: Quiz
course: Test Course
{extra}problems:
  - points: 4
    one_of:
      - family: sgd_step
      - family: sgd_step
        options: {{momentum: true}}
  - family: yolo_output
    points: 2
"""


def _info(pdf) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def _pages(pdf) -> int:
    return int(_info(pdf)["Pages"])


def _page_text(pdf, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _build(root, extra: str, *args: str):
    (root / "bank.yaml").write_text(BANK.format(extra=extra))
    (root / "roster.csv").write_text("id,name\n" + "".join(f"s{i},Student {i}\n" for i in range(6)))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(root / "bank.yaml"), "--roster", str(root / "roster.csv"),
                                      "--out", str(root / "class"), *args])
    assert result.exit_code == 0, result.output
    return root / "class", result.output


@pytest.fixture(scope="module")
def even(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("even"), "")


@pytest.fixture(scope="module")
def uniform(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("uniform"), "paper: letter\npages: uniform\n")


def test_every_copy_has_an_even_length_so_each_starts_on_a_right_hand_page(even):
    folder, output = even
    for kind in ("exam", "key"):
        lengths = [_pages(folder / f"s{i}" / f"{kind}.pdf") for i in range(6)]
        assert all(n % 2 == 0 for n in lengths), (kind, lengths)
        assert _pages(folder / f"{kind}s.pdf") == sum(lengths)
    assert "print double-sided" in output


def test_every_page_says_page_n_of_its_copys_length(even):
    """One pdflatex pass, and yet each page knows its copy's length (preamble.tex's
    \\gentotal), in the per-student PDFs and in the joined class file."""
    folder, _ = even
    start = 0
    for i in range(6):
        for kind in ("exam", "key"):
            pdf = folder / f"s{i}" / f"{kind}.pdf"
            length = _pages(pdf)
            for page in range(1, length + 1):
                assert f"page {page} of {length}" in _page_text(pdf, page), (pdf, page)
        exam_length = _pages(folder / f"s{i}" / "exam.pdf")
        assert f"page {exam_length} of {exam_length}" in _page_text(folder / "exams.pdf", start + exam_length)
        start += exam_length


def test_a4_is_the_default(even):
    assert "595.276 x 841.89" in _info(even[0] / "exams.pdf")["Page size"]


def test_uniform_copies_are_equally_long_on_letter_paper(uniform):
    folder, output = uniform
    for kind in ("exam", "key"):
        lengths = {_pages(folder / f"s{i}" / f"{kind}.pdf") for i in range(6)}
        assert len(lengths) == 1 and lengths.pop() % 2 == 0
        for pdf in [folder / f"{kind}s.pdf", folder / "s0" / f"{kind}.pdf", folder / "grading.pdf"]:
            assert _info(pdf)["Page size"].startswith("612 x 792"), pdf
    length = _pages(folder / "s0" / "exam.pdf")
    assert f"staple every {length // 2} sheet" in output and f"6 copies, {6 * length} pages" in output


def test_each_copy_is_its_slice_of_the_class_file(uniform):
    folder, _ = uniform
    length = _pages(folder / "s0" / "exam.pdf")
    for i in range(6):
        for page in range(1, length + 1):
            class_page = _page_text(folder / "exams.pdf", i * length + page)
            assert _page_text(folder / f"s{i}" / "exam.pdf", page) == class_page


def test_the_owner_is_named_on_every_page(uniform):
    folder, _ = uniform
    for i in range(6):
        pdf = folder / f"s{i}" / "exam.pdf"
        assert all(f"s{i}" in _page_text(pdf, page) for page in range(1, _pages(pdf) + 1))


def test_paper_on_the_command_line_wins(tmp_path):
    (tmp_path / "bank.yaml").write_text(BANK.format(extra="paper: a4\n"))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--paper", "letter",
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert _info(tmp_path / "o" / "exam.pdf")["Page size"].startswith("612 x 792")


@pytest.mark.parametrize(("key", "value"), [("paper", "a5"), ("pages", "same")])
def test_a_bad_value_is_named(tmp_path, key, value):
    (tmp_path / "bank.yaml").write_text(BANK.format(extra=f"{key}: {value}\n"))
    result = CliRunner().invoke(cli, ["exam", "--bank", str(tmp_path / "bank.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and f"`{key}` is one of" in result.output


# --- the paper of previews and exports' images ------------------------------------
# A4's text is 210 - 2 x 22 = 166 mm wide, Letter's 215.9 - 44 = 171.9 mm (margin 2.2 cm);
# previews and images are rasterised at 110 dpi.
MM = 110 / 25.4  # pixels per millimetre


def _png_width(path) -> int:
    return int.from_bytes(path.read_bytes()[16:20], "big")  # the IHDR chunk's width


@pytest.mark.parametrize(("paper", "page_mm"), [("a4", 210), ("letter", 215.9)])
def test_a_preview_is_as_wide_as_the_paper(tmp_path, paper, page_mm):
    args = ["preview", "yolo_output", "--seed", "1", "--out", str(tmp_path)]
    result = CliRunner().invoke(cli, args + (["--paper", paper] if paper != "a4" else []))
    assert result.exit_code == 0, result.output
    assert abs(_png_width(tmp_path / "yolo_output-1.png") - page_mm * MM) <= 1.5


def _export_widths(root, extra: str, *args: str) -> set[int]:
    (root / "bank.yaml").write_text(BANK.format(extra=extra))
    result = CliRunner().invoke(cli, ["export", "--format", "qti", "--bank", str(root / "bank.yaml"), "--variants", "1",
                                      "--out", str(root / "quiz.zip"), *args])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(root / "quiz.zip") as archive:
        images = [name for name in archive.namelist() if name.endswith(".png")]
        assert images
        return {int.from_bytes(archive.read(name)[16:20], "big") for name in images}


def test_exports_images_are_as_wide_as_the_banks_papers_text(tmp_path):
    border_mm = 2 * 6 * 25.4 / 72  # the preview package's 6 pt on either side
    for paper, text_mm in (("a4", 166), ("letter", 171.9)):
        (tmp_path / paper).mkdir()
        widths = _export_widths(tmp_path / paper, f"paper: {paper}\n")
        assert all(abs(w - (text_mm + border_mm) * MM) <= 1.5 for w in widths), (paper, widths)
    (tmp_path / "override").mkdir()
    overridden = _export_widths(tmp_path / "override", "paper: letter\n", "--paper", "a4")
    assert overridden == _export_widths(tmp_path / "a4", "")  # no key: a4


@pytest.mark.parametrize("command", [["preview", "yolo_output", "--seed", "1"], ["export", "--format", "moodle"],
                                     ["exam"]])
def test_a_bad_paper_on_the_command_line_is_named(tmp_path, command):
    result = CliRunner().invoke(cli, [*command, "--paper", "a5", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "'--paper'" in result.output and "'a4', 'letter'" in result.output
