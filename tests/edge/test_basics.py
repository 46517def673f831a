"""Health, authentication, admin-only endpoints, the error shape and its languages, OpenAPI."""

from __future__ import annotations

import httpx
import pytest

from tests.edge.conftest import Org, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_healthz_ok_when_everything_is_up(stack: Stack) -> None:
    async with stack.client(token=None) as anon:
        r = await anon.get("/healthz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"edge", "registry", "approval", "tasks", "reporting", "notify", "temporal", "worker"}
    assert r.headers["X-Request-ID"]


async def test_healthz_503_names_what_is_down(stack: Stack) -> None:
    from edge.app import create_app
    from edge.clients import EdgeDeps

    broken = stack.settings.model_copy(update={"notify_addr": "127.0.0.1:1", "task_queue": "nobody-polls-this"})
    deps = await EdgeDeps.connect(broken, temporal_client=stack.temporal)
    try:
        app = create_app(broken, deps=deps)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/healthz")
    finally:
        await deps.close()
    assert r.status_code == 503
    assert set(r.json()["down"]) == {"notify", "worker"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}]
)
async def test_401_without_a_valid_token(stack: Stack, headers: dict[str, str]) -> None:
    async with stack.client(token=None, **headers) as c:
        for method, path in [
            ("GET", "/api/v1/projects"),
            ("GET", "/api/v1/me/todos"),
            ("PUT", "/api/v1/org"),
            ("POST", "/api/v1/projects"),
        ]:
            r = await c.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.text)
            err = r.json()["error"]
            assert err["code"] == "unauthenticated"
            assert err["details"] == []
            assert err["message"] == "未认证或令牌无效"


async def test_401_message_in_english(stack: Stack) -> None:
    async with stack.client(token=None, **{"Accept-Language": "en-US,en;q=0.9"}) as c:
        r = await c.get("/api/v1/projects")
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "missing or invalid token"


async def test_admin_only_endpoints_answer_403_to_others(stack: Stack, org: Org) -> None:
    rep = org["rep"]
    calls = [
        rep.put("/api/v1/org", json={"departments": [], "users": []}),
        rep.post(f"/api/v1/users/{org.user('rep')}/tokens"),
        rep.put("/api/v1/forms/anything", json={"title": "x", "fields": []}),
        rep.put(
            "/api/v1/approval-policies/anything",
            json={"form_key": "x", "steps": [{"name": "s", "approvers": {"type": "manager_of_submitter"}}]},
        ),
    ]
    for call in calls:
        r = await call
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "admin_required"
        assert r.json()["error"]["message"] == "需要管理员权限"


async def test_a_user_with_the_admin_role_is_admin(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    r = await admin.put(
        "/api/v1/org",
        json={"users": [{"id": f"boss2-{org.run}", "name": "管理员", "department_id": org.dept, "roles": ["admin"]}]},
    )
    assert r.status_code == 200
    token = (await admin.post(f"/api/v1/users/boss2-{org.run}/tokens")).json()["token"]
    async with stack.client(token) as c:
        r = await c.put(
            f"/api/v1/forms/f-{org.run}",
            json={"title": "表单", "fields": [{"key": "phone", "label": "电话", "type": "phone"}]},
        )
    assert r.status_code == 200, r.text


async def test_token_for_unknown_user_is_404(admin: httpx.AsyncClient) -> None:
    r = await admin.post("/api/v1/users/no-such-user-xyz/tokens")
    assert r.status_code == 404
    assert set(r.json()) == {"error"}
    assert set(r.json()["error"]) == {"code", "message", "details"}


async def test_unknown_route_and_method_use_the_error_shape(admin: httpx.AsyncClient) -> None:
    r = await admin.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await admin.delete("/api/v1/org")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


async def test_request_id_is_echoed(admin: httpx.AsyncClient) -> None:
    r = await admin.get("/api/v1/me/todos", headers={"X-Request-ID": "abc-123"})
    assert r.status_code == 200
    assert r.headers["X-Request-ID"] == "abc-123"


async def test_openapi_describes_every_path(admin: httpx.AsyncClient) -> None:
    doc = (await admin.get("/openapi.json")).json()
    paths = doc["paths"]
    expected = {
        "/healthz": {"get"},
        "/api/v1/users/{user_id}/tokens": {"post"},
        "/api/v1/org": {"put"},
        "/api/v1/forms/{form_key}": {"put", "get"},
        "/api/v1/approval-policies/{policy_key}": {"put"},
        "/api/v1/approval-policies/{policy_key}/simulate": {"post"},
        "/api/v1/projects": {"post", "get"},
        "/api/v1/projects/{project_id}": {"get"},
        "/api/v1/projects/{project_id}/submit": {"post"},
        "/api/v1/me/todos": {"get"},
        "/api/v1/approval-tasks/{task_id}/decision": {"post"},
        "/api/v1/me/notifications": {"get"},
        "/api/v1/reports/portfolio": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    schemas = doc["components"]["schemas"]
    assert {"ProjectCreate", "ProjectOut", "ErrorResponse", "DecisionIn", "PolicyIn", "FormIn", "OrgIn"} <= set(schemas)
    amount = schemas["ProjectCreate"]["properties"]["amount"]
    assert {t.get("type") for t in amount["anyOf"]} == {"string", "number"}
    assert "422" in paths["/api/v1/projects"]["post"]["responses"]
    assert doc["components"]["securitySchemes"]


async def test_tokens_are_cached_by_hash_for_60s(stack: Stack, org: Org) -> None:
    import hashlib

    token = org["rep"].headers["Authorization"].split(" ", 1)[1]
    assert (await org["rep"].get("/api/v1/me/todos")).status_code == 200
    key = "baobei:edge:auth:" + hashlib.sha256(token.encode()).hexdigest()
    assert 0 < await stack.deps.redis.ttl(key) <= 60
    assert token not in str(await stack.deps.redis.get(key))


async def test_service_messages_follow_accept_language(org: Org) -> None:
    zh = await org["rep"].get("/api/v1/projects/nope")
    en = await org["rep"].get("/api/v1/projects/nope", headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 404
    assert en.json()["error"]["message"].isascii()
    assert not zh.json()["error"]["message"].isascii()
