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
from baobei.core.grpc_client import read_failure
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


def rules_request(pid: str, after: int = 0, **kw: str) -> pb.EvaluateRulesRequest:
    req = pb.EvaluateRulesRequest(project_id=pid, after_seq=after, owner_id="own", project_name="园区",
                                  project_amount="1000")
    req.MergeFrom(pb.EvaluateRulesRequest(**kw))
    req.now.FromDatetime(NOW)
    return req


def apply_evaluating(stub: pb_grpc.TasksServiceStub, pid: str, bl: str, evaluate: pb.EvaluateRulesRequest,
                     request_id: str = "") -> pb.ApplyTemplateResponse:
    """StartPlan's one call: the template with its approval baseline, then the rules evaluated."""
    return stub.ApplyTemplate(pb.ApplyTemplateRequest(
        request_id=request_id or f"{pid}:template", project_id=pid, business_line=bl, start="2026-12-01",
        owner_id="own", baseline_name="审批基线", evaluate=evaluate), timeout=10)


def invalid_fields(call: Callable[[], object]) -> list[str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    failure = read_failure(info.value)
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "validation_failed")
    return [v.field for v in failure.violations]


def test_apply_with_evaluate_answers_as_apply_then_evaluate_in_one_call(stub: pb_grpc.TasksServiceStub) -> None:
    put_template(stub, "sp-one", [{"key": "a", "name": "方案设计", "duration_days": 3},
                                  {"key": "b", "name": "实施", "duration_days": 2, "depends_on": [{"key": "a"}]}])
    for pid in ("sp-one-a", "sp-one-b"):  # an overdue task (fires) and one due later (next wake) beforehand
        stub.CreateTask(pb.CreateTaskRequest(request_id=f"{pid}-late", project_id=pid, name="前期",
                                             assignee_id="alice", due="2026-11-20"), timeout=10)
        stub.CreateTask(pb.CreateTaskRequest(request_id=f"{pid}-soon", project_id=pid, name="勘查",
                                             assignee_id="bob", due="2026-12-20"), timeout=10)
    # The two calls StartPlan made before, on one project; the one call on its twin.
    two = apply(stub, "sp-one-a", "sp-one"), evaluate(stub, "sp-one-a")
    one = apply_evaluating(stub, "sp-one-b", "sp-one", rules_request("sp-one-b"))
    assert one.HasField("evaluation") and not two[0].HasField("evaluation")
    assert (one.created, one.template_version, one.baseline_number) == (
        two[0].created, two[0].template_version, two[0].baseline_number) == (2, 1, 1)
    assert plan_of(stub, "sp-one-b") == plan_of(stub, "sp-one-a") == (4, 1)

    def shape(r: pb.EvaluateRulesResponse) -> object:  # the same but for ids and sequence numbers
        return ([(f.rule_key, f.title, f.body, list(f.recipients.user_ids)) for f in r.fires], r.next_wake,
                [(e.kind, json_format.MessageToDict(e.payload)["name"]) for e in r.events], list(r.errors))

    assert shape(one.evaluation) == shape(two[1])
    assert [f.rule_key for f in one.evaluation.fires] == ["task-overdue-24h"] and one.evaluation.HasField("next_wake")
    assert [e.kind for e in one.evaluation.events] == ["task.created"] * 4
    assert one.evaluation.last_seq == one.evaluation.events[-1].seq
    # Exactly what EvaluateRules answers for the same request (it reads only).
    assert one.evaluation == stub.EvaluateRules(rules_request("sp-one-b"), timeout=10)
    # The embedded request is the whole EvaluateRules request: cursor and protection too.
    until = rules_request("sp-one-b", after=one.evaluation.events[1].seq)
    until.protection_until.FromDatetime(datetime(2026, 12, 3, tzinfo=UTC))
    again = apply_evaluating(stub, "sp-one-b", "sp-one", until)
    assert again.evaluation == stub.EvaluateRules(until, timeout=10)
    assert [e.seq for e in again.evaluation.events] == [e.seq for e in one.evaluation.events[2:]]


