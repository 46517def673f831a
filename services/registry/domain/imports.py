"""What one row of an imported sheet does: its idempotency key, its owner and status, the input
it amounts to (each cell read leniently by ``cells``, every change reported), the edit a row with
a project code makes to that project; and the all-or-nothing rule of an import. Pure."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry import uscc
from services.registry.domain import cells
from services.registry.domain.cells import Directory, Read
from services.registry.domain.editing import EDITABLE, snapshot
from services.registry.domain.projects import Customer, Project, ProjectInput
from services.registry.domain.status import Status
from services.registry.forms import FormDef, parse_decimal

IMPORT_STATUSES = frozenset({Status.DRAFT, Status.ACTIVE, Status.CLOSED})
# Status labels as exports and people write them (Chinese, English), besides the values.
STATUS_LABELS = {
    "草稿": Status.DRAFT, "审批中": Status.PENDING_APPROVAL, "待审批": Status.PENDING_APPROVAL,
    "进行中": Status.ACTIVE, "已生效": Status.ACTIVE, "执行中": Status.ACTIVE, "生效": Status.ACTIVE,
    "已关闭": Status.CLOSED, "已退回": Status.RETURNED, "已驳回": Status.REJECTED, "已取消": Status.CANCELLED,
    "已撤回": Status.CANCELLED, "draft": Status.DRAFT, "pending approval": Status.PENDING_APPROVAL,
    "active": Status.ACTIVE, "closed": Status.CLOSED, "returned": Status.RETURNED, "rejected": Status.REJECTED,
    "cancelled": Status.CANCELLED, "withdrawn": Status.CANCELLED, "canceled": Status.CANCELLED,
}
STATUS_ZH = {Status.DRAFT: "为草稿", Status.PENDING_APPROVAL: "审批中", Status.ACTIVE: "已生效",
             Status.CLOSED: "已关闭", Status.RETURNED: "已退回", Status.REJECTED: "已驳回", Status.CANCELLED: "已取消"}
# Columns an export writes that say what a project is, never what to change: recognised, not input.
# Changes listed in a response (a 10,000-row sheet of typed amounts and phones has tens of
# thousands); the count covers them all.
MAX_LISTED_CHANGES = 20_000
READ_ONLY = frozenset({"code", "version", "created_at", "updated_at", "department_id", "form_key"})


@dataclass(frozen=True)
class RowChange:
    """One cell the import read differently from its text (``normalised``: ``1,200,000.00`` →
    1200000.00), or one value a row changes on an existing project (``edit``)."""

    row: int
    column: str
    field: str
    before: str
    after: str
    kind: str = "normalised"

    def text(self, locale: str) -> str:
        if self.kind == "edit":
            if locale == "en":
                return f"{self.column}: {self.before or '(empty)'} → {self.after or '(empty)'}"
            return f"{self.column}：{self.before or '（空）'} → {self.after or '（空）'}"
        return f"{self.column} `{self.before}` → {self.after}"


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    existing: int = 0
    invalid: int = 0
    # Rows with a project code: edits made (or, in a dry run, to make), rows equal to the project.
    updated: int = 0
    unchanged: int = 0
    changes: list[RowChange] = field(default_factory=list)
    errors: list[tuple[int, str, str, FieldViolation]] = field(default_factory=list)  # (row, column, path, v)
    project_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)
    dry_run: bool = False


def row_key(form_key: str, record: dict[str, Any]) -> str:
    """The row's idempotency key: its ``行键`` column, else its content (re-importing the same
    sheet is a no-op)."""
    key = str(record.get("row_key") or "").strip()
    if key:
        return f"{form_key}:{key}"[:200]
    # Read-only columns (an export's code, created at, …) say nothing about the row's content.
    body = json.dumps({k: v for k, v in sorted(record.items()) if k not in READ_ONLY}, ensure_ascii=False,
                      default=str)
    return f"{form_key}:#{hashlib.sha256(body.encode()).hexdigest()[:40]}"


def row_owner(record: dict[str, Any], actor_id: str) -> str:
    """The row's owner column, else whoever imports."""
    return str(record.get("owner_id") or actor_id).strip()


def row_status(record: dict[str, Any]) -> Status | None:
    """The row's status (a value or a Chinese label, default active); None unless the import may
    file a project in it (draft, active, closed)."""
    status = status_of(str(record.get("status") or "active"))
    return status if status in IMPORT_STATUSES else None


def status_of(text: str) -> Status | None:
    """A status from its value or a Chinese or English label (any case or width)."""
    key = cells.half_width(text).strip().lower().replace("_", " ")
    return STATUS_LABELS.get(key) or next((s for s in Status if s.value == key.replace(" ", "_")), None)


def row_problems(*, owner_id: str, owner_known: bool, status: Status | None) -> list[FieldViolation]:
    out = []
    if not owner_known:
        out.append(FieldViolation("owner_id", f"用户 {owner_id} 不存在", f"unknown user {owner_id}"))
    if status is None:
        out.append(FieldViolation("status", "状态只能是 draft、active 或 closed",
                                  "status must be draft, active or closed"))
    return out


