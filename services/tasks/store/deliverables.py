"""Deliverables: files in the blob store recorded against a task (a milestone may require them)."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound, ValidationFailed
from services.tasks import domain
from services.tasks.models import Deliverable
from services.tasks.store.rows import get_task

log = structlog.get_logger(__name__)


def add_deliverable(
    session: Session,
    *,
    task_id: str,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    uploaded_by: str,
    now: datetime,
) -> Deliverable:
    """Record a file already in the blob store (``sha256`` names its bytes)."""
    task = get_task(session, task_id=task_id)
    violations = domain.deliverable_record_violations(filename, sha256, size)
    if violations:
        raise ValidationFailed(violations)
    row = Deliverable(
        id=str(uuid.uuid4()),
        task_id=task.id,
        project_id=task.project_id,
        filename=filename.strip(),
        content_type=content_type[:100],
        size=size,
        sha256=sha256,
        uploaded_by=uploaded_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    log.info("task.deliverable_added", project_id=task.project_id, task_id=task.id, sha256=sha256, size=size)
    return row


def get_deliverable(engine: Engine, *, deliverable_id: str) -> Deliverable:
    with Session(engine) as session:
        row = session.get(Deliverable, deliverable_id) if deliverable_id else None
        if row is None:
            raise NotFound(f"交付物不存在：{deliverable_id}", f"no such deliverable: {deliverable_id}",
                           code="deliverable_not_found")
        return row


def deliverables_of(engine: Engine, *, task_id: str) -> list[Deliverable]:
    with Session(engine) as session:
        get_task(session, task_id=task_id)
        return list(
            session.exec(
                select(Deliverable).where(Deliverable.task_id == task_id).order_by(col(Deliverable.created_at))
            )
        )
