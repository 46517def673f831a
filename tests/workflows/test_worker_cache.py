"""The lifecycle worker's workflow cache is a setting (BAOBEI_WORKER_MAX_CACHED_WORKFLOWS): the
worker's memory beyond the baseline scales with it (docs/performance.md, bench.soak / bench.memprobe)."""

from __future__ import annotations

import grpc
import pytest
from temporalio.testing import WorkflowEnvironment

from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.core.settings import Settings
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from workflows.worker import MAX_CACHED_WORKFLOWS, Stubs, build_worker

pytestmark = pytest.mark.asyncio(loop_scope="module")


def stubs() -> Stubs:
    ch = grpc.aio.insecure_channel("127.0.0.1:1")  # never called: the worker is only built
    return Stubs(registry=RegistryServiceStub(ch), approval=ApprovalServiceStub(ch),
                 notify=NotifyServiceStub(ch), reporting=ReportingServiceStub(ch))


async def test_the_cache_size_is_the_setting(env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAOBEI_WORKER_MAX_CACHED_WORKFLOWS", raising=False)
    assert Settings().worker_max_cached_workflows == MAX_CACHED_WORKFLOWS == 200
    monkeypatch.setenv("BAOBEI_WORKER_MAX_CACHED_WORKFLOWS", "50")
    worker = build_worker(env.client, Settings(), stubs=stubs(), task_queue="tq-cache")
    assert worker.config()["max_cached_workflows"] == 50
