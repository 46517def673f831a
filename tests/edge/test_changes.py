"""Change requests (变更) over HTTP: validation as for registration (422 naming `changes.<path>`,
`changes` for a change that changes nothing), one open change per project (409), the before/after
diff (a field the approver may not read is left out of their to-do and of GET /changes/{id}), the
form's policy on the changed amount (a raise past the branch brings in the director), apply only on
approval (history `changed`), a rejected change applies nothing, and withdrawal."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack, eventually
from tests.edge.test_projects import fields_of, project

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def change_form(admin: httpx.AsyncClient, org: Org) -> str:
    key = f"chg-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(f"/api/v1/forms/{key}", json={"title": "项目报备", "fields": [
        {"key": "phone", "label": "电话", "type": "phone", "required": True},
        {"key": "scope", "label": "范围", "type": "text"},
        {"key": "margin", "label": "毛利", "type": "text", "read_roles": ["finance"]},
        {"key": "price", "label": "底价", "type": "text", "write_roles": ["finance"]},
    ]})
    assert r.status_code == 200, r.text
    r = await admin.put(f"/api/v1/approval-policies/{key}", json={"form_key": key, "steps": [
        {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"},
        {"name": "大额审批", "when": "project.amount > 100000",
         "approvers": {"type": "user", "user_id": org.user("director")}, "mode": "any"},
    ]})
    assert r.status_code == 200, r.text
    return key


async def todo_of(client: httpx.AsyncClient, pid: str, purpose: str) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        items = (await client.get("/api/v1/me/todos")).json()["items"]
        return next((t for t in items if t["project_id"] == pid and t["purpose"] == purpose), None)

    return dict(await eventually(find))


async def active_project(admin: httpx.AsyncClient, org: Org) -> tuple[str, str]:
    form = await change_form(admin, org)
    r = await org["rep"].post("/api/v1/projects", json={**project(form, fields={"phone": "13700001111",
                                                                                "margin": "20%"}), "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    task = await todo_of(org["boss"], pid, "registration")
    r = await org["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return form, pid


def diff_fields(body: dict[str, Any]) -> list[str]:
    return [d["field"] for d in body["diff"]]


async def test_change_validation_one_open_diff_and_apply(admin: httpx.AsyncClient, org: Org) -> None:
    form, pid = await active_project(admin, org)
    rep, boss, director = org["rep"], org["boss"], org["director"]
    url = f"/api/v1/projects/{pid}/changes"

    # Validation as for registration, naming the field under `changes`.
    assert set(fields_of(await rep.post(url, json={"changes": {"amount": "-1"}, "reason": "调整"}))) == {
        "changes.amount"}
    assert set(fields_of(await rep.post(url, json={"changes": {"fields": {"phone": "bad"}}, "reason": "调整"}))) == {
        "changes.fields.phone"}
    assert set(fields_of(await rep.post(url, json={"changes": {"start_date": "2026-13-01"}, "reason": "调整"}))) == {
        "changes.start_date"}
    assert set(fields_of(await rep.post(url, json={"changes": {"name": "新名称"}, "reason": "调整"}))) == {
        "changes.name"}
    assert set(fields_of(await rep.post(url, json={"changes": {"amount": "300000"}}))) == {"reason"}
    r = await rep.post(url, json={"changes": {"amount": "12345.60", "fields": {"scope": None}}, "reason": "无变化"})
    assert set(fields_of(r)) == {"changes"}, r.text
    # A field with write_roles the owner lacks: 403 naming it.
    r = await rep.post(url, json={"changes": {"fields": {"price": "100"}}, "reason": "调整"})
    assert r.status_code == 403, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == ["changes.fields.price"]
    # Only the owner (or an admin) proposes; a draft cannot be changed.
    r = await boss.post(url, json={"changes": {"amount": "300000"}, "reason": "调整"})
    assert r.status_code == 403, r.text
    draft = (await rep.post("/api/v1/projects", json=project(form))).json()["id"]
    r = await rep.post(f"/api/v1/projects/{draft}/changes", json={"changes": {"amount": "1"}, "reason": "调整"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition", r.text
    assert (await rep.get(url)).json()["items"] == []

    # A raise past the 100,000 branch, with a restricted field changed too.
    r = await rep.post(url, json={"changes": {"amount": 300000, "start_date": "2026-12-01",
                                              "fields": {"margin": "毛利三成五", "scope": "二期"}},
                                  "reason": "客户追加二期", "reset_baseline": False})
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["status"] == "pending" and change["reason"] == "客户追加二期"
    assert {d["field"]: (d["before"], d["after"]) for d in change["diff"]} == {
        "amount": ("12345.60", "300000.00"), "start_date": ("", "2026-12-01"),
        "fields.margin": ("20%", "毛利三成五"), "fields.scope": (None, "二期")}
    assert [s["name"] for s in change["approval"]["steps"]] == ["经理审批", "大额审批"]
    # One open change at a time.
    r = await rep.post(url, json={"changes": {"amount": "400000"}, "reason": "再改"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "change_pending", r.text

    # The manager may not read `margin`: not in their to-do's diff nor in GET /changes/{id}.
    task = await todo_of(boss, pid, "change")
    assert task["change"]["id"] == change["id"] and task["change"]["reason"] == "客户追加二期"
    assert "fields.margin" not in diff_fields(task["change"])
    assert set(diff_fields(task["change"])) == {"amount", "start_date", "fields.scope"}
    r = await boss.get(f"/api/v1/changes/{change['id']}")
    assert r.status_code == 200 and "fields.margin" not in diff_fields(r.json()), r.text
    assert "fields.margin" in diff_fields((await rep.get(f"/api/v1/changes/{change['id']}")).json())
    assert (await org["outsider"].get(f"/api/v1/changes/{change['id']}")).status_code == 404
    # The action link's page shows the change as the approver may read it (no margin), never deciding.
    async def change_link() -> str | None:
        items = (await boss.get("/api/v1/me/notifications")).json()["items"]
        return next((n["action_url"] for n in items if n.get("project_id") == pid and n.get("action_url")
                     and n["title"].startswith("待审批变更")), None)

    page = await boss.get(str(await eventually(change_link)))
    assert page.status_code == 200, page.text
    assert "变更申请" in page.text and "客户追加二期" in page.text and "300000.00" in page.text
    assert "毛利三成五" not in page.text and "毛利" not in page.text

    # Nothing applies before the last approval; the branch brings in the director.
    r = await boss.post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    assert (await rep.get(f"/api/v1/projects/{pid}")).json()["amount"] == "12345.60"
    task = await todo_of(director, pid, "change")
    r = await director.post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text

    async def applied() -> dict[str, Any] | None:
        got = (await rep.get(f"/api/v1/changes/{change['id']}")).json()
        return got if got["status"] == "approved" else None

    done = await eventually(applied)
    assert done["decided_by"] == org.user("director") and done["applied_version"]
    got = (await rep.get(f"/api/v1/projects/{pid}")).json()
    assert got["amount"] == "300000.00" and got["start_date"] == "2026-12-01"
    assert got["fields"]["margin"] == "毛利三成五" and got["fields"]["scope"] == "二期"
    changed = [h for h in got["history"] if h["event"] == "changed"]
    assert len(changed) == 1
    # The registration's approval is what the project page shows still.
    assert got["approval"]["status"] == "approved" and [s["name"] for s in got["approval"]["steps"]] == ["经理审批"]

    # A rejected change applies nothing; the reason is kept.
    r = await rep.post(url, json={"changes": {"amount": "50000"}, "reason": "缩减"})
    assert r.status_code == 201, r.text
    second = r.json()
    assert [s["name"] for s in second["approval"]["steps"]] == ["经理审批"]
    task = await todo_of(boss, pid, "change")
    r = await boss.post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "reject",
                                                                                "comment": "预算已锁定"})
    assert r.status_code == 200, r.text

    async def rejected() -> dict[str, Any] | None:
        got = (await rep.get(f"/api/v1/changes/{second['id']}")).json()
        return got if got["status"] == "rejected" else None

    assert (await eventually(rejected))["outcome_reason"] == "预算已锁定"
    assert (await rep.get(f"/api/v1/projects/{pid}")).json()["amount"] == "300000.00"
    items = (await rep.get(url)).json()["items"]
    assert [(c["seq"], c["status"]) for c in items] == [(2, "rejected"), (1, "approved")]


async def test_withdraw_a_pending_change(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await active_project(admin, org)
    rep, boss = org["rep"], org["boss"]
    r = await rep.post(f"/api/v1/projects/{pid}/changes", json={"changes": {"end_date": "2027-06-30"},
                                                                "reason": "延期"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    await todo_of(boss, pid, "change")
    r = await boss.post(f"/api/v1/changes/{cid}/withdraw", json={})
    assert r.status_code == 403, r.text
    r = await rep.post(f"/api/v1/changes/{cid}/withdraw", json={"reason": "客户改主意"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
    r = await rep.post(f"/api/v1/changes/{cid}/withdraw", json={})
    assert r.status_code == 409, r.text
    items = (await boss.get("/api/v1/me/todos")).json()["items"]
    assert not [t for t in items if t["project_id"] == pid]
    assert (await rep.get(f"/api/v1/projects/{pid}")).json().get("end_date") in (None, "")
    # A new change may follow.
    r = await rep.post(f"/api/v1/projects/{pid}/changes", json={"changes": {"end_date": "2027-03-31"},
                                                                "reason": "延期"})
    assert r.status_code == 201, r.text


async def test_approved_change_resets_the_baseline_and_reaches_reporting(
    admin: httpx.AsyncClient, org: Org, stack: Stack
) -> None:
    _, pid = await active_project(admin, org)
    rep, boss = org["rep"], org["boss"]
    r = await rep.post(f"/api/v1/projects/{pid}/tasks", json={"name": "实施", "duration_days": 3})
    assert r.status_code == 201, r.text

    async def baseline() -> int:
        got = (await rep.get(f"/api/v1/projects/{pid}/schedule")).json()
        return int((got.get("baseline") or {}).get("number") or 0)

    before = await eventually(baseline)  # the approval's baseline (ProjectExecution) is saved
    r = await rep.post(f"/api/v1/projects/{pid}/changes", json={"changes": {"amount": "20000"}, "reason": "增补",
                                                                "reset_baseline": True})
    assert r.status_code == 201 and r.json()["reset_baseline"] is True, r.text
    cid = r.json()["id"]
    await todo_of(boss, pid, "change")

    # Decided from the e-mailed action link (no sign-in): it reaches the change's workflow.
    async def change_link() -> str | None:
        items = (await boss.get("/api/v1/me/notifications")).json()["items"]
        return next((n["action_url"] for n in items if n.get("project_id") == pid and n.get("action_url")
                     and n["title"].startswith("待审批变更")), None)

    async with stack.client(token=None) as anon:
        r = await anon.post(str(await eventually(change_link)), data={"action": "approve", "comment": "同意增补"})
        assert r.status_code == 200, r.text

    async def reported() -> bool:
        got = (await rep.get("/api/v1/reports/portfolio")).json()
        return any(p["id"] == pid and p.get("amount") == "20000.00" for p in got["projects"])

    await eventually(reported)
    assert (await rep.get(f"/api/v1/changes/{cid}")).json()["status"] == "approved"
    # The change saved a baseline of its own (after reporting heard of it).

    async def rebased() -> bool:
        return await baseline() == before + 1

    await eventually(rebased)
