"""``tasks.StartPlan`` (issue 15) against the real tasks service over gRPC, counting the calls the
service itself counts (its prometheus metrics; the service runs in this process): one call,
ApplyTemplate with ``evaluate``, where it made ApplyTemplate then EvaluateRules, with the same
result as the ``apply_template`` and ``evaluate_rules`` activities give a twin project; a retry is
one call again with the same result; against a tasks service from before ``evaluate`` (it ignores
the field) it still gets the evaluation, with a second call; a refused evaluation is a
non-retryable validation error naming ``evaluate.<field>``, and nothing is applied."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from google.protobuf import struct_pb2
from prometheus_client import REGISTRY
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from baobei.core.grpc_client import aio_channel
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from workflows.activities.tasks import TasksActivities
from workflows.contracts.errors import ERR_VALIDATION
from workflows.contracts.tasks import (
    ApplyTemplateInput,
    EvaluateRulesWithProtection,
    RuleEvaluation,
    StartPlanInput,
    StartPlanResult,
)

pytestmark = pytest.mark.asyncio
SERVICE = "baobei.tasks.v1.TasksService"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def tasks_calls() -> Counter[str]:
    """Every call the tasks service has handled in this process, as "method:code"."""
    out: Counter[str] = Counter()
    for family in REGISTRY.collect():
        for s in family.samples:
            if s.name == "baobei_grpc_server_handled_total" and s.labels.get("grpc_service") == SERVICE:
                out[f"{s.labels['grpc_method']}:{s.labels['grpc_code']}"] += int(s.value)
    return out


def calls_since(before: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in (tasks_calls() - before).items() if v}


def start_input(pid: str, bl: str) -> StartPlanInput:
    """What ProjectExecution sends when started by the delivery start (protection given, cursor 0)."""
    return StartPlanInput(
        apply=ApplyTemplateInput(request_id=f"execution-{pid}:template", project_id=pid, business_line=bl,
                                 start="2026-12-01", owner_id="own", baseline_name="审批基线"),
        evaluate=EvaluateRulesWithProtection(project_id=pid, now=NOW.isoformat(), after_seq=0, owner_id="own",
                                             project_name="园区", business_line=bl, amount="1000",
                                             protection_until="2026-12-02T00:00:00+00:00"),
    )


def shape(ev: RuleEvaluation) -> object:
    """An evaluation but for the ids and sequence numbers of its project."""
    return ([(f.rule_key, f.title, f.user_ids, f.roles) for f in ev.fires], ev.next_wake,
            [(e.kind, e.payload["name"], e.payload["start"], e.payload["due"]) for e in ev.events],
            ev.last_seq == (ev.events[-1].seq if ev.events else 0))


class OlderTasks:
    """The tasks service as it was before ``evaluate``: the field is unknown to it, never answered."""

    def __init__(self, stub: pb_grpc.TasksServiceStub) -> None:
        self._stub = stub

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub, name)

    def ApplyTemplate(self, request: pb.ApplyTemplateRequest, **kw: Any) -> Any:  # noqa: N802
        older = pb.ApplyTemplateRequest()
        older.CopyFrom(request)
        older.ClearField("evaluate")
        return self._stub.ApplyTemplate(older, **kw)


async def test_start_plan_is_one_tasks_call_with_the_result_of_two(start_service: StartService) -> None:
    svc = start_service("tasks")
    sync = pb_grpc.TasksServiceStub(svc.channel)
    body = struct_pb2.Struct()
    body.update({"tasks": [{"key": "a", "name": "方案设计", "duration_days": 3},
                           {"key": "b", "name": "实施", "duration_days": 2, "depends_on": [{"key": "a"}]}]})
    sync.PutTemplate(pb.PutTemplateRequest(request_id="tpl-act", business_line="act", body=body), timeout=10)
    pids = ("act-one", "act-two", "act-older")
    for pid in pids:  # an overdue task beforehand: the first turn fires
        sync.CreateTask(pb.CreateTaskRequest(request_id=f"{pid}-late", project_id=pid, name="前期",
                                             assignee_id="alice", due="2026-11-20"), timeout=10)
    channel = aio_channel(svc.addr)
    stub = pb_grpc.TasksServiceStub(channel)
    acts = TasksActivities(stub)
    run = ActivityEnvironment().run

    before = tasks_calls()
    one: StartPlanResult = await run(acts.start_plan, start_input("act-one", "act"))
    assert calls_since(before) == {"ApplyTemplate:OK": 1}

    # The twin the way StartPlan did it before: the two activities, two calls.
    twin = start_input("act-two", "act")
    before = tasks_calls()
    applied = await run(acts.apply_template, twin.apply)
    evaluation = await run(acts.evaluate_rules, twin.evaluate)
    assert calls_since(before) == {"ApplyTemplate:OK": 1, "EvaluateRules:OK": 1}
    assert one.applied == applied and (applied.created, applied.baseline_number) == (2, 1)
    assert shape(one.evaluation) == shape(evaluation)
    assert [f.rule_key for f in one.evaluation.fires] == ["task-overdue-24h"]
    assert [e.kind for e in one.evaluation.events] == ["task.created"] * 3

    # A retried attempt: one call, the stored apply answer, the same (fresh) evaluation.
    before = tasks_calls()
    assert await run(acts.start_plan, start_input("act-one", "act")) == one
    assert calls_since(before) == {"ApplyTemplate:OK": 1}
    assert len(sync.ListTasks(pb.ListTasksRequest(project_id="act-one"), timeout=10).tasks) == 3

    # A worker ahead of its tasks service: no evaluation in the answer, so it asks for it.
    older = TasksActivities(cast(pb_grpc.TasksServiceStub, OlderTasks(stub)))
    before = tasks_calls()
    late: StartPlanResult = await run(older.start_plan, start_input("act-older", "act"))
    assert calls_since(before) == {"ApplyTemplate:OK": 1, "EvaluateRules:OK": 1}
    assert late.applied == applied and shape(late.evaluation) == shape(one.evaluation)
    await channel.close()


async def test_a_refused_start_is_a_validation_error_naming_the_field_and_changes_nothing(
    start_service: StartService,
) -> None:
    svc = start_service("tasks")
    channel = aio_channel(svc.addr)
    acts = TasksActivities(pb_grpc.TasksServiceStub(channel))
    bad = start_input("act-bad", "act")
    bad.evaluate.amount = "abc"
    before = tasks_calls()
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(acts.start_plan, bad)
    assert (info.value.type, info.value.non_retryable) == (ERR_VALIDATION, True)
    assert [v["field"] for v in info.value.details[0]] == ["evaluate.project_amount"]
    assert calls_since(before) == {"ApplyTemplate:INVALID_ARGUMENT": 1}
    sync = pb_grpc.TasksServiceStub(svc.channel)
    assert list(sync.ListTasks(pb.ListTasksRequest(project_id="act-bad"), timeout=10).tasks) == []
    await channel.close()
