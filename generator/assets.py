"""Files a bank names (question files, images, a logo, a template folder), resolved
inside the bank's own folder only: an absolute path, or a `..` or symbolic link that
leads out of the folder, is refused. Images get a name made of their content's hash,
under which they are copied into pdflatex's private compile folder (pdflatex itself may
read nothing outside that folder)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".pdf")


def inside(root: Path, base: Path, written: str, what: str) -> Path:
    """`written` (relative to the folder `base`) as a path that stays inside `root`;
    ValueError saying why not."""
    if not written or not written.strip():
        raise ValueError(f"an empty {what} path")
    if PurePosixPath(written).is_absolute() or PureWindowsPath(written).is_absolute() or written.startswith("~"):
        raise ValueError(f"the {what} path {written!r} is absolute; give it relative to the bank's folder")
    path = (base / written).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"the {what} path {written!r} leads out of the bank's folder {str(root)!r}")
    if not path.exists():
        raise ValueError(f"the {what} {written!r} was not found (looked for {path})")
    return path


@dataclass
class Assets:
    """The bank's folder and the images its text uses (compile-folder name -> file)."""

    root: Path
    images: dict[str, Path] = field(default_factory=dict)

    def image(self, base: Path, written: str) -> str:
        """An image path as written in the bank (relative to `base`): the name under
        which the compile folder holds it. ValueError when it may not be used."""
        path = inside(self.root, base, written, "image")
        if path.suffix.lower() not in IMAGE_TYPES:
            raise ValueError(f"the image {written!r} is not a {', '.join(IMAGE_TYPES)} file")
        if not path.is_file():
            raise ValueError(f"the image {written!r} is not a file")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        name = f"img-{digest}{'.jpg' if path.suffix.lower() == '.jpeg' else path.suffix.lower()}"
        self.images[name] = path
        return name
