"""NotificationDelivery (id ``delivery-<batch>``): one batch of pending external deliveries, started by
the notify dispatcher (outbox), which retries each delivery with backoff and dead-letters it past
the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The notify service's dispatcher starts one NotificationDelivery workflow per batch of pending
# deliveries (id delivery-<batch>); it retries each delivery as an activity with backoff and
# dead-letters it past the budget.
DELIVERY_WORKFLOW_TYPE = "NotificationDelivery"


def delivery_workflow_id(batch_id: str) -> str:
    return f"delivery-{batch_id}"


@dataclass
class DeliveryRef:
    delivery_id: str
    # ISO 8601 with zone; empty = now (quiet hours push it later).
    not_before: str = ""


@dataclass
class DeliveryBatchInput:
    batch_id: str
    deliveries: list[DeliveryRef] = field(default_factory=list)
    max_attempts: int = 6
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0


@dataclass
class DeliveryBatchResult:
    # delivery id → final outcome: delivered | skipped | dead
    outcomes: dict[str, str] = field(default_factory=dict)
