"""Who may see a delivered project and who may record its costs, per relation to it.

Reading (GET project, schedule, tasks, costs): whoever may see the project — owner, manager of its
department, approvers (past ones too), CC'd users, admins, and now task assignees (field read
permissions still apply to them). Recording a cost (decided by the tasks service from the
relation the registry reports): owner, department manager, admin; an assignee logs timesheets on
their own task only; CC'd users and approvers get 403 `cost_not_allowed`; anyone else 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org
from tests.edge.test_approvals import todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def approved_project(admin: httpx.AsyncClient, org: Org) -> str:
    """Filed by rep, copied (CC) to director while pending, approved by finance: active."""
    key = f"cform-{org.run}-{uuid.uuid4().hex[:4]}"
    form = {
        "title": "交付报备",
        "fields": [
            {"key": "note", "label": "备注", "type": "text"},
            {"key": "margin", "label": "毛利", "type": "text", "read_roles": ["finance"]},
        ],
    }
    assert (await admin.put(f"/api/v1/forms/{key}", json=form)).status_code == 200
    policy = {
        "form_key": key,
        "steps": [{"name": "财务审批", "approvers": {"type": "user", "user_id": org.user("finance")}, "mode": "any"}],
    }
    r = await admin.put(f"/api/v1/approval-policies/{key}", json=policy)
    assert r.status_code == 200, r.text
    body = {
        "form_key": key,
        "name": f"交付项目{uuid.uuid4().hex[:4]}",
        "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"},
        "amount": "100000",
        "fields": {"note": "常规", "margin": "35%"},
        "submit": True,
    }
    r = await org["rep"].post("/api/v1/projects", json=body)
    assert r.status_code == 201 and r.json()["status"] == "pending_approval", r.text
    pid = str(r.json()["id"])
    todo = await todo_for(org["finance"], pid)
    r = await org["rep"].post(f"/api/v1/projects/{pid}/approval/cc", json={"user_ids": [org.user("director")]})
    assert r.status_code == 200, r.text
    r = await org["finance"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return pid


async def test_each_relation_reads_and_records_costs_as_allowed(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await approved_project(admin, org)
    rep, rep2, boss = org["rep"], org["rep2"], org["boss"]
    cc, approver, outsider = org["director"], org["finance"], org["outsider"]
    url = f"/api/v1/projects/{pid}/tasks"
    mine = (await rep.post(url, json={"name": "现场实施", "duration_days": 2, "assignee_id": org.user("rep2")})).json()
    other = (await rep.post(url, json={"name": "设备采购", "duration_days": 1})).json()
    assert mine.get("id") and other.get("id")

    # reading: everyone related sees the project; the assignee now too, without restricted fields
    for who in (rep, rep2, boss, cc, approver, admin):
        r = await who.get(f"/api/v1/projects/{pid}")
        assert r.status_code == 200, r.text
    assert (await outsider.get(f"/api/v1/projects/{pid}")).status_code == 404
    seen = (await rep2.get(f"/api/v1/projects/{pid}")).json()
    assert seen["fields"] == {"note": "常规"}  # margin is read_roles: finance
    assert (await approver.get(f"/api/v1/projects/{pid}")).json()["fields"]["margin"] == "35%"
    sched = await rep2.get(f"/api/v1/projects/{pid}/schedule")
    assert sched.status_code == 200 and {t["id"] for t in sched.json()["tasks"]} >= {mine["id"], other["id"]}
    assert (await rep2.get(url)).status_code == 200
    assert (await rep2.get(f"/api/v1/tasks/{other['id']}")).status_code == 200
    listed = (await rep2.get("/api/v1/projects", params={"limit": 200})).json()["items"]
    assert pid in {p["id"] for p in listed}
    assert (await outsider.get(f"/api/v1/projects/{pid}/schedule")).status_code == 404

    costs = f"/api/v1/projects/{pid}/costs"

    async def record(who: httpx.AsyncClient, **body: Any) -> httpx.Response:
        return await who.post(costs, json=body)

    expense = {"kind": "expense", "amount": "100"}
    # owner, department manager and admin record any cost
    for who in (rep, boss, admin):
        r = await record(who, **expense)
        assert r.status_code == 201, r.text
    # CC'd users and (past) approvers may read but not record
    for who in (cc, approver):
        for body in (expense, {"kind": "timesheet", "task_id": mine["id"], "hours": "1", "rate": "100"}):
            r = await record(who, **body)
            assert r.status_code == 403 and r.json()["error"]["code"] == "cost_not_allowed", r.text
        assert (await who.get(costs)).status_code == 200
    # the assignee logs hours on their own task, nothing else
    r = await record(rep2, kind="timesheet", task_id=mine["id"], hours="2", rate="150")
    assert r.status_code == 201 and r.json()["actor_id"] == org.user("rep2"), r.text
    for body in (
        {"kind": "timesheet", "task_id": other["id"], "hours": "1", "rate": "100"},
        {"kind": "expense", "task_id": mine["id"], "amount": "50"},
        {"kind": "timesheet", "hours": "1", "rate": "100"},
    ):
        r = await record(rep2, **body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "cost_not_allowed", (body, r.text)
    # a refused caller learns nothing from validation: 403 before 422
    r = await record(cc, kind="timesheet", hours="-1")
    assert r.status_code == 403, r.text
    assert (await record(outsider, **expense)).status_code == 404
    assert (await record(org["rep2"], **{**expense, "kind": "purchase"})).status_code == 403

    got = (await rep.get(costs)).json()
    assert got["actual"] == "600.00", got  # 3 × 100 + 2 h × 150
    assert sorted(c["actor_id"] for c in got["items"]) == sorted(
        [org.user("rep"), org.user("boss"), "admin", org.user("rep2")]
    )

