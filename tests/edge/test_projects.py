"""Projects over HTTP: validation and its field paths, exact money, idempotency, visibility,
paging, submit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.edge.conftest import Org, Stack, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def make_form(admin: httpx.AsyncClient, org: Org, *, steps: list[dict[str, Any]] | None = None) -> str:
    key = f"form-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(
        f"/api/v1/forms/{key}",
        json={"title": "项目报备", "fields": [{"key": "phone", "label": "电话", "type": "phone", "required": True}]},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"key": key, "version": 1}
    r = await admin.put(
        f"/api/v1/approval-policies/{key}",
        json={
            "form_key": key,
            "steps": steps or [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}],
        },
    )
    assert r.status_code == 200, r.text
    return key


def project(form: str, **over: Any) -> dict[str, Any]:
    body = {
        "form_key": form,
        "name": f"项目{uuid.uuid4().hex[:6]}",
        "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"},
        "amount": "12345.60",
        "fields": {"phone": "13700001111"},
    }
    body.update(over)
    return body


def fields_of(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"}
    return {d["field"]: d["message"] for d in err["details"]}


async def test_validation_paths_and_messages(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    # from the registry (form rules)
    got = fields_of(await rep.post("/api/v1/projects", json=project(form, fields={"phone": "not-a-phone"})))
    assert "fields.phone" in got
    # core fields are validated by the registry too, so every violation comes back at once
    body = project(form, amount="-1", fields={"phone": "x"})
    del body["customer"]["name"]
    got = fields_of(await rep.post("/api/v1/projects", json=body))
    assert got == {"customer.name": "客户名称为必填项", "amount": "金额不能为负数", "fields.phone": got["fields.phone"]}
    got = fields_of(await rep.post("/api/v1/projects", json=project(form, amount="-1")))
    assert got == {"amount": "金额不能为负数"}
    got = fields_of(await rep.post("/api/v1/projects", json=project(form, amount=-0.5)))
    assert got == {"amount": "金额不能为负数"}
    got = fields_of(await rep.post("/api/v1/projects", json=project(form, amount="12,3")))
    assert set(got) == {"amount"}
    got = fields_of(await rep.post("/api/v1/projects", json=project(form, start_date="2026-13-01")))
    assert set(got) == {"start_date"}
    # English
    r = await rep.post("/api/v1/projects", json=project(form, amount="-1"), headers={"Accept-Language": "en"})
    assert fields_of(r) == {"amount": "amount must not be negative"}
    assert r.json()["error"] == {
        "code": "validation_failed",
        "message": "validation failed",
        "details": [{"field": "amount", "message": "amount must not be negative"}],
    }
    r = await rep.post("/api/v1/projects", json=project(form, amount="-1"))
    assert r.json()["error"]["message"] == "输入校验失败"


async def test_nested_list_paths(admin: httpx.AsyncClient) -> None:
    r = await admin.put(
        "/api/v1/approval-policies/p-x",
        json={"form_key": "f", "steps": [{"name": "a", "approvers": {"type": "role"}, "mode": "some"}]},
    )
    got = fields_of(r)
    assert set(got) == {"steps[0].approvers", "steps[0].mode"}


async def test_malformed_json_is_422(org: Org) -> None:
    rep = org["rep"]
    for raw in (b'{"name": ', b"\xff\xfe not json", b"[1, 2]", b'"text"'):
        r = await rep.post("/api/v1/projects", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (raw, r.text)
        assert r.json()["error"]["code"] == "validation_failed"
        assert r.json()["error"]["details"][0]["field"] == "body"


async def test_money_is_exact(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    r = await rep.post("/api/v1/projects", json=project(form))
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == {"id", "code", "status"} and created["status"] == "draft"
    got = (await rep.get(f"/api/v1/projects/{created['id']}")).json()
    assert got["amount"] == "12345.60"
    # A JSON number that a float cannot hold exactly.
    raw = project(form)
    raw.pop("amount")
    import json

    text = json.dumps(raw, ensure_ascii=False)[:-1] + ', "amount": 1234567890123456.78}'
    r = await rep.post("/api/v1/projects", content=text.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    got = (await rep.get(f"/api/v1/projects/{r.json()['id']}")).json()
    assert got["amount"] == "1234567890123456.78"


async def test_get_project_has_the_contract_fields(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    body = project(form, region="华东", business_line="软件", start_date="2026-01-01", end_date="2026-06-30")
    pid = (await rep.post("/api/v1/projects", json=body)).json()["id"]
    p = (await rep.get(f"/api/v1/projects/{pid}")).json()
    for key in (
        "id",
        "code",
        "status",
        "name",
        "customer",
        "amount",
        "region",
        "business_line",
        "start_date",
        "end_date",
        "owner_id",
        "department_id",
        "fields",
        "form_key",
        "form_version",
        "version",
        "created_at",
        "conflicts",
        "approval",
        "history",
    ):
        assert key in p, key
    assert p["owner_id"] == org.user("rep")
    assert p["department_id"] == org.dept
    assert p["customer"]["name"] == body["customer"]["name"]
    assert p["fields"] == {"phone": "13700001111"}
    assert p["start_date"] == "2026-01-01" and p["end_date"] == "2026-06-30"
    assert p["approval"]["steps"] == []
    assert p["form_version"] == 1
    assert p["history"] and {"at", "actor", "event"} <= set(p["history"][0])
    assert p["created_at"].endswith("Z") or "+" in p["created_at"]


async def test_idempotency_key(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    body = project(form)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await rep.post("/api/v1/projects", json=body, headers=key)
    again = await rep.post("/api/v1/projects", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    listed = (await rep.get("/api/v1/projects", params={"q": body["name"]})).json()["items"]
    assert [p["id"] for p in listed] == [first.json()["id"]]
    # same key, different body
    r = await rep.post("/api/v1/projects", json={**body, "name": "别的项目"}, headers=key)
    assert fields_of(r) and "Idempotency-Key" in fields_of(r)
    # concurrent repeats wait for the first and get its answer
    body2 = project(form)
    key2 = {"Idempotency-Key": uuid.uuid4().hex}
    results = await asyncio.gather(*(rep.post("/api/v1/projects", json=body2, headers=key2) for _ in range(4)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    listed = (await rep.get("/api/v1/projects", params={"q": body2["name"]})).json()["items"]
    assert len(listed) == 1
    # keys are per caller: another user with the same key creates their own project
    r = await org["rep2"].post("/api/v1/projects", json=body2, headers=key2)
    assert r.status_code == 201 and r.json()["id"] != results[0].json()["id"]


async def test_create_and_submit_retried_after_a_lost_answer(
    admin: httpx.AsyncClient, org: Org, stack: Stack
) -> None:
    """A create+submit whose answer was lost (a 5xx is not kept for replay, e.g. the workflow took
    longer than the edge waited) is retried with the same key: the same project, submitted once."""
    form = await make_form(admin, org)
    body = {**project(form), "submit": True}
    key = uuid.uuid4().hex
    first = await org["rep"].post("/api/v1/projects", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and first.json()["status"] == "pending_approval", first.text
    # Forget the stored answer, as after a 5xx: the retry runs the route again.
    redis = Redis.from_url(stack.settings.redis_url)
    try:
        dropped = [k async for k in redis.scan_iter(match="baobei:edge:idem:*:POST:/api/v1/projects:*")]
        assert dropped and await redis.delete(*dropped) == len(dropped)
    finally:
        await redis.aclose()
    again = await org["rep"].post("/api/v1/projects", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") is None
    history = (await org["rep"].get(f"/api/v1/projects/{first.json()['id']}")).json()["history"]
    assert [h["event"] for h in history].count("submitted") == 1


async def test_visibility(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    body = project(form)
    pid = (await org["rep"].post("/api/v1/projects", json=body)).json()["id"]
    for outsider in ("outsider", "rep2"):
        r = await org[outsider].get(f"/api/v1/projects/{pid}")
        assert r.status_code == 404, (outsider, r.text)
        assert r.json()["error"]["code"].endswith("not_found")
        listed = (await org[outsider].get("/api/v1/projects", params={"q": body["name"]})).json()
        assert listed["items"] == []
        r = await org[outsider].post(f"/api/v1/projects/{pid}/submit")
        assert r.status_code == 404
    # the department manager and admins see it
    assert (await org["boss"].get(f"/api/v1/projects/{pid}")).status_code == 200
    listed = (await org["boss"].get("/api/v1/projects", params={"q": body["name"]})).json()["items"]
    assert [p["id"] for p in listed] == [pid]
    assert (await admin.get(f"/api/v1/projects/{pid}")).status_code == 200
    assert (await admin.get("/api/v1/projects/does-not-exist")).status_code == 404


async def test_paging_with_cursor(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    tag = f"分页{uuid.uuid4().hex[:6]}"
    ids = set()
    for i in range(5):
        r = await rep.post("/api/v1/projects", json=project(form, name=f"{tag}-{i}"))
        ids.add(r.json()["id"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"q": tag, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await rep.get("/api/v1/projects", params=params)).json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        for item in page["items"]:
            assert {"id", "code", "name", "status", "amount", "owner_id"} <= set(item)
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert len(seen) == len(set(seen)) == 5 and set(seen) == ids
    assert pages >= 3
    drafts = (await rep.get("/api/v1/projects", params={"q": tag, "status": "draft"})).json()["items"]
    assert len(drafts) == 5
    assert (await rep.get("/api/v1/projects", params={"q": tag, "status": "active"})).json()["items"] == []
    assert set(fields_of(await rep.get("/api/v1/projects", params={"status": "bogus"}))) == {"status"}
    assert set(fields_of(await rep.get("/api/v1/projects", params={"limit": 0}))) == {"limit"}


async def test_submit_endpoint(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    pid = (await rep.post("/api/v1/projects", json=project(form))).json()["id"]
    r = await rep.post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["id"] == pid and p["status"] == "pending_approval"

    async def planned() -> list[dict[str, Any]] | None:
        # planned, then the first step opened ("waiting" until its tasks exist)
        steps = (await rep.get(f"/api/v1/projects/{pid}")).json()["approval"]["steps"]
        return steps if steps and steps[0]["status"] != "waiting" else None

    steps = await eventually(planned)  # the workflow plans the chain right after the submit
    assert steps[0]["approvers"] == [org.user("boss")] and steps[0]["status"] == "pending"
    r = await rep.post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 409, r.text
    r = await rep.post(f"/api/v1/projects/{pid}/submit", headers={"Accept-Language": "en"})
    assert r.status_code == 409 and r.json()["error"]["message"].isascii()


async def test_forms_and_simulate(admin: httpx.AsyncClient, org: Org) -> None:
    steps = [
        {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"},
        {
            "name": "财务审批",
            "when": "project.amount >= 100000",
            "approvers": {"type": "role", "role": "finance"},
            "mode": "any",
        },
    ]
    form = await make_form(admin, org, steps=steps)
    r = await org["rep"].get(f"/api/v1/forms/{form}")
    assert r.status_code == 200
    got = r.json()
    assert got["key"] == form and got["version"] == 1 and got["fields"][0]["key"] == "phone"
    assert (await org["rep"].get("/api/v1/forms/no-such-form")).status_code == 404
    small = await org["rep"].post(f"/api/v1/approval-policies/{form}/simulate", json=project(form, amount=500))
    assert small.status_code == 200, small.text
    assert [s["name"] for s in small.json()["steps"]] == ["经理审批"]
    assert small.json()["steps"][0]["approvers"] == [org.user("boss")]
    big = await org["rep"].post(f"/api/v1/approval-policies/{form}/simulate", json=project(form, amount="120000"))
    assert [s["name"] for s in big.json()["steps"]] == ["经理审批", "财务审批"]
    assert org.user("finance") in big.json()["steps"][1]["approvers"]
