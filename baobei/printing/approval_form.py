"""The 审批单 (approval form for filing): a registration with its approval record on A4 pages.

``ApprovalSheet`` is what is printed, already reduced to what the viewer may read (the caller
leaves out withheld fields: neither label nor value reaches this module); this module words and
lays it out: the branded header with the title 项目报备审批单, the project's facts, the form's
fields, the approval record (step, approver, action in Chinese, comment, time in Asia/Shanghai),
the CC list and the final result. The value helpers (``money``, ``field_text``) word a form value
as the web app shows it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable

from baobei.printing import blocks

TITLE = "项目报备审批单"
ACTION_LABELS = {
    "submit": "提交", "resubmit": "重新提交", "approve": "同意", "reject": "驳回", "return": "退回",
    "transfer": "转交", "add_approver": "加签", "comment": "评论", "remind": "催办", "cc": "抄送",
    "escalate": "超时升级", "timeout": "超时", "withdraw": "撤回", "cancel": "取消", "reassign": "改派",
}
RESULT_LABELS = {
    "pending": "审批中", "approved": "审批通过", "rejected": "已驳回", "returned": "已退回",
    "cancelled": "已取消", "superseded": "已重新发起",
}
RESULT_COLOURS = {"approved": colors.HexColor("#256428"), "rejected": colors.HexColor("#9e2020"),
                  "returned": colors.HexColor("#7b4900")}
RECORD_HEADERS = ("环节", "审批人", "操作", "意见", "时间")
RECORD_WIDTHS = (0.14, 0.12, 0.15, 0.40, 0.19)
MULTI_SEPARATOR = "、"


@dataclass(frozen=True)
class Entry:
    """One line of the approval record: who did what at which step, when. ``target`` is the user
    a transfer / add-approver names; ``on_behalf_of`` the approver a delegate acted for."""

    step: str
    actor: str
    action: str
    comment: str = ""
    at: datetime | None = None
    auto: bool = False
    target: str = ""
    on_behalf_of: str = ""


@dataclass(frozen=True)
class ApprovalSheet:
    code: str
    name: str
    facts: Sequence[tuple[str, str]]  # the project's core facts, label → shown value
    fields: Sequence[tuple[str, str]]  # the form's readable fields, label → shown value
    record: Sequence[Entry]
    cc: Sequence[str] = ()
    result: str = ""  # the approval's status (pending, approved, …)
    notes: Sequence[str] = field(default=())  # lines under the result (e.g. no approval needed)


def action_text(e: Entry) -> str:
    label = ACTION_LABELS.get(e.action, e.action)
    if e.target:
        label += f" → {e.target}"
    if e.auto:
        label += "（自动）"
    if e.on_behalf_of:
        label += f"（代 {e.on_behalf_of}）"
    return label


def result_text(status: str) -> str:
    return RESULT_LABELS.get(status, status or "—")


def money(value: Any) -> str:
    """¥1,234.00 (exact: the decimal text is rounded half-up to fen, never through a float)."""
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        return str(value)
    if not d.is_finite():
        return str(value)
    return f"¥{d.quantize(Decimal('0.01')):,.2f}"


def number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def date_text(value: Any) -> str:
    raw = str(value).strip()
    try:
        if len(raw) > 10:  # a moment: as local time
            return blocks.local_time(datetime.fromisoformat(raw.replace("Z", "+00:00")))
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        return raw


def _attachment(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("filename") or value.get("url") or "")
    return str(value)


def field_text(field_type: str, value: Any, *, user: Callable[[str], str] = str,
               department: Callable[[str], str] = str) -> str:
    """A form value as shown: amounts ¥1,234.00, dates, choices by their label (options are their
    own labels), people and departments by name, booleans 是/否, lists joined with 、."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return MULTI_SEPARATOR.join(
            t for t in (field_text(field_type, v, user=user, department=department) for v in value) if t)
    if isinstance(value, bool):
        return "是" if value else "否"
    if field_type == "money":
        return money(value)
    if field_type == "number":
        return number(value)
    if field_type == "date":
        return date_text(value)
    if field_type == "user":
        return user(str(value))
    if field_type == "department":
        return department(str(value))
    if field_type == "attachment" or isinstance(value, Mapping):
        return _attachment(value)
    return number(value) if isinstance(value, float) else str(value)


def flowables(sheet: ApprovalSheet, branding: blocks.Branding) -> list[Flowable]:
    st = blocks.styles()
    out: list[Flowable] = [
        blocks.header(branding, TITLE, f"{sheet.code}　{sheet.name}".strip()),
        blocks.spacer(),
        blocks.section("项目信息"),
        blocks.key_values(sheet.facts),
    ]
    if sheet.fields:
        out += [blocks.section("表单内容"), blocks.key_values(sheet.fields)]
    out.append(blocks.section("审批记录"))
    if sheet.record:
        rows = [(e.step, e.actor, action_text(e), e.comment, blocks.local_time(e.at)) for e in sheet.record]
        out.append(blocks.record_table(RECORD_HEADERS, rows, RECORD_WIDTHS))
    else:
        out.append(blocks.text("暂无审批记录", st.label))
    out += [
        blocks.section("抄送"),
        blocks.text(MULTI_SEPARATOR.join(sheet.cc) if sheet.cc else "无", st.body),
        blocks.section("审批结果"),
        blocks.text(result_text(sheet.result), ParagraphStyle(
            "result", parent=st.company, textColor=RESULT_COLOURS.get(sheet.result, blocks.INK))),
    ]
    out += [blocks.text(n, st.label) for n in sheet.notes]
    return out


def render(sheet: ApprovalSheet, *, branding: blocks.Branding, printed: blocks.Printed,
           compress: bool = True) -> bytes:
    return blocks.render(flowables(sheet, branding), title=f"{TITLE} {sheet.code}".strip(), printed=printed,
                         author=branding.company_name, compress=compress)
