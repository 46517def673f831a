"""Customer-name normalisation for collision (撞单) detection: two registrations name the same
customer when their names agree after NFKC, dropping spaces/punctuation/brackets, lower-casing
and removing legal-form suffixes."""

from __future__ import annotations

import unicodedata

# Longest first so 股份有限公司 is removed whole rather than leaving 股份.
LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")


def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # P* punctuation (brackets included), Z* separators, C* controls, S* symbols (e.g. ＋, ·, ®).
    return not (cat[0] in "PZCS" or ch.isspace())


def normalise_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if _keep(ch)).lower()
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
                break
    return text
