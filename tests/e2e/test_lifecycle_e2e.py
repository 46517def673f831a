"""End to end through the public HTTP contract on ``baobei dev``: org → form → three-step policy →
project of 120000 → three approvers decide → active; the reject path; 403 / 409; a restart that
keeps projects and in-flight approvals; the shared contract smoke script."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.dev import port_open
from cli.devstack import DevStack

SMOKE = Path(__file__).resolve().parents[3] / "shared" / "contract" / "smoke.py"


@dataclass
class Org:
    run: str
    form: str
    users: dict[str, httpx.Client]

    def __getitem__(self, who: str) -> httpx.Client:
        return self.users[who]


def setup_org(stack: DevStack) -> Org:
    run = uuid.uuid4().hex[:6]
    admin = stack.client()
    org = {
        "departments": [
            {"id": f"hq-{run}", "name": "总部", "manager_id": f"ceo-{run}"},
            {"id": f"sales-{run}", "name": "华东销售部", "parent_id": f"hq-{run}", "manager_id": f"mgr-{run}"},
        ],
        "users": [
            {"id": f"rep-{run}", "name": "张三", "department_id": f"sales-{run}", "roles": ["sales"], "region": "华东"},
            {"id": f"mgr-{run}", "name": "李经理", "department_id": f"sales-{run}", "roles": ["manager"]},
            {"id": f"fin-{run}", "name": "王财务", "department_id": f"hq-{run}", "roles": [f"finance-{run}"]},
            {"id": f"ceo-{run}", "name": "赵总", "department_id": f"hq-{run}", "roles": ["ceo"]},
            {"id": f"other-{run}", "name": "路人", "department_id": f"hq-{run}", "roles": ["sales"]},
        ],
    }
    r = admin.put("/api/v1/org", json=org)
    assert r.status_code == 200, r.text
    assert r.json() == {"departments": 2, "users": 5}
    clients = {"admin": admin}
    for who in ("rep", "mgr", "fin", "ceo", "other"):
        r = admin.post(f"/api/v1/users/{who}-{run}/tokens")
        assert r.status_code == 201, r.text
        clients[who] = stack.client(r.json()["token"])
    form = f"reg-{run}"
    r = admin.put(
        f"/api/v1/forms/{form}",
        json={
            "title": "客户项目报备",
            "fields": [
                {"key": "phone", "label": "联系电话", "type": "phone", "required": True},
                {"key": "source", "label": "线索来源", "type": "select", "options": ["展会", "老客户", "官网"]},
            ],
        },
    )
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    r = admin.put(
        f"/api/v1/approval-policies/{form}",
        json={
            "form_key": form,
            "steps": [
                {"name": "部门经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"},
                {
                    "name": "财务审批",
                    "when": "project.amount >= 100000",
                    "approvers": {"type": "role", "role": f"finance-{run}"},
                    "mode": "any",
                },
                {
                    "name": "总经理审批",
                    "when": "project.amount >= 100000",
                    "approvers": {"type": "user", "user_id": f"ceo-{run}"},
                    "mode": "any",
                },
            ],
        },
    )
    assert r.status_code == 200, r.text
    return Org(run=run, form=form, users=clients)


def project_body(form: str, run: str, amount: str = "120000", **extra: Any) -> dict[str, Any]:
    return {
        "form_key": form,
        "name": f"智慧园区二期{run}-{uuid.uuid4().hex[:4]}",
        "customer": {"name": f"杭州云栖科技{run}{uuid.uuid4().hex[:4]}有限公司"},
        "amount": amount,
        "region": "华东",
        "business_line": "智慧园区",
        "fields": {"phone": "13800138000", "source": "展会"},
        **extra,
    }


def todo_for(client: httpx.Client, project_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = [t for t in client.get("/api/v1/me/todos").json()["items"] if t["project_id"] == project_id]
        if items:
            return items[0]
        time.sleep(0.2)
    raise AssertionError(f"no to-do for {project_id}")


def inbox_for(client: httpx.Client, project_id: str, timeout: float = 20) -> list[dict[str, Any]]:
    """The caller's notifications once one about ``project_id`` is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items: list[dict[str, Any]] = client.get("/api/v1/me/notifications").json()["items"]
        if any(n.get("project_id") == project_id for n in items):
            return items
        time.sleep(0.2)
    raise AssertionError(f"no notification about {project_id}")


