"""The outbox's side in the notify service: batches for the delivery worker's dispatcher
(``ClaimDeliveryBatches`` / ``MarkBatchDispatched``) and the long poll it waits on
(``WaitForDeliveries``).

The service starts no workflow and holds no Temporal client: the dispatcher in the delivery worker
claims batches here and starts one NotificationDelivery per batch. Latency stays near-immediate
without busy polling: the dispatcher parks in ``WaitForDeliveries``; a commit of pending rows
(Send, PublishEvent, Redrive) bumps a generation counter and wakes the waiters of this replica
at once. With several notify replicas a commit on another replica is seen when the waiter's
timeout (a few seconds) ends: the same bound as the old in-service poll."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from services.notify import store

MAX_WAIT_SECONDS = 30.0
DEFAULT_BATCH_SIZE = 100
DEFAULT_MAX_BATCHES = 20
# Claim rounds per call: at most this many new batches are formed at once (the rest next call).
MAX_CLAIMS = 50


@dataclass(frozen=True)
class Batch:
    batch_id: str
    # (delivery id, not before) in creation order
    deliveries: list[tuple[str, datetime | None]]


class Wakeup:
    """Commits of pending deliveries → waiters of ``WaitForDeliveries`` (threads of this server)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def generation(self) -> int:
        with self._cond:
            return self._generation

    def wait_past(self, generation: int, timeout: float) -> bool:
        """Block until a commit after ``generation`` or ``timeout``; True when woken."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._generation == generation:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


def claim(engine: Engine, *, batch_size: int, max_batches: int) -> list[Batch]:
    """New batches of the unclaimed pending deliveries (up to ``MAX_CLAIMS`` of ``batch_size``),
    then every batch still holding pending rows (up to ``max_batches``), in one transaction. An idle
    outbox (no pending row) costs one indexed query; a claim that found fewer rows than it asked
    for is the last of the call (rows committed meanwhile wake the next round)."""
    now = datetime.now(UTC)
    size = batch_size if batch_size > 0 else DEFAULT_BATCH_SIZE
    limit = max_batches if max_batches > 0 else DEFAULT_MAX_BATCHES
    with engine.begin() as conn:
        if not store.any_pending(conn):
            return []
        for _ in range(MAX_CLAIMS):
            claimed = store.claim_in(conn, limit=size, now=now)
            if claimed is None or claimed[1] < size:
                break
        batches = store.unstarted_in(conn, limit=limit)
    return [Batch(b, refs) for b, refs in batches]


def wait_for_pending(engine: Engine, wakeup: Wakeup, wait_seconds: float) -> bool:
    """True as soon as unclaimed pending deliveries exist; False after ``wait_seconds`` without.
    The generation is read before the check, so a commit between check and wait is not missed."""
    timeout = min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
    generation = wakeup.generation()
    if store.has_unclaimed(engine):
        return True
    if not wakeup.wait_past(generation, timeout):
        return False
    return store.has_unclaimed(engine)
