"""Persistence of personal notices: the cards sent (``im_message``), the tasks they are about
(``im_task``, the row a card's commit and CloseTask both lock) and the update deliveries
CloseTask queues.

Why the lock: a card may be in flight while its task closes. CloseTask locks the task row, marks
it closed and closes the open cards it sees; a card's commit locks the same row first, so it
either commits before (CloseTask then sees and closes it) or after (it sees the task closed and
queues its own update in the same transaction). Either way the card ends closed, updated once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.notify import domain, personal
from services.notify.models import Delivery, DeliveryAttempt, ImMessage, ImTask
from services.notify.store import delivery_view

log = structlog.get_logger(__name__)
_UPDATE_IDS = uuid.UUID("0b6f3c1e-5d7a-4f21-9a4e-7c2d8e1f3a90")


def update_delivery_id(message_id: str) -> str:
    """The one update delivery of a card (the same whichever close finds it)."""
    return str(uuid.uuid5(_UPDATE_IDS, f"close:{message_id}"))


@dataclass(frozen=True)
class TaskState:
    task_id: str
    outcome: str = ""
    actor_name: str = ""

    @property
    def closed(self) -> bool:
        return bool(self.outcome)

    @property
    def status(self) -> str:
        return personal.card_status(self.outcome, self.actor_name) if self.outcome else ""


@dataclass(frozen=True)
class Message:
    id: str
    channel_key: str
    type: str
    recipient_id: str
    platform_user: str
    task_id: str
    project_id: str
    message_ref: str
    todo_ref: str
    title: str
    markdown: str
    url: str
    state: str
    outcome: str


def _message(r: ImMessage) -> Message:
    return Message(id=r.id, channel_key=r.channel_key, type=r.type, recipient_id=r.recipient_id,
                   platform_user=r.platform_user, task_id=r.task_id, project_id=r.project_id,
                   message_ref=r.message_ref, todo_ref=r.todo_ref, title=r.title, markdown=r.markdown, url=r.url,
                   state=r.state, outcome=r.outcome)


def _lock_task(session: Session, *, task_id: str, project_id: str, now: datetime) -> ImTask:
    """The task's row, created if missing, locked for this transaction (SQLite: the write lock
    BEGIN IMMEDIATE took)."""
    table = ImTask.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(task_id=task_id, outcome="", actor_id="", actor_name="",
                                         project_id=project_id, updated_at=now).on_conflict_do_nothing())
    return session.exec(select(ImTask).where(ImTask.task_id == task_id).with_for_update()).one()


def task_state(engine: Engine, task_id: str) -> TaskState:
    """Whether the task is closed (read without a lock: a check before sending, the commit decides)."""
    if not task_id:
        return TaskState(task_id="")
    with Session(engine) as session:
        row = session.get(ImTask, task_id)
        return TaskState(task_id, row.outcome, row.actor_name) if row is not None else TaskState(task_id)


def get_message(engine: Engine, message_id: str) -> Message | None:
    with Session(engine) as session:
        row = session.get(ImMessage, message_id)
        return _message(row) if row is not None else None


def _queue_update(session: Session, msg: ImMessage, task: ImTask, now: datetime) -> Delivery | None:
    """Close an open card and queue its one update delivery (the delivery log shows it)."""
    if msg.state != personal.OPEN:
        return None
    delivery_id = update_delivery_id(msg.id)
    msg.state, msg.outcome, msg.closed_at, msg.close_delivery_id = personal.CLOSED, task.outcome, now, delivery_id
    session.add(msg)
    if session.get(Delivery, delivery_id) is not None:
        return None
    row = Delivery(
        id=delivery_id,
        notification_id=None,
        recipient_id=msg.recipient_id,
        channel=msg.type,
        target=msg.channel_key,
        status=domain.PENDING,
        project_id=msg.project_id or task.project_id,
        kind=personal.CARD_UPDATE_KIND,
        payload={"im_message_id": msg.id, "task_id": msg.task_id, "outcome": task.outcome,
                 "status": personal.card_status(task.outcome, task.actor_name),
                 "actor_id": task.actor_id, "actor_name": task.actor_name,
                 "removed": personal.todo_removed(task.outcome)},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row


_TASK = ImTask.__table__  # type: ignore[attr-defined]
_MESSAGE = ImMessage.__table__  # type: ignore[attr-defined]
_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
# CloseTask's statements, built once (a statement object keeps its compiled form's cache key).
_CLOSED_TASK_VALUES: dict[str, sa.BindParameter[Any]] = {
    "task_id": sa.bindparam("task_id"), "outcome": sa.bindparam("outcome"), "actor_id": sa.bindparam("actor_id"),
    "actor_name": sa.bindparam("actor_name"), "project_id": sa.bindparam("project_id"),
    "closed_at": sa.bindparam("now"), "updated_at": sa.bindparam("now"),
}
_INSERT_CLOSED_TASK = {
    "postgresql": pg_insert(_TASK).values(_CLOSED_TASK_VALUES).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(_TASK).values(_CLOSED_TASK_VALUES).on_conflict_do_nothing(),
}
_LOCKED_TASK = (
    sa.select(_TASK.c.outcome, _TASK.c.actor_id, _TASK.c.actor_name, _TASK.c.project_id)
    .where(_TASK.c.task_id == sa.bindparam("task_id")).with_for_update()
)
_CLOSE_TASK = (
    sa.update(_TASK).where(_TASK.c.task_id == sa.bindparam("key"))
    .values({k: v for k, v in _CLOSED_TASK_VALUES.items() if k != "task_id"})
)
_TOUCH_TASK = sa.update(_TASK).where(_TASK.c.task_id == sa.bindparam("key")).values(updated_at=sa.bindparam("now"))
_OPEN_CARDS = (
    sa.select(_MESSAGE.c.id, _MESSAGE.c.channel_key, _MESSAGE.c.type, _MESSAGE.c.recipient_id, _MESSAGE.c.project_id)
    .where(_MESSAGE.c.task_id == sa.bindparam("task_id"), _MESSAGE.c.state == personal.OPEN)
    .order_by(_MESSAGE.c.created_at, _MESSAGE.c.id)
)
_CLOSE_CARD = (
    sa.update(_MESSAGE).where(_MESSAGE.c.id == sa.bindparam("key"))
    .values(state=personal.CLOSED, outcome=sa.bindparam("outcome"), closed_at=sa.bindparam("now"),
            close_delivery_id=sa.bindparam("delivery_id"))
)
_EXISTING_DELIVERIES = sa.select(_DELIVERY.c.id).where(_DELIVERY.c.id.in_(sa.bindparam("ids", expanding=True)))
_INSERT_DELIVERY = _DELIVERY.insert()


@dataclass(frozen=True)
class _Closed:
    """The task as the first close left it."""

    outcome: str
    actor_id: str
    actor_name: str
    project_id: str


def _close_task_row(conn: sa.Connection, cmd: personal.CloseTask, now: datetime) -> _Closed:
    """The task's row closed by ``cmd`` unless an earlier close won, locked for this transaction:
    a missing row is inserted closed (one statement, the usual case), an existing one is locked
    (``_lock_task``'s select) and updated."""
    values = {"task_id": cmd.task_id, "outcome": cmd.outcome, "actor_id": cmd.actor_id,
              "actor_name": cmd.actor_name, "project_id": cmd.project_id, "now": now}
    insert = _INSERT_CLOSED_TASK["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    if conn.execute(insert, values).rowcount == 1:
        return _Closed(cmd.outcome, cmd.actor_id, cmd.actor_name, cmd.project_id)
    row = conn.execute(_LOCKED_TASK, {"task_id": cmd.task_id}).one()
    if row.outcome:
        conn.execute(_TOUCH_TASK, {"key": cmd.task_id, "now": now})
        return _Closed(row.outcome, row.actor_id, row.actor_name, row.project_id)
    closed = _Closed(cmd.outcome, cmd.actor_id, cmd.actor_name, row.project_id or cmd.project_id)
    conn.execute(_CLOSE_TASK, {**values, "key": cmd.task_id, "project_id": closed.project_id})
    return closed


def close_task(session: Session, *, cmd: personal.CloseTask, now: datetime) -> tuple[str, list[domain.DeliveryView]]:
    """Mark the task closed (the first close wins: its outcome and actor show on every card) and
    queue one update per open card. The caller commits (inside ``run_once``).

    Core statements on the session's connection (what ``_lock_task`` and ``_queue_update`` do for
    a card's commit, without loading rows into the ORM)."""
    conn = session.connection()
    task = _close_task_row(conn, cmd, now)
    cards = conn.execute(_OPEN_CARDS, {"task_id": cmd.task_id}).all()
    status = personal.card_status(task.outcome, task.actor_name)
    queued: list[domain.DeliveryView] = []
    if cards:
        delivery_ids = {c.id: update_delivery_id(c.id) for c in cards}
        conn.execute(_CLOSE_CARD, [{"key": c.id, "outcome": task.outcome, "now": now,
                                    "delivery_id": delivery_ids[c.id]} for c in cards])
        existing = set(conn.execute(_EXISTING_DELIVERIES, {"ids": list(delivery_ids.values())}).scalars())
        rows: list[dict[str, object]] = []
        updated_at = domain.as_utc(now)
        for c in cards:
            delivery_id = delivery_ids[c.id]
            if delivery_id in existing:
                continue
            project_id = c.project_id or task.project_id
            rows.append({
                "id": delivery_id, "notification_id": None, "recipient_id": c.recipient_id, "channel": c.type,
                "target": c.channel_key, "status": domain.PENDING, "attempts": 0, "error": "", "not_before": None,
                "project_id": project_id, "kind": personal.CARD_UPDATE_KIND, "digest_id": "", "batch_id": None,
                "payload": {"im_message_id": c.id, "task_id": cmd.task_id, "outcome": task.outcome, "status": status,
                            "actor_id": task.actor_id, "actor_name": task.actor_name,
                            "removed": personal.todo_removed(task.outcome)},
                "created_at": now, "updated_at": now,
            })
            queued.append(domain.DeliveryView(
                id=delivery_id, notification_id="", channel=c.type, status=domain.PENDING, attempts=0, error="",
                recipient_id=c.recipient_id, target=c.channel_key, not_before=None, updated_at=updated_at,
                project_id=project_id, kind=personal.CARD_UPDATE_KIND, digest_id="",
            ))
        if rows:
            conn.execute(_INSERT_DELIVERY, rows)
    log.info("notify.task_closed", task_id=cmd.task_id, project_id=task.project_id, outcome=task.outcome,
             updates=len(queued))
    return status, queued


@dataclass(frozen=True)
class SentCard:
    """What a personal delivery sent (written with its delivered mark)."""

    delivery_id: str
    channel_key: str
    type: str
    recipient_id: str
    platform_user: str
    task_id: str
    project_id: str
    message_ref: str
    todo_ref: str
    title: str
    markdown: str
    url: str


def record_sent(
    engine: Engine, *, card: SentCard, now: datetime, attempt: int | None, ok: bool | None, status: str,
    error: str = "", only_from: tuple[str, ...] = (),
) -> tuple[domain.DeliveryView, list[domain.DeliveryView]]:
    """In one transaction: the card's ``im_message`` (open, or closed with its update queued when
    its task closed meanwhile), the delivery's attempt and its new status. Returns the delivery
    and the update deliveries queued (to wake the dispatcher)."""
    with Session(engine) as session:
        task = (_lock_task(session, task_id=card.task_id, project_id=card.project_id, now=now)
                if card.task_id else None)
        msg = session.get(ImMessage, card.delivery_id)
        if msg is None:
            msg = ImMessage(id=card.delivery_id, channel_key=card.channel_key, type=card.type,
                            recipient_id=card.recipient_id, platform_user=card.platform_user, task_id=card.task_id,
                            project_id=card.project_id, title=card.title[:500], markdown=card.markdown,
                            url=card.url[:2000], state=personal.OPEN, created_at=now)
        msg.message_ref, msg.todo_ref = card.message_ref, card.todo_ref or msg.todo_ref
        session.add(msg)
        session.flush()
        queued: list[Delivery] = []
        if task is not None and task.outcome:
            update = _queue_update(session, msg, task, now)
            queued = [update] if update is not None else []
        d = session.get(Delivery, card.delivery_id)
        assert d is not None
        if ok is not None:
            d.attempts += 1
            session.add(DeliveryAttempt(delivery_id=d.id, attempt=attempt or d.attempts, at=now, ok=ok,
                                        error=error[:4000]))
        d.error = error[:4000]
        if not only_from or d.status in only_from:
            d.status = status
        d.updated_at = now
        session.add(d)
        session.commit()
        if queued:
            log.info("notify.card_closed_at_send", delivery_id=card.delivery_id, task_id=card.task_id)
        return delivery_view(d), [delivery_view(q) for q in queued]


def open_messages(engine: Engine, task_id: str) -> list[Message]:
    with Session(engine) as session:
        rows = session.exec(select(ImMessage).where(ImMessage.task_id == task_id, ImMessage.state == personal.OPEN))
        return [_message(r) for r in rows]


def messages_of_task(engine: Engine, task_id: str) -> list[Message]:
    with Session(engine) as session:
        rows = session.exec(select(ImMessage).where(ImMessage.task_id == task_id)
                            .order_by(col(ImMessage.created_at), col(ImMessage.id)))
        return [_message(r) for r in rows]


def count_open(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(ImMessage)
                                   .where(col(ImMessage.state) == personal.OPEN)).scalar_one())
