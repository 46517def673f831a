"""The notify dispatcher (outbox) against a real Temporal test server: pending deliveries become
NotificationDelivery workflows with id delivery-<batch>, and a crash anywhere between claiming,
starting and marking is picked up again without losing or duplicating a delivery."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from baobei.core.db import make_engine
from baobei.core.grpc_client import channel
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from services.notify.server import build
from tests.conftest import temporal_test_server_path
from workflows.contracts.delivery import DELIVERY_WORKFLOW_TYPE, DeliveryBatchInput, delivery_workflow_id

pytestmark = pytest.mark.asyncio(loop_scope="module")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@workflow.defn(name=DELIVERY_WORKFLOW_TYPE, sandboxed=False)
class RecordingDelivery:
    """Stands in for the real NotificationDelivery (tested with the workflows): returns its input."""

    @workflow.run
    async def run(self, inp: DeliveryBatchInput) -> dict[str, Any]:
        return {"ids": [d.delivery_id for d in inp.deliveries], "max_attempts": inp.max_attempts,
                "initial": inp.initial_backoff_seconds, "max_backoff": inp.max_backoff_seconds}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path()
    ) as environment:
        yield environment


def rows(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


async def until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_dispatcher_starts_delivery_workflows_and_recovers(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str]
) -> None:
    tq = f"notify-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        temporal_address=env.client.service_client.config.target_host,
        temporal_namespace=env.client.namespace,
        task_queue=tq,
        webhook_allow_internal=True,
        delivery_max_attempts=4,
        delivery_initial_backoff_seconds=0.5,
        delivery_max_backoff_seconds=7,
    )
    db_url = make_db_url("notify")
    # a long poll: the first hand-over must come from the wake-up after the commit
    server, port = build(db_url=db_url, port=0, settings=settings, registry_addr="", redis_url="", dispatch=True,
                         dispatch_poll_seconds=30.0)
    server.start()
    ch = channel(f"127.0.0.1:{port}")
    stub = pb_grpc.NotifyServiceStub(ch)
    try:
        async with Worker(env.client, task_queue=tq, workflows=[RecordingDelivery]):
            await asyncio.to_thread(
                stub.PutSubscription,
                pb.PutSubscriptionRequest(request_id="s1", subscription=pb.Subscription(
                    id="fin", url="http://127.0.0.1:9/h", events=["*"], secrets=[SECRET], enabled=True)),
                timeout=10,
            )
            published = await asyncio.to_thread(
                stub.PublishEvent, pb.PublishEventRequest(event_id="e1", type="project.approved"), timeout=10)
            [d] = published.deliveries
            await until(lambda: rows(db_url, "SELECT status FROM delivery") == [("dispatched",)], timeout=5)
            [(batch,)] = rows(db_url, "SELECT batch_id FROM delivery")
            result = await env.client.get_workflow_handle(delivery_workflow_id(batch)).result()
            assert result == {"ids": [d.id], "max_attempts": 4, "initial": 0.5, "max_backoff": 7.0}

            # crash after the claim, before the start: a pending row with a batch id is started later
            rows(db_url, "UPDATE delivery SET status = 'pending', batch_id = 'crashed-batch'")
            # crash before the claim: a pending row without a batch
            more = await asyncio.to_thread(
                stub.PublishEvent, pb.PublishEventRequest(event_id="e2", type="project.closed"), timeout=10)
            await until(lambda: {s for (s,) in rows(db_url, "SELECT status FROM delivery")} == {"dispatched"})
            crashed = await env.client.get_workflow_handle(delivery_workflow_id("crashed-batch")).result()
            assert crashed["ids"] == [d.id]
            [(batch2,)] = rows(db_url, "SELECT batch_id FROM delivery WHERE id = :i", i=more.deliveries[0].id)
            assert batch2 not in (batch, "crashed-batch")
            assert (await env.client.get_workflow_handle(delivery_workflow_id(batch2)).result())["ids"] == [
                more.deliveries[0].id]

            # the periodic round finds rows nobody woke it for (e.g. written before a restart)
            server.dispatcher.poll_seconds = 0.2  # type: ignore[attr-defined]
            server.dispatcher.wake()  # type: ignore[attr-defined]
            rows(db_url, "UPDATE delivery SET status = 'pending', batch_id = NULL WHERE id = :i", i=d.id)
            await until(lambda: rows(db_url, "SELECT status FROM delivery WHERE id = :i", i=d.id) == [
                ("dispatched",)])
    finally:
        ch.close()
        server.stop(None).wait()
