"""Project comments and @mentions over HTTP, the whole stack in-process: post, reply, threads by
anchor (project, approval step, task), a mention of someone who may not see the project refused
with 422 on mentions[i], the idempotent repeat (one comment, one notification), notifications in
the mentioned user's and the replied-to author's inbox, deleting, and @ from an approval comment."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack, eventually
from tests.edge.test_approvals import submitted, todo_for
from tests.edge.test_projects import fields_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def inbox(client: httpx.AsyncClient, kind: str, project_id: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/me/notifications", params={"limit": 200})
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == kind and n.get("project_id") == project_id]


async def test_mention_reply_and_inbox(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org)
    rep, boss = org["rep"], org["boss"]
    url = f"/api/v1/projects/{pid}/comments"
    key = uuid.uuid4().hex
    body = {"body": "@部门经理 请看一下报价", "mentions": [org.user("boss")]}
    r = await rep.post(url, json=body, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    c = r.json()
    assert (c["anchor"], c["author_id"], c["author_name"], c["mentions"], c["mention_names"]) == (
        "project", org.user("rep"), "销售甲", [org.user("boss")], ["部门经理"])
    assert "parent_id" not in c and not c["deleted"]
    # The same key again: the first answer, no second comment, no second notification.
    again = await rep.post(url, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == c["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"

    # Even past the edge's replay record (a retry after a failure halfway), the registry answers
    # the same comment for the same key and notify sends each recipient one notification.
    await stack.deps.redis.delete(
        f"baobei:edge:idem:{org.user('rep')}:POST:{url}:{hashlib.sha256(key.encode()).hexdigest()}")
    third = await rep.post(url, json=body, headers={"Idempotency-Key": key})
    assert third.status_code == 201 and third.json()["id"] == c["id"]
    assert "Idempotent-Replayed" not in third.headers
    assert (await rep.get(url)).json()["total"] == 1

    notes = await eventually(lambda: inbox(boss, "mentioned", pid))
    assert len(notes) == 1
    n = notes[0]
    assert n["title"].startswith("销售甲在评论中 @ 了您") and "请看一下报价" in n["body"]
    assert n["action_url"].endswith(f"/projects/{pid}?comment={c['id']}#comment-{c['id']}")
    assert await inbox(rep, "mentioned", pid) == []  # never the author

    # The manager replies; the rep (author of the comment answered) is told, the manager is not.
    r = await boss.post(url, json={"body": "收到，今天看", "parent_id": c["id"]})
    assert r.status_code == 201, r.text
    reply = r.json()
    assert (reply["parent_id"], reply["reply_to_id"]) == (c["id"], c["id"])
    replied = await eventually(lambda: inbox(rep, "comment_replied", pid))
    assert len(replied) == 1 and replied[0]["title"].startswith("部门经理回复了您的评论")
    assert await inbox(boss, "comment_replied", pid) == []

    page = (await rep.get(url)).json()
    assert page["total"] == 1 and [t["id"] for t in page["items"]] == [c["id"]]
    assert [x["body"] for x in page["items"][0]["replies"]] == ["收到，今天看"]

    # The step anchor exists (step 0, the manager's); others do not; a parent elsewhere is refused.
    r = await boss.post(url, json={"body": "审批意见补充", "anchor": "step:0"})
    assert r.status_code == 201, r.text
    assert (await rep.get(url, params={"anchor": "step:0"})).json()["total"] == 1
    assert "anchor" in fields_of(await rep.post(url, json={"body": "x", "anchor": "step:3"}))
    assert "anchor" in fields_of(await rep.post(url, json={"body": "x", "anchor": "task:nope"}))
    assert "anchor" in fields_of(await rep.post(url, json={"body": "x", "anchor": "somewhere"}))
    assert "parent_id" in fields_of(await rep.post(url, json={"body": "x", "anchor": "step:0",
                                                              "parent_id": c["id"]}))
    assert "body" in fields_of(await rep.post(url, json={"body": ""}))
    # NUL characters never reach a database (PostgreSQL refuses them): 422 or 404, never a 500.
    assert "body" in fields_of(await rep.post(url, json={"body": "a\x00b"}))
    assert "anchor" in fields_of(await rep.post(url, json={"body": "x", "anchor": "task:\x00"}))
    assert list(fields_of(await rep.post(url, json={"body": "x", "mentions": ["u\x00"]}))) == ["mentions[0]"]
    assert "parent_id" in fields_of(await rep.post(url, json={"body": "x", "parent_id": "p\x00"}))
    assert (await rep.delete("/api/v1/comments/x%00y")).status_code == 404


async def test_mentioning_someone_who_may_not_see_the_project(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org)
    url = f"/api/v1/projects/{pid}/comments"
    r = await org["rep"].post(url, json={"body": "@外部门", "mentions": [org.user("outsider")]})
    errors = fields_of(r)
    assert list(errors) == ["mentions[0]"] and "外部门 无权查看该项目" in errors["mentions[0]"]
    r = await org["rep"].post(url, json={"body": "@?", "mentions": [org.user("boss"), "no-such-user"]},
                              headers={"Accept-Language": "en"})
    assert list(fields_of(r)) == ["mentions[1]"]
    assert (await org["rep"].get(url)).json()["total"] == 0  # nothing stored
    # The outsider cannot read or post either.
    assert (await org["outsider"].get(url)).status_code == 404
    assert (await org["outsider"].post(url, json={"body": "hi"})).status_code == 404


async def test_tasks_assignees_and_approval_comments(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org)
    rep, boss = org["rep"], org["boss"]
    # Before the decision: finance (same department, no relation) may not be mentioned from the approval.
    r = await rep.post(f"/api/v1/projects/{pid}/approval/comments",
                       json={"comment": "@财务 @部门经理", "mentions": [org.user("finance"), org.user("boss")]})
    assert list(fields_of(r)) == ["mentions[0]"]
    key = uuid.uuid4().hex
    for _ in range(2):
        r = await rep.post(f"/api/v1/projects/{pid}/approval/comments", headers={"Idempotency-Key": key},
                           json={"comment": "@部门经理 客户催得紧", "mentions": [org.user("boss")]})
        assert r.status_code == 201, r.text
    notes = await eventually(lambda: inbox(boss, "mentioned", pid))
    assert len(notes) == 1 and "客户催得紧" in notes[0]["body"]

    todo = await todo_for(boss, pid)
    r = await boss.post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.json()["status"] == "active", r.text
    r = await rep.post(f"/api/v1/projects/{pid}/tasks", json={"name": "对账", "assignee_id": org.user("finance")})
    assert r.status_code == 201, r.text
    task = r.json()["id"]
    # Now finance holds a task of the project: they may be mentioned on it.
    url = f"/api/v1/projects/{pid}/comments"
    r = await rep.post(url, json={"body": "@财务 请对账", "anchor": f"task:{task}", "mentions": [org.user("finance")]})
    assert r.status_code == 201, r.text
    comment = r.json()
    await eventually(lambda: inbox(org["finance"], "mentioned", pid))
    on_task = (await org["finance"].get(url, params={"anchor": f"task:{task}"})).json()
    assert [t["id"] for t in on_task["items"]] == [comment["id"]]

    # Deleting: others who see it get 403, those who do not 404; the author may, once or twice.
    assert (await boss.delete(f"/api/v1/comments/{comment['id']}")).status_code == 403
    assert (await org["outsider"].delete(f"/api/v1/comments/{comment['id']}")).status_code == 404
    for _ in range(2):
        r = await rep.delete(f"/api/v1/comments/{comment['id']}")
        assert r.status_code == 200, r.text
        assert r.json()["deleted"] and r.json()["body"] == "" and r.json()["deleted_by"] == org.user("rep")
    # An admin may delete anyone's comment: audited.
    r = await boss.post(url, json={"body": "这条由管理员删除"})
    other = r.json()["id"]
    r = await admin.delete(f"/api/v1/comments/{other}")
    assert r.status_code == 200 and r.json()["deleted_by"] == "admin", r.text
    events = (await admin.get("/api/v1/audit-log", params={"action": "comment.deleted"})).json()["items"]
    assert any(e["target_id"] == other and e["details"]["author_id"] == org.user("boss") for e in events)
