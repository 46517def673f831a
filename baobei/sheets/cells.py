"""Spreadsheet cells as people type them, read into the values we store: amounts with
thousands separators, currency signs and 万 units; mobile numbers with spaces, dashes and country
prefixes or stored as numbers; dates as Excel serials, datetime cells or Chinese text; options by
their text in any width or case. Shared by the registry's project import (which adds users and
departments, ``services.registry.domain.cells``) and the edge's finance cost import.

Each reader returns ``Read``: the value to use, whether it differs from what the cell said in a
way worth telling (never a silent guess: the import reports every such change per row), or why
the cell cannot be read (the field is named by the caller). Pure: no storage, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)
# Serials Excel can show as dates: 1900-01-01 … 9999-12-31.
SERIAL_MIN, SERIAL_MAX = 1, 2958465
CURRENCY = re.compile(r"^(?:RMB|CNY|人民币|[￥¥])|(?:RMB|CNY|人民币|元|[￥¥])$", re.IGNORECASE)
WAN = re.compile(r"(万元|万)$")
PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
PHONE_PREFIX = re.compile(r"^(\+86|0086|86)(?=1\d{10}$)")
DATE_TEXT = re.compile(
    r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?)?"
)
ID_IN_BRACKETS = re.compile(r"^(.*?)\s*[（(]\s*([^（）()]+?)\s*[)）]$")


@dataclass(frozen=True)
class Read:
    """A cell once read: ``value`` to use (None: empty), ``changed`` when it differs from the
    cell's text in a way the importer is told about, ``problem`` (zh, en) when unreadable."""

    value: Any = None
    changed: bool = False
    problem: tuple[str, str] | None = None


def refused(zh: str, en: str) -> Read:
    return Read(problem=(zh, en))


# Full-width ASCII (U+FF01–FF5E) → ASCII, the ideographic space → a space: one C-level translate.
_HALF_WIDTH = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}


def half_width(text: str) -> str:
    """Full-width ASCII (Ｕ+FF01–FF5E) and the ideographic space as their ASCII forms."""
    return text.translate(_HALF_WIDTH)


def display(value: Any) -> str:
    """A cell as its text (what the importer sees, for reports): numbers without a trailing .0,
    dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        d = Decimal(repr(value))
        return format(d.to_integral_value(), "f") if d == d.to_integral_value() else format(d, "f")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------- numbers ----------


def number(value: Any, *, places: int | None = None) -> Read:
    """A decimal number; ``places`` (2 for amounts) fixes the text it is given as. Accepts Excel
    numbers, ``1,200,000.00``, ``￥350000``, ``350000元``, ``RMB 5000``, ``35万`` / ``35万元``
    and full-width digits; each of those cleanings counts as a change."""
    if is_blank(value):
        return Read()
    if isinstance(value, bool):
        return refused("必须是数字", "must be a number")
    if isinstance(value, int | float | Decimal):
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not d.is_finite():
            return refused("必须是数字", "must be a number")
        return Read(_number_text(d, places))
    raw = str(value).strip()
    if PLAIN_NUMBER.fullmatch(raw):  # the common case, typed plainly: nothing to clean
        return Read(_number_text(Decimal(raw), places))
    text = half_width(raw).replace(" ", "")
    text = CURRENCY.sub("", text).strip()
    text = CURRENCY.sub("", text).strip()  # a sign before and a unit after: ￥350000元
    factor = Decimal(1)
    if WAN.search(text):
        text, factor = WAN.sub("", text), Decimal(10000)
    if GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    if not PLAIN_NUMBER.fullmatch(text):
        return refused("必须是数字", "must be a number")
    try:
        d = Decimal(text) * factor
    except InvalidOperation:
        return refused("必须是数字", "must be a number")
    out = _number_text(d, places)
    # A plain number that only gains or loses trailing zeros (300 → 300.00) is no change.
    plain = PLAIN_NUMBER.fullmatch(raw) is not None
    return Read(out, changed=not plain)


def _number_text(d: Decimal, places: int | None) -> str:
    if places is None:
        return format(d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize(), "f")
    try:
        q = d.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return format(d, "f")
    # More places than allowed stay as given, for validation to refuse (never rounded silently).
    return format(q if q == d else d, "f")


# ---------- mobile numbers ----------


def mobile(value: Any) -> Read:
    """A mainland mobile number: spaces, dashes, dots and brackets dropped, a ``+86`` / ``0086``
    / ``86`` prefix dropped, a number cell (13800138000.0) read as its digits. Whether the result
    is a valid number is the validator's call."""
    if is_blank(value):
        return Read()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Read(display(value))
    raw = str(value).strip()
    if len(raw) == 11 and raw.isascii() and raw.isdigit():  # typed plainly: nothing to clean
        return Read(raw)
    text = re.sub(r"[\s\-.()（）]", "", half_width(raw))
    text = PHONE_PREFIX.sub("", text)
    return Read(text, changed=text != raw)


