"""gRPC surface of the notify service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import grpc
import structlog
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.db import run_once, run_once_many
from baobei.core.errors import DomainError, FieldViolation, ValidationFailed, require
from baobei.core.grpc_server import ERROR_DOMAIN, locale_of, rpc
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from services.notify import domain, im_store, links, mapping, metrics, outbox, personal, store, templates, wording
from services.notify.channels.base import DeliveryFailed, check_target
from services.notify.deliver import Deliverer
from services.notify.link_urls import LinkUrls
from services.notify.models import processed_request
from services.notify.outcomes import Outcome, Retryable

_KIND_FIELD = "template.kind"
# Items of one batch call (CloseTasks, PublishEvents); the relays send at most 100.
MAX_BATCH = 500
log = structlog.get_logger(__name__)
T = TypeVar("T")
C = TypeVar("C")
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class NotifyConfig:
    link_key: str
    base_url: str
    link_ttl: timedelta = timedelta(hours=72)
    # Robot / webhook URLs may point at loopback, link-local or private addresses.
    allow_internal: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def _unavailable(context: grpc.ServicerContext, message: str, reason: str) -> None:
    """UNAVAILABLE with an ErrorInfo reason, without raising (so @rpc does not log a trace)."""
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN))
    status = rpc_status.to_status(status_pb2.Status(code=code_pb2.UNAVAILABLE, message=message, details=[info]))
    context.set_code(status.code)
    context.set_details(status.details)
    context.set_trailing_metadata(status.trailing_metadata)


def _deliver_response(o: Outcome) -> pb.DeliverResponse:
    return pb.DeliverResponse(
        delivery=mapping.delivery(o.delivery), outcome=o.outcome, retry_after_seconds=o.retry_after_seconds
    )


def _url_refusals(url: str, path: str, *, allow_internal: bool) -> list[FieldViolation]:
    """SSRF check at save time. A name that does not resolve right now is accepted: every delivery
    checks its target again before connecting."""
    try:
        check_target(url, allow_internal=allow_internal)
    except DeliveryFailed as err:
        if not err.retryable:
            return [FieldViolation(path, f"地址不可用：{err.message}", f"url refused: {err.message}")]
    return []


def _check_url(url: str, path: str, *, allow_internal: bool) -> None:
    refused = _url_refusals(url, path, allow_internal=allow_internal)
    if refused:
        raise ValidationFailed(refused)


def _check_batch(items: Sequence[object]) -> None:
    if len(items) > MAX_BATCH:
        raise ValidationFailed([FieldViolation("items", f"每次最多 {MAX_BATCH} 项",
                                               f"at most {MAX_BATCH} items per call")])


def _validated(items: Iterable[T], check: Callable[[T], C]) -> list[C | DomainError]:
    """Each item's command, or the refusal its single-item RPC would have answered with."""
    out: list[C | DomainError] = []
    for item in items:
        try:
            out.append(check(item))
        except DomainError as err:
            out.append(err)
    return out


def _run_each(
    engine: Engine,
    commands: list[C | DomainError],
    *,
    method: str,
    response_type: type[M],
    request_id: Callable[[C], str],
    apply: Callable[[C], Callable[[Session], M]],
) -> list[M | Exception]:
    """The single-item RPC ``method``'s ``run_once`` for each valid command, all in one transaction
    (``run_once_many``: the same request log keys); a refused command keeps its refusal."""
    valid = [(i, c) for i, c in enumerate(commands) if not isinstance(c, DomainError)]
    done = run_once_many(engine, processed_request, method=method, response_type=response_type,
                         items=[(request_id(c), apply(c)) for _, c in valid])
    applied = dict(zip((i for i, _ in valid), done, strict=True))
    return [c if isinstance(c, DomainError) else applied[i] for i, c in enumerate(commands)]


