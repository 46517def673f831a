"""The approval engine end to end on ``baobei dev`` (child process, real Temporal dev server):
return → edit-free resubmission resumes at the returning step → transfer → add-sign → active;
remind, cc with read receipt, comment; withdraw; simulate with provenance and what-if."""

from __future__ import annotations

import time
from typing import Any

import httpx

from cli.devstack import DevStack
from tests.e2e.test_lifecycle_e2e import Org, setup_org


def body(org: Org, amount: str = "120000") -> dict[str, Any]:
    n = time.time_ns()
    return {"form_key": org.form, "name": f"智慧园区-{n}", "customer": {"name": f"杭州云栖科技{org.run}{n}有限公司"},
            "amount": amount, "fields": {"phone": "13800138000"}, "submit": True}


def todo(client: httpx.Client, pid: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = client.get("/api/v1/me/todos").json()["items"]
        mine = [t for t in items if t["project_id"] == pid]
        if mine:
            return mine[0]  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"no to-do for {pid}")


def decide(client: httpx.Client, task: dict[str, Any], **extra: Any) -> httpx.Response:
    return client.post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve", **extra})


def test_return_resubmit_transfer_add_sign(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    run = org.run
    r = org["rep"].post("/api/v1/projects", json=body(org))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert decide(org["mgr"], todo(org["mgr"], pid)).json()["status"] == "pending_approval"
    r = decide(org["fin"], todo(org["fin"], pid), action="return", comment="请补充报价单")
    assert r.json()["status"] == "returned", r.text
    assert org["rep"].get(f"/api/v1/projects/{pid}").json()["status"] == "returned"
    r = org["rep"].post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 200, r.text
    fin_task = todo(org["fin"], pid)  # resumes at 财务审批
    assert fin_task["step"] == "财务审批"
    r = decide(org["fin"], fin_task, action="transfer", to_user_id=f"ceo-{run}")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    ceo_task = todo(org["ceo"], pid)
    r = decide(org["ceo"], ceo_task, action="add_approver", to_user_id=f"other-{run}", position="parallel")
    assert r.status_code == 200, r.text
    # any-mode step: the added approver's approval settles it.
    r = decide(org["other"], todo(org["other"], pid))
    assert r.json()["status"] in ("pending_approval", "active"), r.text
    deadline = time.monotonic() + 30
    while org["rep"].get(f"/api/v1/projects/{pid}").json()["status"] != "active":
        # A third step (总裁) may follow, depending on the shared org's policy.
        items = [t for t in org["ceo"].get("/api/v1/me/todos").json()["items"] if t["project_id"] == pid]
        if items:
            decide(org["ceo"], items[0])
        assert time.monotonic() < deadline
        time.sleep(0.2)
    approval = org["rep"].get(f"/api/v1/projects/{pid}/approval").json()
    actions = [d["action"] for s in approval["steps"] for d in s["decisions"]]
    assert actions[:6] == ["approve", "return", "resubmit", "transfer", "add_approver", "approve"]
    assert approval["policy_version"] == 1 and approval["steps"][0]["why"]["rule"] == "steps[0]"


def test_remind_cc_comment_and_withdraw(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    run = org.run
    pid = org["rep"].post("/api/v1/projects", json=body(org, "5000")).json()["id"]
    todo(org["mgr"], pid)
    r = org["rep"].post(f"/api/v1/projects/{pid}/remind", json={"comment": "客户在等"})
    assert r.status_code == 200 and r.json()["reminded"] == [f"mgr-{run}"], r.text
    assert org["rep"].post(f"/api/v1/projects/{pid}/remind").status_code == 409
    r = org["mgr"].post(f"/api/v1/projects/{pid}/approval/cc", json={"user_ids": [f"fin-{run}"]})
    assert r.status_code == 200, r.text
    [copy] = [c for c in org["fin"].get("/api/v1/me/cc").json()["items"] if c["project_id"] == pid]
    assert org["fin"].post(f"/api/v1/cc/{copy['id']}/read").json()["read_at"]
    r = org["rep"].post(f"/api/v1/projects/{pid}/approval/comments",
                        json={"comment": "补充材料", "attachments": [{"name": "a.pdf", "url": "https://f/a.pdf"}]})
    assert r.status_code == 201, r.text
    r = org["rep"].post(f"/api/v1/projects/{pid}/withdraw")
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert all(t["project_id"] != pid for t in org["mgr"].get("/api/v1/me/todos").json()["items"])


def test_simulate_and_what_if(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    run = org.run
    sim = org["rep"].post(f"/api/v1/approval-policies/{org.form}/simulate", json=body(org, "150000")).json()
    assert [s["name"] for s in sim["steps"]][:2] == ["部门经理审批", "财务审批"]
    assert sim["steps"][1]["why"]["when"] == "project.amount >= 100000"
    pid = org["rep"].post("/api/v1/projects", json=body(org, "150000")).json()["id"]
    todo(org["mgr"], pid)
    draft = {"steps": [{"name": "部门经理审批", "approvers": {"type": "user", "user_id": f"ceo-{run}"}}]}
    r = org["admin"].post(f"/api/v1/approval-policies/{org.form}/what-if", json=draft)
    assert r.status_code == 200, r.text
    [item] = [i for i in r.json()["items"] if i["project_id"] == pid]
    assert "财务审批" in item["removed"]
    assert item["approvers_changed"] == [{"step": "部门经理审批", "before": [f"mgr-{run}"], "after": [f"ceo-{run}"]}]
