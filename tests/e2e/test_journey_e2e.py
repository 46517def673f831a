"""Issue 16, "done when": the whole lifecycle on the real ``baobei dev``, over HTTP as people use it.

register → approve → plan (two linked tasks, a team with a PM) → change request raising the amount
past the policy's branch (the director joins the chain; applied only once approved) → execute →
acceptance: `/close` refused while the business line's checklist is unmet, a request missing a
deliverable blocked (422 naming it), then complete with the customer's sign-off → accepted →
closed → closing review (复盘) recorded → its PDF downloads and its lessons are found."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import httpx

from cli.devstack import DevStack


def poll(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(interval)


def test_register_to_review(dev_stack: DevStack) -> None:
    run = uuid.uuid4().hex[:6]
    admin = dev_stack.client()
    ids = {k: f"{k}-{run}" for k in ("rep", "pm", "boss", "director", "qa")}
    dept = f"jy-{run}"
    r = admin.put("/api/v1/org", json={
        "departments": [{"id": dept, "name": "华东交付部", "manager_id": ids["boss"]}],
        "users": [
            {"id": ids["rep"], "name": "销售小王", "department_id": dept, "roles": ["sales"]},
            {"id": ids["pm"], "name": "项目经理老李", "department_id": dept, "roles": ["sales"]},
            {"id": ids["boss"], "name": "部门经理", "department_id": dept, "roles": ["manager"]},
            {"id": ids["director"], "name": "事业部总监", "department_id": dept, "roles": ["director"]},
            {"id": ids["qa"], "name": "质量经理", "department_id": dept, "roles": ["quality"]},
        ],
    })
    assert r.status_code == 200, r.text
    c = {k: dev_stack.client(admin.post(f"/api/v1/users/{uid}/tokens").json()["token"]) for k, uid in ids.items()}

    form, line = f"jy-{run}", f"智慧园区-{run}"
    r = admin.put(f"/api/v1/forms/{form}", json={"title": "园区项目报备", "fields": [
        {"key": "scope", "label": "实施范围", "type": "text"}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/approval-policies/{form}", json={"form_key": form, "steps": [
        {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"},
        {"name": "总监审批", "approvers": {"type": "user", "user_id": ids["director"]}, "mode": "any",
         "when": "project.amount > 1000000"},
    ]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/approval-policies/acceptance:{line}", json={"form_key": form, "steps": [
        {"name": "质量验收", "approvers": {"type": "user", "user_id": ids["qa"]}, "mode": "any"}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/acceptance/checklists/{line}", json={"items": [
        {"key": "report", "name": "实施报告"},
        {"key": "signoff", "name": "客户签字验收单", "needs_document": True},
    ]})
    assert r.status_code == 200, r.text

    def todo(who: str, pid: str, purpose: str) -> dict[str, Any] | None:
        items = c[who].get("/api/v1/me/todos").json()["items"]
        return next((t for t in items if t["project_id"] == pid and t.get("purpose") == purpose), None)

    def decide(who: str, pid: str, purpose: str, action: str = "approve", comment: str = "") -> httpx.Response:
        task = poll(lambda: todo(who, pid, purpose))
        return c[who].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": action, "comment": comment})

    # 报备 → 审批: below the director's threshold, the manager alone approves.
    r = c["rep"].post("/api/v1/projects", json={
        "form_key": form, "name": f"园区一期{run}", "customer": {"name": f"园区科技{run}有限公司"},
        "amount": "800000", "business_line": line, "start_date": "2027-03-01", "end_date": "2027-06-30",
        "fields": {"scope": "一期：安防与门禁"}, "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = decide("boss", pid, "registration")
    assert r.status_code == 200 and r.json()["status"] == "active", r.text

    # Team: a PM who plans; the plan: two linked tasks.
    r = c["rep"].put(f"/api/v1/projects/{pid}/team", json={"members": [
        {"user_id": ids["rep"], "role": "member"}, {"user_id": ids["pm"], "role": "pm"}]})
    assert r.status_code == 200, r.text
    r = c["pm"].post(f"/api/v1/projects/{pid}/tasks", json={
        "name": "设备安装", "assignee_id": ids["pm"], "start": "2027-03-01", "duration_days": 10})
    assert r.status_code == 201, r.text
    install = r.json()["id"]
    r = c["pm"].post(f"/api/v1/projects/{pid}/tasks", json={
        "name": "联调验收准备", "assignee_id": ids["rep"], "duration_days": 5,
        "depends_on": [{"task_id": install, "type": "FS"}]})
    assert r.status_code == 201, r.text
    prepare = r.json()["id"]
    sched = c["pm"].get(f"/api/v1/projects/{pid}/schedule").json()
    assert {t["id"] for t in sched["tasks"]} == {install, prepare}

    # 变更: a raise past 1,000,000 brings in the director; nothing applies before the last approval.
    r = c["pm"].post(f"/api/v1/projects/{pid}/changes", json={
        "changes": {"amount": "1200000", "fields": {"scope": "一期+二期：安防、门禁与停车"}},
        "reason": "客户追加二期范围", "reset_baseline": True})
    assert r.status_code == 201, r.text
    change = r.json()
    assert {d["field"] for d in change["diff"]} == {"amount", "fields.scope"}
    assert [s["name"] for s in change["approval"]["steps"]] == ["经理审批", "总监审批"]
    r = decide("boss", pid, "change")
    assert r.status_code == 200, r.text
    assert c["rep"].get(f"/api/v1/projects/{pid}").json()["amount"] in ("800000", "800000.00")
    r = decide("director", pid, "change")
    assert r.status_code == 200, r.text
    got = poll(lambda: (p := c["rep"].get(f"/api/v1/projects/{pid}").json())["amount"] in ("1200000", "1200000.00")
               and p)
    assert got["fields"]["scope"] == "一期+二期：安防、门禁与停车"
    assert c["rep"].get(f"/api/v1/changes/{change['id']}").json()["status"] == "approved"
    # The registration's own approval is untouched: one step, decided before the change.
    assert [s["name"] for s in got["approval"]["steps"]] == ["经理审批"]
    assert "changed" in [h["event"] for h in got["history"]]

    # 执行: both tasks done.
    for task_id, who in ((install, "pm"), (prepare, "rep")):
        r = c[who].patch(f"/api/v1/tasks/{task_id}", json={"status": "done", "progress": 100})
        assert r.status_code == 200, r.text

    # 验收: the checklist gates /close; a missing deliverable blocks the request.
    r = c["rep"].post(f"/api/v1/projects/{pid}/close")
    assert r.status_code == 409 and r.json()["error"]["code"] == "acceptance_required", r.text
    done = [{"key": "report", "done": True}, {"key": "signoff", "done": True}]
    r = c["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done[:1]})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == ["deliverables.signoff"]
    # The PM gathers the customer's sign-off and asks for acceptance; the QA manager (who only
    # approves) may not.
    r = c["pm"].post(f"/api/v1/projects/{pid}/acceptance/documents", data={"deliverable_key": "signoff"},
                     files={"file": ("验收单.pdf", io.BytesIO(b"%PDF-1.4 signed"), "application/pdf")})
    assert r.status_code == 201, r.text
    assert c["qa"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done}).status_code in (403, 404)
    r = c["pm"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done, "comment": "已交付"})
    assert r.status_code == 201, r.text
    r = decide("qa", pid, "acceptance")
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text

    # 复盘: recorded after the close, printable, searchable.
    r = c["rep"].put(f"/api/v1/projects/{pid}/review", json={
        "outcome": "delivered", "reason": "按变更后的范围交付", "lessons": f"二期需求应在报备时冻结 {run}",
        "tags": ["需求管理"]})
    assert r.status_code == 200, r.text
    review = c["rep"].get(f"/api/v1/projects/{pid}/review").json()
    assert review["outcome"] == "delivered"
    pdf = c["rep"].get(f"/api/v1/projects/{pid}/review.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers.get("content-disposition", "")
    found = c["boss"].get("/api/v1/reviews/lessons", params={"q": run}).json()
    assert [i["project_id"] for i in found["items"]] == [pid]
