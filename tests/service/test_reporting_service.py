from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from baobei import reporting_events
from baobei.core.db import make_engine
from baobei.core.grpc_client import channel, metadata, read_failure
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.reporting import store
from services.reporting.server import build

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("reporting")


@pytest.fixture()
def stub(db_url: str) -> Iterator[pb_grpc.ReportingServiceStub]:
    server, port = build(db_url=db_url, port=0)
    server.start()
    ch = channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.ReportingServiceStub(ch)
    finally:
        ch.close()
        server.stop(None).wait()


def event(event_id: str, project_id: str, at: datetime, type_: str = "project.submitted", **values: Any) -> pb.Event:
    return reporting_events.build(
        event_id=event_id, event_type=type_, project_id=project_id, at=at, actor_id="u-admin", values=values
    )


def ingest(stub: pb_grpc.ReportingServiceStub, e: pb.Event) -> bool:
    return stub.IngestEvent(pb.IngestEventRequest(event=e), timeout=10).applied


def portfolio(stub: pb_grpc.ReportingServiceStub, *ids: str, all_: bool = False) -> pb.PortfolioResponse:
    return stub.Portfolio(pb.PortfolioRequest(all=all_, project_ids=list(ids)), timeout=10)


def scalar(db_url: str, sql: str) -> Any:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_events_build_the_read_model_and_portfolio(stub: pb_grpc.ReportingServiceStub) -> None:
    assert ingest(stub, event("e1", "p1", T0, "project.created", code="BB-0001", name="智慧园区", status="draft",
                              amount="12345.60", owner_id="rep", department_id="d1", region="华东",
                              business_line="IoT"))
    assert ingest(stub, event("e2", "p1", T0 + timedelta(hours=1), "project.submitted", status="pending_approval"))
    assert ingest(stub, event("e3", "p2", T0, "project.created", code="BB-0002", name="数据中台", status="draft",
                              amount="0.40"))
    assert ingest(stub, event("e4", "p3", T0, "project.created", code="BB-0003", name="无金额", status="draft"))

    everything = portfolio(stub, all_=True)
    assert dict(everything.by_status) == {"pending_approval": 1, "draft": 2}
    assert everything.total_amount == "12346.00"
    assert everything.overdue_tasks == 0
    by_id = {p.id: p for p in everything.projects}
    assert sorted(by_id) == ["p1", "p2", "p3"]
    p1 = by_id["p1"]
    assert (p1.code, p1.name, p1.status, p1.amount, p1.health, list(p1.reasons)) == (
        "BB-0001", "智慧园区", "pending_approval", "12345.60", "green", [])
    assert by_id["p3"].amount == ""
    assert everything.projects[0].id == "p1"  # most recently changed first

    some = portfolio(stub, "p2", "p3", "p-unknown", "p2")
    assert sorted(p.id for p in some.projects) == ["p2", "p3"]
    assert some.total_amount == "0.40" and dict(some.by_status) == {"draft": 2}

    nothing = portfolio(stub)
    assert (dict(nothing.by_status), nothing.total_amount, list(nothing.projects)) == ({}, "0.00", [])


def test_amounts_sum_exactly(stub: pb_grpc.ReportingServiceStub, db_url: str) -> None:
    for i in range(10):
        ingest(stub, event(f"c{i}", f"cent-{i}", T0, status="active", amount="0.10"))
    ingest(stub, event("big", "big", T0, status="active", amount="9999999999999999.99"))
    assert portfolio(stub, *[f"cent-{i}" for i in range(10)]).total_amount == "1.00"
    assert portfolio(stub, "big").projects[0].amount == "9999999999999999.99"
    assert Decimal(portfolio(stub, all_=True).total_amount) == Decimal("10000000000000000.99")
    ingest(stub, event("one-decimal", "one-decimal", T0, status="active", amount="12345.6"))
    assert portfolio(stub, "one-decimal").projects[0].amount == "12345.60"


