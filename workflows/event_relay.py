"""The reporting-event relay: an asyncio task of the delivery worker that ships the registry's and
the approval service's outbox rows (reporting events written in the transaction of each change,
baobei/core/event_outbox.py) to ``reporting.IngestEvents`` and acknowledges them, which deletes
them.

A round claims the oldest rows of each source, ships them in one batch and acknowledges the
batch. A crash or a reporting outage between the two leaves the rows in place: the next round
(here, after a restart, or on another replica) ships them again and reporting, keyed on the event
id, applies each once. Events of one source arrive in the order they were written; registry and
approval events of a project may interleave differently than when the workflow sent them, which
reporting's projections tolerate (tests/service/test_event_outbox.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from google.protobuf.json_format import MessageToJson

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.registry.v1 import registry_service_pb2 as gpb
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1 import reporting_service_pb2 as rpb
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from workflows.outbox_loop import run_rounds

log = structlog.get_logger(__name__)

# Reporting's freshness after a change when idle: one claim per source per interval (~1 ms each).
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Source:
    """One service's outbox: its ClaimEvents / AckEvents (registry and approval have the same shape)."""

    name: str
    claim: Callable[..., Awaitable[Any]]
    ack: Callable[..., Awaitable[Any]]
    claim_request: Callable[[int], Any]
    ack_request: Callable[[list[int]], Any]


def registry_source(stub: RegistryServiceStub) -> Source:
    return Source("registry", stub.ClaimEvents, stub.AckEvents, lambda n: gpb.ClaimEventsRequest(limit=n),
                  lambda seqs: gpb.AckEventsRequest(seqs=seqs))


def approval_source(stub: ApprovalServiceStub) -> Source:
    return Source("approval", stub.ClaimEvents, stub.AckEvents, lambda n: apb.ClaimEventsRequest(limit=n),
                  lambda seqs: apb.AckEventsRequest(seqs=seqs))


class EventRelay:
    def __init__(
        self,
        sources: Sequence[Source],
        reporting: ReportingServiceStub,
        *,
        poll_seconds: float = POLL_SECONDS,
        batch_size: int = 200,
        rpc_timeout: float = 10.0,
    ) -> None:
        self.sources, self.reporting = list(sources), reporting
        self.poll_seconds, self.batch_size, self.rpc_timeout = poll_seconds, batch_size, rpc_timeout

    async def relay(self, source: Source) -> int:
        """One batch of one source: claim, ship, acknowledge; how many events were shipped."""
        resp = await source.claim(source.claim_request(self.batch_size), timeout=self.rpc_timeout)
        if not resp.events:
            return 0
        events = [rpb.Event.FromString(row.event) for row in resp.events]
        try:
            shipped = await self.reporting.IngestEvents(rpb.IngestEventsRequest(events=events),
                                                        timeout=self.rpc_timeout)
            applied = shipped.applied
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            applied = await self._one_by_one(source, events)
        seqs = [row.seq for row in resp.events]
        await source.ack(source.ack_request(seqs), timeout=self.rpc_timeout)
        log.info("reporting_events.relayed", source=source.name, events=len(seqs), applied=applied, last_seq=seqs[-1])
        return len(seqs)

    async def _one_by_one(self, source: Source, events: list[rpb.Event]) -> int:
        """A batch reporting refused (one event it cannot read, e.g. from a newer sender): the
        others one at a time; the refused one is logged with its content and dropped, so it does
        not block the outbox (a retry could never succeed)."""
        applied = 0
        for event in events:
            try:
                resp = await self.reporting.IngestEvent(rpb.IngestEventRequest(event=event), timeout=self.rpc_timeout)
                applied += int(resp.applied)
            except grpc.aio.AioRpcError as err:
                if err.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    raise
                log.error("reporting_events.refused", source=source.name, event_id=event.event_id,
                          error=err.details(), content=MessageToJson(event, indent=None))
        return applied

    async def run_once(self) -> bool:
        """One round over every source; True when a source had a full batch (go again at once)."""
        full = False
        for source in self.sources:
            full = await self.relay(source) >= self.batch_size or full
        return full

    async def run(self) -> None:
        """Rounds until cancelled; a full round goes again at once, else it sleeps ``poll_seconds``."""
        await run_rounds("reporting_events", self.run_once, lambda: asyncio.sleep(self.poll_seconds),
                         poll_seconds=self.poll_seconds)
