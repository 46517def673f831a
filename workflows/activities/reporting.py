"""Activities calling the reporting service."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import json_format
from temporalio import activity
from temporalio.exceptions import ApplicationError

from baobei import reporting_events as events
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from baobei.reporting_facts import project_facts
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.errors import ERR_VALIDATION
from workflows.contracts.reporting import (
    REPORTING_INGEST_EVENT,
    REPORTING_INGEST_EVENTS,
    ReportEventInput,
    ReportEventResult,
    ReportEventsInput,
    ReportEventsResult,
)


def typed_event(inp: ReportEventInput) -> pb.Event:
    """The typed event for an activity input. Project events carry the project (new histories) or
    its facts flat in ``payload`` (histories written before ``project`` existed): both fill the
    same ProjectFacts, the payload keys being its field names."""
    facts = None
    if inp.project is not None:
        facts = project_facts(inp.project, status=inp.project.status, conflict_count=inp.project.conflict_count)
    return events.build(
        event_id=inp.event_id,
        event_type=inp.type,
        project_id=inp.project_id,
        at=datetime.fromisoformat(inp.at),
        actor_id=inp.actor_id,
        values=inp.payload,
        facts=facts,
    )


class ReportingActivities:
    def __init__(self, stub: ReportingServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=REPORTING_INGEST_EVENT)
    async def ingest_event(self, inp: ReportEventInput) -> ReportEventResult:
        log = activity_logger(inp.project_id)
        try:
            event = typed_event(inp)
        except (ValueError, json_format.ParseError) as err:  # the sender's mistake: a retry cannot help
            raise ApplicationError(str(err), type=ERR_VALIDATION, non_retryable=True) from None
        resp = await call(self._stub.IngestEvent, pb.IngestEventRequest(event=event), timeout=self._timeout)
        log.info("reporting.event", event_id=inp.event_id, type=inp.type, applied=resp.applied)
        return ReportEventResult(applied=resp.applied)

    @activity.defn(name=REPORTING_INGEST_EVENTS)
    async def ingest_events(self, inp: ReportEventsInput) -> ReportEventsResult:
        """A page of events in one call. Reporting checks the batch whole before applying any, so a
        batch with one event it refuses is sent again one by one: the refused event (the sender's
        mistake, a retry cannot help) is logged and left out, the others are applied."""
        if not inp.events:
            return ReportEventsResult()
        log = activity_logger(inp.events[0].project_id)
        try:
            batch = [typed_event(e) for e in inp.events]
        except (ValueError, json_format.ParseError):
            batch = []
        if batch:
            try:
                resp = await call(self._stub.IngestEvents, pb.IngestEventsRequest(events=batch), timeout=self._timeout)
                log.info("reporting.events", events=len(batch), applied=resp.applied)
                return ReportEventsResult(applied=resp.applied)
            except ApplicationError as err:
                if err.type != ERR_VALIDATION:
                    raise
        applied = 0
        for one in inp.events:
            try:
                applied += int((await self.ingest_event(one)).applied)
            except ApplicationError as err:
                if err.type != ERR_VALIDATION:
                    raise
                log.error("reporting.event_refused", event_id=one.event_id, type=one.type, error=str(err))
        return ReportEventsResult(applied=applied)
