"""Finance sync over real gRPC: the reporting service forwards the project.approved,
project.closed and cost.recorded events it ingests to a real notify service
(notify.PublishEvents, a claimed batch per call → one webhook delivery per matching subscription
and event), through its outbox: exactly once per event however often the event is ingested, other
types never, and events ingested while notify is down are forwarded once it is up. An event notify
refuses for good is logged and marked, one it could not publish this time stays for the next
round; neither holds up the others."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from baobei import reporting_events
from baobei.core.db import make_engine
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.reporting import store
from services.reporting.outbox import forward_once
from tests.conftest import RunningService, StartService, free_port
from tests.service.test_notify_batches import Calls, fail_inserts
from tests.service.test_notify_delivery import Notify

FORWARDED = ["project.approved", "project.closed", "cost.recorded"]


def start_notify(start_service: StartService, port: int = 0) -> tuple[int, npb_grpc.NotifyServiceStub]:
    svc = subscribed_notify(start_service, port)
    return svc.port, npb_grpc.NotifyServiceStub(svc.channel)


def subscribed_notify(start_service: StartService, port: int = 0) -> RunningService:
    # The subscriber is never called here (no dispatcher): a loopback URL, allowed by setting.
    svc = start_service("notify", port=port, registry_addr="", redis_url="",
                        settings=Settings(webhook_allow_internal=True))
    bound = svc.port
    stub = npb_grpc.NotifyServiceStub(svc.channel)
    stub.PutSubscription(
        npb.PutSubscriptionRequest(
            request_id=f"sub-{bound}",
            subscription=npb.Subscription(id="finance", url="http://127.0.0.1:9/hooks/baobei",
                                          events=FORWARDED, secrets=["whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
                                          enabled=True, description="财务系统"),
        ),
        # The port may be in the client's reconnect backoff (the reporting outbox tried it).
        timeout=15,
        wait_for_ready=True,
    )
    return svc


@pytest.fixture()
def env(start_service: StartService) -> dict[str, Any]:
    notify_port, notify = start_notify(start_service)
    reporting = start_service("reporting", notify_addr=f"127.0.0.1:{notify_port}")
    return {"stub": pb_grpc.ReportingServiceStub(reporting.channel), "notify": notify, "db_url": reporting.db_url}


def event(event_id: str, project_id: str, type_: str, **values: Any) -> pb.Event:
    return reporting_events.build(
        event_id=event_id, event_type=type_, project_id=project_id, at=datetime.now(UTC), actor_id="u-1", values=values
    )


def ingest(stub: pb_grpc.ReportingServiceStub, e: pb.Event) -> bool:
    return stub.IngestEvent(pb.IngestEventRequest(event=e), timeout=10).applied


def webhooks(notify: npb_grpc.NotifyServiceStub, project_id: str) -> list[npb.Delivery]:
    resp = notify.ListDeliveries(npb.ListDeliveriesRequest(project_id=project_id, channel="webhook", limit=100),
                                 timeout=10)
    return list(resp.deliveries)


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def snapshot(name: str) -> dict[str, Any]:
    return {"name": name, "code": "BB-2026-000001", "status": "active", "amount": "120000.00",
            "owner_id": "rep"}


def test_forwarded_once_per_event_and_only_finance_types(env: dict[str, Any]) -> None:
    stub, notify = env["stub"], env["notify"]
    pid = "p-fin-1"
    approved = event("wf-1:project.approved:1", pid, "project.approved", **snapshot("财务同步"))
    assert ingest(stub, event("wf-1:project.submitted:1", pid, "project.submitted", **snapshot("财务同步")))
    assert ingest(stub, approved)
    assert not ingest(stub, approved)  # a redelivered event is a duplicate: nothing new
    assert ingest(stub, event("cost-1", pid, "cost.recorded", cost_id="c-1", kind="差旅", amount="300.50",
                              at=datetime.now(UTC).isoformat()))
    assert ingest(stub, event("wf-1:project.closed:1", pid, "project.closed", **snapshot("财务同步")))
    assert not ingest(stub, approved)

    got = wait_for(lambda: len(webhooks(notify, pid)) >= 3 and webhooks(notify, pid))
    assert sorted(d.kind for d in got) == sorted(FORWARDED)
    assert all(d.target == "finance" and d.channel == "webhook" for d in got)
    time.sleep(1.2)  # more dispatcher rounds: still once
    assert len(webhooks(notify, pid)) == 3
    rows = store.forwards(make_engine(env["db_url"]), project_id=pid)
    assert sorted(r.type for r in rows) == sorted(FORWARDED) and all(r.sent_at is not None for r in rows)
    # The kind's values travel as the event's data (ProjectFacts has no place for form field values).
    approved_row = next(r for r in rows if r.type == "project.approved")
    assert approved_row.payload["amount"] == "120000.00" and "fields" not in approved_row.payload


def test_a_republished_event_is_not_delivered_twice(env: dict[str, Any]) -> None:
    """notify is idempotent on event_id too: the outbox re-sending after a crash between the call
    and its mark adds nothing."""
    stub, notify = env["stub"], env["notify"]
    pid = "p-fin-2"
    assert ingest(stub, event("cost-2", pid, "cost.recorded", cost_id="c-2", amount="10.00",
                              at=datetime.now(UTC).isoformat()))
    wait_for(lambda: webhooks(notify, pid))
    engine = make_engine(env["db_url"])
    with engine.begin() as conn:  # as if the mark had been lost
        conn.execute(sa.text("UPDATE event_forward SET sent_at = NULL WHERE event_id = 'cost-2'"))
    wait_for(lambda: all(r.sent_at is not None for r in store.forwards(engine, project_id=pid)))
    assert all(r.sent_at is not None for r in store.forwards(engine, project_id=pid))
    assert len(webhooks(notify, pid)) == 1


def test_events_wait_in_the_outbox_while_notify_is_down(start_service: StartService) -> None:
    notify_port = free_port()
    reporting = start_service("reporting", notify_addr=f"127.0.0.1:{notify_port}", rpc_timeout=1.0)
    db_url = reporting.db_url
    stub = pb_grpc.ReportingServiceStub(reporting.channel)
    pid = "p-fin-3"
    assert ingest(stub, event("wf-3:project.approved:1", pid, "project.approved", **snapshot("离线")))
    engine = make_engine(db_url)
    time.sleep(1.5)
    [row] = store.pending_forwards(engine)
    assert row.event_id == "wf-3:project.approved:1" and row.type == "project.approved"
    _, notify = start_notify(start_service, port=notify_port)
    got = wait_for(lambda: webhooks(notify, pid), timeout=15)
    assert [d.kind for d in got] == ["project.approved"]
    assert wait_for(lambda: not store.pending_forwards(engine))


def test_a_round_is_one_call_and_a_bad_event_holds_up_none(start_service: StartService) -> None:
    """The outbox's round over a real notify (called here, the dispatcher thread has no notify):
    every pending event in one PublishEvents call; an event notify refuses for good (an id longer
    than it keeps) is logged and marked, one whose publishing fails in notify's database this
    time stays pending; the next round sends only that one, and a round with nothing pending
    calls nobody."""
    svc = subscribed_notify(start_service)
    notify = npb_grpc.NotifyServiceStub(svc.channel)
    reporting = start_service("reporting", notify_addr="")
    stub, engine = pb_grpc.ReportingServiceStub(reporting.channel), make_engine(reporting.db_url)
    pid = "p-fin-4"
    assert ingest(stub, event("wf-4:project.approved:1", pid, "project.approved", **snapshot("批量")))
    assert ingest(stub, event("cost-4", pid, "cost.recorded", cost_id="c-4", amount="1.00",
                              at=datetime.now(UTC).isoformat()))
    assert ingest(stub, event("wf-4:project.closed:1", pid, "project.closed", **snapshot("批量")))
    long_id = "x" * 195  # reporting keeps 200 characters, notify 190
    with engine.begin() as conn:
        conn.execute(store.T_FORWARD.insert().values(event_id=long_id, type="project.closed", project_id=pid,
                                                     at=datetime.now(UTC), payload={}, created_at=datetime.now(UTC)))
    restore = fail_inserts(Notify(notify, svc.db_url), "delivery", kind="cost.recorded")
    counted = Calls("PublishEvents", "PublishEvent")

    def publish(req: npb.PublishEventsRequest) -> npb.PublishEventsResponse:
        resp: npb.PublishEventsResponse = notify.PublishEvents(req, timeout=10)
        return resp

    with capture_logs() as logs:
        assert forward_once(engine, publish) == 3
    assert counted() == {"PublishEvents": 1, "PublishEvent": 0}
    [refused] = [e for e in logs if e["event"] == "event.forward_refused"]
    assert (refused["event_id"], refused["fields"]) == (long_id, ["event_id"])
    assert [r.event_id for r in store.pending_forwards(engine)] == ["cost-4"]
    assert sorted(d.kind for d in webhooks(notify, pid)) == ["project.approved", "project.closed"]
    restore()
    assert forward_once(engine, publish) == 1
    assert forward_once(engine, publish) == 0
    assert counted() == {"PublishEvents": 2, "PublishEvent": 0}
    assert sorted(d.kind for d in webhooks(notify, pid)) == sorted(FORWARDED)
