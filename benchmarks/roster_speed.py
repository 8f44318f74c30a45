"""Measure `gen exam --roster` against the alternatives, in one run on one machine.

    python benchmarks/roster_speed.py --students 200

Times (medians over --repeat runs where it is cheap):
  1. the whole `gen exam --roster` run, start to last file written;
  2. a naive build: latexmk on each student's exam.tex/key.tex, one document at a
     time (timed on --naive-sample documents, reported per PDF);
  3. one pdflatex pass over all the pages in a single document (the floor);
  4. a single `gen exam --seed 42` against latexmk on its own two .tex files;
  5. the same class with every name in another script (Cyrillic, CJK, Arabic, ...),
     which LuaLaTeX typesets on the side, against the Latin class of (1).
Prints seconds per PDF and the ratios, and the peak memory of any child process.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pikepdf


def timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def page_count(pdf: Path) -> int:
    with pikepdf.open(pdf) as document:
        return len(document.pages)


SCRIPTS = ["Дмитрий Иванов", "王芳", "Νίκος Παπαδόπουλος", "Nguyễn Thị Hương", "山田 太郎", "김민준",
           "محمد علي", "דוד כהן", "अनिल कुमार", "สมชาย ใจดี"]


def make_roster(path: Path, students: int, *, scripts: bool = False) -> None:
    """Latin names, or (scripts) every name one that pdflatex's fonts cannot show."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email"])
        for i in range(students):
            name = f"{SCRIPTS[i % len(SCRIPTS)]} {i}" if scripts else f"Student {i} Zoë O'Brien"
            writer.writerow([f"s{i:04d}", name, f"s{i}@example.edu"])


def latexmk(tex: Path, work: Path) -> float:
    shutil.copy(tex, work / tex.name)
    return timed(["latexmk", "-pdf", "-quiet", "-interaction=nonstopmode", tex.name], cwd=work)


def single_pass_of_everything(out: Path, students: int, work: Path) -> float:
    """All students' exam and key bodies in one document, compiled once."""
    bodies = []
    for i in range(students):
        for kind in ("exam", "key"):
            text = (out / f"s{i:04d}" / f"{kind}.tex").read_text(encoding="utf-8")
            bodies.append(text.split("\\begin{document}", 1)[1].rsplit("\\end{document}", 1)[0])
    preamble = (out / "s0000" / "exam.tex").read_text(encoding="utf-8").split("\\begin{document}", 1)[0]
    (work / "all.tex").write_text(preamble + "\\begin{document}\n" + "\n".join(bodies) + "\\end{document}\n",
                                  encoding="utf-8")
    return timed(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "all.tex"], cwd=work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--naive-sample", type=int, default=10, help="documents built with latexmk")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the cheap measurements")
    parser.add_argument("--bank", default="default")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gen-bench-") as tmp:
        base = Path(tmp)
        roster = base / "class.csv"
        make_roster(roster, args.students)
        out = base / "out"
        gen_s = timed(["gen", "exam", "--roster", str(roster), "--seed", "2026", "--bank", args.bank,
                       "--out", str(out)])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        scripts_roster = base / "scripts.csv"
        make_roster(scripts_roster, args.students, scripts=True)
        scripts_s = timed(["gen", "exam", "--roster", str(scripts_roster), "--seed", "2026", "--bank", args.bank,
                           "--out", str(base / "scripts-out")])
        pdfs = 2 * args.students
        pages = sum(page_count(out / name) for name in ("exams.pdf", "keys.pdf"))

        naive = []
        for i in range(min(args.naive_sample, args.students)):
            for kind in ("exam", "key"):
                work = base / f"naive-{i}-{kind}"
                work.mkdir()
                naive.append(latexmk(out / f"s{i:04d}" / f"{kind}.tex", work))
        naive_per_pdf = statistics.median(naive)

        floor_runs = []
        for r in range(max(1, args.repeat - 1)):
            work = base / f"floor-{r}"
            work.mkdir()
            floor_runs.append(single_pass_of_everything(out, args.students, work))
        floor_s = statistics.median(floor_runs)

        single = [timed(["gen", "exam", "--seed", "42", "--bank", args.bank, "--out", str(base / f"one-{r}")])
                  for r in range(args.repeat)]
        single_latexmk = []
        for r in range(args.repeat):
            work = base / f"one-latexmk-{r}"
            work.mkdir()
            single_latexmk.append(latexmk(base / "one-0" / "exam.tex", work)
                                  + latexmk(base / "one-0" / "key.tex", work))

    print(f"students: {args.students} ({pdfs} PDFs plus exams.pdf and keys.pdf; {pages} pages, "
          f"{pages / args.students:.1f} per student)")
    print(f"gen exam --roster:          {gen_s:7.2f} s   {1000 * gen_s / pdfs:6.1f} ms per PDF, "
          f"{1000 * gen_s / pages:.1f} ms per page")
    print(f"naive latexmk per document: {naive_per_pdf:7.2f} s   (median of {len(naive)}; "
          f"{naive_per_pdf * pdfs:.0f} s for the class)")
    print(f"one pdflatex pass, all pages:{floor_s:7.2f} s   {1000 * floor_s / pdfs:6.1f} ms per PDF")
    print(f"ratio naive / gen:          {naive_per_pdf * pdfs / gen_s:7.1f} x")
    print(f"ratio gen / single pass:    {gen_s / floor_s:7.2f} x")
    print(f"peak memory of a child:     {peak_mb:7.0f} MB")
    print(f"every name in another script:{scripts_s:7.2f} s   ratio to the Latin class {scripts_s / gen_s:.2f} x")
    print(f"single exam: gen {statistics.median(single):.2f} s vs latexmk on its .tex "
          f"{statistics.median(single_latexmk):.2f} s (medians of {args.repeat})")


if __name__ == "__main__":
    main()
