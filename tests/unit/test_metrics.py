"""Metrics plumbing without a stack: age buckets of waiting approvals, the edge's route template,
metrics ports from the settings, the counters the servicers bump, and the status screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from baobei.core.metrics import split_method
from baobei.core.settings import Settings
from cli.status import Report, age, render
from edge.metrics import UNMATCHED, route_of
from services.approval import metrics as approval_metrics
from services.notify import domain as notify_domain
from services.notify import metrics as notify_metrics
from workflows.worker_metrics import component_of, sdk_port


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(("age_", "bucket"), [
    (timedelta(0), "lt_1h"), (timedelta(minutes=59), "lt_1h"), (timedelta(hours=1), "1h_4h"),
    (timedelta(hours=5), "4h_1d"), (timedelta(days=1), "1d_3d"), (timedelta(days=3), "3d_7d"),
    (timedelta(days=30), "ge_7d"),
])
def test_age_buckets(age_: timedelta, bucket: str) -> None:
    assert approval_metrics.age_bucket(age_) == bucket


class _Route:
    def __init__(self, path_format: str) -> None:
        self.path_format = path_format


def test_route_template_keeps_router_prefixes_and_hides_ids() -> None:
    scope: dict[str, Any] = {"route": _Route("/approval-tasks/{task_id}/decision"),
                             "path": "/api/v1/approval-tasks/T-42/decision", "path_params": {"task_id": "T-42"}}
    assert route_of(scope) == "/api/v1/approval-tasks/{task_id}/decision"
    assert route_of({"path": "/a/secret-token"}) == UNMATCHED  # action links: never the token
    assert route_of({"route": _Route("/healthz"), "path": "/healthz", "path_params": {}}) == "/healthz"


def test_grpc_method_names() -> None:
    assert split_method("/baobei.approval.v1.ApprovalService/RecordDecision") == (
        "baobei.approval.v1.ApprovalService", "RecordDecision")
    assert split_method("") == ("unknown", "unknown")


def test_metrics_ports_per_component() -> None:
    st = Settings(metrics_port=9464)
    assert st.metrics_port_of("approval") == 9464
    assert sdk_port(st, component_of("lifecycle")) == 9465  # a pod's own network namespace
    st = Settings(metrics_ports="edge=41001,approval=41002,worker=41003,worker-sdk=41004,bad,x=y")
    assert st.metrics_port_of("approval") == 41002 and st.metrics_port_of("tasks") == 0
    assert sdk_port(st, "worker") == 41004
    assert component_of("delivery") == "delivery-worker" and component_of("all") == "worker"
    assert sdk_port(Settings(), "worker") == 0  # no metrics, no SDK exporter


def test_timer_counters() -> None:
    before = {a: sample("baobei_approval_timers_fired_total", action=a) for a in ("remind", "escalate")}
    breaches, escalations = sample("baobei_approval_sla_breaches_total"), sample("baobei_approval_escalations_total")
    approval_metrics.observe_timer("remind", True)
    approval_metrics.observe_timer("escalate", True)
    approval_metrics.observe_timer("escalate", False)  # a decision won the race: nothing fired
    assert sample("baobei_approval_timers_fired_total", action="remind") == before["remind"] + 1
    assert sample("baobei_approval_timers_fired_total", action="escalate") == before["escalate"] + 1
    assert sample("baobei_approval_sla_breaches_total") == breaches + 1
    assert sample("baobei_approval_escalations_total") == escalations + 1
    n = sample("baobei_approval_decisions_total", action="approve", channel="other")
    approval_metrics.observe_decision("approve", "x" * 500)  # a caller's channel never becomes a label
    assert sample("baobei_approval_decisions_total", action="approve", channel="other") == n + 1


class _View:
    def __init__(self, channel: str, status: str) -> None:
        self.channel, self.status = channel, status


def test_delivery_counters() -> None:
    failed = sample("baobei_notify_delivery_attempts_total", channel="webhook", result="failed")
    permanent = sample("baobei_webhook_failures_total", kind="permanent")
    retryable = sample("baobei_webhook_failures_total", kind="retryable")
    dead = sample("baobei_notify_deliveries_finished_total", channel="webhook", status="dead")
    views: Any = [_View("webhook", notify_domain.PENDING)]
    notify_metrics.observe_record(views, {"attempt": 1, "ok": False, "error": "503"})
    views = [_View("webhook", notify_domain.DEAD)]
    notify_metrics.observe_record(views, {"attempt": 2, "ok": False, "status": notify_domain.DEAD})
    assert sample("baobei_notify_delivery_attempts_total", channel="webhook", result="failed") == failed + 2
    assert sample("baobei_webhook_failures_total", kind="retryable") == retryable + 1
    assert sample("baobei_webhook_failures_total", kind="permanent") == permanent + 1
    assert sample("baobei_notify_deliveries_finished_total", channel="webhook", status="dead") == dead + 1


def test_status_screen() -> None:
    report = Report(at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
                    components={"edge": "ok", "approval": "ok", "worker": "down: no poller on task queue baobei"},
                    waiting_by_stage={"财务审批": 2, "部门经理审批": 1}, past_sla=1, oldest_seconds=2 * 86400 + 3600,
                    dead_letters=4, open_deliveries=0)
    screen = render(report)
    assert "✘ worker" in screen and "✔ edge" in screen
    assert "待审批 waiting: 3   超时 past SLA: 1   最久等待 oldest waiting: 2d 1h" in screen
    assert "按环节 by stage: 财务审批 2, 部门经理审批 1" in screen
    assert "死信 dead letters: 4" in screen and "异常 down: worker" in screen
    assert report.down == ["worker"]
    empty = render(Report(at=report.at, components={"edge": "ok"}))
    assert "待审批 waiting: n/a" in empty and "all components up" in empty
    assert [age(s) for s in (0, 45, 600, 3 * 3600 + 1200, 90000)] == ["—", "45s", "10m", "3h 20m", "1d 1h"]


def test_status_finds_the_services_metrics(tmp_path: Any) -> None:
    from cli.status import metrics_urls

    # In a cluster (edge pod): the services' own hosts, the shared metrics port.
    st = Settings(data_dir=tmp_path, metrics_port=9464, approval_addr="approval:50062", notify_addr="notify:50065")
    assert metrics_urls(st) == {"approval": "http://approval:9464/metrics", "notify": "http://notify:9464/metrics"}
    # Under `baobei dev`: the supervisor's file wins.
    (tmp_path / "metrics.json").write_text('{"approval": "http://127.0.0.1:41002/metrics"}')
    assert metrics_urls(st) == {"approval": "http://127.0.0.1:41002/metrics"}
    assert metrics_urls(Settings(data_dir=tmp_path / "none")) == {}
