"""The task-closing relay: an asyncio task of the delivery worker that hands the approval
service's closed to-dos (its ``approval_task_closing`` outbox, written in the transaction that
closed them) to notify, which updates the person's IM card in place and completes or removes
their 待办.

Each round claims the oldest unacknowledged rows, hands them all to ``notify.CloseTasks`` in one
call (each item is a ``CloseTask`` with the request id ``approval-task-closing:<seq>``) and
acknowledges those notify applied, and those it refused for good (logged: no retry could help,
and they must not block the rows behind them). A crash or a notify outage between the two leaves
rows unacknowledged, as does an item notify could not apply this time: the next round (here, after
a restart, or on another replica) sends them again and notify, keyed on the request id, applies
each once. So every path that closes a task — a decision, a colleague's 或签 decision, a
transfer, a timer, a withdrawal, a departed approver's handover — reaches the IM platforms exactly
once, and no workflow has to know about it."""

from __future__ import annotations

import asyncio

import structlog

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.core.grpc_client import REFUSED_CODES
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from workflows.outbox_loop import RoundIncomplete, run_rounds

log = structlog.get_logger(__name__)


def request_id(seq: int) -> str:
    return f"approval-task-closing:{seq}"


class TaskClosingRelay:
    def __init__(
        self,
        approval: ApprovalServiceStub,
        notify: NotifyServiceStub,
        *,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
        rpc_timeout: float = 10.0,
    ) -> None:
        self.approval, self.notify = approval, notify
        self.poll_seconds, self.batch_size, self.rpc_timeout = poll_seconds, batch_size, rpc_timeout

    async def run_once(self) -> int:
        """One round; returns how many closings it acknowledged (applied, or refused for good).
        Items notify could not apply this time stay for the next round, which backs off."""
        resp = await self.approval.ClaimTaskClosings(apb.ClaimTaskClosingsRequest(limit=self.batch_size),
                                                     timeout=self.rpc_timeout)
        if not resp.closings:
            return 0
        closed = await self.notify.CloseTasks(npb.CloseTasksRequest(items=[
            npb.CloseTaskRequest(request_id=request_id(c.seq), task_id=c.task_id, project_id=c.project_id,
                                 outcome=c.outcome, actor_id=c.actor_id) for c in resp.closings]),
            timeout=self.rpc_timeout)
        done: list[int] = []
        again: list[int] = []
        for c, result in zip(resp.closings, closed.results, strict=True):
            if not result.HasField("error"):
                done.append(c.seq)
            elif result.error.code in REFUSED_CODES:
                log.error("task_closings.refused", seq=c.seq, task_id=c.task_id, project_id=c.project_id,
                          outcome=c.outcome, reason=result.error.reason, error=result.error.message,
                          fields=[v.field for v in result.error.violations])
                done.append(c.seq)
            else:
                again.append(c.seq)
        if done:
            await self.approval.AckTaskClosings(apb.AckTaskClosingsRequest(seqs=done), timeout=self.rpc_timeout)
            log.info("task_closings.relayed", closings=len(done), last_seq=done[-1])
        if again:
            raise RoundIncomplete(f"notify could not apply {len(again)} task closings (seq {again[0]} first)")
        return len(done)

    async def run(self) -> None:
        """Rounds until cancelled; a full round goes again at once, else it sleeps ``poll_seconds``."""

        async def busy() -> bool:
            return await self.run_once() >= self.batch_size

        await run_rounds("task_closings", busy, lambda: asyncio.sleep(self.poll_seconds),
                         poll_seconds=self.poll_seconds)