@dataclass
class ReadRow:
    """One sheet row read leniently: what it files (or, with a code, which project it edits)."""

    owner_id: str
    status: Status | None
    values: dict[str, Any]  # path (``amount``, ``customer.phone``, ``fields.<key>``) → value read
    changes: list[RowChange] = field(default_factory=list)
    problems: list[FieldViolation] = field(default_factory=list)
    code: str = ""
    version: int | None = None
    owner_given: bool = False


def row_code(record: dict[str, Any]) -> str:
    """The project code (项目编号) a row names: it edits that project instead of filing one."""
    return cells.half_width(str(record.get("code") or "")).strip().upper()


def _attachments(value: Any, current: Any) -> Read:
    ids = cells.split_multi(value)
    if not ids:
        return Read()
    # The shape stored (one id or a list) is kept, so an exported row reads back equal.
    return Read(ids if len(ids) > 1 or isinstance(current, list) else ids[0])


def _reader(form: FormDef, directory: Directory, path: str, current: Project | None) -> Any:
    if path == "amount":
        return lambda v: cells.number(v, places=2)
    if path in ("start_date", "end_date"):
        return cells.day
    if path == "customer.phone":
        return cells.mobile
    if path == "customer.uscc":
        return cells.code
    if path == "owner_id":
        return lambda v: directory.user(v, prefer=current.owner_id if current else "")
    f = form.field(path[7:]) if path.startswith("fields.") else None
    if f is None:
        return cells.text
    stored = (current.fields or {}).get(f.key) if current else None
    prefer = stored if isinstance(stored, str) else ""
    readers: dict[str, Any] = {
        "number": cells.number, "money": lambda v: cells.number(v, places=2), "date": cells.day,
        "select": lambda v: cells.option(v, f.options), "multiselect": lambda v: cells.options(v, f.options),
        "phone": cells.mobile, "email": cells.code, "uscc": cells.code,
        "user": lambda v: directory.user(v, prefer=prefer),
        "department": lambda v: directory.department(v, prefer=prefer),
        "attachment": lambda v: _attachments(v, stored),
    }
    return readers.get(f.type, cells.text)


def _shown(value: Any) -> str:
    return "、".join(map(cells.display, value)) if isinstance(value, list) else cells.display(value)


def read_row(
    form: FormDef, directory: Directory, n: int, raw: dict[str, Any], headers: dict[str, str], *,
    actor_id: str, current: Project | None = None, readers: dict[str, Any] | None = None,
) -> ReadRow:
    """Every cell of a row read by its column's type (``current``: the project a coded row edits,
    whose stored users and departments win whenever a cell names them). Cleanings are reported
    as ``normalised`` changes; unreadable cells as problems naming the column. ``readers``: a
    cache of the column readers, shared by the new rows of one import (a row without ``current``
    reads every column the same way)."""
    out = ReadRow(owner_id=actor_id, status=None, values={}, code=row_code(raw))
    cache = readers if readers is not None and current is None else {}
    for path, value in raw.items():
        label = headers.get(path) or path
        if path in ("row_key", "status") or path in READ_ONLY:
            if path == "version" and not cells.is_blank(value):
                v = cells.number(value)
                if v.problem or not str(v.value).isdigit():
                    out.problems.append(FieldViolation("version", f"{label}：必须是整数",
                                                       f"{label}: must be a whole number"))
                else:
                    out.version = int(str(v.value))
            continue
        reader = cache.get(path)
        if reader is None:
            reader = cache[path] = _reader(form, directory, path, current)
        got: Read = reader(value)
        if got.problem:
            out.problems.append(FieldViolation(path, f"{label}：{got.problem[0]}", f"{label}: {got.problem[1]}"))
            continue
        if got.changed and not cells.is_blank(value):
            out.changes.append(RowChange(n, label, path, cells.display(value), _shown(got.value)))
        if path == "owner_id":
            out.owner_given = got.value is not None
            out.owner_id = got.value or actor_id
            continue
        out.values[path] = got.value
    status = raw.get("status")
    out.status = Status.ACTIVE if cells.is_blank(status) else row_status({"status": cells.display(status)})
    return out


def read_input(form: FormDef, read: ReadRow) -> ProjectInput:
    """The project input of a new row."""
    v = read.values
    return ProjectInput(
        owner_id=read.owner_id, form_key=form.key, name=_text(v.get("name")),
        customer=Customer(name=_text(v.get("customer.name")), uscc=_text(v.get("customer.uscc")),
                          contact=_text(v.get("customer.contact")), phone=_text(v.get("customer.phone"))),
        amount=_text(v.get("amount")), region=_text(v.get("region")), business_line=_text(v.get("business_line")),
        start_date=_text(v.get("start_date")), end_date=_text(v.get("end_date")),
        fields={k[7:]: x for k, x in v.items() if k.startswith("fields.") and x not in (None, "", [])},
    )


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [cells.display(x) for x in value] if isinstance(value, list) else [cells.display(value)]


