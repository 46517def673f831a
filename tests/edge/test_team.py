"""Project team (项目团队), ownership handover (报备交接) and 再次发起 over HTTP on the real stack.

The owner becomes PM at approval; team members see the project and its tasks (field read
permissions still apply); the PM edits the plan; observers only read; assigning a task notifies
the assignee once; an admin hands registrations over (audited, the new owner notified); the owner
copies a rejected registration into a new draft."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_approvals import submitted, todo_for
from tests.edge.test_tasks import active_project, fields

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def inbox(client: httpx.AsyncClient, pid: str, kind: str) -> list[dict[str, Any]]:
    items = (await client.get("/api/v1/me/notifications")).json()["items"]
    return [n for n in items if n.get("project_id") == pid and n["kind"] == kind]


async def test_team_visibility_and_pm_plans(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active_project(admin, org)
    rep, rep2, outsider, finance = org["rep"], org["rep2"], org["outsider"], org["finance"]
    url = f"/api/v1/projects/{pid}/team"
    r = await rep.get(url)
    assert r.status_code == 200, r.text
    assert [(m["user_id"], m["role"]) for m in r.json()["members"]] == [(org.user("rep"), "pm")]
    assert r.json()["can_edit"] is True and r.json()["members"][0]["name"] == "销售甲"

    # Not on the team: neither the project nor its team nor its tasks.
    assert (await outsider.get(f"/api/v1/projects/{pid}")).status_code == 404
    assert (await outsider.get(url)).status_code == 404
    assert (await outsider.put(url, json={"members": []})).status_code == 404

    body = {"members": [{"user_id": org.user("rep2"), "role": "pm"}, {"user_id": org.user("rep"), "role": "member"},
                        {"user_id": org.user("outsider"), "role": "observer"}]}
    r = await rep.put(url, json=body)
    assert r.status_code == 200, r.text
    assert [(m["user_id"], m["role"]) for m in r.json()["members"]] == [
        (org.user("rep2"), "pm"), (org.user("rep"), "member"), (org.user("outsider"), "observer")]

    # Those added are told (not the caller).
    for who in ("rep2", "outsider"):
        notes = await eventually(lambda c=org[who]: inbox(c, pid, "team_added"))
        assert len(notes) == 1, notes
    assert await inbox(rep, pid, "team_added") == []
    # Team members may be @mentioned (they see the project).
    r = await rep.post(f"/api/v1/projects/{pid}/comments",
                       json={"body": "@外部门 请关注进度", "mentions": [org.user("outsider")]})
    assert r.status_code == 201, r.text
    # The observer now sees the project, its tasks and schedule, and reads only.
    r = await outsider.get(f"/api/v1/projects/{pid}")
    assert r.status_code == 200, r.text
    assert "team_changed" in [h["event"] for h in r.json()["history"]]
    assert (await outsider.get(f"/api/v1/projects/{pid}/tasks")).status_code == 200
    assert (await outsider.get(f"/api/v1/projects/{pid}/schedule")).status_code == 200
    listed = (await outsider.get("/api/v1/projects", params={"limit": 200})).json()["items"]
    assert pid in [p["id"] for p in listed]
    r = await outsider.post(f"/api/v1/projects/{pid}/tasks", json={"name": "偷偷加任务", "duration_days": 1})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_project_owner", r.text
    r = await outsider.put(url, json={"members": []})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_team_editor", r.text
    assert (await outsider.get(url)).json()["can_edit"] is False

    # The PM plans like the owner; assigning notifies the assignee once.
    r = await rep2.post(f"/api/v1/projects/{pid}/tasks",
                        json={"name": "方案设计", "duration_days": 2, "assignee_id": org.user("finance")})
    assert r.status_code == 201, r.text
    task = r.json()
    assert (await rep2.patch(f"/api/v1/tasks/{task['id']}", json={"progress": 10})).status_code == 200
    cost = {"kind": "expense", "amount": "12.50", "note": "差旅", "at": "2026-06-01"}
    assert (await rep2.post(f"/api/v1/projects/{pid}/costs", json=cost)).status_code == 201
    assert (await outsider.post(f"/api/v1/projects/{pid}/costs", json=cost)).status_code == 403
    notes = await eventually(lambda: inbox(finance, pid, "task_assigned"))
    assert len(notes) == 1 and "方案设计" in notes[0]["title"], notes
    # Re-assigning to the same person notifies nobody again; to someone else notifies them.
    r = await rep2.patch(f"/api/v1/tasks/{task['id']}", json={"assignee_id": org.user("finance")})
    assert r.status_code == 200, r.text
    r = await rep2.patch(f"/api/v1/tasks/{task['id']}", json={"assignee_id": org.user("director")})
    assert r.status_code == 200, r.text
    await eventually(lambda: inbox(org["director"], pid, "task_assigned"))
    assert len(await inbox(finance, pid, "task_assigned")) == 1

    # Validation names the field; audit log has the change.
    r = await rep2.put(url, json={"members": [{"user_id": "ghost", "role": "member"},
                                              {"user_id": org.user("rep"), "role": "boss"}]})
    assert "members[1].role" in fields(r)
    r = await rep2.put(url, json={"members": [{"user_id": "ghost", "role": "member"}]})
    assert fields(r) == ["members[0].user_id"]
    audit = (await admin.get("/api/v1/audit-log", params={"action": "project.team_changed", "target_id": pid})).json()
    assert len(audit["items"]) == 1, audit


async def test_handover_one_project_and_all_of_a_user(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active_project(admin, org)
    other = await active_project(admin, org)
    url = f"/api/v1/projects/{pid}/handover"
    assert (await org["rep"].post(url, json={"to_user_id": org.user("rep2")})).status_code == 403
    assert fields(await admin.post(url, json={"to_user_id": "ghost"})) == ["to_user_id"]
    r = await admin.post(url, json={"to_user_id": org.user("rep2"), "reason": "岗位调整"})
    assert r.status_code == 200, r.text
    assert r.json()["projects"] == [{"id": pid, "code": r.json()["projects"][0]["code"], "name":
                                     r.json()["projects"][0]["name"], "from_user_id": org.user("rep"),
                                     "status": "active"}]
    p = (await org["rep2"].get(f"/api/v1/projects/{pid}")).json()
    assert p["owner_id"] == org.user("rep2")
    assert p["history"][-1]["event"] == "handed_over"
    assert [(m["user_id"], m["role"]) for m in (await admin.get(f"/api/v1/projects/{pid}/team")).json()["members"]] \
        == [(org.user("rep2"), "pm")]
    await eventually(lambda: inbox(org["rep2"], pid, "project_handed_over"))

    r = await admin.post(f"/api/v1/users/{org.user('rep')}/handover-projects",
                         json={"to_user_id": org.user("boss"), "reason": "离职"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["projects"]] == [other]
    assert (await admin.post("/api/v1/users/ghost-user/handover-projects",
                             json={"to_user_id": org.user("boss")})).status_code == 404
    for project_id in (pid, other):
        audit = (await admin.get("/api/v1/audit-log", params={"action": "project.handed_over",
                                                               "target_id": project_id})).json()
        assert len(audit["items"]) == 1, audit


async def test_copy_rejected_registration(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount="88000")
    assert (await org["rep"].post(f"/api/v1/projects/{pid}/copy")).status_code == 409
    todo = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "reject"})
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    assert (await org["boss"].post(f"/api/v1/projects/{pid}/copy")).status_code == 403
    r = await org["rep"].post(f"/api/v1/projects/{pid}/copy")
    assert r.status_code == 201, r.text
    new = r.json()
    assert set(new) == {"id", "code", "status"} and new["status"] == "draft" and new["id"] != pid
    src = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    got = (await org["rep"].get(f"/api/v1/projects/{new['id']}")).json()
    assert (got["amount"], got["customer"]["name"], got["fields"]) == (src["amount"], src["customer"]["name"],
                                                                       src["fields"])
    assert got["history"][-1]["event"] == "copied_from"
    # The copy is a normal draft: it can be submitted.
    r = await org["rep"].post(f"/api/v1/projects/{new['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text


async def test_pending_registration_handed_over_new_owner_withdraws(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount="5000")
    await todo_for(org["boss"], pid)
    r = await admin.post(f"/api/v1/projects/{pid}/handover", json={"to_user_id": org.user("rep2")})
    assert r.status_code == 200 and r.json()["projects"][0]["status"] == "pending_approval", r.text
    # The lifecycle workflow learnt the new owner: the old one may no longer withdraw, the new one may.
    assert (await org["rep"].post(f"/api/v1/projects/{pid}/withdraw", json={})).status_code in (403, 404)
    r = await org["rep2"].post(f"/api/v1/projects/{pid}/withdraw", json={"comment": "交接后撤回"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
