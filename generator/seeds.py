"""Stable seed derivation: no global random state anywhere.

A problem's seed is a hash of (bank, exam seed, position[, student]); its generator
is numpy's PCG64 seeded with that integer, so `gen problem FAMILY --seed N` redraws
exactly the problem recorded in answers.json.
"""

from __future__ import annotations

import hashlib

import numpy as np

_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I look-alikes


def _digest(*parts: object) -> bytes:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).digest()


def derive_seed(*parts: object) -> int:
    """A 32-bit seed determined by the parts (any printable values)."""
    return int.from_bytes(_digest(*parts)[:4], "big")


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def variant_code(*parts: object) -> str:
    """A short code like 'K7Q2-9XTD' printed on an exam and its key."""
    number = int.from_bytes(_digest(*parts)[:8], "big")
    chars = []
    for _ in range(8):
        number, index = divmod(number, len(_CODE_ALPHABET))
        chars.append(_CODE_ALPHABET[index])
    return "".join(chars[:4]) + "-" + "".join(chars[4:])
