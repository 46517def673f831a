"""Invite and password-reset links: issuing one in the registry, its URL, and the e-mail that
carries it (notify's e-mail channel, as an account e-mail: to the user's address only, never a
group robot, whatever their notification preferences)."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import structlog
from google.protobuf import struct_pb2

from baobei.core.errors import DomainError
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import accounts_service_pb2 as accounts_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import auth, mapping
from edge.clients import Clients

log = structlog.get_logger(__name__)
SETUP_PATH = "/auth/password/setup"
CHINA = timezone(timedelta(hours=8))
_MAIL = {
    "invite": ("account_invite", "请设置您的报备系统密码"),
    "reset": ("password_reset", "重置您的报备系统密码"),
}


def setup_url(clients: Clients, token: str) -> str:
    return f"{clients.settings.public_base_url()}{SETUP_PATH}?{urlencode({'token': token})}"


async def issue(clients: Clients, *, purpose: str, actor_id: str, user_id: str = "",
                login: str = "") -> accounts_pb2.IssueSetupLinkResponse:
    req = accounts_pb2.IssueSetupLinkRequest(request_id=uuid.uuid4().hex, purpose=purpose, user_id=user_id,
                                             login=login, actor_id=actor_id)
    req.now.FromDatetime(auth.now())
    resp: accounts_pb2.IssueSetupLinkResponse = await clients.accounts.IssueSetupLink(req)
    return resp


async def send_mail(clients: Clients, user: registry_pb2.User, purpose: str, url: str,
                    expires_at: Any) -> bool:
    """E-mail the link to the user (False when they have no address or notify refused)."""
    if not user.email:
        return False
    kind, title = _MAIL[purpose]
    due = ""
    if mapping.ts(expires_at):
        due = expires_at.ToDatetime(tzinfo=UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M（北京时间）")
    context = struct_pb2.Struct()
    context.update({"setup_url": url, "recipient_name": user.name, "due": due})
    try:
        # Only the e-mail carries the link (the in-app copy has none).
        await clients.notify.Send(notify_pb2.SendRequest(
            request_id=uuid.uuid4().hex, recipient_ids=[user.id], kind=kind, title=title,
            body=f"链接仅可使用一次{'，' + due + '前有效' if due else ''}。如非本人操作，请忽略并联系管理员。",
            context=context, account_email=True))
    except DomainError as err:
        log.warning("setup_link.mail_failed", user_id=user.id, code=err.code)
        return False
    return True
