"""The browser binding of a redirect sign-in under way (OIDC, DingTalk, WeCom, Feishu): a random
value in a short-lived HttpOnly cookie (path ``/auth/sso/``, SameSite=Lax so the provider's
redirect back brings it) whose SHA-256 is kept with the pending sign-in. A ``state`` that leaks
(a shared link, a log) is then worthless in another browser, and a victim cannot be made to
finish an attacker's sign-in (login CSRF). One value serves every sign-in a browser starts,
whatever the provider type, so two tabs do not undo each other."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

from edge import sessions

COOKIE = "bb_sso"
COOKIE_PATH = "/auth/sso/"
TTL_SECONDS = 600
_VALUE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def browser_value(request: Request) -> str:
    """The browser's binding value: the one it already has, else a new one."""
    current = request.cookies.get(COOKIE, "")
    return current if _VALUE.match(current) else secrets.token_urlsafe(32)


def bind(response: Response, request: Request, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=TTL_SECONDS, path=COOKIE_PATH, httponly=True,
                        secure=sessions.cookie_secure(request.app.state.settings, request), samesite="lax")


def matches(request: Request, stored_digest: str) -> bool:
    """Whether this browser is the one whose binding ``stored_digest`` was kept."""
    value = request.cookies.get(COOKIE, "")
    return bool(value) and hmac.compare_digest(digest(value), stored_digest)


def forget(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True,
                           secure=sessions.cookie_secure(request.app.state.settings, request), samesite="lax")
