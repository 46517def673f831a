"""Sign-ins under way: between sending the browser to a provider and its coming back, the login
is kept server-side in Redis under the ``state`` it carries (10 minutes, used once), holding what
must never travel through the browser (the PKCE verifier, the nonce) and where to land after.

The pending login is also bound to the browser that started it: a random value in a short-lived
HttpOnly cookie (path ``/auth/sso/``, SameSite=Lax so the provider's redirect back brings it),
whose hash is kept with the login. A state that leaks (a shared link, a log) is then worthless in
another browser, and a victim cannot be made to finish an attacker's sign-in (login CSRF). One
cookie value serves every sign-in a browser starts, so two tabs do not undo each other."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from edge import sessions

TTL_SECONDS = 600
COOKIE = "bb_sso"
COOKIE_PATH = "/auth/sso/"
_PREFIX = "baobei:edge:sso:pending:"


@dataclass
class PendingLogin:
    provider: str
    verifier: str  # PKCE code_verifier (RFC 7636)
    nonce: str
    next: str
    redirect_uri: str
    binding: str  # SHA-256 of the browser's bb_sso cookie


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _key(state: str) -> str:
    return _PREFIX + _digest(state)


def browser_binding(request: Request) -> str:
    """The browser's binding value: the one it already has, else a new one."""
    current = request.cookies.get(COOKIE, "")
    return current if 32 <= len(current) <= 64 and current.isascii() else secrets.token_urlsafe(32)


def bind_browser(response: Response, request: Request, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=TTL_SECONDS, path=COOKIE_PATH, httponly=True,
                        secure=sessions.cookie_secure(request.app.state.settings, request), samesite="lax")


async def begin(redis: Redis, *, provider: str, next_path: str, redirect_uri: str,
                binding: str) -> tuple[str, PendingLogin]:
    """A new pending login; returns its state (the only handle the browser carries)."""
    state = secrets.token_urlsafe(32)
    login = PendingLogin(provider=provider, verifier=secrets.token_urlsafe(48), nonce=secrets.token_urlsafe(24),
                         next=next_path, redirect_uri=redirect_uri, binding=_digest(binding))
    await redis.set(_key(state), json.dumps(asdict(login)), ex=TTL_SECONDS)
    return state, login


async def take(redis: Redis, request: Request, *, state: str, provider: str) -> PendingLogin | str:
    """The pending login of ``state``, removed so it works once; else why not: ``unknown`` (never
    issued, expired or already used), ``provider`` (started for another provider) or ``browser``
    (started in another browser). A refused state is left in place: only its own browser can use
    (and so spend) it."""
    if not state or len(state) > 128:
        return "unknown"
    raw = await redis.get(_key(state))
    if not raw:
        return "unknown"
    login = PendingLogin(**json.loads(raw))
    if login.provider != provider:
        return "provider"
    if not hmac.compare_digest(_digest(request.cookies.get(COOKIE, "")), login.binding):
        return "browser"
    # Whoever deletes it first owns it: a replayed or concurrent callback finds nothing.
    if not await redis.delete(_key(state)):
        return "unknown"
    return login
