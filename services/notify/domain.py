"""Notify domain: pure rules for sending notifications, routing them by the recipient's
preferences and quiet hours, paging an inbox, and validating channels and subscriptions.

No grpc, protobuf or database imports here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from baobei.core.errors import FieldViolation, ValidationFailed, require
from services.notify import personal
from services.notify.group_cards import escape_markdown
from services.notify.im import base as im_base

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CHANNEL_INAPP = "inapp"
STATUS_DELIVERED = "delivered"
MAX_ID = 100
MAX_KIND = 100
MAX_TITLE = 500
MAX_URL = 2000


@dataclass(frozen=True)
class SendCommand:
    request_id: str
    recipient_ids: tuple[str, ...]
    kind: str
    title: str
    body: str = ""
    project_id: str = ""
    action_urls: Mapping[str, str] = field(default_factory=dict)
    # recipient → approval task id: a signed action link is minted per recipient.
    action_tasks: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    # An account e-mail (invite, reset): one e-mail per recipient, link in context["setup_url"].
    account_email: bool = False


@dataclass(frozen=True)
class Notification:
    id: str
    user_id: str
    kind: str
    title: str
    body: str
    project_id: str
    action_url: str
    created_at: datetime
    read: bool = False
    read_at: datetime | None = None
    # The approval task an approval request is about ("" otherwise).
    task_id: str = ""


@dataclass(frozen=True)
class Delivery:
    """One row of the delivery log: a notification handed to a channel."""

    notification_id: str
    channel: str
    status: str
    attempts: int
    at: datetime


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the (created_at, id) of the last item of a page (newest first)."""

    created_at: datetime
    id: str


def _too_long(value: str, limit: int, path: str) -> list[FieldViolation]:
    if len(value) <= limit:
        return []
    return [FieldViolation(path, f"{path} 长度不能超过 {limit}", f"{path} must be at most {limit} characters")]


def validate_send(cmd: SendCommand) -> None:
    """Raise ValidationFailed listing every problem of a send command."""
    violations: list[FieldViolation] = []
    violations += require(cmd.request_id, "request_id", "请求编号", "request_id")
    if not cmd.recipient_ids:
        violations.append(FieldViolation("recipient_ids", "至少需要一个接收人", "at least one recipient is required"))
    for i, rid in enumerate(cmd.recipient_ids):
        path = f"recipient_ids[{i}]"
        violations += require(rid, path, "接收人", "recipient id")
        violations += _too_long(rid, MAX_ID, path)
    violations += require(cmd.kind, "kind", "通知类型", "kind")
    violations += _too_long(cmd.kind, MAX_KIND, "kind")
    violations += require(cmd.title, "title", "标题", "title")
    violations += _too_long(cmd.title, MAX_TITLE, "title")
    violations += _too_long(cmd.project_id, MAX_ID, "project_id")
    for rid, url in cmd.action_urls.items():
        violations += _too_long(url, MAX_URL, f"action_urls[{rid}]")
    for rid, task in cmd.action_tasks.items():
        violations += _too_long(task, MAX_ID, f"action_tasks[{rid}]")
    if violations:
        raise ValidationFailed(violations)


def distinct_recipients(recipient_ids: Sequence[str]) -> list[str]:
    """Recipients without blanks or repeats, first occurrence order."""
    seen: dict[str, None] = {}
    for rid in recipient_ids:
        rid = rid.strip()
        if rid:
            seen.setdefault(rid, None)
    return list(seen)


def plan_notifications(
    cmd: SendCommand, *, now: datetime, new_id: Mapping[str, str], minted_urls: Mapping[str, str] | None = None
) -> list[Notification]:
    """One notification per distinct recipient; ``new_id`` maps recipient → fresh notification id,
    ``minted_urls`` recipient → action-link URL (wins over ``action_urls``)."""
    minted = minted_urls or {}
    return [
        Notification(
            id=new_id[rid],
            user_id=rid,
            kind=cmd.kind.strip(),
            title=cmd.title.strip(),
            body=cmd.body,
            project_id=cmd.project_id.strip(),
            action_url=minted.get(rid) or cmd.action_urls.get(rid, ""),
            created_at=now,
            task_id=cmd.action_tasks.get(rid, "").strip(),
        )
        for rid in distinct_recipients(cmd.recipient_ids)
    ]


