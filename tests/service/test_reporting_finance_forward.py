"""Finance sync over real gRPC: the reporting service forwards the project.approved,
project.closed and cost.recorded events it ingests to a real notify service
(notify.PublishEvent → one webhook delivery per matching subscription), through its outbox:
exactly once per event however often the event is ingested, other types never, and events
ingested while notify is down are forwarded once it is up."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from baobei import reporting_events
from baobei.core.db import make_engine
from baobei.core.grpc_client import channel
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.notify.server import build as build_notify
from services.reporting import store
from services.reporting.server import build
from tests.conftest import free_port

FORWARDED = ["project.approved", "project.closed", "cost.recorded"]


def start_notify(db_url: str, port: int = 0) -> tuple[Any, int, npb_grpc.NotifyServiceStub, Any]:
    # The subscriber is never called here (no dispatcher): a loopback URL, allowed by setting.
    server, bound = build_notify(db_url=db_url, port=port, registry_addr="", redis_url="",
                                 settings=Settings(webhook_allow_internal=True))
    server.start()
    ch = channel(f"127.0.0.1:{bound}")
    stub = npb_grpc.NotifyServiceStub(ch)
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
    return server, bound, stub, ch


@pytest.fixture()
def env(make_db_url: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    notify_server, notify_port, notify, nch = start_notify(make_db_url("notify"))
    db_url = make_db_url("reporting")
    server, port = build(db_url=db_url, port=0, notify_addr=f"127.0.0.1:{notify_port}")
    server.start()
    ch = channel(f"127.0.0.1:{port}")
    try:
        yield {"stub": pb_grpc.ReportingServiceStub(ch), "notify": notify, "db_url": db_url}
    finally:
        ch.close()
        nch.close()
        server.stop(None).wait()
        notify_server.stop(None).wait()


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


def test_events_wait_in_the_outbox_while_notify_is_down(make_db_url: Callable[[str], str]) -> None:
    notify_port = free_port()
    db_url = make_db_url("reporting")
    server, port = build(db_url=db_url, port=0, notify_addr=f"127.0.0.1:{notify_port}", rpc_timeout=1.0)
    server.start()
    ch = channel(f"127.0.0.1:{port}")
    notify_server = nch = None
    try:
        stub = pb_grpc.ReportingServiceStub(ch)
        pid = "p-fin-3"
        assert ingest(stub, event("wf-3:project.approved:1", pid, "project.approved", **snapshot("离线")))
        engine = make_engine(db_url)
        time.sleep(1.5)
        [row] = store.pending_forwards(engine)
        assert row.event_id == "wf-3:project.approved:1" and row.type == "project.approved"
        notify_server, _, notify, nch = start_notify(make_db_url("notify"), port=notify_port)
        got = wait_for(lambda: webhooks(notify, pid), timeout=15)
        assert [d.kind for d in got] == ["project.approved"]
        assert wait_for(lambda: not store.pending_forwards(engine))
    finally:
        ch.close()
        if nch is not None:
            nch.close()
        server.stop(None).wait()
        if notify_server is not None:
            notify_server.stop(None).wait()
