"""Persistence of the notify service: keyword-only functions over a SQLModel session/engine."""

from __future__ import annotations

import secrets as pysecrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound
from services.notify import domain, templates
from services.notify.models import (
    ActionLink,
    Delivery,
    DeliveryAttempt,
    DeliveryLog,
    Notification,
    Preference,
    RobotChannel,
    SigningKey,
    Subscription,
    Template,
)

log = structlog.get_logger(__name__)
LINK_KEY = "action_link"


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
        read_at=domain.as_utc(row.read_at) if row.read_at is not None else None,
        task_id=row.task_id or "",
    )


def delivery_view(row: Delivery) -> domain.DeliveryView:
    return domain.DeliveryView(
        id=row.id,
        notification_id=row.notification_id or "",
        channel=row.channel,
        status=row.status,
        attempts=row.attempts,
        error=row.error,
        recipient_id=row.recipient_id,
        target=row.target,
        not_before=domain.as_utc(row.not_before) if row.not_before else None,
        updated_at=domain.as_utc(row.updated_at),
        project_id=row.project_id,
        kind=row.kind,
        digest_id=row.digest_id,
    )


# ---- signing key ------------------------------------------------------------------------------


def signing_key(engine: Engine, *, name: str = LINK_KEY, now: datetime) -> str:
    """The generated secret ``name``, created on first use (concurrent starters agree)."""
    with Session(engine) as session:
        row = session.get(SigningKey, name)
        if row is not None:
            return row.secret
        session.add(SigningKey(name=name, secret=pysecrets.token_urlsafe(48), created_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    with Session(engine) as session:
        row = session.get(SigningKey, name)
        assert row is not None
        return row.secret


# ---- send -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkMinter:
    """Mints action links during a send: their lifetime. Their URLs are derived when shown or
    delivered (``LinkUrls``), never stored. A send records here the notifications it wrote and
    their links (notification id → link id, created_at), so its answer derives the URLs without
    reading the links back."""

    ttl: timedelta
    written: set[str] = field(default_factory=set)
    minted: dict[str, tuple[str, datetime]] = field(default_factory=dict)


_PREFERENCE = Preference.__table__  # type: ignore[attr-defined]
_ROBOT = RobotChannel.__table__  # type: ignore[attr-defined]
_NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]
_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
# Statements of the send path, built once (a statement object keeps its compiled form's cache key).
_PREFERENCES_OF = sa.select(
    _PREFERENCE.c.user_id, _PREFERENCE.c.channels, _PREFERENCE.c.quiet_start, _PREFERENCE.c.quiet_end,
    _PREFERENCE.c.quiet_tz, _PREFERENCE.c.by_kind,
).where(_PREFERENCE.c.user_id.in_(sa.bindparam("user_ids", expanding=True)))
_ENABLED_ROBOTS = sa.select(_ROBOT.c.type, _ROBOT.c.key).where(_ROBOT.c.enabled).order_by(_ROBOT.c.key)
_INSERT_NOTIFICATION = _NOTIFICATION.insert()
_INSERT_LINK = ActionLink.__table__.insert()  # type: ignore[attr-defined]
_INSERT_DELIVERY_LOG = DeliveryLog.__table__.insert()  # type: ignore[attr-defined]
_INSERT_DELIVERY = _DELIVERY.insert()


def preferences_of(conn: sa.Connection, user_ids: Sequence[str]) -> dict[str, domain.Preferences]:
    """The stored preferences of these users (one query; users without a row are absent)."""
    if not user_ids:
        return {}
    return {
        r.user_id: _prefs_of(r.user_id, r.channels, r.quiet_start, r.quiet_end, r.quiet_tz, r.by_kind)
        for r in conn.execute(_PREFERENCES_OF, {"user_ids": list(user_ids)})
    }


def _prefs_of(
    user_id: str, channels: list[str] | None, quiet_start: str, quiet_end: str, quiet_tz: str,
    by_kind: dict[str, list[str]] | None,
) -> domain.Preferences:
    return domain.Preferences(
        user_id=user_id,
        channels=tuple(channels or ()),
        quiet_hours=domain.QuietHours(quiet_start, quiet_end, quiet_tz or domain.DEFAULT_TZ),
        by_kind={k: tuple(v) for k, v in (by_kind or {}).items()},
    )


def _prefs(r: Preference) -> domain.Preferences:
    return _prefs_of(r.user_id, r.channels, r.quiet_start, r.quiet_end, r.quiet_tz, r.by_kind)


def enabled_robots(conn: sa.Connection) -> dict[str, str]:
    """Robot type → key of its enabled channel (the first by key when there are several)."""
    out: dict[str, str] = {}
    for type_, key in conn.execute(_ENABLED_ROBOTS):
        out.setdefault(type_, key)
    return out


def needs_robots(prefs: Mapping[str, domain.Preferences], kind: str) -> bool:
    """Whether any of these preferences routes ``kind`` to a robot or app channel (only then do
    the deliveries need the enabled channels)."""
    return any(ch in domain.CHANNEL_TYPES for p in prefs.values() for ch in domain.channels_for(p, kind))


def add_notifications(
    session: Session, *, command: domain.SendCommand, now: datetime, links: LinkMinter
) -> tuple[list[domain.Notification], list[domain.DeliveryView]]:
    """Insert one notification (with its in-app delivery row), its action link when the recipient
    has an approval task, and the pending external deliveries its preferences ask for. The caller
    commits (inside ``run_once``, so a retried request changes nothing).

    Core inserts (one executemany per table) on the session's connection: nothing here is read
    back, so the ORM's unit of work would only cost."""
    recipients = domain.distinct_recipients(command.recipient_ids)
    ids = {rid: str(uuid.uuid4()) for rid in recipients}
    project_id = command.project_id.strip()
    link_rows: list[dict[str, Any]] = []
    for rid in recipients:
        task = command.action_tasks.get(rid, "").strip()
        if not task:
            continue
        link_id = str(uuid.uuid4())
        link_rows.append({"id": link_id, "task_id": task, "approver_id": rid, "project_id": project_id,
                          "notification_id": ids[rid], "expires_at": now + links.ttl, "created_at": now})
        links.minted[ids[rid]] = (link_id, now)
    links.written.update(ids.values())
    # The link's URL (a credential) is not stored with the notification nor in delivery payloads.
    planned = domain.plan_notifications(command, now=now, new_id=ids, minted_urls={})
    conn = session.connection()
    conn.execute(_INSERT_NOTIFICATION, [
        {"id": n.id, "user_id": n.user_id, "kind": n.kind, "title": n.title, "body": n.body,
         "project_id": n.project_id, "action_url": n.action_url, "created_at": n.created_at, "read": n.read,
         "read_at": None, "task_id": n.task_id}
        for n in planned
    ])
    if link_rows:
        conn.execute(_INSERT_LINK, link_rows)
    # An account e-mail goes by e-mail whatever the preferences: they are not read.
    prefs = {} if command.account_email else preferences_of(conn, recipients)
    kind = command.kind.strip()
    robots = enabled_robots(conn) if needs_robots(prefs, kind) else {}
    log_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    views: list[domain.DeliveryView] = []
    updated_at = domain.as_utc(now)
    for n in planned:
        d = domain.inapp_delivery(n)
        log_rows.append({"id": str(uuid.uuid4()), "notification_id": d.notification_id, "channel": d.channel,
                         "status": d.status, "attempts": d.attempts, "error": "", "at": d.at})
        ctx = {
            **dict(command.context),
            "title": n.title,
            "body": n.body,
            "action_url": n.action_url,
            "project_id": n.project_id,
            "kind": n.kind,
            "recipient_id": n.user_id,
            # The approval task (personal cards open it and CloseTask closes them by it).
            "task_id": n.task_id,
        }
        if command.account_email:
            # The link is a credential: e-mail only (never a group robot), whatever the preferences.
            ctx["action_url"] = str(command.context.get("setup_url") or "")
            ctx.pop("setup_url", None)
        planned_deliveries = (
            [domain.PlannedDelivery(n.user_id, domain.EMAIL, "", domain.PENDING)] if command.account_email
            else domain.plan_deliveries(n.user_id, n.kind, prefs.get(n.user_id), robots, now=now)
        )
        for p in planned_deliveries:
            delivery_id = str(uuid.uuid4())
            delivery_rows.append({
                "id": delivery_id, "notification_id": n.id, "recipient_id": p.recipient_id, "channel": p.channel,
                "target": p.target, "status": p.status, "attempts": 0, "error": p.error,
                "not_before": p.not_before, "project_id": n.project_id, "kind": n.kind, "digest_id": "",
                "batch_id": None, "payload": {"context": ctx}, "created_at": now, "updated_at": now,
            })
            views.append(domain.DeliveryView(
                id=delivery_id, notification_id=n.id, channel=p.channel, status=p.status, attempts=0,
                error=p.error, recipient_id=p.recipient_id, target=p.target,
                not_before=domain.as_utc(p.not_before) if p.not_before else None, updated_at=updated_at,
                project_id=n.project_id, kind=n.kind, digest_id="",
            ))
    if log_rows:
        conn.execute(_INSERT_DELIVERY_LOG, log_rows)
    if delivery_rows:
        conn.execute(_INSERT_DELIVERY, delivery_rows)
    log.info(
        "notify.sent",
        project_id=command.project_id,
        kind=command.kind,
        recipients=len(planned),
        links=len(link_rows),
        deliveries=len(views),
    )
    return planned, views


def list_inbox(
    engine: Engine, *, user_id: str, limit: int, cursor: domain.Cursor | None, unread_only: bool = False
) -> tuple[list[domain.Notification], bool]:
    """Newest first, keyset-paged on (created_at, id). Returns the page and whether more follow."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
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


def unread_count(engine: Engine, *, user_id: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
    )
    with Session(engine) as session:
        return int(session.execute(stmt).scalar_one())


def mark_read(engine: Engine, *, user_id: str, notification_id: str, now: datetime) -> domain.Notification:
    """Mark one of the user's notifications read; a repeat keeps the first ``read_at``. Someone
    else's notification is as unknown as a missing one (NotFound)."""
    with Session(engine) as session:
        row = session.get(Notification, notification_id)
        if row is None or row.user_id != user_id:
            raise NotFound(f"通知不存在：{notification_id}", f"no such notification: {notification_id}")
        if row.read_at is None:
            row.read_at, row.read = now, True
            session.add(row)
            session.commit()
            session.refresh(row)
        return _to_domain(row)


def mark_all_read(engine: Engine, *, user_id: str, now: datetime) -> int:
    """Mark every unread notification of the user read (one UPDATE); the number marked."""
    stmt = (
        sa.update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=now, read=True)
    )
    with Session(engine) as session:
        result = session.execute(stmt)
        session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def deliveries(engine: Engine, *, notification_ids: list[str]) -> list[domain.Delivery]:
    """In-app delivery rows of the given notifications (oldest first)."""
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