def test_duplicate_event_is_not_applied_twice(stub: pb_grpc.ReportingServiceStub, db_url: str) -> None:
    first = event("dup", "p1", T0, status="draft", amount="10")
    assert ingest(stub, first) is True
    # a redelivery, even with different content, changes nothing
    assert ingest(stub, event("dup", "p1", T0 + timedelta(hours=5), status="active", amount="99")) is False
    p = portfolio(stub, "p1").projects[0]
    assert (p.status, p.amount) == ("draft", "10.00")
    assert scalar(db_url, "SELECT count(*) FROM event_log") == 1
    assert scalar(db_url, "SELECT count(*) FROM processed_event") == 1


def test_concurrent_duplicates_apply_once(stub: pb_grpc.ReportingServiceStub, db_url: str) -> None:
    barrier = threading.Barrier(8)
    e = event("race", "p-race", T0, status="active", amount="5")

    def go(_: int) -> bool:
        barrier.wait()
        return ingest(stub, e)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(go, range(8)))
    assert results.count(True) == 1 and results.count(False) == 7
    assert scalar(db_url, "SELECT count(*) FROM event_log") == 1
    assert portfolio(stub, all_=True).total_amount == "5.00"


def test_concurrent_distinct_events_of_one_new_project_all_apply(stub: pb_grpc.ReportingServiceStub) -> None:
    barrier = threading.Barrier(6)
    fields = ["code", "name", "status", "owner_id", "region", "business_line"]

    def go(i: int) -> bool:
        barrier.wait()
        return ingest(stub, event(f"f{i}", "p-many", T0 + timedelta(seconds=i), **{fields[i]: f"v{i}"}))

    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(go, range(6)))
    p = portfolio(stub, "p-many").projects[0]
    assert (p.code, p.name, p.status) == ("v0", "v1", "v2")


def test_out_of_order_event_keeps_newer_values_but_is_recorded(stub: pb_grpc.ReportingServiceStub,
                                                               db_url: str) -> None:
    assert ingest(stub, event("late-2", "p1", T0 + timedelta(hours=2), "project.approved", status="active",
                              amount="200"))
    assert ingest(stub, event("late-1", "p1", T0, "project.created", code="BB-7", name="迟到", status="draft",
                              amount="100"))
    p = portfolio(stub, "p1").projects[0]
    assert (p.status, p.amount, p.code, p.name) == ("active", "200.00", "BB-7", "迟到")
    # recorded as processed: a redelivery of the late event is a duplicate
    assert ingest(stub, event("late-1", "p1", T0, "project.created", status="draft")) is False
    engine = make_engine(db_url)
    try:
        logged = store.event_log(engine, project_id="p1")
        last = scalar(db_url, "SELECT last_event_at FROM project_view WHERE project_id = 'p1'")
    finally:
        engine.dispose()
    assert [(e["event_id"], e["type"], e["at"], e["actor_id"]) for e in logged] == [
        ("late-1", "project.created", T0, "u-admin"),
        ("late-2", "project.approved", T0 + timedelta(hours=2), "u-admin"),
    ]
    assert logged[0]["payload"]["code"] == "BB-7" and logged[0]["payload"]["amount"] == "100"
    last = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
    assert last.replace(tzinfo=last.tzinfo or UTC) == T0 + timedelta(hours=2)


def test_invalid_events_are_refused_with_field_paths(stub: pb_grpc.ReportingServiceStub, db_url: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.IngestEvent(pb.IngestEventRequest(event=pb.Event(project_id="p1")), timeout=10,
                         metadata=metadata(locale="en"))
    failure = read_failure(err.value)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.violations] == ["event.event_id", "event.at", "event.kind"]
    with pytest.raises(grpc.RpcError) as err:
        ingest(stub, event("bad-amount", "p1", T0, amount="1.005"))
    assert [v.field for v in read_failure(err.value).violations] == ["event.project_submitted.amount"]
    assert scalar(db_url, "SELECT count(*) FROM processed_event") == 0
    # a refused event is not remembered: corrected, it is applied
    assert ingest(stub, event("bad-amount", "p1", T0, amount="1.01")) is True
