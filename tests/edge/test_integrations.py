"""Integrations over HTTP (in-process stack): the CRM webhook (integrator role, Standard Webhooks
signature when a secret is configured, once per external_id, lost → CrmOpportunityLost saga) and
the DingTalk / WeCom / Feishu org sync (users who left hand their pending approvals to their manager)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from standardwebhooks import Webhook

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge.app import create_app
from edge.clients import EdgeDeps
from tests.edge.conftest import Org, Stack
from tests.edge.test_approvals import todo_for
from tests.edge.test_projects import fields_of, make_form

pytestmark = pytest.mark.asyncio(loop_scope="session")

CRM = "/api/v1/integrations/crm/opportunities"


@pytest_asyncio.fixture(loop_scope="session")
async def integrator(stack: Stack, admin: httpx.AsyncClient, org: Org) -> AsyncIterator[httpx.AsyncClient]:
    uid = org.user("crm")
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": uid, "name": "CRM 集成", "department_id": org.dept, "roles": ["integrator"]}]})
    assert r.status_code == 200, r.text
    token = (await admin.post(f"/api/v1/users/{uid}/tokens")).json()["token"]
    async with stack.client(token) as client:
        yield client


def opportunity(form: str, **over: Any) -> dict[str, Any]:
    body = {"external_id": f"OPP-{uuid.uuid4().hex[:8]}", "name": f"商机{uuid.uuid4().hex[:6]}", "form_key": form,
            "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"}, "amount": 88000,
            "fields": {"phone": "13700001111"}}
    body.update(over)
    return body


async def test_crm_auth(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    async with stack.client(token=None) as anon:
        assert (await anon.post(CRM, json=opportunity(form))).status_code == 401
        assert (await anon.post(f"{CRM}/x/lost", json={})).status_code == 401
    r = await org["rep"].post(CRM, json=opportunity(form))
    assert r.status_code == 403 and r.json()["error"]["code"] == "integrator_required", r.text
    assert (await org["rep"].post(f"{CRM}/x/lost", json={})).status_code == 403
    assert (await org["rep"].post("/api/v1/integrations/org/wecom", json={"userlist": []})).status_code == 403


async def test_crm_create_once_then_lost(
    admin: httpx.AsyncClient, org: Org, integrator: httpx.AsyncClient
) -> None:
    form = await make_form(admin, org)
    body = opportunity(form, owner_id=org.user("rep"))
    r = await integrator.post(CRM, json=body)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "pending_approval" and first["code"].startswith("BB-")
    r = await integrator.post(CRM, json={**body, "name": "改了名字也不会再建"})
    assert r.status_code == 200, r.text
    assert r.json() == first
    project = (await org["rep"].get(f"/api/v1/projects/{first['id']}")).json()
    assert project["owner_id"] == org.user("rep") and project["amount"].startswith("88000")
    await todo_for(org["boss"], first["id"])  # submitted: the manager has the task
    # lost: the saga withdraws the approval and cancels the registration; a repeat answers the same
    r = await integrator.post(f"{CRM}/{body['external_id']}/lost", json={"reason": "客户选择了竞品"})
    assert r.status_code == 200, r.text
    lost = r.json()
    assert lost["project_id"] == first["id"] and lost["status"] == "cancelled" and lost["steps"]
    r = await integrator.post(f"{CRM}/{body['external_id']}/lost", json={})
    assert r.status_code == 200 and r.json() == lost, r.text
    assert (await org["rep"].get(f"/api/v1/projects/{first['id']}")).json()["status"] == "cancelled"
    items = (await org["boss"].get("/api/v1/me/todos")).json()["items"]
    assert all(t["project_id"] != first["id"] for t in items)
    r = await integrator.post(f"{CRM}/OPP-unknown-{uuid.uuid4().hex[:6]}/lost", json={})
    assert r.status_code == 404, r.text


async def test_crm_owner_defaults_to_integrator_and_validation(
    admin: httpx.AsyncClient, org: Org, integrator: httpx.AsyncClient
) -> None:
    form = await make_form(admin, org)
    r = await integrator.post(CRM, json=opportunity(form))
    assert r.status_code == 201, r.text
    p = (await admin.get(f"/api/v1/projects/{r.json()['id']}")).json()
    assert p["owner_id"] == org.user("crm")
    got = fields_of(await integrator.post(CRM, json=opportunity(form, owner_id="ghost-user")))
    assert set(got) == {"owner_id"}
    body = opportunity(form, name="", fields={"phone": "bad"})
    del body["external_id"]
    got = fields_of(await integrator.post(CRM, json=body))
    assert "external_id" in got
    got = fields_of(await integrator.post(CRM, json={**body, "external_id": "OPP-bad-" + uuid.uuid4().hex[:6]}))
    assert {"name", "fields.phone"} <= set(got), got


@pytest_asyncio.fixture(loop_scope="session")
async def signed(stack: Stack) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The same stack behind an edge configured with a CRM signing secret."""
    secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
    settings = stack.settings.model_copy(update={"crm_signing_secret": secret})
    d = stack.deps
    deps = EdgeDeps(settings=settings, channels=d.channels, stubs=d.stubs, health=d.health, redis=d.redis,
                    temporal_client=d.temporal_client, owns_temporal=False)
    app = create_app(settings, deps=deps)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge.test",
                                 timeout=60) as client:
        yield client, secret