# ---- action links -----------------------------------------------------------------------------


def get_link(engine: Engine, link_id: str) -> domain.ActionLink | None:
    with Session(engine) as session:
        row = session.get(ActionLink, link_id)
        if row is None:
            return None
        return domain.ActionLink(
            id=row.id,
            task_id=row.task_id,
            approver_id=row.approver_id,
            project_id=row.project_id,
            notification_id=row.notification_id,
            expires_at=domain.as_utc(row.expires_at),
        )


# ---- preferences ------------------------------------------------------------------------------


def get_preferences(engine: Engine, user_id: str) -> domain.Preferences:
    with Session(engine) as session:
        row = session.get(Preference, user_id)
        return _prefs(row) if row is not None else domain.Preferences(user_id=user_id)


def set_preferences(session: Session, *, prefs: domain.Preferences, now: datetime) -> domain.Preferences:
    row = session.get(Preference, prefs.user_id) or Preference(user_id=prefs.user_id, updated_at=now)
    row.channels = list(prefs.channels)
    row.quiet_start, row.quiet_end = prefs.quiet_hours.start, prefs.quiet_hours.end
    row.quiet_tz = prefs.quiet_hours.tz
    row.by_kind = {k: list(v) for k, v in prefs.by_kind.items()}
    row.updated_at = now
    session.add(row)
    session.flush()
    return _prefs(row)


