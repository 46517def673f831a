"""Acceptance (验收) on the real ``baobei dev``: register → approve → the business line's checklist
makes `/close` 409 → an acceptance request missing a deliverable is blocked (422 naming it) →
sign-off uploaded → request rejected by the acceptance approver (the project stays active, the
reason is kept) → a new request accepted → closed. The project's approval stays the registration's."""

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


def test_acceptance_blocked_rejected_then_accepted(dev_stack: DevStack) -> None:
    run = uuid.uuid4().hex[:6]
    admin = dev_stack.client()
    ids = {k: f"{k}-{run}" for k in ("rep", "boss", "qa")}
    r = admin.put("/api/v1/org", json={
        "departments": [{"id": f"acc-{run}", "name": "交付二部", "manager_id": ids["boss"]}],
        "users": [
            {"id": ids["rep"], "name": "销售甲", "department_id": f"acc-{run}", "roles": ["sales"]},
            {"id": ids["boss"], "name": "经理", "department_id": f"acc-{run}", "roles": ["manager"]},
            {"id": ids["qa"], "name": "质量经理", "department_id": f"acc-{run}", "roles": ["quality"]},
        ],
    })
    assert r.status_code == 200, r.text
    c = {k: dev_stack.client(admin.post(f"/api/v1/users/{uid}/tokens").json()["token"]) for k, uid in ids.items()}
    form, line = f"acc-{run}", f"园区交付-{run}"
    r = admin.put(f"/api/v1/forms/{form}", json={"title": "交付报备", "fields": [{"key": "n", "label": "备注",
                                                                                  "type": "text"}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/approval-policies/{form}", json={
        "form_key": form,
        "steps": [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/approval-policies/acceptance:{line}", json={
        "form_key": form, "steps": [{"name": "质量验收", "approvers": {"type": "user", "user_id": ids["qa"]},
                                     "mode": "any", "sla": "3d"}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/acceptance/checklists/{line}", json={"items": [
        {"key": "report", "name": "实施报告"},
        {"key": "signoff", "name": "客户签字验收单", "needs_document": True},
    ]})
    assert r.status_code == 200, r.text

    r = c["rep"].post("/api/v1/projects", json={
        "form_key": form, "name": f"园区项目{run}", "customer": {"name": f"园区客户{run}有限公司"}, "amount": "560000",
        "business_line": line, "fields": {}, "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    def todo(client: httpx.Client, purpose: str) -> dict[str, Any] | None:
        items = client.get("/api/v1/me/todos").json()["items"]
        return next((t for t in items if t["project_id"] == pid and t["purpose"] == purpose), None)

    task = poll(lambda: todo(c["boss"], "registration"))
    r = c["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text

    r = c["rep"].post(f"/api/v1/projects/{pid}/close")
    assert r.status_code == 409 and r.json()["error"]["code"] == "acceptance_required", r.text

    done = [{"key": "report", "done": True}, {"key": "signoff", "done": True}]
    r = c["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done[:1]})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == ["deliverables.signoff"]

    def sign_off(name: str) -> None:
        resp = c["rep"].post(f"/api/v1/projects/{pid}/acceptance/documents", data={"deliverable_key": "signoff"},
                             files={"file": (name, io.BytesIO(b"%PDF-1.4 " + name.encode()), "application/pdf")})
        assert resp.status_code == 201, resp.text

    sign_off("验收单.pdf")
    r = c["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done, "comment": "已交付"})
    assert r.status_code == 201, r.text
    task = poll(lambda: todo(c["qa"], "acceptance"))
    r = c["qa"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "reject",
                                                                              "comment": "缺少培训记录"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    view = c["rep"].get(f"/api/v1/projects/{pid}/acceptance").json()
    assert (view["current"]["status"], view["current"]["reason"]) == ("rejected", "缺少培训记录")

    sign_off("验收单-补充.pdf")
    r = c["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done})
    assert r.status_code == 201, r.text
    task = poll(lambda: todo(c["qa"], "acceptance"))
    r = c["qa"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    got = c["rep"].get(f"/api/v1/projects/{pid}").json()
    assert got["status"] == "closed" and got["approval"]["policy_key"] == form
    view = c["rep"].get(f"/api/v1/projects/{pid}/acceptance").json()
    assert [h["status"] for h in view["history"]] == ["accepted", "rejected"]
