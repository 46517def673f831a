"""The ``state`` of a redirect sign-in (OIDC, DingTalk, WeCom, Feishu): single use, 10 minutes,
bound to the browser that started it, carrying where the user goes afterwards.

Redis keeps ``state → {provider, next, binding digest, extra}``; the browser is bound by
``edge.sso.binding``. The callback must bring both the state (in the URL) and the binding cookie
(so a state planted in someone else's browser, or a callback URL sent to a victim,
does not sign them in: login CSRF), and the state is deleted as it is read (a replayed callback
is refused). States are letters and digits only (WeCom allows nothing else in ``state``)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from baobei.core.errors import Forbidden
from edge import sessions
from edge.sso import binding as browser

_PREFIX = "baobei:edge:sso:state:"


@dataclass(frozen=True)
class SsoState:
    provider: str
    next: str
    extra: dict[str, Any] = field(default_factory=dict)


def invalid_state() -> Forbidden:
    return Forbidden("登录请求已失效或不是从本浏览器发起的，请重新登录",
                     "the sign-in request expired or was not started in this browser; sign in again",
                     code="sso_state_invalid")


async def issue(request: Request, response: Response, *, provider: str, next_path: str,
                extra: dict[str, Any] | None = None) -> str:
    """A new state for ``provider``; sets (or reuses) the browser's binding cookie on ``response``."""
    binding = browser.browser_value(request)
    state = secrets.token_hex(20)
    record = {"provider": provider, "next": next_path, "binding": browser.digest(binding), "extra": extra or {}}
    redis = sessions.store_of(request).redis
    await redis.set(_PREFIX + browser.digest(state), json.dumps(record), ex=browser.TTL_SECONDS)
    browser.bind(response, request, binding)
    return state


async def consume(request: Request, *, provider: str, state: str) -> SsoState:
    """The state's record, deleted as it is read; 403 ``sso_state_invalid`` when it is unknown,
    used, expired, of another provider or not bound to this browser's cookie."""
    if not state or len(state) > 128 or not state.isalnum():
        raise invalid_state()
    redis = sessions.store_of(request).redis
    raw = await redis.getdel(_PREFIX + browser.digest(state))
    if not raw:
        raise invalid_state()
    record = json.loads(raw)
    if record.get("provider") != provider or not browser.matches(request, str(record.get("binding", ""))):
        raise invalid_state()
    return SsoState(provider=provider, next=str(record.get("next") or "/"), extra=dict(record.get("extra") or {}))