# ---------- dates ----------


def day(value: Any) -> Read:
    """A calendar date as ISO text: date cells, datetime cells (a time of day other than
    midnight is dropped and reported), Excel serials (numbers, 46357 → 2026-12-01), and the texts
    ``2026/12/1``, ``2026.12.1``, ``2026年12月1日``, ``2026-12-01 09:00``."""
    if is_blank(value):
        return Read()
    if isinstance(value, datetime):
        return Read(value.date().isoformat(), changed=value.time() != datetime.min.time())
    if isinstance(value, date):
        return Read(value.isoformat())
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _serial(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    raw = str(value).strip()
    text = half_width(raw)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # a serial that lost its date format (CSV)
        return _serial(Decimal(text))
    m = DATE_TEXT.fullmatch(text)
    if m is None:
        return refused("必须是日期（如 2026-12-01、2026/12/1、2026年12月1日）",
                       "must be a date (e.g. 2026-12-01, 2026/12/1)")
    try:
        d = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return refused(f"日期不存在：{raw}", f"no such date: {raw}")
    return Read(d.isoformat(), changed=d.isoformat() != raw)


def _serial(n: Decimal) -> Read:
    if not n.is_finite() or not SERIAL_MIN <= n <= SERIAL_MAX:
        return refused("必须是日期（数字超出 Excel 日期范围）", "must be a date (number outside Excel's date range)")
    return Read((EXCEL_EPOCH + timedelta(days=int(n))).isoformat(), changed=True)


# ---------- plain text, codes, options ----------


def text(value: Any) -> Read:
    """Text, trimmed (trimming is not reported); numbers and dates as they display."""
    if is_blank(value):
        return Read()
    return Read(display(value))


def code(value: Any) -> Read:
    """Codes and e-mail addresses (USCC, ids): trimmed, full-width letters and digits as ASCII."""
    if is_blank(value):
        return Read()
    raw = display(value)
    out = half_width(raw).strip()
    return Read(out, changed=out != raw)


def _option_key(text: str) -> str:
    return re.sub(r"\s+", " ", half_width(text)).strip().casefold()


def option(value: Any, options: Iterable[str]) -> Read:
    """One of ``options``, matched exactly, else ignoring width, case and spacing (reported);
    unknown text is left for the validator to refuse."""
    if is_blank(value):
        return Read()
    raw = display(value)
    opts = list(options)
    if raw in opts:
        return Read(raw)
    key = _option_key(raw)
    hits = [o for o in opts if _option_key(o) == key]
    return Read(hits[0], changed=True) if len(hits) == 1 else Read(raw)


MULTI_SEPARATORS = ("、", ",", "，", ";", "；", "\n")


def split_multi(value: Any) -> list[str]:
    if isinstance(value, list):
        return [display(v) for v in value if not is_blank(v)]
    parts = [display(value)]
    for sep in MULTI_SEPARATORS:
        parts = [p for chunk in parts for p in chunk.split(sep)]
    return [p.strip() for p in parts if p.strip()]


def options(value: Any, allowed: Iterable[str]) -> Read:
    """Several options separated by 、 , ， ; ； or line breaks, each as ``option`` reads it."""
    if is_blank(value):
        return Read()
    opts = list(allowed)
    reads = [option(p, opts) for p in split_multi(value)]
    return Read([r.value for r in reads], changed=any(r.changed for r in reads))
