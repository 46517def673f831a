"""The company calendar over real gRPC: stored by the approval service, counted by its SLAs and,
read over gRPC, by the tasks service's execution rules — only by the evaluations that have working
time to count (GetCalendar counted on the real approval server's gRPC metrics)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.protobuf import struct_pb2
from prometheus_client import REGISTRY

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.tasks.v1 import tasks_service_pb2 as tpb
from baobei.tasks.v1 import tasks_service_pb2_grpc as tpb_grpc
from baobei.workcalendar import STATUTORY, Override, WorkingCalendar
from tests.conftest import StartService, running_service
from tests.service import test_approval_service as base
from tests.service.test_approval_service import facts, fail, open_step, plan, rid, step

registry_addr = base.registry_addr
STATUTORY_ZONE = ZoneInfo("Asia/Shanghai")
SH = STATUTORY_ZONE
FRIDAY = "2026-11-27"
SUNDAY_NOON = datetime(2026, 11, 29, 12, tzinfo=SH)
TUESDAY, WEDNESDAY = datetime(2026, 12, 1, tzinfo=SH), datetime(2026, 12, 2, tzinfo=SH)


def calendar_reads() -> float:
    """GetCalendar calls the approval servers of this process answered (their gRPC interceptor)."""
    labels = {"grpc_service": "baobei.approval.v1.ApprovalService", "grpc_method": "GetCalendar", "grpc_code": "OK"}
    return REGISTRY.get_sample_value("baobei_grpc_server_handled_total", labels) or 0.0


def task(tasks: tpb_grpc.TasksServiceStub, pid: str, due: str = "") -> None:
    tasks.CreateTask(tpb.CreateTaskRequest(request_id=rid(), project_id=pid, name="现场勘查", assignee_id="alice",
                                           due=due), timeout=10)


def evaluate_at(tasks: tpb_grpc.TasksServiceStub, pid: str, now: datetime) -> tpb.EvaluateRulesResponse:
    req = tpb.EvaluateRulesRequest(project_id=pid, owner_id="owner", project_amount="1000")
    req.now.FromDatetime(now.astimezone(UTC))
    resp: tpb.EvaluateRulesResponse = tasks.EvaluateRules(req, timeout=10)
    return resp


def wake(resp: tpb.EvaluateRulesResponse) -> datetime | None:
    return resp.next_wake.ToDatetime(tzinfo=UTC) if resp.HasField("next_wake") else None


@pytest.fixture(scope="module")
def approval(start_module_service: StartService, registry_addr: str) -> tuple[pb_grpc.ApprovalServiceStub, str]:
    service = start_module_service("approval", registry_addr=registry_addr)
    return pb_grpc.ApprovalServiceStub(service.channel), service.addr


def put(stub: pb_grpc.ApprovalServiceStub, *days: tuple[str, str, str], year: int = 0) -> pb.PutCalendarResponse:
    items = [pb.CalendarOverride(date=d, kind=k, name=n) for d, k, n in days]
    return stub.PutCalendar(pb.PutCalendarRequest(year=year, overrides=items, actor_id="admin"), timeout=10)


def test_put_get_by_year_and_validation(approval: tuple[pb_grpc.ApprovalServiceStub, str]) -> None:
    stub, _ = approval
    put(stub, ("2027-01-04", "holiday", "年假"), ("2026-11-28", "workday", "补班"))
    assert [(o.date, o.kind, o.name) for o in stub.GetCalendar(pb.GetCalendarRequest(), timeout=10).overrides] == [
        ("2026-11-28", "workday", "补班"), ("2027-01-04", "holiday", "年假")]
    # Replacing one year leaves the others alone.
    put(stub, ("2027-02-01", "holiday", "司庆"), year=2027)
    got = stub.GetCalendar(pb.GetCalendarRequest(year=2027), timeout=10).overrides
    assert [o.date for o in got] == ["2027-02-01"]
    assert len(stub.GetCalendar(pb.GetCalendarRequest(), timeout=10).overrides) == 2
    code, _, fields = fail(lambda: put(stub, ("2027-03-01", "holiday", ""), ("2026-12-01", "holiday", ""), year=2027))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and list(fields) == ["overrides[1].date"]
    code, _, fields = fail(lambda: put(stub, ("2027-03-01", "off", ""), ("2027-13-01", "holiday", "")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and sorted(fields) == ["overrides[0].kind", "overrides[1].date"]
    put(stub)  # clear
    assert list(stub.GetCalendar(pb.GetCalendarRequest(), timeout=10).overrides) == []


def test_company_holidays_move_an_sla_due(approval: tuple[pb_grpc.ApprovalServiceStub, str]) -> None:
    """The step opens on the server's clock: the ten days from today are declared company
    holidays, so the 8wh due falls after them whatever day the test runs on."""
    stub, _ = approval
    today = datetime.now(UTC).astimezone(STATUTORY_ZONE).date()
    days = [today + timedelta(days=i) for i in range(-1, 10)]
    put(stub, *[(d.isoformat(), "holiday", "停工") for d in days])
    try:
        stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key="cal-sla", form_key="cal-sla",
                                           steps=[step("经理", user="lead", sla="8wh")]), timeout=10)
        f = facts("cal-sla")
        planned = plan(stub, f)
        opened = open_step(stub, planned.instance_id, 0)
        opened_at = opened.step.opened_at.ToDatetime(tzinfo=UTC)
        due = opened.due_at.ToDatetime(tzinfo=UTC)
        company = WorkingCalendar([Override(d, "holiday", "停工") for d in days])
        assert due == company.add_duration(opened_at, "8wh")
        assert due.astimezone(STATUTORY_ZONE).date() > days[-1]
        statutory_due = STATUTORY.add_duration(opened_at, "8wh")
        assert statutory_due is not None and due > statutory_due
        assert opened.tasks[0].due_at.ToDatetime(tzinfo=UTC) == due
        # A later change of the calendar does not move a step already open (its timers are what
        # the workflow sleeps on): the calendar was frozen at the opening.
        put(stub)
        inst = stub.GetInstance(pb.GetInstanceRequest(project_id=f.project_id), timeout=10).instance
        assert inst.steps[0].due_at.ToDatetime(tzinfo=UTC) == due
        again = open_step(stub, planned.instance_id, 0)  # a retried OpenStep answers the same
        assert again.due_at.ToDatetime(tzinfo=UTC) == due
        assert [t.at for t in again.timers] == [t.at for t in opened.timers]
    finally:
        put(stub)


def test_execution_rules_count_the_company_calendar(
    approval: tuple[pb_grpc.ApprovalServiceStub, str], start_service: StartService
) -> None:
    """A task due Friday 2026-11-27: "overdue 24h" waits for Tuesday 00:00 statutorily; with
    Monday a company holiday, for Wednesday. The tasks service reads the calendar per evaluation."""
    stub, addr = approval
    tasks = tpb_grpc.TasksServiceStub(start_service("tasks", approval_addr=addr).channel)
    pid = f"p-{rid()[:8]}"
    tasks.CreateTask(tpb.CreateTaskRequest(request_id=rid(), project_id=pid, name="现场勘查", assignee_id="alice",
                                           due="2026-11-27"), timeout=10)

    def evaluate(now: datetime) -> tpb.EvaluateRulesResponse:
        return evaluate_at(tasks, pid, now)

    sh = STATUTORY_ZONE
    sunday = datetime(2026, 11, 29, 12, tzinfo=sh)
    put(stub)
    assert evaluate(sunday).next_wake.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 1, tzinfo=sh)
    put(stub, (date(2026, 11, 30).isoformat(), "holiday", "司庆"))
    try:
        resp = evaluate(datetime(2026, 12, 1, 12, tzinfo=sh))
        assert list(resp.fires) == []
        assert resp.next_wake.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 2, tzinfo=sh)
        assert [f.rule_key for f in evaluate(datetime(2026, 12, 2, 0, 1, tzinfo=sh)).fires] == ["task-overdue-24h"]
    finally:
        put(stub)


def test_tasks_without_an_approval_peer_count_the_statutory_calendar(start_service: StartService) -> None:
    tasks = tpb_grpc.TasksServiceStub(start_service("tasks").channel)
    pid = f"p-{rid()[:8]}"
    tasks.CreateTask(tpb.CreateTaskRequest(request_id=rid(), project_id=pid, name="x", due="2026-11-27"), timeout=10)
    req = tpb.EvaluateRulesRequest(project_id=pid, owner_id="owner", project_amount="1000")
    req.now.FromDatetime(datetime(2026, 11, 29, 4, tzinfo=UTC))
    got = tasks.EvaluateRules(req, timeout=10).next_wake.ToDatetime(tzinfo=UTC)
    assert got == datetime(2026, 12, 1, tzinfo=STATUTORY_ZONE)


def test_the_calendar_is_read_only_when_working_time_counts(
    approval: tuple[pb_grpc.ApprovalServiceStub, str], start_service: StartService
) -> None:
    """No read for an evaluation without an offset to count in working time (a new project
    without a template on StartPlan's path, tasks without due dates, a rule at the due date
    itself); one read per evaluation that has one, whatever the number of tasks, with the
    company's override honoured and an administrator's change seen by the next evaluation."""
    stub, addr = approval
    tasks = tpb_grpc.TasksServiceStub(start_service("tasks", approval_addr=addr).channel)
    put(stub, ("2026-11-30", "holiday", "司庆"))
    try:
        before = calendar_reads()
        # StartPlan for a project without a template: ApplyTemplate with the approval baseline,
        # then the first evaluation from cursor 0.
        new = f"p-{rid()[:8]}"
        applied = tasks.ApplyTemplate(tpb.ApplyTemplateRequest(
            request_id=f"{new}:template", project_id=new, business_line="no-such-line", start="2026-12-01",
            owner_id="owner", baseline_name="审批基线"), timeout=10)
        assert (applied.created, applied.baseline_number) == (0, 1)
        first = evaluate_at(tasks, new, SUNDAY_NOON)
        assert (list(first.fires), wake(first), list(first.errors)) == ([], None, [])
        undated = f"p-{rid()[:8]}"
        task(tasks, undated)
        resp = evaluate_at(tasks, undated, SUNDAY_NOON)
        assert (list(resp.fires), wake(resp), len(resp.events)) == ([], None, 1)
        assert calendar_reads() == before

        dated = f"p-{rid()[:8]}"
        task(tasks, dated, FRIDAY)
        task(tasks, dated, FRIDAY)
        resp = evaluate_at(tasks, dated, SUNDAY_NOON)
        assert (list(resp.fires), wake(resp)) == ([], WEDNESDAY)  # Monday off: "overdue 24h" on Wednesday
        assert calendar_reads() == before + 1  # once for both tasks
        put(stub)  # the administrator drops the holiday: the next evaluation reads it afresh
        assert wake(evaluate_at(tasks, dated, SUNDAY_NOON)) == TUESDAY
        assert calendar_reads() == before + 2

        # Rules without working time to count: the overdue rule off, one at the due date itself.
        def put_rule(key: str, trigger: dict[str, str], enabled: bool = True) -> None:
            body = struct_pb2.Struct()
            body.update({"name": key, "trigger": trigger, "enabled": enabled,
                         "actions": [{"type": "notify", "to": ["assignee"]}]})
            tasks.PutRule(tpb.PutRuleRequest(request_id=rid(), key=key, body=body), timeout=10)

        put_rule("task-overdue-24h", {"type": "overdue", "after": "24h"}, enabled=False)
        put_rule("at-due", {"type": "overdue", "after": "0h"})
        resp = evaluate_at(tasks, dated, SUNDAY_NOON)
        assert sorted(f.rule_key for f in resp.fires) == ["at-due", "at-due"] and wake(resp) is None
        assert calendar_reads() == before + 2
    finally:
        put(stub)


def test_approval_down_fails_only_the_evaluations_that_need_the_calendar(
    make_db_url: Callable[[str], str], start_service: StartService
) -> None:
    """With the approval service down an evaluation without working time to count answers as
    before; one with it is UNAVAILABLE (the execution activity retries) and succeeds once
    approval is back."""
    with running_service("approval", make_db_url=make_db_url) as approval:
        tasks = tpb_grpc.TasksServiceStub(start_service("tasks", approval_addr=approval.addr).channel)
        undated, dated = f"p-{rid()[:8]}", f"p-{rid()[:8]}"
        task(tasks, undated)
        task(tasks, dated, FRIDAY)
        assert wake(evaluate_at(tasks, dated, SUNDAY_NOON)) == TUESDAY  # the calendar read works
    # approval stopped
    resp = evaluate_at(tasks, undated, SUNDAY_NOON)
    assert (list(resp.fires), wake(resp), resp.last_seq > 0) == ([], None, True)
    with pytest.raises(grpc.RpcError) as err:
        evaluate_at(tasks, dated, SUNDAY_NOON)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "GetCalendar" in (err.value.details() or "")
    with running_service("approval", db_url=approval.db_url, port=approval.port):
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while True:  # as the activity retries, until the channel has reconnected
            try:
                retried = evaluate_at(tasks, dated, SUNDAY_NOON)
                break
            except grpc.RpcError as again:
                assert again.code() == grpc.StatusCode.UNAVAILABLE and datetime.now(UTC) < deadline
                time.sleep(0.2)
        assert (wake(retried), retried.last_seq > 0, list(retried.fires)) == (TUESDAY, True, [])
