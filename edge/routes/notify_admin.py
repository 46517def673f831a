"""Notification settings over the notify service: each user's channel preferences and quiet
hours; and, for admins, the per-kind Jinja2 templates, the channels (DingTalk / WeCom group
robots, DingTalk / WeCom / Feishu enterprise apps for personal notices), the
outgoing webhook subscriptions (finance sync, Standard Webhooks) and the delivery log with its dead
letters and re-drive."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Query, Response

from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, mapping
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router
from edge.schemas_notify import (
    APP_TYPES,
    ChannelIn,
    ChannelList,
    ChannelOut,
    DeliveryChannel,
    DeliveryList,
    DeliveryStatus,
    PreferencesIn,
    PreferencesOut,
    RedriveIn,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    TemplateIn,
    TemplateList,
    TemplateOut,
)

router = area_router("notification settings")

_KIND = re.compile(r"^[a-z][a-z0-9_.\-]{0,99}$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")

@contextlib.contextmanager
def body_errors(prefix: str) -> Iterator[None]:
    """The service names fields of its message (``channel.url``); report the request body's."""
    try:
        yield
    except ValidationFailed as err:
        raise ValidationFailed(
            [FieldViolation(v.field.removeprefix(prefix), v.zh, v.en) for v in err.violations], zh=err.zh, en=err.en
        ) from None


# ---------------------------------------------------------------- preferences


BASE_CHANNELS = ("email", "dingtalk", "wecom")


async def _available(clients: EdgeClients) -> list[str]:
    """The channels a user may choose: e-mail and the robots (as before), and each enterprise app
    type an admin enabled (no secret leaves the service: only the types are read)."""
    resp = await clients.notify.ListChannels(notify_pb2.ListChannelsRequest())
    apps = {c.type for c in resp.channels if c.enabled and c.type in APP_TYPES}
    return [*BASE_CHANNELS, *(t for t in APP_TYPES if t in apps)]


def _prefs_out(p: notify_pb2.Preferences, user_id: str, available: list[str]) -> dict[str, Any]:
    qh = p.quiet_hours
    return {
        "user_id": p.user_id or user_id,
        "channels": list(p.channels),
        "quiet_hours": {"start": qh.start, "end": qh.end, "tz": qh.tz or "Asia/Shanghai"} if qh.start else None,
        "by_kind": {k: list(v.channels) for k, v in sorted(p.by_kind.items())},
        "available": available,
    }


async def _set_prefs(clients: EdgeClients, user_id: str, body: PreferencesIn) -> dict[str, Any]:
    prefs = notify_pb2.Preferences(user_id=user_id, channels=list(dict.fromkeys(body.channels)))
    if body.quiet_hours is not None:
        if body.quiet_hours.start == body.quiet_hours.end:
            raise ValidationFailed([FieldViolation("quiet_hours.end", "结束时间不能等于开始时间",
                                                   "end must differ from start")])
        prefs.quiet_hours.CopyFrom(
            notify_pb2.QuietHours(start=body.quiet_hours.start, end=body.quiet_hours.end, tz=body.quiet_hours.tz)
        )
    for kind, channels in body.by_kind.items():
        prefs.by_kind[kind].channels.extend(dict.fromkeys(channels))
    resp = await clients.notify.SetPreferences(
        notify_pb2.SetPreferencesRequest(request_id=uuid.uuid4().hex, preferences=prefs)
    )
    return _prefs_out(resp, user_id, await _available(clients))


async def _known_user(clients: EdgeClients, user_id: str) -> None:
    await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=user_id))  # 404 when unknown


