"""Local accounts on the in-process stack (issue 13): password sign-in, session fixation, CSRF,
expired sessions, lockout with back-off, TOTP (wrong, replayed, required by role), invite / reset
links, "forgot password", departed users and the retired bootstrap token.

Every browser here is its own httpx client with its own client IP (the per-IP limits then do not
couple tests); time moves through the seams ``edge.auth.now`` (what the registry is told: lockout,
links, TOTP) and ``edge.sessions.now`` (session deadlines)."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import accounts_service_pb2 as accounts_pb2
from edge import auth, sessions
from edge.app import create_app
from edge.clients import EdgeDeps
from services.registry.accounts import domain
from tests.edge.conftest import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
GOOD = "蓝色的海 blue ocean 42"
OTHER = "another long passphrase 7"
T0 = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)  # the registry's clock in lockout / link / TOTP tests
_ips = itertools.count(1)


def browser(stack: Stack, app: Any = None) -> httpx.AsyncClient:
    """A browser of its own: cookie jar, no bearer token, its own client IP."""
    n = next(_ips)
    ip = f"10.13.{n // 250}.{n % 250 + 1}"
    transport = httpx.ASGITransport(app=app or stack.app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://edge.test", timeout=60)


@pytest_asyncio.fixture(loop_scope="session")
async def people(stack: Stack, admin: httpx.AsyncClient) -> AsyncIterator[dict[str, str]]:
    """This test's users: "u" (e-mail and mobile), "plain" (no e-mail), with unique ids."""
    run = uuid.uuid4().hex[:8]
    ids = {"u": f"acc-{run}", "plain": f"accp-{run}", "boss": f"accb-{run}"}
    mobile = "139" + str(int(run, 16) % 10**8).zfill(8)
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": ids["u"], "name": "王小明", "email": f"Wang.{run}@Example.com", "mobile": mobile, "roles": ["sales"]},
        {"id": ids["plain"], "name": "赵六", "roles": ["sales"]},
        {"id": ids["boss"], "name": "老板", "email": f"boss.{run}@example.com", "roles": ["admin"]},
    ]})
    assert r.status_code == 200, r.text
    yield {**ids, "email": f"wang.{run}@example.com", "mobile": mobile, "run": run}


async def set_password(stack: Stack, user_id: str, password: str = GOOD) -> None:
    await stack.deps.stubs["accounts"].SetPassword(accounts_pb2.SetPasswordRequest(user_id=user_id, password=password))


async def login(client: httpx.AsyncClient, who: str, password: str = GOOD, code: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"login": who, "password": password}
    if code is not None:
        body["totp_code"] = code
    return await client.post("/auth/login", json=body)


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies.get(sessions.CSRF_COOKIE) or ""}


async def account(admin: httpx.AsyncClient, user_id: str) -> dict[str, Any]:
    r = await admin.get(f"/api/v1/users/{user_id}/account")
    assert r.status_code == 200, r.text
    return dict(r.json())


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(auth, "now", lambda: moment)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def email_deliveries(stack: Stack, user_id: str, kind: str) -> list[Any]:
    resp = await stack.deps.stubs["notify"].ListDeliveries(notify_pb2.ListDeliveriesRequest(channel="email", limit=500))
    return [d for d in resp.deliveries if d.recipient_id == user_id and d.kind == kind]


# ---------------------------------------------------------------- sign-in and sessions


async def test_login_by_id_email_or_mobile_opens_a_cookie_session(stack: Stack, people: dict[str, str]) -> None:
    await set_password(stack, people["u"])
    for who in (people["u"], people["email"].upper(), "+86 " + people["mobile"]):
        async with browser(stack) as b:
            r = await login(b, who)
            assert r.status_code == 200, r.text
            out = r.json()
            assert out["user"]["id"] == people["u"] and out["session"]["method"] == "password"
            assert out["totp_enrolment_required"] is False and out["csrf_token"] == b.cookies[sessions.CSRF_COOKIE]
            me = await b.get("/api/v1/me")
            assert me.status_code == 200 and me.json()["user"]["id"] == people["u"], me.text
            assert me.json()["auth_method"] == "password"


