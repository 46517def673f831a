"""What tasks.StartPlan asks of the tasks service when a project's delivery starts (ApplyTemplate
with the approval baseline, then EvaluateRules from cursor 0), over a real gRPC channel (SQLite, or
PostgreSQL with BAOBEI_TEST_PG_URL): the common case without a template, a small template, a
project that already has a plan, retries, and the plan lock's upsert (created at version 1, every
change bumps it, a baseline bumps its number in the same statement)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import json_format, struct_pb2

from baobei.core.db import make_engine
from baobei.core.migrations import upgrade
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from services.tasks.store.rows import PLANS, bump_plan
from tests.conftest import StartService

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
TODAY = "2026-11-30"


@pytest.fixture()
def stub(start_service: StartService) -> pb_grpc.TasksServiceStub:
    return pb_grpc.TasksServiceStub(start_service("tasks").channel)


def apply(stub: pb_grpc.TasksServiceStub, pid: str, bl: str, baseline: str = "审批基线") -> pb.ApplyTemplateResponse:
    return stub.ApplyTemplate(pb.ApplyTemplateRequest(request_id=f"{pid}:template", project_id=pid, business_line=bl,
                                                      start="2026-12-01", owner_id="own", baseline_name=baseline),
                              timeout=10)


def evaluate(stub: pb_grpc.TasksServiceStub, pid: str, after: int = 0) -> pb.EvaluateRulesResponse:
    req = pb.EvaluateRulesRequest(project_id=pid, after_seq=after, owner_id="own", project_name="园区",
                                  project_amount="1000")
    req.now.FromDatetime(NOW)
    return stub.EvaluateRules(req, timeout=10)


def plan_of(stub: pb_grpc.TasksServiceStub, pid: str) -> tuple[int, int]:
    s = stub.GetSchedule(pb.GetScheduleRequest(project_id=pid, today=TODAY), timeout=10)
    return s.plan_version, s.baseline_number


def put_template(stub: pb_grpc.TasksServiceStub, bl: str, tasks: list[dict[str, object]]) -> None:
    body = struct_pb2.Struct()
    body.update({"tasks": tasks})
    stub.PutTemplate(pb.PutTemplateRequest(request_id=f"tpl-{bl}", business_line=bl, body=body), timeout=10)


def test_no_template_saves_an_empty_baseline_once_and_evaluates_to_nothing(stub: pb_grpc.TasksServiceStub) -> None:
    first = apply(stub, "sp-none", "no-such-line")
    assert (first.created, first.template_version, first.baseline_number) == (0, 0, 1)
    assert plan_of(stub, "sp-none") == (1, 1)  # the plan row is created by the baseline: version 1
    assert apply(stub, "sp-none", "no-such-line") == first  # a retried activity: the stored answer
    assert plan_of(stub, "sp-none") == (1, 1)  # ... and nothing changed
    result = evaluate(stub, "sp-none")
    assert (list(result.fires), list(result.events), result.last_seq, result.HasField("next_wake")) == (
        [], [], 0, False)
    assert list(result.errors) == []
    # Without a baseline name and without a template: no plan row at all.
    assert apply(stub, "sp-bare", "no-such-line", baseline="") == pb.ApplyTemplateResponse()
    assert plan_of(stub, "sp-bare") == (0, 0)


def test_a_small_template_reports_its_tasks_with_the_approval_baseline(stub: pb_grpc.TasksServiceStub) -> None:
    put_template(stub, "sp-small", [
        {"key": "a", "name": "方案设计", "duration_days": 3},
        {"key": "b", "name": "实施", "duration_days": 2, "depends_on": [{"key": "a"}]},
        {"key": "m", "name": "验收", "milestone": True, "depends_on": [{"key": "b", "type": "FS", "lag_days": 1}]},
    ])
    applied = apply(stub, "sp-small", "sp-small")
    assert (applied.created, applied.template_version, applied.baseline_number) == (3, 1, 1)
    assert plan_of(stub, "sp-small") == (2, 1)  # the template and the baseline each bump the plan
    result = evaluate(stub, "sp-small")
    assert [e.kind for e in result.events] == ["task.created"] * 3
    assert [e.seq for e in result.events] == sorted(e.seq for e in result.events)
    assert result.last_seq == result.events[-1].seq
    payloads = [json_format.MessageToDict(e.payload) for e in result.events]
    assert [p["name"] for p in payloads] == ["方案设计", "实施", "验收"]
    assert [p["task_id"] for p in payloads] == [e.task_id for e in result.events]
    rows = {t.name: t for t in stub.GetSchedule(pb.GetScheduleRequest(project_id="sp-small", today=TODAY),
                                                timeout=10).tasks}
    for p in payloads:  # the current state with the approval baseline's dates
        assert (p["start"], p["finish"], p["baseline_finish"]) == (
            rows[p["name"]].start, rows[p["name"]].finish, rows[p["name"]].baseline_finish)
        assert (p["status"], p["project_id"], p["milestone"]) == ("todo", "sp-small", p["name"] == "验收")
    assert list(evaluate(stub, "sp-small", after=result.last_seq).events) == []
    # Retried: the stored answer, no second set of tasks or events.
    assert apply(stub, "sp-small", "sp-small") == applied
    assert len(stub.ListTasks(pb.ListTasksRequest(project_id="sp-small"), timeout=10).tasks) == 3
    assert plan_of(stub, "sp-small") == (2, 1)


def test_a_template_on_a_project_with_a_plan_adds_to_it(stub: pb_grpc.TasksServiceStub) -> None:
    put_template(stub, "sp-more", [{"key": "a", "name": "实施", "duration_days": 2}])
    stub.CreateTask(pb.CreateTaskRequest(request_id="sp-c1", project_id="sp-more", name="前期", start="2026-12-01",
                                         duration_days=1), timeout=10)
    stub.SaveBaseline(pb.SaveBaselineRequest(request_id="sp-b1", project_id="sp-more", name="初稿"), timeout=10)
    assert plan_of(stub, "sp-more") == (2, 1)
    applied = apply(stub, "sp-more", "sp-more")
    assert (applied.created, applied.baseline_number) == (1, 2)
    assert plan_of(stub, "sp-more") == (4, 2)
    assert [e.kind for e in evaluate(stub, "sp-more").events] == ["task.created"] * 2


def test_a_template_linking_to_a_later_task_stores_nothing(stub: pb_grpc.TasksServiceStub) -> None:
    """Today's behaviour, kept: the links are written task by task, so a link to a task listed
    later is refused by the foreign key and the whole call rolls back."""
    put_template(stub, "sp-fwd", [{"key": "b", "name": "实施", "depends_on": [{"key": "a"}]},
                                  {"key": "a", "name": "方案设计"}])
    with pytest.raises(grpc.RpcError):
        apply(stub, "sp-fwd", "sp-fwd")
    assert list(stub.ListTasks(pb.ListTasksRequest(project_id="sp-fwd"), timeout=10).tasks) == []
    assert plan_of(stub, "sp-fwd") == (0, 0)
    assert list(evaluate(stub, "sp-fwd").events) == []


def test_the_plan_lock_creates_then_bumps_the_row(make_db_url: Callable[[str], str]) -> None:
    url = make_db_url("tasks")
    upgrade("tasks", url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            assert bump_plan(conn, project_id="sp-lock", now=NOW) == (1, 0)
            assert bump_plan(conn, project_id="sp-lock", now=NOW, baseline=True) == (2, 1)
            assert bump_plan(conn, project_id="sp-new", now=NOW, baseline=True) == (1, 1)
        later = datetime(2026, 12, 1, tzinfo=UTC)
        with engine.begin() as conn:
            assert bump_plan(conn, project_id="sp-lock", now=later) == (3, 1)
            row = conn.execute(sa.select(PLANS.c.version, PLANS.c.baseline_no, PLANS.c.budget, PLANS.c.updated_at)
                               .where(PLANS.c.project_id == "sp-lock")).one()
        updated = row[3] if row[3].tzinfo else row[3].replace(tzinfo=UTC)
        assert (row[0], row[1], row[2], updated) == (3, 1, None, later)
    finally:
        engine.dispose()
