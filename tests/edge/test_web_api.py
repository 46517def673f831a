"""API additions for the web app (issue 14): form definitions with their conditions, 已办 (the
approvals the caller decided), the collision (撞单) check as one types, and 我的任务 (tasks
assigned to the caller across projects)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack
from tests.edge.test_approvals import todo_for
from tests.edge.test_projects import make_form, project
from tests.edge.test_tasks import active_project

pytestmark = pytest.mark.asyncio(loop_scope="session")
USCC_A = "91350100M000100Y43"


# ---------------------------------------------------------------- 1. forms carry their conditions


def conditional_form() -> dict[str, Any]:
    return {
        "title": "条件表单",
        "fields": [
            {"key": "bid_type", "label": "招标方式", "type": "select", "options": ["公开招标", "单一来源"]},
            {"key": "tender_no", "label": "招标编号", "type": "text",
             "required_when": "fields.bid_type == '公开招标'", "visible_when": "fields.bid_type != '单一来源'"},
            {"key": "priority", "label": "优先级", "type": "select", "options": ["高", "中"], "default": "中"},
            {"key": "proposal", "label": "方案书", "type": "attachment", "accept": [".pdf", "image/png"],
             "max_size": 2048},
            {"key": "plain", "label": "备注", "type": "text"},
        ],
        "rules": [{"expr": "fields.priority != ''", "field": "fields.priority", "message": "请选择优先级",
                   "message_en": "choose a priority"}],
        "settings": {"conflict_policy": "block", "protection_days": 30},
    }


async def test_form_definition_carries_conditions_rules_and_settings(admin: httpx.AsyncClient, org: Org) -> None:
    key = f"web-form-{org.run}"
    r = await admin.put(f"/api/v1/forms/{key}", json=conditional_form())
    assert r.status_code == 200, r.text
    r = await org["rep"].get(f"/api/v1/forms/{key}")
    assert r.status_code == 200, r.text
    form = r.json()
    fields = {f["key"]: f for f in form["fields"]}
    assert fields["tender_no"]["required_when"] == "fields.bid_type == '公开招标'"
    assert fields["tender_no"]["visible_when"] == "fields.bid_type != '单一来源'"
    assert fields["priority"]["default"] == "中"
    assert fields["proposal"]["accept"] == [".pdf", "image/png"]
    assert fields["proposal"]["max_size"] == 2048
    # unset conditions are absent, as before
    assert not {"required_when", "visible_when", "default", "accept", "max_size"} & set(fields["plain"])
    assert form["rules"] == [{"expr": "fields.priority != ''", "field": "fields.priority", "message": "请选择优先级",
                              "message_en": "choose a priority"}]
    assert form["settings"]["conflict_policy"] == "block"
    assert form["settings"]["protection_days"] == 30


async def test_form_conditions_are_in_the_openapi_document(stack: Stack) -> None:
    async with stack.client(token=None) as c:
        doc = (await c.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    props = schemas["FormFieldOut"]["properties"]
    assert {"required_when", "visible_when", "default", "accept", "max_size"} <= set(props)
    form = schemas["FormOut"]["properties"]
    assert form["rules"]["items"]["$ref"].endswith("/FormRuleOut")
    assert form["settings"]["$ref"].endswith("/FormSettingsOut")


# ---------------------------------------------------------------- 2. 已办


async def test_done_approvals_lists_own_decisions_newest_first(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)  # one step: the submitter's manager (boss)
    rep, boss = org["rep"], org["boss"]
    pids = []
    for _ in range(3):
        r = await rep.post("/api/v1/projects", json={**project(form), "submit": True})
        assert r.status_code == 201, r.text
        pids.append(r.json()["id"])
    decided = []
    for pid, action in zip(pids, ("approve", "reject", "return"), strict=True):
        task = await todo_for(boss, pid)
        r = await boss.post(f"/api/v1/approval-tasks/{task['id']}/decision",
                            json={"action": action, "comment": f"意见-{action}"})
        assert r.status_code == 200, r.text
        decided.append((task["id"], pid, action))

    r = await boss.get("/api/v1/me/approvals/done", params={"limit": 100})
    assert r.status_code == 200, r.text
    page = r.json()
    mine = [i for i in page["items"] if i["project_id"] in pids]
    assert [(i["task_id"], i["project_id"], i["action"]) for i in mine] == decided[::-1]  # newest first
    newest = mine[0]
    assert newest["step"] == "经理审批" and newest["comment"] == "意见-return" and newest["at"]
    project_out = (await boss.get(f"/api/v1/projects/{pids[2]}")).json()
    assert newest["project"] == {"id": pids[2], "code": project_out["code"], "name": project_out["name"],
                                 "status": "returned"}
    assert mine[1]["project"]["status"] == "rejected"

    # paged by cursor: one at a time gives the same order, and the last page says so
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        r = await boss.get("/api/v1/me/approvals/done", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= 1
        seen += [i["task_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [s for s in seen if s in {d[0] for d in decided}] == [d[0] for d in decided[::-1]]

    # only the caller's own decisions: the submitter and others see none of these
    for who in ("rep", "rep2", "finance"):
        r = await org[who].get("/api/v1/me/approvals/done")
        assert r.status_code == 200, r.text
        assert not [i for i in r.json()["items"] if i["project_id"] in pids]


async def test_done_approvals_refuses_bad_paging(org: Org) -> None:
    boss = org["boss"]
    for params in ({"cursor": "not-a-cursor"}, {"cursor": "ZDp4"}, {"limit": 0}, {"limit": 101}, {"limit": "x"}):
        r = await boss.get("/api/v1/me/approvals/done", params=params)
        assert r.status_code == 422, (params, r.text)
        err = r.json()["error"]
        assert err["code"] == "validation_failed" and err["details"], r.text
    r = await boss.get("/api/v1/me/approvals/done", params={"cursor": "not-a-cursor"},
                       headers={"Accept-Language": "en"})
    assert r.json()["error"]["details"] == [{"field": "cursor", "message": "invalid cursor"}]
    r = await boss.get("/api/v1/me/approvals/done", params={"cursor": "not-a-cursor"})
    assert r.json()["error"]["details"] == [{"field": "cursor", "message": "分页游标无效"}]


# ---------------------------------------------------------------- 3. 撞单 check


async def test_conflict_check_uses_the_registry_rules(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    customer = f"冲突检查{org.run}科技有限公司"
    # a live registration (submitted: drafts, rejected and cancelled ones never collide)
    r = await org["rep"].post("/api/v1/projects", json={**project(form, customer={"name": customer, "uscc": USCC_A}),
                                                        "submit": True})
    assert r.status_code == 201, r.text
    mine = r.json()
    url = "/api/v1/projects/conflict-check"

    # the owner sees the code; the same customer name, or the same USCC, matches
    r = await org["rep"].post(url, json={"form_key": form, "customer": {"name": customer}})
    assert r.status_code == 200, r.text
    assert r.json() == {"conflicts": [{"project_id": mine["id"], "code": mine["code"], "reason": "客户名称相同"}],
                        "conflict_policy": "warn"}
    r = await org["rep"].post(url, json={"form_key": form, "customer": {"name": "另一家公司", "uscc": USCC_A.lower()}})
    assert [c["reason"] for c in r.json()["conflicts"]] == ["客户统一社会信用代码相同"]
    # someone who may not see that project learns its id and the reason, never its code
    r = await org["outsider"].post(url, json={"form_key": form, "customer": {"name": customer}})
    assert r.status_code == 200, r.text
    assert r.json()["conflicts"] == [{"project_id": mine["id"], "code": "", "reason": "客户名称相同"}]
    # the same answer create records on the new project (GET /projects/{id} conflicts)
    r = await org["outsider"].post("/api/v1/projects", json=project(form, customer={"name": customer}))
    assert r.status_code == 201, r.text
    recorded = (await org["outsider"].get(f"/api/v1/projects/{r.json()['id']}")).json()["conflicts"]
    assert recorded == [{"project_id": mine["id"], "reason": "客户名称相同"}]
    # the project being edited is left out (the outsider's is a draft: not live); a half-typed USCC
    # is ignored; an unknown customer has none
    r = await org["rep"].post(url, json={"form_key": form, "customer": {"name": customer, "uscc": "9135"},
                                         "project_id": mine["id"]})
    assert r.status_code == 200 and r.json()["conflicts"] == [], r.text
    r = await org["rep"].post(url, json={"form_key": form, "customer": {"name": f"无人报备{uuid.uuid4().hex}"}})
    assert r.json()["conflicts"] == []


async def test_conflict_check_block_policy_and_bad_input(admin: httpx.AsyncClient, org: Org) -> None:
    key = f"web-block-{org.run}"
    r = await admin.put(f"/api/v1/forms/{key}", json={
        "title": "严格撞单", "fields": [{"key": "note", "label": "备注", "type": "text"}],
        "settings": {"conflict_policy": "block"}})
    assert r.status_code == 200, r.text
    url = "/api/v1/projects/conflict-check"
    r = await org["rep"].post(url, json={"form_key": key, "customer": {"name": "无冲突客户有限公司"}})
    assert r.status_code == 200 and r.json() == {"conflicts": [], "conflict_policy": "block"}, r.text
    r = await org["rep"].post(url, json={"form_key": f"no-such-{org.run}", "customer": {"name": "某公司"}})
    assert r.status_code == 404, r.text
    for bad in ({}, {"form_key": ""}, {"form_key": key, "customer": "x"}, {"form_key": key, "customer": {"name": 5}},
                [1], {"form_key": key, "customer": {"name": "x" * 501}}):
        r = await org["rep"].post(url, json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "validation_failed"
    r = await org["rep"].post(url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text


# ---------------------------------------------------------------- 4. 我的任务


async def test_my_tasks_across_projects_by_due_date(admin: httpx.AsyncClient, org: Org) -> None:
    p1, p2 = await active_project(admin, org), await active_project(admin, org)
    rep, me = org["rep"], org.user("rep2")

    async def task(pid: str, name: str, **over: Any) -> str:
        r = await rep.post(f"/api/v1/projects/{pid}/tasks",
                           json={"name": name, "duration_days": 1, "assignee_id": me, **over})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    no_due = await task(p1, "无截止")
    late = await task(p2, "后到期", due="2031-03-10")
    early = await task(p1, "先到期", due="2031-03-02")
    other = await task(p2, "别人的", due="2031-03-01", assignee_id=org.user("rep"))
    done = await task(p2, "已完成", due="2031-03-05")
    r = await org["rep2"].patch(f"/api/v1/tasks/{done}", json={"status": "done"})
    assert r.status_code == 200, r.text

    r = await org["rep2"].get("/api/v1/me/tasks", params={"limit": 100})
    assert r.status_code == 200, r.text
    items = [i for i in r.json()["items"] if i["project_id"] in (p1, p2)]
    assert [i["id"] for i in items] == [early, done, late, no_due]  # by due date, none last; only mine
    assert other not in [i["id"] for i in items]
    single = (await org["rep2"].get(f"/api/v1/tasks/{early}")).json()
    first = items[0]
    assert {k: v for k, v in first.items() if k != "project"} == single  # the same task shape
    p1_out = (await rep.get(f"/api/v1/projects/{p1}")).json()
    assert first["project"] == {"id": p1, "code": p1_out["code"], "name": p1_out["name"], "status": "active"}

    r = await org["rep2"].get("/api/v1/me/tasks", params={"status": "open", "limit": 100})
    assert [i["id"] for i in r.json()["items"] if i["project_id"] in (p1, p2)] == [early, late, no_due]
    r = await org["rep2"].get("/api/v1/me/tasks", params={"status": "done"})
    assert [i["id"] for i in r.json()["items"] if i["project_id"] in (p1, p2)] == [done]

    # paged by cursor (through the dated and the undated ones) in the same order
    seen, cursor = [], None
    while True:
        r = await org["rep2"].get("/api/v1/me/tasks", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        seen += [i["id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert [s for s in seen if s in {early, done, late, no_due}] == [early, done, late, no_due]

    # the rep has the other one; the outsider has none of these
    r = await rep.get("/api/v1/me/tasks")
    assert other in [i["id"] for i in r.json()["items"]]
    r = await org["outsider"].get("/api/v1/me/tasks")
    assert r.status_code == 200 and not [i for i in r.json()["items"] if i["project_id"] in (p1, p2)]


async def test_my_tasks_refuses_bad_query(org: Org) -> None:
    for params in ({"status": "finished"}, {"limit": 0}, {"limit": 1000}, {"cursor": "garbage"},
                   {"cursor": "WyIyMDMxLTEzLTAxIiwieCIsInkiXQ"}):
        r = await org["rep2"].get("/api/v1/me/tasks", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] == "validation_failed"