def sign(secret: str, payload: bytes, *, at: datetime | None = None, msg_id: str = "") -> dict[str, str]:
    at = at or datetime.now(UTC)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, payload.decode()),
            "content-type": "application/json"}


async def test_crm_signature(
    signed: tuple[httpx.AsyncClient, str], admin: httpx.AsyncClient, org: Org, integrator: httpx.AsyncClient
) -> None:
    client, secret = signed
    auth = {"Authorization": integrator.headers["Authorization"]}
    form = await make_form(admin, org)
    payload = json.dumps(opportunity(form), ensure_ascii=False).encode()

    async def post(headers: dict[str, str], body: bytes = payload) -> httpx.Response:
        return await client.post(CRM, content=body, headers={**auth, "content-type": "application/json", **headers})

    r = await post({})
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_missing", r.text
    wrong = "whsec_" + base64.b64encode(b"another-secret-0123456789").decode()
    r = await post(sign(wrong, payload))
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid", r.text
    r = await post(sign(secret, payload), body=payload.replace(b"88000", b"1"))  # body changed after signing
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid"
    old = datetime.fromtimestamp(time.time() - 3600, UTC)
    r = await post(sign(secret, payload, at=old))
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_expired", r.text
    r = await post({**sign(secret, payload), "webhook-signature": "garbage"})
    assert r.status_code == 401
    # the token still comes first
    r = await client.post(CRM, content=payload, headers=sign(secret, payload))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    r = await post(sign(secret, payload))
    assert r.status_code == 201, r.text
    # rotation on the sender's side: a signature list with one valid entry passes
    h = sign(secret, payload)
    h["webhook-signature"] = sign(wrong, payload, msg_id=h["webhook-id"])["webhook-signature"] + " " + \
        h["webhook-signature"]
    r = await post(h)
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- org sync


def dingtalk(run: str, *, resigned: list[str] | None = None) -> dict[str, Any]:
    return {
        "departments": [
            {"dept_id": f"{run}-1", "name": "某某科技", "dept_manager_userid_list": [f"top-{run}"]},
            {"dept_id": f"{run}-100", "name": "销售部", "parent_id": f"{run}-1",
             "dept_manager_userid_list": [f"mid-{run}"]},
        ],
        "users": [
            {"userid": f"top-{run}", "name": "总经理", "dept_id_list": [f"{run}-1"], "active": True,
             "mobile": "+86-13800000001"},
            {"userid": f"mid-{run}", "name": "销售经理", "dept_id_list": [f"{run}-100"], "active": True,
             "email": f"mid-{run}@example.com"},
            {"userid": f"rep-{run}", "name": "销售", "dept_id_list": [f"{run}-100"], "active": False,
             "manager_userid": f"mid-{run}"},
        ],
        "resigned_userids": resigned or [],
    }


