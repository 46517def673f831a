"""NotificationDelivery on the time-skipping server against the real notify service (SQLite, real
Redis, the registry for contacts) and local stand-ins for a Standard Webhooks subscriber and a
DingTalk robot: retried with backoff and delivered exactly once after two 500s; dead-lettered
(visible as status dead) after the retry budget, at once on a permanent 4xx; a burst beyond the
robot's rate goes out as one digest after the workflow waited for a slot; quiet hours delay a
delivery to its not_before on a durable timer."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf import struct_pb2
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from baobei.core.grpc_client import aio_channel, channel
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from services.notify.server import build as build_notify
from services.registry.server import build as build_registry
from tests.standins import DingTalkStandIn, WebhookSubscriber
from tests.workflows.test_crm_saga import ORG
from workflows.activities.notify import NotifyActivities
from workflows.contracts.delivery import (
    DELIVERY_WORKFLOW_TYPE,
    DeliveryBatchInput,
    DeliveryBatchResult,
    DeliveryRef,
    delivery_workflow_id,
)
from workflows.delivery import NotificationDelivery
from workflows.delivery_worker import build_delivery_worker, build_dispatcher

pytestmark = pytest.mark.asyncio(loop_scope="module")
USERS = ["sales1", "sales2", "lead", "mgr_sh", "ceo"]


@dataclass
class Notify:
    client: Client
    task_queue: str
    stub: NotifyServiceStub

    async def run(self, ids: list[str], *, max_attempts: int = 4, not_before: str = "") -> DeliveryBatchResult:
        batch = uuid.uuid4().hex[:10]
        result: DeliveryBatchResult = await self.client.execute_workflow(
            DELIVERY_WORKFLOW_TYPE,
            DeliveryBatchInput(
                batch_id=batch, deliveries=[DeliveryRef(delivery_id=i, not_before=not_before) for i in ids],
                max_attempts=max_attempts, initial_backoff_seconds=1.0, max_backoff_seconds=30.0,
            ),
            id=delivery_workflow_id(batch), task_queue=self.task_queue, result_type=DeliveryBatchResult,
            execution_timeout=timedelta(days=2),
        )
        return result

    def delivery(self, delivery_id: str, status: str = "") -> npb.Delivery:
        items = self.stub.ListDeliveries(npb.ListDeliveriesRequest(status=status, limit=500), timeout=10).deliveries
        return next(d for d in items if d.id == delivery_id)

    def publish(self, sub: WebhookSubscriber, event: str = "project.approved") -> str:
        sub_id = f"fin-{uuid.uuid4().hex[:6]}"
        self.stub.PutSubscription(npb.PutSubscriptionRequest(request_id=f"put-{sub_id}", subscription=npb.Subscription(
            id=sub_id, url=sub.url, events=[event], secrets=sub.secrets, enabled=True)), timeout=10)
        data = struct_pb2.Struct()
        data.update({"code": "BB-2026-0001", "amount": "880000.00"})
        resp = self.stub.PublishEvent(npb.PublishEventRequest(
            event_id=f"evt-{uuid.uuid4().hex[:8]}", type=event, project_id="p-fin", data=data), timeout=10)
        [d] = [d for d in resp.deliveries if d.target == sub_id]
        return d.id


@pytest.fixture()
def servers(make_db_url: Callable[[str], str], redis_url: str, tmp_path: Any) -> Iterator[str]:
    """Registry (contacts) and notify (Deliver; no dispatcher runs: the tests start the workflow);
    a robot rate of 2 per 3-second window so a burst of 5 needs a digest (3 s, not 1 s: on a loaded
    machine the five first attempts may take more than a second)."""
    registry, rport = build_registry(db_url=make_db_url("registry"), port=0, attachments_dir=tmp_path)
    registry.start()
    RegistryServiceStub(channel(f"127.0.0.1:{rport}")).UpsertOrg(ORG, timeout=10)
    settings = Settings(webhook_allow_internal=True, robot_rate_per_minute=2, delivery_http_timeout=3.0)
    notify, nport = build_notify(db_url=make_db_url("notify"), port=0, settings=settings,
                                 registry_addr=f"127.0.0.1:{rport}", redis_url=redis_url, rate_window_seconds=3.0)
    notify.start()
    try:
        yield f"127.0.0.1:{nport}"
    finally:
        notify.stop(None)
        registry.stop(None)


@asynccontextmanager
async def delivery_worker(env: WorkflowEnvironment, addr: str) -> AsyncIterator[Notify]:
    ch = aio_channel(addr)
    acts = NotifyActivities(NotifyServiceStub(ch), timeout=10.0, deliver_timeout=15.0)
    tq = f"dlv-{uuid.uuid4().hex[:6]}"
    try:
        async with Worker(env.client, task_queue=tq, workflows=[NotificationDelivery],
                          activities=[acts.deliver, acts.deliver_digest, acts.dead_letter]):
            yield Notify(client=env.client, task_queue=tq, stub=NotifyServiceStub(channel(addr)))
    finally:
        await ch.close()


@pytest.mark.timeout(60)
async def test_retried_after_500s_and_delivered_once(env: WorkflowEnvironment, servers: str) -> None:
    with WebhookSubscriber() as sub:
        async with delivery_worker(env, servers) as notify:
            did = notify.publish(sub)
            sub.fail_next(2, "500")
            result = await notify.run([did], max_attempts=4)
            assert result.outcomes == {did: "delivered"}
            assert sub.requests == 3
            assert sub.ids() == [did]  # webhook-id = delivery id, accepted once
            assert sub.duplicates == 0
            got = notify.delivery(did)
            assert (got.status, got.attempts) == ("delivered", 3)
            # A redelivery of the same id (a replayed batch) sends nothing.
            assert (await notify.run([did])).outcomes == {did: "delivered"}
            assert sub.requests == 3


@pytest.mark.timeout(60)
async def test_dead_lettered_past_the_budget_and_on_permanent_failure(
    env: WorkflowEnvironment, servers: str
) -> None:
    with WebhookSubscriber() as sub:
        async with delivery_worker(env, servers) as notify:
            failing = notify.publish(sub)
            sub.fail_next(3, "500")  # every attempt of the budget fails
            result = await notify.run([failing], max_attempts=3)
            assert result.outcomes == {failing: "dead"}
            dead = notify.delivery(failing, status="dead")
            assert dead.attempts == 3
            assert dead.error  # the last failure, visible
            assert sub.ids() == []

            refused = notify.publish(sub)
            sub.fail_next(1, "400")
            result = await notify.run([refused], max_attempts=5)
            assert result.outcomes == {refused: "dead"}
            assert notify.delivery(refused, status="dead").attempts == 1


@pytest.mark.timeout(60)
async def test_burst_beyond_robot_rate_goes_out_as_a_digest(env: WorkflowEnvironment, servers: str) -> None:
    with DingTalkStandIn(secret="SECtest0123456789") as ding:
        async with delivery_worker(env, servers) as notify:
            notify.stub.PutChannel(npb.PutChannelRequest(request_id="ch-ding", channel=npb.Channel(
                key=f"ding-{uuid.uuid4().hex[:6]}", type="dingtalk", url=ding.url, secret="SECtest0123456789",
                enabled=True)), timeout=10)
            for user in USERS:
                notify.stub.SetPreferences(npb.SetPreferencesRequest(
                    request_id=f"pref-{user}", preferences=npb.Preferences(user_id=user, channels=["dingtalk"])),
                    timeout=10)
            sent = notify.stub.Send(npb.SendRequest(
                request_id=f"burst-{uuid.uuid4().hex[:6]}", recipient_ids=USERS, kind="approval_request",
                title="待审批：临港一期", body="编号：BB-1", project_id="p-burst"), timeout=10)
            ids = [d.id for d in sent.deliveries if d.channel == "dingtalk"]
            assert len(ids) == len(USERS)
            result = await notify.run(ids)
            assert result.outcomes == {i: "delivered" for i in ids}
            statuses = sorted(notify.delivery(i).status for i in ids)
            # Two went out on their own (the robot's rate), the other three in one digest.
            assert statuses == ["delivered", "delivered", "digested", "digested", "digested"]
            assert len(ding.received) == 3
            assert ding.rate_limited == 0 and ding.duplicates == 0


@pytest.mark.timeout(60)
async def test_quiet_hours_wait_for_not_before(env: WorkflowEnvironment, servers: str) -> None:
    with WebhookSubscriber() as sub:
        async with delivery_worker(env, servers) as notify:
            did = notify.publish(sub)
            start = await env.get_current_time()
            later = (start + timedelta(hours=9)).isoformat()
            result = await notify.run([did], not_before=later)
            assert result.outcomes == {did: "delivered"}
            assert await env.get_current_time() >= start + timedelta(hours=9)
            assert sub.ids() == [did]


@pytest.mark.timeout(60)
async def test_dispatcher_hands_pending_deliveries_to_the_workflow(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], redis_url: str
) -> None:
    """End to end: Send records a pending webhook delivery, the delivery worker (its outbox
    dispatcher, NotificationDelivery and the notify activities on the delivery queue) delivers it."""
    tq = f"dsp-{uuid.uuid4().hex[:6]}"
    settings = Settings(webhook_allow_internal=True, temporal_address=env.client.service_client.config.target_host,
                        temporal_namespace=env.client.namespace, delivery_task_queue=tq, delivery_max_attempts=3)
    server, port = build_notify(db_url=make_db_url("notify"), port=0, settings=settings, registry_addr="",
                                redis_url=redis_url)
    server.start()
    addr = f"127.0.0.1:{port}"
    try:
        with WebhookSubscriber() as sub:
            ch = aio_channel(addr)
            stub = NotifyServiceStub(ch)
            dispatcher = asyncio.create_task(build_dispatcher(env.client, settings, notify=stub).run())
            async with build_delivery_worker(env.client, settings, notify=stub):
                notify = Notify(client=env.client, task_queue=tq, stub=NotifyServiceStub(channel(addr)))
                did = notify.publish(sub)
                for _ in range(200):
                    if notify.delivery(did).status == "delivered":
                        break
                    await asyncio.sleep(0.05)
                assert notify.delivery(did).status == "delivered"
                assert sub.ids() == [did]
            dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher
            await ch.close()
    finally:
        server.stop(None)
