"""Audit retention: the AuditRetention workflow purges once per day at workflow time on the
time-skipping server (a fake activity of the same name records the calls), and the real activity
against a real registry removes what the retention setting says, from the instant it is given."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import pytest_asyncio
from google.protobuf import timestamp_pb2
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from baobei.core.grpc_client import aio_channel
from baobei.registry.v1 import audit_service_pb2 as apb
from baobei.registry.v1.audit_service_pb2_grpc import AuditServiceStub
from services.registry.server import build
from tests.conftest import temporal_test_server_path
from workflows.activities.audit import AuditActivities
from workflows.audit_retention import AuditRetention
from workflows.contracts.audit import AUDIT_PURGE, RETENTION_ACTOR, PurgeInput, PurgeOutcome
from workflows.contracts.audit_retention import AUDIT_RETENTION_WORKFLOW_TYPE, RetentionInput

T0 = datetime(2031, 5, 1, 8, 0, tzinfo=UTC)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path()
    ) as environment:
        yield environment


@pytest.mark.asyncio(loop_scope="module")
async def test_purges_once_a_day_at_workflow_time(env: WorkflowEnvironment) -> None:
    calls: list[PurgeInput] = []

    @activity.defn(name=AUDIT_PURGE)
    async def purge(inp: PurgeInput) -> PurgeOutcome:
        calls.append(inp)
        return PurgeOutcome(purged=1)

    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=task_queue, workflows=[AuditRetention], activities=[purge]):
        handle = await env.client.start_workflow(AUDIT_RETENTION_WORKFLOW_TYPE, RetentionInput(),
                                                 id=f"audit-retention-{uuid.uuid4().hex[:6]}", task_queue=task_queue)
        for _ in range(200):
            if calls:
                break
            await asyncio.sleep(0.05)
        assert len(calls) == 1
        await env.sleep(timedelta(days=2, minutes=1))
        for _ in range(200):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.05)
        assert len(calls) == 3
        times = [datetime.fromisoformat(c.now) for c in calls]
        assert [round((b - a) / timedelta(hours=1)) for a, b in zip(times, times[1:], strict=False)] == [24, 24]
        # One purge per run (continue-as-new): each with its own idempotency key.
        assert len({c.event_id for c in calls}) == 3
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate("test done")


@pytest.fixture()
def registry(make_db_url: Callable[[str], str]) -> Iterator[str]:
    server, port = build(db_url=make_db_url("registry"), port=0)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


def _ts(at: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(at)
    return t


@pytest.mark.asyncio(loop_scope="module")
async def test_the_activity_applies_the_retention_setting(registry: str) -> None:
    ch: grpc.aio.Channel = aio_channel(registry)
    try:
        stub = AuditServiceStub(ch)
        for day in range(60):
            await stub.Append(apb.AppendAuditRequest(event_id=f"e{day}", action="form.changed", actor_id="root",
                                                     at=_ts(T0 + timedelta(days=day))), timeout=10)
        now = T0 + timedelta(days=60)
        forever = await ActivityEnvironment().run(AuditActivities(stub, retention_days=0).purge,
                                                  PurgeInput(now=now.isoformat(), event_id="p0"))
        assert forever == PurgeOutcome()
        thirty = AuditActivities(stub, retention_days=30).purge
        out = await ActivityEnvironment().run(thirty, PurgeInput(now=now.isoformat(), event_id="p1"))
        assert out == PurgeOutcome(purged=30, anchor_seq=30, before=(T0 + timedelta(days=30)).isoformat())
        again = await ActivityEnvironment().run(thirty, PurgeInput(now=now.isoformat(), event_id="p1"))
        assert again.purged == 30  # a retried activity: the same purge, once
        page = await stub.List(apb.ListAuditRequest(limit=1), timeout=10)
        newest = page.events[0]
        assert newest.action == "audit.purged" and newest.actor_id == RETENTION_ACTOR
        assert newest.at.ToDatetime(tzinfo=UTC) == now
        assert json.loads(newest.details_json)["purged"] == 30
        verdict = await stub.Verify(apb.VerifyAuditRequest(), timeout=10)
        assert verdict.ok and verdict.checked == 31 and verdict.anchor.seq == 30
    finally:
        await ch.close()