async def test_dingtalk_sync_and_handover(stack: Stack, admin: httpx.AsyncClient, org: Org,
                                          integrator: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    r = await integrator.post("/api/v1/integrations/org/dingtalk", json=dingtalk(run))
    assert r.status_code == 200, r.text
    assert r.json()["departments"] == 2 and r.json()["users"] == 3
    assert r.json()["left"] == [] and r.json()["handovers"] == []
    # roles are the admin's business: set them once, the sync keeps them
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": f"rep-{run}", "name": "销售", "department_id": f"{run}-100", "roles": ["sales"]}]})
    assert r.status_code == 200, r.text
    tokens = {}
    for who in ("rep", "mid", "top"):
        tokens[who] = (await admin.post(f"/api/v1/users/{who}-{run}/tokens")).json()["token"]
    form = await make_form(admin, org)
    async with stack.client(tokens["rep"]) as rep, stack.client(tokens["top"]) as top:
        r = await rep.post("/api/v1/projects", json={
            "form_key": form, "name": f"交接{run}", "customer": {"name": f"交接客户{run}有限公司"}, "amount": "100",
            "fields": {"phone": "13700001111"}, "submit": True})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        async with stack.client(tokens["mid"]) as mid:
            task = await todo_for(mid, pid)
        r = await integrator.post("/api/v1/integrations/org/dingtalk", json=dingtalk(run, resigned=[f"mid-{run}"]))
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["left"] == [f"mid-{run}"]
        assert out["handovers"] == [{"user_id": f"mid-{run}", "to_user_id": f"top-{run}", "task_ids": [task["id"]]}]
        await todo_for(top, pid)  # the manager of the leaver now holds the approval
        # idempotent: the same payload again hands over nothing new
        r = await integrator.post("/api/v1/integrations/org/dingtalk", json=dingtalk(run, resigned=[f"mid-{run}"]))
        assert r.status_code == 200, r.text
        assert r.json()["handovers"] == [] and r.json()["left"] == [f"mid-{run}"]
    user = (await stack.deps.stubs["registry"].GetUser(registry_pb2.GetUserRequest(user_id=f"rep-{run}"))).user
    assert list(user.roles) == ["sales"] and user.department_id == f"{run}-100"
    top_user = (await stack.deps.stubs["registry"].GetUser(registry_pb2.GetUserRequest(user_id=f"top-{run}"))).user
    assert top_user.mobile == "13800000001"


async def test_wecom_sync_and_errors(admin: httpx.AsyncClient, integrator: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    body = {
        "department": [{"id": f"{run}1", "name": "总部", "parentid": 0},
                       {"id": f"{run}2", "name": "研发", "parentid": f"{run}1", "department_leader": [f"a{run}"]}],
        "userlist": [
            {"userid": f"a{run}", "name": "甲", "department": [f"{run}2"], "main_department": f"{run}2",
             "is_leader_in_dept": [1], "status": 1, "mobile": "13900000002"},
            {"userid": f"b{run}", "name": "乙", "department": [f"{run}2"], "status": 5},
            {"userid": f"c{run}", "name": "丙", "department": [f"{run}2"], "status": 1, "mobile": "+852 9123 4567"},
        ],
    }
    r = await integrator.post("/api/v1/integrations/org/wecom", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["departments"] == 2 and out["users"] == 3 and out["left"] == [f"b{run}"]
    assert [h["user_id"] for h in out["handovers"]] == [f"b{run}"] and out["handovers"][0]["task_ids"] == []
    assert [w["field"] for w in out["warnings"]] == ["userlist[2].mobile"]
    r = await integrator.post("/api/v1/integrations/org/wecom", json=body)
    assert r.status_code == 200 and r.json()["handovers"] == [], r.text
    # errors name the caller's fields
    bad = {"department": [{"id": f"{run}9", "name": "孤儿", "parentid": f"nope{run}"}],
           "userlist": [{"userid": f"d{run}", "name": "丁", "department": [f"missing{run}"]}]}
    got = fields_of(await integrator.post("/api/v1/integrations/org/wecom", json=bad))
    assert set(got) == {"department[0].parentid", "userlist[0].department"}, got
    got = fields_of(await integrator.post("/api/v1/integrations/org/wecom", json={}))
    assert got
    got = fields_of(await integrator.post("/api/v1/integrations/org/dingtalk", json={"users": [{"name": "x"}]}))
    assert set(got) == {"users[0].userid"}
    assert (await admin.post("/api/v1/integrations/org/wecom", json=body)).status_code == 200


def feishu(run: str, *, resigned: bool = False) -> dict[str, Any]:
    """As contact/v3 returns them, fetched with user_id_type=user_id (open department ids)."""
    return {
        "departments": [
            {"name": "某某科技", "open_department_id": f"od-{run}-1", "department_id": f"D{run}1",
             "parent_department_id": "0", "leader_user_id": f"top-{run}", "status": {"is_deleted": False}},
            {"name": "销售部", "open_department_id": f"od-{run}-2", "parent_department_id": f"od-{run}-1",
             "leader_user_id": f"mid-{run}", "leaders": [{"leaderType": 1, "leaderID": f"mid-{run}"}],
             "status": {"is_deleted": False}},
        ],
        "users": [
            {"user_id": f"top-{run}", "open_id": f"ou_top{run}", "union_id": f"on_top{run}", "name": "总经理",
             "mobile": "+8613800000011", "department_ids": [f"od-{run}-1"], "status": {"is_resigned": False}},
            {"user_id": f"mid-{run}", "open_id": f"ou_mid{run}", "name": "销售经理",
             "enterprise_email": f"mid-{run}@corp.example.com", "department_ids": [f"od-{run}-2"],
             "status": {"is_resigned": resigned}},
            {"user_id": f"rep-{run}", "open_id": f"ou_rep{run}", "name": "销售", "department_ids": [f"od-{run}-2"],
             "status": {"is_frozen": True, "is_resigned": False}},
        ],
    }


async def test_feishu_sync_handover_and_errors(stack: Stack, admin: httpx.AsyncClient, org: Org,
                                               integrator: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    r = await integrator.post("/api/v1/integrations/org/feishu", json=feishu(run))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["departments"] == 2 and out["users"] == 3 and out["left"] == [] and out["handovers"] == []
    registry = stack.deps.stubs["registry"]
    # the Feishu user_id is the Baobei user id: notices address the person by it
    mid = (await registry.GetUser(registry_pb2.GetUserRequest(user_id=f"mid-{run}"))).user
    assert mid.department_id == f"od-{run}-2" and mid.email == f"mid-{run}@corp.example.com"
    top = (await registry.GetUser(registry_pb2.GetUserRequest(user_id=f"top-{run}"))).user
    assert top.mobile == "13800000011" and top.department_id == f"od-{run}-1"
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": f"rep-{run}", "name": "销售", "department_id": f"od-{run}-2", "roles": ["sales"]}]})
    assert r.status_code == 200, r.text
    tokens = {who: (await admin.post(f"/api/v1/users/{who}-{run}/tokens")).json()["token"] for who in ("rep", "mid")}
    form = await make_form(admin, org)
    async with stack.client(tokens["rep"]) as rep:
        r = await rep.post("/api/v1/projects", json={
            "form_key": form, "name": f"飞书交接{run}", "customer": {"name": f"飞书客户{run}有限公司"},
            "amount": "100", "fields": {"phone": "13700001111"}, "submit": True})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
    async with stack.client(tokens["mid"]) as mid_client:
        task = await todo_for(mid_client, pid)
    r = await integrator.post("/api/v1/integrations/org/feishu", json=feishu(run, resigned=True))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["left"] == [f"mid-{run}"]
    assert out["handovers"] == [{"user_id": f"mid-{run}", "to_user_id": f"top-{run}", "task_ids": [task["id"]]}]
    # idempotent: the same payload again hands over nothing new
    r = await integrator.post("/api/v1/integrations/org/feishu", json=feishu(run, resigned=True))
    assert r.status_code == 200 and r.json()["handovers"] == [] and r.json()["left"] == [f"mid-{run}"], r.text
    # errors name the caller's fields
    bad = {"departments": [{"name": "孤儿", "open_department_id": f"od-{run}-9", "parent_department_id": f"nope{run}"}],
           "users": [{"user_id": f"d{run}", "name": "丁", "department_ids": [f"missing{run}"]},
                     {"open_id": "ou_x", "name": "无 user_id"}]}
    got = fields_of(await integrator.post("/api/v1/integrations/org/feishu", json=bad))
    assert set(got) == {"users[1].user_id"}, got
    del bad["users"][1]
    got = fields_of(await integrator.post("/api/v1/integrations/org/feishu", json=bad))
    assert set(got) == {"departments[0].parent_department_id", "users[0].department_ids"}, got
    got = fields_of(await integrator.post("/api/v1/integrations/org/feishu", json={"department_id_type": "x"}))
    assert got
    assert (await org["rep"].post("/api/v1/integrations/org/feishu", json=feishu(run))).status_code == 403
    crm_only = (await admin.post(f"/api/v1/users/{org.user('crm')}/tokens", json={"scopes": ["crm:write"]})).json()
    async with stack.client(crm_only["token"]) as client:
        r = await client.post("/api/v1/integrations/org/feishu", json=feishu(run))
        assert r.status_code == 403 and r.json()["error"]["code"] == "scope_required", r.text
