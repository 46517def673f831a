"""The notice relay: an asyncio task of the delivery worker that sends the approval service's
notice outbox (approval requests written in the transaction that opened their step,
services/approval/notice_outbox.py) through ``notify.Send`` and acknowledges them, which deletes
them. It sends with the code of the ``notify.Send`` activity (``send_notification``: the
registry's ``RecipientRedactions`` hides what the approver may not read, then Send).

A crash or a notify outage between a send and its acknowledgement leaves the row in place: the
next round (here, after a restart, or on another replica) sends it again and notify, keyed on the
notice's request id, applies it once. A notice notify refuses for good (an unknown recipient) is
logged without its content and acknowledged: no retry could help, and it must not block the
rows behind it."""

from __future__ import annotations

import asyncio

import structlog
from google.protobuf.json_format import MessageToDict
from temporalio.exceptions import ApplicationError

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from workflows.activities.notify import send_notification
from workflows.contracts.notify import SendInput
from workflows.outbox_loop import run_rounds

log = structlog.get_logger(__name__)

# An approval request reaches notify at most this long after its step opened (when idle); one
# ClaimNotices per interval (~1 ms of the approval service).
POLL_SECONDS = 0.5


def send_input(notice: apb.Notice) -> SendInput:
    """The Send the lifecycle workflow made of this approval request."""
    return SendInput(
        request_id=notice.request_id,
        recipient_ids=[notice.recipient_id],
        kind=notice.kind,
        title="",
        project_id=notice.project_id,
        action_tasks=dict(notice.action_tasks),
        context=MessageToDict(notice.context) if notice.context.fields else {},
    )


class NoticeRelay:
    def __init__(
        self,
        approval: ApprovalServiceStub,
        notify: NotifyServiceStub,
        registry: RegistryServiceStub | None,
        *,
        poll_seconds: float = POLL_SECONDS,
        batch_size: int = 100,
        rpc_timeout: float = 10.0,
        concurrency: int = 8,
    ) -> None:
        self.approval, self.notify, self.registry = approval, notify, registry
        self.poll_seconds, self.batch_size, self.rpc_timeout = poll_seconds, batch_size, rpc_timeout
        self.concurrency = concurrency

    async def run_once(self) -> int:
        """One round: claim, send up to ``concurrency`` at a time (a bulk import opens hundreds of
        steps at once; one by one each waits ~20 ms for the registry and notify), acknowledge
        those done — also when another failed, which the next round sends again; how many were done."""
        resp = await self.approval.ClaimNotices(apb.ClaimNoticesRequest(limit=self.batch_size),
                                                timeout=self.rpc_timeout)
        gate = asyncio.Semaphore(self.concurrency)

        async def send(row: apb.OutboxNotice) -> int:
            async with gate:
                await self._send(row.notice)
            return row.seq

        results = await asyncio.gather(*(send(row) for row in resp.notices), return_exceptions=True)
        done = sorted(r for r in results if isinstance(r, int))
        if done:
            await self.approval.AckNotices(apb.AckNoticesRequest(seqs=done), timeout=self.rpc_timeout)
            log.info("notices.relayed", notices=len(done), last_seq=done[-1])
        for failed in results:
            if isinstance(failed, BaseException):
                raise failed  # notify or the registry unavailable: the round fails and retries
        return len(done)

    async def _send(self, notice: apb.Notice) -> None:
        bound = log.bind(project_id=notice.project_id, request_id=notice.request_id)
        try:
            await send_notification(self.notify, self.registry, send_input(notice), timeout=self.rpc_timeout,
                                    log=bound)
        except ApplicationError as err:
            if not err.non_retryable:
                raise  # notify or the registry unavailable: the round fails and retries
            # Refused for good: say which notice and why, never its context (restricted values).
            bound.error("notices.refused", kind=notice.kind, recipient_id=notice.recipient_id, error_type=err.type,
                        error=err.message)

    async def run(self) -> None:
        """Rounds until cancelled; a full round goes again at once, else it sleeps ``poll_seconds``."""

        async def busy() -> bool:
            return await self.run_once() >= self.batch_size

        await run_rounds("notices", busy, lambda: asyncio.sleep(self.poll_seconds), poll_seconds=self.poll_seconds)
