"""NotificationDelivery (id ``delivery-<batch>``): delivers one batch of pending external
deliveries (e-mail, DingTalk / WeCom robots, outgoing webhooks), started by the notify service's
dispatcher (outbox) with the retry settings in ``DeliveryBatchInput``.

Per delivery, concurrently:

    sleep until not_before (quiet hours) ─► notify.Deliver ── delivered / skipped ─► done
                                              │  retryable failure: Temporal retries it with
                                              │  exponential backoff (initial → ×2 → max), up to
                                              │  max_attempts; delivery_permanent: no retry
                                              ├─ rate_limited (robot has no slot this minute):
                                              │     sleep retry_after ─► notify.DeliverDigest
                                              │     (one message for every waiting delivery of
                                              │     that robot), again while still rate_limited
                                              └─ budget spent / permanent ─► notify.DeadLetter
                                                    (status dead: visible, re-drivable)

Exactly-once is the service's job (the delivery row and a Redis key per delivery id); the workflow
only keeps time and the retry budget, so a replayed or retried step changes nothing twice.
Determinism: no I/O or clocks here (``workflow.now()`` / ``workflow.sleep`` only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.notify import NotifyActivities
    from workflows.contracts.delivery import (
        DELIVERY_WORKFLOW_TYPE,
        DeliveryBatchInput,
        DeliveryBatchResult,
        DeliveryRef,
    )
    from workflows.contracts.errors import DELIVERY_PERMANENT
    from workflows.contracts.notify import (
        DeliverInput,
        DeliverResult,
    )
    from workflows.contracts.policies import DEAD_LETTER_RETRY, DEAD_LETTER_TIMEOUT, DELIVER_TIMEOUT

# Never wait less than this for a robot slot (a 0 from the service would spin).
MIN_RATE_WAIT = timedelta(seconds=1)
# Safety valve: digest rounds per delivery before giving up on it (dead letter).
MAX_DIGEST_ROUNDS = 300
FINAL = ("delivered", "skipped", "dead")


def _error_text(err: BaseException) -> str:
    """The last failure's message (the innermost application error of the cause chain)."""
    text = str(err)
    cause: BaseException | None = err
    for _ in range(8):  # bounded: a cause chain is short
        if cause is None:
            break
        if isinstance(cause, ApplicationError):
            text = f"{cause.type}: {cause.message}" if cause.type else cause.message
        cause = cause.__cause__
    return text[:2000]


@workflow.defn(name=DELIVERY_WORKFLOW_TYPE)
class NotificationDelivery:
    def __init__(self) -> None:
        self._outcomes: dict[str, str] = {}

    @workflow.query(name="outcomes")
    def outcomes(self) -> dict[str, str]:
        return dict(self._outcomes)

    @workflow.run
    async def run(self, inp: DeliveryBatchInput) -> DeliveryBatchResult:
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=max(inp.initial_backoff_seconds, 0.001)),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=max(inp.max_backoff_seconds, inp.initial_backoff_seconds, 0.001)),
            maximum_attempts=max(inp.max_attempts, 1),
            non_retryable_error_types=[DELIVERY_PERMANENT],
        )
        seen: set[str] = set()
        refs = []
        for ref in inp.deliveries:
            if ref.delivery_id and ref.delivery_id not in seen:
                seen.add(ref.delivery_id)
                refs.append(ref)
        await asyncio.gather(*(self._one(ref, retry) for ref in refs))
        workflow.logger.info("batch %s: %s", inp.batch_id, self._outcomes)
        return DeliveryBatchResult(outcomes=dict(self._outcomes))

    async def _one(self, ref: DeliveryRef, retry: RetryPolicy) -> None:
        did = ref.delivery_id
        if ref.not_before:
            delay = datetime.fromisoformat(ref.not_before) - workflow.now()
            if delay > timedelta(0):
                workflow.logger.info("delivery %s waits %s (quiet hours)", did, delay)
                await workflow.sleep(delay)
        try:
            result = await self._attempt(NotifyActivities.deliver, did, retry)
            rounds = 0
            while result.outcome == "rate_limited" and rounds < MAX_DIGEST_ROUNDS:
                rounds += 1
                wait = max(timedelta(seconds=result.retry_after_seconds), MIN_RATE_WAIT)
                await workflow.sleep(wait)
                result = await self._attempt(NotifyActivities.deliver_digest, did, retry)
            if result.outcome in FINAL:
                self._outcomes[did] = result.outcome
                return
            error = f"no final outcome after {rounds} digest round(s): {result.outcome}"
        except ActivityError as err:
            error = _error_text(err)
        workflow.logger.warning("delivery %s failed past its budget: %s", did, error)
        self._outcomes[did] = await self._dead_letter(did, error)

    async def _attempt(
        self, fn: Callable[[Any, DeliverInput], Awaitable[DeliverResult]], delivery_id: str, retry: RetryPolicy
    ) -> DeliverResult:
        return await workflow.execute_activity_method(
            fn,
            DeliverInput(delivery_id=delivery_id),
            start_to_close_timeout=DELIVER_TIMEOUT,
            retry_policy=retry,
        )

    async def _dead_letter(self, delivery_id: str, error: str) -> str:
        try:
            result = await workflow.execute_activity_method(
                NotifyActivities.dead_letter,
                DeliverInput(delivery_id=delivery_id, error=error),
                start_to_close_timeout=DEAD_LETTER_TIMEOUT,
                retry_policy=DEAD_LETTER_RETRY,
            )
        except ActivityError as err:  # refused for good (e.g. the delivery no longer exists)
            workflow.logger.warning("dead letter of %s refused: %s", delivery_id, _error_text(err))
            return "skipped"
        # Delivered meanwhile (a concurrent digest, a redrive): the service says so.
        return result.outcome if result.outcome in FINAL else "dead"
