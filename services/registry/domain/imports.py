"""What one row of an imported sheet does: its idempotency key, its owner and status, the input
it amounts to; and the all-or-nothing rule of an import. Pure."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry.domain.projects import Customer, ProjectInput
from services.registry.domain.status import Status

IMPORT_STATUSES = frozenset({Status.DRAFT, Status.ACTIVE, Status.CLOSED})
STATUS_LABELS = {"草稿": Status.DRAFT, "进行中": Status.ACTIVE, "已生效": Status.ACTIVE, "已关闭": Status.CLOSED}


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    existing: int = 0
    invalid: int = 0
    errors: list[tuple[int, str, str, FieldViolation]] = field(default_factory=list)  # (row, column, path, v)
    project_ids: list[str] = field(default_factory=list)
    dry_run: bool = False


def row_key(form_key: str, record: dict[str, Any]) -> str:
    """The row's idempotency key: its ``行键`` column, else its content (re-importing the same
    sheet is a no-op)."""
    key = str(record.get("row_key") or "").strip()
    if key:
        return f"{form_key}:{key}"[:200]
    body = json.dumps({k: v for k, v in sorted(record.items())}, ensure_ascii=False, default=str)
    return f"{form_key}:#{hashlib.sha256(body.encode()).hexdigest()[:40]}"


def row_owner(record: dict[str, Any], actor_id: str) -> str:
    """The row's owner column, else whoever imports."""
    return str(record.get("owner_id") or actor_id).strip()


def row_status(record: dict[str, Any]) -> Status | None:
    """The row's status (a value or a Chinese label, default active); None unless the import may
    file a project in it (draft, active, closed)."""
    text = str(record.get("status") or "active").strip()
    status = STATUS_LABELS.get(text) or next((s for s in Status if s.value == text.lower()), None)
    return status if status in IMPORT_STATUSES else None


def row_problems(*, owner_id: str, owner_known: bool, status: Status | None) -> list[FieldViolation]:
    out = []
    if not owner_known:
        out.append(FieldViolation("owner_id", f"用户 {owner_id} 不存在", f"unknown user {owner_id}"))
    if status is None:
        out.append(FieldViolation("status", "状态只能是 draft、active 或 closed",
                                  "status must be draft, active or closed"))
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
