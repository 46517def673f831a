"""The delivery path behind Deliver / DeliverDigest / DeadLetter: exactly-once sends through the
channel clients, guarded by a Redis key per delivery with the database as the record.

Deliver(id):
1. The row says delivered / digested / skipped / dead → that outcome, nothing sent.
   Before its not_before (quiet hours) → rate_limited with the seconds left, nothing sent.
2. Redis ``baobei:delivery:<id>`` = ``delivered`` → the channel already accepted it (a crash hit
   between send and commit): repair the row, nothing sent.
3. SET NX the key (short TTL); taken by a concurrent attempt → retryable "in progress".
4. Resolve the recipient (registry) and target; nothing to send to → skipped with the reason.
5. Robots: take a slot of the robot's sliding window; none → digest_waiting + rate_limited.
6. Send. Accepted → key := delivered, then the row := delivered (+ one attempt in the log).
   Retryable failure → attempt logged, key released, ``Retryable`` (UNAVAILABLE).
   Permanent failure → attempt logged, row := dead, ``Conflict(delivery_permanent)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from sqlalchemy.engine import Engine

from baobei.core.errors import Conflict
from services.notify import domain, group_cards, im_delivery, metrics, personal, store, templates
from services.notify.channels.base import DeliveryFailed, EmailMessage, RobotMessage
from services.notify.contacts import Contact, Contacts, ContactsUnavailable
from services.notify.guards import DELIVERED as KEY_DELIVERED
from services.notify.guards import Guards
from services.notify.link_urls import LinkUrls
from services.notify.outcomes import DEAD, DELIVERED, RATE_LIMITED, SKIPPED, Outcome, Retryable

log = structlog.get_logger(__name__)

class EmailSender(Protocol):
    def send(self, msg: EmailMessage) -> None: ...


class RobotSender(Protocol):
    def send(self, msg: RobotMessage) -> None: ...


class WebhookPoster(Protocol):
    def send(
        self, url: str, secrets: list[str], msg_id: str, payload: dict[str, Any], timestamp: int | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Senders:
    """Factories of the channel clients (configured from Settings in server.build)."""

    email: Callable[[], EmailSender] | None
    robot: Callable[[domain.RobotChannel], RobotSender]
    webhook: Callable[[], WebhookPoster]


def _now() -> datetime:
    return datetime.now(UTC)


def _final(view: domain.DeliveryView) -> Outcome | None:
    if view.status in (domain.DELIVERED, domain.DIGESTED):
        return Outcome(view, DELIVERED)
    if view.status == domain.SKIPPED:
        return Outcome(view, SKIPPED)
    if view.status == domain.DEAD:
        return Outcome(view, DEAD)
    return None


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        *,
        guards: Guards,
        contacts: Contacts,
        senders: Senders,
        send_timeout: float = 10.0,
        link_urls: LinkUrls | None = None,
        base_url: str = "",
        allow_internal: bool = False,
        im_timeout: float = 10.0,
    ) -> None:
        self.engine = engine
        # Derives action-link URLs at render time (payloads never hold them).
        self.link_urls = link_urls
        self.guards = guards
        self.contacts = contacts
        self.senders = senders
        # The in-flight key outlives any single send (SMTP/HTTP timeouts) by a margin; a personal
        # card is up to two platform calls, each maybe after a token fetch.
        self.key_ttl = max(30.0, send_timeout * 3 + 10, im_timeout * 6 + 10)
        # Set by the servicer: wakes the dispatcher when a delivery queues another (card updates).
        self.wake: Callable[[], None] = lambda: None
        self.im = im_delivery.ImSender(self, redis_client=guards.r, timeout=im_timeout, base_url=base_url,
                                       allow_internal=allow_internal)

    # ---- helpers ----
    def _record(self, ids: list[str], **kw: Any) -> list[domain.DeliveryView]:
        views = store.record(self.engine, delivery_ids=ids, now=_now(), **kw)
        metrics.observe_record(views, kw)
        return views

    def _skip(self, d: domain.DeliveryView, reason: str, attempt: int) -> Outcome:
        (view,) = self._record([d.id], attempt=attempt, ok=None, error=reason, status=domain.SKIPPED,
                               only_from=(domain.PENDING, domain.DISPATCHED, domain.DIGEST_WAITING))
        log.info("delivery.skipped", delivery_id=d.id, channel=d.channel, project_id=d.project_id, reason=reason)
        return Outcome(view, SKIPPED)

    # What the personal-app half (im_delivery) uses.
    def skip(self, d: domain.DeliveryView, reason: str, attempt: int) -> Outcome:
        return self._skip(d, reason, attempt)

    def contact(self, user_id: str) -> Contact | None:
        return self._contact(user_id)

    def failed(self, ids: list[str], err: DeliveryFailed, attempt: int, project_id: str) -> Exception:
        return self._failed(ids, err, attempt, project_id)

    def accepted(self, d: domain.DeliveryView, attempt: int) -> Outcome:
        return self._accepted(d, attempt)

    def channel_of(self, key: str) -> domain.RobotChannel | None:
        return store.get_channel(self.engine, key) if key else None

    def context_of(self, row: store.DeliveryRow, name: str) -> dict[str, Any]:
        """The template context of a personal notice (the recipient's name from the directory)."""
        ctx: dict[str, Any] = dict(row.payload.get("context") or {})
        ctx.setdefault("recipient_id", row.view.recipient_id)
        ctx["recipient_name"] = name or ctx.get("recipient_name", "")
        return ctx

    def rendered(self, kind: str, ctx: Mapping[str, Any]) -> templates.Rendered:
        return self._rendered(kind, ctx)

    def _repair_row(self, row: store.DeliveryRow) -> Outcome:
        d = row.view
        if d.channel in domain.APP_TYPES and d.kind != personal.CARD_UPDATE_KIND:
            repaired = self.im.repair(row)
            if repaired is not None:
                return repaired
        return self._repair(d)

    def _repair(self, d: domain.DeliveryView) -> Outcome:
        status = domain.DIGESTED if d.status == domain.DIGEST_WAITING else domain.DELIVERED
        (view,) = self._record([d.id], attempt=None, ok=None, status=status,
                               only_from=(domain.PENDING, domain.DISPATCHED, domain.DIGEST_WAITING, domain.DEAD))
        log.info("delivery.repaired", delivery_id=d.id, channel=d.channel)
        return Outcome(view, DELIVERED)

    def _contact(self, user_id: str) -> Contact | None:
        try:
            return self.contacts.get(user_id)
        except ContactsUnavailable as err:
            raise Retryable(str(err)) from err

    def _failed(self, ids: list[str], err: DeliveryFailed, attempt: int, project_id: str) -> Exception:
        msg = err.message
        if err.retryable:
            self._record(ids, attempt=attempt, ok=False, error=msg)
            log.warning("delivery.retryable_failure", delivery_ids=ids, project_id=project_id, error=msg)
            suffix = f" (retry after {err.retry_after:.0f}s)" if err.retry_after else ""
            return Retryable(msg + suffix)
        self._record(ids, attempt=attempt, ok=False, error=msg, status=domain.DEAD,
                     only_from=(domain.PENDING, domain.DISPATCHED, domain.DIGEST_WAITING))
        log.warning("delivery.permanent_failure", delivery_ids=ids, project_id=project_id, error=msg)
        return Conflict(f"投递失败且无法重试：{msg}", f"delivery failed permanently: {msg}", code="delivery_permanent")

    # ---- Deliver ----
    def deliver(self, delivery_id: str, *, attempt: int = 0) -> Outcome:
        row = store.require_delivery(self.engine, delivery_id)
        d = row.view
        done = _final(d)
        if done is not None:
            return done
        if d.status == domain.DIGEST_WAITING:
            return Outcome(d, RATE_LIMITED, self.guards.window / self.guards.rate)
        if d.not_before is not None and (wait := (d.not_before - _now()).total_seconds()) > 1:
            # Quiet hours hold even when a caller ignores DeliveryRef.not_before: come back later.
            return Outcome(d, RATE_LIMITED, round(wait, 3))
        if self.guards.delivery_state(d.id) == KEY_DELIVERED:
            return self._repair_row(row)
        token = self.guards.claim_delivery(d.id, self.key_ttl)
        if token is None:
            if self.guards.delivery_state(d.id) == KEY_DELIVERED:
                return self._repair_row(row)
            raise Retryable("delivery in progress in another attempt")
        sent = False
        try:
            row = store.require_delivery(self.engine, delivery_id)
            d = row.view
            done = _final(d)
            if done is not None or d.status == domain.DIGEST_WAITING:
                return done or Outcome(d, RATE_LIMITED, self.guards.window / self.guards.rate)
            outcome, sent = self._send(row, attempt)
            return outcome
        finally:
            if not sent:
                self.guards.release_delivery(d.id, token)

    def _send(self, row: store.DeliveryRow, attempt: int) -> tuple[Outcome, bool]:
        d = row.view
        if d.channel == domain.EMAIL:
            return self._send_email(row, attempt)
        if d.channel in domain.ROBOT_TYPES:
            return self._send_robot(row, attempt)
        if d.channel == domain.WEBHOOK:
            return self._send_webhook(row, attempt)
        if d.channel in domain.APP_TYPES:
            if d.kind == personal.CARD_UPDATE_KIND:
                return self.im.update_card(row, attempt)
            return self.im.send_card(row, attempt)
        return self._skip(d, f"unknown channel {d.channel}", attempt), False

    def _accepted(self, d: domain.DeliveryView, attempt: int, *, target: str | None = None) -> Outcome:
        self.guards.mark_delivered(d.id)
        (view,) = self._record([d.id], attempt=attempt, ok=True, status=domain.DELIVERED, target=target,
                               only_from=(domain.PENDING, domain.DISPATCHED, domain.DIGEST_WAITING, domain.DEAD))
        log.info("delivery.delivered", delivery_id=d.id, channel=d.channel, project_id=d.project_id,
                 kind=d.kind, attempt=attempt or view.attempts)
        return Outcome(view, DELIVERED)

    def _context(self, row: store.DeliveryRow, contact: Contact | None) -> dict[str, Any]:
        ctx: dict[str, Any] = dict(row.payload.get("context") or {})
        ctx.update(self._link_urls([row]).get(row.view.id, {}))
        ctx.setdefault("recipient_id", row.view.recipient_id)
        ctx["recipient_name"] = (contact.name if contact else "") or ctx.get("recipient_name", "")
        return ctx

    def _link_urls(self, rows: list[store.DeliveryRow]) -> dict[str, dict[str, str]]:
        """delivery id → {"action_url": url} for deliveries whose notification has an action link."""
        if self.link_urls is None:
            return {}
        by_notification = self.link_urls.of_notifications(self.engine, [r.view.notification_id for r in rows])
        return {r.view.id: {"action_url": by_notification[r.view.notification_id]}
                for r in rows if r.view.notification_id in by_notification}

    def _rendered(self, kind: str, ctx: Mapping[str, Any]) -> templates.Rendered:
        stored = store.stored_template(self.engine, kind)
        return templates.render(templates.effective(kind, stored), ctx)

    def _send_email(self, row: store.DeliveryRow, attempt: int) -> tuple[Outcome, bool]:
        d = row.view
        if self.senders.email is None:
            return self._skip(d, "e-mail not configured (BAOBEI_SMTP_HOST is empty)", attempt), False
        contact = self._contact(d.recipient_id)
        if contact is None or not contact.email:
            return self._skip(d, "recipient has no e-mail address", attempt), False
        if contact.left:
            return self._skip(d, "recipient has left the organisation", attempt), False
        r = self._rendered(d.kind, self._context(row, contact))
        msg = EmailMessage(to=contact.email, subject=r.title, text=r.text, html=r.html, message_id=d.id)
        try:
            self.senders.email().send(msg)
        except DeliveryFailed as err:
            raise self._failed([d.id], err, attempt, d.project_id) from None
        return self._accepted(d, attempt, target=contact.email), True

    def _robot_channel(self, d: domain.DeliveryView) -> domain.RobotChannel | str:
        ch = store.get_channel(self.engine, d.target)
        if ch is None:
            return f"robot channel {d.target or d.channel} does not exist"
        if not ch.enabled:
            return f"robot channel {ch.key} is disabled"
        if ch.type != d.channel:
            return f"robot channel {ch.key} is a {ch.type} robot, not {d.channel}"
        return ch

    def _group_url(self, row: store.DeliveryRow) -> str:
        """The group link of an approval request's card ("" for other notifications)."""
        if self.link_urls is None or not row.view.notification_id:
            return ""
        urls = self.link_urls.of_notifications(self.engine, [row.view.notification_id], group=True)
        return urls.get(row.view.notification_id, "")

    def _robot_message(self, row: store.DeliveryRow, ch: domain.RobotChannel, contact: Contact | None) -> RobotMessage:
        """A group card: no personal link, no amount unless the robot allows it, user text escaped
        (see group_cards); an approval request gets the group link as its button (DingTalk
        actionCard, WeCom template card). The title is plain text (DingTalk's push preview), the
        markdown escaped."""
        d = row.view
        group_url = self._group_url(row) if d.kind == "approval_request" else ""
        ctx = group_cards.group_context(self._context(row, contact), show_amount=ch.show_amount,
                                        group_link=bool(group_url))
        title = self._rendered(d.kind, ctx).title
        markdown = self._rendered(d.kind, group_cards.escaped(ctx)).markdown
        mobiles = (contact.mobile,) if contact and contact.mobile else ()
        buttons = ((group_cards.GROUP_BUTTON, group_url),) if group_url else ()
        return RobotMessage(title=title, markdown=markdown, at_mobiles=mobiles, action_url=group_url, buttons=buttons)

    def _send_robot(self, row: store.DeliveryRow, attempt: int) -> tuple[Outcome, bool]:
        d = row.view
        ch = self._robot_channel(d)
        if isinstance(ch, str):
            return self._skip(d, ch, attempt), False
        try:
            contact = self.contacts.get(d.recipient_id)
        except ContactsUnavailable:
            contact = None  # the @-mention is a courtesy; the group message still goes out
        if contact is not None and contact.left:
            return self._skip(d, "recipient has left the organisation", attempt), False
        msg = self._robot_message(row, ch, contact)
        ok, wait = self.guards.acquire_slot(ch.key)
        if not ok:
            (view,) = self._record([d.id], attempt=None, ok=None, status=domain.DIGEST_WAITING,
                                   only_from=(domain.PENDING, domain.DISPATCHED))
            log.info("delivery.rate_limited", delivery_id=d.id, robot=ch.key, retry_after=wait)
            return Outcome(view, RATE_LIMITED, wait), False
        try:
            self.senders.robot(ch).send(msg)
        except DeliveryFailed as err:
            raise self._failed([d.id], err, attempt, d.project_id) from None
        return self._accepted(d, attempt), True

    def _send_webhook(self, row: store.DeliveryRow, attempt: int) -> tuple[Outcome, bool]:
        d = row.view
        sub = store.get_subscription(self.engine, d.target)
        if sub is None:
            return self._skip(d, f"subscription {d.target} was deleted", attempt), False
        if not sub.enabled:
            return self._skip(d, f"subscription {d.target} is disabled", attempt), False
        try:
            self.senders.webhook().send(sub.url, list(sub.secrets), d.id, dict(row.payload))
        except DeliveryFailed as err:
            raise self._failed([d.id], err, attempt, d.project_id) from None
        return self._accepted(d, attempt), True

    # ---- DeliverDigest ----
    def deliver_digest(self, delivery_id: str, *, attempt: int = 0) -> Outcome:
        row = store.require_delivery(self.engine, delivery_id)
        d = row.view
        done = _final(d)
        if done is not None:
            return done
        if d.status != domain.DIGEST_WAITING:
            return self.deliver(delivery_id, attempt=attempt)
        lock_name = f"digest:{d.target}"
        lock = self.guards.lock(lock_name, self.key_ttl)
        if lock is None:
            return Outcome(d, RATE_LIMITED, 1.0)
        try:
            return self._digest(d, attempt)
        finally:
            self.guards.unlock(lock_name, lock)

    def _digest(self, d: domain.DeliveryView, attempt: int) -> Outcome:
        waiting = store.waiting_for_digest(self.engine, target=d.target)
        # Rows whose earlier digest reached the robot but not the database: repair, do not resend.
        already = [w.view.id for w in waiting if self.guards.delivery_state(w.view.id) == KEY_DELIVERED]
        if already:
            self._record(already, attempt=None, ok=None, status=domain.DIGESTED, only_from=(domain.DIGEST_WAITING,))
        waiting = [w for w in waiting if w.view.id not in already]
        if all(w.view.id != d.id for w in waiting):
            current = store.require_delivery(self.engine, d.id).view
            return _final(current) or Outcome(current, RATE_LIMITED, 1.0)
        ch = self._robot_channel(d)
        ids = [w.view.id for w in waiting]
        if isinstance(ch, str):
            views = self._record(ids, attempt=None, ok=None, error=ch, status=domain.SKIPPED,
                                 only_from=(domain.DIGEST_WAITING,))
            return Outcome(next(v for v in views if v.id == d.id), SKIPPED)
        ok, wait = self.guards.acquire_slot(ch.key)
        if not ok:
            return Outcome(d, RATE_LIMITED, wait)
        items = []
        mobiles: dict[str, None] = {}
        for w in waiting:
            ctx = w.payload.get("context") or {}
            # A digest goes to the group too: titles only, never a decision link.
            items.append(domain.DigestItem(title=str(ctx.get("title") or w.view.kind),
                                           project_id=w.view.project_id))
            try:
                contact = self.contacts.get(w.view.recipient_id)
            except ContactsUnavailable:
                contact = None
            if contact is not None and contact.mobile:
                mobiles.setdefault(contact.mobile, None)
        title, markdown = domain.compose_digest(items)
        msg = RobotMessage(title=title, markdown=markdown, at_mobiles=tuple(mobiles))
        digest_id = str(uuid.uuid4())
        try:
            self.senders.robot(ch).send(msg)
        except DeliveryFailed as err:
            raise self._failed(ids, err, attempt, d.project_id) from None
        for i in ids:
            self.guards.mark_delivered(i)
        views = self._record(ids, attempt=attempt, ok=True, status=domain.DIGESTED, digest_id=digest_id,
                             only_from=(domain.DIGEST_WAITING,))
        log.info("delivery.digest_sent", robot=ch.key, digest_id=digest_id, deliveries=len(ids))
        return Outcome(next(v for v in views if v.id == d.id), DELIVERED)

    # ---- DeadLetter ----
    def dead_letter(self, delivery_id: str, *, error: str) -> Outcome:
        row = store.require_delivery(self.engine, delivery_id)
        done = _final(row.view)
        if done is not None:
            return done
        if self.guards.delivery_state(delivery_id) == KEY_DELIVERED:
            return self._repair_row(row)
        if row.view.channel in domain.APP_TYPES and row.view.kind != personal.CARD_UPDATE_KIND:
            kept = self.im.dead_letter(row, error)
            if kept is not None:
                return kept
        (view,) = self._record([delivery_id], attempt=None, ok=None, error=error or "retry budget exhausted",
                               status=domain.DEAD,
                               only_from=(domain.PENDING, domain.DISPATCHED, domain.DIGEST_WAITING))
        log.warning("delivery.dead_lettered", delivery_id=delivery_id, channel=view.channel,
                    project_id=view.project_id, error=view.error)
        return Outcome(view, DEAD)