async def test_unknown_login_wrong_password_and_no_password_look_the_same(stack: Stack,
                                                                         people: dict[str, str]) -> None:
    await set_password(stack, people["u"])
    async with browser(stack) as b:
        answers = [await login(b, people["u"], "wrong password here"), await login(b, "nobody-" + people["run"]),
                   await login(b, people["plain"])]
    for r in answers:
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "invalid_credentials"
        assert r.json()["error"]["message"] == answers[0].json()["error"]["message"]
        assert sessions.COOKIE not in r.cookies


async def test_session_fixation_a_planted_session_is_not_kept(stack: Stack, people: dict[str, str]) -> None:
    await set_password(stack, people["u"])
    await set_password(stack, people["plain"])
    async with browser(stack) as attacker, browser(stack) as victim:
        assert (await login(attacker, people["plain"])).status_code == 200
        planted = attacker.cookies[sessions.COOKIE]
        victim.cookies.set(sessions.COOKIE, planted, domain="edge.test")
        r = await login(victim, people["u"])
        assert r.status_code == 200, r.text
        now_cookie = victim.cookies[sessions.COOKIE]
        assert now_cookie != planted
        assert (await victim.get("/api/v1/me")).json()["user"]["id"] == people["u"]
        # the planted session is dead: the attacker's browser is signed out, not signed in as the victim
        r = await attacker.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired", r.text
    # a made-up cookie value is never adopted either
    async with browser(stack) as b:
        b.cookies.set(sessions.COOKIE, "chosen-by-attacker", domain="edge.test")
        assert (await login(b, people["u"])).status_code == 200
        assert b.cookies[sessions.COOKIE] != "chosen-by-attacker"


