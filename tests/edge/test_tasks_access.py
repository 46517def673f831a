"""Who may read and change a task, and webhook / protection rules over HTTP.

PATCH: the project owner, the task's assignee or an admin; someone who sees the project (an
assignee of another task included) but is none of these gets 403, anyone else 404. GET:
additionally whoever may see the project. Webhook actions get a generated ``whsec_`` secret shown only in the
PUT answer; GET masks it and a masked secret sent back keeps the stored one."""

from __future__ import annotations

import httpx
import pytest

from tests.edge.conftest import Org
from tests.edge.test_tasks import active_project, fields

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_only_owner_assignee_or_admin_may_patch(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active_project(admin, org)
    rep, rep2, boss, outsider = org["rep"], org["rep2"], org["boss"], org["outsider"]
    url = f"/api/v1/projects/{pid}/tasks"
    mine = (await rep.post(url, json={"name": "现场实施", "duration_days": 2, "assignee_id": org.user("rep2")})).json()
    other = (await rep.post(url, json={"name": "验收", "duration_days": 1})).json()

    # a user who is neither owner, assignee nor admin and cannot see the project: 404, nothing changed
    r = await outsider.patch(f"/api/v1/tasks/{mine['id']}", json={"progress": 50})
    assert r.status_code == 404, r.text
    assert (await outsider.get(f"/api/v1/tasks/{mine['id']}")).status_code == 404
    # sees the project (manager of the owner's department) but is not the owner: may read, not change
    r = await boss.patch(f"/api/v1/tasks/{other['id']}", json={"progress": 50})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_project_owner", r.text
    assert (await boss.get(f"/api/v1/tasks/{other['id']}")).status_code == 200
    # the assignee sees the project (a task of it is theirs): changes their own task, reads the other
    r = await rep2.patch(f"/api/v1/tasks/{mine['id']}", json={"progress": 40, "status": "in_progress"})
    assert r.status_code == 200 and r.json()["progress"] == 40, r.text
    assert (await rep2.get(f"/api/v1/tasks/{mine['id']}")).status_code == 200
    assert (await rep2.patch(f"/api/v1/tasks/{other['id']}", json={"progress": 10})).status_code == 403
    assert (await rep2.get(f"/api/v1/tasks/{other['id']}")).status_code == 200
    # nothing the refused calls sent was stored
    items = {t["id"]: t for t in (await rep.get(url)).json()["items"]}
    assert items[mine["id"]]["progress"] == 40 and items[other["id"]]["progress"] == 0
    assert (await admin.patch(f"/api/v1/tasks/{other['id']}", json={"progress": 5})).status_code == 200


async def test_webhook_rule_secret_generated_masked_and_kept(admin: httpx.AsyncClient, org: Org) -> None:
    key = f"hook-{org.run}"
    body = {
        "name": "完成回调",
        "trigger": {"type": "status_change", "to": "done"},
        "when": 'project.id == "none"',
        "actions": [{"type": "webhook", "url": "https://hooks.example.com/baobei"}],
    }
    r = await admin.put(f"/api/v1/rules/{key}", json=body)
    assert r.status_code == 200, r.text
    secret = r.json()["actions"][0]["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    listed = {x["key"]: x for x in (await org["rep"].get("/api/v1/rules")).json()["items"]}
    assert listed[key]["actions"][0]["secret"] == "whsec_****"
    # the URL's path and query may be a credential too: non-admins see the host only
    assert listed[key]["actions"][0]["url"] == "https://hooks.example.com/****"
    listed = {x["key"]: x for x in (await admin.get("/api/v1/rules")).json()["items"]}
    assert listed[key]["actions"][0]["secret"] == "whsec_****"
    assert listed[key]["actions"][0]["url"] == "https://hooks.example.com/baobei"
    again = await admin.put(f"/api/v1/rules/{key}", json={**body, "actions": listed[key]["actions"]})
    assert again.status_code == 200 and again.json()["actions"][0]["secret"] == secret, again.text
    hook = {"type": "webhook", "url": "https://hooks.example.com/baobei", "secret": "x"}
    bad = await admin.put(f"/api/v1/rules/{key}", json={**body, "actions": [hook]})
    assert fields(bad) == ["actions[0].secret"]


async def test_protection_expiring_rule_needs_before(admin: httpx.AsyncClient, org: Org) -> None:
    body = {
        "name": "保护期提醒",
        "trigger": {"type": "protection_expiring"},
        "when": 'project.id == "none"',  # rules are global: keep it off other tests' projects
        "actions": [{"type": "notify", "to": ["owner"]}],
    }
    assert fields(await admin.put(f"/api/v1/rules/prot-{org.run}", json=body)) == ["trigger.before"]
    body["trigger"] = {"type": "protection_expiring", "before": "3d"}
    r = await admin.put(f"/api/v1/rules/prot-{org.run}", json=body)
    assert r.status_code == 200 and r.json()["trigger"]["before"] == "3d", r.text
