"""Tasks and schedule over HTTP on the in-process stack: plan on approval from the business-line
template (lifecycle → execution workflow), create/patch with 4xx field paths, cycles named, CPM
schedule and Gantt SVG, optimistic versions under concurrency, baselines and delay reasons,
deliverables gating a milestone, costs against the budget, rules as data."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack, eventually
from tests.policies import no_approval_policy

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def active_project(admin: httpx.AsyncClient, org: Org, **over: Any) -> str:
    """A project approved on submit (its form has an explicit no-approval policy)."""
    key = f"tform-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(
        f"/api/v1/forms/{key}", json={"title": "交付报备", "fields": [{"key": "note", "label": "备注", "type": "text"}]}
    )
    assert r.status_code == 200, r.text
    r = await admin.put(**no_approval_policy(key))
    assert r.status_code == 200, r.text
    body = {
        "form_key": key,
        "name": f"交付项目{uuid.uuid4().hex[:4]}",
        "customer": {"name": "杭州某某科技有限公司"},
        "amount": "100000",
        "fields": {},
        "submit": True,
        **over,
    }
    r = await org["rep"].post("/api/v1/projects", json=body)
    assert r.status_code == 201, r.text
    pid = str(r.json()["id"])

    async def active() -> bool:
        return (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "active"

    await eventually(active, timeout=30)

    async def approval_baseline() -> bool:
        # The execution workflow saves the approval baseline on start; tasks added before that
        # would be in it, so tests that slip tasks against a later baseline wait for it.
        return bool((await org["rep"].get(f"/api/v1/projects/{pid}/schedule")).json().get("baseline"))

    await eventually(approval_baseline, timeout=30)
    return pid


def fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    return [d["field"] for d in r.json()["error"]["details"]]


async def test_template_applied_when_project_becomes_active(admin: httpx.AsyncClient, org: Org) -> None:
    bl = f"智慧园区-{org.run}"
    r = await admin.put(
        f"/api/v1/plan-templates/{bl}",
        json={
            "tasks": [
                {"key": "survey", "name": "现场勘查", "duration_days": 2},
                {
                    "key": "design",
                    "name": "方案设计",
                    "duration_days": 3,
                    "depends_on": [{"key": "survey", "type": "FS"}],
                },
                {
                    "key": "ok",
                    "name": "方案评审",
                    "milestone": True,
                    "depends_on": [{"key": "design", "type": "FS", "lag_days": 1}],
                },
            ]
        },
    )
    assert r.status_code == 200 and r.json()["tasks"] == 3, r.text
    bad = await admin.put(
        f"/api/v1/plan-templates/{bl}-x",
        json={
            "tasks": [
                {"key": "a", "name": "甲", "depends_on": [{"key": "b"}]},
                {"key": "b", "name": "乙", "depends_on": [{"key": "a"}]},
            ]
        },
    )
    assert fields(bad) == ["tasks"] and "循环" in bad.json()["error"]["details"][0]["message"]
    pid = await active_project(admin, org, business_line=bl)
    rep = org["rep"]

    async def planned() -> Any:
        s = (await rep.get(f"/api/v1/projects/{pid}/schedule")).json()
        return s if len(s["tasks"]) == 3 and s["baseline"] else None

    s = await eventually(planned, timeout=30)
    names = [t["name"] for t in s["tasks"]]
    assert names == ["现场勘查", "方案设计", "方案评审"]
    assert all(t["critical"] for t in s["tasks"]) and s["baseline"]["number"] == 1
    # relative offsets kept: 2 + 3 working days, milestone one working day of lag later
    assert s["duration_days"] == 6


async def test_plan_crud_schedule_and_errors(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active_project(admin, org)
    rep, rep2 = org["rep"], org["rep2"]
    url = f"/api/v1/projects/{pid}/tasks"
    a = (
        await rep.post(
            url, json={"name": "需求调研", "start": "2026-12-01", "duration_days": 3, "assignee_id": org.user("rep2")}
        )
    ).json()
    b = (
        await rep.post(
            url, json={"name": "开发", "duration_days": 5, "depends_on": [{"task_id": a["id"], "type": "FS"}]}
        )
    ).json()
    c = (
        await rep.post(
            url,
            json={
                "name": "文档",
                "duration_days": 1,
                "depends_on": [{"task_id": a["id"], "type": "SS", "lag_days": 1}],
            },
        )
    ).json()
    m = await rep.post(
        url,
        json={
            "name": "上线",
            "milestone": True,
            "depends_on": [{"task_id": b["id"]}, {"task_id": c["id"], "type": "FF"}],
        },
    )
    assert m.status_code == 201, m.text
    s = (await rep.get(f"/api/v1/projects/{pid}/schedule")).json()
    rows = {t["name"]: t for t in s["tasks"]}
    assert (rows["需求调研"]["start"], rows["需求调研"]["finish"]) == ("2026-12-01", "2026-12-03")
    assert (rows["开发"]["start"], rows["开发"]["finish"]) == ("2026-12-04", "2026-12-10")  # weekend skipped
    assert rows["开发"]["critical"] and not rows["文档"]["critical"] and rows["文档"]["slack_days"] == 6
    assert s["finish"] == "2026-12-10"
    # Nothing finished yet: the forecast is the plan (numbers at a learnt velocity: tests/unit/test_tasks_forecast.py).
    assert s["forecast"]["basis"] == "none" and s["forecast"]["velocity"] == 1.0
    assert s["forecast"]["finish"] == s["forecast"]["planned_finish"] and s["forecast"]["slip_days"] == 0
    svg = await rep.get(f"/api/v1/projects/{pid}/schedule", params={"format": "svg", "today": "2026-12-02"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text and "需求调研" in svg.text and "今天" in svg.text and "#d9534f" in svg.text

    # bad input: field paths, nothing stored
    assert fields(await rep.post(url, json={"name": "x", "start": "2026-12-05", "due": "2026-12-01"})) == ["due"]
    assert fields(await rep.post(url, json={"name": "x", "assignee_id": "nobody-" + org.run})) == ["assignee_id"]
    assert fields(await rep.post(url, json={"name": "x", "depends_on": [{"task_id": "nope"}]})) == [
        "depends_on[0].task_id"
    ]
    other = await active_project(admin, org)
    foreign = (await rep.post(f"/api/v1/projects/{other}/tasks", json={"name": "别的项目"})).json()
    assert fields(await rep.post(url, json={"name": "x", "depends_on": [{"task_id": foreign["id"]}]})) == [
        "depends_on[0].task_id"
    ]
    cyc = await rep.patch(f"/api/v1/tasks/{a['id']}", json={"depends_on": [{"task_id": b["id"]}]})
    assert fields(cyc) == ["depends_on"] and "需求调研" in cyc.json()["error"]["details"][0]["message"]
    assert len((await rep.get(f"/api/v1/projects/{pid}/tasks")).json()["items"]) == 4
    # an assignee sees the project (a task of it is theirs) but is not its owner
    assert (await rep2.post(url, json={"name": "非负责人"})).status_code == 403
    assert (await org["outsider"].post(url, json={"name": "外人"})).status_code == 404  # cannot see the project
    assert (await org["boss"].post(url, json={"name": "经理"})).status_code == 403  # sees it, not the owner
    draft = await rep.post(
        "/api/v1/projects",
        json={"form_key": "nope", "name": "x", "customer": {"name": "y"}, "amount": "1", "fields": {}},
    )
    if draft.status_code == 201:
        assert (await rep.post(f"/api/v1/projects/{draft.json()['id']}/tasks", json={"name": "x"})).status_code == 409

    # the assignee may patch; slipping the predecessor moves its successors
    r = await rep2.patch(f"/api/v1/tasks/{a['id']}", json={"duration_days": 5, "status": "blocked"})
    assert r.status_code == 200 and r.json()["status"] == "blocked" and r.json()["version"] == 2, r.text
    s = (await rep.get(f"/api/v1/projects/{pid}/schedule", params={"today": "2026-12-01"})).json()
    assert {t["name"]: t["start"] for t in s["tasks"]}["开发"] == "2026-12-08"

    # optimistic version: of concurrent edits with the same version exactly one wins
    results = await asyncio.gather(
        *(rep.patch(f"/api/v1/tasks/{c['id']}", json={"progress": p, "version": 1}) for p in (10, 20, 30, 40))
    )
    codes = sorted(x.status_code for x in results)
    assert codes == [200, 409, 409, 409], [x.text for x in results]


async def test_baseline_delay_reason_deliverables_costs(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active_project(admin, org)
    rep = org["rep"]
    url = f"/api/v1/projects/{pid}/tasks"
    t = (await rep.post(url, json={"name": "设备采购", "start": "2026-12-01", "due": "2026-12-04"})).json()
    ms = (
        await rep.post(
            url,
            json={
                "name": "到货验收",
                "milestone": True,
                "requires_deliverables": True,
                "depends_on": [{"task_id": t["id"]}],
            },
        )
    ).json()
    assert (await rep.post(f"/api/v1/projects/{pid}/baselines", json={"name": "计划 v1"})).json()["number"] >= 1
    late = await rep.patch(f"/api/v1/tasks/{t['id']}", json={"due": "2026-12-09"})
    assert fields(late) == ["delay_reason"]
    assert fields(await rep.patch(f"/api/v1/tasks/{t['id']}", json={"due": "2026-12-09", "delay_reason": "天气"})) == [
        "delay_reason"
    ]
    ok = await rep.patch(f"/api/v1/tasks/{t['id']}", json={"due": "2026-12-09", "delay_reason": "supplier"})
    assert ok.status_code == 200, ok.text
    s = {x["name"]: x for x in (await rep.get(f"/api/v1/projects/{pid}/schedule")).json()["tasks"]}
    assert s["设备采购"]["finish_variance_days"] == 3 and s["设备采购"]["delay_reason"] == "supplier"
    assert s["到货验收"]["finish_variance_days"] == 3 and s["到货验收"]["delay_reason_missing"]

    done = await rep.patch(f"/api/v1/tasks/{ms['id']}", json={"status": "done"})
    assert done.status_code == 409 and done.json()["error"]["code"] == "deliverables_required"
    bad = await rep.post(
        f"/api/v1/tasks/{ms['id']}/deliverables", files={"file": ("x.exe", b"MZ", "application/x-msdownload")}
    )
    assert fields(bad) == ["file"]
    up = await rep.post(
        f"/api/v1/tasks/{ms['id']}/deliverables", files={"file": ("验收单.pdf", b"%PDF-1.4 ok", "application/pdf")}
    )
    assert up.status_code == 201 and len(up.json()["sha256"]) == 64, up.text
    assert (await rep.patch(f"/api/v1/tasks/{ms['id']}", json={"status": "done"})).status_code == 200

    r = await rep.post(
        f"/api/v1/projects/{pid}/costs", json={"kind": "timesheet", "task_id": t["id"], "hours": "7.5", "rate": "300"}
    )
    assert r.status_code == 201 and r.json()["amount"] == "2250.00", r.text
    assert (
        await rep.post(f"/api/v1/projects/{pid}/costs", json={"kind": "purchase", "amount": 80000.10})
    ).status_code == 201
    assert fields(await rep.post(f"/api/v1/projects/{pid}/costs", json={"kind": "timesheet", "hours": "-1"})) == [
        "rate",
        "hours",
    ]
    costs = (await rep.get(f"/api/v1/projects/{pid}/costs")).json()
    assert (costs["budget"], costs["actual"], costs["remaining"]) == ("100000.00", "82250.10", "17749.90")
    assert {x["name"]: x["actual"] for x in costs["by_task"]}["设备采购"] == "2250.00"
    assert (await rep.put(f"/api/v1/projects/{pid}/budget", json={"budget": "50000"})).status_code == 200
    assert (await rep.get(f"/api/v1/projects/{pid}/costs")).json()["consumed_share"] == "1.6450"


async def test_rules_as_data(admin: httpx.AsyncClient, org: Org) -> None:
    listed = (await admin.get("/api/v1/rules")).json()["items"]
    assert {"task-overdue-24h", "milestone-done-downstream"} <= {r["key"] for r in listed}
    key = f"blocked-{org.run}"
    bad = await admin.put(
        f"/api/v1/rules/{key}",
        json={
            "name": "阻塞升级",
            "trigger": {"type": "status_change"},
            "when": "task.status ==",
            "actions": [{"type": "notify", "to": ["boss"]}],
        },
    )
    assert fields(bad) == ["when", "actions[0].to[0]"]
    good = await admin.put(
        f"/api/v1/rules/{key}",
        json={
            "name": "阻塞升级",
            "trigger": {"type": "status_change", "to": "blocked"},
            "when": "task.critical",
            "actions": [{"type": "notify", "to": ["owner"]}, {"type": "escalate", "levels": 1}],
        },
    )
    assert good.status_code == 200 and good.json()["version"] == 1, good.text
    assert (await org["rep"].put(f"/api/v1/rules/{key}", json=good.json())).status_code in (403, 422)
    await admin.put(
        f"/api/v1/rules/{key}",
        json={
            **{k: v for k, v in good.json().items() if k in ("name", "trigger", "when", "actions")},
            "enabled": False,
        },
    )


async def test_gantt_pdf_and_formats_by_setting(
    admin: httpx.AsyncClient, org: Org, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = await active_project(admin, org)
    rep = org["rep"]
    a = (await rep.post(f"/api/v1/projects/{pid}/tasks", json={"name": "现场实施", "duration_days": 2})).json()
    m = await rep.post(
        f"/api/v1/projects/{pid}/tasks", json={"name": "验收", "milestone": True, "depends_on": [{"task_id": a["id"]}]}
    )
    assert m.status_code == 201, m.text
    code = (await rep.get(f"/api/v1/projects/{pid}")).json()["code"]
    url = f"/api/v1/projects/{pid}/schedule"
    pdf = await rep.get(url, params={"format": "pdf", "today": "2026-12-02"})
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    disposition = pdf.headers["content-disposition"]
    assert disposition.startswith("inline;") and f"{code}-gantt.pdf" in disposition
    assert pdf.content.startswith(b"%PDF-") and b"STSong-Light" in pdf.content
    assert fields(await rep.get(url, params={"format": "png"})) == ["format"]
    # the setting lists what is offered: without pdf, pdf is a 422 too; svg still answers
    monkeypatch.setattr(stack.settings, "gantt_formats", "svg")
    assert fields(await rep.get(url, params={"format": "pdf"})) == ["format"]
    assert (await rep.get(url, params={"format": "svg"})).status_code == 200
