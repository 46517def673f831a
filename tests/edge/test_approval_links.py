"""Issue 14 API gaps, over real gRPC: a comment's uploaded attachments are downloadable by whoever
may see the project's approval (and nobody else); an approval request notification names its
approval task (`task_id`); approval steps and to-dos say since when they wait (`opened_at`) and
when their SLA runs out (`due_at`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_approvals import todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def two_approver_project(admin: httpx.AsyncClient, org: Org) -> str:
    """Filed and submitted by rep: step 会签 (finance and director, both must approve, SLA 3d),
    then step 复核 (boss), still waiting."""
    role = f"ap-{org.run}"
    users = [
        {"id": org.user(who), "name": name, "department_id": org.dept, "roles": [base, role]}
        for who, name, base in (("finance", "财务", "finance"), ("director", "总监", "director"))
    ]
    r = await admin.put("/api/v1/org", json={"departments": [], "users": users})
    assert r.status_code == 200, r.text
    key = f"links-{org.run}-{uuid.uuid4().hex[:4]}"
    form = {"title": "链接报备", "fields": [{"key": "note", "label": "备注", "type": "text"}]}
    assert (await admin.put(f"/api/v1/forms/{key}", json=form)).status_code == 200
    policy = {
        "form_key": key,
        "steps": [
            {"name": "会签", "approvers": {"type": "role", "role": role}, "mode": "all", "sla": "3d"},
            {"name": "复核", "approvers": {"type": "user", "user_id": org.user("boss")}, "mode": "any"},
        ],
    }
    r = await admin.put(f"/api/v1/approval-policies/{key}", json=policy)
    assert r.status_code == 200, r.text
    body = {
        "form_key": key,
        "name": f"链接项目{uuid.uuid4().hex[:4]}",
        "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"},
        "amount": "5000",
        "fields": {"note": "常规"},
        "submit": True,
    }
    r = await org["rep"].post("/api/v1/projects", json=body)
    assert r.status_code == 201 and r.json()["status"] == "pending_approval", r.text
    return str(r.json()["id"])


async def upload(client: httpx.AsyncClient, name: str) -> str:
    data = b"%PDF-1.4 " + name.encode() + uuid.uuid4().bytes
    r = await client.post("/api/v1/attachments", files={"file": (name, data, "application/pdf")})
    assert r.status_code == 201, r.text
    return f"/api/v1/attachments/{r.json()['id']}/content"


async def test_comment_attachment_readable_by_who_sees_the_approval(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await two_approver_project(admin, org)
    await todo_for(org["finance"], pid)
    await todo_for(org["director"], pid)
    url = await upload(org["rep"], "报价单.pdf")
    for who in ("finance", "director", "outsider"):  # not shared yet: only the uploader
        assert (await org[who].get(url)).status_code == 404, who

    r = await org["finance"].post(
        f"/api/v1/projects/{pid}/approval/comments",
        json={"comment": "请看报价单", "attachments": [{"name": "报价单.pdf", "url": url},
                                                 {"name": "外链", "url": "https://files.example/x.pdf"}]},
    )
    assert r.status_code == 201, r.text
    for who in ("rep", "finance", "director", "boss"):  # owner, both approvers, the manager
        got = await org[who].get(url)
        assert got.status_code == 200 and got.content.startswith(b"%PDF-1.4"), (who, got.text)
    assert (await admin.get(url)).status_code == 200
    for who in ("outsider", "rep2"):  # cannot see the project: as if the file did not exist
        got = await org[who].get(url)
        assert got.status_code == 404 and got.json()["error"]["code"] == "attachment_not_found", (who, got.text)

    # CC'd users see the approval, so the file too
    r = await org["rep"].post(f"/api/v1/projects/{pid}/approval/cc", json={"user_ids": [org.user("rep2")]})
    assert r.status_code == 200, r.text
    assert (await org["rep2"].get(url)).status_code == 200

    # a file nobody on the project may read cannot be shared by naming it in a comment
    foreign = await upload(org["outsider"], "外部.pdf")
    r = await org["finance"].post(
        f"/api/v1/projects/{pid}/approval/comments",
        json={"comment": "转发", "attachments": [{"name": "外部.pdf", "url": f"https://bb.example{foreign}"}]},
    )
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == ["attachments[0].url"]
    assert (await org["director"].get(foreign)).status_code == 404
    # outsiders cannot comment on a project they cannot see
    r = await org["outsider"].post(f"/api/v1/projects/{pid}/approval/comments",
                                   json={"comment": "x", "attachments": [{"name": "a", "url": foreign}]})
    assert r.status_code == 404, r.text

    # a decision's attachments are shared the same way
    todo = await todo_for(org["director"], pid)
    own = await upload(org["director"], "意见.pdf")
    assert (await org["rep"].get(own)).status_code == 404
    r = await org["director"].post(f"/api/v1/approval-tasks/{todo['id']}/decision",
                                   json={"action": "approve", "attachments": [{"name": "意见.pdf", "url": own}]})
    assert r.status_code == 200, r.text
    assert (await org["rep"].get(own)).status_code == 200
    assert (await org["outsider"].get(own)).status_code == 404


async def test_approval_request_notification_names_its_task(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await two_approver_project(admin, org)
    todo = await todo_for(org["finance"], pid)

    async def request_for(client: httpx.AsyncClient, kind: str) -> dict[str, Any] | None:
        r = await client.get("/api/v1/me/notifications")
        assert r.status_code == 200, r.text
        return next((n for n in r.json()["items"] if n.get("project_id") == pid and n["kind"] == kind), None)

    note = await eventually(lambda: request_for(org["finance"], "approval_request"))
    assert note["task_id"] == todo["id"]
    assert note["action_url"].split("/a/")[0]  # the action link is still there
    director_todo = await todo_for(org["director"], pid)
    assert director_todo["id"] != todo["id"]
    director_note = await eventually(lambda: request_for(org["director"], "approval_request"))
    assert director_note["task_id"] == director_todo["id"]

    # other notifications carry no task
    r = await org["rep"].post(f"/api/v1/projects/{pid}/approval/cc", json={"user_ids": [org.user("rep2")]})
    assert r.status_code == 200, r.text
    cc_note = await eventually(lambda: request_for(org["rep2"], "approval_cc"))
    assert cc_note.get("task_id") is None


async def test_steps_and_todos_say_since_when_they_wait(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await two_approver_project(admin, org)
    todo = await todo_for(org["finance"], pid)
    assert todo["opened_at"] and todo["due_at"]
    opened, due = datetime.fromisoformat(todo["opened_at"]), datetime.fromisoformat(todo["due_at"])
    assert opened.tzinfo is not None and due > opened

    r = await org["rep"].get(f"/api/v1/projects/{pid}/approval")
    assert r.status_code == 200, r.text
    first, second = r.json()["steps"]
    assert first["status"] == "pending" and first["opened_at"] and first["due_at"]
    assert datetime.fromisoformat(first["opened_at"]) <= opened
    assert datetime.fromisoformat(first["due_at"]) == due
    assert second["status"] == "waiting" and second["opened_at"] is None and second["due_at"] is None
    # the project carries the same approval shape
    project = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert [s["opened_at"] for s in project["approval"]["steps"]] == [first["opened_at"], None]

    for who in ("finance", "director"):
        t = await todo_for(org[who], pid)
        r = await org[who].post(f"/api/v1/approval-tasks/{t['id']}/decision", json={"action": "approve"})
        assert r.status_code == 200, r.text
    boss_todo = await todo_for(org["boss"], pid)
    assert "due_at" not in boss_todo  # no SLA on 复核
    assert datetime.fromisoformat(boss_todo["opened_at"]) >= opened
    steps = (await org["rep"].get(f"/api/v1/projects/{pid}/approval")).json()["steps"]
    assert steps[0]["status"] == "approved" and steps[0]["opened_at"] == first["opened_at"]
    assert steps[1]["status"] == "pending" and steps[1]["opened_at"] and steps[1]["due_at"] is None
