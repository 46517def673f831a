"""Browser sessions over the real stack: the cookie authenticates /api/v1, state changes need the
session's CSRF token, idle and absolute timeouts end it, the session list and "sign out
everywhere" work, a departure (org sync) ends a user's sessions at once, and sign-in providers
are configured by admins with write-only secrets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from edge import sessions
from edge.sessions import SessionStore
from tests.edge.conftest import Org, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
T0 = datetime(2031, 5, 6, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at = T0
        monkeypatch.setattr(sessions, "now", lambda: self.at)

    def move(self, **delta: float) -> None:
        self.at += timedelta(**delta)


async def browser(stack: Stack, user_id: str, **kw: Any) -> tuple[httpx.AsyncClient, str, sessions.SessionRecord]:
    sid, record = await SessionStore(stack.deps.redis, stack.settings).create(user_id=user_id, method="password", **kw)
    client = stack.client(token=None)
    client.cookies.set(sessions.COOKIE, sid, domain="edge.test")
    return client, sid, record


async def test_the_cookie_authenticates_and_state_changes_need_the_csrf_token(stack: Stack, org: Org) -> None:
    rep = org.user("rep")
    client, _, record = await browser(stack, rep)
    async with client:
        me = (await client.get("/api/v1/me")).json()
        assert me["user"]["id"] == rep and me["auth_method"] == "password"
        assert me["csrf_token"] == record.csrf and me["session"]["current"] is True
        body = {"form_key": "nope", "name": "x", "customer": {"name": "y"}, "amount": "1"}
        r = await client.post("/api/v1/projects", json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = await client.post("/api/v1/projects", json=body, headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        # With the token the request reaches the route (which then judges the body).
        r = await client.post("/api/v1/projects", json=body, headers={"X-CSRF-Token": record.csrf})
        assert r.status_code not in (401, 403), r.text


async def test_an_unknown_session_cookie_is_refused(stack: Stack) -> None:
    async with stack.client(token=None) as client:
        client.cookies.set(sessions.COOKIE, "made-up", domain="edge.test")
        r = await client.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired"


async def test_idle_and_absolute_timeouts(stack: Stack, org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    idle = stack.settings.session_idle_minutes
    client, _, _ = await browser(stack, org.user("rep"))
    async with client:
        # Active use keeps it alive past one idle period ...
        for _ in range(3):
            clock.move(minutes=idle - 1)
            assert (await client.get("/api/v1/me")).status_code == 200
        # ... but not a pause longer than the idle timeout.
        clock.move(minutes=idle + 1)
        r = await client.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired"

    start = clock.at
    client, _, _ = await browser(stack, org.user("rep"))
    async with client:
        end = start + timedelta(hours=stack.settings.session_absolute_hours)
        while clock.at + timedelta(minutes=idle - 1) < end:
            clock.move(minutes=idle - 1)
            assert (await client.get("/api/v1/me")).status_code == 200
        clock.at = end
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_session_list_revoke_one_and_sign_out_everywhere(stack: Stack, org: Org) -> None:
    rep = org.user("rep")
    a, _, ra = await browser(stack, rep, user_agent="桌面浏览器")
    b, _, rb = await browser(stack, rep, user_agent="手机")
    c, _, rc = await browser(stack, rep)
    async with a, b, c:
        listed = (await a.get("/api/v1/me/sessions")).json()["items"]
        assert {s["id"] for s in listed} >= {ra.id, rb.id, rc.id}
        assert [s["current"] for s in listed if s["id"] == ra.id] == [True]
        assert "csrf" not in str(listed)
        r = await a.delete(f"/api/v1/me/sessions/{rb.id}", headers={"X-CSRF-Token": ra.csrf})
        assert r.status_code == 204
        assert (await b.get("/api/v1/me")).status_code == 401
        r = await a.delete("/api/v1/me/sessions/not-mine", headers={"X-CSRF-Token": ra.csrf})
        assert r.status_code == 404
        r = await a.post("/api/v1/me/sessions/revoke-all", json={"keep_current": True},
                         headers={"X-CSRF-Token": ra.csrf})
        assert r.status_code == 200 and r.json()["ended"] >= 1
        assert (await c.get("/api/v1/me")).status_code == 401
        assert (await a.get("/api/v1/me")).status_code == 200
        r = await a.post("/api/v1/me/sessions/revoke-all", headers={"X-CSRF-Token": ra.csrf})
        assert r.status_code == 200
        assert (await a.get("/api/v1/me")).status_code == 401


async def test_admin_sees_and_ends_a_users_sessions(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    rep2 = org.user("rep2")
    client, _, record = await browser(stack, rep2, ip="10.0.0.7")
    async with client:
        items = (await admin.get(f"/api/v1/users/{rep2}/sessions")).json()["items"]
        assert [s["id"] for s in items] == [record.id] and items[0]["ip"] == "10.0.0.7"
        assert (await org["rep"].get(f"/api/v1/users/{rep2}/sessions")).status_code == 403
        r = await admin.delete(f"/api/v1/users/{rep2}/sessions")
        assert r.json() == {"ended": 1}
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_logout_needs_the_csrf_token_and_clears_the_cookies(stack: Stack, org: Org) -> None:
    client, _, record = await browser(stack, org.user("rep"))
    async with client:
        assert (await client.post("/auth/logout")).status_code == 403
        r = await client.post("/auth/logout", headers={"X-CSRF-Token": record.csrf})
        assert r.status_code == 204
        assert any(h.startswith(f"{sessions.COOKIE}=") and "Max-Age=0" in h for h in r.headers.get_list("set-cookie"))
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_departed_user_loses_every_session_at_once(stack: Stack, admin: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    payload = {
        "departments": [{"dept_id": f"{run}-1", "name": "某某科技"}],
        "users": [{"userid": f"gone-{run}", "name": "离职者", "dept_id_list": [f"{run}-1"], "active": True}],
        "resigned_userids": [],
    }
    assert (await admin.post("/api/v1/integrations/org/dingtalk", json=payload)).status_code == 200
    client, _, _ = await browser(stack, f"gone-{run}")
    async with client:
        assert (await client.get("/api/v1/me")).status_code == 200  # principal now cached
        payload["resigned_userids"] = [f"gone-{run}"]
        assert (await admin.post("/api/v1/integrations/org/dingtalk", json=payload)).status_code == 200
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_cookies_are_http_only_lax_and_secure_on_https(stack: Stack) -> None:
    from starlette.requests import Request
    from starlette.responses import Response

    def cookies(scheme: str, mode: str) -> list[str]:
        scope = {"type": "http", "scheme": scheme, "path": "/", "headers": [], "server": ("edge.test", 443),
                 "query_string": b""}
        response = Response()
        record = sessions.SessionRecord(id="p", user_id="u", method="password", provider="", csrf="c",
                                        created_at=0, last_seen_at=0, absolute_expires_at=3600)
        settings = stack.settings.model_copy(update={"session_cookie_secure": mode})
        sessions.set_cookies(response, Request(scope), settings, "sid", record)
        return response.headers.getlist("set-cookie")

    plain = cookies("http", "auto")
    session_cookie = next(c for c in plain if c.startswith(f"{sessions.COOKIE}="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Secure" not in session_cookie
    csrf_cookie = next(c for c in plain if c.startswith(f"{sessions.CSRF_COOKIE}="))
    assert "HttpOnly" not in csrf_cookie
    assert all("Secure" in c for c in cookies("https", "auto"))
    assert all("Secure" in c for c in cookies("http", "always"))


async def test_admins_configure_providers_with_write_only_secrets(stack: Stack, admin: httpx.AsyncClient,
                                                                org: Org) -> None:
    key = f"corp-{uuid.uuid4().hex[:6]}"
    body = {"type": "oidc", "name": "公司统一登录", "config": {"issuer": "https://sso.example.com", "client_id": "bb"},
            "secrets": {"client_secret": "top-secret"}}
    r = await admin.put(f"/api/v1/auth-providers/{key}", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["secrets_set"] == ["client_secret"] and "top-secret" not in r.text
    assert out["callback_url"] == f"http://edge.test/auth/sso/{key}/callback"
    assert "top-secret" not in (await admin.get("/api/v1/auth-providers")).text
    methods = (await admin.get("/auth/methods")).json()
    offered = {"key": key, "type": "oidc", "name": "公司统一登录", "start_url": f"/auth/sso/{key}/start"}
    assert offered in methods["providers"]
    # Bad config names the field; non-admins cannot see or change providers.
    r = await admin.put(f"/api/v1/auth-providers/{key}", json={**body, "config": {"client_id": "bb", "x": 1}})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["error"]["details"]} == {"config.issuer", "config.x"}
    assert (await org["rep"].get("/api/v1/auth-providers")).status_code == 403
    assert (await org["rep"].put(f"/api/v1/auth-providers/{key}", json=body)).status_code == 403
    r = await admin.put(f"/api/v1/auth-providers/{key}", json={**body, "enabled": False, "secrets": {}})
    assert r.json()["secrets_set"] == ["client_secret"]
    assert key not in str((await admin.get("/auth/methods")).json())
    assert (await admin.delete(f"/api/v1/auth-providers/{key}")).status_code == 204
    assert (await admin.get(f"/api/v1/auth-providers/{key}")).status_code == 404


async def test_a_session_written_by_a_newer_edge_still_works(stack: Stack, org: Org) -> None:
    """Rolling upgrade: a record carrying a field this edge does not know is read, not refused."""
    import hashlib
    import json

    client, sid, _ = await browser(stack, org.user("rep"))
    key = "baobei:edge:session:" + hashlib.sha256(sid.encode()).hexdigest()
    data = json.loads(await stack.deps.redis.get(key))
    await stack.deps.redis.set(key, json.dumps({**data, "added_by_a_later_release": True}), keepttl=True)
    async with client:
        assert (await client.get("/api/v1/me")).status_code == 200


async def test_a_touch_from_a_stale_read_never_undoes_a_lifted_restriction(stack: Stack, org: Org,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A request reading the session just before the TOTP enrolment was confirmed must not write
    the restriction back when it moves the idle deadline on (compare-and-set)."""
    import hashlib
    from dataclasses import replace

    clock = Clock(monkeypatch)
    store = SessionStore(stack.deps.redis, stack.settings)
    sid, record = await store.create(user_id=org.user("rep"), method="password", restriction="totp_enrolment")
    key = "baobei:edge:session:" + hashlib.sha256(sid.encode()).hexdigest()
    stale = await stack.deps.redis.get(key)
    assert await store.lift_restriction(sid)
    clock.move(minutes=5)
    digest = hashlib.sha256(sid.encode()).hexdigest()
    assert not await store._replace(digest, stale, replace(record, last_seen_at=clock.at.timestamp()),
                                    clock.at.timestamp())
    loaded = await store.load(sid)  # a fresh read touches it
    assert loaded is not None and loaded.restriction == ""
    assert loaded.last_seen_at == clock.at.timestamp()
