"""Who is signed in on an action link page, from the browser session cookie only.

Link pages are opened by browsers (often an IM client's), so only the ``bb_session`` cookie
counts here; an ``Authorization`` header is ignored. A personal link refuses a signed-in user who
is not its approver; a group link needs a signed-in approver (see edge/routes/group_links.py)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request

from baobei.core.errors import Unauthenticated
from edge import audit, sessions
from edge.auth import Principal, session_principal
from edge.client_address import client_ip
from edge.clients import Clients

# The form field a group link page carries the session's CSRF token in (X-CSRF-Token works too).
CSRF_FIELD = "csrf_token"
SIGNIN_PATH = "/signin"


@dataclass(frozen=True)
class SignedIn:
    record: sessions.SessionRecord
    user: Principal


async def signed_in(request: Request, clients: Clients) -> SignedIn | None:
    """The live session of the request's cookie and its user; None without a cookie, for a dead
    session or a user who left. Raises RedisError when sessions cannot be read."""
    sid = request.cookies.get(sessions.COOKIE, "")
    if not sid:
        return None
    record = await sessions.SessionStore(clients.redis, clients.settings).load(sid)
    if record is None:
        return None
    try:
        user = await session_principal(record.user_id, record.id, record.method, clients)
    except Unauthenticated:
        return None
    return SignedIn(record=record, user=user)


def signin_url(clients: Clients, path: str) -> str:
    """The sign-in page, coming back to ``path`` (a path on this site) afterwards."""
    return f"{clients.settings.public_base_url()}{SIGNIN_PATH}?next={quote(path, safe='')}"


async def refused(request: Request, clients: Clients, *, who: str, reason: str, kind: str, link_id: str,
                  task_id: str) -> None:
    """Audit a link page refusing a signed-in user (never the token)."""
    await audit.record(clients, "action_link.refused", actor_id=who, outcome="failure", target_type="approval_task",
                       target_id=task_id, details={"reason": reason, "link": kind, "link_id": link_id},
                       ip=client_ip(request.scope))
