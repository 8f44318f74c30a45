"""One PDF from several, in order: the class-wide exams.pdf and keys.pdf.

poppler's pdfunite copies one source at a time, so its memory stays small however
large the class (qpdf, through pikepdf, holds about 15 KB per page until it writes:
half a gigabyte for 2,000 students). pdfunite stamps the file with an /ID of the
time; it is replaced by a digest of the content, so the same class gives the same
bytes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from .errors import ToolError
from .files import atomic_path

HINT = "install it with: sudo apt-get install poppler-utils"


def require_pdfunite() -> str:
    path = shutil.which("pdfunite")
    if path is None:
        raise ToolError("pdfunite was not found, so exams.pdf and keys.pdf cannot be made", hint=HINT)
    return path


def unite(sources: list[Path], target: Path) -> None:
    """Write the pages of `sources`, in order, to `target` (atomically); with no
    sources (no student's PDF could be made) remove `target` instead."""
    if not sources:
        target.unlink(missing_ok=True)
        return
    with atomic_path(target) as tmp:
        done = subprocess.run([require_pdfunite(), *map(str, sources), str(tmp)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ToolError(f"pdfunite could not join the class's PDFs: {done.stderr.strip()}", hint=HINT)
        _fix_id_of_file(tmp)


TAIL = 4096  # bytes at the end of the file that hold the trailer


def _fix_id_of_file(path: Path) -> None:
    """_fix_id on the file's tail, the digest taken over everything before its trailer,
    reading the file piecewise (keys.pdf of a large class is hundreds of megabytes)."""
    with open(path, "r+b") as handle:
        base = max(0, handle.seek(0, 2) - TAIL)
        handle.seek(base)
        tail = bytearray(handle.read())
        trailer = tail.rfind(b"trailer")
        if trailer < 0:
            return
        digest = hashlib.sha256()
        handle.seek(0)
        remaining = base + trailer
        while remaining:
            block = handle.read(min(remaining, 1 << 20))
            digest.update(block)
            remaining -= len(block)
        _fix_id(tail, digest.hexdigest()[:16].encode())  # 16 bytes, as IDs are
        handle.seek(base)
        handle.write(tail)
        handle.truncate()


def _fix_id(tail: bytearray, digest: bytes) -> None:
    """Replace the trailer's `/ID [...]` by two copies of `digest`. The trailer follows
    the cross-reference table and nothing points into it, so its length may change."""
    trailer = tail.rfind(b"trailer")
    start = tail.find(b"/ID", trailer)
    if trailer < 0 or start < 0:
        return
    start = tail.index(b"[", start)
    tail[start : _array_end(tail, start)] = b"[(" + digest + b") (" + digest + b")]"


def _array_end(pdf: bytearray, start: int) -> int:
    """The index after the `]` closing the array that opens at `start`, stepping over
    the strings inside it: literal ones may hold any byte, brackets included."""
    i, depth = start + 1, 0
    while pdf[i] != ord("]") or depth:
        if pdf[i] == ord("\\") and depth:
            i += 1  # an escaped byte inside a literal string
        elif pdf[i] == ord("("):
            depth += 1
        elif pdf[i] == ord(")"):
            depth -= 1
        elif pdf[i] == ord("<") and not depth:
            i = pdf.index(b">", i)
        i += 1
    return i + 1
