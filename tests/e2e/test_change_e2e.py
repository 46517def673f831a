"""Change requests (变更) on the real ``baobei dev``: register → approve → plan (a task) → a change
raising the amount past the policy's branch (manager, then the director the branch brings in) with
the baseline re-set → applied (history `changed`, reporting follows) → a second change rejected →
nothing applied. The project's approval stays the registration's."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from cli.devstack import DevStack
from tests.e2e.test_acceptance_e2e import poll


def test_change_raised_past_a_branch_then_rejected(dev_stack: DevStack) -> None:
    run = uuid.uuid4().hex[:6]
    admin = dev_stack.client()
    ids = {k: f"{k}-{run}" for k in ("rep", "boss", "director")}
    r = admin.put("/api/v1/org", json={
        "departments": [{"id": f"chg-{run}", "name": "销售三部", "manager_id": ids["boss"]}],
        "users": [
            {"id": ids["rep"], "name": "销售甲", "department_id": f"chg-{run}", "roles": ["sales"]},
            {"id": ids["boss"], "name": "经理", "department_id": f"chg-{run}", "roles": ["manager"]},
            {"id": ids["director"], "name": "总监", "department_id": f"chg-{run}", "roles": ["director"]},
        ],
    })
    assert r.status_code == 200, r.text
    c = {k: dev_stack.client(admin.post(f"/api/v1/users/{uid}/tokens").json()["token"]) for k, uid in ids.items()}
    form = f"chg-{run}"
    r = admin.put(f"/api/v1/forms/{form}", json={"title": "报备", "fields": [
        {"key": "scope", "label": "范围", "type": "text"}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/approval-policies/{form}", json={"form_key": form, "steps": [
        {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"},
        {"name": "大额审批", "when": "project.amount > 1000000",
         "approvers": {"type": "user", "user_id": ids["director"]}, "mode": "any"}]})
    assert r.status_code == 200, r.text
    r = c["rep"].post("/api/v1/projects", json={
        "form_key": form, "name": f"变更项目{run}", "customer": {"name": f"变更客户{run}有限公司"}, "amount": "800000",
        "fields": {"scope": "一期"}, "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    def todo(client: httpx.Client, purpose: str) -> dict[str, Any] | None:
        items = client.get("/api/v1/me/todos").json()["items"]
        return next((t for t in items if t["project_id"] == pid and t["purpose"] == purpose), None)

    task = poll(lambda: todo(c["boss"], "registration"))
    r = c["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    r = c["rep"].post(f"/api/v1/projects/{pid}/tasks", json={"name": "实施", "duration_days": 5})
    assert r.status_code == 201, r.text

    r = c["rep"].post(f"/api/v1/projects/{pid}/changes", json={
        "changes": {"amount": "1500000", "fields": {"scope": "一期+二期"}}, "reason": "客户追加二期",
        "reset_baseline": True})
    assert r.status_code == 201, r.text
    change = r.json()
    assert [s["name"] for s in change["approval"]["steps"]] == ["经理审批", "大额审批"]
    r = c["rep"].post(f"/api/v1/projects/{pid}/changes", json={"changes": {"amount": "1"}, "reason": "再改"})
    assert r.status_code == 409, r.text
    task = poll(lambda: todo(c["boss"], "change"))
    assert {d["field"] for d in task["change"]["diff"]} == {"amount", "fields.scope"}
    r = c["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    task = poll(lambda: todo(c["director"], "change"))
    r = c["director"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text
    got = c["rep"].get(f"/api/v1/projects/{pid}").json()
    assert (got["amount"], got["fields"]["scope"]) == ("1500000.00", "一期+二期")
    assert [h["event"] for h in got["history"]].count("changed") == 1
    assert got["approval"]["policy_key"] == form and len(got["approval"]["steps"]) == 1
    assert c["rep"].get(f"/api/v1/changes/{change['id']}").json()["status"] == "approved"
    poll(lambda: any(p["id"] == pid and p.get("amount") == "1500000.00"
                     for p in c["rep"].get("/api/v1/reports/portfolio").json()["projects"]))

    r = c["rep"].post(f"/api/v1/projects/{pid}/changes", json={"changes": {"end_date": "2027-12-31"},
                                                               "reason": "延期"})
    assert r.status_code == 201, r.text
    task = poll(lambda: todo(c["boss"], "change"))
    r = c["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "reject",
                                                                                "comment": "不同意延期"})
    assert r.status_code == 200, r.text
    items = c["rep"].get(f"/api/v1/projects/{pid}/changes").json()["items"]
    assert [(i["status"], i["outcome_reason"]) for i in items] == [("rejected", "不同意延期"), ("approved", None)]
    assert c["rep"].get(f"/api/v1/projects/{pid}").json().get("end_date") in (None, "")
