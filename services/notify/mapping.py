"""The only place where notify protobuf messages meet domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2

from baobei.core.errors import DomainError
from baobei.core.grpc_server import MAX_DESCRIPTION_CHARS, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, status_code
from baobei.notify.v1 import notify_service_pb2 as pb
from services.notify import domain, outbox, personal, templates
from services.notify.channels.wecom import mask_url


def send_command(request: pb.SendRequest) -> domain.SendCommand:
    return domain.SendCommand(
        request_id=request.request_id,
        recipient_ids=tuple(request.recipient_ids),
        kind=request.kind,
        title=request.title,
        body=request.body,
        project_id=request.project_id,
        action_urls={k.strip(): v for k, v in request.action_urls.items()},
        action_tasks={k.strip(): v for k, v in request.action_tasks.items()},
        context=json_format.MessageToDict(request.context),
        account_email=request.account_email,
    )


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def notification(n: domain.Notification) -> pb.Notification:
    return pb.Notification(
        id=n.id,
        user_id=n.user_id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        project_id=n.project_id,
        action_url=n.action_url,
        created_at=timestamp(n.created_at),
        read=n.read,
        read_at=_ts_or_none(n.read_at),
        task_id=n.task_id,
    )


def send_response(
    items: list[domain.Notification], deliveries: list[domain.DeliveryView] | None = None
) -> pb.SendResponse:
    return pb.SendResponse(
        notifications=[notification(n) for n in items], deliveries=[delivery(d) for d in deliveries or []]
    )


def inbox_response(items: list[domain.Notification], next_cursor: str) -> pb.ListInboxResponse:
    return pb.ListInboxResponse(items=[notification(n) for n in items], next_cursor=next_cursor)


def _ts_or_none(value: datetime | None) -> Timestamp | None:
    return timestamp(value) if value is not None else None


def delivery(d: domain.DeliveryView) -> pb.Delivery:
    return pb.Delivery(
        id=d.id,
        notification_id=d.notification_id,
        channel=d.channel,
        status=d.status,
        attempts=d.attempts,
        error=d.error,
        recipient_id=d.recipient_id,
        target=d.target,
        not_before=_ts_or_none(d.not_before),
        updated_at=timestamp(d.updated_at),
        project_id=d.project_id,
        kind=d.kind,
        digest_id=d.digest_id,
    )


def delivery_batch(b: outbox.Batch) -> pb.DeliveryBatch:
    return pb.DeliveryBatch(
        batch_id=b.batch_id,
        deliveries=[pb.BatchDelivery(delivery_id=i, not_before=_ts_or_none(nb)) for i, nb in b.deliveries],
    )


def struct_dict(value: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(value)


def action_link(link: domain.ActionLink) -> pb.ActionLink:
    return pb.ActionLink(
        id=link.id,
        task_id=link.task_id,
        approver_id=link.approver_id,
        project_id=link.project_id,
        notification_id=link.notification_id,
        expires_at=timestamp(link.expires_at),
    )


def preferences_in(p: pb.Preferences) -> domain.Preferences:
    q = p.quiet_hours
    return domain.Preferences(
        user_id=p.user_id,
        channels=tuple(p.channels),
        quiet_hours=domain.QuietHours(start=q.start, end=q.end, tz=q.tz),
        by_kind={k: tuple(v.channels) for k, v in p.by_kind.items()},
    )


def preferences(p: domain.Preferences) -> pb.Preferences:
    q = p.quiet_hours
    return pb.Preferences(
        user_id=p.user_id,
        channels=list(p.channels),
        quiet_hours=pb.QuietHours(start=q.start, end=q.end, tz=q.tz or domain.DEFAULT_TZ),
        by_kind={k: pb.ChannelList(channels=list(v)) for k, v in p.by_kind.items()},
    )


def template_in(t: pb.Template) -> templates.Template:
    return templates.Template(kind=t.kind.strip(), title=t.title, text=t.text, html=t.html, markdown=t.markdown)


def template(t: templates.Template) -> pb.Template:
    return pb.Template(
        kind=t.kind,
        title=t.title,
        text=t.text,
        html=t.html,
        markdown=t.markdown,
        version=t.version,
        updated_at=_ts_or_none(t.updated_at),
        updated_by=t.updated_by,
        builtin=t.builtin,
    )


def channel_in(c: pb.Channel) -> domain.RobotChannel:
    return domain.RobotChannel(key=c.key, type=c.type, url=c.url, secret=c.secret, enabled=c.enabled,
                               show_amount=c.show_amount, app_key=c.app_key, agent_id=c.agent_id,
                               api_base=c.api_base, options=dict(c.options))


def channel(c: domain.RobotChannel) -> pb.Channel:
    """Never the secret; WeCom's key (a secret inside the URL) masked."""
    url = mask_url(c.url) if c.type == domain.WECOM else c.url
    return pb.Channel(key=c.key, type=c.type, url=url, secret="", enabled=c.enabled, has_secret=bool(c.secret),
                      show_amount=c.show_amount, app_key=c.app_key, agent_id=c.agent_id, api_base=c.api_base,
                      options=dict(c.options))


def subscription_in(s: pb.Subscription) -> domain.Subscription:
    return domain.Subscription(
        id=s.id, url=s.url, events=tuple(s.events), secrets=tuple(s.secrets), enabled=s.enabled,
        description=s.description,
    )


def subscription(s: domain.Subscription) -> pb.Subscription:
    return pb.Subscription(
        id=s.id,
        url=s.url,
        events=list(s.events),
        secrets=[domain.mask_secret(x) for x in s.secrets],
        enabled=s.enabled,
        description=s.description,
    )


def webhook_event_in(r: pb.SendWebhookRequest, *, now: datetime) -> domain.Event:
    at = r.at.ToDatetime(tzinfo=UTC) if r.HasField("at") else now
    return domain.Event(event_id=r.event_id.strip(), type=r.type.strip(), project_id=r.project_id.strip(), at=at,
                        data=struct_dict(r.data))


def event_in(r: pb.PublishEventRequest, *, now: datetime) -> domain.Event:
    at = r.at.ToDatetime(tzinfo=UTC) if r.HasField("at") else now
    return domain.Event(
        event_id=r.event_id.strip(), type=r.type.strip(), project_id=r.project_id.strip(), at=at,
        data=struct_dict(r.data),
    )


def close_task_in(r: pb.CloseTaskRequest) -> personal.CloseTask:
    return personal.CloseTask(request_id=r.request_id, task_id=r.task_id, outcome=r.outcome,
                              project_id=r.project_id, actor_id=r.actor_id, actor_name=r.actor_name)


def item_error(err: Exception, locale: str) -> pb.ItemError:
    """What a batch item's single-item RPC would have answered: a refusal's code, reason, message
    and fields; anything else (a database failure) INTERNAL, to be sent again."""
    if isinstance(err, DomainError):
        return pb.ItemError(
            code=status_code(err), reason=err.code, message=err.text(locale)[:MAX_MESSAGE_CHARS],
            violations=[pb.ItemFieldViolation(field=v.field[:MAX_FIELD_CHARS],
                                               description=v.text(locale)[:MAX_DESCRIPTION_CHARS])
                        for v in err.violations],
        )
    return pb.ItemError(code=code_pb2.INTERNAL, reason="internal", message=f"not applied: {type(err).__name__}")
