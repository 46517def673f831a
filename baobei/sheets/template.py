"""The import template of one form: its columns in import order (行键, the core columns, then the
form's fields by label), required ones marked with ``*`` and red, a drop-down for every option
list, status, person and department (the lists live on a hidden sheet), an input hint per column
(header comment and the cell's prompt), and an example row on a sheet of its own — the first
sheet, the one the import reads, starts empty, so the example is never imported by accident."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.sheets.columns import (
    CORE_COLUMNS,
    DATE,
    DATE_FORMAT,
    IMPORT_STATUSES,
    INT_FORMAT,
    MONEY,
    MONEY_FORMAT,
    MULTI_SEPARATOR,
    NUMBER,
    ROW_KEY,
    TEXT,
    field_kind,
    pick,
    status_label,
)
from baobei.sheets.render import (
    HEADER_FILL,
    REQUIRED_COLOR,
    Column,
    column_letter,
    column_widths,
    csv_bytes,
    display_width,
    excel_text,
    sheet_title,
    xml_safe,
)

# Rows of the first sheet that carry the drop-downs, prompts and number formats.
TEMPLATE_ROWS = 2000
LISTS_SHEET = "选项"
PROMPT_MAX = 255  # Excel's limit for a validation's input message
PROMPT_TITLE_MAX = 32
EXAMPLE_USCC = "91350100M000100Y43"
EXAMPLE_DAY = dt.date(2026, 12, 1)


@dataclass
class TemplateColumn:
    key: str  # import target: row_key, name, …, fields.<key>
    header: str
    kind: str = TEXT
    required: bool = False
    hint: str = ""
    choices: list[str] = field(default_factory=list)
    # strict: only listed values (select); else a warning (people may type a name, e-mail, …).
    strict: bool = False
    example: Any = None
    number_bounds: tuple[str | None, str | None] = (None, None)
    max_length: int | None = None

    @property
    def title(self) -> str:
        return f"*{self.header}" if self.required else self.header


def _core_columns(locale: str, users: Sequence[str]) -> list[TemplateColumn]:
    t = partial(pick, locale)
    statuses = [status_label(s, locale) for s in IMPORT_STATUSES]
    spec: dict[str, tuple[str, Any, list[str], bool]] = {
        "name": (t("项目名称", "project name"), t("示例项目", "Sample project"), [], False),
        "status": (t(f"可选：{'、'.join(statuses)}；留空为{statuses[1]}",
                     f"one of {', '.join(statuses)}; empty means {statuses[1]}"), statuses[1], statuses, True),
        "customer.name": (t("客户全称", "customer's full name"), t("示例科技有限公司", "Sample Tech Co., Ltd."),
                          [], False),
        "customer.uscc": (t("18 位统一社会信用代码，可留空", "18-character unified social credit code, optional"),
                          EXAMPLE_USCC, [], False),
        "customer.contact": (t("客户联系人姓名", "customer's contact person"), t("张三", "Zhang San"), [], False),
        "customer.phone": (t("11 位手机号，如 13800138000", "11-digit mobile number, e.g. 13800138000"),
                           "13800138000", [], False),
        "amount": (t("金额（元），最多两位小数，如 1,200,000.00",
                     "amount in CNY, at most 2 decimals, e.g. 1,200,000.00"),
                   Decimal("1200000.00"), [], False),
        "region": (t("区域，如 华东", "region, e.g. East China"), t("华东", "East China"), [], False),
        "business_line": (t("业务线，如 软件", "business line, e.g. Software"), t("软件", "Software"), [], False),
        "start_date": (t("日期，如 2026-12-01", "a date, e.g. 2026-12-01"), EXAMPLE_DAY, [], False),
        "end_date": (t("日期，不早于开始日期", "a date, not before the start date"), dt.date(2027, 6, 30), [], False),
        "owner_id": (t("负责人：从列表选择，或填姓名、账号、手机号、邮箱；留空为导入人",
                       "owner: pick from the list, or a name, user id, mobile or e-mail; empty means the importer"),
                     users[0] if users else "", list(users), False),
    }
    out = [TemplateColumn(ROW_KEY.key, ROW_KEY.header(locale), hint=t(
        "可选：本行在原系统中的编号；同一行键重复导入不会重复创建",
        "optional: the row's id in your old system; re-importing the same row key creates nothing"),
        example="CRM-0001")]
    for col in CORE_COLUMNS:
        if not col.importable:
            continue
        hint, example, choices, strict = spec[col.key]
        out.append(TemplateColumn(col.key, col.header(locale), col.kind, col.required, hint, choices, strict, example))
    return out


def _field_column(f: pb.FormField, locale: str, users: Sequence[str], departments: Sequence[str]) -> TemplateColumn:
    t = partial(pick, locale)
    kind = field_kind(f.type)
    col = TemplateColumn(f"fields.{f.key}", f.label or f.key, kind, f.required)
    hints: list[str] = []
    lo = f.min if f.HasField("min") else None
    hi = f.max if f.HasField("max") else None
    if f.type == "select":
        col.choices, col.strict = list(f.options), True
        hints.append(t("从列表选择", "pick from the list"))
        col.example = f.options[0] if f.options else ""
    elif f.type == "multiselect":
        col.choices = list(f.options)
        hints.append(t(f"可多选，用“{MULTI_SEPARATOR}”分隔：{MULTI_SEPARATOR.join(f.options)}",
                       f"one or more, separated by “{MULTI_SEPARATOR}”: {', '.join(f.options)}"))
        col.example = MULTI_SEPARATOR.join(f.options[:2])
    elif f.type == "user":
        col.choices = list(users)
        hints.append(t("从列表选择，或填姓名、账号、手机号、邮箱",
                       "pick from the list, or a name, user id, mobile or e-mail"))
        col.example = users[0] if users else ""
    elif f.type == "department":
        col.choices = list(departments)
        hints.append(t("从列表选择部门", "pick a department from the list"))
        col.example = departments[0] if departments else ""
    elif kind == MONEY:
        hints.append(t("金额（元），最多两位小数，如 1,000.00", "amount in CNY, at most 2 decimals, e.g. 1,000.00"))
        col.example, col.number_bounds = Decimal(lo or "1000.00").quantize(Decimal("0.01")), (lo, hi)
    elif kind == NUMBER:
        hints.append(t("数字", "a number"))
        col.example, col.number_bounds = Decimal(lo or "10"), (lo, hi)
    elif kind == DATE:
        hints.append(t("日期，如 2026-12-01", "a date, e.g. 2026-12-01"))
        col.example = dt.date.fromisoformat(lo) if lo else EXAMPLE_DAY
    elif f.type == "phone":
        hints.append(t("11 位手机号，如 13800138000", "11-digit mobile number, e.g. 13800138000"))
        col.example = "13800138000"
    elif f.type == "email":
        hints.append(t("邮箱，如 name@example.com", "e-mail, e.g. name@example.com"))
        col.example = "name@example.com"
    elif f.type == "uscc":
        hints.append(t("18 位统一社会信用代码", "18-character unified social credit code"))
        col.example = EXAMPLE_USCC
    elif f.type == "attachment":
        hints.append(t("附件编号（sha256:…）：先上传附件，再填编号", "attachment id (sha256:…): upload the file first"))
    else:
        col.example = t("示例", "sample")
    if lo is not None or hi is not None:
        hints.append(t(f"范围：{lo or '不限'} ~ {hi or '不限'}", f"range: {lo or 'any'} to {hi or 'any'}"))
    if f.HasField("max_length"):
        col.max_length = f.max_length
        hints.append(t(f"最多 {f.max_length} 个字", f"at most {f.max_length} characters"))
    if f.HasField("required_when"):
        hints.append(t(f"满足 {f.required_when} 时必填", f"required when {f.required_when}"))
    col.hint = "；".join(hints) if locale != "en" else "; ".join(hints)
    return col


def template_columns(
    form: pb.Form, locale: str, users: Sequence[str] = (), departments: Sequence[str] = ()
) -> list[TemplateColumn]:
    """The template's columns in import order."""
    cols = _core_columns(locale, users)
    taken = {c.header for c in cols}
    for f in form.fields:
        col = _field_column(f, locale, users, departments)
        if col.header in taken:  # a field labelled like a core column: its key tells them apart
            col.header = f.key
        taken.add(col.header)
        cols.append(col)
    for col in cols:  # text from the form and the directory, as a sheet may hold it
        col.header, col.hint = excel_text(col.header), xml_safe(col.hint)
        col.choices = [excel_text(c) for c in col.choices]
        col.example = excel_text(col.example)
    return cols