# ---- templates --------------------------------------------------------------------------------


def _template(row: Template) -> templates.Template:
    return templates.Template(
        kind=row.kind,
        title=row.title,
        text=row.text,
        html=row.html,
        markdown=row.markdown,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=domain.as_utc(row.updated_at),
    )


def stored_templates(engine: Engine) -> dict[str, templates.Template]:
    with Session(engine) as session:
        return {r.kind: _template(r) for r in session.exec(select(Template))}


def stored_template(engine: Engine, kind: str) -> dict[str, templates.Template]:
    """The admin templates that can matter for ``kind``: its own and the generic default."""
    with Session(engine) as session:
        rows = session.exec(select(Template).where(col(Template.kind).in_([kind, templates.DEFAULT_KIND])))
        return {r.kind: _template(r) for r in rows}


def put_template(session: Session, *, t: templates.Template, actor_id: str, now: datetime) -> templates.Template:
    row = session.get(Template, t.kind)
    if row is None:
        row = Template(kind=t.kind, title=t.title, version=0, updated_at=now)
    row.title, row.text, row.html, row.markdown = t.title, t.text, t.html, t.markdown
    row.version += 1
    row.updated_by, row.updated_at = actor_id, now
    session.add(row)
    session.flush()
    return _template(row)


# ---- robot channels and subscriptions ---------------------------------------------------------