def inapp_delivery(n: Notification) -> Delivery:
    """In-app delivery is the insert itself: delivered at the first attempt."""
    return Delivery(notification_id=n.id, channel=CHANNEL_INAPP, status=STATUS_DELIVERED, attempts=1, at=n.created_at)


def page_limit(limit: int) -> int:
    """0 (unset) → default; above the maximum → maximum; negative → validation error."""
    if limit < 0:
        raise ValidationFailed([FieldViolation("limit", "limit 不能为负数", "limit must not be negative")])
    if limit == 0:
        return DEFAULT_LIMIT
    return min(limit, MAX_LIMIT)


def as_utc(value: datetime) -> datetime:
    """Databases without zone support hand back naive UTC values."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encode_cursor(cursor: Cursor) -> str:
    raw = f"{as_utc(cursor.created_at).isoformat()}|{cursor.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed([FieldViolation("cursor", "分页游标无效", "invalid cursor")])


def decode_cursor(token: str) -> Cursor | None:
    """``""`` → None (first page); anything not produced by encode_cursor → ValidationFailed."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        created_at = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None
    if not ident or created_at.tzinfo is None:
        raise _bad_cursor()
    return Cursor(created_at=as_utc(created_at), id=ident)


def next_cursor(page: Sequence[Notification], limit: int, *, has_more: bool) -> str:
    """The cursor after ``page`` or "" when it is the last page."""
    if not has_more or not page or len(page) < limit:
        return ""
    last = page[-1]
    return encode_cursor(Cursor(created_at=last.created_at, id=last.id))


# ---------------------------------------------------------------------------------------------
# External channels, preferences and quiet hours

EMAIL, DINGTALK, WECOM, WEBHOOK = "email", "dingtalk", "wecom", "webhook"
ROBOT_TYPES = (DINGTALK, WECOM)
# Personal notices through an enterprise app (services/notify/im): dingtalk_app, wecom_app, feishu_app.
APP_TYPES = im_base.APP_TYPES
USER_CHANNELS = (EMAIL, DINGTALK, WECOM, *APP_TYPES)
CHANNEL_TYPES = (*ROBOT_TYPES, *APP_TYPES)

PENDING, DISPATCHED, DELIVERED = "pending", "dispatched", "delivered"
DIGEST_WAITING, DIGESTED, SKIPPED, DEAD = "digest_waiting", "digested", "skipped", "dead"
STATUSES = (PENDING, DISPATCHED, DELIVERED, DIGEST_WAITING, DIGESTED, SKIPPED, DEAD)
# Statuses after which nothing is sent any more.
DONE = frozenset({DELIVERED, DIGESTED, SKIPPED})

DEFAULT_TZ = "Asia/Shanghai"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_KIND = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,99}$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_WHSEC = re.compile(r"^whsec_[A-Za-z0-9+/]+={0,2}$")


@dataclass(frozen=True)
class QuietHours:
    start: str = ""
    end: str = ""
    tz: str = DEFAULT_TZ