def test_three_step_approval_to_active(dev_stack: DevStack) -> None:
    c = setup_org(dev_stack)
    run, form = c.run, c.form
    body = {**project_body(form, run), "submitter_id": f"rep-{run}"}
    r = c["admin"].post(f"/api/v1/approval-policies/{form}/simulate", json=body)
    assert r.status_code == 200, r.text
    assert [(s["name"], s["approvers"]) for s in r.json()["steps"]] == [
        ("部门经理审批", [f"mgr-{run}"]),
        ("财务审批", [f"fin-{run}"]),
        ("总经理审批", [f"ceo-{run}"]),
    ]
    r = c["rep"].post("/api/v1/projects", json=project_body(form, run, submit=True))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["status"] == "pending_approval"
    assert r.json()["code"].startswith("BB-")

    # 经理 first; a non-approver is refused and changes nothing.
    task = todo_for(c["mgr"], pid)
    assert task["step"] == "部门经理审批"
    r = c["fin"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code in (403, 404), r.text
    assert r.json()["error"]["code"]
    r = c["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve", "comment": "同意"})
    assert r.status_code == 200, r.text
    assert r.json() == {"project_id": pid, "status": "pending_approval"}
    r = c["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 409, r.text

    for who in ("fin", "ceo"):
        task = todo_for(c[who], pid)
        r = c[who].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"

    project = c["rep"].get(f"/api/v1/projects/{pid}").json()
    assert project["status"] == "active"
    assert str(project["amount"]) in ("120000", "120000.00")
    steps = project["approval"]["steps"]
    assert [s["status"] for s in steps] == ["approved", "approved", "approved"]
    assert steps[0]["decisions"][0]["user_id"] == f"mgr-{run}" and steps[0]["decisions"][0]["comment"] == "同意"
    events = [h["event"] for h in project["history"]]
    assert "created" in events and "submitted" in events and "approved" in events
    # The approver was notified in-app (the approval request comes from approval's notice outbox,
    # sent by the delivery worker's relay: within a poll, not with the answer); the owner learns
    # of the result.
    notes = inbox_for(c["mgr"], pid)
    assert any(n.get("project_id") == pid for n in notes)
    # Visibility: a stranger sees nothing; the approvers and the department manager do.
    assert c["other"].get(f"/api/v1/projects/{pid}").status_code == 404
    assert pid not in [p["id"] for p in c["other"].get("/api/v1/projects").json()["items"]]
    assert c["ceo"].get(f"/api/v1/projects/{pid}").status_code == 200


def test_reject_path(dev_stack: DevStack) -> None:
    c = setup_org(dev_stack)
    run, form = c.run, c.form
    r = c["rep"].post("/api/v1/projects", json=project_body(form, run, amount="5000.50"))
    assert r.status_code == 201 and r.json()["status"] == "draft", r.text
    pid = r.json()["id"]
    r = c["rep"].post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    task = todo_for(c["mgr"], pid)
    decision = {"action": "reject", "comment": "客户已被报备"}
    r = c["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json=decision)
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    project = c["rep"].get(f"/api/v1/projects/{pid}").json()
    assert project["status"] == "rejected"
    assert project["amount"] in ("5000.50", "5000.5")
    # Only one step ran (small amount): the others were left out by their `when`.
    assert [s["status"] for s in project["approval"]["steps"]] == ["rejected"]
    assert c["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"}).status_code == 409


def test_bad_input_is_422_with_field_paths(dev_stack: DevStack) -> None:
    c = setup_org(dev_stack)
    run, form = c.run, c.form
    body = project_body(form, run, amount="-1")
    body["fields"] = {"phone": "12345"}
    body["customer"] = {"name": "", "uscc": "91350100M000100Y44"}
    r = c["rep"].post("/api/v1/projects", json=body)
    assert r.status_code == 422, r.text
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"amount", "fields.phone", "customer.name", "customer.uscc"} <= fields, fields
    r = c["rep"].post("/api/v1/projects", json=body, headers={"Accept-Language": "en"})
    assert r.status_code == 422 and r.json()["error"]["message"].isascii(), r.text
    assert c["rep"].get("/api/v1/projects", params={"q": body["name"]}).json()["items"] == []
    assert httpx.get(f"{dev_stack.base}/api/v1/projects").status_code == 401


@pytest.mark.skipif(not SMOKE.exists(), reason="shared/contract/smoke.py not beside the repo")
def test_contract_smoke(dev_stack: DevStack) -> None:
    out = subprocess.run(
        [sys.executable, str(SMOKE), dev_stack.base, dev_stack.token], capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 failed" in out.stdout


def test_restart_keeps_projects_and_in_flight_approvals(dev_stack: DevStack) -> None:
    """Runs last in this module: stops the shared stack and starts it again on the same data dir."""
    c = setup_org(dev_stack)
    run, form = c.run, c.form
    r = c["rep"].post("/api/v1/projects", json=project_body(form, run, submit=True))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    task = todo_for(c["mgr"], pid)
    r = c["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text

    assert dev_stack.stop() == 0
    # Ctrl-C stopped every child: nothing listens on the stack's ports any more.
    ports = [int(dev_stack.env["BAOBEI_PORT"]), int(dev_stack.env["BAOBEI_TEMPORAL_ADDRESS"].rsplit(":", 1)[1])]
    ports += [int(v.rsplit(":", 1)[1]) for k, v in dev_stack.env.items() if k.endswith("_ADDR")]
    assert [p for p in ports if port_open(p)] == []
    dev_stack.start()

    project = c["rep"].get(f"/api/v1/projects/{pid}").json()
    assert project["status"] == "pending_approval"
    assert [s["status"] for s in project["approval"]["steps"]][:2] == ["approved", "pending"]
    for who in ("fin", "ceo"):
        task = todo_for(c[who], pid)
        r = c[who].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
