"""NotificationDelivery stays bounded (issue 15): at most MAX_IN_FLIGHT delivery steps run at once,
and past the history limit it continues as new carrying the unfinished deliveries — their digest
rounds and the outcomes so far — so a robot that stays rate limited never grows one long history.
Scripted activities on the time-skipping server (the real ones: tests/workflows/test_delivery.py);
unsandboxed so the test can lower the history limit."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from workflows import delivery
from workflows.contracts import delivery as dc
from workflows.contracts import notify as nc

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Robot:
    """Rate limited for the first ``limited`` calls per delivery, then delivered."""

    def __init__(self, limited: int) -> None:
        self.limited = limited
        self.calls: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()
        self.in_flight = 0
        self.peak = 0

    async def _step(self, inp: nc.DeliverInput) -> nc.DeliverResult:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            self.calls[inp.delivery_id] += 1
            if self.calls[inp.delivery_id] <= self.limited:
                return nc.DeliverResult(outcome="rate_limited", retry_after_seconds=30, status="digest_waiting")
            self.delivered[inp.delivery_id] += 1
            return nc.DeliverResult(outcome="delivered", status="delivered")
        finally:
            self.in_flight -= 1

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name=nc.NOTIFY_DELIVER)
        async def deliver(inp: nc.DeliverInput) -> nc.DeliverResult:
            return await self._step(inp)

        @activity.defn(name=nc.NOTIFY_DELIVER_DIGEST)
        async def digest(inp: nc.DeliverInput) -> nc.DeliverResult:
            return await self._step(inp)

        @activity.defn(name=nc.NOTIFY_DEAD_LETTER)
        async def dead(inp: nc.DeliverInput) -> nc.DeliverResult:
            return nc.DeliverResult(outcome="dead", status="dead")

        return [deliver, digest, dead]


@pytest.mark.timeout(120)
async def test_rate_limited_batch_continues_as_new_and_delivers_each_once(
    env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "HISTORY_LIMIT", 150)
    robot = Robot(limited=3)
    ids = [f"d{i:02d}" for i in range(40)]
    tq = f"bounded-{uuid.uuid4().hex[:6]}"
    async with Worker(env.client, task_queue=tq, workflows=[delivery.NotificationDelivery],
                      activities=robot.activities(), workflow_runner=UnsandboxedWorkflowRunner()):
        handle = await env.client.start_workflow(
            dc.DELIVERY_WORKFLOW_TYPE,
            dc.DeliveryBatchInput(batch_id="b", deliveries=[dc.DeliveryRef(i) for i in ids], max_attempts=3),
            id=f"delivery-{tq}", task_queue=tq, result_type=dc.DeliveryBatchResult,
        )
        result = await handle.result()
    assert result.outcomes == dict.fromkeys(ids, "delivered")
    # each delivered exactly once, after its 3 rate-limited rounds (carried across runs)
    assert robot.delivered == Counter(dict.fromkeys(ids, 1))
    assert robot.calls == Counter(dict.fromkeys(ids, 4))
    assert robot.peak <= delivery.MAX_IN_FLIGHT
    # the first run ended in continue-as-new, under the (lowered) limit plus what was in flight
    first = env.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    history = await first.fetch_history()
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert len(history.events) < 150 + 6 * delivery.MAX_IN_FLIGHT


@pytest.mark.timeout(60)
async def test_at_most_max_in_flight_steps_at_once(env: WorkflowEnvironment) -> None:
    robot = Robot(limited=0)
    ids = [f"d{i:03d}" for i in range(100)]
    tq = f"bounded-{uuid.uuid4().hex[:6]}"
    async with Worker(env.client, task_queue=tq, workflows=[delivery.NotificationDelivery],
                      activities=robot.activities()):
        result = await env.client.execute_workflow(
            dc.DELIVERY_WORKFLOW_TYPE,
            dc.DeliveryBatchInput(batch_id="b", deliveries=[dc.DeliveryRef(i) for i in ids]),
            id=f"delivery-{tq}", task_queue=tq, result_type=dc.DeliveryBatchResult,
        )
    assert result.outcomes == dict.fromkeys(ids, "delivered")
    assert 1 < robot.peak <= delivery.MAX_IN_FLIGHT
