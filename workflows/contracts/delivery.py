"""NotificationDelivery (id ``delivery-<batch>``): one batch of pending external deliveries, started by
the delivery worker's outbox dispatcher (workflows/dispatcher.py) on the delivery task queue; it
retries each delivery with backoff and dead-letters it past the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DELIVERY_WORKFLOW_TYPE = "NotificationDelivery"


def delivery_workflow_id(batch_id: str) -> str:
    return f"delivery-{batch_id}"


@dataclass
class DeliveryRef:
    delivery_id: str
    # ISO 8601 with zone; empty = now (quiet hours push it later).
    not_before: str = ""
    # Carried over by continue-as-new: "digest" = the next step is DeliverDigest (the robot was
    # rate limited), after ``digest_rounds`` rounds so far; "" = Deliver.
    step: str = ""
    digest_rounds: int = 0


@dataclass
class DeliveryBatchInput:
    batch_id: str
    deliveries: list[DeliveryRef] = field(default_factory=list)
    max_attempts: int = 6
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    # Continue-as-new: the outcomes of earlier runs of this batch.
    outcomes: dict[str, str] = field(default_factory=dict)


@dataclass
class DeliveryBatchResult:
    # delivery id → final outcome: delivered | skipped | dead
    outcomes: dict[str, str] = field(default_factory=dict)
