"""OIDC sign-ins under way: between sending the browser to a provider and its coming back, the
login is kept server-side in Redis under the ``state`` it carries (10 minutes, used once), holding
what must never travel through the browser (the PKCE verifier, the nonce) and where to land after.
It is bound to the browser that started it (``edge.sso.binding``)."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

from redis.asyncio import Redis
from starlette.requests import Request

from edge.sso import binding as browser
from edge.sso.binding import TTL_SECONDS
from edge.sso.binding import digest as _digest

_PREFIX = "baobei:edge:sso:pending:"


@dataclass
class PendingLogin:
    provider: str
    verifier: str  # PKCE code_verifier (RFC 7636)
    nonce: str
    next: str
    redirect_uri: str
    binding: str  # SHA-256 of the browser's binding value


def _key(state: str) -> str:
    return _PREFIX + _digest(state)


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
    if not browser.matches(request, login.binding):
        return "browser"
    # Whoever deletes it first owns it: a replayed or concurrent callback finds nothing.
    if not await redis.delete(_key(state)):
        return "unknown"
    return login