@dataclass(frozen=True)
class Preferences:
    """A user's external channels (the in-app inbox is always on). The default — no row — is
    in-app only, so nothing leaves the system until a user or an admin opts in."""

    user_id: str
    channels: tuple[str, ...] = ()
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    by_kind: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _channel_list(values: Sequence[str], path: str) -> tuple[tuple[str, ...], list[FieldViolation]]:
    out: dict[str, None] = {}
    bad: list[FieldViolation] = []
    for i, ch in enumerate(values):
        ch = ch.strip().lower()
        if ch == "inapp":
            continue
        if ch not in USER_CHANNELS:
            bad.append(FieldViolation(f"{path}[{i}]", f"不支持的通知渠道：{ch}", f"unknown channel: {ch}"))
            continue
        out.setdefault(ch, None)
    return tuple(out), bad


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def normalise_preferences(p: Preferences) -> Preferences:
    """Validated, de-duplicated preferences; ValidationFailed lists every problem."""
    violations: list[FieldViolation] = require(p.user_id, "preferences.user_id", "用户", "user_id")
    channels, bad = _channel_list(p.channels, "preferences.channels")
    violations += bad
    by_kind: dict[str, tuple[str, ...]] = {}
    for kind, chans in p.by_kind.items():
        if not _KIND.match(kind):
            violations.append(FieldViolation(f"preferences.by_kind[{kind}]", "通知类型无效", "invalid kind"))
            continue
        by_kind[kind], bad = _channel_list(chans, f"preferences.by_kind[{kind}]")
        violations += bad
    q = p.quiet_hours
    tz = q.tz.strip() or DEFAULT_TZ
    start, end = q.start.strip(), q.end.strip()
    if start or end:
        for name, value in (("start", start), ("end", end)):
            if not _HHMM.match(value):
                violations.append(
                    FieldViolation(f"preferences.quiet_hours.{name}", "时间格式应为 HH:MM", "time must be HH:MM")
                )
        if start and start == end:
            violations.append(
                FieldViolation("preferences.quiet_hours.end", "结束时间不能等于开始时间", "end must differ from start")
            )
    if _zone(tz) is None:
        violations.append(FieldViolation("preferences.quiet_hours.tz", f"未知时区：{tz}", f"unknown time zone: {tz}"))
    if violations:
        raise ValidationFailed(violations)
    return Preferences(
        user_id=p.user_id.strip(), channels=channels, quiet_hours=QuietHours(start, end, tz), by_kind=by_kind
    )


def channels_for(prefs: Preferences | None, kind: str) -> tuple[str, ...]:
    """The external channels a notification of ``kind`` goes to: the per-kind override when there
    is one (an empty list = in-app only), else the user's channels. No preferences = in-app only."""
    if prefs is None:
        return ()
    if kind in prefs.by_kind:
        return tuple(prefs.by_kind[kind])
    return tuple(prefs.channels)


def _hhmm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def quiet_until(now: datetime, quiet: QuietHours | None) -> datetime | None:
    """When ``now`` falls inside the quiet hours: the (UTC) moment they end; else None.
    start > end spans midnight (22:00–08:00); the end is exclusive."""
    if quiet is None or not quiet.start or not quiet.end:
        return None
    zone = _zone(quiet.tz or DEFAULT_TZ) or ZoneInfo(DEFAULT_TZ)
    local = as_utc(now).astimezone(zone)
    start, end = _hhmm(quiet.start), _hhmm(quiet.end)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    # Wall-clock end in the zone (fold/gap resolved by zoneinfo), back to UTC.
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class PlannedDelivery:
    recipient_id: str
    channel: str
    target: str
    status: str
    error: str = ""
    not_before: datetime | None = None


def plan_deliveries(
    recipient_id: str,
    kind: str,
    prefs: Preferences | None,
    robots: Mapping[str, str],
    *,
    now: datetime,
) -> list[PlannedDelivery]:
    """External deliveries of one notification: one per channel the preferences ask for.
    ``robots`` maps channel type (robot or enterprise app) → key of the enabled channel of that
    type; a channel type without one is recorded as skipped (visible, never silently dropped).
    Quiet hours hold every external delivery (``not_before``), personal app notices included."""
    out: list[PlannedDelivery] = []
    later = quiet_until(now, prefs.quiet_hours) if prefs else None
    for ch in channels_for(prefs, kind):
        if ch == EMAIL:
            out.append(PlannedDelivery(recipient_id, ch, "", PENDING, not_before=later))
        elif ch in CHANNEL_TYPES:
            key = robots.get(ch, "")
            what = "robot" if ch in ROBOT_TYPES else "app"
            if key:
                out.append(PlannedDelivery(recipient_id, ch, key, PENDING, not_before=later))
            else:
                out.append(
                    PlannedDelivery(recipient_id, ch, "", SKIPPED, error=f"no enabled {ch} {what} channel")
                )
    return out


