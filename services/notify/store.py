"""Persistence of the notify service: keyword-only functions over a SQLModel session/engine."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.notify import domain
from services.notify.models import DeliveryLog, Notification

log = structlog.get_logger(__name__)


def _to_domain(row: Notification) -> domain.Notification:
    return domain.Notification(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        project_id=row.project_id,
        action_url=row.action_url,
        created_at=domain.as_utc(row.created_at),
        read=row.read,
    )


def add_notifications(session: Session, *, command: domain.SendCommand, now: datetime) -> list[domain.Notification]:
    """Insert one notification (and its in-app delivery row) per distinct recipient. The caller
    commits (inside ``run_once``, so a retried request changes nothing)."""
    ids = {rid: str(uuid.uuid4()) for rid in domain.distinct_recipients(command.recipient_ids)}
    planned = domain.plan_notifications(command, now=now, new_id=ids)
    for n in planned:
        session.add(
            Notification(
                id=n.id,
                user_id=n.user_id,
                kind=n.kind,
                title=n.title,
                body=n.body,
                project_id=n.project_id,
                action_url=n.action_url,
                created_at=n.created_at,
                read=n.read,
            )
        )
    session.flush()
    for n in planned:
        d = domain.inapp_delivery(n)
        session.add(
            DeliveryLog(
                id=str(uuid.uuid4()),
                notification_id=d.notification_id,
                channel=d.channel,
                status=d.status,
                attempts=d.attempts,
                at=d.at,
            )
        )
    log.info(
        "notify.sent",
        project_id=command.project_id,
        kind=command.kind,
        recipients=len(planned),
        channel=domain.CHANNEL_INAPP,
    )
    return planned


def list_inbox(
    engine: Engine, *, user_id: str, limit: int, cursor: domain.Cursor | None
) -> tuple[list[domain.Notification], bool]:
    """Newest first, keyset-paged on (created_at, id). Returns the page and whether more follow."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if cursor is not None:
        stmt = stmt.where(
            sa.or_(
                col(Notification.created_at) < cursor.created_at,
                sa.and_(col(Notification.created_at) == cursor.created_at, col(Notification.id) < cursor.id),
            )
        )
    stmt = stmt.order_by(col(Notification.created_at).desc(), col(Notification.id).desc()).limit(limit + 1)
    with Session(engine) as session:
        rows = list(session.exec(stmt))
    return [_to_domain(r) for r in rows[:limit]], len(rows) > limit


def deliveries(engine: Engine, *, notification_ids: list[str]) -> list[domain.Delivery]:
    """Delivery log rows of the given notifications (oldest first)."""
    stmt = (
        select(DeliveryLog)
        .where(col(DeliveryLog.notification_id).in_(notification_ids))
        .order_by(col(DeliveryLog.at), col(DeliveryLog.id))
    )
    with Session(engine) as session:
        return [
            domain.Delivery(
                notification_id=r.notification_id,
                channel=r.channel,
                status=r.status,
                attempts=r.attempts,
                at=domain.as_utc(r.at),
            )
            for r in session.exec(stmt)
        ]
