"""Which characters the PDF fonts (T1/TS1 with utf8 inputenc) can print. A name
outside that set would stop pdflatex, so it is reported per student instead."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

_DECLARED = re.compile(r"\\DeclareUnicodeCharacter\{([0-9A-Fa-f]+)\}")
_ENCODINGS = ("t1enc.dfu", "ts1enc.dfu", "ot1enc.dfu", "omsenc.dfu")


@functools.lru_cache(maxsize=1)
def printable() -> frozenset[str]:
    chars = {chr(c) for c in range(0x20, 0x7F)}
    kpsewhich = shutil.which("kpsewhich")
    paths = []
    if kpsewhich:
        found = subprocess.run([kpsewhich, *_ENCODINGS], capture_output=True, text=True, check=False)
        paths = found.stdout.split()
    if not paths:  # no TeX Live: Latin-1 and Latin Extended-A, which T1 covers
        return frozenset(chars | {chr(c) for c in range(0xA0, 0x180)})
    for path in paths:
        with open(path, encoding="latin-1") as handle:
            chars.update(chr(int(code, 16)) for code in _DECLARED.findall(handle.read()))
    return frozenset(chars)


def unprintable(text: str) -> list[str]:
    """The characters of text the fonts cannot show, in order of appearance."""
    table = printable()
    return list(dict.fromkeys(c for c in text if c not in table))
