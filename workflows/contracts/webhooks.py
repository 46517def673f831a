"""Activity handing a rule fire's webhook to notify (``WebhookActivities``: notify's one webhook
sender signs it per Standard Webhooks, retries it, dead-letters and redrives it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
WEBHOOK_DELIVER = "webhook.Deliver"


@dataclass
class WebhookDeliveryInput:
    # The fire key: the event id of the webhook (its webhook-id derives from it and the URL).
    fire_key: str
    rule_key: str
    url: str
    project_id: str
    # The JSON body's ``data`` (built by the workflow, identical on every attempt).
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class WebhookDeliveryResult:
    status: int = 0
    attempt: int = 0
