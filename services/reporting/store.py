"""Persistence of the reporting service: keyword-only functions over a SQLAlchemy engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.reporting import domain
from services.reporting.models import EventLog, ProjectView, metadata

log = structlog.get_logger(__name__)


def _insert_ignore(session: Session, table: sa.Table, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when a row was inserted. On PostgreSQL a concurrent
    insert of the same key waits for the other transaction and then does nothing."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = next(iter(table.primary_key.columns))
    stmt = insert(table).values(**values).on_conflict_do_nothing().returning(key)
    # RETURNING rather than rowcount: through an ORM session rowcount is not reliable (-1)
    return session.execute(stmt).first() is not None


def _view(row: ProjectView) -> domain.ProjectView:
    return domain.ProjectView(
        project_id=row.project_id,
        code=row.code,
        name=row.name,
        status=row.status,
        amount=row.amount,
        owner_id=row.owner_id,
        department_id=row.department_id,
        region=row.region,
        business_line=row.business_line,
        last_event_at=domain.as_utc(row.last_event_at) if row.last_event_at else None,
        field_at={k: datetime.fromisoformat(v) for k, v in (row.field_at or {}).items()},
    )


def ingest(engine: Engine, *, event: domain.Event, now: datetime) -> bool:
    """Record the event once (processed_event + event_log) and fold it into the project's read
    model, all in one transaction. Returns False for an event id seen before (nothing changes)."""
    snapshot = domain.validate_event(event)
    assert event.at is not None
    at = domain.as_utc(event.at)
    with Session(engine) as session:
        if not _insert_ignore(
            session, metadata.tables["processed_event"], {"event_id": event.event_id, "processed_at": now}
        ):
            session.rollback()
            log.info("event.duplicate", project_id=event.project_id, event_id=event.event_id, type=event.type)
            return False
        session.add(
            EventLog(
                event_id=event.event_id,
                type=event.type,
                project_id=event.project_id,
                at=at,
                actor_id=event.actor_id,
                payload=dict(event.payload),
                received_at=now,
            )
        )
        # Make sure the row exists, then lock it: concurrent events of one project serialise here.
        _insert_ignore(
            session,
            metadata.tables["project_view"],
            {"project_id": event.project_id, "updated_at": now, "field_at": {}},
        )
        row = session.exec(
            select(ProjectView).where(ProjectView.project_id == event.project_id).with_for_update()
        ).one()
        before = _view(row)
        after = domain.fold(before, event, snapshot)
        for key in domain.SNAPSHOT_FIELDS:
            setattr(row, key, getattr(after, key))
        row.last_event_at = after.last_event_at
        row.field_at = {k: v.isoformat() for k, v in after.field_at.items()}
        row.updated_at = now
        session.add(row)
        session.commit()
    log.info(
        "event.ingested",
        project_id=event.project_id,
        event_id=event.event_id,
        type=event.type,
        stale=domain.is_stale(before, event),
    )
    return True


def project_views(engine: Engine, *, all_projects: bool, project_ids: Sequence[str]) -> list[domain.ProjectView]:
    """Read models of all projects or of the given ids (unknown ids are skipped), most recently
    changed first."""
    if not all_projects and not project_ids:
        return []
    stmt = select(ProjectView)
    if not all_projects:
        stmt = stmt.where(col(ProjectView.project_id).in_(sorted(set(project_ids))))
    stmt = stmt.order_by(col(ProjectView.last_event_at).desc(), col(ProjectView.project_id))
    with Session(engine) as session:
        return [_view(r) for r in session.exec(stmt)]


def event_log(engine: Engine, *, project_id: str) -> list[dict[str, Any]]:
    """The project's logged events in event-time order (for analytics and tests)."""
    with Session(engine) as session:
        rows = session.exec(
            select(EventLog).where(EventLog.project_id == project_id).order_by(col(EventLog.at), col(EventLog.event_id))
        )
        return [
            {"event_id": r.event_id, "type": r.type, "at": domain.as_utc(r.at), "actor_id": r.actor_id,
             "payload": r.payload}
            for r in rows
        ]
