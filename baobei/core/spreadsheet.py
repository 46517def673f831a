"""Cells for CSV and XLSX exports that a spreadsheet cannot run (CSV/formula injection).

A text cell starting with ``= + - @``, a tab or a carriage return (or their full-width forms
``＝ ＋ － ＠``, which some spreadsheet versions also read as formula starts) is written with a
leading apostrophe, so Excel, WPS and LibreOffice show it as text instead of evaluating it — and
openpyxl does not store it as a formula. Numbers stay numbers: non-text values are untouched, and
so is text that is just a decimal number (``-12.50``), which no spreadsheet runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a cell no spreadsheet evaluates (see the module docstring)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]
