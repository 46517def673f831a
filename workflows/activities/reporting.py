"""Activities calling the reporting service."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import struct_pb2, timestamp_pb2
from temporalio import activity

from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.reporting import REPORTING_INGEST_EVENT, ReportEventInput, ReportEventResult


class ReportingActivities:
    def __init__(self, stub: ReportingServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=REPORTING_INGEST_EVENT)
    async def ingest_event(self, inp: ReportEventInput) -> ReportEventResult:
        log = activity_logger(inp.project_id)
        at = timestamp_pb2.Timestamp()
        at.FromDatetime(datetime.fromisoformat(inp.at))
        payload = struct_pb2.Struct()
        payload.update(inp.payload)
        event = pb.Event(
            event_id=inp.event_id,
            type=inp.type,
            project_id=inp.project_id,
            at=at,
            actor_id=inp.actor_id,
            payload=payload,
        )
        resp = await call(self._stub.IngestEvent, pb.IngestEventRequest(event=event), timeout=self._timeout)
        log.info("reporting.event", event_id=inp.event_id, type=inp.type, applied=resp.applied)
        return ReportEventResult(applied=resp.applied)
