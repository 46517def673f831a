"""Reading registration sheets (.xlsx or .csv): the header row names the columns — core keys or
their Chinese labels, and the form's field keys or labels — every later non-empty row is one
registration. An exported file reads back: its read-only columns (项目编号, 版本, 状态, 部门, 表单,
创建时间) are recognised. CSV files may be UTF-8 (with or without a BOM) or GBK/GB18030 (what
Excel on Chinese Windows writes). Pure: bytes in, header mapping and rows out (cell values as
JSON-ish Python for the row key, and as the sheet holds them for ``domain.cells``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from baobei.core.errors import FieldViolation
from baobei.sheets.reading import UnknownEncoding, raw_rows
from services.registry.domain.cells import half_width
from services.registry.domain.imports import READ_ONLY
from services.registry.forms import FormDef

# Core columns: key → accepted headers (Chinese first).
CORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "row_key": ("行键", "外部编号", "导入编号"),
    "name": ("项目名称",),
    "customer.name": ("客户名称", "客户"),
    "customer.uscc": ("统一社会信用代码", "信用代码"),
    "customer.contact": ("联系人", "客户联系人"),
    "customer.phone": ("客户电话", "联系电话"),
    "amount": ("金额", "项目金额"),
    "region": ("区域", "地区"),
    "business_line": ("业务线",),
    "start_date": ("开始日期",),
    "end_date": ("结束日期",),
    "owner_id": ("负责人", "所有者", "报备人"),
    "status": ("状态", "项目状态"),
    # Read-only columns of an export (``domain.imports.READ_ONLY``): the code picks the project a
    # row edits, the version guards it; the others are ignored.
    "code": ("项目编号",),
    "version": ("版本",),
    "department_id": ("部门", "所属部门"),
    "form_key": ("表单",),
    "created_at": ("创建时间",),
    "updated_at": ("更新时间",),
}
# English headers (an export made with Accept-Language: en); form fields of the same text win.
ENGLISH_COLUMNS: dict[str, tuple[str, ...]] = {
    "row_key": ("row key",), "code": ("code", "project code"), "version": ("version",),
    "name": ("project", "project name"),
    "status": ("status",), "customer.name": ("customer", "customer name"), "customer.uscc": ("uscc",),
    "customer.contact": ("contact",), "customer.phone": ("customer phone", "phone"), "amount": ("amount",),
    "region": ("region",), "business_line": ("business line",), "start_date": ("start date", "start"),
    "end_date": ("end date", "end"), "owner_id": ("owner",), "department_id": ("department",),
    "form_key": ("form",), "created_at": ("created at", "created"), "updated_at": ("updated at", "updated"),
}
MULTI_SEPARATORS = ("、", ",", "，", ";", "；")


@dataclass
class Sheet:
    columns: list[str]  # target key per column ("" = ignored empty header)
    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (1-based sheet row, key → value as text)
    # 1-based sheet row → key → the cell as the sheet holds it (numbers, datetimes, text).
    raw: dict[int, dict[str, Any]] = field(default_factory=dict)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel numbers are doubles: repr gives the shortest exact text (12.5, not 12.4999…).
        d = Decimal(repr(value))
        return format(d.to_integral_value(), "f") if d == d.to_integral_value() else format(d, "f")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def header_key(header: str) -> str:
    """A header as typed or as a template marks it: ``项目名称*``, ``*金额``, ``金额（必填）``,
    ``Ａｍｏｕｎｔ`` all name their column."""
    text = half_width(header).strip()
    text = re.sub(r"[(（]\s*(必填|required)\s*[)）]$", "", text, flags=re.IGNORECASE)
    return text.strip(" *").lower()


def header_map(form: FormDef) -> dict[str, str]:
    """Accepted header text (lower-cased) → target key (``fields.<key>`` for form fields)."""
    out: dict[str, str] = {}
    for key, labels in CORE_COLUMNS.items():
        # The read-only columns' keys (code, version, …) are plausible field keys: fields win those.
        if key not in READ_ONLY:
            out[key.lower()] = key
        for label in labels:
            out[label.lower()] = key
    for f in form.fields:
        out.setdefault(f.key.lower(), f"fields.{f.key}")
        if f.label:
            out.setdefault(f.label.lower(), f"fields.{f.key}")
    for key, labels in ENGLISH_COLUMNS.items():
        for label in (key, *labels):
            out.setdefault(label, key)
    return out


def read_sheet(data: bytes, filename: str, form: FormDef) -> tuple[Sheet | None, list[FieldViolation]]:
    try:
        raw = raw_rows(data, filename, (form.key, form.title))
    except UnknownEncoding:
        return None, [FieldViolation("file", "无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码",
                                     "cannot tell the CSV file's encoding: save it as UTF-8 or GBK")]
    except Exception as err:  # noqa: BLE001 - any unreadable upload is the caller's error
        return None, [FieldViolation("file", f"无法读取表格：{err}", f"cannot read the sheet: {err}")]
    if not raw:
        return None, [FieldViolation("file", "表格为空", "the sheet is empty")]
    headers = ["" if h is None else str(h).strip() for h in raw[0]]
    known = header_map(form)
    columns, problems = [], []
    for i, h in enumerate(headers):
        if not h:
            columns.append("")
            continue
        key = known.get(h.lower()) or known.get(header_key(h))
        if key is None:
            problems.append(FieldViolation(f"columns[{i}]", f"未知列 {h}", f"unknown column {h}"))
        elif key in columns:
            problems.append(FieldViolation(f"columns[{i}]", f"列 {h} 重复", f"duplicate column {h}"))
        columns.append(key or "")
    if problems:
        return None, problems
    rows: list[tuple[int, dict[str, Any]]] = []
    cells: dict[int, dict[str, Any]] = {}
    for n, values in enumerate(raw[1:], start=2):
        given = {columns[i]: v for i, v in enumerate(values) if i < len(columns) and columns[i]}
        record = {k: _cell(v) for k, v in given.items()}
        if all(v in (None, "") for v in record.values()):
            continue
        rows.append((n, record))
        cells[n] = given
    return Sheet(columns=columns, headers=headers, rows=rows, raw=cells), []


def field_value(form: FormDef, key: str, value: Any) -> Any:
    """A sheet cell as the JSON value the form field expects (lists for multiselect)."""
    f = form.field(key)
    if value in (None, ""):
        return None
    if f is not None and f.type == "multiselect" and isinstance(value, str):
        parts = [value]
        for sep in MULTI_SEPARATORS:
            parts = [p for chunk in parts for p in chunk.split(sep)]
        return [p.strip() for p in parts if p.strip()]
    return value
