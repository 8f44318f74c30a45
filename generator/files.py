"""Atomic file writes: a temporary file in the same folder, then a rename, so an
interrupted run leaves the old file or the new one, never half of one. No fsync: it
guards against power loss rather than an interrupted run, and would cost a class of 200
students about a second."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import GenError


def prepare_dir(path: Path) -> Path:
    """Create the output folder, or say clearly why it cannot be used."""
    if path.exists() and not path.is_dir():
        raise GenError(f"{str(path)!r} is a file, not a folder", hint="choose another --out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenError(f"cannot create output folder {str(path)!r}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise GenError(f"output folder {str(path)!r} is not writable", hint="choose another --out")
    return path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file next to `path`, renamed onto it when the block succeeds and
    removed when it fails."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
