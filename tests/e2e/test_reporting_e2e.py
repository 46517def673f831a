"""Reporting on the real ``baobei dev``: a change shows up in the dashboard within 2 seconds; an
early warning raised from events reaches the owner's notifications through the outbox; the
``baobei rebuild-read-models`` command recomputes the read models and changes no figure."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from baobei import reporting_events
from baobei.core.grpc_client import channel
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from cli.devstack import ROOT, DevStack
from tests.policies import no_approval_policy

FRESHNESS_S = 2.0


def setup(stack: DevStack) -> tuple[str, httpx.Client, str]:
    run = uuid.uuid4().hex[:6]
    admin = stack.client()
    r = admin.put(
        "/api/v1/org",
        json={
            "departments": [{"id": f"rd-{run}", "name": "交付部"}],
            "users": [{"id": f"owner-{run}", "name": "周工", "department_id": f"rd-{run}", "roles": ["sales"]}],
        },
    )
    assert r.status_code == 200, r.text
    token = admin.post(f"/api/v1/users/owner-{run}/tokens").json()["token"]
    form = f"rpt-{run}"
    # An explicit no-approval policy for this form: the project is approved on submit.
    r = admin.put(
        f"/api/v1/forms/{form}", json={"title": "报备", "fields": [{"key": "note", "label": "备注", "type": "text"}]}
    )
    assert r.status_code == 200, r.text
    r = admin.put(**no_approval_policy(form))
    assert r.status_code == 200, r.text
    return form, stack.client(token), f"owner-{run}"


def poll(check: Any, timeout: float, interval: float = 0.05) -> float:
    """Seconds until ``check()`` holds; fails after ``timeout``."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(interval)


def test_dashboard_freshness_warning_delivery_and_rebuild(dev_stack: DevStack) -> None:
    form, owner, owner_id = setup(dev_stack)
    r = owner.post(
        "/api/v1/projects",
        json={
            "form_key": form,
            "name": "新建园区项目",
            "customer": {"name": "苏州某某有限公司"},
            "amount": "88000",
            "region": "华东",
            "business_line": "智慧园区",
            "fields": {},
            "submit": True,
        },
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    def shows(status: str) -> bool:
        body = owner.get("/api/v1/reports/portfolio").json()
        return any(p["id"] == pid and p["status"] == status for p in body["projects"])

    # Creation → submission → approval, each a state change the dashboard reflects within 2 s.
    elapsed = poll(lambda: shows("active"), timeout=FRESHNESS_S)
    assert elapsed < FRESHNESS_S
    body = owner.get("/api/v1/reports/portfolio").json()
    assert body["total_amount"] == "88000.00" and body["contracted_amount"] == "88000.00"

    # Task / cost events (as the tasks workflows send them) → health and a cost warning, delivered
    # to the owner's notifications by reporting's outbox through notify.
    addr = dev_stack.env["BAOBEI_REPORTING_ADDR"]
    ch = channel(addr)
    try:
        stub = ReportingServiceStub(ch)
        for event_id, type_, payload in (
            (
                f"{pid}:t1",
                "task.created",
                {
                    "task_id": f"{pid}-t1",
                    "project_id": pid,
                    "name": "部署",
                    "status": "todo",
                    "estimate_hours": 10,
                    "assignee_id": owner_id,
                },
            ),
            (
                f"{pid}:c1",
                "cost.recorded",
                {"cost_id": f"{pid}-c1", "project_id": pid, "kind": "外包", "amount": "9000.00"},
            ),
        ):
            event = reporting_events.build(
                event_id=event_id, event_type=type_, project_id=pid, at=datetime.now(UTC), values=payload
            )
            stub.IngestEvent(pb.IngestEventRequest(event=event), timeout=10)
    finally:
        ch.close()
    report = owner.get(f"/api/v1/reports/projects/{pid}").json()
    assert report["project"]["actual_cost"] == "9000.00" and report["project"]["open_tasks"] == 1

    def warned() -> bool:
        items = owner.get("/api/v1/me/notifications").json()["items"]
        return any(n["kind"] == "early_warning" and n.get("project_id") == pid for n in items)

    poll(warned, timeout=10, interval=0.2)
    items = owner.get("/api/v1/me/notifications").json()["items"]
    assert sum(1 for n in items if n["kind"] == "early_warning") == 1
    assert [w["kind"] for w in owner.get("/api/v1/reports/warnings").json()["items"]] == ["cost_overrun"]

    # The rebuild command recomputes everything; the figures stay the same.
    admin = dev_stack.client()
    before = admin.get("/api/v1/reports/portfolio").json()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "rebuild-read-models", "--data-dir", str(dev_stack.data_dir)],
        cwd=ROOT,
        env=dev_stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rebuilt reporting read models" in done.stdout
    after = admin.get("/api/v1/reports/portfolio").json()
    for key in ("by_status", "total_amount", "contracted_amount", "overdue_tasks", "active_tasks", "project_count"):
        assert after[key] == before[key], key
    assert {p["id"] for p in after["projects"]} == {p["id"] for p in before["projects"]}
