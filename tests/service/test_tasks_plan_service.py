"""The tasks service's plan RPCs over a real gRPC channel (SQLite, or PostgreSQL with
BAOBEI_TEST_PG_URL): FS/SS/FF/SF links with lag and leads, a cycle refused naming it with nothing
stored, successors moving, the CPM schedule and its Gantt, baselines and structured delay reasons,
costs against the budget, rules (validation, versions, evaluation incl. budget share and
protection expiring, fires recorded once), optimistic versions under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2

from baobei.core.grpc_client import read_failure
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from tests.conftest import StartService

FS, SS, FF, SF = pb.DEPENDENCY_TYPE_FS, pb.DEPENDENCY_TYPE_SS, pb.DEPENDENCY_TYPE_FF, pb.DEPENDENCY_TYPE_SF
TODAY = "2026-11-30"  # before the plan: nothing is pushed by "today"


@pytest.fixture()
def stub(start_service: StartService) -> pb_grpc.TasksServiceStub:
    return pb_grpc.TasksServiceStub(start_service("tasks").channel)


_n = iter(range(1_000_000))


def create(stub: pb_grpc.TasksServiceStub, pid: str, name: str, **kw: Any) -> pb.Task:
    req = pb.CreateTaskRequest(request_id=f"c{next(_n)}", project_id=pid, name=name, **kw)
    return stub.CreateTask(req, timeout=10).task


def update(stub: pb_grpc.TasksServiceStub, task_id: str, **kw: Any) -> pb.Task:
    return stub.UpdateTask(pb.UpdateTaskRequest(request_id=f"u{next(_n)}", task_id=task_id, **kw), timeout=10).task


def failure(fn: Callable[[], Any]) -> Any:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    return read_failure(err.value)


def schedule(stub: pb_grpc.TasksServiceStub, pid: str, **kw: Any) -> pb.GetScheduleResponse:
    return stub.GetSchedule(pb.GetScheduleRequest(project_id=pid, today=TODAY, **kw), timeout=10)


def dates(s: pb.GetScheduleResponse) -> dict[str, tuple[str, str]]:
    return {t.name: (t.start, t.finish) for t in s.tasks}


def plan(stub: pb_grpc.TasksServiceStub, pid: str) -> dict[str, pb.Task]:
    """方案 (Tue 12-01, 3 d) → FS+1 实施 (2 d); SS+1 文档; FF−1 联调 from 实施; SF+2 培训 from 方案."""
    a = create(stub, pid, "方案", start="2026-12-01", duration_days=3, assignee_id="alice")
    b = create(stub, pid, "实施", duration_days=2, depends_on=[pb.Dependency(task_id=a.id, type=FS, lag_days=1)])
    c = create(stub, pid, "文档", duration_days=1, depends_on=[pb.Dependency(task_id=a.id, type=SS, lag_days=1)])
    d = create(stub, pid, "联调", duration_days=2, depends_on=[pb.Dependency(task_id=b.id, type=FF, lag_days=-1)])
    e = create(stub, pid, "培训", duration_days=1, depends_on=[pb.Dependency(task_id=a.id, type=SF, lag_days=2)])
    return {t.name: t for t in (a, b, c, d, e)}


def test_link_types_lag_cycle_and_successors_moving(stub: pb_grpc.TasksServiceStub) -> None:
    tasks = plan(stub, "pp1")
    s = schedule(stub, "pp1")
    assert dates(s) == {
        "方案": ("2026-12-01", "2026-12-03"),
        "实施": ("2026-12-07", "2026-12-08"),  # FS + 1 working day (the weekend skipped)
        "文档": ("2026-12-02", "2026-12-02"),  # SS + 1
        "联调": ("2026-12-04", "2026-12-07"),  # FF − 1: finishes a day before 实施
        "培训": ("2026-12-02", "2026-12-02"),  # SF + 2: finishes no earlier than 方案's start + 2
    }
    rows = {t.name: t for t in s.tasks}
    assert s.finish == "2026-12-08" and s.duration_days == 6
    assert rows["方案"].critical and rows["实施"].critical and not rows["文档"].critical
    assert rows["文档"].slack_days == 4 and rows["联调"].slack_days == 1
    assert list(s.critical_path) == [tasks["方案"].id, tasks["实施"].id]
    svg = schedule(stub, "pp1", format="svg", title="计划").svg
    assert svg.startswith("<") and "<svg" in svg and "联调" in svg

    # A cycle is refused naming it, and nothing changes.
    f = failure(
        lambda: update(
            stub,
            tasks["方案"].id,
            replace_depends_on=True,
            depends_on=[pb.Dependency(task_id=tasks["联调"].id, type=FS)],
        )
    )
    assert f.code == grpc.StatusCode.INVALID_ARGUMENT and [v.field for v in f.violations] == ["depends_on"]
    assert "循环" in f.violations[0].zh and "方案" in f.violations[0].zh and "联调" in f.violations[0].zh
    assert not stub.GetTask(pb.GetTaskRequest(task_id=tasks["方案"].id), timeout=10).task.depends_on
    # A dependency on another project's task is refused with its path.
    other = create(stub, "pp-other", "别的项目")
    f = failure(lambda: create(stub, "pp1", "x", depends_on=[pb.Dependency(task_id=other.id, type=FS)]))
    assert [v.field for v in f.violations] == ["depends_on[0].task_id"]

    # Slipping the first task moves its successors; a pinned task stays.
    update(stub, tasks["文档"].id, pinned=True, start="2026-12-02")
    update(stub, tasks["方案"].id, duration_days=5)
    moved = dates(schedule(stub, "pp1"))
    assert moved["方案"] == ("2026-12-01", "2026-12-07")
    assert moved["实施"] == ("2026-12-09", "2026-12-10") and moved["联调"] == ("2026-12-08", "2026-12-09")
    assert moved["文档"] == ("2026-12-02", "2026-12-02")


def test_baseline_variance_and_delay_reasons(stub: pb_grpc.TasksServiceStub) -> None:
    tasks = plan(stub, "pp2")
    saved = stub.SaveBaseline(pb.SaveBaselineRequest(request_id="bl-1", project_id="pp2", name="审批基线"), timeout=10)
    assert (saved.number, saved.tasks) == (1, 5)
    again = stub.SaveBaseline(pb.SaveBaselineRequest(request_id="bl-1", project_id="pp2"), timeout=10)
    assert again.number == 1  # idempotent on request_id
    reasons = [pb.DelayReason(code="customer", label="客户原因"), pb.DelayReason(code="resource", label="资源不足")]
    stub.PutDelayReasons(pb.PutDelayReasonsRequest(request_id="dr", reasons=reasons), timeout=10)

    impl = tasks["实施"]
    f = failure(lambda: update(stub, impl.id, duration_days=4))
    assert [v.field for v in f.violations] == ["delay_reason"] and "基线" in f.violations[0].zh
    assert stub.GetTask(pb.GetTaskRequest(task_id=impl.id), timeout=10).task.duration_days == 2  # nothing stored
    f = failure(lambda: update(stub, impl.id, duration_days=4, delay_reason="weather"))
    assert [v.field for v in f.violations] == ["delay_reason"]
    update(stub, impl.id, duration_days=4, delay_reason="customer")
    s = schedule(stub, "pp2")
    row = {t.name: t for t in s.tasks}["实施"]
    assert (row.baseline_finish, row.finish) == ("2026-12-08", "2026-12-10")
    assert row.finish_variance_days == 2 and row.delay_reason == "customer" and not row.delay_reason_missing
    assert s.baseline_number == 1 and s.baseline_finish == "2026-12-08" and s.finish == "2026-12-10"
    # A successor pushed past its baseline by someone else's slip is flagged, not refused.
    assert {t.name: t for t in s.tasks}["联调"].delay_reason_missing


def test_costs_against_the_budget(stub: pb_grpc.TasksServiceStub) -> None:
    tasks = plan(stub, "pp3")

    def add(rid: str, **kw: Any) -> pb.CostEntry:
        return stub.AddCost(pb.AddCostRequest(request_id=rid, project_id="pp3", **kw), timeout=10).cost

    ts = add("k1", kind="timesheet", hours="7.5", rate="200.10", task_id=tasks["方案"].id, at="2026-12-01")
    assert Decimal(ts.amount) == Decimal("1500.75")
    add("k2", kind="expense", amount="300.10", task_id=tasks["方案"].id)
    add("k3", kind="purchase", amount="5000", task_id=tasks["实施"].id)
    add("k3", kind="purchase", amount="5000", task_id=tasks["实施"].id)  # a retry: stored once
    f = failure(lambda: add("k4", kind="gift", amount="-"))
    assert [v.field for v in f.violations][:1] == ["kind"]
    f = failure(lambda: add("k5", kind="timesheet", hours="8"))
    assert [v.field for v in f.violations] == ["rate"]

    costs = stub.GetCosts(pb.GetCostsRequest(project_id="pp3", project_amount="100000"), timeout=10)
    assert Decimal(costs.actual) == Decimal("6800.85") and Decimal(costs.budget) == Decimal("100000")
    assert Decimal(costs.remaining) == Decimal("93199.15") and not costs.budget_overridden
    assert {k: Decimal(v) for k, v in costs.by_kind.items()} == {
        "timesheet": Decimal("1500.75"),
        "expense": Decimal("300.10"),
        "purchase": Decimal("5000"),
    }
    by_task = {t.name: Decimal(t.actual) for t in costs.by_task}
    assert by_task["方案"] == Decimal("1800.85") and by_task["实施"] == Decimal("5000")
    stub.SetBudget(pb.SetBudgetRequest(request_id="b1", project_id="pp3", budget="5000"), timeout=10)
    costs = stub.GetCosts(pb.GetCostsRequest(project_id="pp3", project_amount="100000"), timeout=10)
    assert costs.budget_overridden and Decimal(costs.budget) == Decimal("5000")
    assert Decimal(costs.consumed_share) > 1


def _struct(body: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(body)
    return s


def test_rules_validation_versions_evaluation_and_fires_once(stub: pb_grpc.TasksServiceStub) -> None:
    assert {"task-overdue-24h", "milestone-done-downstream"} <= {
        r.key for r in stub.ListRules(pb.ListRulesRequest(), timeout=10).rules
    }
    bad = {
        "name": "x",
        "trigger": {"type": "due_soon"},
        "when": "task.status ==",
        "actions": [{"type": "webhook", "url": "ftp://x"}],
    }
    f = failure(lambda: stub.PutRule(pb.PutRuleRequest(request_id="r0", key="r-bad", body=_struct(bad)), timeout=10))
    assert [v.field for v in f.violations] == ["trigger.before", "when", "actions[0].url", "actions[0].secret"]

    budget = {
        "name": "预算过半",
        "trigger": {"type": "budget_share", "share": "0.5"},
        "when": 'project.id == "pp4"',
        "actions": [{"type": "notify", "to": ["owner", "role:finance"]}],
    }
    r1 = stub.PutRule(pb.PutRuleRequest(request_id="r1", key="budget-half", body=_struct(budget)), timeout=10).rule
    same = stub.PutRule(pb.PutRuleRequest(request_id="r1b", key="budget-half", body=_struct(budget)), timeout=10).rule
    budget["name"] = "预算已用一半"
    r2 = stub.PutRule(pb.PutRuleRequest(request_id="r2", key="budget-half", body=_struct(budget)), timeout=10).rule
    assert (r1.version, same.version, r2.version) == (1, 1, 2)
    protection = {
        "name": "保护期到期提醒",
        "trigger": {"type": "protection_expiring", "before": "3d"},
        "when": 'project.id == "pp4"',
        "actions": [{"type": "notify", "to": ["owner"]}],
    }
    stub.PutRule(pb.PutRuleRequest(request_id="r3", key="protect-3d", body=_struct(protection)), timeout=10)

    stub.AddCost(pb.AddCostRequest(request_id="c1", project_id="pp4", kind="expense", amount="600"), timeout=10)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    until = now + timedelta(days=5)

    def evaluate(at: datetime) -> pb.EvaluateRulesResponse:
        req = pb.EvaluateRulesRequest(project_id="pp4", owner_id="own", project_amount="1000", project_name="园区")
        req.now.FromDatetime(at)
        req.protection_until.FromDatetime(until)
        return stub.EvaluateRules(req, timeout=10)

    first = evaluate(now)
    assert [f.rule_key for f in first.fires] == ["budget-half"]
    assert list(first.fires[0].recipients.user_ids) == ["own"] and list(first.fires[0].recipients.roles) == ["finance"]
    assert first.next_wake.ToDatetime(tzinfo=UTC) == until - timedelta(days=3)  # the protection timer
    fire = first.fires[0]
    fire.fired_at.FromDatetime(now)
    assert stub.RecordFire(pb.RecordFireRequest(fire=fire), timeout=10).recorded
    assert not stub.RecordFire(pb.RecordFireRequest(fire=fire), timeout=10).recorded
    later = evaluate(until - timedelta(days=2))
    assert [f.rule_key for f in later.fires] == ["protect-3d"] and "保护期" in later.fires[0].title
    fires = stub.ListFires(pb.ListFiresRequest(project_id="pp4"), timeout=10).fires
    assert [f.key for f in fires] == [fire.key]


def test_optimistic_version(stub: pb_grpc.TasksServiceStub) -> None:
    task = create(stub, "pp5", "验收", duration_days=1)
    assert task.version == 1
    updated = update(stub, task.id, progress=10, expected_version=1)
    assert updated.version == 2
    f = failure(lambda: update(stub, task.id, progress=20, expected_version=1))
    assert f.code == grpc.StatusCode.FAILED_PRECONDITION and f.reason == "stale_version"
    barrier = threading.Barrier(4)

    def attempt(p: int) -> str:
        barrier.wait()
        try:
            update(stub, task.id, progress=p, expected_version=2)
            return "ok"
        except grpc.RpcError as err:
            return read_failure(err).reason

    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(attempt, (30, 40, 50, 60)))
    assert results == ["ok", "stale_version", "stale_version", "stale_version"]
    assert stub.GetTask(pb.GetTaskRequest(task_id=task.id), timeout=10).task.version == 3


def test_template_applied_with_its_baseline_in_one_call(stub: pb_grpc.TasksServiceStub) -> None:
    """ApplyTemplate with ``baseline_name`` (a newly active project's execution start): the plan
    and its approval baseline in one transaction, answered once per request id."""
    body = struct_pb2.Struct()
    body.update({"tasks": [{"key": "a", "name": "方案设计", "duration_days": 3},
                           {"key": "b", "name": "实施", "duration_days": 2, "depends_on": [{"key": "a"}]}]})
    stub.PutTemplate(pb.PutTemplateRequest(request_id="tpl-bl", business_line="bl-one", body=body), timeout=10)
    req = pb.ApplyTemplateRequest(request_id="apply-bl", project_id="pp-bl", business_line="bl-one",
                                  start="2026-12-01", baseline_name="审批基线")
    first = stub.ApplyTemplate(req, timeout=10)
    assert (first.created, first.baseline_number) == (2, 1)
    again = stub.ApplyTemplate(req, timeout=10)
    assert (again.created, again.baseline_number) == (2, 1)  # the stored answer: nothing twice
    s = schedule(stub, "pp-bl")
    assert len(s.tasks) == 2 and s.baseline_number == 1 and s.baseline_finish == s.finish
    plain = stub.ApplyTemplate(pb.ApplyTemplateRequest(request_id="apply-plain", project_id="pp-plain",
                                                       business_line="bl-one", start="2026-12-01"), timeout=10)
    assert (plain.created, plain.baseline_number) == (2, 0)
    assert schedule(stub, "pp-plain").baseline_number == 0
