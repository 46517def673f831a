"""The directory for people pickers and the token views over HTTP (in-process stack): search by
Chinese, full pinyin, initials and mixes; department members (recursive); the org tree; e-mail
and mobile only for admins, the person and their managers; departed users hidden except for
admins who ask; anonymous 401; the admin's list of every token (others 403); tokens people create
for themselves (shown once, scopes limited, expiry bounded, audited; also from a browser session)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, sessions
from tests.edge.conftest import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
API = "/api/v1"


@dataclass
class Dir:
    run: str
    clients: dict[str, httpx.AsyncClient]
    tokens: dict[str, dict[str, Any]]

    def id(self, key: str) -> str:
        return f"{key}-{self.run}"

    def dept(self, key: str) -> str:
        return f"{key}-{self.run}"

    def email(self, key: str) -> str:
        return USERS[key][3].replace("@", f".{self.run}@")

    def __getitem__(self, key: str) -> httpx.AsyncClient:
        return self.clients[key]


USERS = {  # key: (name, department, roles, e-mail)
    "zs": ("张三", "sales", ["sales"], "zhang3@corp.cn"),
    "zeng": ("曾三", "east", ["sales"], "zeng@corp.cn"),
    "zsf": ("张三丰", "ops", ["ops"], "zsf@corp.cn"),
    "gone": ("张三四", "sales", ["sales"], "gone@corp.cn"),
    "boss": ("李经理", "sales", ["manager"], "boss@corp.cn"),
    "opsmgr": ("赵主管", "ops", ["manager"], "opsmgr@corp.cn"),
    "bot": ("Tom李", "ops", ["integrator"], "bot@corp.cn"),
}


@pytest_asyncio.fixture(loop_scope="session")
async def d(stack: Stack, admin: httpx.AsyncClient) -> AsyncIterator[Dir]:
    run = uuid.uuid4().hex[:8]
    org = {
        "departments": [
            {"id": f"hq-{run}", "name": "总部"},
            {"id": f"sales-{run}", "name": "销售部", "parent_id": f"hq-{run}", "manager_id": f"boss-{run}"},
            {"id": f"east-{run}", "name": "华东组", "parent_id": f"sales-{run}"},
            {"id": f"ops-{run}", "name": "运营部", "parent_id": f"hq-{run}", "manager_id": f"opsmgr-{run}"},
        ],
        "users": [
            {"id": f"{k}-{run}", "name": name, "department_id": f"{dept}-{run}", "roles": roles,
             "email": email.replace("@", f".{run}@"),
             "mobile": "13800138000" if k == "zs" else None}
            for k, (name, dept, roles, email) in USERS.items()
        ],
    }
    r = await admin.put(f"{API}/org", json=org)
    assert r.status_code == 200, r.text
    # gone leaves (the registry's departed flag, as org sync sets it)
    await stack.deps.stubs["registry"].UpsertOrg(registry_pb2.UpsertOrgRequest(
        request_id=uuid.uuid4().hex, users=[registry_pb2.User(
            id=f"gone-{run}", name="张三四", department_id=f"sales-{run}", roles=["sales"], left=True)]))
    tokens: dict[str, dict[str, Any]] = {}
    clients: dict[str, httpx.AsyncClient] = {}
    for key, body in (("zs", None), ("zeng", None), ("boss", None), ("bot", {"scopes": ["crm:write"],
                                                                            "expires_in_days": 5})):
        r = await admin.post(f"{API}/users/{key}-{run}/tokens", json=body)
        assert r.status_code == 201, r.text
        tokens[key] = r.json()
        clients[key] = stack.client(r.json()["token"])
    try:
        yield Dir(run=run, clients=clients, tokens=tokens)
    finally:
        for c in clients.values():
            await c.aclose()


async def ids(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["items"]]


async def test_search_by_chinese_pinyin_initials_and_mixed(d: Dir) -> None:
    within = {"department_id": d.dept("hq"), "recursive": "true"}
    zs, zeng, zsf = d.id("zs"), d.id("zeng"), d.id("zsf")
    assert await ids(d["zeng"], f"{API}/users", q="张三", **within) == [zs, zsf]  # exact, then prefix; no 张三四
    assert await ids(d["zeng"], f"{API}/users", q="zhangsan", **within) == [zs, zsf]
    assert await ids(d["zeng"], f"{API}/users", q="zhang", **within) == [zs, zsf]
    assert await ids(d["zeng"], f"{API}/users", q="zs", **within) == [zeng, zs, zsf]  # 曾 zeng/ceng; by pinyin
    assert await ids(d["zeng"], f"{API}/users", q="cengsan", **within) == [zeng]
    assert await ids(d["zeng"], f"{API}/users", q="张s", **within) == [zs, zsf]
    assert await ids(d["zeng"], f"{API}/users", q="zhang三", **within) == [zs, zsf]
    assert await ids(d["zeng"], f"{API}/users", q="tomli", **within) == [d.id("bot")]
    assert await ids(d["zeng"], f"{API}/users", q="zs", role="ops", **within) == [zsf]
    r = await d["zeng"].get(f"{API}/users", params={"q": "x" * 101})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "q", r.text
    # paging: limit 1 then the cursor gives the same ranking
    first = (await d["zeng"].get(f"{API}/users", params={"q": "zs", "limit": 1, **within})).json()
    rest = await ids(d["zeng"], f"{API}/users", q="zs", cursor=first["next_cursor"], **within)
    assert [u["id"] for u in first["items"]] + rest == [zeng, zs, zsf]
    r = await d["zeng"].get(f"{API}/users", params={"cursor": "garbage"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "cursor", r.text


async def test_department_members_recursive(d: Dir) -> None:
    members = f"{API}/departments/{d.dept('sales')}/members"
    assert await ids(d["zs"], members) == [d.id("boss"), d.id("zs")]
    assert await ids(d["zs"], members, recursive="true") == [d.id("boss"), d.id("zeng"), d.id("zs")]
    assert await ids(d["zs"], members, recursive="true", q="zs") == [d.id("zeng"), d.id("zs")]
    r = await d["zs"].get(f"{API}/departments/nope-{d.run}/members")
    assert r.status_code == 404 and r.json()["error"]["code"] == "department_not_found", r.text


async def test_org_tree_nests_departments_with_managers_and_counts(d: Dir) -> None:
    r = await d["bot"].get(f"{API}/org")  # an integrator's crm-only token reads the directory too
    assert r.status_code == 200, r.text
    hq = next(n for n in r.json()["departments"] if n["id"] == d.dept("hq"))
    assert hq["manager"] is None and hq["parent_id"] is None
    assert (hq["member_count"], hq["total_count"]) == (0, 6)  # 张三四 left: not counted
    assert [c["name"] for c in hq["children"]] == ["销售部", "运营部"]
    sales = hq["children"][0]
    assert sales["manager"] == {"id": d.id("boss"), "name": "李经理", "left": False}
    assert (sales["member_count"], sales["total_count"], sales["parent_id"]) == (2, 3, d.dept("hq"))
    assert sales["children"][0]["id"] == d.dept("east") and sales["children"][0]["manager"] is None
    r = await d["zs"].get(f"{API}/org", params={"include_left": "true"})
    assert r.status_code == 403, r.text
    r = await d.clients["zs"].get(f"{API}/org")
    assert r.json()["department_count"] >= 4


async def test_contacts_only_for_admins_the_person_and_their_managers(d: Dir, admin: httpx.AsyncClient) -> None:
    async def seen(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
        r = await client.get(f"{API}/users/{d.id(key)}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    other = await seen(d["zeng"], "zs")
    assert other["name"] == "张三" and other["department"] == {"id": d.dept("sales"), "name": "销售部"}
    assert other["roles"] == ["sales"] and not other["left"]
    assert (other["email"], other["mobile"], other["contact_visible"]) == (None, None, False)
    own = await seen(d["zs"], "zs")
    assert (own["email"], own["mobile"], own["contact_visible"]) == (d.email("zs"), "13800138000", True)
    assert (await seen(d["boss"], "zeng"))["email"] == d.email("zeng")  # manages sales, above east
    assert (await seen(d["boss"], "zsf"))["email"] is None  # not in a department boss manages
    assert (await seen(admin, "zsf"))["email"] == d.email("zsf")
    listed = (await d["zeng"].get(f"{API}/users", params={"department_id": d.dept("sales")})).json()["items"]
    assert listed and all(u["email"] is None for u in listed)
    r = await d["zs"].get(f"{API}/users/nobody-{d.run}")
    assert r.status_code == 404, r.text
    r = await d["zs"].get(f"{API}/users/a%00b")
    assert r.status_code == 422, r.text
    # only admins find people by e-mail
    assert await ids(d["zeng"], f"{API}/users", q=d.email("zs")) == []
    assert await ids(admin, f"{API}/users", q=d.email("zs")) == [d.id("zs")]


async def test_departed_users_are_hidden_except_for_admins_who_ask(d: Dir, admin: httpx.AsyncClient) -> None:
    within = {"department_id": d.dept("sales"), "q": "张三四"}
    assert await ids(d["zs"], f"{API}/users", **within) == []
    assert await ids(admin, f"{API}/users", **within) == []
    assert await ids(admin, f"{API}/users", include_left="true", **within) == [d.id("gone")]
    r = await d["zs"].get(f"{API}/users", params={"include_left": "true", **within})
    assert r.status_code == 403 and r.json()["error"]["code"] == "admin_required", r.text
    r = await d["zs"].get(f"{API}/users/{d.id('gone')}")  # by id (history shows names): marked left
    assert r.status_code == 200 and r.json()["left"] is True and r.json()["email"] is None, r.text


async def test_anonymous_callers_get_401(stack: Stack) -> None:
    async with stack.client(token=None) as anon:
        for path in ("/org", "/users", "/users/x", "/departments/x/members", "/tokens"):
            assert (await anon.get(API + path)).status_code == 401, path
        assert (await anon.post(f"{API}/me/tokens", json={"name": "x"})).status_code == 401


async def test_admin_lists_every_live_token(d: Dir, admin: httpx.AsyncClient) -> None:
    r = await admin.get(f"{API}/tokens", params={"user_id": d.id("bot")})
    assert r.status_code == 200, r.text
    (bot,) = r.json()["items"]
    assert bot["id"] == d.tokens["bot"]["id"] and bot["user_name"] == "Tom李" and bot["scopes"] == ["crm:write"]
    assert bot["expired"] is False and "token" not in bot and d.tokens["bot"]["token"] not in r.text
    assert set(bot) == {"id", "name", "scopes", "created_at", "expires_at", "last_used_at", "user_id", "user_name",
                        "expired"}
    soon = (datetime.fromisoformat(bot["expires_at"]) + timedelta(seconds=1)).isoformat()
    expiring = [t["id"] for t in (await admin.get(f"{API}/tokens", params={"expiring_before": soon})).json()["items"]]
    assert d.tokens["bot"]["id"] in expiring and d.tokens["zs"]["id"] not in expiring
    everyone = await admin.get(f"{API}/tokens", params={"limit": 2})
    assert len(everyone.json()["items"]) == 2 and everyone.json()["next_cursor"]
    after = await admin.get(f"{API}/tokens", params={"limit": 2, "cursor": everyone.json()["next_cursor"]})
    assert not {t["id"] for t in after.json()["items"]} & {t["id"] for t in everyone.json()["items"]}
    for bad in ("2031-01-01T00:00:00", "0001-01-01T00:00:00+14:00"):  # no zone; before year 1 in UTC
        r = await admin.get(f"{API}/tokens", params={"expiring_before": bad})
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "expiring_before", r.text
    for key in ("zs", "boss", "bot"):
        r = await d[key].get(f"{API}/tokens")
        assert r.status_code == 403 and r.json()["error"]["code"] == "admin_required", r.text
    # revoked tokens leave the list
    r = await admin.delete(f"{API}/users/{d.id('bot')}/tokens/{d.tokens['bot']['id']}")
    assert r.status_code == 204
    assert (await admin.get(f"{API}/tokens", params={"user_id": d.id("bot")})).json()["items"] == []


async def test_own_tokens_shown_once_scopes_limited_expiry_bounded_and_audited(
    stack: Stack, d: Dir, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    real = audit.record

    async def spy(clients: Any, action: str, **kw: Any) -> None:
        events.append((action, kw))
        await real(clients, action, **kw)

    monkeypatch.setattr(audit, "record", spy)
    r = await d["zs"].post(f"{API}/me/tokens", json={"name": "周报脚本"})
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["token"].startswith("bbt_") and mine["name"] == "周报脚本" and mine["scopes"] == ["reports:read"]
    # made with a token: 90 days by default, but never past the token in use (issued just before)
    assert mine["expires_at"] == d.tokens["zs"]["expires_at"]
    assert datetime.fromisoformat(mine["expires_at"]) - datetime.fromisoformat(mine["created_at"]) <= timedelta(days=90)
    (action, kw), = [e for e in events if e[1].get("target_id") == mine["id"]]
    assert action == "token.issued" and kw["actor_id"] == d.id("zs") and kw["details"]["self_service"] is True
    assert kw["details"]["scopes"] == ["reports:read"] and mine["token"] not in str(kw)
    listed = (await d["zs"].get(f"{API}/me/tokens")).json()
    assert mine["id"] in {t["id"] for t in listed["items"]} and mine["token"] not in str(listed)
    async with stack.client(mine["token"]) as new:
        assert (await new.get(f"{API}/users/{d.id('zs')}")).json()["email"] == d.email("zs")
    # only scopes the user may hold; bounds on the lifetime; a name
    r = await d["zs"].post(f"{API}/me/tokens", json={"name": "x", "scopes": ["reports:read", "crm:write"]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_not_allowed", r.text
    assert [x["field"] for x in r.json()["error"]["details"]] == ["scopes[1]"]
    r = await d["zs"].post(f"{API}/me/tokens", json={"name": "", "expires_in_days": 366, "scopes": ["nope"]})
    assert r.status_code == 422, r.text
    assert {x["field"] for x in r.json()["error"]["details"]} == {"name", "expires_in_days", "scopes[0]"}
    r = await d["zs"].post(f"{API}/me/tokens", json={"name": "x", "expires_in_days": 0})
    assert r.status_code == 422, r.text
    r = await d["zs"].post(f"{API}/me/tokens", json={"name": "一周", "expires_in_days": 7, "scopes": []})
    assert r.status_code == 201 and r.json()["scopes"] == [], r.text
    week = datetime.fromisoformat(r.json()["expires_at"]) - datetime.fromisoformat(r.json()["created_at"])
    assert week == timedelta(days=7)
    # an integrator's crm-only token expiring in 5 days mints nothing stronger or longer-lived
    r = await d["bot"].post(f"{API}/me/tokens", json={"name": "轮换"})
    assert r.status_code == 201, r.text
    assert r.json()["scopes"] == ["crm:write"] and r.json()["expires_at"] == d.tokens["bot"]["expires_at"]
    r = await d["bot"].post(f"{API}/me/tokens", json={"name": "x", "scopes": ["org:sync"]})
    assert r.status_code == 403, r.text
    r = await d["bot"].post(f"{API}/me/tokens", json={"name": "x", "expires_in_days": 30})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "expires_in_days", r.text
    # the bootstrap admin token is no org user
    r = await admin.post(f"{API}/me/tokens", json={"name": "x"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_an_org_user", r.text
    # a repeat with the same Idempotency-Key issues nothing twice and never replays the secret
    headers = {"Idempotency-Key": f"own-{d.run}"}
    first = await d["zeng"].post(f"{API}/me/tokens", json={"name": "幂等"}, headers=headers)
    again = await d["zeng"].post(f"{API}/me/tokens", json={"name": "幂等"}, headers=headers)
    assert first.status_code == 201 and again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "idempotent_secret" and first.json()["token"] not in again.text


async def test_own_token_from_a_browser_session_needs_csrf(stack: Stack, d: Dir) -> None:
    sid, record = await sessions.SessionStore(stack.deps.redis, stack.settings).create(
        user_id=d.id("bot"), method="password")
    async with stack.client(token=None) as browser:
        browser.cookies.set(sessions.COOKIE, sid)
        r = await browser.post(f"{API}/me/tokens", json={"name": "CRM 正式"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed", r.text
        r = await browser.post(f"{API}/me/tokens", json={"name": "CRM 正式", "expires_in_days": 365},
                               headers={sessions.CSRF_HEADER: record.csrf})
        assert r.status_code == 201, r.text
        # a session is not limited by any token: every scope the integrator role allows, up to a year
        assert r.json()["scopes"] == ["crm:write", "org:sync", "reports:read"]
        year = datetime.fromisoformat(r.json()["expires_at"]) - datetime.fromisoformat(r.json()["created_at"])
        assert year == timedelta(days=365)
        assert (await browser.get(f"{API}/users", params={"q": "tomli"})).status_code == 200
