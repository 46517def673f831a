"""The edge's per-request path without the stack (the app over ASGI, the real Redis, stand-in
gRPC stubs): the auth cache entry is read with the auth-failure peek in one Redis round trip, and
the answers keep their request id, security headers, error shapes and metrics labels on success,
refusal, error and unmatched paths."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection

from baobei.core.errors import Unauthenticated
from baobei.core.settings import Settings
from bench.edge_overhead import FakeApproval
from edge import ratelimit
from edge.app import create_app
from edge.clients import EdgeDeps
from edge.errors import RateLimited
from edge.metrics import RATE_LIMITED, REQUESTS
from edge.security_headers import API_CSP, STATIC


class FakeRegistry:
    async def Authenticate(self, request: Any, **_: Any) -> Any:  # noqa: N802
        raise Unauthenticated()


class Edge:
    def __init__(self, app: Any, redis: aioredis.Redis, token: str, user: str) -> None:
        self.app, self.redis, self.token, self.user = app, redis, token, user

    def client(self, token: str | None = None, ip: str = "") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.ASGITransport(app=self.app, client=(ip or f"2001:db8::{uuid.uuid4().hex[:4]}", 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://edge.test", headers=headers)


@pytest_asyncio.fixture(loop_scope="session")
async def edge(redis_url: str) -> AsyncIterator[Edge]:
    settings = Settings(admin_token="adm-" + uuid.uuid4().hex, redis_url=redis_url, base_url="http://edge.test",
                        rate_limit_auth_failures=3,
                        **{f"{svc}_addr": "127.0.0.1:9"
                           for svc in ("registry", "approval", "tasks", "reporting", "notify")})
    redis = aioredis.from_url(redis_url, decode_responses=True)
    deps = await EdgeDeps.connect(settings, redis_client=redis)
    deps.stubs["approval"] = FakeApproval()
    deps.stubs["registry"] = FakeRegistry()
    token, user = "hot-" + uuid.uuid4().hex, "hot-user-" + uuid.uuid4().hex[:8]
    epoch = await redis.get("baobei:edge:auth:directory-epoch") or "0"
    entry = {"id": user, "roles": ["manager"], "name": "经理", "department_id": "d", "token_id": "t",
             "scopes": None, "expires_at": 0.0, "epoch": epoch}
    await redis.set("baobei:edge:auth:" + hashlib.sha256(token.encode()).hexdigest(), json.dumps(entry), ex=600)
    try:
        yield Edge(create_app(settings, deps=deps), redis, token, user)
    finally:
        await deps.close()


def _count(method: str, route: str, status: int) -> float:
    return REQUESTS.labels(method, route, str(status))._value.get()


def _assert_common(r: httpx.Response) -> None:
    for name, value in STATIC.items():
        assert r.headers[name] == value
    assert r.headers["Content-Security-Policy"] == API_CSP
    assert r.headers["X-Request-ID"]


@pytest.mark.asyncio(loop_scope="session")
async def test_answers_keep_headers_shapes_and_metric_labels(edge: Edge) -> None:
    cases = [
        ("GET", "/api/v1/me/todos", edge.token, None, 200, "/api/v1/me/todos", None),
        ("GET", "/api/v1/me/todos", None, None, 401, "<refused>", "unauthenticated"),
        ("POST", "/api/v1/approval-tasks/t-1/decision", edge.token, {"action": "approve"}, 409,
         "/api/v1/approval-tasks/{task_id}/decision", "already_decided"),
        ("POST", "/api/v1/approval-tasks/t-1/decision", edge.token, {"action": 7}, 422,
         "/api/v1/approval-tasks/{task_id}/decision", "validation_failed"),
        ("GET", "/api/v1/approval-tasks/t-1/decision", edge.token, None, 405,
         "/api/v1/approval-tasks/{task_id}/decision", "method_not_allowed"),
        ("GET", "/api/v1/no-such-thing", edge.token, None, 404, "<unmatched>", "not_found"),
    ]
    for method, path, token, body, status, route, code in cases:
        before = _count(method, route, status)
        async with edge.client(token) as client:
            r = await client.request(method, path, json=body, headers={"X-Request-ID": "req-" + method})
        assert r.status_code == status, (path, r.text)
        _assert_common(r)
        assert r.headers["X-Request-ID"] == "req-" + method
        if code:
            assert r.json()["error"]["code"] == code
        else:
            assert r.json() == {"items": []}
        assert _count(method, route, status) == before + 1, (method, path, route)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/me/todos", 200),
    ("POST", "/api/v1/approval-tasks/t-1/decision", 409),  # with the per-user decisions limit
])
@pytest.mark.asyncio(loop_scope="session")
async def test_a_cached_token_costs_two_round_trips(
    edge: Edge, monkeypatch: pytest.MonkeyPatch, method: str, path: str, status: int
) -> None:
    """The failure peek and the cache entry in one pipeline, then the token's and the route's
    limits in one script."""
    sent: list[int] = []
    original = Connection.send_packed_command

    async def counting(self: Connection, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        await original(self, command, check_health)

    async with edge.client(edge.token) as client:
        await client.request(method, path, json={"action": "approve"})  # connections warm
        monkeypatch.setattr(Connection, "send_packed_command", counting)
        r = await client.request(method, path, json={"action": "approve"})
    assert r.status_code == status
    assert len(sent) == 2


@pytest.mark.asyncio(loop_scope="session")
async def test_failed_tokens_still_count_and_refuse_the_address(edge: Edge) -> None:
    ip = f"2001:db8:1::{uuid.uuid4().hex[:4]}"
    async with edge.client("wrong-" + uuid.uuid4().hex, ip=ip) as bad:
        for _ in range(3):
            assert (await bad.get("/api/v1/me/todos")).json()["error"]["code"] == "unauthenticated"
        refused = await bad.get("/api/v1/me/todos")
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    async with edge.client(edge.token, ip=ip) as good:  # a token validated within the minute passes
        assert (await good.get("/api/v1/me/todos")).status_code == 200


@pytest.mark.asyncio(loop_scope="session")
async def test_check_and_read(edge: Edge) -> None:
    key, subject = "hot:" + uuid.uuid4().hex, uuid.uuid4().hex
    await edge.redis.set(key, "v", ex=60)
    limit = ratelimit.Limit("hot_test", 2, 60)
    peeked = await ratelimit.check_and_read(edge.redis, limit, subject, [key, key + ":none"], consume=False)
    assert peeked == ["v", None]
    for _ in range(2):
        assert await ratelimit.check_and_read(edge.redis, limit, subject, [key]) == ["v"]
    with pytest.raises(RateLimited):
        await ratelimit.check_and_read(edge.redis, limit, subject, [key], consume=False)
    off = ratelimit.Limit("hot_test", 0, 60)
    assert await ratelimit.check_and_read(edge.redis, off, subject, [key]) == ["v"]
    down = aioredis.from_url("redis://127.0.0.1:1/0", decode_responses=True)
    try:  # Redis down: the limiter lets the request through and the read is a miss
        assert await ratelimit.check_and_read(down, limit, subject, [key]) is None
    finally:
        await down.aclose()


@pytest.mark.asyncio(loop_scope="session")
async def test_check_all_is_consecutive_checks(edge: Edge) -> None:
    """In order, each counted when it passes; the first refusal raises and the later ones are not
    counted; limits that are off are skipped; Redis down lets the request through."""
    a, b = ratelimit.Limit("hot_a", 2, 60), ratelimit.Limit("hot_b", 1, 60)
    off = ratelimit.Limit("hot_off", 0, 60)
    sa, sb = uuid.uuid4().hex, uuid.uuid4().hex
    await ratelimit.check_all(edge.redis, [(a, sa), (off, sa), (b, sb)])  # a: 1 of 2, b: 1 of 1
    with pytest.raises(RateLimited):
        await ratelimit.check_all(edge.redis, [(a, sa), (b, sb)])  # a: 2 of 2, b refused
    with pytest.raises(RateLimited):
        await ratelimit.check(edge.redis, a, sa, consume=False)  # a was counted before b refused
    fresh = uuid.uuid4().hex
    with pytest.raises(RateLimited):
        await ratelimit.check_all(edge.redis, [(b, sb), (a, fresh)])  # b refused first …
    await ratelimit.check(edge.redis, a, fresh)  # … so a's fresh bucket was not counted: 2 pass
    await ratelimit.check(edge.redis, a, fresh)
    refused_before = RATE_LIMITED.labels("hot_b")._value.get()
    with pytest.raises(RateLimited) as err:
        await ratelimit.check_all(edge.redis, [(off, sa), (b, sb), (a, sa)])
    assert err.value.retry_after >= 1
    assert RATE_LIMITED.labels("hot_b")._value.get() == refused_before + 1
    down = aioredis.from_url("redis://127.0.0.1:1/0", decode_responses=True)
    try:
        await ratelimit.check_all(down, [(a, sa), (b, sb)])
    finally:
        await down.aclose()