# ---------------------------------------------------------------------------------------------
# Robot channels and webhook subscriptions


@dataclass(frozen=True)
class RobotChannel:
    """A channel: a group robot (``url``, ``secret`` = DingTalk's signing secret) or an enterprise
    app for personal notices (``app_key``, ``secret`` = the app secret, ``agent_id``, ``api_base``,
    ``options``)."""

    key: str
    type: str
    url: str
    secret: str = ""
    enabled: bool = True
    # Group chats see the project's amount only when the admin allows it (default: hidden).
    show_amount: bool = False
    app_key: str = ""
    agent_id: str = ""
    api_base: str = ""
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_app(self) -> bool:
        return self.type in APP_TYPES


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    events: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    enabled: bool = True
    description: str = ""


def _url_violations(url: str, path: str, *, hosts: Sequence[str] = ()) -> list[FieldViolation]:
    url = url.strip()
    if not url:
        return require(url, path, "地址", "url")
    if len(url) > MAX_URL:
        return _too_long(url, MAX_URL, path)
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return [FieldViolation(path, "地址必须是 http(s) URL", "url must be an http(s) URL")]
    if parts.username or parts.password:
        return [FieldViolation(path, "地址中不能包含用户名或密码", "url must not carry credentials")]
    return []


def validate_robot(ch: RobotChannel, *, has_stored_secret: bool = False) -> RobotChannel:
    """A robot or enterprise app channel, trimmed; ValidationFailed names every bad field.
    ``has_stored_secret``: an app's secret may be omitted (kept) when one of the same type is stored."""
    violations: list[FieldViolation] = []
    key = ch.key.strip()
    if not _KEY.match(key):
        violations.append(
            FieldViolation("channel.key", "渠道标识无效（字母、数字、_.-）", "invalid key (letters, digits, _.-)")
        )
    kind = ch.type.strip().lower()
    if kind in APP_TYPES:
        return _validate_app(ch, key, kind, violations, has_stored_secret=has_stored_secret)
    if kind not in ROBOT_TYPES:
        violations.append(
            FieldViolation("channel.type", f"渠道类型应为 {' / '.join(CHANNEL_TYPES)} 之一",
                           f"type must be one of {', '.join(CHANNEL_TYPES)}")
        )
    violations += _url_violations(ch.url, "channel.url")
    if kind == WECOM and ch.url and "key=" not in ch.url:
        violations.append(FieldViolation("channel.url", "企业微信机器人地址缺少 key", "WeCom robot url needs its key"))
    if kind == WECOM and ch.secret:
        violations.append(
            FieldViolation("channel.secret", "企业微信机器人不使用签名密钥", "WeCom robots take no secret")
        )
    violations += _too_long(ch.secret, 500, "channel.secret")
    if violations:
        raise ValidationFailed(violations)
    return RobotChannel(key=key, type=kind, url=ch.url.strip(), secret=ch.secret.strip(), enabled=ch.enabled,
                        show_amount=ch.show_amount)


