"""``Idempotency-Key`` for POST requests, kept in Redis for 24 h.

The record is keyed by principal + method + path + key and holds a fingerprint of the body. The
first request takes the key with ``SET NX`` (a short "pending" lease), runs, and stores its
status and body; a concurrent repeat waits for that result; a later repeat gets it replayed
(header ``Idempotent-Replayed: true``); the same key with a different body is a 422. Server
errors (5xx) are not stored, so a retry after one runs again.

Answers that carry a secret (a new access token: routes marked ``@secret_response("token")``)
are stored without it: a replay cannot give the secret back, so it is a 409 ``idempotent_secret``
naming what the first request created (the token's id), and nothing is issued twice.

It is wired in as the API router's ``route_class``: it wraps the route handler, so the request's
body is read once and the same ``Request`` (with the principal cached on ``request.state``)
reaches the route. The wrapper also parses JSON bodies with ``parse_float=Decimal`` so money is
never a float."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import structlog
from fastapi import Request, Response
from fastapi.routing import APIRoute
from redis.exceptions import RedisError

from baobei.core.errors import Conflict, FieldViolation, ValidationFailed
from edge import json_body
from edge.deps import get_clients, principal_of
from edge.errors import ServiceUnavailable

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
TTL_SECONDS = 24 * 3600
LEASE_SECONDS = 120
WAIT_SECONDS = 60.0
POLL_SECONDS = 0.05
MAX_KEY_LENGTH = 200
SECRET_FIELDS_ATTR = "__baobei_secret_fields__"
F = TypeVar("F", bound=Callable[..., Any])


def secret_response(*fields: str) -> Callable[[F], F]:
    """Mark a route whose JSON answer holds secrets in ``fields``: never kept for replays."""

    def mark(fn: F) -> F:
        setattr(fn, SECRET_FIELDS_ATTR, tuple(fields))
        return fn

    return mark


def _parse_json(request: Request, body: bytes) -> Any:
    """Pre-parse a JSON body safely (``edge.json_body``: ``Decimal`` numbers, refused depths and
    out-of-range numbers) and leave it where Starlette caches ``request.json()``, so FastAPI uses
    it. Text that is not JSON is left for FastAPI's own ``json_invalid`` 422."""
    content_type = request.headers.get("content-type", "")
    if not body or ("json" not in content_type and content_type):
        return None
    try:
        parsed = json_body.parse(body)
    except ValueError:
        return None
    request._json = parsed
    return parsed


def fingerprint(parsed: Any, body: bytes) -> str:
    canonical = body if parsed is None else json.dumps(parsed, sort_keys=True, default=str).encode()
    return hashlib.sha256(canonical).hexdigest()


class IdempotentRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        secret = tuple(getattr(self.endpoint, SECRET_FIELDS_ATTR, ()))

        async def route(request: Request) -> Response:
            body = await request.body()
            parsed = _parse_json(request, body)
            key = request.headers.get(HEADER, "").strip()
            if request.method != "POST" or not key:
                return await handler(request)
            return await _idempotent(request, handler, key, fingerprint(parsed, body), secret)

        return route


async def _idempotent(
    request: Request,
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
    key: str,
    fp: str,
    secret: tuple[str, ...] = (),
) -> Response:
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            [
                FieldViolation(
                    HEADER, f"不能超过 {MAX_KEY_LENGTH} 个字符", f"must have at most {MAX_KEY_LENGTH} characters"
                )
            ]
        )
    clients = get_clients(request)
    principal = await principal_of(request, clients)
    redis = clients.redis
    digest = hashlib.sha256(key.encode()).hexdigest()
    record_key = f"baobei:edge:idem:{principal.id}:{request.method}:{request.url.path}:{digest}"
    request.state.idempotency_key = key
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while True:
            taken = await redis.set(record_key, json.dumps({"state": "pending", "fp": fp}), nx=True, ex=LEASE_SECONDS)
            if taken:
                return await _run_and_store(request, handler, redis, record_key, fp, secret)
            raw = await redis.get(record_key)
            if raw is None:
                continue  # the first request failed and released the key: take it
            record = json.loads(raw)
            if record.get("fp") != fp:
                raise ValidationFailed(
                    [
                        FieldViolation(
                            HEADER,
                            "该幂等键已用于内容不同的请求",
                            "this idempotency key was used with a different request body",
                        )
                    ],
                    zh="幂等键冲突",
                    en="idempotency key reused",
                )
            if record.get("state") == "done" and record.get("secret"):
                raise _secret_not_replayable(record)
            if record.get("state") == "done":
                log.info("idempotency.replay", key=key)
                return Response(
                    content=record["body"].encode(),
                    status_code=int(record["status"]),
                    media_type=record.get("media_type") or "application/json",
                    headers={"Idempotent-Replayed": "true"},
                )
            if time.monotonic() > deadline:
                raise Conflict(
                    "相同幂等键的请求仍在处理中",
                    "a request with this idempotency key is still in progress",
                    code="idempotency_in_progress",
                )
            await asyncio.sleep(POLL_SECONDS)
    except RedisError as err:
        raise ServiceUnavailable() from err


async def _run_and_store(
    request: Request,
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
    redis: Any,
    record_key: str,
    fp: str,
    secret: tuple[str, ...] = (),
) -> Response:
    try:
        response = await handler(request)
    except BaseException:
        # Errors turned into responses by the exception handlers (4xx) are not replayed; the key
        # is released so the client can retry with the same key.
        await _release(redis, record_key)
        raise
    if response.status_code >= 500 or not hasattr(response, "body"):
        await _release(redis, record_key)
        return response
    record: dict[str, Any] = {
        "state": "done",
        "fp": fp,
        "status": response.status_code,
        "body": bytes(response.body).decode(),
        "media_type": response.media_type,
    }
    if secret:
        record["body"] = _without(record["body"], secret)
        record["secret"] = True
    await redis.set(record_key, json.dumps(record, ensure_ascii=False), ex=TTL_SECONDS)
    return response


def _without(body: str, secret: tuple[str, ...]) -> str:
    """The JSON answer without its secret fields (nothing at all if it is not a JSON object)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return json.dumps({k: v for k, v in data.items() if k not in secret}, ensure_ascii=False)


def _secret_not_replayable(record: dict[str, Any]) -> Conflict:
    try:
        created = str(json.loads(record.get("body") or "{}").get("id") or "")
    except (ValueError, AttributeError):
        created = ""
    what_zh = f"（已签发令牌 {created}）" if created else ""
    what_en = f" (token {created} was issued)" if created else ""
    return Conflict(
        f"该幂等键的请求已执行{what_zh}；其中的密钥只显示一次、不予保存，无法重放。"
        "如需新令牌，请换一个幂等键重新请求（并可撤销前一个）",
        f"a request with this idempotency key already ran{what_en}; its secret is shown once and not kept, "
        "so it cannot be replayed. Use a new key for a new token (and revoke the previous one)",
        code="idempotent_secret",
    )


async def _release(redis: Any, record_key: str) -> None:
    try:
        await redis.delete(record_key)
    except RedisError:
        log.warning("idempotency.release_failed", key=record_key)
