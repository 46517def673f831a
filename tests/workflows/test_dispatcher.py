"""The delivery worker's outbox dispatcher (workflows/dispatcher.py) against the real notify
service (gRPC on loopback, SQLite) and a real Temporal test server: pending deliveries become
NotificationDelivery workflows with id delivery-<batch> on the delivery queue, the first hand-over
comes from the long poll a commit wakes (not from the periodic round), a crash anywhere between
claiming, starting and marking is picked up again without losing or duplicating a delivery, and
two dispatchers (two worker replicas) hand every delivery to exactly one workflow."""

from __future__ import annotations

import asyncio
import contextlib
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
from baobei.core.grpc_client import aio_channel
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from tests.conftest import StartService, time_skipping_env
from workflows.contracts.delivery import DELIVERY_WORKFLOW_TYPE, DeliveryBatchInput, delivery_workflow_id
from workflows.delivery_worker import build_dispatcher
from workflows.dispatcher import Dispatcher

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
    async with time_skipping_env(search_attributes=False) as environment:
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


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def publish(stub: pb_grpc.NotifyServiceStub, event_id: str, kind: str = "project.approved") -> list[pb.Delivery]:
    return list(stub.PublishEvent(pb.PublishEventRequest(event_id=event_id, type=kind), timeout=10).deliveries)


async def test_dispatcher_starts_delivery_workflows_and_recovers(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], start_service: StartService
) -> None:
    tq = f"delivery-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        temporal_address=env.client.service_client.config.target_host,
        temporal_namespace=env.client.namespace,
        delivery_task_queue=tq,
        webhook_allow_internal=True,
        delivery_max_attempts=4,
        delivery_initial_backoff_seconds=0.5,
        delivery_max_backoff_seconds=7,
    )
    db_url = make_db_url("notify")
    svc = start_service("notify", db_url=db_url, settings=settings, registry_addr="", redis_url="")
    port, ch = svc.port, svc.channel
    stub = pb_grpc.NotifyServiceStub(ch)
    ach = aio_channel(f"127.0.0.1:{port}")
    # a long poll of 30 s: the first hand-over must come from the wake-up after the commit
    dispatcher = build_dispatcher(env.client, settings, notify=pb_grpc.NotifyServiceStub(ach), poll_seconds=30.0)
    try:
        async with Worker(env.client, task_queue=tq, workflows=[RecordingDelivery]), running(dispatcher):
            await asyncio.to_thread(
                stub.PutSubscription,
                pb.PutSubscriptionRequest(request_id="s1", subscription=pb.Subscription(
                    id="fin", url="http://127.0.0.1:9/h", events=["*"], secrets=[SECRET], enabled=True)),
                timeout=10,
            )
            await until(lambda: dispatcher.rounds >= 1)  # parked in WaitForDeliveries now
            [d] = await asyncio.to_thread(publish, stub, "e1")
            await until(lambda: rows(db_url, "SELECT status FROM delivery") == [("dispatched",)], timeout=5)
            [(batch,)] = rows(db_url, "SELECT batch_id FROM delivery")
            result = await env.client.get_workflow_handle(delivery_workflow_id(batch)).result()
            assert result == {"ids": [d.id], "max_attempts": 4, "initial": 0.5, "max_backoff": 7.0}

            # crash after the claim, before the start: a pending row with a batch id is started later
            rows(db_url, "UPDATE delivery SET status = 'pending', batch_id = 'crashed-batch'")
            # crash before the claim: a pending row without a batch (its commit wakes the round)
            [more] = await asyncio.to_thread(publish, stub, "e2", "project.closed")
            await until(lambda: {s for (s,) in rows(db_url, "SELECT status FROM delivery")} == {"dispatched"})
            crashed = await env.client.get_workflow_handle(delivery_workflow_id("crashed-batch")).result()
            assert crashed["ids"] == [d.id]
            [(batch2,)] = rows(db_url, "SELECT batch_id FROM delivery WHERE id = :i", i=more.id)
            assert batch2 not in (batch, "crashed-batch")
            assert (await env.client.get_workflow_handle(delivery_workflow_id(batch2)).result())["ids"] == [more.id]

            # crash after the start, before the mark, and the workflow already finished: the batch
            # id is not run again (WorkflowAlreadyStarted), the rows are marked
            first_run = (await env.client.get_workflow_handle(delivery_workflow_id(batch2)).describe()).run_id
            rows(db_url, "UPDATE delivery SET status = 'pending' WHERE id = :i", i=more.id)
            await asyncio.to_thread(publish, stub, "e3", "project.closed")  # wakes a round
            await until(lambda: {s for (s,) in rows(db_url, "SELECT status FROM delivery")} == {"dispatched"})
            assert (await env.client.get_workflow_handle(delivery_workflow_id(batch2)).describe()).run_id == first_run

        # the periodic round finds rows nobody woke it for (e.g. written before a restart, or
        # committed on another notify replica)
        quick = build_dispatcher(env.client, settings, notify=pb_grpc.NotifyServiceStub(ach), poll_seconds=0.2)
        async with Worker(env.client, task_queue=tq, workflows=[RecordingDelivery]), running(quick):
            await until(lambda: quick.rounds >= 1)
            rows(db_url, "UPDATE delivery SET status = 'pending', batch_id = NULL WHERE id = :i", i=d.id)
            await until(lambda: rows(db_url, "SELECT status FROM delivery WHERE id = :i", i=d.id) == [
                ("dispatched",)])
    finally:
        await ach.close()


