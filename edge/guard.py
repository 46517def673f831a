"""The request guard: a pure ASGI middleware that runs before any route reads a body.

1. ``/api/v1/...``: the bearer token is checked first (401 without reading a byte of the body, so
   an anonymous caller never gets validation details); a client IP with too many failed
   authentications is refused (429) before the registry is asked again (tokens it validated in the
   last minute still pass); each token has a request rate. The principal is left on
   ``request.state`` for the routes (``edge.deps.principal_of``).
2. Per-route rate limits per user: decisions, exports (rendered reports and charts included),
   uploads and imports; action links (``/a/<token>``, which carry their own credential) per
   client IP.
3. Body caps per route (JSON / uploads / imports, ``BAOBEI_MAX_*_BODY_BYTES``): a declared
   ``Content-Length`` over the cap is refused at once; a body without one (chunked) is counted
   while it streams in and refused as soon as it passes the cap — never buffered whole.

Every refusal is the contract's error shape (413 ``payload_too_large``, 429 ``rate_limited`` with
``Retry-After``)."""

from __future__ import annotations

import contextlib
import hmac
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baobei.core.errors import DomainError, Unauthenticated
from baobei.core.settings import Settings
from edge import ratelimit
from edge.client_address import client_ip
from edge.errors import PayloadTooLarge, RateLimited, ServiceUnavailable, domain_response

API_PREFIX = "/api/v1/"
LINK_PREFIX = "/a/"
_DECISION = re.compile(r"^/api/v1/approval-tasks/[^/]+/decision/?$")
# Bodies that are whole directories: the import cap, not the JSON one.
_IMPORT_PATHS = re.compile(r"^/api/v1/(imports/.*|org/?|integrations/org/.*)$")
_RENDERED = {"csv", "xlsx", "svg", "pdf", "png"}
_TEMPLATE = "/api/v1/imports/projects/template"
_PRINTED = re.compile(r"^/api/v1/projects/[^/]+/approval/form\.pdf$")  # printed documents


@dataclass(frozen=True)
class Classified:
    cap: int
    limits: tuple[str, ...]  # per-user limit names that apply (settings rate_limit_<name>)


def classify(settings: Settings, method: str, path: str, headers: dict[str, str], query: str) -> Classified:
    """The body cap and per-user limits of one request, from its method, path and content type."""
    multipart = headers.get("content-type", "").lower().startswith("multipart/")
    imports = bool(_IMPORT_PATHS.match(path))
    if imports:
        cap = settings.max_import_body_bytes
    elif multipart:
        cap = settings.max_upload_body_bytes
    else:
        cap = settings.max_json_body_bytes
    limits: list[str] = []
    if method == "POST" and _DECISION.match(path):
        limits.append("decisions")
    reading = method in ("GET", "HEAD")
    # Polling a background import (GET /api/v1/imports/{id}) is no upload.
    if multipart or (path.startswith("/api/v1/imports/") and not reading):
        limits.append("uploads")
    # The import template is a rendered file too (an export of the form's columns).
    if reading and (
        path.startswith("/api/v1/exports/") or path.rstrip("/") == _TEMPLATE or _PRINTED.match(path)
        or _rendered(parse_qs(query).get("format", []))
    ):
        limits.append("exports")
    return Classified(cap=cap, limits=tuple(limits))


def _rendered(formats: list[str]) -> bool:
    return any(f.strip().lower() in _RENDERED for f in formats)


