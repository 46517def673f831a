"""Change requests (变更) of active projects: opened (validated as the registration was, against
the form version the project was filed with), settled, and applied when approved. Each public
function runs inside the caller's session (the servicer owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from sqlmodel import Session, col, select

from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, ValidationFailed
from services.registry import domain
from services.registry.audit import domain as audit_domain
from services.registry.audit import store as audit_store
from services.registry.changes.models import ChangeRequestRow
from services.registry.domain import ADMIN_ROLE, Project, Status, Viewer, editing
from services.registry.models import ProjectRow
from services.registry.store.forms import find_form
from services.registry.store.projects import validate
from services.registry.store.rows import add_history, lock_project, project_not_found, project_of
from services.registry.store.visibility import Visibility

log = structlog.get_logger(__name__)

PENDING, APPROVED, REJECTED, WITHDRAWN, CANCELLED = "pending", "approved", "rejected", "withdrawn", "cancelled"
OUTCOMES = (APPROVED, REJECTED, WITHDRAWN, CANCELLED)
# What a change may touch: money, dates and the form's fields (scope). Not the name, customer,
# region or business line (those identify the registration), nor the team.
CHANGE_KEYS = ("amount", "start_date", "end_date", "fields")
MAX_REASON = 2000


def _violations_prefixed(violations: list[FieldViolation]) -> list[FieldViolation]:
    return [FieldViolation(f"changes.{v.field}", v.zh, v.en) for v in violations]


def shape_violations(changes: Mapping[str, Any], reason: str) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    for k in changes:
        if k not in CHANGE_KEYS:
            out.append(FieldViolation(f"changes.{k}", f"变更不能修改 {k}（只能修改金额、起止日期和表单字段）",
                                      f"a change cannot touch {k} (amount, start_date, end_date, fields only)"))
    if "fields" in changes and not isinstance(changes["fields"], dict):
        out.append(FieldViolation("changes.fields", "必须是对象", "must be an object"))
    if "amount" in changes and changes["amount"] is None:
        out.append(FieldViolation("changes.amount", "金额不能为空", "amount cannot be empty"))
    if not reason.strip():
        out.append(FieldViolation("reason", "请填写变更原因", "reason is required"))
    elif len(reason) > MAX_REASON:
        out.append(FieldViolation("reason", f"变更原因最多 {MAX_REASON} 字", f"reason ≤ {MAX_REASON} characters"))
    return out


# Who may propose a change: the owner, an admin, and the project's PM (relation "pm" of the
# project team, once the registry has teams: the relation is simply absent before).
PROPOSERS = frozenset({"owner", "admin", "pm"})


def access(session: Session, project_id: str, viewer: Viewer | None) -> tuple[set[str], list[str] | None]:
    """The paths of the project ``viewer`` may not read and their relations to it (NotFound unless
    they may see it). No viewer: an internal caller, nothing checked or withheld (relations None)."""
    row = session.get(ProjectRow, project_id) if project_id else None
    if row is None:
        raise project_not_found(project_id)
    if viewer is None:
        return set(), None
    seeing = Visibility(session, viewer)
    project = project_of(row)
    relations = domain.relations(seeing.viewer, project, seeing.managed)
    if not relations:
        raise project_not_found(project_id)
    return domain.hidden_paths(viewer, project, seeing.form(project.form_key, project.form_version)), relations


def seen_by(session: Session, project_id: str, viewer: Viewer | None) -> set[str]:
    """The paths of the project ``viewer`` may not read (NotFound unless they may see it)."""
    return access(session, project_id, viewer)[0]


def requests_of(session: Session, project_id: str) -> list[ChangeRequestRow]:
    stmt = select(ChangeRequestRow).where(ChangeRequestRow.project_id == project_id)
    return list(session.exec(stmt.order_by(col(ChangeRequestRow.seq).desc())).all())


def change_not_found(change_id: str) -> NotFound:
    return NotFound(f"变更申请不存在：{change_id}", f"unknown change request: {change_id}", code="change_not_found")


def get(session: Session, change_id: str) -> ChangeRequestRow:
    row = session.get(ChangeRequestRow, change_id) if change_id else None
    if row is None:
        raise change_not_found(change_id)
    return row


def _evaluate(session: Session, current: Project, changes: Mapping[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """The project as it would be after ``changes`` (validated against its form version) and the diff."""
    form = find_form(session=session, key=current.form_key, version=current.form_version)
    valid, violations = validate(session, editing.edited_input(current, changes), form)
    if valid is None:
        raise ValidationFailed(_violations_prefixed(violations))
    before, after = editing.snapshot(current), editing.snapshot(valid)
    return valid, editing.diff(before, after)


def _require_active(status: Status) -> None:
    if status != Status.ACTIVE:
        raise Conflict(f"只有执行中（已生效）的项目可以变更，当前状态：{status.value}",
                       f"only an active project can be changed (status {status.value})", code="illegal_transition")


def open_change(
    session: Session, *, project_id: str, actor_id: str, actor_is_admin: bool, actor_roles: set[str],
    changes: Mapping[str, Any], reason: str, reset_baseline: bool, now: datetime,
    relations: list[str] | None = None,
) -> ChangeRequestRow:
    """``relations``: the actor's relations to the project as the viewer it came as (None: an
    internal caller, then the owner or an admin)."""
    bad = shape_violations(changes, reason)
    if bad:
        raise ValidationFailed(bad)
    row = lock_project(session, project_id)
    allowed = (bool(PROPOSERS.intersection(relations)) if relations is not None
               else actor_is_admin or actor_id == row.owner_id)
    if not allowed:
        raise Forbidden("只有项目负责人、项目经理或管理员可以发起变更",
                        "only the owner, the project manager or an admin may propose a change", code="not_owner")
    current = project_of(row)
    _require_active(current.status)
    existing = requests_of(session, project_id)
    if any(r.status == PENDING for r in existing):
        raise Conflict("该项目已有待审批的变更申请", "a change request of this project is pending",
                       code="change_pending")
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    if not actor_is_admin and ADMIN_ROLE not in actor_roles:
        denied = editing.write_denied(form, dict(changes.get("fields") or {}), actor_roles)
        if denied:
            raise Forbidden("无权修改以下字段", "not allowed to change these fields",
                            violations=_violations_prefixed(denied))
    valid, diff = _evaluate(session, current, changes)
    if not diff:
        raise ValidationFailed([FieldViolation("changes", "变更没有改变任何内容", "the change changes nothing")])
    out = ChangeRequestRow(
        id=uuid.uuid4().hex, project_id=project_id, seq=max((r.seq for r in existing), default=0) + 1,
        status=PENDING, changes=dict(changes), diff=diff, reason=reason.strip(), reset_baseline=reset_baseline,
        requested_by=actor_id, base_version=row.version, after_amount=str(valid.amount), created_at=now,
    )
    session.add(out)
    session.flush()
    log.info("change.opened", project_id=project_id, change_id=out.id, fields=[d["field"] for d in diff])
    return out


def _apply(session: Session, change: ChangeRequestRow, *, actor_id: str, now: datetime) -> None:
    """Apply an approved change: the project, its history entry ``changed`` and an audit event, in
    the caller's transaction."""
    row = lock_project(session, change.project_id)
    current = project_of(row)
    _require_active(current.status)
    valid, diff = _evaluate(session, current, change.changes)
    row.amount = str(valid.amount)
    row.start_date, row.end_date, row.fields = valid.start_date, valid.end_date, valid.fields
    row.version += 1
    row.updated_at = now
    session.add(row)
    data = {"changes": diff, "version": row.version, "change_id": change.id, "reason": change.reason,
            "requested_by": change.requested_by}
    add_history(session, change.project_id, at=now, actor=actor_id, event="changed", data=data)
    audit_store.append(session=session, draft=audit_domain.Draft(
        event_id=f"change:{change.id}:applied", action="project.changed", actor_id=actor_id or "system",
        target_type="project", target_id=change.project_id,
        details={"change_id": change.id, "requested_by": change.requested_by, "version": row.version,
                 "fields": [d["field"] for d in diff]},
    ), at=now)
    change.applied_version = row.version
    change.diff = diff
    log.info("change.applied", project_id=change.project_id, change_id=change.id, version=row.version)


def settle(session: Session, *, change_id: str, status: str, actor_id: str, reason: str,
           now: datetime) -> ChangeRequestRow:
    if status not in OUTCOMES:
        raise ValidationFailed([FieldViolation("status", "须为 approved、rejected、withdrawn 或 cancelled",
                                               "must be approved, rejected, withdrawn or cancelled")])
    row = get(session, change_id)
    if row.status == status:
        return row
    if row.status != PENDING:
        raise Conflict("变更申请已处理", "the change request is already settled", code="already_decided")
    if status == APPROVED:
        _apply(session, row, actor_id=actor_id, now=now)
    row.status, row.decided_at, row.decided_by, row.outcome_reason = status, now, actor_id, reason
    session.add(row)
    session.flush()
    return row

