"""``reporting.IngestEvents`` (issue 15, patch task-events-batch) against the real reporting
service: a page of events in one call, each applied once; a page with an event reporting refuses
is sent again one by one, so the refused event is left out (logged) and the others still count."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from temporalio.testing import ActivityEnvironment

from baobei.core.grpc_client import aio_channel
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from workflows.activities.reporting import ReportingActivities
from workflows.contracts.registry import ProjectSnapshot
from workflows.contracts.reporting import ReportEventInput, ReportEventsInput

pytestmark = pytest.mark.asyncio


def created(n: int, *, event_id: str | None = None) -> ReportEventInput:
    return ReportEventInput(
        event_id=f"project-p{n}:project.created:0" if event_id is None else event_id, type="project.created",
        project_id=f"p{n}", at="2026-03-02T09:00:00+00:00", actor_id="rep",
        project=ProjectSnapshot(id=f"p{n}", code=f"BB-{n}", name="项目", status="draft", amount="1"))


async def test_a_page_is_applied_once_and_a_refused_event_does_not_hold_the_others(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    svc = start_service("reporting", db_url=make_db_url("reporting"))
    channel = aio_channel(svc.addr)
    acts = ReportingActivities(pb_grpc.ReportingServiceStub(channel))
    run = ActivityEnvironment().run

    assert (await run(acts.ingest_events, ReportEventsInput(events=[created(1), created(2)]))).applied == 2
    # A retried activity applies nothing twice.
    assert (await run(acts.ingest_events, ReportEventsInput(events=[created(1), created(2)]))).applied == 0
    # Reporting refuses the whole batch for its event without an id: the others go one by one.
    page = [created(3), created(4, event_id=""), created(5)]
    assert (await run(acts.ingest_events, ReportEventsInput(events=page))).applied == 2
    assert (await run(acts.ingest_events, ReportEventsInput(events=[created(3), created(5)]))).applied == 0
    assert (await run(acts.ingest_events, ReportEventsInput())).applied == 0
    await channel.close()