def _limit(settings: Settings, name: str) -> ratelimit.Limit:
    return ratelimit.Limit(name, int(getattr(settings, f"rate_limit_{name}")), settings.rate_limit_window_seconds)


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app_state = scope["app"].state
        settings: Settings = app_state.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path: str = scope["path"]
        info = classify(settings, scope["method"], path, headers, scope.get("query_string", b"").decode("latin-1"))
        try:
            if path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/"):
                user_id, credential = await self._authenticate(scope, app_state, settings, headers)
                # The credential's request rate, then the route's per-user limits: one round trip.
                limits = [(_limit(settings, name), user_id) for name in info.limits]
                await ratelimit.check_all(app_state.deps.redis, [(_limit(settings, "token"), credential), *limits])
            elif path.startswith(LINK_PREFIX) and app_state.deps is not None:
                await ratelimit.check(app_state.deps.redis, _limit(settings, "action_links"), client_ip(scope))
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > info.cap:
                raise PayloadTooLarge(info.cap)
        except DomainError as err:
            await _answer(err, scope, receive, send)
            return
        await self._run_capped(scope, receive, send, info.cap)

    async def _authenticate(
        self, scope: Scope, app_state: Any, settings: Settings, headers: dict[str, str]
    ) -> tuple[str, str]:
        """The caller's user id and credential (the bearer token, or ``session:<id>``), whose
        rate limits the caller checks."""
        from edge.auth import EPOCH_KEY, bearer_token
        from edge.clients import Clients
        from edge.deps import principal_of

        deps = app_state.deps
        if deps is None:
            raise ServiceUnavailable()
        state = scope.setdefault("state", {})
        presented = bool(headers.get("authorization", "").strip())
        ip = client_ip(scope)
        failures = _limit(settings, "auth_failures")
        prefetched: dict[str, tuple[Any, Any]] | None = None
        if presented:
            # An address over its failures is refused before the registry is asked again, except
            # for tokens known good (the admin token, or one validated within the auth cache's
            # minute): colleagues behind the same NAT keep working while a script guesses. The
            # token's auth cache entry is read in the same round trip.
            cache_key = _bearer_cache_key(headers.get("authorization", ""))
            try:
                if cache_key:
                    values = await ratelimit.check_and_read(deps.redis, failures, ip, [cache_key, EPOCH_KEY],
                                                            consume=False)
                    if values is not None:
                        prefetched = {cache_key: (values[0], values[1])}
                else:
                    await ratelimit.check(deps.redis, failures, ip, consume=False)
            except RateLimited:
                if not await _known_good(deps, settings, headers.get("authorization", "")):
                    raise
        request_id = state.get("request_id") or uuid.uuid4().hex
        clients = Clients(deps=deps, locale=state.get("locale", "zh"), request_id=request_id, prefetched=prefetched)
        try:
            principal = await principal_of(Request(scope), clients)
        except Unauthenticated:
            if presented:
                with contextlib.suppress(RateLimited):  # counted; this answer stays a 401
                    await ratelimit.check(deps.redis, failures, ip)
            raise
        # Per credential: the bearer token, or the browser session.
        credential = (bearer_token(headers.get("authorization")) if not principal.session_id
                      else "session:" + principal.session_id)
        return str(principal.id), credential

    async def _run_capped(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        received = 0
        overflow = False
        replaced = False
        started = False

        async def capped_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    overflow = True
                    raise PayloadTooLarge(cap)
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the route made of the interrupted body (its parser wraps the error in a
            # 400/422), the answer is the 413.
            nonlocal replaced, started
            if overflow and not started:
                if not replaced:
                    replaced = True
                    await _answer(PayloadTooLarge(cap), scope, _empty_receive, send)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, guarded_send)
        except PayloadTooLarge as err:
            if not started and not replaced:
                await _answer(err, scope, _empty_receive, send)


def _bearer_cache_key(authorization: str) -> str:
    """The auth cache key of the request's bearer token ("" when it carries none)."""
    from edge.auth import _cache_key, bearer_token

    try:
        return _cache_key(bearer_token(authorization))
    except Unauthenticated:
        return ""


async def _known_good(deps: Any, settings: Settings, authorization: str) -> bool:
    from edge.auth import _cache_key, bearer_token

    try:
        token = bearer_token(authorization)
    except Unauthenticated:
        return False
    if settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return True
    try:
        return bool(await deps.redis.exists(_cache_key(token)))
    except RedisError:
        return False


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _answer(err: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    locale = scope.get("state", {}).get("locale", "zh")
    await domain_response(err, locale)(scope, receive, send)