async def test_csrf_state_changes_need_the_token(stack: Stack, people: dict[str, str]) -> None:
    await set_password(stack, people["u"])
    async with browser(stack) as b:
        assert (await login(b, people["u"])).status_code == 200
        r = await b.post("/api/v1/me/totp")
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed", r.text
        r = await b.post("/api/v1/me/totp", headers={"X-CSRF-Token": "wrong"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed", r.text
        r = await b.post("/api/v1/me/totp", headers=csrf(b))
        assert r.status_code == 200, r.text
        assert r.json()["otpauth_uri"].startswith("otpauth://totp/") and r.json()["qr_svg"].startswith("<?xml")
        assert (await b.get("/api/v1/me/account")).status_code == 200  # reads need none


async def test_expired_sessions_idle_and_absolute(stack: Stack, people: dict[str, str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    await set_password(stack, people["u"])
    settings = stack.settings
    start = datetime.now(UTC)
    clock = {"now": start}
    monkeypatch.setattr(sessions, "now", lambda: clock["now"])
    async with browser(stack) as b:
        assert (await login(b, people["u"])).status_code == 200
        clock["now"] = start + timedelta(minutes=settings.session_idle_minutes + 1)
        r = await b.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired", r.text
    clock["now"] = start
    async with browser(stack) as b:
        assert (await login(b, people["u"])).status_code == 200
        # active all along (a request every idle period), yet over the absolute lifetime
        step = timedelta(minutes=settings.session_idle_minutes - 10)
        while clock["now"] + step < start + timedelta(hours=settings.session_absolute_hours):
            clock["now"] += step
            assert (await b.get("/api/v1/me")).status_code == 200
        clock["now"] = start + timedelta(hours=settings.session_absolute_hours, seconds=1)
        r = await b.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired", r.text


async def test_sign_out_everywhere(stack: Stack, people: dict[str, str]) -> None:
    await set_password(stack, people["u"])
    async with browser(stack) as one, browser(stack) as two:
        for b in (one, two):
            assert (await login(b, people["u"])).status_code == 200
        r = await one.post("/api/v1/me/sessions/revoke-all", headers=csrf(one))
        assert r.status_code == 200 and r.json()["ended"] >= 2, r.text
        for b in (one, two):
            assert (await b.get("/api/v1/me")).status_code == 401


async def test_change_password_ends_the_other_sessions(stack: Stack, people: dict[str, str]) -> None:
    await set_password(stack, people["u"])
    async with browser(stack) as mine, browser(stack) as other:
        for b in (mine, other):
            assert (await login(b, people["u"])).status_code == 200
        r = await mine.post("/api/v1/me/password", json={"current_password": "not it at all", "new_password": OTHER},
                            headers=csrf(mine))
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "current_password", r.text
        r = await mine.post("/api/v1/me/password", json={"current_password": GOOD, "new_password": "password123"},
                            headers=csrf(mine))
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "new_password", r.text
        r = await mine.post("/api/v1/me/password", json={"current_password": GOOD, "new_password": OTHER},
                            headers=csrf(mine))
        assert r.status_code == 200 and r.json()["ended"] == 1, r.text
        assert (await mine.get("/api/v1/me")).status_code == 200
        assert (await other.get("/api/v1/me")).status_code == 401
    async with browser(stack) as b:
        assert (await login(b, people["u"], GOOD)).status_code == 401
        assert (await login(b, people["u"], OTHER)).status_code == 200


# ---------------------------------------------------------------- lockout


async def test_lockout_backs_off_and_an_admin_can_unlock(stack: Stack, people: dict[str, str], admin: httpx.AsyncClient,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    uid = people["u"]
    await set_password(stack, uid)
    at(monkeypatch, T0)
    async with browser(stack) as b:
        for _ in range(4):
            r = await login(b, uid, "wrong wrong wrong")
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
        r = await login(b, uid, "wrong wrong wrong")  # the 5th failure locks
        assert r.status_code == 429 and r.json()["error"]["code"] == "account_locked", r.text
        assert r.headers["Retry-After"] == "60"
        r = await login(b, uid)  # the right password is refused while locked
        assert r.status_code == 429 and r.json()["error"]["code"] == "account_locked"
        assert (await account(admin, uid))["locked_until"] is not None
        # after the lock: one more failure locks again, twice as long
        at(monkeypatch, T0 + timedelta(seconds=61))
        r = await login(b, uid, "wrong wrong wrong")
        assert r.status_code == 429 and r.headers["Retry-After"] == "120", r.text
        at(monkeypatch, T0 + timedelta(seconds=61 + 119))
        assert (await login(b, uid)).status_code == 429
        at(monkeypatch, T0 + timedelta(seconds=61 + 121))
        r = await login(b, uid)
        assert r.status_code == 200, r.text
        state = await account(admin, uid)
        assert state["failed_count"] == 0 and state["locked_until"] is None
        # locked again; the admin lifts it
        for _ in range(5):
            await login(b, uid, "wrong wrong wrong")
        assert (await login(b, uid)).status_code == 429
        r = await admin.post(f"/api/v1/users/{uid}/unlock")
        assert r.status_code == 200 and r.json()["failed_count"] == 0 and r.json()["locked_until"] is None, r.text
        assert (await login(b, uid)).status_code == 200


async def test_unknown_logins_and_accounts_without_password_lock_alike(stack: Stack, people: dict[str, str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A lockout must not tell whether an account exists."""
    at(monkeypatch, T0)
    for who in (f"ghost-{people['run']}", people["plain"]):
        async with browser(stack) as b:
            answers = [await login(b, who, f"guess {i} of five") for i in range(5)]
            assert [r.status_code for r in answers] == [401, 401, 401, 401, 429], who
            assert answers[-1].json()["error"]["code"] == "account_locked"
            assert answers[-1].headers["Retry-After"] == "60"


async def test_concurrent_wrong_guesses_all_count(stack: Stack, people: dict[str, str], admin: httpx.AsyncClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    uid = people["u"]
    await set_password(stack, uid)
    at(monkeypatch, T0)
    browsers = [browser(stack) for _ in range(4)]
    try:
        answers = await asyncio.gather(*(login(b, uid, f"guess number {i}") for i, b in enumerate(browsers)))
        assert [r.status_code for r in answers] == [401] * 4
        assert (await account(admin, uid))["failed_count"] == 4
        r = await login(browsers[0], uid, "guess number 5")
        assert r.status_code == 429 and r.json()["error"]["code"] == "account_locked"
    finally:
        for b in browsers:
            await b.aclose()


async def test_failed_sign_ins_are_limited_per_client_ip(stack: Stack, people: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack.deps.settings, "rate_limit_login_failures", 3)
    async with browser(stack) as b:
        for i in range(3):
            assert (await login(b, f"nobody-{i}-{people['run']}")).status_code == 401
        r = await login(b, f"nobody-4-{people['run']}")
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and r.headers["Retry-After"]


# ---------------------------------------------------------------- TOTP


async def enrol(stack: Stack, b: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
                moment: datetime = T0) -> tuple[str, list[str]]:
    r = await b.post("/api/v1/me/totp", headers=csrf(b))
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    at(monkeypatch, moment)
    r = await b.post("/api/v1/me/totp/confirm", json={"code": "123"}, headers=csrf(b))
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "code", r.text
    r = await b.post("/api/v1/me/totp/confirm", json={"code": domain.totp_code(secret, moment)}, headers=csrf(b))
    assert r.status_code == 200, r.text
    assert r.json()["account"]["totp_enabled"] and len(r.json()["recovery_codes"]) == 10
    return secret, r.json()["recovery_codes"]


async def test_totp_wrong_code_counts_and_a_code_works_once(stack: Stack, people: dict[str, str],
                                                           admin: httpx.AsyncClient,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    uid = people["u"]
    await set_password(stack, uid)
    async with browser(stack) as b:
        assert (await login(b, uid)).status_code == 200
        secret, recovery = await enrol(stack, b, monkeypatch)
        r = await b.post("/api/v1/me/totp", headers=csrf(b))
        assert r.status_code == 409 and r.json()["error"]["code"] == "totp_already_enabled"
    t1 = T0 + timedelta(minutes=5)
    at(monkeypatch, t1)
    async with browser(stack) as b:
        r = await login(b, uid)
        assert r.status_code == 401 and r.json()["error"]["code"] == "totp_required", r.text
        assert (await account(admin, uid))["failed_count"] == 0  # a missing code is no failure
        wrong = str((int(domain.totp_code(secret, t1)) + 1) % 10**6).zfill(6)
        r = await login(b, uid, code=wrong)
        assert r.status_code == 401 and r.json()["error"]["code"] == "totp_invalid", r.text
        assert (await account(admin, uid))["failed_count"] == 1  # a wrong code is
        r = await login(b, uid, "wrong password!", code=domain.totp_code(secret, t1))
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
        code = domain.totp_code(secret, t1)
        r = await login(b, uid, code=code)
        assert r.status_code == 200, r.text
        assert (await account(admin, uid))["failed_count"] == 0
    async with browser(stack) as b:
        r = await login(b, uid, code=code)  # the same code again: a replay
        assert r.status_code == 401 and r.json()["error"]["code"] == "totp_invalid", r.text
        # the previous step's code is within the window but older than the one used: refused too
        r = await login(b, uid, code=domain.totp_code(secret, t1 - timedelta(seconds=30)))
        assert r.status_code == 401 and r.json()["error"]["code"] == "totp_invalid"
        at(monkeypatch, t1 + timedelta(seconds=30))
        r = await login(b, uid, code=domain.totp_code(secret, t1 + timedelta(seconds=30)))
        assert r.status_code == 200, r.text
    async with browser(stack) as b:
        r = await login(b, uid, code=recovery[0])  # a recovery code works once
        assert r.status_code == 200 and r.json()["recovery_codes_left"] == 9, r.text
        r = await login(browser(stack), uid, code=recovery[0])
        assert r.status_code == 401 and r.json()["error"]["code"] == "totp_invalid"
        # turning it off needs a current code
        r = await b.request("DELETE", "/api/v1/me/totp", json={"code": "000000"}, headers=csrf(b))
        assert r.status_code == 422, r.text
        r = await b.request("DELETE", "/api/v1/me/totp", json={"code": recovery[1]}, headers=csrf(b))
        assert r.status_code == 200 and r.json()["totp_enabled"] is False, r.text
    async with browser(stack) as b:
        assert (await login(b, uid)).status_code == 200  # no code needed any more
        await enrol(stack, b, monkeypatch, T0 + timedelta(hours=1))
    r = await admin.delete(f"/api/v1/users/{uid}/totp")  # an admin resets a lost phone
    assert r.status_code == 200 and r.json()["totp_enabled"] is False, r.text
    async with browser(stack) as b:
        assert (await login(b, uid)).status_code == 200


async def test_role_requiring_totp_enrols_before_anything_else(stack: Stack, people: dict[str, str],
                                                              admin: httpx.AsyncClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    role = f"treasurer-{people['run']}"
    uid = people["u"]
    r = await admin.put("/api/v1/org", json={"users": [{"id": uid, "name": "王小明", "email": people["email"],
                                                         "roles": ["sales", role]}]})
    assert r.status_code == 200, r.text
    await set_password(stack, uid)
    r = await admin.put("/api/v1/auth-settings", json={"totp_required_roles": [role, role, " "]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "totp_required_roles[2]", r.text
    r = await admin.put("/api/v1/auth-settings", json={"totp_required_roles": [role, role]})
    assert r.status_code == 200 and r.json()["totp_required_roles"] == [role], r.text
    try:
        assert (await account(admin, uid))["totp_required"] is True
        async with browser(stack) as b:
            r = await login(b, uid)
            assert r.status_code == 200 and r.json()["totp_enrolment_required"] is True, r.text
            r = await b.get("/api/v1/projects")
            assert r.status_code == 403 and r.json()["error"]["code"] == "totp_enrolment_required", r.text
            assert (await b.get("/api/v1/me")).status_code == 200
            await enrol(stack, b, monkeypatch)
            assert (await b.get("/api/v1/projects")).status_code == 200  # free once enrolled
            r = await b.request("DELETE", "/api/v1/me/totp",
                                json={"code": "000000"}, headers=csrf(b))
            assert r.status_code == 409 and r.json()["error"]["code"] == "totp_required_by_role", r.text
    finally:
        r = await admin.put("/api/v1/auth-settings", json={"totp_required_roles": []})
        assert r.status_code == 200, r.text


async def test_form_sign_in_of_a_required_role_sets_up_totp_on_a_page(stack: Stack, people: dict[str, str],
                                                                       admin: httpx.AsyncClient,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    role = f"auditor-{people['run']}"
    uid = people["u"]
    r = await admin.put("/api/v1/org", json={"users": [{"id": uid, "name": "王小明", "email": people["email"],
                                                         "roles": ["sales", role]}]})
    assert r.status_code == 200, r.text
    await set_password(stack, uid)
    assert (await admin.put("/api/v1/auth-settings", json={"totp_required_roles": [role]})).status_code == 200
    try:
        async with browser(stack) as b:
            page = await b.get("/signin", params={"next": "/projects"})
            form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert form_token
            r = await b.post("/auth/login", data={"csrf_token": form_token.group(1), "next": "/projects",
                                                  "login": uid, "password": GOOD})
            assert r.status_code == 303 and r.headers["location"] == "/auth/totp/setup?next=%2Fprojects", r.text
            page = await b.get(r.headers["location"])
            assert page.status_code == 200 and "<svg" in page.text and "您的角色要求使用两步验证" in page.text
            secret = re.search(r"<code>([A-Z2-7]+)</code>", page.text)
            session_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert secret and session_csrf and session_csrf.group(1) == b.cookies[sessions.CSRF_COOKIE]
            again = await b.get("/auth/totp/setup")
            assert secret.group(1) in again.text  # the same secret until confirmed
            form = {"csrf_token": session_csrf.group(1), "next": "/projects", "code": "000000"}
            r = await b.post("/auth/totp/setup", data={**form, "code": "12"})
            assert r.status_code == 422 and secret.group(1) in r.text, r.text
            r = await b.post("/auth/totp/setup", data={**form, "csrf_token": "forged"})
            assert r.status_code == 422 and "页面已过期" in r.text
            assert (await b.get("/api/v1/projects")).status_code == 403
            at(monkeypatch, T0)
            r = await b.post("/auth/totp/setup", data={**form, "code": domain.totp_code(secret.group(1), T0)})
            assert r.status_code == 200 and len(re.findall(r"<li><code>[0-9a-f]{5}-[0-9a-f]{5}</code>", r.text)) == 10
            assert 'href="/projects"' in r.text
            assert (await b.get("/api/v1/projects")).status_code == 200
    finally:
        await admin.put("/api/v1/auth-settings", json={"totp_required_roles": []})


# ---------------------------------------------------------------- links


async def test_invite_link_sets_the_password_once(stack: Stack, people: dict[str, str], admin: httpx.AsyncClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    uid = people["u"]
    at(monkeypatch, T0)
    r = await admin.post(f"/api/v1/users/{uid}/invite")
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["emailed"] is True and out["purpose"] == "invite"
    assert out["url"].startswith("http://edge.test/auth/password/setup?token=")
    assert out["expires_at"] == (T0 + timedelta(hours=72)).isoformat().replace("+00:00", "Z")
    assert await email_deliveries(stack, uid, "account_invite")
    token = token_of(out["url"])
    async with browser(stack) as b:
        page = await b.get(out["url"].replace("http://edge.test", ""))
        assert page.status_code == 200 and 'lang="zh-CN"' in page.text and "设置密码" in page.text
        assert page.headers["referrer-policy"] == "no-referrer" and "no-store" in page.headers["cache-control"]
        r = await b.post("/auth/password/setup", json={"token": token, "password": "password1234"})
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "password", r.text
        r = await b.post("/auth/password/setup", json={"token": token, "password": "wangxiaoming-rocks"})
        assert r.status_code == 422, r.text  # the name's pinyin
        r = await b.post("/auth/password/setup", json={"token": token, "password": GOOD})
        assert r.status_code == 200 and r.json()["user"]["id"] == uid, r.text
        assert (await b.get("/api/v1/me")).status_code == 200
        r = await b.post("/auth/password/setup", json={"token": token, "password": OTHER})
        assert r.status_code == 410 and r.json()["error"]["code"] == "link_used", r.text
        assert (await b.get(f"/auth/password/setup?token={token}")).status_code == 410
    r = await admin.post(f"/api/v1/users/{uid}/invite")
    assert r.status_code == 409 and r.json()["error"]["code"] == "password_already_set", r.text
    # a user without e-mail: the link is only in the answer
    r = await admin.post(f"/api/v1/users/{people['plain']}/invite")
    assert r.status_code == 201 and r.json()["emailed"] is False, r.text
    assert (await admin.post("/api/v1/users/nobody-here/invite")).status_code == 404


async def test_links_expire_and_a_newer_one_replaces_an_older_one(stack: Stack, people: dict[str, str],
                                                                 admin: httpx.AsyncClient,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    uid = people["plain"]
    at(monkeypatch, T0)
    first = token_of((await admin.post(f"/api/v1/users/{uid}/invite")).json()["url"])
    second = token_of((await admin.post(f"/api/v1/users/{uid}/invite")).json()["url"])
    async with browser(stack) as b:
        r = await b.post("/auth/password/setup", json={"token": first, "password": GOOD})
        assert r.status_code == 403 and r.json()["error"]["code"] == "setup_link_invalid", r.text
        at(monkeypatch, T0 + timedelta(hours=72, seconds=1))
        r = await b.post("/auth/password/setup", json={"token": second, "password": GOOD})
        assert r.status_code == 403 and r.json()["error"]["code"] == "setup_link_expired", r.text
        r = await b.post("/auth/password/setup", json={"token": "made-up", "password": GOOD})
        assert r.status_code == 403 and r.json()["error"]["code"] == "setup_link_invalid"
        at(monkeypatch, T0)
        r = await admin.post(f"/api/v1/users/{uid}/password-reset")
        assert r.status_code == 201 and r.json()["purpose"] == "reset", r.text
        assert r.json()["expires_at"] == (T0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z")


async def test_reset_link_signs_out_everywhere(stack: Stack, people: dict[str, str], admin: httpx.AsyncClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    uid = people["u"]
    await set_password(stack, uid)
    async with browser(stack) as old, browser(stack) as b:
        assert (await login(old, uid)).status_code == 200
        r = await admin.post(f"/api/v1/users/{uid}/password-reset")
        assert r.status_code == 201 and r.json()["emailed"], r.text
        assert await email_deliveries(stack, uid, "password_reset")
        r = await b.post("/auth/password/setup", json={"token": token_of(r.json()["url"]), "password": OTHER})
        assert r.status_code == 200, r.text
        assert (await old.get("/api/v1/me")).status_code == 401
        assert (await b.get("/api/v1/me")).status_code == 200
        assert (await login(old, uid, GOOD)).status_code == 401
        # an account with TOTP: the link alone is not enough
        await enrol(stack, b, monkeypatch)
        t1 = T0 + timedelta(minutes=1)
        at(monkeypatch, t1)
        link = token_of((await admin.post(f"/api/v1/users/{uid}/password-reset")).json()["url"])
        r = await b.post("/auth/password/setup", json={"token": link, "password": GOOD})
        assert r.status_code == 401 and r.json()["error"]["code"] == "totp_required", r.text
        r = await b.post("/auth/password/setup", json={"token": link, "password": GOOD,
                                                       "totp_code": domain.totp_code(domain.new_totp_secret(), t1)})
        assert r.status_code == 401 and r.json()["error"]["code"] == "totp_invalid", r.text
    await admin.delete(f"/api/v1/users/{uid}/totp")


async def test_forgot_password_answers_202_whoever_asks(stack: Stack, people: dict[str, str]) -> None:
    async with browser(stack) as b:
        for login_ in ("nobody-" + people["run"], people["plain"], people["u"]):
            r = await b.post("/auth/password/forgot", json={"login": login_})
            assert r.status_code == 202 and r.json()["message"], r.text
    mails = await email_deliveries(stack, people["u"], "password_reset")
    assert len(mails) == 1
    async with browser(stack) as b:  # at most 3 an hour per account; the answer does not change
        for _ in range(4):
            assert (await b.post("/auth/password/forgot", json={"login": people["email"]})).status_code == 202
    assert len(await email_deliveries(stack, people["u"], "password_reset")) == 3


# ---------------------------------------------------------------- departures and the bootstrap token


async def test_departed_user_cannot_sign_in_and_their_sessions_die(stack: Stack, people: dict[str, str],
                                                                   admin: httpx.AsyncClient) -> None:
    run = people["run"]
    leaver = f"leaver{run}"
    body = {"department": [{"id": f"dl{run}", "name": "离职测试部", "parentid": 0}],
            "userlist": [{"userid": leaver, "name": "离职者", "department": [f"dl{run}"], "status": 1}]}
    assert (await admin.post("/api/v1/integrations/org/wecom", json=body)).status_code == 200
    await set_password(stack, leaver)
    async with browser(stack) as b:
        assert (await login(b, leaver)).status_code == 200
        assert (await b.get("/api/v1/me")).status_code == 200
        body["userlist"][0]["status"] = 5
        r = await admin.post("/api/v1/integrations/org/wecom", json=body)
        assert r.status_code == 200 and r.json()["left"] == [leaver], r.text
        assert (await b.get("/api/v1/me")).status_code == 401
        r = await login(b, leaver)
        assert r.status_code == 403 and r.json()["error"]["code"] == "user_left", r.text
        assert (await login(b, leaver, "wrong password x")).status_code == 401


async def test_retired_bootstrap_token_is_refused(stack: Stack, people: dict[str, str]) -> None:
    """On an edge of its own (another bootstrap token, the same services and Redis): the stack's
    own token stays valid, which also shows retirement is per token."""
    token = "bootstrap-" + uuid.uuid4().hex
    settings = stack.settings.model_copy(update={"admin_token": token})
    deps = await EdgeDeps.connect(settings, temporal_client=stack.temporal)
    app = create_app(settings, deps=deps)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        async with browser(stack, app) as b:
            r = await b.get("/api/v1/auth-settings", headers=bearer)
            assert r.status_code == 200 and r.json()["bootstrap_token_retired"] is False, r.text
            r = await b.post("/api/v1/auth-settings/retire-bootstrap-token", headers=bearer)
            assert r.status_code == 403 and r.json()["error"]["code"] == "account_required", r.text
            await set_password(stack, people["boss"])
            assert (await login(b, people["boss"])).status_code == 200
            r = await b.post("/api/v1/auth-settings/retire-bootstrap-token", headers=csrf(b))
            assert r.status_code == 200 and r.json()["bootstrap_token_retired"] is True, r.text
            assert r.json()["bootstrap_token_retired_by"] == people["boss"]
            r = await b.get("/api/v1/me", headers=bearer)
            assert r.status_code == 401 and r.json()["error"]["code"] == "bootstrap_token_retired", r.text
            assert (await b.get("/api/v1/me")).status_code == 200  # the admin account works
        async with stack.client() as main:
            assert (await main.get("/api/v1/auth-settings")).json()["bootstrap_token_retired"] is False
    finally:
        await deps.close()


# ---------------------------------------------------------------- pages


async def test_signin_page_lists_providers_and_holds_no_secrets(stack: Stack, people: dict[str, str],
                                                                admin: httpx.AsyncClient) -> None:
    key, secret = f"corp{people['run']}", "client-secret-" + uuid.uuid4().hex
    r = await admin.put(f"/api/v1/auth-providers/{key}", json={
        "type": "oidc", "name": "公司统一登录", "config": {"issuer": "https://sso.example.com", "client_id": "bb"},
        "secrets": {"client_secret": secret}})
    assert r.status_code == 200, r.text
    try:
        async with browser(stack) as b:
            r = await b.get("/signin", params={"next": "/projects?x=1"})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
            html = r.text
            assert 'lang="zh-CN"' in html and "登录" in html and 'action="/auth/login"' in html
            assert '<label for="password">' in html and 'name="viewport"' in html
            assert "公司统一登录" in html and f"/auth/sso/{key}/start?next=/projects%3Fx%3D1" in html
            assert secret not in html and stack.settings.admin_token not in html and "<script" not in html
            assert "form-action 'self'" in r.headers["content-security-policy"]
            r = await b.get("/signin", params={"next": "https://evil.example/"})
            assert 'value="https://evil.example/"' not in r.text and 'name="next" value="/"' in r.text
    finally:
        await admin.delete(f"/api/v1/auth-providers/{key}")


async def test_signin_form_posts_and_redirects(stack: Stack, people: dict[str, str]) -> None:
    await set_password(stack, people["u"])
    async with browser(stack) as b:
        page = await b.get("/signin", params={"next": "/projects"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token and b.cookies.get("bb_form_csrf") == token.group(1)
        form = {"csrf_token": token.group(1), "next": "/projects", "login": people["u"], "password": "nope nope"}
        r = await b.post("/auth/login", data=form)
        assert r.status_code == 401 and "账号或密码错误" in r.text and r.headers["content-type"].startswith("text/html")
        r = await b.post("/auth/login", data={**form, "password": GOOD, "csrf_token": "forged"})
        assert r.status_code == 403 and sessions.COOKIE not in b.cookies, r.text
        r = await b.post("/auth/login", data={**form, "password": GOOD})
        assert r.status_code == 303 and r.headers["location"] == "/projects", r.text
        assert (await b.get("/api/v1/me")).json()["user"]["id"] == people["u"]
        r = await b.post("/auth/login", data={**form, "password": GOOD, "next": "//evil.example/x"})
        assert r.status_code == 303 and r.headers["location"] == "/"
    async with browser(stack) as b:
        r = await b.get("/auth/totp/setup", params={"next": "/projects"})
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=%2Fauth%2Ftotp%2Fsetup")
        page = await b.get("/auth/password/forgot")
        assert page.status_code == 200 and "忘记密码" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        r = await b.post("/auth/password/forgot", data={"csrf_token": token.group(1), "login": "nobody"})
        assert r.status_code == 202 and "重置密码" in r.text