def _robot(row: RobotChannel) -> domain.RobotChannel:
    return domain.RobotChannel(key=row.key, type=row.type, url=row.url, secret=row.secret, enabled=row.enabled,
                               show_amount=row.show_amount, app_key=row.app_key or "", agent_id=row.agent_id or "",
                               api_base=row.api_base or "", options=dict(row.options or {}))


def put_channel(session: Session, *, ch: domain.RobotChannel, now: datetime) -> domain.RobotChannel:
    """Create or replace; an empty secret keeps the stored one (secrets are write-only)."""
    row = session.get(RobotChannel, ch.key)
    if row is None:
        row = RobotChannel(key=ch.key, type=ch.type, url=ch.url, updated_at=now)
    keep_secret = not ch.secret and row.type == ch.type
    row.type, row.url, row.enabled, row.updated_at = ch.type, ch.url, ch.enabled, now
    row.show_amount = ch.show_amount
    row.app_key, row.agent_id, row.api_base, row.options = ch.app_key, ch.agent_id, ch.api_base, dict(ch.options)
    row.secret = row.secret if keep_secret else ch.secret
    session.add(row)
    session.flush()
    return _robot(row)


def list_channels(engine: Engine) -> list[domain.RobotChannel]:
    with Session(engine) as session:
        return [_robot(r) for r in session.exec(select(RobotChannel).order_by(col(RobotChannel.key)))]


def get_channel(engine: Engine, key: str) -> domain.RobotChannel | None:
    with Session(engine) as session:
        row = session.get(RobotChannel, key)
        return _robot(row) if row is not None else None


def _sub(row: Subscription) -> domain.Subscription:
    return domain.Subscription(
        id=row.id,
        url=row.url,
        events=tuple(row.events or ()),
        secrets=tuple(row.secrets or ()),
        enabled=row.enabled,
        description=row.description,
    )


