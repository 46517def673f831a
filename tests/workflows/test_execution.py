"""ProjectExecution on the time-skipping server against the real tasks service (gRPC on port 0):
template applied and baseline saved on start, the overdue rule firing once from a durable timer
(not before 24 h past the due date), milestone done → downstream assignees, task events reported
once, continue-as-new cursor. Notify, reporting and recipient resolution are in-memory fakes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import struct_pb2
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from baobei.workcalendar import STATUTORY
from services.tasks.rules import due_end
from services.tasks.workdays import calendar
from tests.conftest import StartService
from tests.workflows.test_start_plan_activity import calls_since, tasks_calls
from workflows.activities.reporting import typed_event
from workflows.activities.tasks import TasksActivities
from workflows.contracts.execution import (
    EXECUTION_QUERY_STATE,
    EXECUTION_SIGNAL_CHANGED,
    EXECUTION_SIGNAL_STOP,
    EXECUTION_WORKFLOW_TYPE,
    ExecutionInput,
    ExecutionState,
    TasksChanged,
    execution_workflow_id,
)
from workflows.contracts.notify import NOTIFY_SEND, SendInput, SendResult
from workflows.contracts.reporting import (
    REPORTING_INGEST_EVENT,
    REPORTING_INGEST_EVENTS,
    ReportEventInput,
    ReportEventResult,
    ReportEventsInput,
    ReportEventsResult,
)
from workflows.contracts.tasks import (
    REGISTRY_PROTECTION_INFO,
    REGISTRY_RESOLVE_RECIPIENTS,
    ProtectionInfo,
    ProtectionInfoInput,
    ResolveRecipientsInput,
    ResolveRecipientsResult,
)
from workflows.execution import PATCH_BUNDLE as EXECUTION_PATCH_BUNDLE
from workflows.execution import ProjectExecution

SHANGHAI_OFFSET = timedelta(hours=8)
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture()
def tasks_addr(start_service: StartService) -> str:
    return start_service("tasks").addr


class Sink:
    def __init__(self) -> None:
        self.sent: dict[str, SendInput] = {}
        self.events: dict[str, ReportEventInput] = {}

    @activity.defn(name=NOTIFY_SEND)
    async def send(self, inp: SendInput) -> SendResult:
        self.sent.setdefault(inp.request_id, inp)  # idempotent on request_id, like notify
        return SendResult(notification_ids=[inp.request_id])

    @activity.defn(name=REPORTING_INGEST_EVENT)
    async def ingest(self, inp: ReportEventInput) -> ReportEventResult:
        typed_event(inp)  # what the real activity sends: every event must fit its kind's message
        applied = inp.event_id not in self.events
        self.events.setdefault(inp.event_id, inp)
        return ReportEventResult(applied=applied)

    @activity.defn(name=REPORTING_INGEST_EVENTS)
    async def ingest_events(self, inp: ReportEventsInput) -> ReportEventsResult:
        return ReportEventsResult(applied=sum([(await self.ingest(e)).applied for e in inp.events]))

    @activity.defn(name=REGISTRY_PROTECTION_INFO)
    async def protection(self, inp: ProtectionInfoInput) -> ProtectionInfo:
        return ProtectionInfo(state="none")

    @activity.defn(name=REGISTRY_RESOLVE_RECIPIENTS)
    async def resolve(self, inp: ResolveRecipientsInput) -> ResolveRecipientsResult:
        return ResolveRecipientsResult(user_ids=inp.user_ids + [f"mgr-of-{e.split(':')[0]}" for e in inp.escalate])


@pytest_asyncio.fixture(loop_scope="module")
async def stack(env: WorkflowEnvironment, tasks_addr: str) -> AsyncIterator[tuple[Sink, pb_grpc.TasksServiceStub, str]]:
    sink = Sink()
    channel = grpc.aio.insecure_channel(tasks_addr)
    tasks = TasksActivities(pb_grpc.TasksServiceStub(channel))
    queue = f"exec-{uuid.uuid4().hex[:8]}"
    sync = grpc.insecure_channel(tasks_addr)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ProjectExecution],
        activities=[
            sink.send,
            sink.ingest,
            sink.ingest_events,
            sink.resolve,
            sink.protection,
            tasks.apply_template,
            tasks.start_plan,
            tasks.save_baseline,
            tasks.evaluate_rules,
            tasks.record_fire,
        ],
    ):
        yield sink, pb_grpc.TasksServiceStub(sync), queue
    await channel.close()
    sync.close()


async def start(env: WorkflowEnvironment, queue: str, project_id: str, **kw: Any) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        EXECUTION_WORKFLOW_TYPE,
        ExecutionInput(
            project_id=project_id,
            owner_id="owner",
            name="智慧园区",
            business_line=kw.pop("bl", ""),
            amount="100000",
            **kw,
        ),
        id=execution_workflow_id(project_id),
        task_queue=queue,
        execution_timeout=timedelta(days=60),
    )


def shanghai_today(now: datetime) -> Any:
    return (now.astimezone(UTC) + SHANGHAI_OFFSET).date()


async def test_overdue_rule_fires_once_24h_after_due_and_events_are_reported(
    env: WorkflowEnvironment, stack: tuple[Sink, pb_grpc.TasksServiceStub, str]
) -> None:
    sink, stub, queue = stack
    pid = f"p-{uuid.uuid4().hex[:6]}"
    now = await env.get_current_time()
    due = shanghai_today(now) + timedelta(days=1)
    task = stub.CreateTask(
        pb.CreateTaskRequest(
            request_id=f"{pid}-t", project_id=pid, name="现场勘查", assignee_id="alice", due=due.isoformat()
        ),
        timeout=10,
    ).task
    handle = await start(env, queue, pid, apply_template=False)
    # Until 24 working-day hours after the end of the due day nothing fires (time skipping jumps
    # to the timer); days off do not count, whatever weekday the test runs on.
    fire_at = STATUTORY.shift_working_hours(due_end(due), timedelta(hours=24))
    await env.sleep(fire_at - await env.get_current_time() - timedelta(hours=1))
    assert not [k for k in sink.sent if pid in k]
    await env.sleep(timedelta(hours=2))
    fired = [s for k, s in sink.sent.items() if f"execution-{pid}:fire:" in k]
    assert len(fired) == 1, sink.sent
    assert sorted(fired[0].recipient_ids) == ["alice", "owner"]
    assert "逾期" in fired[0].title and fired[0].project_id == pid
    fires = stub.ListFires(pb.ListFiresRequest(project_id=pid), timeout=10).fires
    assert [(f.rule_key, f.task_id) for f in fires] == [("task-overdue-24h", task.id)]
    # A wake-up later does not fire it again.
    await handle.signal(EXECUTION_SIGNAL_CHANGED, TasksChanged(reason="test"))
    await env.sleep(timedelta(days=3))
    assert len([k for k in sink.sent if f"execution-{pid}:fire:" in k]) == 1
    assert len(stub.ListFires(pb.ListFiresRequest(project_id=pid), timeout=10).fires) == 1
    # The creation was reported once, with the agreed payload.
    created = [e for e in sink.events.values() if e.project_id == pid and e.type == "task.created"]
    assert len(created) == 1 and created[0].payload["task_id"] == task.id
    assert set(created[0].payload) >= {
        "task_id",
        "project_id",
        "name",
        "assignee_id",
        "status",
        "start",
        "due",
        "finish",
        "estimate_hours",
        "progress",
        "milestone",
        "baseline_finish",
        "delay_reason",
        "done_at",
    }
    await handle.signal(EXECUTION_SIGNAL_STOP)
    state = await handle.result()
    assert state["fires"] == 1 and state["stopped"]


async def test_done_before_deadline_never_fires(
    env: WorkflowEnvironment, stack: tuple[Sink, pb_grpc.TasksServiceStub, str]
) -> None:
    sink, stub, queue = stack
    pid = f"p-{uuid.uuid4().hex[:6]}"
    now = await env.get_current_time()
    due = shanghai_today(now) + timedelta(days=1)
    task = stub.CreateTask(
        pb.CreateTaskRequest(
            request_id=f"{pid}-t", project_id=pid, name="方案", assignee_id="bob", due=due.isoformat()
        ),
        timeout=10,
    ).task
    handle = await start(env, queue, pid, apply_template=False)
    stub.UpdateTask(pb.UpdateTaskRequest(request_id=f"{pid}-done", task_id=task.id, status="done"), timeout=10)
    await handle.signal(EXECUTION_SIGNAL_CHANGED, TasksChanged())
    await env.sleep(timedelta(days=5))
    assert not [k for k in sink.sent if f"execution-{pid}:fire:" in k]
    updated = [e for e in sink.events.values() if e.project_id == pid and e.type == "task.updated"]
    assert updated and updated[-1].payload["status"] == "done" and updated[-1].payload["done_at"]
    await handle.signal(EXECUTION_SIGNAL_STOP)
    await handle.result()


async def test_template_applied_on_start_and_milestone_done_notifies_downstream(
    env: WorkflowEnvironment, stack: tuple[Sink, pb_grpc.TasksServiceStub, str]
) -> None:
    sink, stub, queue = stack
    bl = f"bl-{uuid.uuid4().hex[:6]}"
    body = struct_pb2.Struct()
    body.update(
        {
            "tasks": [
                {"key": "design", "name": "方案设计", "offset_days": 0, "duration_days": 3},
                {"key": "m1", "name": "方案评审", "milestone": True, "depends_on": [{"key": "design", "type": "FS"}]},
                {
                    "key": "build",
                    "name": "实施",
                    "duration_days": 5,
                    "depends_on": [{"key": "m1", "type": "FS", "lag_days": 1}],
                },
            ]
        }
    )
    stub.PutTemplate(pb.PutTemplateRequest(request_id=f"{bl}-tpl", business_line=bl, body=body), timeout=10)
    pid = f"p-{uuid.uuid4().hex[:6]}"
    handle = await start(env, queue, pid, bl=bl)
    await env.sleep(timedelta(minutes=1))
    tasks = {t.name: t for t in stub.ListTasks(pb.ListTasksRequest(project_id=pid), timeout=10).tasks}
    assert set(tasks) == {"方案设计", "方案评审", "实施"}
    assert [(d.task_id, d.lag_days) for d in tasks["实施"].depends_on] == [(tasks["方案评审"].id, 1)]
    sched = stub.GetSchedule(pb.GetScheduleRequest(project_id=pid), timeout=10)
    assert sched.baseline_number == 1  # the approval baseline
    cal = calendar()
    rows = {t.name: t for t in sched.tasks}
    assert (
        cal.working_days(
            cal.day(0).fromisoformat(rows["方案设计"].start), cal.day(0).fromisoformat(rows["方案设计"].finish)
        )
        == 3
    )
    stub.UpdateTask(
        pb.UpdateTaskRequest(request_id=f"{pid}-a", task_id=tasks["实施"].id, assignee_id="carol"), timeout=10
    )
    stub.UpdateTask(
        pb.UpdateTaskRequest(request_id=f"{pid}-m", task_id=tasks["方案评审"].id, status="done"), timeout=10
    )
    await handle.signal(EXECUTION_SIGNAL_CHANGED, TasksChanged())
    await env.sleep(timedelta(minutes=1))
    fired = [s for k, s in sink.sent.items() if f"execution-{pid}:fire:milestone-done-downstream" in k]
    assert len(fired) == 1 and fired[0].recipient_ids == ["carol"], sink.sent.keys()
    await handle.signal(EXECUTION_SIGNAL_STOP)
    await handle.result()


async def test_template_is_anchored_at_the_registered_start_date(
    env: WorkflowEnvironment, stack: tuple[Sink, pb_grpc.TasksServiceStub, str]
) -> None:
    """The plan of a project registered with a start date counts its offsets from that date, not
    from the day the workflow runs (tests pass the date in; the clock does not matter)."""
    _, stub, queue = stack
    bl = f"bl-{uuid.uuid4().hex[:6]}"
    body = struct_pb2.Struct()
    body.update(
        {
            "tasks": [
                {"key": "survey", "name": "现场勘查", "duration_days": 2},
                {"key": "kickoff", "name": "启动会", "offset_days": 3, "milestone": True},
                {"key": "design", "name": "方案设计", "duration_days": 3, "depends_on": [{"key": "survey"}]},
            ]
        }
    )
    stub.PutTemplate(pb.PutTemplateRequest(request_id=f"{bl}-tpl", business_line=bl, body=body), timeout=10)
    pid = f"p-{uuid.uuid4().hex[:6]}"
    await start(env, queue, pid, bl=bl, start="2026-09-29")
    await env.sleep(timedelta(minutes=1))
    sched = stub.GetSchedule(pb.GetScheduleRequest(project_id=pid, today="2026-09-28"), timeout=10)
    rows = {t.name: (t.start, t.finish) for t in sched.tasks}
    # 2026-09-29 Tue; National Day holidays 10-01…10-07 (10-10 a make-up working Saturday).
    assert rows["现场勘查"] == ("2026-09-29", "2026-09-30"), rows
    assert rows["启动会"][0] == "2026-10-09", rows
    assert rows["方案设计"] == ("2026-10-08", "2026-10-10"), rows


async def test_started_knowing_protection_applies_the_template_and_first_turn_in_one_call(
    env: WorkflowEnvironment, stack: tuple[Sink, pb_grpc.TasksServiceStub, str]
) -> None:
    """Started by the lifecycle's delivery start (protection given), the template and the first
    rules turn run as one local activity (patch plan-start-in-one) making one tasks call, and the
    page of task events the template made is reported in one call (patch task-events-batch), each
    event once."""
    sink, stub, queue = stack
    bl = f"bl-{uuid.uuid4().hex[:6]}"
    body = struct_pb2.Struct()
    body.update({"tasks": [
        {"key": "survey", "name": "现场勘查", "duration_days": 2},
        {"key": "design", "name": "方案设计", "duration_days": 3, "depends_on": [{"key": "survey"}]},
    ]})
    stub.PutTemplate(pb.PutTemplateRequest(request_id=f"{bl}-tpl", business_line=bl, body=body), timeout=10)
    pid = f"p-{uuid.uuid4().hex[:6]}"
    before = tasks_calls()
    handle = await start(env, queue, pid, bl=bl, start="2026-09-29", protection=ProtectionInfo(state="none"))
    await env.sleep(timedelta(minutes=1))
    # The start's one local activity is one call to the tasks service (issue 15; two before).
    assert calls_since(before) == {"ApplyTemplate:OK": 1}
    tasks = stub.ListTasks(pb.ListTasksRequest(project_id=pid), timeout=10).tasks
    assert sorted(t.name for t in tasks) == ["方案设计", "现场勘查"]
    reported = {k: e for k, e in sink.events.items() if k.startswith(f"{pid}:task-event:")}
    assert sorted(e.type for e in reported.values()).count("task.created") == 2, reported
    state = await handle.query(EXECUTION_QUERY_STATE, result_type=ExecutionState)
    assert state.cursor == max(int(k.rsplit(":", 1)[1]) for k in reported)
    await handle.signal(EXECUTION_SIGNAL_STOP)
    await handle.result()
    types = [str(json.loads(m.details["data"].payloads[0].data).get("activity_type", ""))
             for m in (e.marker_recorded_event_attributes for e in (await handle.fetch_history()).events
                       if e.HasField("marker_recorded_event_attributes")) if "data" in m.details]
    assert types.count("tasks.StartPlan") == 1 and types.count("reporting.IngestEvents") == 1, types
    assert not {"tasks.ApplyTemplate", "tasks.EvaluateRules", "reporting.IngestEvent"} & set(types), types
    # One patch marker for the run (bundle execution-bundle-1), not one per patch.
    patches = [json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
               for e in (await handle.fetch_history()).events
               if e.HasField("marker_recorded_event_attributes")
               and e.marker_recorded_event_attributes.marker_name == "core_patch"]
    assert patches == [EXECUTION_PATCH_BUNDLE]
