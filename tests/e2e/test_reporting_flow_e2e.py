"""Reporting fed by the real workflows on ``baobei dev``: an approval walked over HTTP and a task
added over HTTP reach the read models through the events the lifecycle and execution workflows
send (no event is posted by hand here). The lifecycle's events come from the services' outboxes
(registry, approval) through the worker's relay: its history holds no reporting activity."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from baobei.core.db import make_engine
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

    # Every event of the walk reached reporting once, with the ids the workflow used to send, and
    # the steps are closed as approved; the workflow itself sent none.
    expected = Counter({"project.created": 1, "project.submitted": 1, "approval.step_opened": 3,
                        "approval.decided": 3, "project.approved": 1})
    assert eventually(lambda: Counter(t for _, t in logged_events(dev_stack, pid)) == expected), \
        logged_events(dev_stack, pid)
    ids = [e for e, _ in logged_events(dev_stack, pid)]
    assert all(e.startswith(f"project-{pid}:") for e in ids), ids
    assert {f"project-{pid}:project.created:0", f"project-{pid}:project.submitted:1",
            f"project-{pid}:project.approved:1"} <= set(ids)
    steps = reporting_rows(dev_stack, "SELECT outcome, closed_at FROM approval_step_view WHERE project_id = :p", pid)
    assert len(steps) == 3 and all(o == "approved" and at is not None for o, at in steps), steps
    assert reporting_rows(dev_stack, "SELECT status FROM project_view WHERE project_id = :p", pid) == [("active",)]
    activities = asyncio.run(activity_types(dev_stack.env["BAOBEI_TEMPORAL_ADDRESS"], f"project-{pid}"))
    assert "approval.RecordDecision" in activities and "reporting.IngestEvent" not in activities, activities

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


def reporting_rows(stack: DevStack, sql: str, pid: str) -> list[tuple[Any, ...]]:
    url = stack.env.get("BAOBEI_REPORTING_DB_URL") or f"sqlite:///{stack.data_dir / 'reporting.db'}"
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), {"p": pid})]
    finally:
        engine.dispose()


def logged_events(stack: DevStack, pid: str) -> list[tuple[str, str]]:
    return [(str(e), str(t)) for e, t in reporting_rows(
        stack, "SELECT event_id, type FROM event_log WHERE project_id = :p ORDER BY event_id", pid)]


async def activity_types(address: str, workflow_id: str) -> Counter[str]:
    """The workflow's activities (remote and local) by type."""
    client = await Client.connect(address)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    out: Counter[str] = Counter()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            out[event.activity_task_scheduled_event_attributes.activity_type.name] += 1
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity" and "data" in marker.details:
                out[json.loads(marker.details["data"].payloads[0].data).get("activity_type", "?")] += 1
    return out
