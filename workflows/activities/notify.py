"""Activities calling the notify service: ``notify.Send`` (record a notification, its action links
and its pending external deliveries) and the three steps of the NotificationDelivery workflow
(``notify.Deliver``, ``notify.DeliverDigest``, ``notify.DeadLetter``).

Deliver / DeliverDigest map the service's answers through :mod:`workflows.activities.errors`:
UNAVAILABLE (timeouts, 5xx, 429, SMTP 4xx) is a retryable ``ApplicationError`` the workflow's retry
policy backs off on; FAILED_PRECONDITION with reason ``delivery_permanent`` is the non-retryable
type ``delivery_permanent``, which sends the delivery straight to the dead letters.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from temporalio import activity

from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from workflows.activities import redact
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.notify import (
    NOTIFY_DEAD_LETTER,
    NOTIFY_DELIVER,
    NOTIFY_DELIVER_DIGEST,
    NOTIFY_SEND,
    DeliverInput,
    DeliverResult,
    SendInput,
    SendResult,
)


def context_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    # Struct holds JSON values only: anything else (a Decimal, a date) goes in as text.
    out.update({str(k): v if v is None or isinstance(v, (str, bool, int, float, list, dict)) else str(v)
                for k, v in values.items()})
    return out


def _result(resp: pb.DeliverResponse) -> DeliverResult:
    return DeliverResult(outcome=resp.outcome, retry_after_seconds=resp.retry_after_seconds,
                         status=resp.delivery.status)


async def send_notification(
    stub: NotifyServiceStub, registry: RegistryServiceStub | None, inp: SendInput, *, timeout: float, log: Any,
    owner_id: str = "",
) -> list[str]:
    """``notify.Send`` of ``inp``, split by what its recipients may read of the project (with the
    registry); the notification ids. The Send activity and the worker's notice relay
    (workflows/notice_relay.py) both send through here. Refusals raise ``ApplicationError``
    (non-retryable for a caller error, such as an unknown recipient). ``owner_id``: the project's
    owner as the registry just answered it (``redact.per_recipient``)."""
    sends = [inp] if registry is None else await redact.per_recipient(registry, inp, timeout=timeout,
                                                                       owner_id=owner_id)
    ids: list[str] = []
    for one in sends:
        req = pb.SendRequest(
            request_id=one.request_id,
            recipient_ids=one.recipient_ids,
            kind=one.kind,
            title=one.title,
            body=one.body,
            project_id=one.project_id,
            action_urls=one.action_urls,
            action_tasks=one.action_tasks,
        )
        if one.context:
            req.context.CopyFrom(context_struct(one.context))
        resp = await call(stub.Send, req, timeout=timeout)
        log.info("notify.sent", kind=one.kind, recipients=one.recipient_ids, request_id=one.request_id,
                 links=len(one.action_tasks), deliveries=len(resp.deliveries))
        ids += [n.id for n in resp.notifications]
    return ids


class NotifyActivities:
    """``deliver_timeout``: deadline of Deliver / DeliverDigest, which talk to SMTP servers, robots
    and webhook receivers (longer than an ordinary RPC)."""

    def __init__(
        self, stub: NotifyServiceStub, *, timeout: float = 10.0, deliver_timeout: float = 30.0,
        registry: RegistryServiceStub | None = None,
    ) -> None:
        self._stub = stub
        # With the registry, each recipient gets only what they may read of the project.
        self._registry = registry
        self._timeout = timeout
        self._deliver_timeout = max(deliver_timeout, timeout)

    @activity.defn(name=NOTIFY_SEND)
    async def send(self, inp: SendInput) -> SendResult:
        return await self.send_knowing_owner(inp, "")

    async def send_knowing_owner(self, inp: SendInput, owner_id: str) -> SendResult:
        """``send`` by a caller that has just read the project's owner from the registry (the
        approval's end, ``lifecycle.Finish``): a notice to the owner alone is sent unredacted
        without asking the registry what they may read."""
        ids = await send_notification(self._stub, self._registry, inp, timeout=self._timeout,
                                      log=activity_logger(inp.project_id), owner_id=owner_id)
        return SendResult(notification_ids=ids)

    @activity.defn(name=NOTIFY_DELIVER)
    async def deliver(self, inp: DeliverInput) -> DeliverResult:
        return await self._deliver(self._stub.Deliver, inp, "notify.delivery_attempted")

    @activity.defn(name=NOTIFY_DELIVER_DIGEST)
    async def deliver_digest(self, inp: DeliverInput) -> DeliverResult:
        return await self._deliver(self._stub.DeliverDigest, inp, "notify.digest_attempted")

    async def _deliver(self, method: Any, inp: DeliverInput, event: str) -> DeliverResult:
        attempt = activity.info().attempt
        log = activity_logger().bind(delivery_id=inp.delivery_id)
        try:
            resp = await call(method, pb.DeliverRequest(delivery_id=inp.delivery_id, attempt=attempt),
                              timeout=self._deliver_timeout)
        except Exception as err:
            log.warning(event, outcome="failed", error=str(err))
            raise
        out = _result(resp)
        log.info(event, outcome=out.outcome, status=out.status, retry_after=out.retry_after_seconds)
        return out

    @activity.defn(name=NOTIFY_DEAD_LETTER)
    async def dead_letter(self, inp: DeliverInput) -> DeliverResult:
        resp = await call(self._stub.DeadLetter, pb.DeadLetterRequest(delivery_id=inp.delivery_id, error=inp.error),
                          timeout=self._timeout)
        out = _result(resp)
        activity_logger().bind(delivery_id=inp.delivery_id).warning(
            "notify.dead_lettered", status=out.status, error=inp.error[:500])
        return out
