"""Rows to domain objects and the helpers every registry store module shares (UTC, history, locks)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound
from services.registry.domain import (
    ConflictHit,
    Customer,
    HistoryEntry,
    Project,
    Protection,
    ProtectionInfo,
    Status,
    User,
)
from services.registry.domain.protection import Member
from services.registry.forms import FormDef, FormField, FormRule, FormSettings
from services.registry.models import FormVersionRow, ProjectHistoryRow, ProjectRow, UserRow


def utc(dt: datetime) -> datetime:
    """SQLite hands timestamps back naive; everything stored is UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)


def user_of(row: UserRow) -> User:
    return User(
        id=row.id, name=row.name, email=row.email, mobile=row.mobile, department_id=row.department_id,
        roles=tuple(row.roles or ()), region=row.region, left=bool(row.left),
    )


def form_of(row: FormVersionRow) -> FormDef:
    return FormDef(
        key=row.key, title=row.title, version=row.version, created_at=utc(row.created_at),
        fields=tuple(FormField.from_json(f) for f in row.fields),
        settings=FormSettings.from_json(row.settings), rules=tuple(FormRule.from_json(r) for r in row.rules or []),
    )


class ProjectValues:
    """A ``project`` row's columns read or written through Core (a dict), seen as a ProjectRow
    (``project_of`` and the rules read its attributes; a column not given reads None)."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            if name in PROJECTS.c:
                return None
            raise AttributeError(name) from None


PROJECTS: sa.Table = ProjectRow.__table__  # type: ignore[attr-defined]
_HISTORY_TABLE: sa.Table = ProjectHistoryRow.__table__  # type: ignore[attr-defined]
# Built once (their compiled forms are cached by statement): the lifecycle's writes read the
# locked project and add history through Core, with no ORM unit of work.
_LOCK_PROJECT = sa.select(PROJECTS).where(PROJECTS.c.id == sa.bindparam("project_id")).with_for_update()
_ADD_HISTORY = _HISTORY_TABLE.insert().inline()


def lock_values(session: Session, project_id: str) -> ProjectValues:
    """``lock_project`` through Core: the row's columns (a dict), locked for the transaction."""
    found = session.connection().execute(_LOCK_PROJECT, {"project_id": project_id}).first()
    if found is None:
        raise project_not_found(project_id)
    return ProjectValues(dict(found._mapping))


def insert_history(
    session: Session, project_id: str, *, at: datetime, actor: str, event: str, data: dict[str, Any]
) -> None:
    """``add_history`` written at once through Core (the same row)."""
    session.connection().execute(_ADD_HISTORY, {"project_id": project_id, "at": at, "actor": actor, "event": event,
                                                "data": data})


def project_of(row: ProjectRow | ProjectValues, history: list[HistoryEntry] | None = None) -> Project:
    return Project(
        id=row.id, code=row.code, status=Status(row.status), name=row.name,
        customer=Customer(
            name=row.customer_name, uscc=row.customer_uscc, contact=row.customer_contact, phone=row.customer_phone
        ),
        amount=Decimal(row.amount), region=row.region, business_line=row.business_line,
        start_date=row.start_date, end_date=row.end_date, fields=dict(row.fields or {}),
        form_key=row.form_key, form_version=row.form_version, owner_id=row.owner_id,
        department_id=row.department_id,
        conflicts=[ConflictHit(project_id=c["project_id"], reason=c["reason"], score=float(c.get("score", 0.0)))
                   for c in (row.conflicts or [])],
        history=history or [], version=row.version, created_at=utc(row.created_at), updated_at=utc(row.updated_at),
        external_source=row.external_source or "", external_id=row.external_id or "",
        protection=ProtectionInfo(
            state=Protection(row.protection_state or ""),
            since=utc(row.protected_since) if row.protected_since else None,
            until=utc(row.protected_until) if row.protected_until else None,
            cap=utc(row.protection_cap) if row.protection_cap else None,
            follow_ups=row.follow_ups or 0,
        ),
    )


def member_of(row: ProjectRow | ProjectValues) -> Member:
    """The project as its customer's line sees it."""
    return Member(project_id=row.id, status=Status(row.status), state=Protection(row.protection_state or ""),
                  seq=row.waitlist_seq)


_HISTORY = (
    sa.select(col(ProjectHistoryRow.at), col(ProjectHistoryRow.actor), col(ProjectHistoryRow.event),
              col(ProjectHistoryRow.data))
    .where(col(ProjectHistoryRow.project_id) == sa.bindparam("project_id"))
    .order_by(col(ProjectHistoryRow.at), col(ProjectHistoryRow.id))
)


def history(session: Session, project_id: str) -> list[HistoryEntry]:
    # Flushed first, as the ORM query it replaces autoflushed; Core reads plain tuples (no
    # history objects built and tracked per read, and this is read on every change).
    session.flush()
    return [
        HistoryEntry(at=utc(at), actor=actor, event=event, data=dict(data or {}))
        for at, actor, event, data in session.connection().execute(_HISTORY, {"project_id": project_id})
    ]


def add_history(
    session: Session, project_id: str, *, at: datetime, actor: str, event: str, data: dict[str, Any]
) -> None:
    session.add(ProjectHistoryRow(project_id=project_id, at=at, actor=actor, event=event, data=data))


def project_not_found(project_id: str) -> NotFound:
    return NotFound(f"项目 {project_id} 不存在", f"project {project_id} not found", code="project_not_found")


def lock_project(session: Session, project_id: str) -> ProjectRow:
    row = session.exec(select(ProjectRow).where(ProjectRow.id == project_id).with_for_update()).first()
    if row is None:
        raise project_not_found(project_id)
    return row


def conflicts_json(hits: list[ConflictHit]) -> list[dict[str, Any]]:
    """Stored ``conflicts``: rows written before the score existed have none (read as 0)."""
    return [{"project_id": h.project_id, "reason": h.reason, "score": h.score} for h in hits]
