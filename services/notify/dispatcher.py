"""The delivery outbox: hands pending deliveries to the NotificationDelivery workflow.

Send / PublishEvent / Redrive commit pending ``delivery`` rows in the same transaction as the
request itself. This thread (its own asyncio loop and Temporal client) then, each round:
1. claims unclaimed pending rows into batches (``batch_id``, at most ``batch_size`` each);
2. for every batch that still has pending rows, starts the workflow with id
   ``delivery_workflow_id(batch_id)`` — WorkflowAlreadyStarted means an earlier round (or process)
   did it — and marks the batch's pending rows dispatched.
A crash between any two steps leaves rows pending with their batch id, so the next round (here or
after a restart) starts the same workflow id again: nothing is lost, nothing runs twice (Deliver is
exactly-once by itself anyway). Rounds run when woken after a commit and every ``poll_seconds``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.notify import store
from workflows.contracts.delivery import DELIVERY_WORKFLOW_TYPE, DeliveryBatchInput, DeliveryRef, delivery_workflow_id

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 6
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        *,
        connect: Callable[[], Awaitable[Client]],
        task_queue: str,
        retry: RetrySettings | None = None,
        poll_seconds: float = 3.0,
        batch_size: int = 100,
    ) -> None:
        self.engine = engine
        self._connect = connect
        self.task_queue = task_queue
        self.retry = retry or RetrySettings()
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self.rounds = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._run, name="notify-dispatcher", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while not self._stop.is_set():
                try:
                    loop.run_until_complete(self.run_once())
                except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
                    log.exception("dispatcher.round_failed")
                    self._client = None
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            loop.close()

    async def _temporal(self) -> Client:
        if self._client is None:
            self._client = await self._connect()
        return self._client

    async def run_once(self) -> int:
        """One round; returns how many batches were handed to workflows."""
        self.rounds += 1
        now = datetime.now(UTC)
        for _ in range(50):
            if store.claim_batch(self.engine, limit=self.batch_size, now=now) is None:
                break
        started = 0
        batches = store.unstarted_batches(self.engine)
        if not batches:
            return 0
        client = await self._temporal()
        for batch_id, refs in batches:
            arg = DeliveryBatchInput(
                batch_id=batch_id,
                deliveries=[
                    DeliveryRef(delivery_id=i, not_before=nb.isoformat() if nb is not None else "") for i, nb in refs
                ],
                max_attempts=self.retry.max_attempts,
                initial_backoff_seconds=self.retry.initial_backoff_seconds,
                max_backoff_seconds=self.retry.max_backoff_seconds,
            )
            wid = delivery_workflow_id(batch_id)
            try:
                await client.start_workflow(DELIVERY_WORKFLOW_TYPE, arg, id=wid, task_queue=self.task_queue)
            except WorkflowAlreadyStartedError:
                log.info("dispatcher.already_started", workflow_id=wid)
            marked = store.mark_dispatched(self.engine, batch_id=batch_id, now=datetime.now(UTC))
            log.info("dispatcher.dispatched", workflow_id=wid, deliveries=len(refs), marked=marked)
            started += 1
        return started
