"""The delivery outbox dispatcher: an asyncio task of the delivery worker that hands the notify
service's pending deliveries to NotificationDelivery workflows.

Send / PublishEvent / Redrive commit pending ``delivery`` rows in the same transaction as the
request itself. Each round this task:
1. ``notify.ClaimDeliveryBatches``: the service puts unclaimed pending rows into batches and
   answers every batch that still has pending rows (new ones, and any a crashed round left);
2. per batch, starts the workflow with id ``delivery_workflow_id(batch_id)`` on the delivery task
   queue — WorkflowAlreadyStarted means an earlier round (or another replica) did it; the id is
   never reused for a new run, so a finished batch is not delivered again;
3. ``notify.MarkBatchDispatched``: the batch's pending rows become dispatched.
A crash between any two steps leaves rows pending with their batch id, so the next round (here,
after a restart, or on another replica) starts the same workflow id again: nothing is lost,
nothing runs twice (Deliver is exactly-once by itself anyway).

Between rounds it parks in ``notify.WaitForDeliveries``, a long poll the service answers as soon
as a commit leaves unclaimed pending rows (near-immediate delivery without busy polling) or after
``poll_seconds`` (then a round runs anyway: it picks up rows committed on another notify replica
and batches a crashed round left). RPC failures back off up to ``MAX_BACKOFF_SECONDS``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import structlog
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from workflows.contracts.delivery import DELIVERY_WORKFLOW_TYPE, DeliveryBatchInput, DeliveryRef, delivery_workflow_id
from workflows.outbox_loop import run_rounds

log = structlog.get_logger(__name__)

@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 6
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0


class Dispatcher:
    def __init__(
        self,
        client: Client,
        notify: NotifyServiceStub,
        *,
        task_queue: str,
        retry: RetrySettings | None = None,
        poll_seconds: float = 3.0,
        batch_size: int = 100,
        max_batches: int = 20,
        rpc_timeout: float = 10.0,
    ) -> None:
        self.client = client
        self.notify = notify
        self.task_queue = task_queue
        self.retry = retry or RetrySettings()
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.rpc_timeout = rpc_timeout
        self.rounds = 0

    def _input(self, batch: pb.DeliveryBatch) -> DeliveryBatchInput:
        return DeliveryBatchInput(
            batch_id=batch.batch_id,
            deliveries=[
                DeliveryRef(
                    delivery_id=d.delivery_id,
                    not_before=d.not_before.ToDatetime(tzinfo=UTC).isoformat() if d.HasField("not_before") else "",
                )
                for d in batch.deliveries
            ],
            max_attempts=self.retry.max_attempts,
            initial_backoff_seconds=self.retry.initial_backoff_seconds,
            max_backoff_seconds=self.retry.max_backoff_seconds,
        )

    async def run_once(self) -> int:
        """One round; returns how many batches were handed to workflows."""
        self.rounds += 1
        resp = await self.notify.ClaimDeliveryBatches(
            pb.ClaimDeliveryBatchesRequest(batch_size=self.batch_size, max_batches=self.max_batches),
            timeout=self.rpc_timeout,
        )
        for batch in resp.batches:
            wid = delivery_workflow_id(batch.batch_id)
            try:
                await self.client.start_workflow(
                    DELIVERY_WORKFLOW_TYPE, self._input(batch), id=wid, task_queue=self.task_queue,
                    # A batch id names one delivery run: never start a finished batch again.
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                log.info("dispatcher.already_started", workflow_id=wid)
            marked = await self.notify.MarkBatchDispatched(
                pb.MarkBatchDispatchedRequest(batch_id=batch.batch_id), timeout=self.rpc_timeout
            )
            log.info("dispatcher.dispatched", workflow_id=wid, deliveries=len(batch.deliveries), marked=marked.marked)
        return len(resp.batches)

    async def wait(self) -> bool:
        """Park until the service reports unclaimed pending deliveries, or ``poll_seconds``."""
        resp = await self.notify.WaitForDeliveries(
            pb.WaitForDeliveriesRequest(wait_seconds=self.poll_seconds),
            timeout=self.poll_seconds + self.rpc_timeout,
        )
        return bool(resp.pending)

    async def run(self) -> None:
        """Rounds until cancelled (more batches than one round takes: no wait before the next)."""

        async def busy() -> bool:
            return await self.run_once() >= self.max_batches

        await run_rounds("dispatcher", busy, self.wait, poll_seconds=self.poll_seconds)
