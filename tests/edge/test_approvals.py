"""Approving over HTTP: the three-step approve path, rejection, who may decide, double
decisions, bad actions, notifications and the portfolio report."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_projects import fields_of, make_form, project

pytestmark = pytest.mark.asyncio(loop_scope="session")

BIG_DEAL = [
    {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"},
    {
        "name": "财务审批",
        "when": "project.amount >= 100000",
        "approvers": {"type": "role", "role": "finance", "scope": "department"},
        "mode": "any",
    },
    {
        "name": "总监审批",
        "when": "project.amount >= 100000",
        # Roles are shared by every test org of the session: scope them to the submitter's department.
        "approvers": {"type": "role", "role": "director", "scope": "department"},
        "mode": "all",
    },
]


async def todo_for(client: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        r = await client.get("/api/v1/me/todos")
        assert r.status_code == 200, r.text
        return next((t for t in r.json()["items"] if t["project_id"] == pid), None)

    return await eventually(find)


async def submitted(
    admin: httpx.AsyncClient, org: Org, *, steps: list[dict[str, Any]] | None = None, amount: Any = "120000"
) -> tuple[str, str]:
    form = await make_form(admin, org, steps=steps)
    r = await org["rep"].post("/api/v1/projects", json={**project(form, amount=amount), "submit": True})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending_approval"
    return form, r.json()["id"]


async def test_three_step_approval_to_active(admin: httpx.AsyncClient, org: Org) -> None:
    form, pid = await submitted(admin, org, steps=BIG_DEAL)
    for approver, step in (("boss", "经理审批"), ("finance", "财务审批"), ("director", "总监审批")):
        todo = await todo_for(org[approver], pid)
        assert todo["step"] == step and todo["id"]
        r = await org[approver].post(
            f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve", "comment": f"{step}同意"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["project_id"] == pid
    # the last decision took effect before the answer
    assert r.json()["status"] == "active"
    p = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert p["status"] == "active"
    assert p["amount"] == "120000.00" or p["amount"] == "120000"
    steps = p["approval"]["steps"]
    assert [s["name"] for s in steps] == ["经理审批", "财务审批", "总监审批"]
    assert all(s["status"] == "approved" for s in steps)
    assert steps[0]["decisions"][0]["user_id"] == org.user("boss")
    assert steps[0]["decisions"][0]["action"] == "approve"
    assert steps[0]["decisions"][0]["comment"] == "经理审批同意"
    assert steps[0]["decisions"][0]["at"]
    assert {"created", "submitted"} <= {h["event"] for h in p["history"]}
    # no to-dos left
    for approver in ("boss", "finance", "director"):
        items = (await org[approver].get("/api/v1/me/todos")).json()["items"]
        assert all(t["project_id"] != pid for t in items)
    # approvers were notified with action links
    # (the approval requests come from approval's notice outbox, sent by the relay within a poll)
    async def requests() -> list[dict[str, Any]]:
        inbox = (await org["boss"].get("/api/v1/me/notifications")).json()["items"]
        return [n for n in inbox if n.get("project_id") == pid]

    mine = await eventually(requests)
    assert {"id", "kind", "title", "body", "created_at"} <= set(mine[0])
    # Signed action links come with the action-link issue; when present they are absolute.
    assert all(n["action_url"].startswith("http") for n in mine if "action_url" in n)


async def test_reject(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org)
    todo = await todo_for(org["boss"], pid)
    r = await org["boss"].post(
        f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "reject", "comment": "撞单"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"project_id": pid, "status": "rejected"}
    p = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert p["status"] == "rejected"
    assert p["approval"]["steps"][0]["status"] == "rejected"
    # a rejected project cannot be submitted again
    r = await org["rep"].post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 409, r.text


async def test_who_may_decide(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount=100)
    todo = await todo_for(org["boss"], pid)
    url = f"/api/v1/approval-tasks/{todo['id']}/decision"
    # the owner sees the project but is not the approver
    r = await org["rep"].post(url, json={"action": "approve"})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "not_approver"
    # admins see everything, but are not approvers either
    assert (await admin.post(url, json={"action": "approve"})).status_code == 403
    # someone who cannot see the project
    assert (await org["outsider"].post(url, json={"action": "approve"})).status_code == 404
    assert (
        await org["boss"].post("/api/v1/approval-tasks/no-such-task/decision", json={"action": "approve"})
    ).status_code == 404
    # bad actions
    assert set(fields_of(await org["boss"].post(url, json={"action": "maybe"}))) == {"action"}
    assert set(fields_of(await org["boss"].post(url, json={}))) == {"action"}
    r = await org["boss"].post(url, json={"action": "transfer"}, headers={"Accept-Language": "en"})
    assert fields_of(r) == {"to_user_id": "to_user_id is required"}
    r = await org["boss"].post(url, json={"action": "add_approver", "to_user_id": "ghost"})
    assert r.status_code == 422 and set(fields_of(r)) == {"to_user_id"}, r.text
    # nothing above changed anything
    p = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert p["status"] == "pending_approval"
    assert p["approval"]["steps"][0]["decisions"] == []


async def test_second_decision_is_409(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount=100)
    todo = await todo_for(org["boss"], pid)
    url = f"/api/v1/approval-tasks/{todo['id']}/decision"
    assert (await org["boss"].post(url, json={"action": "approve"})).status_code == 200
    r = await org["boss"].post(url, json={"action": "reject"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["message"] == "该审批任务已处理"
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "active"


async def test_double_click_one_wins(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount=100)
    todo = await todo_for(org["boss"], pid)
    url = f"/api/v1/approval-tasks/{todo['id']}/decision"
    results = await asyncio.gather(*(org["boss"].post(url, json={"action": "approve"}) for _ in range(2)))
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    p = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert p["status"] == "active"
    assert len(p["approval"]["steps"][0]["decisions"]) == 1


async def test_portfolio(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    pid = (await org["rep"].post("/api/v1/projects", json=project(form, amount="100.50"))).json()["id"]

    async def rep_sees_it() -> dict[str, Any] | None:
        r = await org["rep"].get("/api/v1/reports/portfolio")
        assert r.status_code == 200, r.text
        body = r.json()
        return body if any(p["id"] == pid for p in body["projects"]) else None

    body = await eventually(rep_sees_it)
    assert {"by_status", "total_amount", "overdue_tasks", "projects"} <= set(body)
    assert all(p["health"] in ("green", "amber", "red") for p in body["projects"])
    outsider = (await org["outsider"].get("/api/v1/reports/portfolio")).json()
    assert all(p["id"] != pid for p in outsider["projects"])
    everything = (await admin.get("/api/v1/reports/portfolio")).json()
    assert any(p["id"] == pid for p in everything["projects"])


async def test_pending_approval_carries_a_forecast(admin: httpx.AsyncClient, org: Org) -> None:
    """A form's first approval has nothing to learn from; once one of its kind is decided, the next
    one pending gets a forecast (numbers: tests/unit/test_approval_forecast.py)."""
    form = await make_form(admin, org)
    created = [(await org["rep"].post("/api/v1/projects", json={**project(form), "submit": True})).json()["id"]
               for _ in range(2)]
    first = (await org["rep"].get(f"/api/v1/projects/{created[0]}/approval")).json()
    assert "forecast" in first
    todo = await todo_for(org["boss"], created[0])
    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text
    decided = (await org["rep"].get(f"/api/v1/projects/{created[0]}/approval")).json()
    assert decided["forecast"] is None
    pending = (await org["rep"].get(f"/api/v1/projects/{created[1]}/approval")).json()
    f = pending["forecast"]
    assert f is not None and f["low_at"] <= f["expected_at"] <= f["high_at"], pending
    assert [b["step"] for b in f["basis"]] == ["经理审批"] and f["basis"][0]["samples"] >= 1