def _validate_app(ch: RobotChannel, key: str, kind: str, violations: list[FieldViolation], *,
                  has_stored_secret: bool) -> RobotChannel:
    options = {k.strip(): v.strip() for k, v in ch.options.items()}
    violations += personal.app_violations(type_=kind, url=ch.url, app_key=ch.app_key, secret=ch.secret,
                                          has_stored_secret=has_stored_secret, agent_id=ch.agent_id,
                                          options=options)
    if ch.api_base.strip():
        violations += _url_violations(ch.api_base, "channel.api_base")
    for name in personal.url_options(options):
        violations += _url_violations(options[name], f"channel.options[{name}]")
    if violations:
        raise ValidationFailed(violations)
    return RobotChannel(key=key, type=kind, url="", secret=ch.secret.strip(), enabled=ch.enabled,
                        app_key=ch.app_key.strip(), agent_id=ch.agent_id.strip(),
                        api_base=ch.api_base.strip().rstrip("/"), options=options)


def validate_subscription(sub: Subscription) -> Subscription:
    violations: list[FieldViolation] = []
    sid = sub.id.strip()
    if not _KEY.match(sid):
        violations.append(
            FieldViolation("subscription.id", "订阅标识无效（字母、数字、_.-）", "invalid id (letters, digits, _.-)")
        )
    violations += _url_violations(sub.url, "subscription.url")
    events: dict[str, None] = {}
    if not sub.events:
        violations.append(FieldViolation("subscription.events", "至少订阅一个事件", "at least one event is required"))
    for i, ev in enumerate(sub.events):
        ev = ev.strip()
        if ev != "*" and not _KIND.match(ev):
            violations.append(FieldViolation(f"subscription.events[{i}]", "事件类型无效", "invalid event type"))
        events.setdefault(ev, None)
    secrets = tuple(s.strip() for s in sub.secrets)
    if not 1 <= len(secrets) <= 2:
        violations.append(
            FieldViolation("subscription.secrets", "需要 1 到 2 个签名密钥", "one or two secrets are required")
        )
    for i, secret in enumerate(secrets):
        if not _valid_whsec(secret):
            violations.append(
                FieldViolation(
                    f"subscription.secrets[{i}]", "密钥格式应为 whsec_<base64>", "secret must be whsec_<base64>"
                )
            )
    violations += _too_long(sub.description, 500, "subscription.description")
    if violations:
        raise ValidationFailed(violations)
    return Subscription(
        id=sid, url=sub.url.strip(), events=tuple(events), secrets=secrets, enabled=sub.enabled,
        description=sub.description.strip(),
    )


def _valid_whsec(secret: str) -> bool:
    if not _WHSEC.match(secret):
        return False
    try:
        raw = base64.b64decode(secret[len("whsec_"):], validate=True)
    except (binascii.Error, ValueError):
        return False
    return 16 <= len(raw) <= 128


def subscribed(sub: Subscription, event_type: str) -> bool:
    """Whether PublishEvent sends ``event_type`` to ``sub`` (never to an owned subscription)."""
    return sub.enabled and not sub.id.startswith(OWNED_PREFIX) and ("*" in sub.events or event_type in sub.events)


# ---- owned webhooks (SendWebhook) ----------------------------------------------------------------

# A subscription a sender owns (a rule's webhook action) rather than an admin: its id, its target
# and secrets come from the owner's configuration on every send.
OWNED_PREFIX = "owned."
_WEBHOOK_IDS = uuid.UUID("6f1c1e0a-8a2e-4f5e-9d7b-2b1f0c3a9e51")


@dataclass(frozen=True)
class OwnedWebhook:
    event: Event
    subscription: Subscription
    owner: str

    @property
    def delivery_id(self) -> str:
        """Stable for the event and target: retries and repeats name the same delivery, and the
        receiver dedupes on it (it is the webhook-id)."""
        return str(uuid.uuid5(_WEBHOOK_IDS, f"{self.event.event_id}\n{self.subscription.url}"))


def owned_subscription_id(owner: str, url: str) -> str:
    return OWNED_PREFIX + hashlib.sha256(f"{owner}\n{url}".encode()).hexdigest()[:32]