def same(form: FormDef, path: str, before: Any, after: Any) -> bool:
    """Whether a stored value and a value read from a sheet mean the same (1000 and 1000.00,
    one attachment id and a list of it, a date and its ISO text)."""
    if cells.is_blank(before) and cells.is_blank(after) or before == [] and cells.is_blank(after):
        return True
    f = form.field(path[7:]) if path.startswith("fields.") else None
    if path == "amount" or (f is not None and f.type in ("number", "money")):
        a, b = parse_decimal(cells.display(before)), parse_decimal(cells.display(after))
        if a is not None and b is not None:
            return Decimal(a) == Decimal(b)
    if path == "customer.uscc" or (f is not None and f.type == "uscc"):
        return uscc.normalise(cells.display(before)) == uscc.normalise(cells.display(after))
    if isinstance(before, list) or isinstance(after, list):
        return _as_list(before) == _as_list(after)
    return cells.display(before) == cells.display(after)


def row_edits(form: FormDef, current: Project, read: ReadRow, n: int,
              headers: dict[str, str]) -> tuple[dict[str, Any], list[RowChange]]:
    """The edit (``UpdateProject`` changes) a coded row makes to ``current``: only columns the
    sheet has, only values that differ in meaning; and each as an ``edit`` change."""
    before = snapshot(current)
    changes: dict[str, Any] = {}
    reported: list[RowChange] = []
    for path, value in read.values.items():
        if same(form, path, before.get(path), value):
            continue
        empty = cells.is_blank(value) or value == []
        if path.startswith("fields."):
            changes.setdefault("fields", {})[path[7:]] = None if empty else value
        elif path.startswith("customer."):
            changes.setdefault("customer", {})[path[9:]] = "" if empty else value
        else:
            changes[path] = "" if empty else value
        reported.append(RowChange(n, headers.get(path) or path, path, _shown(before.get(path)), _shown(value),
                                  kind="edit"))
    return changes, reported


def edit_refusals(current: Project, read: ReadRow, *, edits: bool, actor_id: str,
                  actor_is_admin: bool) -> list[FieldViolation]:
    """Why a coded row may not make its edit: the owner column names someone else (owners are
    transferred in the system), the project is past draft/returned, the sheet's ``版本`` is not
    the project's, or the importer neither owns it nor is an admin."""
    out: list[FieldViolation] = []
    if read.owner_given and read.owner_id != current.owner_id:
        out.append(FieldViolation("owner_id", f"负责人不能通过导入更改（当前为 {current.owner_id}）",
                                  f"the owner cannot be changed by an import (currently {current.owner_id})"))
    if not edits:
        return out
    code = current.code
    if current.status not in EDITABLE:
        label = STATUS_ZH.get(current.status, current.status.value)
        out.append(FieldViolation("code", f"项目 {code} {label}，只有草稿或退回的项目可以通过导入修改",
                                  f"project {code} is {current.status.value}; only draft or returned projects can "
                                  "be edited by an import"))
    elif read.version is not None and read.version != current.version:
        out.append(FieldViolation("version", f"项目 {code} 已被修改（当前版本 {current.version}，表中版本 "
                                  f"{read.version}），请重新导出后再改",
                                  f"project {code} changed meanwhile (version {current.version}, the sheet has "
                                  f"{read.version}); export again and redo the edit"))
    if not actor_is_admin and actor_id != current.owner_id:
        out.append(FieldViolation("code", f"只有项目所有者可以修改项目 {code}",
                                  f"only the owner may edit project {code}"))
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def row_input(form_key: str, owner_id: str, record: dict[str, Any], values: dict[str, Any]) -> ProjectInput:
    """The project input of a row (``values``: its form fields, already read from their cells)."""
    return ProjectInput(
        owner_id=owner_id, form_key=form_key, name=_text(record.get("name")),
        customer=Customer(name=_text(record.get("customer.name")), uscc=_text(record.get("customer.uscc")),
                          contact=_text(record.get("customer.contact")), phone=_text(record.get("customer.phone"))),
        amount=_text(record.get("amount")), region=_text(record.get("region")),
        business_line=_text(record.get("business_line")), start_date=_text(record.get("start_date")),
        end_date=_text(record.get("end_date")), fields={k: v for k, v in values.items() if v is not None},
    )


def refusal(result: ImportResult, *, skip_invalid: bool, dry_run: bool) -> ValidationFailed | None:
    """All-or-nothing by default: any bad row refuses the whole sheet, naming every bad cell. None
    when the import may go on (no bad rows, skipping them, or only a dry run)."""
    if not result.errors or skip_invalid or dry_run:
        return None
    return ValidationFailed(
        [FieldViolation(f"rows[{n}].{path}", f"第 {n} 行 {col_name or path}：{v.zh}",
                        f"row {n} {col_name or path}: {v.en or v.zh}")
         for n, col_name, path, v in result.errors],
        zh="导入数据有误，未导入任何行", en="the sheet has bad rows; nothing was imported",
    )
