"""The company calendar over real gRPC: stored by the approval service, counted by its SLAs and,
read over gRPC, by the tasks service's execution rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.tasks.v1 import tasks_service_pb2 as tpb
from baobei.tasks.v1 import tasks_service_pb2_grpc as tpb_grpc
from baobei.workcalendar import STATUTORY, Override, WorkingCalendar
from tests.conftest import StartService
from tests.service import test_approval_service as base
from tests.service.test_approval_service import facts, fail, open_step, plan, rid, step

registry_addr = base.registry_addr
STATUTORY_ZONE = ZoneInfo("Asia/Shanghai")


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
        req = tpb.EvaluateRulesRequest(project_id=pid, owner_id="owner", project_amount="1000")
        req.now.FromDatetime(now.astimezone(UTC))
        return tasks.EvaluateRules(req, timeout=10)

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