def _item_error(method: str, request_id: str, err: Exception, locale: str) -> pb.ItemError:
    """A batch item's failure, logged as ``@rpc`` logs its single-item RPC's."""
    if isinstance(err, DomainError):
        log.info("rpc.item_refused", item_rpc=method, item_request_id=request_id, code=err.code,
                 message=err.en or err.zh)
    else:
        log.error("rpc.item_failed", item_rpc=method, item_request_id=request_id, exc_info=err)
    return mapping.item_error(err, locale)


class _ItemResult(Protocol):
    """One answer of a batch RPC (``CloseTasksResponse.Result``, ``PublishEventsResponse.Result``)."""

    @property
    def response(self) -> Message: ...

    @property
    def error(self) -> pb.ItemError: ...


def _answer_items(
    keys: Sequence[str], results: Sequence[Message | Exception], add: Callable[[str], _ItemResult], *,
    method: str, locale: str,
) -> None:
    """A batch RPC's answers, one per item in order: the single RPC's response, or its error."""
    for key, r in zip(keys, results, strict=True):
        res = add(key)
        if isinstance(r, Exception):
            res.error.CopyFrom(_item_error(method, key, r, locale))
        else:
            res.response.CopyFrom(r)


class NotifyServicer(pb_grpc.NotifyServiceServicer):
    def __init__(
        self,
        *,
        engine: Engine,
        config: NotifyConfig | None = None,
        deliverer: Deliverer | None = None,
        wakeup: outbox.Wakeup | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or NotifyConfig(link_key=store.signing_key(engine, now=_now()), base_url="")
        self.deliverer = deliverer
        # Commits of pending deliveries wake the dispatcher's WaitForDeliveries long poll.
        self.wakeup = wakeup or outbox.Wakeup()
        self._wake = self.wakeup.notify
        if deliverer is not None:
            deliverer.wake = self._wake  # a card sent after its task closed queues its update
        self._signer = links.serializer(self.config.link_key)
        self.link_urls = LinkUrls(self.config.link_key, self.config.base_url)

    # ---- inbox ----
    @rpc
    def Send(self, request: pb.SendRequest, context: grpc.ServicerContext) -> pb.SendResponse:
        command = wording.worded(mapping.send_command(request))
        domain.validate_send(command)
        minter = store.LinkMinter(ttl=self.config.link_ttl)
        resp = run_once(
            self.engine,
            processed_request,
            request_id=command.request_id,
            method="Send",
            response_type=pb.SendResponse,
            apply=lambda session: mapping.send_response(
                *store.add_notifications(session, command=command, now=_now(), links=minter)
            ),
        )
        metrics.observe_send(len(resp.notifications), [d.channel for d in resp.deliveries])
        if any(d.status == domain.PENDING for d in resp.deliveries):
            self._wake()
        # Action-link URLs are derived for the answer only (the request log keeps none): from the
        # links this call minted, or read back for an answer an earlier call wrote.
        ids = [n.id for n in resp.notifications]
        if minter.written.issuperset(ids):
            urls = {nid: self.link_urls.url(link_id, at) for nid, (link_id, at) in minter.minted.items()}
        else:
            urls = self.link_urls.of_notifications(self.engine, ids)
        for n in resp.notifications:
            n.action_url = urls.get(n.id, n.action_url)
        return resp

    @rpc
    def ListInbox(self, request: pb.ListInboxRequest, context: grpc.ServicerContext) -> pb.ListInboxResponse:
        violations: list[FieldViolation] = require(request.user_id, "user_id", "用户", "user_id")
        if violations:
            raise ValidationFailed(violations)
        limit = domain.page_limit(request.limit)
        cursor = domain.decode_cursor(request.cursor)
        user_id = request.user_id.strip()
        items, more = store.list_inbox(
            self.engine, user_id=user_id, limit=limit, cursor=cursor, unread_only=request.unread_only
        )
        urls = self.link_urls.of_notifications(self.engine, [n.id for n in items])
        shown = [dataclasses.replace(n, action_url=urls[n.id]) if n.id in urls else n for n in items]
        resp = mapping.inbox_response(shown, domain.next_cursor(items, limit, has_more=more))
        resp.unread_count = store.unread_count(self.engine, user_id=user_id)
        return resp

    @rpc
    def MarkRead(self, request: pb.MarkReadRequest, context: grpc.ServicerContext) -> pb.MarkReadResponse:
        violations = require(request.user_id, "user_id", "用户", "user_id") + require(
            request.notification_id, "notification_id", "通知", "notification_id"
        )
        if violations:
            raise ValidationFailed(violations)
        user_id = request.user_id.strip()
        n = store.mark_read(self.engine, user_id=user_id, notification_id=request.notification_id.strip(), now=_now())
        urls = self.link_urls.of_notifications(self.engine, [n.id])
        if n.id in urls:
            n = dataclasses.replace(n, action_url=urls[n.id])
        return pb.MarkReadResponse(
            notification=mapping.notification(n), unread_count=store.unread_count(self.engine, user_id=user_id)
        )

    @rpc
    def MarkAllRead(self, request: pb.MarkAllReadRequest, context: grpc.ServicerContext) -> pb.MarkAllReadResponse:
        violations: list[FieldViolation] = require(request.user_id, "user_id", "用户", "user_id")
        if violations:
            raise ValidationFailed(violations)
        user_id = request.user_id.strip()
        marked = store.mark_all_read(self.engine, user_id=user_id, now=_now())
        return pb.MarkAllReadResponse(marked=marked, unread_count=store.unread_count(self.engine, user_id=user_id))

    # ---- action links ----
    @rpc
    def ResolveActionLink(
        self, request: pb.ResolveActionLinkRequest, context: grpc.ServicerContext
    ) -> pb.ResolveActionLinkResponse:
        max_age = int(self.config.link_ttl.total_seconds())
        verified = links.verify(self.config.link_key, request.token, max_age_seconds=max_age, s=self._signer)
        link = store.get_link(self.engine, verified.link_id)
        if link is None:
            raise links.invalid()
        if link.expires_at <= _now():
            raise links.expired()
        return pb.ResolveActionLinkResponse(link=mapping.action_link(link))

    # ---- preferences and templates ----
    @rpc
    def GetPreferences(self, request: pb.GetPreferencesRequest, context: grpc.ServicerContext) -> pb.Preferences:
        violations = require(request.user_id, "user_id", "用户", "user_id")
        if violations:
            raise ValidationFailed(violations)
        return mapping.preferences(store.get_preferences(self.engine, request.user_id.strip()))

    @rpc
    def SetPreferences(self, request: pb.SetPreferencesRequest, context: grpc.ServicerContext) -> pb.Preferences:
        prefs = domain.normalise_preferences(mapping.preferences_in(request.preferences))
        return run_once(
            self.engine,
            processed_request,
            request_id=request.request_id,
            method="SetPreferences",
            response_type=pb.Preferences,
            apply=lambda session: mapping.preferences(store.set_preferences(session, prefs=prefs, now=_now())),
        )

    @rpc
    def PutTemplate(self, request: pb.PutTemplateRequest, context: grpc.ServicerContext) -> pb.Template:
        t = mapping.template_in(request.template)
        if not domain.valid_kind(t.kind):
            raise ValidationFailed(
                [FieldViolation(_KIND_FIELD, "通知类型无效（小写字母、数字、_.-）", "invalid kind (a-z, 0-9, _.-)")]
            )
        templates.validate(t)
        return run_once(
            self.engine,
            processed_request,
            request_id=request.request_id,
            method="PutTemplate",
            response_type=pb.Template,
            apply=lambda session: mapping.template(
                store.put_template(session, t=t, actor_id=request.actor_id.strip(), now=_now())
            ),
        )

    @rpc
    def ListTemplates(
        self, request: pb.ListTemplatesRequest, context: grpc.ServicerContext
    ) -> pb.ListTemplatesResponse:
        stored = store.stored_templates(self.engine)
        merged = {**templates.BUILTINS, **stored}
        return pb.ListTemplatesResponse(templates=[mapping.template(merged[k]) for k in sorted(merged)])

    # ---- channels and subscriptions ----
    @rpc
    def PutChannel(self, request: pb.PutChannelRequest, context: grpc.ServicerContext) -> pb.Channel:
        given = mapping.channel_in(request.channel)
        stored = store.get_channel(self.engine, given.key.strip())
        has_secret = stored is not None and bool(stored.secret) and stored.type == given.type.strip().lower()
        ch = domain.validate_robot(given, has_stored_secret=has_secret)
        if ch.is_app:
            # An app's API hosts: the platform's public API unless an internal stand-in is allowed.
            refused = [v for path, url in personal.api_urls(ch.api_base, ch.options)
                       for v in _url_refusals(url, path, allow_internal=self.config.allow_internal)]
            if refused:
                raise ValidationFailed(refused)
        else:
            _check_url(ch.url, "channel.url", allow_internal=self.config.allow_internal)
        return run_once(
            self.engine,
            processed_request,
            request_id=request.request_id,
            method="PutChannel",
            response_type=pb.Channel,
            apply=lambda session: mapping.channel(store.put_channel(session, ch=ch, now=_now())),
        )

    @rpc
    def ListChannels(self, request: pb.ListChannelsRequest, context: grpc.ServicerContext) -> pb.ListChannelsResponse:
        return pb.ListChannelsResponse(channels=[mapping.channel(c) for c in store.list_channels(self.engine)])

    @rpc
    def PutSubscription(self, request: pb.PutSubscriptionRequest, context: grpc.ServicerContext) -> pb.Subscription:
        sub = domain.validate_subscription(mapping.subscription_in(request.subscription))
        _check_url(sub.url, "subscription.url", allow_internal=self.config.allow_internal)
        return run_once(
            self.engine,
            processed_request,
            request_id=request.request_id,
            method="PutSubscription",
            response_type=pb.Subscription,
            apply=lambda session: mapping.subscription(store.put_subscription(session, sub=sub, now=_now())),
        )

    @rpc
    def ListSubscriptions(
        self, request: pb.ListSubscriptionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSubscriptionsResponse:
        subs = store.list_subscriptions(self.engine)
        return pb.ListSubscriptionsResponse(subscriptions=[mapping.subscription(s) for s in subs])

    @rpc
    def DeleteSubscription(
        self, request: pb.DeleteSubscriptionRequest, context: grpc.ServicerContext
    ) -> pb.DeleteSubscriptionResponse:
        violations = require(request.id, "id", "订阅", "id")
        if violations:
            raise ValidationFailed(violations)
        store.delete_subscription(self.engine, request.id.strip())
        return pb.DeleteSubscriptionResponse()

    # PublishEvent and each item of PublishEvents: the same command, apply and aftermath.
    @staticmethod
    def _event(request: pb.PublishEventRequest) -> domain.Event:
        event = mapping.event_in(request, now=_now())
        domain.validate_event(event)
        return event

    @staticmethod
    def _publish(event: domain.Event) -> Callable[[Session], pb.PublishEventResponse]:
        return lambda session: pb.PublishEventResponse(
            deliveries=[mapping.delivery(d) for d in store.publish_event(session, event=event, now=_now())]
        )

    def _published(self, responses: Iterable[pb.PublishEventResponse]) -> None:
        if any(r.deliveries for r in responses):
            self._wake()

    @rpc
    def PublishEvent(self, request: pb.PublishEventRequest, context: grpc.ServicerContext) -> pb.PublishEventResponse:
        event = self._event(request)
        resp = run_once(self.engine, processed_request, request_id=event.event_id, method="PublishEvent",
                        response_type=pb.PublishEventResponse, apply=self._publish(event))
        self._published([resp])
        return resp

    @rpc
    def PublishEvents(
        self, request: pb.PublishEventsRequest, context: grpc.ServicerContext
    ) -> pb.PublishEventsResponse:
        _check_batch(request.items)
        results = _run_each(self.engine, _validated(request.items, self._event), method="PublishEvent",
                            response_type=pb.PublishEventResponse, request_id=lambda e: e.event_id,
                            apply=self._publish)
        self._published(r for r in results if isinstance(r, pb.PublishEventResponse))
        out = pb.PublishEventsResponse()
        _answer_items([i.event_id.strip() for i in request.items], results,
                      lambda key: out.results.add(event_id=key), method="PublishEvent", locale=locale_of(context))
        return out

    @rpc
    def SendWebhook(self, request: pb.SendWebhookRequest, context: grpc.ServicerContext) -> pb.SendWebhookResponse:
        hook = domain.validate_owned_webhook(
            mapping.webhook_event_in(request, now=_now()), url=request.url, secrets=list(request.secrets),
            owner=request.owner, description=request.description,
        )
        resp = run_once(
            self.engine,
            processed_request,
            # Owner + URL + event, in ids of fixed length (an event id alone may use the whole key).
            request_id=f"{hook.subscription.id}:{hook.delivery_id}",
            method="SendWebhook",
            response_type=pb.SendWebhookResponse,
            apply=lambda session: pb.SendWebhookResponse(
                delivery=mapping.delivery(store.send_owned_webhook(session, hook=hook, now=_now())),
                subscription_id=hook.subscription.id,
            ),
        )
        if resp.delivery.status == domain.PENDING:
            self._wake()
        return resp

    # ---- delivery ----
    def _run_delivery(self, context: grpc.ServicerContext, call: Callable[[Deliverer], Outcome]) -> pb.DeliverResponse:
        if self.deliverer is None:
            _unavailable(context, "notify has no Redis (BAOBEI_REDIS_URL) for delivery keys", "delivery_unavailable")
            return pb.DeliverResponse()
        try:
            return _deliver_response(call(self.deliverer))
        except Retryable as err:
            _unavailable(context, f"delivery will be retried: {err}", "delivery_retryable")
            return pb.DeliverResponse()

    @rpc
    def Deliver(self, request: pb.DeliverRequest, context: grpc.ServicerContext) -> pb.DeliverResponse:
        return self._run_delivery(context, lambda d: d.deliver(request.delivery_id.strip(), attempt=request.attempt))

    @rpc
    def DeliverDigest(self, request: pb.DeliverRequest, context: grpc.ServicerContext) -> pb.DeliverResponse:
        return self._run_delivery(
            context, lambda d: d.deliver_digest(request.delivery_id.strip(), attempt=request.attempt)
        )

    @rpc
    def DeadLetter(self, request: pb.DeadLetterRequest, context: grpc.ServicerContext) -> pb.DeliverResponse:
        return self._run_delivery(context, lambda d: d.dead_letter(request.delivery_id.strip(), error=request.error))

    @rpc
    def Redrive(self, request: pb.RedriveRequest, context: grpc.ServicerContext) -> pb.RedriveResponse:
        ids = [i.strip() for i in request.delivery_ids if i.strip()]
        resp = run_once(
            self.engine,
            processed_request,
            request_id=request.request_id,
            method="Redrive",
            response_type=pb.RedriveResponse,
            apply=lambda session: pb.RedriveResponse(
                deliveries=[mapping.delivery(d) for d in store.redrive(session, delivery_ids=ids, now=_now())]
            ),
        )
        if resp.deliveries:
            self._wake()
        return resp

    @rpc
    def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: grpc.ServicerContext
    ) -> pb.ListDeliveriesResponse:
        status = request.status.strip()
        if status and status not in domain.STATUSES:
            raise ValidationFailed([FieldViolation("status", f"未知状态：{status}", f"unknown status: {status}")])
        items = store.list_deliveries(
            self.engine,
            notification_id=request.notification_id.strip(),
            status=status,
            project_id=request.project_id.strip(),
            channel=request.channel.strip(),
            limit=domain.page_limit(request.limit),
        )
        return pb.ListDeliveriesResponse(deliveries=[mapping.delivery(d) for d in items])

    # ---- personal notices ----
    # CloseTask and each item of CloseTasks: the same command, apply and aftermath.
    @staticmethod
    def _close_command(request: pb.CloseTaskRequest) -> personal.CloseTask:
        return personal.validate_close(mapping.close_task_in(request))

    @staticmethod
    def _close(cmd: personal.CloseTask) -> Callable[[Session], pb.CloseTaskResponse]:
        def apply(session: Session) -> pb.CloseTaskResponse:
            status, queued = im_store.close_task(session, cmd=cmd, now=_now())
            return pb.CloseTaskResponse(deliveries=[mapping.delivery(d) for d in queued], status=status)

        return apply

    def _closed(self, responses: Iterable[pb.CloseTaskResponse]) -> None:
        channels = [d.channel for r in responses for d in r.deliveries]
        if channels:
            metrics.observe_send(0, channels)
            self._wake()

    @rpc
    def CloseTask(self, request: pb.CloseTaskRequest, context: grpc.ServicerContext) -> pb.CloseTaskResponse:
        cmd = self._close_command(request)
        resp = run_once(self.engine, processed_request, request_id=cmd.request_id, method="CloseTask",
                        response_type=pb.CloseTaskResponse, apply=self._close(cmd))
        self._closed([resp])
        return resp

    @rpc
    def CloseTasks(self, request: pb.CloseTasksRequest, context: grpc.ServicerContext) -> pb.CloseTasksResponse:
        _check_batch(request.items)
        results = _run_each(self.engine, _validated(request.items, self._close_command), method="CloseTask",
                            response_type=pb.CloseTaskResponse, request_id=lambda c: c.request_id,
                            apply=self._close)
        self._closed(r for r in results if isinstance(r, pb.CloseTaskResponse))
        out = pb.CloseTasksResponse()
        _answer_items([i.request_id.strip() for i in request.items], results,
                      lambda key: out.results.add(request_id=key), method="CloseTask", locale=locale_of(context))
        return out

    # ---- outbox (the delivery worker's dispatcher) ----
    @rpc
    def ClaimDeliveryBatches(
        self, request: pb.ClaimDeliveryBatchesRequest, context: grpc.ServicerContext
    ) -> pb.ClaimDeliveryBatchesResponse:
        batches = outbox.claim(self.engine, batch_size=request.batch_size, max_batches=request.max_batches)
        return pb.ClaimDeliveryBatchesResponse(batches=[mapping.delivery_batch(b) for b in batches])

    @rpc
    def MarkBatchDispatched(
        self, request: pb.MarkBatchDispatchedRequest, context: grpc.ServicerContext
    ) -> pb.MarkBatchDispatchedResponse:
        violations = require(request.batch_id, "batch_id", "批次", "batch_id")
        if violations:
            raise ValidationFailed(violations)
        marked = store.mark_dispatched(self.engine, batch_id=request.batch_id.strip(), now=_now())
        return pb.MarkBatchDispatchedResponse(marked=marked)

    @rpc
    def WaitForDeliveries(
        self, request: pb.WaitForDeliveriesRequest, context: grpc.ServicerContext
    ) -> pb.WaitForDeliveriesResponse:
        pending = outbox.wait_for_pending(self.engine, self.wakeup, request.wait_seconds)
        return pb.WaitForDeliveriesResponse(pending=pending)
