"""Rule-fire webhooks, handed to notify: the rule's target and signing secret (read from the rule in
the tasks service at fire time, so the secret never travels through workflow histories) go to
``notify.SendWebhook``, which keeps them as an owned subscription and queues one delivery of the
``rule.fired`` event. Notify's one webhook sender then signs (Standard Webhooks), applies the SSRF
guard, retries with backoff, dead-letters past the budget and redrives on request — the same path
as every other webhook. The activity keeps its name (``webhook.Deliver``) so histories replay; it
answers once the delivery is queued (``status`` 202)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2
from temporalio import activity
from temporalio.exceptions import ApplicationError

from baobei.notify.v1 import notify_service_pb2 as notify_pb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1.tasks_service_pb2_grpc import TasksServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.errors import WEBHOOK_REFUSED
from workflows.contracts.webhooks import WEBHOOK_DELIVER, WebhookDeliveryInput, WebhookDeliveryResult

EVENT_TYPE = "rule.fired"
QUEUED = 202


def secret_of(rules: Iterable[pb.RuleDoc], rule_key: str, url: str) -> str:
    """The signing secret of ``rule_key``'s webhook action to ``url`` ("" when it has none now)."""
    for r in rules:
        if r.key != rule_key:
            continue
        for action in r.body.fields["actions"].list_value.values if "actions" in r.body.fields else []:
            fields = action.struct_value.fields
            if fields["type"].string_value == "webhook" and fields["url"].string_value == url:
                secret = fields["secret"].string_value if "secret" in fields else ""
                if secret:
                    return secret
    return ""


def event_data(inp: WebhookDeliveryInput) -> dict[str, Any]:
    """The event's ``data``: the fire key and rule beside what the workflow reported."""
    return {"key": inp.fire_key, "rule": inp.rule_key, **inp.data}


class WebhookActivities:
    def __init__(self, tasks: TasksServiceStub, notify: NotifyServiceStub, *, timeout: float = 10.0) -> None:
        self._tasks = tasks
        self._notify = notify
        self._timeout = timeout

    @activity.defn(name=WEBHOOK_DELIVER)
    async def deliver(self, inp: WebhookDeliveryInput) -> WebhookDeliveryResult:
        log = activity_logger(inp.project_id)
        rules = await call(self._tasks.ListRules, pb.ListRulesRequest(), timeout=self._timeout)
        secret = secret_of(rules.rules, inp.rule_key, inp.url)
        if not secret:
            raise ApplicationError(
                f"rule {inp.rule_key} has no signing secret for {inp.url}", type=WEBHOOK_REFUSED, non_retryable=True
            )
        data = struct_pb2.Struct()
        data.update(event_data(inp))
        at = timestamp_pb2.Timestamp()
        fired_at = inp.data.get("fired_at")
        if isinstance(fired_at, str) and fired_at:
            at.FromDatetime(datetime.fromisoformat(fired_at))
        resp = await call(
            self._notify.SendWebhook,
            notify_pb.SendWebhookRequest(
                event_id=inp.fire_key, type=EVENT_TYPE, project_id=inp.project_id, at=at, data=data, url=inp.url,
                secrets=[secret], owner=f"rule:{inp.rule_key}", description=f"规则 {inp.rule_key} 的 Webhook",
            ),
            timeout=self._timeout,
        )
        log.info("webhook.queued", url=inp.url, key=inp.fire_key, delivery_id=resp.delivery.id,
                 subscription_id=resp.subscription_id)
        return WebhookDeliveryResult(status=QUEUED, attempt=activity.info().attempt)
