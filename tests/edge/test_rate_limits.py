"""Issue 12 item 7: rate limits kept in Redis — per access token, failed authentications per
client IP, action link use per client IP, decisions, exports and uploads per user — answer 429
in the contract's error shape with ``Retry-After``. The limits here are set low on an app of
their own (the shared stack keeps the generous defaults) with an hour's window, so that nothing
depends on the clock; each test uses its own users and client address."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from prometheus_client import REGISTRY

from edge.app import create_app
from tests.edge.conftest import Org, Stack

HOUR = 3600


@pytest_asyncio.fixture(loop_scope="session")
async def limited(stack: Stack) -> AsyncIterator[Any]:
    settings = stack.settings.model_copy(
        update={
            "rate_limit_window_seconds": HOUR,
            "rate_limit_token": 6,
            "rate_limit_auth_failures": 2,
            "rate_limit_action_links": 2,
            "rate_limit_decisions": 2,
            "rate_limit_exports": 2,
            "rate_limit_uploads": 2,
        }
    )
    app = create_app(settings, deps=stack.deps)

    def client(token: str | None, ip: str | None = None) -> httpx.AsyncClient:
        # A client address of its own per test: the buckets live in a Redis that outlives a run.
        ip = ip or f"2001:db8::{uuid.uuid4().hex[:4]}"
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=transport, base_url="http://edge.test", headers=headers, timeout=60)

    yield client


def assert_429(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    assert isinstance(r.json()["error"]["details"], list)
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= HOUR
    assert str(retry) in r.json()["error"]["message"]


async def token_of(stack: Stack, user_id: str) -> str:
    async with stack.client() as admin:
        r = await admin.post(f"/api/v1/users/{user_id}/tokens")
        assert r.status_code == 201, r.text
        return str(r.json()["token"])


async def test_requests_per_token(stack: Stack, org: Org, limited: Any) -> None:
    token = await token_of(stack, org.user("rep2"))
    refused = REGISTRY.get_sample_value("baobei_http_rate_limited_total", {"limit": "token"}) or 0
    guard = {"method": "GET", "route": "<refused>", "status": "429"}
    answered = REGISTRY.get_sample_value("baobei_http_requests_total", guard) or 0
    async with limited(token) as c:
        for _ in range(6):
            assert (await c.get("/api/v1/me/todos")).status_code == 200
        assert_429(await c.get("/api/v1/me/todos"))
    # Each refusal is counted for the metrics (baobei_http_rate_limited_total{limit}).
    assert REGISTRY.get_sample_value("baobei_http_rate_limited_total", {"limit": "token"}) == refused + 1
    assert REGISTRY.get_sample_value("baobei_http_requests_total", guard) == answered + 1
    # Another token of the same user, from the same address, is a bucket of its own.
    async with limited(await token_of(stack, org.user("rep2"))) as c:
        assert (await c.get("/api/v1/me/todos")).status_code == 200


async def test_failed_authentications_per_client_ip(stack: Stack, org: Org, limited: Any) -> None:
    ip = f"2001:db8::{uuid.uuid4().hex[:4]}"
    async with limited("wrong-token", ip) as bad:
        assert (await bad.get("/api/v1/me/todos")).status_code == 401
        assert (await bad.get("/api/v1/me/todos")).status_code == 401
        assert_429(await bad.get("/api/v1/me/todos"))
        r = await bad.get("/api/v1/me/todos", headers={"Accept-Language": "en"})
        assert_429(r)
        assert "too many requests" in r.json()["error"]["message"]
    # The address is held off before an unknown token is looked up; a token validated in the last
    # minute (a colleague behind the same NAT) still passes; other addresses are not affected.
    token = await token_of(stack, org.user("outsider"))
    async with limited(token, ip) as unknown_same_ip:
        assert_429(await unknown_same_ip.get("/api/v1/me/todos"))
    async with limited(token) as good_elsewhere:
        assert (await good_elsewhere.get("/api/v1/me/todos")).status_code == 200
    async with limited(token, ip) as known_same_ip:
        assert (await known_same_ip.get("/api/v1/me/todos")).status_code == 200
    # Anonymous calls (no token at all) cost nothing and stay 401.
    async with limited(None, ip) as anon:
        assert (await anon.get("/api/v1/me/todos")).status_code == 401


async def test_decisions_exports_uploads_per_user(stack: Stack, org: Org, limited: Any) -> None:
    async with limited(await token_of(stack, org.user("boss"))) as boss:
        decide = "/api/v1/approval-tasks/none/decision"
        for _ in range(2):  # counted before the route looks at the task
            assert (await boss.post(decide, json={"action": "approve"})).status_code == 404
        assert_429(await boss.post(decide, json={"action": "approve"}))
        # Other calls of the same user are not decisions.
        assert (await boss.get("/api/v1/me/todos")).status_code == 200
    async with limited(await token_of(stack, org.user("finance"))) as finance:
        assert (await finance.get("/api/v1/exports/projects", params={"format": "csv"})).status_code == 200
        assert (await finance.get("/api/v1/reports/portfolio", params={"format": "svg"})).status_code == 200
        assert_429(await finance.get("/api/v1/exports/projects", params={"format": "xlsx"}))
        assert_429(await finance.get("/api/v1/reports/portfolio", params={"format": "csv"}))
        assert (await finance.get("/api/v1/reports/portfolio")).status_code == 200  # JSON is not an export
    async with limited(await token_of(stack, org.user("director"))) as director:
        for _ in range(2):
            r = await director.post("/api/v1/attachments", files={"file": ("a.txt", b"hello", "text/plain")})
            assert r.status_code == 201, r.text
        assert_429(await director.post("/api/v1/attachments", files={"file": ("a.txt", b"hello", "text/plain")}))


async def test_action_links_per_client_ip(limited: Any) -> None:
    ip = f"2001:db8::{uuid.uuid4().hex[:4]}"
    async with limited(None, ip) as anon:
        assert (await anon.get("/a/not-a-token")).status_code == 403
        assert (await anon.post("/a/not-a-token", data={"action": "approve"})).status_code == 403
        assert_429(await anon.get("/a/not-a-token"))
        assert_429(await anon.post("/a/not-a-token", data={"action": "approve"}))
    async with limited(None) as elsewhere:
        assert (await elsewhere.get("/a/not-a-token")).status_code == 403
