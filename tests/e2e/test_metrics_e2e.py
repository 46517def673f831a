"""Metrics on the real stack (``baobei dev``): every component serves /metrics on the port the
supervisor gave it and lists in its ready message; after a registration and a decision the key
series carry the right labels and values (approvals waiting up by one, then down by one; the
edge's counter under the route template; the gRPC interceptor's count; the SDK's own worker
series); ``baobei status`` prints the summary from the same stack."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from cli.devstack import ROOT, DevStack
from tests.e2e.test_approval_e2e import todo
from tests.e2e.test_lifecycle_e2e import setup_org

Series = dict[str, list[tuple[dict[str, str], float]]]
COMPONENTS = ("edge", "registry", "approval", "tasks", "reporting", "notify", "worker", "delivery-worker")


def urls(stack: DevStack) -> dict[str, str]:
    found: dict[str, str] = json.loads((stack.data_dir / "metrics.json").read_text())
    return found


def scrape(url: str) -> Series:
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text[:200]
    out: Series = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return out


def value(series: Series, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
    return sum(v for got, v in series.get(name, []) if all(got.get(k) == want for k, want in labels.items()))


def until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def test_every_component_serves_metrics_listed_in_the_ready_message(dev_stack: DevStack) -> None:
    listed = urls(dev_stack)
    assert set(COMPONENTS) <= set(listed)
    ports = {int(u.rsplit(":", 1)[1].split("/")[0]) for u in listed.values()}
    assert len(ports) == len(listed), "two components share a metrics port"
    ready = "\n".join(dev_stack.output)
    for component in COMPONENTS:
        assert listed[component] in ready, f"{component}'s metrics URL is not in the ready message"
        page = scrape(listed[component])
        assert page, component
    # Each service's page has the interceptor's series and its database pool.
    for service in ("registry", "approval", "tasks", "reporting", "notify"):
        page = scrape(listed[service])
        assert any(lbl.get("grpc_service", "").startswith(f"baobei.{service}.") or
                   lbl.get("grpc_service") == "grpc.health.v1.Health"
                   for lbl, _ in page.get("baobei_grpc_server_handled_total", [])), service
        assert any(lbl["database"] == service for lbl, _ in page["baobei_db_pool_checked_out"]), service


def test_a_decision_moves_the_key_series(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    stage = f"指标审批-{org.run}"  # a stage of our own: other tests' approvals never count in it
    r = org["admin"].put(f"/api/v1/approval-policies/{org.form}", json={
        "form_key": org.form,
        "steps": [{"name": stage, "approvers": {"type": "manager_of_submitter"}, "mode": "any"}],
    })
    assert r.status_code == 200, r.text
    listed = urls(dev_stack)
    before = {c: scrape(listed[c]) for c in ("edge", "registry", "approval")}
    assert value(before["approval"], "baobei_approvals_waiting", stage=stage) == 0

    body = {"form_key": org.form, "name": f"指标园区-{uuid.uuid4().hex[:6]}", "submit": True,
            "customer": {"name": f"杭州指标科技{org.run}{uuid.uuid4().hex[:4]}有限公司"},
            "amount": "5000", "fields": {"phone": "13800138000"}}
    r = org["rep"].post("/api/v1/projects", json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    task = todo(org["mgr"], pid)
    approval = scrape(listed["approval"])
    # One more waiting, in the youngest age bucket; the oldest waiting step has an age.
    assert value(approval, "baobei_approvals_waiting", stage=stage) == 1
    assert value(approval, "baobei_approvals_waiting", stage=stage, age="lt_1h") == 1
    assert value(approval, "baobei_approvals_past_sla", stage=stage) == 0
    assert value(approval, "baobei_approvals_oldest_waiting_seconds") > 0

    r = org["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text
    until(lambda: org["rep"].get(f"/api/v1/projects/{pid}").json()["status"] == "active", "project not active")
    after = {c: scrape(listed[c]) for c in ("edge", "registry", "approval", "worker", "delivery-worker", "notify")}
    approval = after["approval"]
    assert value(approval, "baobei_approvals_waiting", stage=stage) == 0  # down by one after the decision
    assert value(approval, "baobei_approval_decisions_total", action="approve") >= value(
        before["approval"], "baobei_approval_decisions_total", action="approve") + 1
    rpc = {"grpc_service": "baobei.approval.v1.ApprovalService", "grpc_method": "RecordDecision", "grpc_code": "OK"}
    assert value(approval, "baobei_grpc_server_handled_total", **rpc) >= value(
        before["approval"], "baobei_grpc_server_handled_total", **rpc) + 1
    assert value(approval, "baobei_grpc_server_handling_seconds_count",
                 grpc_service=rpc["grpc_service"], grpc_method="RecordDecision") >= 1

    # The edge counts the decision under its route template, never the task id in the path.
    edge = after["edge"]
    route = {"method": "POST", "route": "/api/v1/approval-tasks/{task_id}/decision", "status": "200"}
    assert value(edge, "baobei_http_requests_total", **route) == value(
        before["edge"], "baobei_http_requests_total", **route) + 1
    assert value(edge, "baobei_http_request_duration_seconds_count",
                 method="POST", route="/api/v1/approval-tasks/{task_id}/decision") >= 1
    assert not any(task["id"] in lbl.get("route", "") for lbl, _ in edge["baobei_http_requests_total"])
    assert value(edge, "baobei_http_requests_total", method="POST", route="/api/v1/projects", status="201") >= 1
    assert "baobei_http_requests_in_flight" in edge

    registry = after["registry"]
    assert value(registry, "baobei_projects_created_total", source="api") >= value(
        before["registry"], "baobei_projects_created_total", source="api") + 1
    assert value(registry, "baobei_projects_submitted_total") >= value(
        before["registry"], "baobei_projects_submitted_total") + 1
    assert "baobei_protection_expiring" in registry

    # The Temporal SDK's own series on the workers' pages, by task queue and activity type.
    worker = after["worker"]
    assert value(worker, "temporal_worker_task_slots_available", task_queue="baobei", worker_type="WorkflowWorker") > 0
    # The lifecycle calls the services as local activities (issue 15): their latency by type.
    assert any(lbl.get("activity_type") == "approval.RecordDecision"
               for lbl, _ in worker["temporal_local_activity_execution_latency_seconds_count"])
    assert "temporal_workflow_task_schedule_to_start_latency_seconds_bucket" in worker
    assert any(lbl.get("task_queue") == "baobei-delivery"
               for lbl, _ in after["delivery-worker"]["temporal_worker_task_slots_available"])
    assert "baobei_notify_dead_letters" in after["notify"]
    # The approver was notified in the app when the step opened.
    assert value(after["notify"], "baobei_notifications_sent_total", channel="inapp") >= 1


def test_status_prints_the_summary(dev_stack: DevStack) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "status", "--data-dir", str(dev_stack.data_dir), "--json"],
        cwd=ROOT, env=dev_stack.env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["down"] == []
    assert set(COMPONENTS) | {"temporal"} <= set(report["components"])
    assert report["approvals"]["waiting"] >= 0 and report["notifications"]["dead_letters"] is not None
    screen = subprocess.run(
        [sys.executable, "-m", "cli.main", "status", "--data-dir", str(dev_stack.data_dir)],
        cwd=ROOT, env=dev_stack.env, capture_output=True, text=True, timeout=60,
    )
    assert "待审批 waiting" in screen.stdout and "死信 dead letters" in screen.stdout, screen.stdout
