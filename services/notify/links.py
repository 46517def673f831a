"""Signed action-link tokens: itsdangerous URLSafeTimedSerializer over {"l": link_id}.

The token carries only the link id and its signing time; what it is bound to (approver, task,
expiry) lives in the ``action_link`` row. The signing time is the link's ``created_at`` (whole
seconds), so the token is a function of the row and the key: it is derived when a notification
is shown or delivered and stored nowhere (no table, payload or request log holds it).

Group tokens (``<base>/a/g/<token>``, the buttons of group robot cards) are derived from the same
row under another salt, over {"g": link_id}: a personal token never verifies as a group token nor
the reverse. A group token names no approver — the edge makes its reader sign in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from baobei.core.errors import Forbidden

SALT = "baobei-action-link"
GROUP_SALT = "baobei-group-link"
MAX_TOKEN = 500


def serializer(key: str, *, group: bool = False) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=GROUP_SALT if group else SALT)


def sign(key: str, link_id: str) -> str:
    return str(serializer(key).dumps({"l": link_id}))


class _SignedAt(TimestampSigner):
    """A TimestampSigner whose clock is fixed at ``at`` (epoch seconds)."""

    def __init__(self, *args: Any, at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._at = at

    def get_timestamp(self) -> int:
        return self._at


def token_for(key: str, link_id: str, created_at: datetime, *, group: bool = False) -> str:
    """The link's token (personal, or its group token), the same every time it is derived from
    (key, id, created_at)."""
    ser = URLSafeTimedSerializer(key, salt=GROUP_SALT if group else SALT, signer=_SignedAt,
                                 signer_kwargs={"at": int(created_at.timestamp())})
    return str(ser.dumps({"g" if group else "l": link_id}))


def action_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/a/{token}"


def group_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/a/g/{token}"


def invalid() -> Forbidden:
    return Forbidden("操作链接无效", "invalid action link", code="link_invalid")


def expired() -> Forbidden:
    return Forbidden("操作链接已过期", "action link expired", code="link_expired")


@dataclass(frozen=True)
class Verified:
    link_id: str


def verify(key: str, token: str, *, max_age_seconds: int, s: URLSafeTimedSerializer | None = None,
           group: bool = False) -> Verified:
    """The link id of a genuine, unexpired token (a group token with ``group``); Forbidden
    link_invalid / link_expired otherwise."""
    token = token.strip()
    if not token or len(token) > MAX_TOKEN:
        raise invalid()
    ser = s or serializer(key, group=group)
    try:
        data = ser.loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise expired() from None
    except BadSignature:
        raise invalid() from None
    link_id = data.get("g" if group else "l") if isinstance(data, dict) else None
    if not isinstance(link_id, str) or not link_id:
        raise invalid()
    return Verified(link_id=link_id)
