"""The execution workflow on the time-skipping server with the company calendar: an admin's
company holiday (stored by the approval service, read by the tasks service at each evaluation)
moves when "overdue 24h" fires; the workflow only sleeps until the instant the service computed.
The dates are chosen from the server's clock (the next Friday followed by a statutory weekend),
so the test holds whatever day it runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import grpc
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1 import approval_service_pb2_grpc as apb_grpc
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from baobei.workcalendar import STATUTORY, Override, WorkingCalendar
from services.tasks.rules import due_end
from tests.conftest import StartService
from tests.workflows.test_execution import Sink, shanghai_today, start
from workflows.activities.tasks import TasksActivities
from workflows.execution import ProjectExecution

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture()
def services(start_service: StartService) -> tuple[str, apb_grpc.ApprovalServiceStub]:
    approval = start_service("approval")
    tasks = start_service("tasks", approval_addr=approval.addr)
    return tasks.addr, apb_grpc.ApprovalServiceStub(approval.channel)


@pytest_asyncio.fixture(loop_scope="module")
async def worker(
    env: WorkflowEnvironment, services: tuple[str, apb_grpc.ApprovalServiceStub]
) -> AsyncIterator[tuple[Sink, pb_grpc.TasksServiceStub, apb_grpc.ApprovalServiceStub, str]]:
    tasks_addr, approval = services
    sink = Sink()
    channel = grpc.aio.insecure_channel(tasks_addr)
    tasks = TasksActivities(pb_grpc.TasksServiceStub(channel))
    queue = f"exec-cal-{uuid.uuid4().hex[:8]}"
    sync = grpc.insecure_channel(tasks_addr)
    async with Worker(env.client, task_queue=queue, workflows=[ProjectExecution], activities=[
        sink.send, sink.ingest, sink.ingest_events, sink.resolve, sink.protection,
        tasks.apply_template, tasks.start_plan, tasks.save_baseline, tasks.evaluate_rules, tasks.record_fire,
    ]):
        yield sink, pb_grpc.TasksServiceStub(sync), approval, queue
    await channel.close()
    sync.close()


def next_friday_before_a_weekend(after: date) -> date:
    day = after + timedelta(days=1)
    while not (day.weekday() == 4 and STATUTORY.is_workday(day + timedelta(days=3))
               and not STATUTORY.is_workday(day + timedelta(days=1))
               and not STATUTORY.is_workday(day + timedelta(days=2))):
        day += timedelta(days=1)
    return day


async def test_overdue_waits_over_the_weekend_and_a_company_holiday(
    env: WorkflowEnvironment, worker: tuple[Sink, pb_grpc.TasksServiceStub, apb_grpc.ApprovalServiceStub, str]
) -> None:
    sink, stub, approval, queue = worker
    pid = f"p-{uuid.uuid4().hex[:6]}"
    due = next_friday_before_a_weekend(shanghai_today(await env.get_current_time()))
    monday = due + timedelta(days=3)
    approval.PutCalendar(apb.PutCalendarRequest(
        overrides=[apb.CalendarOverride(date=monday.isoformat(), kind="holiday", name="司庆")], actor_id="admin"),
        timeout=10)
    stub.CreateTask(pb.CreateTaskRequest(request_id=f"{pid}-t", project_id=pid, name="现场勘查", assignee_id="alice",
                                         due=due.isoformat()), timeout=10)
    statutory_fire = STATUTORY.shift_working_hours(due_end(due), timedelta(hours=24))
    company_fire = WorkingCalendar([Override(monday, "holiday")]).shift_working_hours(due_end(due), timedelta(hours=24))
    assert statutory_fire >= due_end(due) + timedelta(days=3)  # the weekend does not count
    assert company_fire >= statutory_fire + timedelta(days=1)  # nor does the company holiday
    await start(env, queue, pid, apply_template=False)
    # Past the end of the statutory Monday, and an hour before the company calendar's instant: nothing.
    await env.sleep(company_fire - await env.get_current_time() - timedelta(hours=1))
    assert not [k for k in sink.sent if f"execution-{pid}:fire:" in k]
    await env.sleep(timedelta(hours=2))
    fired = [s for k, s in sink.sent.items() if f"execution-{pid}:fire:" in k]
    assert len(fired) == 1 and sorted(fired[0].recipient_ids) == ["alice", "owner"], sink.sent
    fires = stub.ListFires(pb.ListFiresRequest(project_id=pid), timeout=10).fires
    assert [f.rule_key for f in fires] == ["task-overdue-24h"]
