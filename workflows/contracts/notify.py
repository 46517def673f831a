"""Activities on the notify service (``NotifyActivities``): send a notification, and the steps of the
NotificationDelivery workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
NOTIFY_SEND = "notify.Send"
NOTIFY_DELIVER = "notify.Deliver"
NOTIFY_DELIVER_DIGEST = "notify.DeliverDigest"
NOTIFY_DEAD_LETTER = "notify.DeadLetter"


@dataclass
class SendInput:
    request_id: str
    recipient_ids: list[str]
    kind: str
    title: str
    body: str = ""
    project_id: str = ""
    action_urls: dict[str, str] = field(default_factory=dict)
    # recipient id → approval task id: notify mints a signed single-use action link per recipient.
    action_tasks: dict[str, str] = field(default_factory=dict)
    # Template context (code, name, customer, amount, step, comment, …), JSON values only.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class SendResult:
    notification_ids: list[str] = field(default_factory=list)


@dataclass
class DeliverInput:
    delivery_id: str
    # DeadLetter: the last error seen.
    error: str = ""


@dataclass
class DeliverResult:
    # delivered | skipped | rate_limited | dead
    outcome: str = ""
    retry_after_seconds: float = 0.0
    status: str = ""