def validate_owned_webhook(event: Event, *, url: str, secrets: Sequence[str], owner: str,
                           description: str) -> OwnedWebhook:
    """The event and the owned subscription it goes to; ValidationFailed names every bad field
    (``url``, ``secrets[i]``, ``owner`` and the event's)."""
    violations: list[FieldViolation] = []
    try:
        validate_event(event)
    except ValidationFailed as err:
        violations += err.violations
    violations += require(owner, "owner", "所有者", "owner") + _too_long(owner, 200, "owner")
    # Its one event type: the listing shows what it receives (PublishEvent never sends to it).
    sub = Subscription(id=owned_subscription_id(owner.strip(), url.strip()), url=url,
                       events=(event.type.strip() or "x",), secrets=tuple(secrets), enabled=True,
                       description=(description.strip() or f"{owner.strip()} 的 Webhook")[:500])
    try:
        sub = validate_subscription(sub)
    except ValidationFailed as err:
        violations += [FieldViolation(v.field.removeprefix("subscription."), v.zh, v.en) for v in err.violations]
    if violations:
        raise ValidationFailed(violations)
    return OwnedWebhook(event=event, subscription=sub, owner=owner.strip())


def mask_secret(secret: str) -> str:
    """What a listing shows of a secret: its prefix and last four characters."""
    if not secret:
        return ""
    prefix = "whsec_" if secret.startswith("whsec_") else ""
    return f"{prefix}****{secret[-4:]}" if len(secret) > len(prefix) + 8 else f"{prefix}****"


# ---------------------------------------------------------------------------------------------
# Digests


@dataclass(frozen=True)
class DigestItem:
    title: str
    action_url: str = ""
    project_id: str = ""


MAX_DIGEST_LINES = 30


def compose_digest(items: Sequence[DigestItem]) -> tuple[str, str]:
    """(title, markdown) of one message summarising ``items`` (oldest first)."""
    title = f"您有 {len(items)} 条新通知"
    lines = [f"### {title}", ""]
    for item in items[:MAX_DIGEST_LINES]:
        label = escape_markdown(item.title.replace("[", "［").replace("]", "］"))
        lines.append(f"- [{label}]({item.action_url})" if item.action_url else f"- {label}")
    if len(items) > MAX_DIGEST_LINES:
        lines.append(f"- …… 另有 {len(items) - MAX_DIGEST_LINES} 条，请在系统中查看")
    return title, "\n".join(lines)


@dataclass(frozen=True)
class DeliveryView:
    """An external delivery as the API shows it."""

    id: str
    notification_id: str
    channel: str
    status: str
    attempts: int
    error: str
    recipient_id: str
    target: str
    not_before: datetime | None
    updated_at: datetime
    project_id: str
    kind: str
    digest_id: str


@dataclass(frozen=True)
class ActionLink:
    id: str
    task_id: str
    approver_id: str
    project_id: str
    notification_id: str
    expires_at: datetime


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    project_id: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


def validate_event(ev: Event) -> None:
    violations: list[FieldViolation] = require(ev.event_id, "event_id", "事件编号", "event_id")
    violations += _too_long(ev.event_id, 190, "event_id")
    violations += require(ev.type, "type", "事件类型", "type")
    if ev.type.strip() and not _KIND.match(ev.type.strip()):
        violations.append(FieldViolation("type", "事件类型无效", "invalid event type"))
    violations += _too_long(ev.project_id, MAX_ID, "project_id")
    if violations:
        raise ValidationFailed(violations)


def webhook_payload(ev: Event) -> dict[str, Any]:
    """The Standard Webhooks body: {"type", "timestamp", "data": {...}}; data carries the event id
    and project id besides the event's own fields."""
    data = dict(ev.data)
    data.setdefault("event_id", ev.event_id)
    if ev.project_id:
        data.setdefault("project_id", ev.project_id)
    return {"type": ev.type, "timestamp": as_utc(ev.at).isoformat().replace("+00:00", "Z"), "data": data}


def valid_kind(kind: str) -> bool:
    return bool(_KIND.match(kind))
