"""Finishing a sign-in, whatever the method: the user is checked, any session the browser brought
is ended (no session fixation), a new session is opened, its cookies are set and the event is
audited. Every sign-in flow (password, OIDC, LDAP, DingTalk, WeCom, Feishu) ends here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from baobei.core.errors import Forbidden
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, sessions
from edge.client_address import client_ip
from edge.clients import Clients


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site (``/x?y#z``): never another host, scheme or ``//host``."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


def user_out(user: registry_pb2.User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "department_id": user.department_id or None,
            "roles": list(user.roles), "is_admin": "admin" in user.roles}


async def open_session(
    request: Request, response: Response, clients: Clients, user: registry_pb2.User, *, method: str,
    provider: str = "", restriction: str = "",
) -> dict[str, Any]:
    """Sign ``user`` in on this browser; the body a sign-in endpoint answers with."""
    if user.left:
        raise Forbidden("账号已停用", "the account is disabled", code="user_left")
    store = sessions.store_of(request)
    # Whatever session id the browser brought (planted or stale) is ended, never reused.
    await store.end(request.cookies.get(sessions.COOKIE, ""))
    sid, record = await store.create(user_id=user.id, method=method, provider=provider, ip=client_ip(request.scope),
                                     user_agent=request.headers.get("user-agent", ""), restriction=restriction)
    sessions.set_cookies(response, request, clients.settings, sid, record)
    await audit.record(clients, "sign_in", actor_id=user.id, target_type="user", target_id=user.id,
                       details={"method": method, "provider": provider, "session": record.id},
                       ip=client_ip(request.scope))
    return {"user": user_out(user), "csrf_token": record.csrf, "session": record.public(clients.settings, current=True)}


async def sign_in_failed(request: Request, clients: Clients, *, method: str, reason: str, login: str = "",
                         provider: str = "", user_id: str = "") -> None:
    """Audit a refused sign-in (never the password)."""
    await audit.record(clients, "sign_in", actor_id=user_id or "anonymous", outcome="failure", target_type="user",
                       target_id=user_id, details={"method": method, "provider": provider, "reason": reason,
                                                   "login": login[:100]}, ip=client_ip(request.scope))
