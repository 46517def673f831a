"""The audit log for admins: filtered pages, a CSV export (itself audited) and the chain check."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse
from google.protobuf import timestamp_pb2

from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.core.spreadsheet import safe_row
from baobei.registry.v1 import audit_service_pb2 as audit_pb2
from edge import audit, mapping
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients
from edge.openapi_examples import ADMIN_REQUIRED, ErrorExample, error_examples
from edge.routes import area_router
from edge.schemas_audit import AuditPage, AuditVerifyOut

router = area_router("audit log")
EXPORT_PAGE = 1000
CSV_COLUMNS = [
    ("seq", "序号"), ("at", "时间(UTC)"), ("action", "动作"), ("outcome", "结果"), ("actor_id", "操作人"),
    ("actor_ip", "IP"), ("target_type", "对象类型"), ("target_id", "对象"), ("details", "详情"),
    ("request_id", "请求ID"), ("prev_hash", "前一哈希"), ("hash", "哈希"),
]


def _ts(value: datetime | None, field: str) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    t = timestamp_pb2.Timestamp()
    try:
        t.FromDatetime(value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC))
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise ValidationFailed([FieldViolation(field, "时间超出范围", "time out of range")]) from None
    return t


@dataclass
class AuditQuery:
    """Filters of the list and the export (all optional, combined with AND)."""

    action: Annotated[str | None, Query(max_length=100, examples=["token."],
                                        description="动作前缀，如 `token.`（token.issued、token.revoked）")] = None
    actor_id: Annotated[str | None, Query(max_length=200, description="操作人")] = None
    target_type: Annotated[str | None, Query(max_length=64, description="对象类型：user、form、rule …")] = None
    target_id: Annotated[str | None, Query(max_length=200, description="对象标识")] = None
    outcome: Annotated[Literal["success", "failure"] | None, Query(description="结果")] = None
    from_: Annotated[datetime | None, Query(alias="from", description="起（含），ISO 8601；无时区按 UTC",
                                            examples=["2026-12-01T00:00:00+08:00"])] = None
    to: Annotated[datetime | None, Query(description="止（不含），ISO 8601；无时区按 UTC")] = None

    def request(self, *, limit: int, cursor: str) -> audit_pb2.ListAuditRequest:
        req = audit_pb2.ListAuditRequest(
            action=self.action or "", actor_id=self.actor_id or "", target_type=self.target_type or "",
            target_id=self.target_id or "", outcome=self.outcome or "", limit=limit, cursor=cursor,
        )
        for name, value in (("from", _ts(self.from_, "from")), ("to", _ts(self.to, "to"))):
            if value is not None:
                getattr(req, name).CopyFrom(value)
        return req

    def given(self) -> dict[str, str]:
        """The filters set, as the export's audit event records them."""
        values = {"action": self.action, "actor_id": self.actor_id, "target_type": self.target_type,
                  "target_id": self.target_id, "outcome": self.outcome,
                  "from": self.from_.isoformat() if self.from_ else None,
                  "to": self.to.isoformat() if self.to else None}
        return {k: v for k, v in values.items() if v}


def event_out(e: audit_pb2.AuditEvent) -> dict[str, Any]:
    return {
        "seq": e.seq, "at": mapping.ts(e.at), "action": e.action, "outcome": e.outcome, "actor_id": e.actor_id,
        "actor_ip": e.actor_ip, "target_type": e.target_type or None, "target_id": e.target_id or None,
        "details": json.loads(e.details_json or "{}"), "request_id": e.request_id or None,
        "prev_hash": e.prev_hash, "hash": e.hash,
    }


def _csv_lines(events: list[audit_pb2.AuditEvent], *, header: bool) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    if header:
        writer.writerow(safe_row(label for _, label in CSV_COLUMNS))
    for e in events:
        row = {**event_out(e), "details": e.details_json}
        writer.writerow(safe_row("" if row[key] is None else row[key] for key, _ in CSV_COLUMNS))
    return buf.getvalue()


async def _export(clients: EdgeClients, query: AuditQuery, first: audit_pb2.ListAuditResponse) -> AsyncIterator[str]:
    # BOM first: Excel then reads the file as UTF-8. Pages go newest first by seq, so events
    # appended while the export runs are not in it (they are newer than its first page).
    yield "\ufeff" + _csv_lines(list(first.events), header=True)
    cursor = first.next_cursor
    while cursor:
        page = await clients.audit.List(query.request(limit=EXPORT_PAGE, cursor=cursor))
        yield _csv_lines(list(page.events), header=False)
        cursor = page.next_cursor


CSV_EXAMPLE = "\ufeff" + ",".join(label for _, label in CSV_COLUMNS) + "\r\n"


@router.get("/audit-log", response_model=AuditPage, responses={
    200: {"content": {"text/csv": {"example": CSV_EXAMPLE}}},
    **error_examples(ADMIN_REQUIRED, ErrorExample(422, "validation_failed", "输入校验失败", (
        ("from", "时间超出范围"),)))})
async def audit_log(
    admin: AdminUser,
    clients: Clients,
    query: Annotated[AuditQuery, Depends()],
    limit: Annotated[int, Query(ge=1, le=1000, description="每页条数")] = 100,
    cursor: Annotated[str | None, Query(max_length=20, description="上一页的 next_cursor")] = None,
    format: Annotated[Literal["json", "csv"],
                      Query(description="json，或 csv：导出全部匹配的事件（忽略 limit/cursor）")] = "json",
) -> Any:
    """Security and configuration events, newest first (admin). Filters combine with AND; `action`
    matches a prefix. `?format=csv` streams every matching event as CSV (UTF-8 with BOM for Excel,
    formula-like cells neutralised); the export itself is recorded as `audit.exported`."""
    if format == "csv":
        first = await clients.audit.List(query.request(limit=EXPORT_PAGE, cursor=""))
        await audit.record(clients, "audit.exported", actor_id=admin.id, target_type="audit_log",
                           details={"format": "csv", "filters": query.given()})
        return StreamingResponse(_export(clients, query, first), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
    resp = await clients.audit.List(query.request(limit=limit, cursor=cursor or ""))
    return {"items": [event_out(e) for e in resp.events], "next_cursor": resp.next_cursor or None}


@router.get("/audit-log/verify", response_model=AuditVerifyOut, responses=error_examples(ADMIN_REQUIRED))
async def verify_audit_log(admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Walk the hash chain from its anchor (the last event removed by retention) to the newest event
    and report the first event that was edited or deleted in the database (admin)."""
    resp = await clients.audit.Verify(audit_pb2.VerifyAuditRequest())
    return {"ok": resp.ok, "checked": resp.checked, "first_broken_seq": resp.first_broken_seq or None,
            "reason": resp.reason or None, "anchor": {"seq": resp.anchor.seq, "hash": resp.anchor.hash},
            "head": {"seq": resp.head.seq, "hash": resp.head.hash}}
