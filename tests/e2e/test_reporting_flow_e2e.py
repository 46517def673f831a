"""Reporting fed by the real workflows on ``baobei dev``: an approval walked over HTTP and a task
added over HTTP reach the read models through the events the lifecycle and execution workflows
send (no event is posted by hand here)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cli.devstack import DevStack
from tests.e2e.test_lifecycle_e2e import project_body, setup_org, todo_for


def eventually(probe: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_approval_and_task_events_reach_the_read_models(dev_stack: DevStack) -> None:
    c = setup_org(dev_stack)
    r = c["rep"].post("/api/v1/projects", json=project_body(c.form, c.run, submit=True))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    for who in ("mgr", "fin", "ceo"):
        task = todo_for(c[who], pid)
        r = c[who].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"

    # approval.step_opened / approval.decided → lead time per step and per approver.
    def step_rows() -> list[dict[str, Any]]:
        rows = c["admin"].get("/api/v1/reports/analytics/approval_steps").json()["rows"]
        return [row for row in rows if any(str(v) == "部门经理审批" for v in row.values())]

    assert eventually(step_rows), "approval steps never reached reporting"
    approvers = c["admin"].get("/api/v1/reports/analytics/approvers").json()["rows"]
    assert any(any(str(v) == f"mgr-{c.run}" for v in row.values()) for row in approvers), approvers

    # task.created from the execution workflow → the project's task table in reporting.
    r = c["rep"].post(
        f"/api/v1/projects/{pid}/tasks",
        json={"name": "现场勘查", "assignee_id": f"rep-{c.run}", "duration_days": 3},
    )
    assert r.status_code == 201, r.text

    def reported_tasks() -> list[dict[str, Any]]:
        report = c["rep"].get(f"/api/v1/reports/projects/{pid}").json()
        return [t for t in report["tasks"]["rows"] if any(str(v) == "现场勘查" for v in t.values())]

    assert eventually(reported_tasks), "task event never reached reporting"
