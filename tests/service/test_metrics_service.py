"""Service metrics over real gRPC and real databases: the one interceptor counts every RPC with
its method and status code; the approval service's scrape-time gauges follow a step from open to
past its SLA; notify and registry collectors answer from their own (empty) databases; the pool
gauges name each database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from prometheus_client import REGISTRY

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core.db import make_engine
from baobei.core.metrics import PoolCollector
from services.approval import metrics as approval_metrics
from services.notify import metrics as notify_metrics
from services.registry import metrics as registry_metrics
from tests.conftest import StartService
from tests.service.test_approval_service import facts, open_step, plan, put, registry_addr, rid, step

__all__ = ["registry_addr"]  # the module fixture, shared
SERVICE = "baobei.approval.v1.ApprovalService"


def handled(method: str, code: str) -> float:
    labels = {"grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("baobei_grpc_server_handled_total", labels) or 0.0


def gauge(families: list[object], name: str, **labels: str) -> float:
    return sum(s.value for f in families for s in f.samples  # type: ignore[attr-defined]
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_interceptor_and_waiting_gauges(start_service: StartService, registry_addr: str) -> None:
    svc = start_service("approval", registry_addr=registry_addr)
    stub = pb_grpc.ApprovalServiceStub(svc.channel)
    engine = make_engine(svc.db_url)
    stage = f"指标-{rid()[:6]}"
    form = f"metrics-{rid()[:6]}"
    ok_before, bad_before = handled("OpenStep", "OK"), handled("PlanChain", "INVALID_ARGUMENT")
    put(stub, form, form, step(stage, user="lead", sla="1h"))
    chain = plan(stub, facts(form))
    opened = open_step(stub, chain.instance_id, 0)
    assert opened.tasks
    with pytest.raises(grpc.RpcError):
        stub.PlanChain(pb.PlanChainRequest(request_id=rid()), timeout=10)
    assert handled("OpenStep", "OK") == ok_before + 1
    assert handled("PlanChain", "INVALID_ARGUMENT") == bad_before + 1
    seconds = REGISTRY.get_sample_value(
        "baobei_grpc_server_handling_seconds_count", {"grpc_service": SERVICE, "grpc_method": "OpenStep"})
    assert seconds and seconds >= 1

    now = datetime.now(UTC)
    fresh = list(approval_metrics.waiting_families(engine, lambda: now))
    assert gauge(fresh, "baobei_approvals_waiting", stage=stage, age="lt_1h") == 1
    assert gauge(fresh, "baobei_approvals_past_sla", stage=stage) == 0
    later = list(approval_metrics.waiting_families(engine, lambda: now + timedelta(days=30)))
    assert gauge(later, "baobei_approvals_waiting", stage=stage) == 1
    assert gauge(later, "baobei_approvals_waiting", stage=stage, age="ge_7d") == 1
    assert gauge(later, "baobei_approvals_past_sla", stage=stage) == 1
    assert gauge(later, "baobei_approvals_oldest_waiting_seconds") >= 30 * 86400 - 60

    stub.RecordDecision(pb.RecordDecisionRequest(request_id=rid(), task_id=opened.tasks[0].id, actor_id="lead",
                                                 action="approve"), timeout=10)
    done = list(approval_metrics.waiting_families(engine, lambda: now))
    assert gauge(done, "baobei_approvals_waiting", stage=stage) == 0
    pools = list(PoolCollector().collect())
    assert any(s.labels["database"] == "approval" for f in pools for s in f.samples)
    engine.dispose()


def test_notify_and_registry_collectors_on_their_databases(start_service: StartService) -> None:
    notify = start_service("notify", registry_addr="", redis_url="")
    registry = start_service("registry")
    n_engine, r_engine = make_engine(notify.db_url), make_engine(registry.db_url)
    families = list(notify_metrics.open_families(n_engine))
    assert gauge(families, "baobei_notify_dead_letters") == 0
    protection = list(registry_metrics.protection_families(r_engine))
    assert {s.labels["within"] for f in protection for s in f.samples if s.name == "baobei_protection_expiring"} == {
        "7d", "30d"}
    assert gauge(protection, "baobei_protection_active") == 0
    # The services registered them: a scrape of the default registry carries them.
    names = {m.name for m in REGISTRY.collect()}
    assert {"baobei_notify_dead_letters", "baobei_notify_deliveries", "baobei_protection_expiring"} <= names
    n_engine.dispose()
    r_engine.dispose()