@router.get("/me/notification-preferences", response_model=PreferencesOut)
async def my_preferences(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The caller's channels besides the in-app inbox, quiet hours and per-kind overrides, and the
    channels on offer (`available`: enterprise apps appear once an admin enabled one)."""
    resp = await clients.notify.GetPreferences(notify_pb2.GetPreferencesRequest(user_id=user.id))
    return _prefs_out(resp, user.id, await _available(clients))


@router.put("/me/notification-preferences", response_model=PreferencesOut)
async def set_my_preferences(body: PreferencesIn, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Replace the caller's preferences. During quiet hours external sends wait (the inbox never),
    personal app notices (dingtalk_app, wecom_app, feishu_app) included."""
    return await _set_prefs(clients, user.id, body)


@router.get("/users/{user_id}/notification-preferences", response_model=PreferencesOut)
async def user_preferences(user_id: str, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    await _known_user(clients, user_id)
    resp = await clients.notify.GetPreferences(notify_pb2.GetPreferencesRequest(user_id=user_id))
    return _prefs_out(resp, user_id, await _available(clients))


@router.put("/users/{user_id}/notification-preferences", response_model=PreferencesOut)
async def set_user_preferences(
    user_id: str, body: PreferencesIn, admin: AdminUser, clients: Clients
) -> dict[str, Any]:
    """An admin sets a user's preferences (404 for an unknown user)."""
    await _known_user(clients, user_id)
    out = await _set_prefs(clients, user_id, body)
    await audit.record(clients, "notification_preferences.changed", actor_id=admin.id, target_type="user",
                       target_id=user_id, details={"channels": out.get("channels")})
    return out


# ---------------------------------------------------------------- templates


def _template_out(t: notify_pb2.Template) -> dict[str, Any]:
    return {
        "kind": t.kind, "title": t.title, "text": t.text, "html": t.html or None, "markdown": t.markdown or None,
        "version": t.version, "builtin": t.builtin, "updated_at": mapping.ts(t.updated_at),
        "updated_by": t.updated_by or None,
    }


@router.get("/notification-templates", response_model=TemplateList)
async def list_templates(admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """The templates per notification kind (built-in defaults included, `builtin: true`)."""
    resp = await clients.notify.ListTemplates(notify_pb2.ListTemplatesRequest())
    return {"items": [_template_out(t) for t in resp.templates]}


@router.put("/notification-templates/{kind}", response_model=TemplateOut)
async def put_template(kind: str, body: TemplateIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Jinja2 sources (sandboxed) for one kind, e.g. `approval_request`; each change is a new
    version. A source that does not compile or render with a sample context → 422 naming it.
    Variables: title, body, action_url, recipient_id, recipient_name, project_id, kind, code, name,
    customer, amount, step, comment, due (see docs/integrations.md)."""
    if not _KIND.fullmatch(kind):
        raise ValidationFailed([FieldViolation("kind", "通知类型格式不正确", "invalid notification kind")])
    with body_errors("template."):
        resp = await clients.notify.PutTemplate(
            notify_pb2.PutTemplateRequest(
                request_id=uuid.uuid4().hex, actor_id=admin.id,
                template=notify_pb2.Template(kind=kind, title=body.title, text=body.text, html=body.html or "",
                                             markdown=body.markdown or ""),
            )
        )
    await audit.record(clients, "template.changed", actor_id=admin.id, target_type="notification_template",
                       target_id=kind, details={"version": resp.version})
    return _template_out(resp)


# ---------------------------------------------------------------- robot channels


def mask_url(kind: str, url: str) -> str:
    """WeCom robot URLs carry their secret in ``key=``; never show it."""
    if kind != "wecom":
        return url
    return re.sub(r"(key=)[^&#]+", r"\1***", url)


def _channel_out(c: notify_pb2.Channel) -> dict[str, Any]:
    return {"key": c.key, "type": c.type, "url": mask_url(c.type, c.url), "enabled": c.enabled,
            "has_secret": c.has_secret, "show_amount": c.show_amount, "app_key": c.app_key,
            "agent_id": c.agent_id, "api_base": c.api_base, "options": dict(sorted(c.options.items()))}


@router.get("/notification-channels", response_model=ChannelList)
async def list_channels(admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Robot and enterprise app channels; secrets are never returned (`has_secret` says one is
    stored) and WeCom robot keys are masked."""
    resp = await clients.notify.ListChannels(notify_pb2.ListChannelsRequest())
    return {"items": [_channel_out(c) for c in resp.channels]}


@router.put("/notification-channels/{key}", response_model=ChannelOut)
async def put_channel(key: str, body: ChannelIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """A DingTalk custom robot (URL with access_token, signing secret `SEC…`) or a WeCom group robot
    (URL with key); or an enterprise app for personal notices: `dingtalk_app` (AppKey, AppSecret,
    AgentId), `wecom_app` (corpid, the app's Secret, agentid) or `feishu_app` (App ID, App Secret),
    with `api_base` (empty = the platform's public API; an internal address only where the
    deployment allows internal targets) and `options`. Omitting `secret` keeps the stored one.
    422 names each bad field (`app_key`, `secret`, `agent_id`, `api_base`, `options[…]`)."""
    if not _KEY.fullmatch(key):
        raise ValidationFailed([FieldViolation("key", "渠道标识格式不正确", "invalid channel key")])
    with body_errors("channel."):
        resp = await clients.notify.PutChannel(
            notify_pb2.PutChannelRequest(
                request_id=uuid.uuid4().hex,
                channel=notify_pb2.Channel(key=key, type=body.type, url=body.url, secret=body.secret or "",
                                           enabled=body.enabled, show_amount=body.show_amount,
                                           app_key=body.app_key, agent_id=body.agent_id, api_base=body.api_base,
                                           options=body.options),
            )
        )
    await audit.record(clients, "channel.changed", actor_id=admin.id, target_type="notification_channel",
                       target_id=key, details={"type": body.type,
                                               "host": urlsplit(body.url or body.api_base).hostname,
                                               "enabled": body.enabled, "secret_changed": bool(body.secret)})
    return _channel_out(resp)


# ---------------------------------------------------------------- webhook subscriptions


def mask_secret(secret: str) -> str:
    if not secret or "*" in secret or "…" in secret:
        return secret
    tail = secret[-4:] if len(secret) > 14 else ""
    return "whsec_…" + tail


def _subscription_out(s: notify_pb2.Subscription) -> dict[str, Any]:
    return {"id": s.id, "url": s.url, "events": list(s.events), "secrets": [mask_secret(x) for x in s.secrets],
            "enabled": s.enabled, "description": s.description}


@router.get("/webhook-subscriptions", response_model=SubscriptionList)
async def list_subscriptions(admin: AdminUser, clients: Clients) -> dict[str, Any]:
    resp = await clients.notify.ListSubscriptions(notify_pb2.ListSubscriptionsRequest())
    return {"items": [_subscription_out(s) for s in resp.subscriptions]}


@router.put("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionOut)
async def put_subscription(
    subscription_id: str, body: SubscriptionIn, admin: AdminUser, clients: Clients
) -> dict[str, Any]:
    """Events (project.approved, project.closed, cost.recorded, `*`) POSTed to `url`, signed per
    Standard Webhooks with every secret given (two during a rotation)."""
    if not _KEY.fullmatch(subscription_id):
        raise ValidationFailed([FieldViolation("id", "订阅标识格式不正确", "invalid subscription id")])
    with body_errors("subscription."):
        resp = await clients.notify.PutSubscription(
            notify_pb2.PutSubscriptionRequest(
                request_id=uuid.uuid4().hex,
                subscription=notify_pb2.Subscription(
                    id=subscription_id, url=body.url, events=body.events, secrets=body.secrets, enabled=body.enabled,
                    description=body.description,
                ),
            )
        )
    await audit.record(clients, "subscription.changed", actor_id=admin.id, target_type="webhook_subscription",
                       target_id=subscription_id,
                       details={"host": urlsplit(body.url).hostname, "events": list(body.events),
                                "enabled": body.enabled, "secrets": len(body.secrets)})
    return _subscription_out(resp)


@router.delete("/webhook-subscriptions/{subscription_id}", status_code=204)
async def delete_subscription(subscription_id: str, admin: AdminUser, clients: Clients) -> Response:
    await clients.notify.DeleteSubscription(notify_pb2.DeleteSubscriptionRequest(id=subscription_id))
    await audit.record(clients, "subscription.deleted", actor_id=admin.id, target_type="webhook_subscription",
                       target_id=subscription_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- delivery log


def _delivery_out(d: notify_pb2.Delivery) -> dict[str, Any]:
    return {
        "id": d.id, "notification_id": d.notification_id or None, "channel": d.channel, "status": d.status,
        "attempts": d.attempts, "error": d.error or None, "recipient_id": d.recipient_id or None,
        "target": d.target or None, "project_id": d.project_id or None, "kind": d.kind or None,
        "not_before": mapping.ts(d.not_before), "updated_at": mapping.ts(d.updated_at),
        "digest_id": d.digest_id or None,
    }


@router.get("/notification-deliveries", response_model=DeliveryList, response_model_exclude_none=True)
async def list_deliveries(
    admin: AdminUser,
    clients: Clients,
    status: Annotated[DeliveryStatus | None, Query(description="dead = dead letters")] = None,
    project_id: Annotated[str | None, Query()] = None,
    channel: Annotated[DeliveryChannel | None, Query()] = None,
    notification_id: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The delivery log (e-mail, robots, webhooks, enterprise app cards and their updates — kind
    `im_card_update`): attempts, status and last error, newest first."""
    resp = await clients.notify.ListDeliveries(
        notify_pb2.ListDeliveriesRequest(
            status=status or "", project_id=project_id or "", channel=channel or "",
            notification_id=notification_id or "", limit=limit,
        )
    )
    return {"items": [_delivery_out(d) for d in resp.deliveries]}


@router.post("/notification-deliveries/redrive", response_model=DeliveryList, response_model_exclude_none=True)
async def redrive(admin: AdminUser, clients: Clients, body: RedriveIn | None = None) -> dict[str, Any]:
    """Dead letters (all, or `delivery_ids`) go back to pending and are delivered again."""
    ids = [i.strip() for i in (body.delivery_ids or [])] if body else []
    resp = await clients.notify.Redrive(notify_pb2.RedriveRequest(request_id=uuid.uuid4().hex, delivery_ids=ids))
    return {"items": [_delivery_out(d) for d in resp.deliveries]}
