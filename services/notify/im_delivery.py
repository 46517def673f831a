"""Deliveries through enterprise apps (``dingtalk_app`` / ``wecom_app`` / ``feishu_app``): a
personal card (plus a to-do for an approval task) and, once the task closes, the card's update.

A card delivery:
1. The app channel (``target``) must exist, be enabled and of the delivery's type; the task must
   still be open (CloseTask came first → skipped, never sent as open); the recipient must not have
   left and must have a user id on the platform (identity link or org synced from it) — else
   skipped with the reason.
2. ``send_card`` then, for an approval task, ``create_todo``. Each platform answer is kept in Redis
   (``baobei:im:<delivery id>``) before the next call, so a retry after a failure between the two
   does not send the card again.
3. Accepted → ``im_message`` written in the transaction that marks the delivery delivered (or, when
   the task closed meanwhile, written closed with its update queued). A permanent failure after the
   card went out still records the card (so CloseTask can close it) and dead-letters the delivery.

An update delivery (kind ``im_card_update``, queued by CloseTask) calls ``update_card`` with the
outcome (``已同意 · 李四``) and ``finish_todo``; both are safe to repeat on retry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import redis
import structlog

from baobei.core.errors import Conflict
from services.notify import domain, group_cards, im_store, metrics, personal
from services.notify.channels.base import DeliveryFailed, check_target
from services.notify.contacts import ContactsUnavailable
from services.notify.im import clients as im_clients
from services.notify.im.base import Button, Card, CardState, ClientFactory, ImApp, ImClient, Sent, Todo
from services.notify.outcomes import DEAD, DELIVERED, DeliveryRecorder, Outcome, Retryable
from services.notify.store import DeliveryRow

log = structlog.get_logger(__name__)
PROGRESS_PREFIX = "baobei:im:"
PROGRESS_TTL_SECONDS = 14 * 24 * 3600
APPROVAL_REQUEST = "approval_request"
BUTTONS = {APPROVAL_REQUEST: "去审批", "approval_remind": "去审批"}
DEFAULT_BUTTON = "查看详情"


def _now() -> datetime:
    return datetime.now(UTC)


def _due_ms(value: Any) -> int:
    """The SLA due time of a to-do (epoch ms) when the context gives one as ISO text; else 0."""
    if not isinstance(value, str) or not value.strip():
        return 0
    try:
        due = datetime.fromisoformat(value.strip())
    except ValueError:
        return 0
    return int(domain.as_utc(due).timestamp() * 1000)


class ImSender:
    """The personal-app half of a ``Deliverer`` (it records through the deliverer's helpers)."""

    def __init__(self, deliverer: DeliveryRecorder, *, redis_client: redis.Redis, timeout: float, base_url: str,
                 allow_internal: bool, factory: Callable[[str], ClientFactory] = im_clients.factory,
                 ) -> None:
        self.d = deliverer
        self.redis = redis_client
        self.timeout = timeout
        self.base_url = base_url
        self.allow_internal = allow_internal
        self.factory = factory

    # ---- helpers ----
    def _channel(self, d: domain.DeliveryView) -> domain.RobotChannel | str:
        ch = self.d.channel_of(d.target)
        if ch is None:
            return f"app channel {d.target or d.channel} does not exist"
        if not ch.enabled:
            return f"app channel {ch.key} is disabled"
        if ch.type != d.channel:
            return f"channel {ch.key} is a {ch.type} channel, not {d.channel}"
        return ch

    def _client(self, ch: domain.RobotChannel) -> ImClient:
        for _, url in personal.api_urls(ch.api_base, ch.options):
            # Stored hosts may predate a stricter setting: check before every use, as webhooks do.
            check_target(url, allow_internal=self.allow_internal)
        app = ImApp(key=ch.key, type=ch.type, app_key=ch.app_key, app_secret=ch.secret, agent_id=ch.agent_id,
                    api_base=ch.api_base, options=dict(ch.options))
        client: ImClient = self.factory(ch.type)(app, self.redis, self.timeout)
        return client

    def _progress(self, delivery_id: str) -> dict[str, str]:
        """What the platform already accepted for this delivery: Redis first, else the card a
        dead-lettered attempt recorded (a redrive must not send it again)."""
        got = cast(dict[str, str], self.redis.hgetall(PROGRESS_PREFIX + delivery_id) or {})
        if got.get("message_ref"):
            return got
        msg = im_store.get_message(self.d.engine, delivery_id)
        if msg is None or not msg.message_ref:
            return got
        return {"message_ref": msg.message_ref, "user": msg.platform_user, **({"todo_ref": msg.todo_ref}
                                                                             if msg.todo_ref else {})}

    def _remember(self, delivery_id: str, **values: str) -> None:
        key = PROGRESS_PREFIX + delivery_id
        self.redis.hset(key, mapping=dict[Any, Any](values))
        self.redis.expire(key, PROGRESS_TTL_SECONDS)

    def _provider(self, ch: domain.RobotChannel) -> str:
        """The SSO provider of the channel's platform (option, else the enabled one of its type)."""
        if ch.options.get(personal.SSO_PROVIDER, "").strip():
            return personal.sso_provider(ch.type, ch.options)
        try:
            enabled = self.d.contacts.providers(personal.PLATFORM_OF.get(ch.type, ""))
        except ContactsUnavailable as err:
            raise Retryable(str(err)) from err
        return personal.sso_provider(ch.type, ch.options, enabled)

    def _provider_or_default(self, ch: domain.RobotChannel) -> str:
        """For recording a card already sent (repair, dead letter): never fails on the registry."""
        try:
            return self._provider(ch)
        except Retryable:
            return personal.sso_provider(ch.type, ch.options)

    def _card(self, row: DeliveryRow, ch: domain.RobotChannel, name: str, provider: str,
              ) -> tuple[Card, Todo | None]:
        d = row.view
        ctx = self.d.context_of(row, name)
        task_id = str(ctx.get("task_id") or "")
        url = personal.inapp_url(self.base_url, provider, personal.task_path(task_id, d.project_id))
        # The button opens the task through the platform's sign-in page: no action-link token on a
        # card (the platform keeps messages; the card is stored for its update).
        ctx["action_url"] = ""
        title = self.d.rendered(d.kind, ctx).title
        markdown = self.d.rendered(d.kind, group_cards.escaped(ctx)).markdown
        markdown += personal.unique_footer(d.notification_id)
        label = BUTTONS.get(d.kind, DEFAULT_BUTTON)
        card = Card(title=title, markdown=markdown, url=url, buttons=(Button(label, url),), task_id=task_id)
        todo = None
        if d.kind == APPROVAL_REQUEST and task_id:
            todo = Todo(title=title, url=url, task_id=task_id, description=str(ctx.get("body") or "")[:500],
                        due_ms=_due_ms(ctx.get("due")))
        return card, todo

    def _sent(self, row: DeliveryRow, ch: domain.RobotChannel, user: str, card: Card, progress: Mapping[str, str],
              ) -> im_store.SentCard:
        d = row.view
        return im_store.SentCard(
            delivery_id=d.id, channel_key=ch.key, type=ch.type, recipient_id=d.recipient_id, platform_user=user,
            task_id=card.task_id, project_id=d.project_id, message_ref=progress.get("message_ref", ""),
            todo_ref=progress.get("todo_ref", ""), title=card.title, markdown=card.markdown, url=card.url)

    # ---- a card ----
    def send_card(self, row: DeliveryRow, attempt: int) -> tuple[Outcome, bool]:
        d = row.view
        ch = self._channel(d)
        if isinstance(ch, str):
            return self.d.skip(d, ch, attempt), False
        task_id = str((row.payload.get("context") or {}).get("task_id") or "")
        progress = self._progress(d.id)
        state = im_store.task_state(self.d.engine, task_id)
        if state.closed:
            if progress.get("message_ref"):
                # The card went out before the close (its to-do had not): record it, which queues
                # its update; no to-do is made for a closed task.
                return self._record_out(row, ch, progress, attempt), True
            return self.d.skip(d, f"task {task_id} already closed ({state.status}): card not sent", attempt), False
        contact = self.d.contact(d.recipient_id)
        if contact is not None and contact.left:
            if progress.get("message_ref"):
                return self._record_out(row, ch, progress, attempt), True
            return self.d.skip(d, "recipient has left the organisation", attempt), False
        provider = self._provider(ch)
        try:
            links = {k: (v.subject, v.userid) for k, v in self.d.contacts.identities(d.recipient_id).items()}
        except ContactsUnavailable as err:
            raise Retryable(str(err)) from err
        user = personal.platform_user(d.recipient_id, links, channel_type=ch.type, provider=provider,
                                      options=ch.options)
        if not user:
            name = personal.PLATFORM_NAMES.get(ch.type, ch.type)
            return self.d.skip(d, f"recipient has no {ch.type} user id (never signed in with {name} provider "
                                  f"{provider} and the org is not synced from {name})", attempt), False
        card, todo = self._card(row, ch, contact.name if contact else "", provider)
        client: ImClient | None = None
        try:
            client = self._client(ch)
            if not progress.get("message_ref"):
                sent = client.send_card(user, card, idempotency_key=d.id)
                progress = {**progress, "message_ref": sent.message_ref, "user": user}
                self._remember(d.id, message_ref=sent.message_ref, user=user)
            if todo is not None and not progress.get("todo_ref"):
                todo_ref = client.create_todo(user, todo, idempotency_key=d.id)
                progress = {**progress, "todo_ref": todo_ref or "-"}
                self._remember(d.id, todo_ref=todo_ref or "-")
        except DeliveryFailed as err:
            if progress.get("message_ref") and not err.retryable:
                # The card is out: keep it (CloseTask must be able to close it), then dead-letter.
                self._commit(row, ch, user, card, progress, attempt, ok=False, error=err.message,
                             status=domain.DEAD)
                log.warning("delivery.permanent_failure", delivery_ids=[d.id], project_id=d.project_id,
                            error=err.message)
                raise Conflict(f"投递失败且无法重试：{err.message}", f"delivery failed permanently: {err.message}",
                               code="delivery_permanent") from None
            raise self.d.failed([d.id], err, attempt, d.project_id) from None
        finally:
            if client is not None:
                client.close()
        self.d.guards.mark_delivered(d.id)
        view = self._commit(row, ch, user, card, progress, attempt, ok=True, error="", status=domain.DELIVERED)
        log.info("delivery.delivered", delivery_id=d.id, channel=d.channel, project_id=d.project_id, kind=d.kind,
                 attempt=attempt or view.attempts, task_id=card.task_id, todo=todo is not None)
        return Outcome(view, DELIVERED), True

    def _commit(self, row: DeliveryRow, ch: domain.RobotChannel, user: str, card: Card,
                progress: Mapping[str, str], attempt: int, *, ok: bool | None, error: str, status: str,
                ) -> domain.DeliveryView:
        clean = {k: ("" if v == "-" else v) for k, v in progress.items()}
        view, queued = im_store.record_sent(
            self.d.engine, card=self._sent(row, ch, user, card, clean), now=_now(), attempt=attempt, ok=ok,
            status=status, error=error,
            only_from=(domain.PENDING, domain.DISPATCHED, domain.DIGEST_WAITING, domain.DEAD))
        metrics.observe_record([view], {"attempt": attempt, "ok": ok, "status": status})
        if queued:
            metrics.observe_send(0, [q.channel for q in queued])
            self.d.wake()
        return view

    def _record_out(self, row: DeliveryRow, ch: domain.RobotChannel, progress: Mapping[str, str],
                    attempt: int) -> Outcome:
        """A card that went out in an earlier attempt, recorded as delivered without another call."""
        d = row.view
        card, _ = self._card(row, ch, "", self._provider_or_default(ch))
        self.d.guards.mark_delivered(d.id)
        view = self._commit(row, ch, progress.get("user", ""), card, progress, attempt, ok=True, error="",
                            status=domain.DELIVERED)
        log.info("delivery.delivered", delivery_id=d.id, channel=d.channel, project_id=d.project_id, kind=d.kind,
                 attempt=attempt or view.attempts, task_id=card.task_id, todo=bool(progress.get("todo_ref")),
                 earlier_card=True)
        return Outcome(view, DELIVERED)

    def repair(self, row: DeliveryRow) -> Outcome | None:
        """The platform accepted the card but the commit was lost: record it from Redis. None when
        nothing is known (the generic repair then marks the row)."""
        d = row.view
        progress = self._progress(d.id)
        ch = self.d.channel_of(d.target)
        if not progress.get("message_ref") or ch is None:
            return None
        contact = None
        try:
            contact = self.d.contacts.get(d.recipient_id)
        except ContactsUnavailable:
            contact = None
        card, _ = self._card(row, ch, contact.name if contact else "", self._provider_or_default(ch))
        user = progress.get("user", "")
        view = self._commit(row, ch, user, card, progress, 0, ok=True, error="", status=domain.DELIVERED)
        return Outcome(view, DELIVERED)

    def dead_letter(self, row: DeliveryRow, error: str) -> Outcome | None:
        """Past the retry budget after the card went out (the to-do kept failing): keep the card
        (so CloseTask closes it) with the dead letter. None when no card went out."""
        d = row.view
        progress = self._progress(d.id)
        ch = self.d.channel_of(d.target)
        if not progress.get("message_ref") or ch is None:
            return None
        card, _ = self._card(row, ch, "", self._provider_or_default(ch))
        view = self._commit(row, ch, progress.get("user", ""), card, progress, 0, ok=None,
                            error=error or "retry budget exhausted", status=domain.DEAD)
        log.warning("delivery.dead_lettered", delivery_id=d.id, channel=d.channel, project_id=d.project_id,
                    error=view.error, card_sent=True)
        return Outcome(view, DEAD)

    # ---- a card's update (CloseTask) ----
    def _status(self, payload: Mapping[str, Any]) -> str:
        """The closed card's text; a decider given by id only is named from the directory (a
        directory that cannot answer leaves the name out rather than holding the update)."""
        outcome, name = str(payload.get("outcome") or ""), str(payload.get("actor_name") or "")
        actor = str(payload.get("actor_id") or "")
        if not name and actor and actor != "system":
            try:
                contact = self.d.contacts.get(actor)
            except ContactsUnavailable:
                contact = None
            name = contact.name if contact else ""
        return personal.card_status(outcome, name) if outcome else str(payload.get("status") or "")

    def update_card(self, row: DeliveryRow, attempt: int) -> tuple[Outcome, bool]:
        d = row.view
        message_id = str(row.payload.get("im_message_id") or "")
        msg = im_store.get_message(self.d.engine, message_id)
        if msg is None:
            return self.d.skip(d, f"card {message_id} is unknown", attempt), False
        ch = self._channel(d)
        if isinstance(ch, str):
            return self.d.skip(d, f"{ch}: card left as sent", attempt), False
        status = self._status(row.payload)
        card = Card(title=msg.title, markdown=msg.markdown, url=msg.url, task_id=msg.task_id)
        client: ImClient | None = None
        try:
            client = self._client(ch)
            if msg.message_ref:
                client.update_card(msg.platform_user, Sent(msg.message_ref), card, CardState(status))
            if msg.todo_ref:
                client.finish_todo(msg.platform_user, msg.todo_ref, removed=bool(row.payload.get("removed")))
        except DeliveryFailed as err:
            raise self.d.failed([d.id], err, attempt, d.project_id) from None
        finally:
            if client is not None:
                client.close()
        return self.d.accepted(d, attempt), True
