"""Unified social credit codes (统一社会信用代码, GB 32100-2015): 18 characters from a 31-symbol
alphabet (digits and upper-case letters without I, O, S, V, Z); the last one is a check character
computed from the first 17 with the weights 3^i mod 31."""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authority (1-9, A-N, Y), organisation category, 6-digit division code, 9-char
# organisation code, check character.
_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


def normalise(code: str) -> str:
    return code.strip().upper()


def check_char(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("need 17 characters of the USCC alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True for a well-formed code whose check character matches (case-insensitive, trimmed)."""
    code = normalise(code)
    if len(code) != 18 or not _SHAPE.fullmatch(code):
        return False
    return check_char(code[:17]) == code[17]