def put_subscription(session: Session, *, sub: domain.Subscription, now: datetime) -> domain.Subscription:
    row = session.get(Subscription, sub.id) or Subscription(id=sub.id, url=sub.url, created_at=now, updated_at=now)
    row.url, row.events, row.secrets = sub.url, list(sub.events), list(sub.secrets)
    row.enabled, row.description, row.updated_at = sub.enabled, sub.description, now
    session.add(row)
    session.flush()
    return _sub(row)


def list_subscriptions(engine: Engine) -> list[domain.Subscription]:
    with Session(engine) as session:
        return [_sub(r) for r in session.exec(select(Subscription).order_by(col(Subscription.id)))]


def get_subscription(engine: Engine, sub_id: str) -> domain.Subscription | None:
    with Session(engine) as session:
        row = session.get(Subscription, sub_id)
        return _sub(row) if row is not None else None


def delete_subscription(engine: Engine, sub_id: str) -> None:
    with Session(engine) as session:
        row = session.get(Subscription, sub_id)
        if row is None:
            raise NotFound("订阅不存在", "subscription not found")
        session.delete(row)
        session.commit()


def publish_event(session: Session, *, event: domain.Event, now: datetime) -> list[domain.DeliveryView]:
    """One pending webhook delivery per enabled subscription to the event's type."""
    payload = domain.webhook_payload(event)
    out: list[Delivery] = []
    for row in session.exec(select(Subscription).order_by(col(Subscription.id))):
        if not domain.subscribed(_sub(row), event.type):
            continue
        d = Delivery(
            id=str(uuid.uuid4()),
            notification_id=None,
            channel=domain.WEBHOOK,
            target=row.id,
            status=domain.PENDING,
            project_id=event.project_id,
            kind=event.type,
            payload=payload,
            created_at=now,
            updated_at=now,
        )
        session.add(d)
        out.append(d)
    session.flush()
    log.info("notify.event_published", project_id=event.project_id, type=event.type, deliveries=len(out))
    return [delivery_view(d) for d in out]