def test_a_retry_gets_the_stored_apply_answer_and_a_fresh_evaluation(stub: pb_grpc.TasksServiceStub) -> None:
    put_template(stub, "sp-retry", [{"key": "a", "name": "方案设计", "duration_days": 3}])
    # The first attempt by older code (ApplyTemplate alone), retried by the new one under its request id.
    first = apply(stub, "sp-retry", "sp-retry")
    assert (first.created, first.baseline_number) == (1, 1)
    retried = apply_evaluating(stub, "sp-retry", "sp-retry", rules_request("sp-retry"))
    assert (retried.created, retried.template_version, retried.baseline_number) == (1, 1, 1)
    assert [e.kind for e in retried.evaluation.events] == ["task.created"]
    # A change after the first attempt: the next retry still gets the stored apply answer (no second
    # set of tasks, no second baseline), and an evaluation that sees the change.
    stub.CreateTask(pb.CreateTaskRequest(request_id="sp-retry-late", project_id="sp-retry", name="补充",
                                         assignee_id="alice", due="2026-11-20"), timeout=10)
    fresh = apply_evaluating(stub, "sp-retry", "sp-retry", rules_request("sp-retry"))
    fresh_answer = pb.ApplyTemplateResponse()
    fresh_answer.CopyFrom(fresh)
    fresh_answer.ClearField("evaluation")
    assert fresh_answer == first
    assert [e.kind for e in fresh.evaluation.events] == ["task.created"] * 2
    assert [f.rule_key for f in fresh.evaluation.fires] == ["task-overdue-24h"]
    assert fresh.evaluation == stub.EvaluateRules(rules_request("sp-retry"), timeout=10)
    assert len(stub.ListTasks(pb.ListTasksRequest(project_id="sp-retry"), timeout=10).tasks) == 2
    assert plan_of(stub, "sp-retry") == (3, 1)
    # Without ``evaluate`` the stored answer comes back as it was stored: no evaluation in it.
    assert apply(stub, "sp-retry", "sp-retry") == first


def test_a_bad_evaluate_request_is_refused_by_field_before_anything_is_applied(
    stub: pb_grpc.TasksServiceStub,
) -> None:
    put_template(stub, "sp-bad", [{"key": "a", "name": "方案设计", "duration_days": 3}])
    no_project = rules_request("sp-bad")
    no_project.project_id = " "
    assert invalid_fields(lambda: apply_evaluating(stub, "sp-bad", "sp-bad", no_project)) == ["evaluate.project_id"]
    bad_amount = rules_request("sp-bad", project_amount="-5")
    assert invalid_fields(lambda: apply_evaluating(stub, "sp-bad", "sp-bad", bad_amount)) == [
        "evaluate.project_amount"]
    # The apply's own fields keep their names; a plain EvaluateRules its unprefixed ones.
    bad_start = pb.ApplyTemplateRequest(request_id="sp-bad:template", project_id="sp-bad", business_line="sp-bad",
                                        start="2026-13-01", evaluate=rules_request("sp-bad"))
    assert invalid_fields(lambda: stub.ApplyTemplate(bad_start, timeout=10)) == ["start"]
    assert invalid_fields(lambda: stub.EvaluateRules(bad_amount, timeout=10)) == ["project_amount"]
    # Nothing was applied, and the request id was not remembered: the corrected call applies.
    assert list(stub.ListTasks(pb.ListTasksRequest(project_id="sp-bad"), timeout=10).tasks) == []
    assert plan_of(stub, "sp-bad") == (0, 0)
    fixed = apply_evaluating(stub, "sp-bad", "sp-bad", rules_request("sp-bad"))
    assert (fixed.created, fixed.baseline_number, len(fixed.evaluation.events)) == (1, 1, 1)
