"""The finance cost feed's input as rows: vouchers from a JSON batch, or from a CSV / XLSX sheet
with Chinese headers (凭证号, 项目编号, 金额, 类别, 发生日期, 摘要, optional 币种) whose cells are read
leniently (``¥1,234.50``, ``1.2万``, ``2026/3/5``, Excel dates and numbers). Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.sheets import cells

# field → accepted headers (Chinese first; English keys too); required ones first.
COLUMNS: dict[str, tuple[str, ...]] = {
    "voucher_id": ("凭证号", "凭证编号", "凭证字号", "voucher_id"),
    "project_code": ("项目编号", "项目代码", "project_code"),
    "amount": ("金额", "金额（元）", "amount"),
    "occurred_on": ("发生日期", "日期", "凭证日期", "occurred_on"),
    "category": ("类别", "费用类别", "科目", "category"),
    "description": ("摘要", "说明", "description"),
    "currency": ("币种", "currency"),
}
REQUIRED = ("voucher_id", "project_code", "amount", "occurred_on")
HEADER_OF = {key: names[0] for key, names in COLUMNS.items()}
MAX_ROWS = 5000


@dataclass
class VoucherRow:
    """One voucher as sent: ``row`` is its index in the batch (JSON) or its sheet row (file);
    ``problems`` are what could not be read (the rest is judged by the tasks service)."""

    row: int
    voucher_id: str = ""
    project_code: str = ""
    amount: str = ""
    currency: str = ""
    category: str = ""
    occurred_on: str = ""
    description: str = ""
    problems: list[FieldViolation] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | float):
        d = Decimal(repr(value)) if isinstance(value, float) else value
        return format(d, "f")
    return str(value).strip()


def from_json(items: Sequence[Any]) -> list[VoucherRow]:
    """Vouchers of a JSON batch (already shaped by the request model: objects of scalars)."""
    return [
        VoucherRow(row=i, voucher_id=_text(v.voucher_id), project_code=_text(v.project_code), amount=_text(v.amount),
                   currency=_text(v.currency), category=_text(v.category), occurred_on=_text(v.occurred_on),
                   description=_text(v.description))
        for i, v in enumerate(items)
    ]


def _header_key(text: Any) -> str:
    """A header as typed: full-width forms, ``*`` marks and ``（必填）`` notes do not matter."""
    h = cells.half_width(cells.display(text)).strip().lower()
    h = re.sub(r"[*＊]|\((必填|required)\)|（必填）", "", h)
    return re.sub(r"\s+", "", h)


def columns_of(header: Sequence[Any]) -> dict[str, int]:
    """field → column index; 422 naming the missing columns."""
    wanted = {_header_key(name): key for key, names in COLUMNS.items() for name in names}
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        key = wanted.get(_header_key(h))
        if key and key not in found:
            found[key] = i
    missing = [HEADER_OF[k] for k in REQUIRED if k not in found]
    if missing:
        raise ValidationFailed([FieldViolation(
            "file", f"缺少列：{'、'.join(missing)}（表头须含 凭证号、项目编号、金额、发生日期）",
            f"missing columns: {', '.join(missing)} (the header needs 凭证号, 项目编号, 金额, 发生日期)",
        )])
    return found


def from_sheet(rows: Sequence[Sequence[Any]]) -> list[VoucherRow]:
    """Vouchers of a sheet: the first non-empty row is the header, every later non-empty row a
    voucher numbered by its sheet row (1-based)."""
    start = next((i for i, r in enumerate(rows) if any(not cells.is_blank(c) for c in r)), None)
    if start is None:
        raise ValidationFailed([FieldViolation("file", "文件为空", "the file is empty")])
    cols = columns_of(rows[start])
    out: list[VoucherRow] = []
    for n, raw in enumerate(rows[start + 1:], start=start + 2):
        if all(cells.is_blank(c) for c in raw):
            continue
        if len(out) >= MAX_ROWS:
            raise ValidationFailed([FieldViolation("file", f"每个文件最多 {MAX_ROWS} 行", f"at most {MAX_ROWS} rows")])
        out.append(_row(n, raw, cols))
    return out


def _cell(raw: Sequence[Any], cols: dict[str, int], key: str) -> Any:
    i = cols.get(key)
    return raw[i] if i is not None and i < len(raw) else None


def _row(n: int, raw: Sequence[Any], cols: dict[str, int]) -> VoucherRow:
    v = VoucherRow(row=n)
    readers = {
        "voucher_id": cells.code, "project_code": cells.code, "amount": lambda c: cells.number(c, places=2),
        "occurred_on": cells.day, "category": cells.text, "description": cells.text, "currency": cells.code,
    }
    for key, read in readers.items():
        got = read(_cell(raw, cols, key))
        if got.problem is not None:
            zh, en = got.problem
            v.problems.append(FieldViolation(key, f"{HEADER_OF[key]}：{zh}", f"{HEADER_OF[key]}: {en}"))
        elif got.value is not None:
            setattr(v, key, str(got.value))
    return v