def send_owned_webhook(session: Session, *, hook: domain.OwnedWebhook, now: datetime) -> domain.DeliveryView:
    """The owned subscription as its owner configures it now, and the event's one delivery to it
    (the existing one when this event already went to this target)."""
    put_subscription(session, sub=hook.subscription, now=now)
    row = session.get(Delivery, hook.delivery_id)
    if row is None:
        row = Delivery(
            id=hook.delivery_id,
            notification_id=None,
            channel=domain.WEBHOOK,
            target=hook.subscription.id,
            status=domain.PENDING,
            project_id=hook.event.project_id,
            kind=hook.event.type,
            payload=domain.webhook_payload(hook.event),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        log.info("notify.owned_webhook", project_id=hook.event.project_id, owner=hook.owner,
                 subscription_id=hook.subscription.id, delivery_id=row.id, type=hook.event.type)
    return delivery_view(row)


# ---- deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    """What the delivery path needs of a row."""

    view: domain.DeliveryView
    payload: Mapping[str, Any]
    created_at: datetime


def _row(r: Delivery) -> DeliveryRow:
    return DeliveryRow(view=delivery_view(r), payload=dict(r.payload or {}), created_at=domain.as_utc(r.created_at))


def get_delivery(engine: Engine, delivery_id: str) -> DeliveryRow | None:
    with Session(engine) as session:
        row = session.get(Delivery, delivery_id)
        return _row(row) if row is not None else None


def require_delivery(engine: Engine, delivery_id: str) -> DeliveryRow:
    row = get_delivery(engine, delivery_id) if delivery_id.strip() else None
    if row is None:
        raise NotFound("投递记录不存在", "delivery not found")
    return row


def waiting_for_digest(engine: Engine, *, target: str, limit: int = 500) -> list[DeliveryRow]:
    stmt = (
        select(Delivery)
        .where(Delivery.target == target, Delivery.status == domain.DIGEST_WAITING)
        .order_by(col(Delivery.created_at), col(Delivery.id))
        .limit(limit)
    )
    with Session(engine) as session:
        return [_row(r) for r in session.exec(stmt)]


def record(
    engine: Engine,
    *,
    delivery_ids: Sequence[str],
    now: datetime,
    attempt: int | None,
    ok: bool | None,
    error: str = "",
    status: str | None = None,
    only_from: Sequence[str] = (),
    target: str | None = None,
    digest_id: str | None = None,
) -> list[domain.DeliveryView]:
    """Write one attempt (``ok`` not None: a row in the delivery log and attempts + 1) and/or a
    status change to each delivery, in one transaction. ``only_from``: change the status only of
    rows currently in one of these statuses (others are left as they are)."""
    with Session(engine) as session:
        rows = list(session.exec(select(Delivery).where(col(Delivery.id).in_(list(delivery_ids)))))
        for r in rows:
            if ok is not None:
                r.attempts += 1
                session.add(
                    DeliveryAttempt(
                        delivery_id=r.id, attempt=attempt or r.attempts, at=now, ok=ok, error=error[:4000]
                    )
                )
                r.error = "" if ok else error[:4000]
            elif error:
                r.error = error[:4000]
            if status is not None and (not only_from or r.status in only_from):
                r.status = status
                if target is not None:
                    r.target = target
                if digest_id is not None:
                    r.digest_id = digest_id
            r.updated_at = now
            session.add(r)
        session.commit()
        return [delivery_view(r) for r in rows]


def attempts_of(engine: Engine, delivery_id: str) -> list[tuple[int, bool, str]]:
    stmt = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(col(DeliveryAttempt.id))
    with Session(engine) as session:
        return [(a.attempt, a.ok, a.error) for a in session.exec(stmt)]


def list_deliveries(
    engine: Engine, *, notification_id: str, status: str, project_id: str, channel: str, limit: int
) -> list[domain.DeliveryView]:
    stmt = select(Delivery)
    if notification_id:
        stmt = stmt.where(Delivery.notification_id == notification_id)
    if status:
        stmt = stmt.where(Delivery.status == status)
    if project_id:
        stmt = stmt.where(Delivery.project_id == project_id)
    if channel:
        stmt = stmt.where(Delivery.channel == channel)
    stmt = stmt.order_by(col(Delivery.updated_at).desc(), col(Delivery.id).desc()).limit(limit)
    with Session(engine) as session:
        return [delivery_view(r) for r in session.exec(stmt)]


def redrive(session: Session, *, delivery_ids: Sequence[str], now: datetime) -> list[domain.DeliveryView]:
    """Dead letters (all, or those named) back to pending in a new batch; others untouched."""
    stmt = select(Delivery).where(Delivery.status == domain.DEAD)
    if delivery_ids:
        stmt = stmt.where(col(Delivery.id).in_(list(delivery_ids)))
    rows = list(session.exec(stmt.order_by(col(Delivery.created_at))))
    for r in rows:
        r.status, r.batch_id, r.updated_at = domain.PENDING, None, now
        session.add(r)
    session.flush()
    return [delivery_view(r) for r in rows]


# ---- outbox (claimed by the delivery worker's dispatcher through ClaimDeliveryBatches) ---------


_PENDING = _DELIVERY.c.status == domain.PENDING
_UNCLAIMED = sa.and_(_PENDING, _DELIVERY.c.batch_id.is_(None))
# The outbox's statements, built once; every filter is served by the (status, batch_id) index.
_ANY_PENDING = sa.select(_DELIVERY.c.id).where(_PENDING).limit(1)
_ANY_UNCLAIMED = sa.select(_DELIVERY.c.id).where(_UNCLAIMED).limit(1)
_UNCLAIMED_IDS = (
    sa.select(_DELIVERY.c.id).where(_UNCLAIMED).order_by(_DELIVERY.c.created_at, _DELIVERY.c.id)
    .limit(sa.bindparam("limit"))
)
_CLAIM = (
    sa.update(_DELIVERY)
    .where(_DELIVERY.c.id.in_(sa.bindparam("ids", expanding=True)), _DELIVERY.c.batch_id.is_(None), _PENDING)
    .values(batch_id=sa.bindparam("batch"), updated_at=sa.bindparam("now"))
)
_UNSTARTED = (
    sa.select(_DELIVERY.c.batch_id).where(_PENDING, _DELIVERY.c.batch_id.is_not(None))
    .group_by(_DELIVERY.c.batch_id).limit(sa.bindparam("limit"))
)
_BATCH_ROWS = (
    sa.select(_DELIVERY.c.batch_id, _DELIVERY.c.id, _DELIVERY.c.not_before)
    .where(_DELIVERY.c.batch_id.in_(sa.bindparam("batch_ids", expanding=True)))
    .order_by(_DELIVERY.c.created_at, _DELIVERY.c.id)
)
_MARK_DISPATCHED = (
    sa.update(_DELIVERY)
    .where(_DELIVERY.c.batch_id == sa.bindparam("batch"), _PENDING)
    .values(status=domain.DISPATCHED, updated_at=sa.bindparam("now"))
)


def has_unclaimed(engine: Engine) -> bool:
    """Pending deliveries no batch holds yet (cheap: the status/batch index)."""
    with engine.connect() as conn:
        return conn.execute(_ANY_UNCLAIMED).first() is not None


def any_pending(conn: sa.Connection) -> bool:
    """Any pending delivery, claimed or not (one indexed query: an idle outbox has none, and then
    there is nothing to claim nor any batch to answer)."""
    return conn.execute(_ANY_PENDING).first() is not None


def claim_batch(engine: Engine, *, limit: int, now: datetime) -> str | None:
    """Put up to ``limit`` unclaimed pending deliveries into a new batch; its id, or None."""
    with engine.begin() as conn:
        claimed = claim_in(conn, limit=limit, now=now)
    return claimed[0] if claimed is not None else None


def claim_in(conn: sa.Connection, *, limit: int, now: datetime) -> tuple[str, int] | None:
    """``claim_batch`` in the caller's transaction: the new batch's id and how many rows it was
    given, or None when nothing was unclaimed."""
    ids = list(conn.execute(_UNCLAIMED_IDS, {"limit": limit}).scalars())
    if not ids:
        return None
    batch = str(uuid.uuid4())
    conn.execute(_CLAIM, {"ids": ids, "batch": batch, "now": now})
    return batch, len(ids)


def unstarted_batches(engine: Engine, *, limit: int = 20) -> list[tuple[str, list[tuple[str, datetime | None]]]]:
    """Claimed batches with deliveries still pending (their workflow may not have started)."""
    with engine.connect() as conn:
        return unstarted_in(conn, limit=limit)


def unstarted_in(conn: sa.Connection, *, limit: int) -> list[tuple[str, list[tuple[str, datetime | None]]]]:
    """``unstarted_batches`` in the caller's transaction: two queries (the batches, then all their
    rows), whatever their number."""
    batch_ids = [b for b in conn.execute(_UNSTARTED, {"limit": limit}).scalars() if b is not None]
    if not batch_ids:
        return []
    out: dict[str, list[tuple[str, datetime | None]]] = {b: [] for b in batch_ids}
    for b, i, nb in conn.execute(_BATCH_ROWS, {"batch_ids": batch_ids}):
        out[b].append((i, domain.as_utc(nb) if nb else None))
    return list(out.items())


def mark_dispatched(engine: Engine, *, batch_id: str, now: datetime) -> int:
    with engine.begin() as conn:
        result = conn.execute(_MARK_DISPATCHED, {"batch": batch_id, "now": now})
        return int(result.rowcount or 0)
