"""Personal access tokens over HTTP (in-process stack): the issue body and answer, listing own
tokens without secrets, revocation one by one refused at once even with the edge's cache warm,
expiry (a token issued in the past; the edge's clock moved past a cached token's expiry), scopes
per route, the Idempotency-Key cache never holding a plaintext token, and org sync refusals."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import auth
from tests.edge.conftest import Org, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALL_SCOPES = ["crm:write", "org:sync", "reports:read"]
CRM = "/api/v1/integrations/crm/opportunities"
WECOM = "/api/v1/integrations/org/wecom"


def secret_of(client: httpx.AsyncClient) -> str:
    return client.headers["Authorization"].split(" ", 1)[1]


def cache_key(token: str) -> str:
    return "baobei:edge:auth:" + hashlib.sha256(token.encode()).hexdigest()


async def issue(admin: httpx.AsyncClient, user_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await admin.post(f"/api/v1/users/{user_id}/tokens", json=body) if body is not None else await admin.post(
        f"/api/v1/users/{user_id}/tokens")
    assert r.status_code == 201, r.text
    return dict(r.json())


async def add_users(admin: httpx.AsyncClient, org: Org, *users: tuple[str, list[str]]) -> list[str]:
    ids = [org.user(f"u{uuid.uuid4().hex[:6]}") for _ in users]
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": uid, "name": name, "department_id": org.dept, "roles": roles}
        for uid, (name, roles) in zip(ids, users, strict=True)]})
    assert r.status_code == 200, r.text
    return ids


async def test_issue_without_body_keeps_the_contract_and_adds_the_record(admin: httpx.AsyncClient, org: Org) -> None:
    out = await issue(admin, org.user("rep"))
    assert out["token"].startswith("bbt_") and out["id"] and out["scopes"] == ALL_SCOPES
    created = datetime.fromisoformat(out["created_at"])
    assert datetime.fromisoformat(out["expires_at"]) - created == timedelta(days=90)
    named = await issue(admin, org.user("rep"), {"name": "BI 导出", "scopes": ["reports:read"], "expires_in_days": 7})
    assert named["name"] == "BI 导出" and named["scopes"] == ["reports:read"]
    assert datetime.fromisoformat(named["expires_at"]) - datetime.fromisoformat(named["created_at"]) == timedelta(
        days=7)
    r = await admin.post(f"/api/v1/users/{org.user('rep')}/tokens",
                         json={"scopes": ["everything"], "expires_in_days": 0})
    assert r.status_code == 422, r.text
    assert {d["field"] for d in r.json()["error"]["details"]} == {"scopes[0]", "expires_in_days"}
    assert (await org["rep"].post(f"/api/v1/users/{org.user('rep')}/tokens")).status_code == 403


async def test_list_own_tokens_and_revoke_one_with_the_cache_warm(stack: Stack, admin: httpx.AsyncClient,
                                                                  org: Org) -> None:
    (uid,) = await add_users(admin, org, ("持有人", ["sales"]))
    first = await issue(admin, uid, {"name": "laptop"})
    second = await issue(admin, uid, {"name": "phone"})
    async with stack.client(first["token"]) as one, stack.client(second["token"]) as two:
        r = await one.get("/api/v1/me/tokens")
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert {t["id"] for t in items} == {first["id"], second["id"]}
        assert first["token"] not in r.text and second["token"] not in r.text
        assert all(set(t) == {"id", "name", "scopes", "created_at", "expires_at", "last_used_at"} for t in items)
        used = {t["id"]: t["last_used_at"] for t in items}
        assert used[first["id"]] is not None  # this very request
        assert await stack.deps.redis.exists(cache_key(first["token"]))  # warm
        # Someone else's token id is not found.
        other = await issue(admin, org.user("rep2"))
        assert (await one.delete(f"/api/v1/me/tokens/{other['id']}")).status_code == 404
        r = await one.delete(f"/api/v1/me/tokens/{first['id']}")
        assert r.status_code == 204, r.text
        assert (await one.get("/api/v1/me/todos")).status_code == 401
        assert (await two.get("/api/v1/me/todos")).status_code == 200
        # Right after a revocation the user's authentications are not cached (a request that got
        # the registry's answer just before the revocation cannot put it back in the cache).
        assert not await stack.deps.redis.exists(cache_key(second["token"]))
        assert [t["id"] for t in (await two.get("/api/v1/me/tokens")).json()["items"]] == [second["id"]]
        # Admin: a user's tokens, and revoking one of them, again refused at once.
        r = await admin.get(f"/api/v1/users/{uid}/tokens")
        assert r.status_code == 200 and [t["id"] for t in r.json()["items"]] == [second["id"]]
        assert (await two.get(f"/api/v1/users/{uid}/tokens")).status_code == 403
        assert (await admin.delete(f"/api/v1/users/{uid}/tokens/{second['id']}")).status_code == 204
        assert (await two.get("/api/v1/me/todos")).status_code == 401
    assert (await admin.get("/api/v1/users/nobody-here/tokens")).status_code == 404
    assert (await admin.get("/api/v1/me/tokens")).json() == {"items": []}  # the bootstrap token


async def test_an_expired_token_is_refused(stack: Stack, org: Org) -> None:
    # Issued (through the registry's seam) long ago for one day.
    req = registry_pb2.IssueTokenRequest(request_id=uuid.uuid4().hex, user_id=org.user("rep"), expires_in_days=1)
    req.now.FromDatetime(datetime(2001, 1, 1, tzinfo=UTC))
    old = (await stack.deps.stubs["registry"].IssueToken(req)).token
    async with stack.client(old) as client:
        r = await client.get("/api/v1/me/todos")
        assert r.status_code == 401 and "过期" in r.json()["error"]["message"], r.text


async def test_expiry_is_honoured_from_the_cache(stack: Stack, admin: httpx.AsyncClient, org: Org,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out = await issue(admin, org.user("rep"), {"expires_in_days": 1})
    expires = datetime.fromisoformat(out["expires_at"])
    monkeypatch.setattr(auth, "now", lambda: expires - timedelta(minutes=5))
    async with stack.client(out["token"]) as client:
        assert (await client.get("/api/v1/me/todos")).status_code == 200
        assert await stack.deps.redis.exists(cache_key(out["token"]))
        monkeypatch.setattr(auth, "now", lambda: expires + timedelta(seconds=1))
        assert (await client.get("/api/v1/me/todos")).status_code == 401
        assert not await stack.deps.redis.exists(cache_key(out["token"]))


async def test_idempotency_cache_never_holds_a_token(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    key = f"tok-{uuid.uuid4().hex}"
    headers = {"Idempotency-Key": key}
    r = await admin.post(f"/api/v1/users/{org.user('rep2')}/tokens", json={"name": "ci"}, headers=headers)
    assert r.status_code == 201, r.text
    token, token_id = r.json()["token"], r.json()["id"]
    stored = [await stack.deps.redis.get(k) async for k in stack.deps.redis.scan_iter("baobei:edge:idem:*")]
    assert stored and all(token not in str(v) for v in stored)
    mine = [json.loads(v) for v in stored if v and token_id in v]
    assert mine and mine[0]["state"] == "done"
    again = await admin.post(f"/api/v1/users/{org.user('rep2')}/tokens", json={"name": "ci"}, headers=headers)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "idempotent_secret" and token_id in again.json()["error"]["message"]
    assert token not in again.text
    ids = [t["id"] for t in (await admin.get(f"/api/v1/users/{org.user('rep2')}/tokens")).json()["items"]]
    assert ids.count(token_id) == 1


async def test_scopes_are_checked_per_route(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    integrator, boss_admin = await add_users(admin, org, ("集成", ["integrator"]), ("管理员", ["admin"]))
    tokens = {
        "none": (await issue(admin, integrator, {"scopes": []}))["token"],
        "crm": (await issue(admin, integrator, {"scopes": ["crm:write"]}))["token"],
        "org": (await issue(admin, integrator, {"scopes": ["org:sync"]}))["token"],
        "reports": (await issue(admin, integrator, {"scopes": ["reports:read"]}))["token"],
        "admin": (await issue(admin, boss_admin, {"scopes": []}))["token"],
    }
    routes = {
        "crm:write": ("POST", CRM, {}),
        "org:sync": ("POST", WECOM, {"department": [], "userlist": []}),
        "reports:read": ("GET", "/api/v1/reports/portfolio", None),
    }
    holder = {"crm:write": "crm", "org:sync": "org", "reports:read": "reports"}
    for scope, (method, path, body) in routes.items():
        for who, token in tokens.items():
            async with stack.client(token) as client:
                r = await client.request(method, path, json=body)
            if who == "admin" or holder[scope] == who:
                assert r.status_code not in (401, 403), (scope, who, r.text)
            else:
                assert r.status_code == 403, (scope, who, r.text)
                err = r.json()["error"]
                assert err["code"] == "scope_required" and scope in err["message"], err
                assert err["details"] == [{"field": "scope", "message": scope}]
    # Scopes limit only the scoped routes: other routes behave as for the user.
    async with stack.client(tokens["none"]) as client:
        assert (await client.get("/api/v1/me/todos")).status_code == 200


async def test_org_sync_never_touches_admins_or_grants_the_integrator(stack: Stack, admin: httpx.AsyncClient,
                                                                     org: Org) -> None:
    integrator, root, member = await add_users(
        admin, org, ("集成", ["integrator"]), ("管理员", ["admin"]), ("成员", ["sales"]))
    admin_token = (await issue(admin, root))["token"]
    async with stack.client(admin_token) as root_client:
        assert (await root_client.get("/api/v1/me/todos")).status_code == 200  # warm in the cache
    sync_token = (await issue(admin, integrator, {"scopes": ["org:sync"]}))["token"]
    dept = org.dept
    body = {
        "department": [{"id": dept, "name": "销售一部", "parentid": 0, "department_leader": [integrator]}],
        "userlist": [
            {"userid": root, "name": "管理员", "department": [dept], "status": 5},  # an admin "left"
            {"userid": integrator, "name": "集成", "department": [dept], "status": 1},  # itself
            {"userid": member, "name": "成员", "department": [dept], "status": 5},  # allowed
        ],
    }
    async with stack.client(sync_token) as client:
        r = await client.post(WECOM, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    refused = {x["field"]: x["code"] for x in out["refused"]}
    assert refused == {"userlist[0]": "admin_untouchable", "userlist[1]": "own_record",
                       "department[0].department_leader": "self_manager"}, out
    assert out["left"] == [member]
    registry = stack.deps.stubs["registry"]
    users = {u.id: u for u in (await registry.ListUsers(registry_pb2.ListUsersRequest(user_ids=[root, member]))).users}
    assert not users[root].left and list(users[root].roles) == ["admin"] and users[member].left
    chain = (await registry.GetManagerChain(registry_pb2.GetManagerChainRequest(user_id=member))).links
    assert [link.manager_id for link in chain] == [org.user("boss")]
    async with stack.client(admin_token) as root_client:
        assert (await root_client.get("/api/v1/me/todos")).status_code == 200


async def test_a_departed_approvers_links_stop_working_at_once(stack: Stack, admin: httpx.AsyncClient,
                                                               org: Org) -> None:
    from tests.edge.test_action_links import action_url, pending, still_pending

    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    task = await still_pending(org["boss"], pid)
    async with stack.client(token=None) as anon:
        assert (await anon.get(url)).status_code == 200
        # The boss leaves (the registry's departed flag; no handover has run yet).
        boss = org.user("boss")
        await stack.deps.stubs["registry"].UpsertOrg(registry_pb2.UpsertOrgRequest(
            request_id=uuid.uuid4().hex, users=[registry_pb2.User(
                id=boss, name="部门经理", department_id=org.dept, roles=["manager"], left=True)]))
        r = await anon.get(url)
        assert r.status_code == 403 and "离职" in r.text, r.text
        r = await anon.post(url, data={"action": "approve"})
        assert r.status_code == 403, r.text
    approval = (await admin.get(f"/api/v1/projects/{pid}/approval")).json()
    decided = [d for s in approval["steps"] for d in s.get("decisions", [])]
    assert decided == [] and approval["status"] == "pending", approval
    assert task["id"]


async def test_a_revocation_racing_an_authentication_is_not_cached_over(stack: Stack, admin: httpx.AsyncClient,
                                                                          org: Org) -> None:
    """The registry answers (token still valid), then the token is revoked, then the edge would
    write its cache: the write is dropped, so the next request is refused."""
    from edge.clients import Clients

    out = await issue(admin, org.user("rep2"))
    real = Clients(deps=stack.deps, locale="zh", request_id=uuid.uuid4().hex)

    class RevokedMeanwhile:
        """The real registry, with the revocation landing right after its answer."""

        async def Authenticate(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
            answer = await real.registry.Authenticate(request)
            await real.registry.RevokeToken(registry_pb2.RevokeTokenRequest(
                user_id=org.user("rep2"), token_id=out["id"]))
            await auth.revoke_user(real, org.user("rep2"))
            return answer

    class Racing:
        settings, redis, registry = real.settings, real.redis, RevokedMeanwhile()

    principal = await auth.authenticate(out["token"], Racing())  # type: ignore[arg-type]
    assert principal.id == org.user("rep2")  # the request in flight completes
    assert not await stack.deps.redis.exists(cache_key(out["token"]))
    async with stack.client(out["token"]) as client:
        assert (await client.get("/api/v1/me/todos")).status_code == 401