def template_csv(form: pb.Form, locale: str, encoding: str = "utf-8") -> bytes:
    """The header row only (a CSV has no place for hints; the .xlsx has them and an example)."""
    return csv_bytes([c.title for c in template_columns(form, locale)], [], encoding)


def template_xlsx(form: pb.Form, locale: str, users: Sequence[str] = (), departments: Sequence[str] = ()) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    t = partial(pick, locale)
    cols = template_columns(form, locale, users, departments)
    taken = {LISTS_SHEET.lower()}
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(form.title or form.key, taken)
    example_ws = wb.create_sheet(sheet_title(t("示例", "Example"), taken))
    notes_ws = wb.create_sheet(sheet_title(t("填写说明", "How to fill in"), taken))
    lists_ws = wb.create_sheet(LISTS_SHEET)
    lists_ws.sheet_state = "hidden"
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    last = TEMPLATE_ROWS + 1
    examples = [c.example for c in cols]
    widths = column_widths([Column(c.title, c.kind) for c in cols], [examples])
    list_count = 0
    for i, col in enumerate(cols):
        letter = column_letter(i)
        font = Font(bold=True, color=REQUIRED_COLOR if col.required else None)
        for sheet in (ws, example_ws):
            cell = sheet.cell(row=1, column=i + 1, value=col.title)
            cell.font, cell.fill = font, fill
            sheet.column_dimensions[letter].width = max(widths[i], min(display_width(col.hint) / 3, 30))
        note = (t("必填。", "Required. ") if col.required else "") + col.hint
        if note:
            ws.cell(row=1, column=i + 1).comment = Comment(note, "Baobei", width=260, height=110)
        fmt = {MONEY: MONEY_FORMAT, DATE: DATE_FORMAT}.get(col.kind)
        if col.kind == NUMBER:
            fmt = INT_FORMAT if col.example == int(col.example) else None
        if fmt:
            ws.column_dimensions[letter].number_format = fmt
        example = example_ws.cell(row=2, column=i + 1, value=col.example)
        if fmt:
            example.number_format = fmt
        dv = _validation(col, lists_ws, list_count, last, t)
        if col.choices:
            list_count += 1
        if dv is None:
            continue
        dv.promptTitle = col.header[:PROMPT_TITLE_MAX]
        dv.prompt = note[:PROMPT_MAX]
        dv.showInputMessage = bool(note)
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{last}")
    for sheet in (ws, example_ws):
        sheet.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{column_letter(len(cols) - 1)}1"
    _notes(notes_ws, cols, t)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _validation(col: TemplateColumn, lists_ws: Any, list_index: int, last: int, t: Callable[[str, str], str]) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    if col.choices:
        letter = column_letter(list_index)
        lists_ws.cell(row=1, column=list_index + 1, value=col.header)
        for n, choice in enumerate(col.choices, start=2):
            lists_ws.cell(row=n, column=list_index + 1, value=choice)
        dv = DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(col.choices) + 1}",
                            allow_blank=True)
        # Only a select refuses: a multiselect cell holds several choices, and a person may be
        # typed by name, id, mobile or e-mail.
        dv.showErrorMessage = True
        dv.errorStyle = "stop" if col.strict else "warning"
        dv.errorTitle = t("不在列表中", "Not in the list")
        dv.error = t("请从下拉列表中选择", "Please pick a value from the list")
        return dv
    if col.kind in (MONEY, NUMBER):
        lo, hi = col.number_bounds
        if lo is None and hi is None and col.kind == MONEY and col.key == "amount":
            lo = "0"
        if lo is None and hi is None:
            dv = DataValidation(type="decimal", operator="between", formula1="-1E+15", formula2="1E+15")
        elif hi is None:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1=str(lo))
        elif lo is None:
            dv = DataValidation(type="decimal", operator="lessThanOrEqual", formula1=str(hi))
        else:
            dv = DataValidation(type="decimal", operator="between", formula1=str(lo), formula2=str(hi))
    elif col.kind == DATE:
        dv = DataValidation(type="date", operator="between", formula1="DATE(1900,1,1)", formula2="DATE(9999,12,31)")
    elif col.max_length:
        dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(col.max_length))
    else:
        # Only the prompt: any text is accepted.
        return DataValidation(type=None, allow_blank=True) if col.hint else None
    # Warnings, not refusals: the import also reads "￥1,200,000", "120万", "2026年12月1日".
    dv.allow_blank, dv.showErrorMessage, dv.errorStyle = True, True, "warning"
    dv.errorTitle = t("请检查格式", "Please check the format")
    dv.error = col.hint[:PROMPT_MAX]
    return dv


def _notes(ws: Any, cols: Sequence[TemplateColumn], t: Callable[[str, str], str]) -> None:
    from openpyxl.styles import Font

    header = [t("列", "Column"), t("必填", "Required"), t("说明", "Notes"), t("示例", "Example")]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col in cols:
        example = col.example
        if isinstance(example, dt.date):
            example = example.isoformat()
        elif isinstance(example, Decimal):
            example = format(example, "f")
        ws.append([col.header, t("是", "yes") if col.required else "", col.hint, example])
    ws.append([])
    ws.append([t("提示", "Tips"), "", t("在第一张工作表填写，从第 2 行开始；带 * 的列必填；"
                                       "“示例”工作表只作参考，不会导入",
                                       "Fill in the first sheet from row 2; columns marked * are required; "
                                       "the Example sheet is for reference and is not imported")])
    for letter, width in zip("ABCD", (24, 8, 70, 24), strict=True):
        ws.column_dimensions[letter].width = width

