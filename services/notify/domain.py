"""Notify domain: pure rules for sending in-app notifications and paging an inbox.

No grpc, protobuf or database imports here."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from baobei.core.errors import FieldViolation, ValidationFailed, require

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


def plan_notifications(cmd: SendCommand, *, now: datetime, new_id: Mapping[str, str]) -> list[Notification]:
    """One notification per distinct recipient; ``new_id`` maps recipient → fresh notification id."""
    return [
        Notification(
            id=new_id[rid],
            user_id=rid,
            kind=cmd.kind.strip(),
            title=cmd.title.strip(),
            body=cmd.body,
            project_id=cmd.project_id.strip(),
            action_url=cmd.action_urls.get(rid, ""),
            created_at=now,
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
