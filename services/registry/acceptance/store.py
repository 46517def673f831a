"""Acceptance (验收) checklists, requests and documents: rules as plain functions over rows, each
public function runs inside the caller's session (the servicer owns the transaction)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, ValidationFailed
from services.registry.acceptance.models import AcceptanceChecklistRow, AcceptanceDocumentRow, AcceptanceRequestRow
from services.registry.domain import Viewer
from services.registry.models import ProjectRow
from services.registry.store.rows import add_history, project_not_found, project_of
from services.registry.store.visibility import Visibility

PENDING, ACCEPTED, REJECTED, CANCELLED = "pending", "accepted", "rejected", "cancelled"
OUTCOMES = (ACCEPTED, REJECTED, CANCELLED)
KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_ITEMS = 50
MAX_NOTE = 2000


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    required: bool = True
    needs_document: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "required": self.required, "needs_document": self.needs_document}


@dataclass(frozen=True)
class State:
    key: str
    done: bool
    note: str = ""


def project(session: Session, project_id: str, viewer: Viewer | None, *, manage: bool = False) -> ProjectRow:
    """The project, as the viewer may see it (NotFound otherwise); ``manage``: only its owner, its
    PM (项目经理 of its team) or an admin may act on its acceptance. No viewer: an internal caller,
    nothing checked."""
    row = session.get(ProjectRow, project_id) if project_id else None
    seen = Visibility(session, viewer) if viewer is not None else None
    if row is None or (seen is not None and not seen.can_see(project_of(row))):
        raise project_not_found(project_id)
    if manage and seen is not None and seen.viewer is not None:
        who = seen.viewer
        if not who.admin and who.user_id != row.owner_id and row.id not in who.pm_project_ids:
            raise Forbidden("只有项目负责人、项目经理或管理员可以申请验收",
                            "only the owner, the project manager or an admin may request acceptance", code="not_owner")
    return row


def checklist(session: Session, business_line: str) -> AcceptanceChecklistRow | None:
    row = session.get(AcceptanceChecklistRow, business_line.strip())
    return row if row is not None and row.items else None


def validate_items(items: Sequence[Item]) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    if len(items) > MAX_ITEMS:
        out.append(FieldViolation("items", f"最多 {MAX_ITEMS} 项", f"at most {MAX_ITEMS} items"))
    seen: set[str] = set()
    for i, it in enumerate(items):
        if not KEY.match(it.key):
            out.append(FieldViolation(f"items[{i}].key", "须为 1–64 位字母、数字、_ . -",
                                      "must be 1–64 letters, digits, _ . -"))
        elif it.key in seen:
            out.append(FieldViolation(f"items[{i}].key", f"重复的交付物：{it.key}", f"duplicate key: {it.key}"))
        seen.add(it.key)
        if not it.name.strip() or len(it.name) > 200:
            out.append(FieldViolation(f"items[{i}].name", "名称必填（最多 200 字）", "name is required (≤ 200)"))
    return out


def put_checklist(session: Session, *, business_line: str, items: Sequence[Item], actor_id: str,
                  now: datetime) -> AcceptanceChecklistRow:
    line = business_line.strip()
    if not line or len(line) > 100:
        raise ValidationFailed([FieldViolation("business_line", "业务线必填", "business_line is required")])
    problems = validate_items(items)
    if problems:
        raise ValidationFailed(problems)
    data = [it.as_dict() for it in items]
    row = session.get(AcceptanceChecklistRow, line)
    if row is None:
        row = AcceptanceChecklistRow(business_line=line, items=data, version=1, updated_at=now, updated_by=actor_id)
        session.add(row)
    elif list(row.items) != data:
        row.items, row.version, row.updated_at, row.updated_by = data, row.version + 1, now, actor_id
        session.add(row)
    session.flush()
    return row


def requests_of(session: Session, project_id: str) -> list[AcceptanceRequestRow]:
    stmt = select(AcceptanceRequestRow).where(AcceptanceRequestRow.project_id == project_id)
    return list(session.exec(stmt.order_by(col(AcceptanceRequestRow.seq).desc())).all())


def documents_of(session: Session, project_id: str) -> list[AcceptanceDocumentRow]:
    stmt = select(AcceptanceDocumentRow).where(AcceptanceDocumentRow.project_id == project_id)
    return list(session.exec(stmt.order_by(col(AcceptanceDocumentRow.id))).all())


def add_document(session: Session, doc: AcceptanceDocumentRow) -> AcceptanceDocumentRow:
    """A document for the pending request, else for the next one; the same attachment for the
    same deliverable twice is stored once."""
    pending = next((r for r in requests_of(session, doc.project_id) if r.status == PENDING), None)
    doc.request_id = pending.id if pending else ""
    for d in documents_of(session, doc.project_id):
        if (d.attachment_id, d.deliverable_key, d.request_id) == (doc.attachment_id, doc.deliverable_key,
                                                                   doc.request_id):
            return d
    session.add(doc)
    session.flush()
    return doc


def check_deliverables(items: Sequence[Item], states: Sequence[State],
                       documented: set[str]) -> list[FieldViolation]:
    """What blocks an acceptance request: unknown keys, required deliverables not done, done
    deliverables needing a document without one (``documented``: keys with a document)."""
    out: list[FieldViolation] = []
    known = {it.key for it in items}
    given: dict[str, State] = {}
    for i, s in enumerate(states):
        if s.key not in known:
            out.append(FieldViolation(f"deliverables[{i}].key", f"清单中没有该交付物：{s.key}",
                                      f"not on the checklist: {s.key}"))
        elif len(s.note) > MAX_NOTE:
            out.append(FieldViolation(f"deliverables[{i}].note", f"备注最多 {MAX_NOTE} 字", f"note ≤ {MAX_NOTE}"))
        given[s.key] = s
    for it in items:
        state = given.get(it.key)
        done = state is not None and state.done
        if it.required and not done:
            out.append(FieldViolation(f"deliverables.{it.key}", f"必需的交付物未完成：{it.name}",
                                      f"required deliverable not done: {it.name}"))
        if done and it.needs_document and it.key not in documented:
            out.append(FieldViolation(f"documents.{it.key}", f"交付物须上传文档：{it.name}",
                                      f"deliverable needs an uploaded document: {it.name}"))
    return out


def open_request(session: Session, *, project_id: str, viewer: Viewer | None, states: Sequence[State],
                 comment: str, actor_id: str, policy_key: str, now: datetime) -> AcceptanceRequestRow:
    found_project = project(session, project_id, viewer, manage=True)
    project_status, business_line = found_project.status, found_project.business_line
    if project_status != "active":
        raise Conflict(f"只有执行中（已生效）的项目可以申请验收，当前状态：{project_status}",
                       f"only an active project can be accepted (status {project_status})", code="illegal_transition")
    existing = requests_of(session, project_id)
    if any(r.status == PENDING for r in existing):
        raise Conflict("该项目已有待审批的验收申请", "an acceptance request of this project is pending",
                       code="acceptance_pending")
    found = checklist(session, business_line)
    items = [Item(**i) for i in found.items] if found is not None else []
    docs = [d for d in documents_of(session, project_id) if not d.request_id]
    problems = check_deliverables(items, states, {d.deliverable_key for d in docs if d.deliverable_key})
    if problems:
        raise ValidationFailed(problems, zh="验收申请不完整：" + "；".join(p.zh for p in problems),
                               en="the acceptance request is incomplete: " + "; ".join(p.en for p in problems))
    given = {s.key: s for s in states}
    row = AcceptanceRequestRow(
        id=uuid.uuid4().hex, project_id=project_id, seq=max((r.seq for r in existing), default=0) + 1,
        status=PENDING, business_line=business_line.strip(),
        deliverables=[{**it.as_dict(), "done": bool(given[it.key].done) if it.key in given else False,
                       "note": given[it.key].note if it.key in given else ""} for it in items],
        comment=comment, requested_by=actor_id, policy_key=policy_key, created_at=now,
    )
    session.add(row)
    session.flush()
    for d in docs:
        d.request_id = row.id
        session.add(d)
    add_history(session, project_id, at=now, actor=actor_id, event="acceptance_requested",
                data={"acceptance_id": row.id, "seq": row.seq, "comment": comment})
    session.flush()
    return row


def settle(session: Session, *, acceptance_id: str, status: str, actor_id: str, reason: str,
           now: datetime) -> AcceptanceRequestRow:
    if status not in OUTCOMES:
        raise ValidationFailed([FieldViolation("status", "须为 accepted、rejected 或 cancelled",
                                               "must be accepted, rejected or cancelled")])
    row = session.get(AcceptanceRequestRow, acceptance_id)
    if row is None:
        raise NotFound(f"验收申请不存在：{acceptance_id}", f"unknown acceptance request: {acceptance_id}")
    if row.status == status:
        return row
    if row.status != PENDING:
        raise Conflict("验收申请已处理", "the acceptance request is already settled", code="already_decided")
    row.status, row.decided_at, row.decided_by, row.reason = status, now, actor_id, reason
    session.add(row)
    # The project's history tells the story: requested, then accepted (closed next) or rejected.
    add_history(session, row.project_id, at=now, actor=actor_id, event=f"acceptance_{status}",
                data={"acceptance_id": row.id, "seq": row.seq, "reason": reason})
    session.flush()
    return row
