"""Every event kind over real gRPC: ingested, logged under its type with its values, and read back
by a rebuild; a malformed event is refused with INVALID_ARGUMENT naming the field, and leaves no
trace. Also the sender side: values that do not fit a kind's message never leave the activity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from baobei import reporting_events
from baobei.core.db import make_engine
from baobei.core.grpc_client import read_failure
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.reporting import store
from tests.conftest import StartService
from workflows.activities.reporting import typed_event
from workflows.contracts import registry as act_registry
from workflows.contracts import reporting as act

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
FACTS = {
    "code": "BB-2026-000001",
    "name": "智慧园区",
    "status": "active",
    "amount": "1250000.00",
    "owner_id": "rep",
    "department_id": "d1",
    "region": "华东",
    "business_line": "IoT",
    "form_key": "standard",
    "conflict_count": 1,
}
TASK = {
    "task_id": "t1",
    "project_id": "p1",
    "name": "需求调研",
    "assignee_id": "dev",
    "status": "done",
    "start": "2026-11-02",
    "due": "2026-11-06",
    "finish": "2026-11-06",
    "baseline_finish": "2026-11-05",
    "estimate_hours": 16.0,
    "progress": 1.0,
    "milestone": True,
    "delay_reason": "客户未确认",
    "done_at": "2026-11-05T08:00:00+00:00",
}
# One sample per kind: a kind added to the proto without a sample here fails the coverage test.
SAMPLES: dict[str, dict[str, Any]] = {
    **{kind: FACTS for kind in ("project_created", "project_submitted", "project_approved")},
    **{kind: {**FACTS, "status": kind[8:]} for kind in ("project_rejected", "project_returned", "project_cancelled")},
    "project_edited": {**FACTS, "status": "returned"},
    "project_closed": {**FACTS, "status": "closed", "comment": "验收完成", "channel": "web"},
    "task_created": {**TASK, "status": "todo", "progress": 0.2},
    "task_updated": TASK,
    "cost_recorded": {"cost_id": "c1", "task_id": "t1", "project_id": "p1", "kind": "差旅", "amount": "300.50",
                      "at": "2026-11-03"},
    "approval_step_opened": {"instance_id": "i1", "step_index": 1, "step": "财务", "approvers": ["fin1", "fin2"],
                             "opened_at": "2026-11-02T02:00:00+00:00"},
    "approval_decided": {"instance_id": "i1", "step_index": 1, "step": "财务", "user_id": "fin1",
                         "action": "approve", "channel": "link", "at": "2026-11-02T03:00:00+00:00",
                         "on_behalf_of": "fin2"},
    "project_reviewed": {"outcome": "delivered", "reason": "按期验收", "lessons": "需求冻结要早",
                         "tags": ["需求", "联调"], "delay_summary": "无延期", "project_id": "p1"},
}


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("reporting")


@pytest.fixture()
def stub(db_url: str, start_service: StartService) -> pb_grpc.ReportingServiceStub:
    return pb_grpc.ReportingServiceStub(start_service("reporting", db_url=db_url).channel)


def event(event_id: str, event_type: str, values: dict[str, Any], at: datetime = T0) -> pb.Event:
    return reporting_events.build(
        event_id=event_id, event_type=event_type, project_id="p1", at=at, actor_id="u", values=values
    )


def ingest(stub: pb_grpc.ReportingServiceStub, e: pb.Event) -> bool:
    return stub.IngestEvent(pb.IngestEventRequest(event=e), timeout=10).applied


def logged(db_url: str) -> list[dict[str, Any]]:
    engine = make_engine(db_url)
    try:
        return store.event_log(engine, project_id="p1")
    finally:
        engine.dispose()


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(reporting_events.KINDS)


def test_every_kind_round_trips(stub: pb_grpc.ReportingServiceStub, db_url: str) -> None:
    for n, (kind, values) in enumerate(SAMPLES.items()):
        event_type = reporting_events.type_of(kind)
        e = event(f"e{n}", event_type, values, T0 + timedelta(minutes=n))
        assert e.WhichOneof("kind") == kind
        assert ingest(stub, e), kind
        assert not ingest(stub, e), kind  # idempotent on event_id
    rows = logged(db_url)
    assert [(r["type"], r["payload"]) for r in rows] == [
        (reporting_events.type_of(kind), values) for kind, values in SAMPLES.items()
    ]
    # The read models saw them: the closed project, its done task, its cost, the decided step.
    p = stub.Portfolio(pb.PortfolioRequest(all=True), timeout=10).projects[0]
    assert (p.code, p.status, p.amount, p.actual_cost) == ("BB-2026-000001", "closed", "1250000.00", "300.50")
    # A rebuild reads the logged values back through the kind messages: the same state.
    result = stub.Rebuild(pb.RebuildRequest(), timeout=30)
    assert (result.events, result.tasks) == (len(SAMPLES), 1)
    again = stub.Portfolio(pb.PortfolioRequest(all=True), timeout=10).projects[0]
    assert again == p


def test_a_batch_ends_as_the_same_events_one_by_one(
    stub: pb_grpc.ReportingServiceStub, make_db_url: Callable[[str], str], start_service: StartService
) -> None:
    """IngestEvents applies its events in one transaction: each sees the ones before it (the step
    opened, then the project's end closes it), a repeated id inside the batch counts as a
    duplicate, and the read models end as when the events come one call at a time."""
    sent = [event(f"e{n}", reporting_events.type_of(kind), values, T0 + timedelta(minutes=n))
            for n, (kind, values) in enumerate(SAMPLES.items())]
    batch = stub.IngestEvents(pb.IngestEventsRequest(events=[*sent, sent[0], sent[-1]]), timeout=10)
    assert (batch.applied, batch.duplicates) == (len(sent), 2)
    again = stub.IngestEvents(pb.IngestEventsRequest(events=sent[:3]), timeout=10)
    assert (again.applied, again.duplicates) == (0, 3)

    single = pb_grpc.ReportingServiceStub(
        start_service("reporting", db_url=make_db_url("reporting")).channel)
    for e in sent:
        assert ingest(single, e)
    for one in (pb.PortfolioRequest(all=True), pb.ProjectReportRequest(project_id="p1", now=T0 + timedelta(days=1))):
        call = "Portfolio" if isinstance(one, pb.PortfolioRequest) else "ProjectReport"
        assert getattr(stub, call)(one, timeout=10) == getattr(single, call)(one, timeout=10), call


@pytest.mark.parametrize(
    ("kind", "values", "fields"),
    [
        ("project_created", {**FACTS, "amount": "1.005"}, ["amount"]),
        ("project_approved", {**FACTS, "conflict_count": -1}, ["conflict_count"]),
        ("task_updated", {**TASK, "project_id": "other", "status": "later", "due": "tomorrow"},
         ["project_id", "status", "due"]),
        ("task_created", {"name": "无编号"}, ["task_id"]),
        ("cost_recorded", {"cost_id": "c1", "amount": "abc"}, ["amount"]),
        ("approval_step_opened", {"step_index": 2000, "opened_at": "noon"}, ["instance_id", "step_index", "opened_at"]),
        ("approval_decided", {"instance_id": "i1"}, ["user_id", "action"]),
        ("project_reviewed", {"outcome": "maybe", "tags": ["x" * 41]}, ["outcome", "tags"]),
    ],
)
def test_malformed_event_is_refused_naming_the_field(
    stub: pb_grpc.ReportingServiceStub, db_url: str, kind: str, values: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        ingest(stub, event("bad", reporting_events.type_of(kind), values))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in read_failure(err.value).violations] == [f"event.{kind}.{f}" for f in fields]
    assert logged(db_url) == []


def test_event_without_kind_is_refused(stub: pb_grpc.ReportingServiceStub) -> None:
    bare = pb.Event(event_id="e", project_id="p1")
    bare.at.FromDatetime(T0)
    with pytest.raises(grpc.RpcError) as err:
        ingest(stub, bare)
    assert [v.field for v in read_failure(err.value).violations] == ["event.kind"]


def test_sender_refuses_values_that_do_not_fit_the_kind() -> None:
    def inp(event_type: str, **payload: Any) -> act.ReportEventInput:
        return act.ReportEventInput("e", event_type, "p1", T0.isoformat(), payload=payload)

    with pytest.raises(json_format.ParseError, match="step_index"):
        typed_event(inp("approval.step_opened", instance_id="i", step_index="first"))
    with pytest.raises(json_format.ParseError, match="secret"):
        typed_event(inp("project.approved", secret="机密"))
    with pytest.raises(ValueError, match="project.updated"):
        typed_event(inp("project.updated"))
    # A null clears a field that tracks presence (a reopened task's done_at).
    reopened = typed_event(inp("task.updated", task_id="t1", status="todo", done_at=None, estimate_hours=None))
    assert reopened.task_updated.HasField("done_at") and reopened.task_updated.done_at == ""
    # The project of new histories fills the facts; the payload adds the closure's comment.
    closed = typed_event(
        act.ReportEventInput("e", "project.closed", "p1", T0.isoformat(), payload={"comment": "完成"},
                             project=act_registry.ProjectSnapshot(id="p1", code="BB-1", status="closed",
                                                                  fields={"x": 1}))
    )
    assert (closed.project_closed.code, closed.project_closed.status, closed.project_closed.comment) == (
        "BB-1", "closed", "完成")


def test_rebuild_reads_events_logged_before_the_kinds_were_typed(
    stub: pb_grpc.ReportingServiceStub, db_url: str
) -> None:
    """Rows the old validator logged: extra keys, nulls, a type with no kind (ingested then,
    folded nowhere), and one that no longer reads (skipped, said in the log)."""
    old = [
        ("o1", "project.created", {**FACTS, "status": "draft", "extra": "x"}),
        ("o2", "task.created", {"task_id": "t1", "project_id": "p1", "name": "旧任务", "status": "done",
                                "estimate_hours": None, "done_at": None, "delay_reason": ""}),
        ("o3", "project.updated", {"name": "无此类型"}),
        ("o4", "approval.decided", {"instance_id": "i1", "step_index": "first", "user_id": "u", "action": "x"}),
    ]
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for n, (event_id, event_type, payload) in enumerate(old):
                conn.execute(store.T_LOG.insert().values(
                    event_id=event_id, type=event_type, project_id="p1", at=T0 + timedelta(minutes=n), actor_id="u",
                    payload=payload, received_at=T0,
                ))
    finally:
        engine.dispose()
    result = stub.Rebuild(pb.RebuildRequest(), timeout=30)
    assert (result.events, result.tasks) == (3, 1)
    p = stub.Portfolio(pb.PortfolioRequest(all=True), timeout=10).projects[0]
    assert (p.code, p.status, p.amount, p.open_tasks) == ("BB-2026-000001", "draft", "1250000.00", 0)
