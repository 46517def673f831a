"""NotificationDelivery (id ``delivery-<batch>``): delivers one batch of pending external
deliveries (e-mail, DingTalk / WeCom robots, outgoing webhooks), started on the delivery task
queue by the delivery worker's outbox dispatcher (workflows/dispatcher.py) with the retry settings
in ``DeliveryBatchInput``.

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

Bounded (patch ``delivery-bounded``; histories recorded before it replay the old way): at most
``MAX_IN_FLIGHT`` delivery steps run at once, and past ``HISTORY_LIMIT`` events (or when the server
suggests it) the workflow stops starting steps, lets running ones finish and continues as new with
the unfinished deliveries (their next step, digest rounds and wake-up time) and the outcomes so
far — so a dead or rate-limited robot never grows a history that is slow to replay.

Exactly-once is the service's job (the delivery row and a Redis key per delivery id); the workflow
only keeps time and the retry budget, so a replayed or retried step changes nothing twice.
Determinism: no I/O or clocks here (``workflow.now()`` / ``workflow.sleep`` only).
"""

from __future__ import annotations

import asyncio
import dataclasses
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
BOUNDED_PATCH = "delivery-bounded"
# Delivery steps (activities) in flight per workflow: bounds one workflow task's work.
MAX_IN_FLIGHT = 20
# Continue as new past this many history events (replaying 4k events takes well under a second).
HISTORY_LIMIT = 4000
DIGEST = "digest"
FINAL = ("delivered", "skipped", "dead")
# A delivery step: NotifyActivities.deliver or .deliver_digest.
Step = Callable[[Any, DeliverInput], Awaitable[DeliverResult]]


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
        self._bounded = False
        self._draining = False
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._carry: list[DeliveryRef] = []
        # Bounded runs: deliveries asleep (quiet hours, robot slot) as they would be carried, and
        # activities in flight. A draining run continues as new once no activity is in flight;
        # sleepers are carried with their wake-up time (their timers are simply left behind).
        self._asleep: dict[str, DeliveryRef] = {}
        self._active = 0
        self._queued = 0

    @workflow.query(name="outcomes")
    def outcomes(self) -> dict[str, str]:
        return dict(self._outcomes)

    @workflow.run
    async def run(self, inp: DeliveryBatchInput) -> DeliveryBatchResult:
        self._bounded = workflow.patched(BOUNDED_PATCH)
        self._outcomes = dict(inp.outcomes)
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
        if not self._bounded:
            await asyncio.gather(*(self._one(ref, retry) for ref in refs))
        else:
            everything = asyncio.gather(*(self._one(ref, retry) for ref in refs))
            await workflow.wait_condition(
                lambda: everything.done() or (self._draining and self._active == 0 and self._queued == 0))
            if everything.done():
                await everything  # a failure of a delivery coroutine surfaces here
            carry = [*self._carry, *self._asleep.values()]
            if carry:
                workflow.logger.info("batch %s: continues as new with %d deliveries", inp.batch_id, len(carry))
                workflow.continue_as_new(dataclasses.replace(inp, deliveries=carry, outcomes=self._outcomes))
        workflow.logger.info("batch %s: %s", inp.batch_id, self._outcomes)
        return DeliveryBatchResult(outcomes=dict(self._outcomes))

    def _carrying(self) -> bool:
        """Bounded runs: True once this run should hand its unfinished deliveries to the next."""
        if not self._bounded:
            return False
        if not self._draining:
            info = workflow.info()
            self._draining = info.is_continue_as_new_suggested() or info.get_current_history_length() >= HISTORY_LIMIT
        return self._draining

    @staticmethod
    def _ref(did: str, when: datetime | None, step: str, rounds: int) -> DeliveryRef:
        return DeliveryRef(delivery_id=did, not_before=when.isoformat() if when else "", step=step,
                               digest_rounds=rounds)

    def _carry_over(self, did: str, when: datetime | None, step: str, rounds: int) -> None:
        self._carry.append(self._ref(did, when, step, rounds))

    async def _sleep_until(self, when: datetime, ref: DeliveryRef) -> None:
        """Sleep until ``when``; meanwhile a draining run may carry ``ref`` to the next run."""
        delay = when - workflow.now()
        if delay <= timedelta(0):
            return
        self._asleep[ref.delivery_id] = ref
        try:
            await workflow.sleep(delay)
        finally:
            del self._asleep[ref.delivery_id]

    async def _one(self, ref: DeliveryRef, retry: RetryPolicy) -> None:
        did = ref.delivery_id
        step = ref.step
        if ref.not_before:
            when = datetime.fromisoformat(ref.not_before)
            if when > workflow.now():
                if step != DIGEST:
                    workflow.logger.info("delivery %s waits %s (quiet hours)", did, when - workflow.now())
                if self._carrying():
                    self._carry_over(did, when, step, ref.digest_rounds)
                    return
                await self._sleep_until(when, self._ref(did, when, step, ref.digest_rounds))
        rounds = ref.digest_rounds
        try:
            first: Step = NotifyActivities.deliver_digest if step == DIGEST else NotifyActivities.deliver
            result = await self._attempt(first, did, retry)
            if result is None:
                self._carry_over(did, None, step, rounds)
                return
            while result.outcome == "rate_limited" and rounds < MAX_DIGEST_ROUNDS:
                rounds += 1
                when = workflow.now() + max(timedelta(seconds=result.retry_after_seconds), MIN_RATE_WAIT)
                if self._carrying():
                    self._carry_over(did, when, DIGEST, rounds)
                    return
                await self._sleep_until(when, self._ref(did, when, DIGEST, rounds))
                result = await self._attempt(NotifyActivities.deliver_digest, did, retry)
                if result is None:
                    self._carry_over(did, None, DIGEST, rounds)
                    return
            if result.outcome in FINAL:
                self._outcomes[did] = result.outcome
                return
            error = f"no final outcome after {rounds} digest round(s): {result.outcome}"
        except ActivityError as err:
            error = _error_text(err)
        workflow.logger.warning("delivery %s failed past its budget: %s", did, error)
        self._active += 1
        try:
            self._outcomes[did] = await self._dead_letter(did, error)
        finally:
            self._active -= 1

    async def _attempt(self, fn: Step, delivery_id: str, retry: RetryPolicy) -> DeliverResult | None:
        """One step; None when a bounded run is draining (the step is left to the next run)."""
        if not self._bounded:
            return await self._execute(fn, delivery_id, retry)
        self._queued += 1
        async with self._slots:
            self._queued -= 1
            if self._carrying():
                return None
            self._active += 1
            try:
                return await self._execute(fn, delivery_id, retry)
            finally:
                self._active -= 1

    async def _execute(self, fn: Step, delivery_id: str, retry: RetryPolicy) -> DeliverResult:
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
