"""Delivery on the real ``baobei dev``: a manager approves a project → the execution workflow
applies the business line's template (tasks and the approval baseline exist); FS/SS/FF/SF links
with lag over HTTP, a cycle named in a 422, tasks on a non-active project 409; PATCHes move
successors; the schedule (critical path, slack, finish) and its SVG Gantt; the baseline and the
delay-reason rule; a deliverable gating a milestone; costs against the budget; a rule PUT/GET; a
stale version 409; access of outsiders. (Overdue timers are proven by the time-skipping tests.)"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from cli.devstack import DevStack


def poll(check: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(interval)


def fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    return [d["field"] for d in r.json()["error"]["details"]]


def setup(stack: DevStack) -> tuple[str, dict[str, httpx.Client], dict[str, str], str]:
    run = uuid.uuid4().hex[:6]
    admin = stack.client()
    ids = {k: f"{k}-{run}" for k in ("rep", "boss", "dev", "outsider")}
    r = admin.put(
        "/api/v1/org",
        json={
            "departments": [
                {"id": f"del-{run}", "name": "交付一部", "manager_id": ids["boss"]},
                {"id": f"oth-{run}", "name": "其他部门"},
            ],
            "users": [
                {"id": ids["rep"], "name": "销售甲", "department_id": f"del-{run}", "roles": ["sales"]},
                {"id": ids["boss"], "name": "经理", "department_id": f"del-{run}", "roles": ["manager"]},
                {"id": ids["dev"], "name": "实施工程师", "department_id": f"oth-{run}", "roles": ["engineer"]},
                {"id": ids["outsider"], "name": "外人", "department_id": f"oth-{run}", "roles": ["sales"]},
            ],
        },
    )
    assert r.status_code == 200, r.text
    clients = {"admin": admin}
    for k, uid in ids.items():
        clients[k] = stack.client(admin.post(f"/api/v1/users/{uid}/tokens").json()["token"])
    form = f"exe-{run}"
    r = admin.put(
        f"/api/v1/forms/{form}", json={"title": "交付报备", "fields": [{"key": "n", "label": "备注", "type": "text"}]}
    )
    assert r.status_code == 200, r.text
    r = admin.put(
        f"/api/v1/approval-policies/{form}",
        json={
            "form_key": form,
            "steps": [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}],
        },
    )
    assert r.status_code == 200, r.text
    bl = f"园区交付-{run}"
    r = admin.put(
        f"/api/v1/plan-templates/{bl}",
        json={
            "tasks": [
                {"key": "survey", "name": "现场勘查", "duration_days": 2},
                {"key": "design", "name": "方案设计", "duration_days": 3, "depends_on": [{"key": "survey"}]},
                {
                    "key": "review",
                    "name": "方案评审",
                    "milestone": True,
                    "depends_on": [{"key": "design", "lag_days": 1}],
                },
            ]
        },
    )
    assert r.status_code == 200, r.text
    return form, clients, ids, bl


def test_plan_schedule_baseline_deliverables_costs_rules(dev_stack: DevStack) -> None:
    form, c, ids, bl = setup(dev_stack)
    rep, boss, dev, outsider, admin = c["rep"], c["boss"], c["dev"], c["outsider"], c["admin"]
    body = {
        "form_key": form,
        "name": "智慧园区交付",
        "customer": {"name": f"宁波交付{uuid.uuid4().hex[:4]}科技有限公司"},
        "amount": "200000",
        "business_line": bl,
        # The template is anchored at the registered start date, not at the (real) approval day:
        # its tasks end on 2026-11-23, before the tasks added below, whatever the date today.
        "start_date": "2026-11-16",
        "fields": {},
    }
    draft = rep.post("/api/v1/projects", json=body)
    assert draft.status_code == 201, draft.text
    # Not active yet: no plan.
    r = rep.post(f"/api/v1/projects/{draft.json()['id']}/tasks", json={"name": "太早"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "project_not_active", r.text
    r = rep.post("/api/v1/projects", json={**body, "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    todo = poll(lambda: [t for t in boss.get("/api/v1/me/todos").json()["items"] if t["project_id"] == pid])
    r = boss.post(f"/api/v1/approval-tasks/{todo[0]['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text

    # The execution workflow applies the template and saves the approval baseline.
    def planned() -> Any:
        s = rep.get(f"/api/v1/projects/{pid}/schedule").json()
        return s if len(s["tasks"]) == 3 and s.get("baseline") else None

    s = poll(planned)
    assert [t["name"] for t in s["tasks"]] == ["现场勘查", "方案设计", "方案评审"] and s["baseline"]["number"] == 1
    assert s["duration_days"] == 6
    template = {t["name"]: t for t in s["tasks"]}
    assert (template["现场勘查"]["start"], template["方案评审"]["finish"]) == ("2026-11-16", "2026-11-23"), s

    url = f"/api/v1/projects/{pid}/tasks"

    def add(**kw: Any) -> dict[str, Any]:
        r = rep.post(url, json=kw)
        assert r.status_code == 201, r.text
        return dict(r.json())

    a = add(name="需求调研", start="2026-12-01", duration_days=3, assignee_id=ids["dev"])
    b = add(name="开发", duration_days=2, depends_on=[{"task_id": a["id"], "type": "FS", "lag_days": 1}])
    cc = add(name="文档", duration_days=1, depends_on=[{"task_id": a["id"], "type": "SS", "lag_days": 1}])
    d = add(name="联调", duration_days=2, depends_on=[{"task_id": b["id"], "type": "FF", "lag_days": -1}])
    e = add(name="培训", duration_days=1, depends_on=[{"task_id": a["id"], "type": "SF", "lag_days": 2}])
    ms = add(name="上线", milestone=True, requires_deliverables=True, depends_on=[{"task_id": b["id"]}])
    assert e["depends_on"] == [{"task_id": a["id"], "type": "SF", "lag_days": 2}]
    cyc = rep.patch(f"/api/v1/tasks/{a['id']}", json={"depends_on": [{"task_id": d["id"], "type": "FS"}]})
    assert fields(cyc) == ["depends_on"]
    message = cyc.json()["error"]["details"][0]["message"]
    assert "循环" in message and "需求调研" in message and "联调" in message

    sched = rep.get(f"/api/v1/projects/{pid}/schedule", params={"today": "2026-11-30"}).json()
    rows = {t["name"]: t for t in sched["tasks"]}
    assert (rows["需求调研"]["start"], rows["需求调研"]["finish"]) == ("2026-12-01", "2026-12-03")
    assert (rows["开发"]["start"], rows["开发"]["finish"]) == ("2026-12-07", "2026-12-08")
    assert rows["文档"]["start"] == "2026-12-02" and rows["联调"]["finish"] == "2026-12-07"
    assert rows["培训"]["finish"] == "2026-12-02"
    assert rows["开发"]["critical"] and not rows["文档"]["critical"] and rows["文档"]["slack_days"] == 4
    assert sched["finish"] == "2026-12-08"
    svg = rep.get(f"/api/v1/projects/{pid}/schedule", params={"format": "svg", "today": "2026-12-02"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "需求调研" in svg.text and "联调" in svg.text

    # Baseline on demand; the assignee slips 需求调研: successors move, a reason is required.
    assert rep.post(f"/api/v1/projects/{pid}/baselines", json={"name": "计划 v1"}).json()["number"] == 2
    assert fields(dev.patch(f"/api/v1/tasks/{a['id']}", json={"duration_days": 5})) == ["delay_reason"]
    r = dev.patch(f"/api/v1/tasks/{a['id']}", json={"duration_days": 5, "delay_reason": "supplier"})
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    moved = {t["name"]: t for t in rep.get(f"/api/v1/projects/{pid}/schedule").json()["tasks"]}
    assert moved["开发"]["start"] == "2026-12-09" and moved["开发"]["finish_variance_days"] == 2
    assert moved["开发"]["delay_reason_missing"] and moved["需求调研"]["delay_reason"] == "supplier"
    r = rep.patch(f"/api/v1/tasks/{b['id']}", json={"due": "2026-12-14", "delay_reason": "supplier"})
    assert r.status_code == 200 and r.json()["due"] == "2026-12-14", r.text
    r = dev.patch(f"/api/v1/tasks/{a['id']}", json={"status": "in_progress", "progress": 30})
    assert r.status_code == 200 and (r.json()["status"], r.json()["progress"]) == ("in_progress", 30), r.text

    # Optimistic version and access.
    stale = rep.patch(f"/api/v1/tasks/{a['id']}", json={"progress": 50, "version": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version", stale.text
    assert outsider.patch(f"/api/v1/tasks/{a['id']}", json={"progress": 90}).status_code == 404
    # an assignee sees the project (issue 12), so another task is visible but not theirs: 403
    assert dev.patch(f"/api/v1/tasks/{cc['id']}", json={"progress": 90}).status_code == 403
    assert boss.patch(f"/api/v1/tasks/{cc['id']}", json={"progress": 90}).status_code == 403  # sees, not owner

    # Rules as data (before the milestone is done: a done task finishes on the service's today, and
    # the rule is evaluated at workflow time, so its critical path must not depend on either clock).
    key = f"e2e-blocked-{uuid.uuid4().hex[:6]}"
    rule = {
        "name": "关键任务阻塞升级",
        "trigger": {"type": "status_change", "to": "blocked"},
        "when": f'task.critical && project.id == "{pid}"',
        "actions": [{"type": "notify", "to": ["owner"]}, {"type": "escalate", "levels": 1}],
    }
    r = admin.put(f"/api/v1/rules/{key}", json=rule)
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    assert rep.put(f"/api/v1/rules/{key}", json=rule).status_code == 403
    listed = {x["key"]: x for x in rep.get("/api/v1/rules").json()["items"]}
    assert listed[key]["trigger"] == {"type": "status_change", "to": "blocked"} and "task-overdue-24h" in listed
    # The rule fires once from the task event (no timer involved): the owner is notified.
    assert rep.patch(f"/api/v1/tasks/{b['id']}", json={"status": "blocked"}).status_code == 200
    fires = poll(lambda: [f for f in rep.get(f"/api/v1/projects/{pid}/rule-fires").json()["items"] if f["rule"] == key])
    assert len(fires) == 1 and ids["rep"] in fires[0]["recipients"] and ids["boss"] in fires[0]["recipients"]

    # A milestone that requires deliverables.
    done = rep.patch(f"/api/v1/tasks/{ms['id']}", json={"status": "done"})
    assert done.status_code == 409 and done.json()["error"]["code"] == "deliverables_required", done.text
    up = rep.post(
        f"/api/v1/tasks/{ms['id']}/deliverables", files={"file": ("上线报告.pdf", b"%PDF-1.4 e2e", "application/pdf")}
    )
    assert up.status_code == 201 and len(up.json()["sha256"]) == 64, up.text
    assert [x["filename"] for x in rep.get(f"/api/v1/tasks/{ms['id']}/deliverables").json()["items"]] == [
        "上线报告.pdf"
    ]
    assert rep.patch(f"/api/v1/tasks/{ms['id']}", json={"status": "done"}).status_code == 200

    # Costs against the registered amount: the assignee logs hours on their own task (nothing
    # else, issue 12), the owner records the rest.
    assert dev.post(f"/api/v1/projects/{pid}/costs", json={"kind": "expense", "amount": "1"}).status_code == 403
    r = dev.post(
        f"/api/v1/projects/{pid}/costs", json={"kind": "timesheet", "task_id": a["id"], "hours": "8", "rate": "150"}
    )
    assert r.status_code == 201 and r.json()["amount"] == "1200.00", r.text
    assert rep.post(f"/api/v1/projects/{pid}/costs", json={"kind": "expense", "amount": "800.50"}).status_code == 201
    costs = rep.get(f"/api/v1/projects/{pid}/costs").json()
    assert (costs["budget"], costs["actual"], costs["remaining"]) == ("200000.00", "2000.50", "197999.50")
    assert {x["name"]: x["actual"] for x in costs["by_task"]}["需求调研"] == "1200.00"
