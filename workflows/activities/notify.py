"""Activities calling the notify service."""

from __future__ import annotations

from temporalio import activity

from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.activity_types import NOTIFY_SEND, SendInput, SendResult


class NotifyActivities:
    def __init__(self, stub: NotifyServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=NOTIFY_SEND)
    async def send(self, inp: SendInput) -> SendResult:
        log = activity_logger(inp.project_id)
        req = pb.SendRequest(
            request_id=inp.request_id,
            recipient_ids=inp.recipient_ids,
            kind=inp.kind,
            title=inp.title,
            body=inp.body,
            project_id=inp.project_id,
            action_urls=inp.action_urls,
        )
        resp = await call(self._stub.Send, req, timeout=self._timeout)
        log.info("notify.sent", kind=inp.kind, recipients=inp.recipient_ids, request_id=inp.request_id)
        return SendResult(notification_ids=[n.id for n in resp.notifications])