async def test_wait_for_deliveries_answers_on_commit_or_timeout(
    make_db_url: Callable[[str], str], start_service: StartService
) -> None:
    svc = start_service("notify", db_url=make_db_url("notify"), settings=Settings(webhook_allow_internal=True),
                        registry_addr="", redis_url="")
    stub = pb_grpc.NotifyServiceStub(svc.channel)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    idle = await asyncio.to_thread(
        stub.WaitForDeliveries, pb.WaitForDeliveriesRequest(wait_seconds=0.3), timeout=10)
    assert idle.pending is False and loop.time() - t0 >= 0.3
    stub.PutSubscription(pb.PutSubscriptionRequest(request_id="s1", subscription=pb.Subscription(
        id="fin", url="http://127.0.0.1:9/h", events=["*"], secrets=[SECRET], enabled=True)), timeout=10)
    # a waiter parked for 20 s answers as soon as a delivery is committed
    waiting = asyncio.create_task(asyncio.to_thread(
        stub.WaitForDeliveries, pb.WaitForDeliveriesRequest(wait_seconds=20), timeout=30))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    t1 = loop.time()
    [d] = await asyncio.to_thread(publish, stub, "e1")
    assert (await asyncio.wait_for(waiting, 10)).pending is True
    assert loop.time() - t1 < 10
    # pending rows answer at once; claimed ones no longer count
    assert stub.WaitForDeliveries(pb.WaitForDeliveriesRequest(wait_seconds=20), timeout=5).pending
    [batch] = stub.ClaimDeliveryBatches(pb.ClaimDeliveryBatchesRequest(), timeout=10).batches
    assert [x.delivery_id for x in batch.deliveries] == [d.id]
    assert not stub.WaitForDeliveries(pb.WaitForDeliveriesRequest(wait_seconds=0.1), timeout=5).pending
    # until marked, the batch is answered again (its workflow may not have started)
    [again] = stub.ClaimDeliveryBatches(pb.ClaimDeliveryBatchesRequest(), timeout=10).batches
    assert again.batch_id == batch.batch_id
    assert stub.MarkBatchDispatched(pb.MarkBatchDispatchedRequest(batch_id=batch.batch_id), timeout=10).marked == 1
    assert stub.MarkBatchDispatched(pb.MarkBatchDispatchedRequest(batch_id=batch.batch_id), timeout=10).marked == 0
    assert not stub.ClaimDeliveryBatches(pb.ClaimDeliveryBatchesRequest(), timeout=10).batches


async def test_two_dispatchers_hand_each_delivery_to_one_workflow(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], start_service: StartService
) -> None:
    tq = f"delivery-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_address=env.client.service_client.config.target_host,
                        temporal_namespace=env.client.namespace, delivery_task_queue=tq, webhook_allow_internal=True)
    db_url = make_db_url("notify")
    svc = start_service("notify", db_url=db_url, settings=settings, registry_addr="", redis_url="")
    port, ch = svc.port, svc.channel
    stub = pb_grpc.NotifyServiceStub(ch)
    ach = aio_channel(f"127.0.0.1:{port}")
    one, two = (build_dispatcher(env.client, settings, notify=pb_grpc.NotifyServiceStub(ach), poll_seconds=0.5)
                for _ in range(2))
    one.batch_size = two.batch_size = 7
    try:
        stub.PutSubscription(pb.PutSubscriptionRequest(request_id="s1", subscription=pb.Subscription(
            id="fin", url="http://127.0.0.1:9/h", events=["*"], secrets=[SECRET], enabled=True)), timeout=10)
        async with Worker(env.client, task_queue=tq, workflows=[RecordingDelivery]), running(one), running(two):
            ids = []
            for i in range(60):
                ids += [x.id for x in await asyncio.to_thread(publish, stub, f"e{i}")]
            await until(lambda: {s for (s,) in rows(db_url, "SELECT status FROM delivery")} == {"dispatched"}, 30)
            batches = {b for (b,) in rows(db_url, "SELECT DISTINCT batch_id FROM delivery")}
            handed: list[str] = []
            for b in batches:
                handed += (await env.client.get_workflow_handle(delivery_workflow_id(b)).result())["ids"]
            assert sorted(handed) == sorted(ids)
            assert one.rounds > 1 and two.rounds > 1
    finally:
        await ach.close()
