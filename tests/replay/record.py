"""Record the histories the replay tests run: ``python -m tests.replay.record [name ...]``.

Runs ProjectLifecycle with the fake activities on the time-skipping server through a few paths
(and the delivery and integration workflows with scripted activities, see ``OTHER_SCENARIOS``) and
writes each history to ``tests/replay/histories/<name>.json``. Without names it records only the
scenarios that have no history yet: a history recorded by an older version of the workflow is
what keeps later changes honest (they must be guarded by ``workflow.patched``), so never
re-record an existing one to make a failing replay pass.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.conftest import time_skipping_env
from tests.workflows.conftest import lifecycle_worker, start_lifecycle, wait_for_step
from tests.workflows.fakes import Fakes, StepSpec
from workflows.closure import ProjectClosure
from workflows.contracts.closure import CLOSURE_WORKFLOW_TYPE, ClosureInput, ClosureResult, ClosureReview
from workflows.contracts.crm import CRM_LOST_WORKFLOW_TYPE, CrmLostInput, CrmLostResult
from workflows.contracts.delivery import DELIVERY_WORKFLOW_TYPE, DeliveryBatchInput, DeliveryBatchResult, DeliveryRef
from workflows.contracts.errors import DELIVERY_PERMANENT
from workflows.contracts.execution import EXECUTION_SIGNAL_STOP, EXECUTION_WORKFLOW_TYPE, ExecutionInput, ExecutionState
from workflows.contracts.handover import ORG_HANDOVER_WORKFLOW_TYPE, HandoverInput, HandoverResult
from workflows.contracts.lifecycle import (
    UPDATE_DECIDE,
    UPDATE_REMIND,
    UPDATE_SUBMIT,
    UPDATE_WITHDRAW,
    DecisionInput,
    RemindInput,
    SubmitInput,
    WithdrawInput,
)
from workflows.contracts.lifecycle_ops import (
    LIFECYCLE_DECIDE,
    LIFECYCLE_STOP_EXECUTION,
    LIFECYCLE_WITHDRAW,
    LifecycleDecideInput,
    LifecycleOpResult,
    LifecycleWithdrawInput,
    StopExecutionInput,
    StopExecutionResult,
)
from workflows.contracts.notify import (
    NOTIFY_DEAD_LETTER,
    NOTIFY_DELIVER,
    NOTIFY_DELIVER_DIGEST,
    NOTIFY_SEND,
    DeliverInput,
    DeliverResult,
    SendInput,
    SendResult,
)
from workflows.contracts.org import (
    APPROVAL_LIST_TODOS,
    REGISTRY_GET_MANAGER_CHAIN,
    REGISTRY_HAND_OVER_PROJECTS,
    HandedOverProjects,
    HandOverProjectsInput,
    ListTodosInput,
    ManagerChain,
    ManagerChainInput,
    TodoList,
    TodoRef,
)
from workflows.contracts.registry import (
    REGISTRY_GET_PROJECT,
    REGISTRY_SET_PROJECT_STATUS,
    GetProjectInput,
    ProjectSnapshot,
    SetProjectStatusInput,
)
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
    TASKS_APPLY_TEMPLATE,
    TASKS_EVALUATE_RULES,
    TASKS_START_PLAN,
    ApplyTemplateInput,
    ApplyTemplateResult,
    EvaluateRulesWithProtection,
    ProtectionInfo,
    ProtectionInfoInput,
    RuleEvaluation,
    StartPlanInput,
    StartPlanResult,
    TaskEventInfo,
)
from workflows.crm import CrmOpportunityLost
from workflows.delivery import NotificationDelivery
from workflows.execution import ProjectExecution
from workflows.handover import OrgHandover

HISTORIES = Path(__file__).parent / "histories"


async def _decide(handle: WorkflowHandle[Any, Any], step: int, task: str, user: str, action: str = "approve") -> None:
    await wait_for_step(handle, step)
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id=task, user_id=user, action=action))


async def approve_three_steps(handle: WorkflowHandle[Any, Any], fakes: Fakes) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 0, "t0-mgr", "mgr")
    # Step 1 is auto-approved (same approver); step 2 has an SLA and two approvers ("all").
    await _decide(handle, 2, "t2-fin1", "fin1")
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t2-fin2", user_id="fin2", action="approve"))


async def reject_second_step(handle: WorkflowHandle[Any, Any], fakes: Fakes) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 0, "t0-mgr", "mgr")
    await _decide(handle, 1, "t1-dir", "dir", action="reject")


async def no_policy(handle: WorkflowHandle[Any, Any], fakes: Fakes) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))


# ---- approval engine (patch approval-engine-v2): typical approvals of the second version


async def v2_timers_escalation_ladder(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    """Reminder at half the SLA, escalation at the SLA, the ladder's timeout approval."""
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await wait_for_step(handle, 0)
    await env.sleep(timedelta(hours=50))


async def v2_return_resubmit(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 0, "t0-mgr", "mgr")
    await wait_for_step(handle, 1)
    await handle.execute_update(UPDATE_REMIND, RemindInput(actor_id="owner", comment="请尽快"))
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t1-dir", user_id="dir", action="return"))
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 1, "t1-dir-2", "dir")


async def v2_transfer_add_approver(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await wait_for_step(handle, 0)
    await handle.execute_update(
        UPDATE_DECIDE, DecisionInput(task_id="t0-mgr", user_id="mgr", action="transfer", to_user_id="dir")
    )
    await handle.execute_update(
        UPDATE_DECIDE, DecisionInput(task_id="t0-dir", user_id="dir", action="add_approver", to_user_id="fin")
    )
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t0-fin", user_id="fin", action="approve"))
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t0-dir", user_id="dir", action="approve"))


async def v2_withdraw(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await wait_for_step(handle, 0)
    await handle.execute_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="owner", comment="客户暂缓"))


async def approve_two_steps(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 0, "t0-mgr", "mgr")
    await _decide(handle, 1, "t1-dir", "dir")


V2_SCENARIOS = {
    "v2_timers_escalation_ladder": (
        [StepSpec("经理审批", ["mgr"], sla="24h", remind_at=0.5, on_timeout="escalate", escalate_to=["dir"],
                  escalation=[{"after": "48h", "action": "approve", "to": []}])],
        v2_timers_escalation_ladder,
    ),
    "v2_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "v2_transfer_add_approver": ([StepSpec("会签", ["mgr"], mode="all")], v2_transfer_add_approver),
    "v2_withdraw": ([StepSpec("经理", ["mgr"], sla="8wh", on_timeout="reject")], v2_withdraw),
    # Issue 15 (patch local-activities): the same paths with the service calls as local activities.
    "local_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "local_timers_escalation_ladder": (
        [StepSpec("经理审批", ["mgr"], sla="24h", remind_at=0.5, on_timeout="escalate", escalate_to=["dir"],
                  escalation=[{"after": "48h", "action": "approve", "to": []}])],
        v2_timers_escalation_ladder,
    ),
    "local_transfer_add_approver": ([StepSpec("会签", ["mgr"], mode="all")], v2_transfer_add_approver),
    # Issue 15 (patch concurrent-effects): independent notifications and events at once.
    "concurrent_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "concurrent_transfer_add_approver": ([StepSpec("会签", ["mgr"], mode="all")], v2_transfer_add_approver),
    # Issue 15 (patch delivery-start-activity): the approved project's delivery by one local activity.
    "delivery_start_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    # Issue 15 (patch service-events): registry and approval publish the reporting events.
    "service_events_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "service_events_timers_escalation_ladder": (
        [StepSpec("经理审批", ["mgr"], sla="24h", remind_at=0.5, on_timeout="escalate", escalate_to=["dir"],
                  escalation=[{"after": "48h", "action": "approve", "to": []}])],
        v2_timers_escalation_ladder,
    ),
    "service_events_transfer_add_approver": ([StepSpec("会签", ["mgr"], mode="all")], v2_transfer_add_approver),
    "service_events_withdraw": ([StepSpec("经理", ["mgr"], sla="8wh", on_timeout="reject")], v2_withdraw),
    # Issue 15 (patch finish-in-one): status, delivery start and owner's notice in one local activity.
    "finish_in_one_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    # Issue 15 (patch open-next-in-decision): an approval opens the next step in its own call.
    "open_next_two_steps": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"], cc=["cfo"])], approve_two_steps),
    "open_next_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    # Issue 15 (patch notices-from-approval): approval publishes the approval requests of openings.
    "notices_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "notices_timers_escalation_ladder": (
        [StepSpec("经理审批", ["mgr"], sla="24h", remind_at=0.5, on_timeout="escalate", escalate_to=["dir"],
                  escalation=[{"after": "48h", "action": "approve", "to": []}])],
        v2_timers_escalation_ladder,
    ),
    "notices_transfer_add_approver": ([StepSpec("会签", ["mgr"], mode="all")], v2_transfer_add_approver),
    # Both: the step a decision opens (open_next) publishes its approval requests in that call.
    "notices_open_next_two_steps": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"], cc=["cfo"])],
                                    approve_two_steps),
    # Issue 15 (patch plan-opens-first): planning the chain opens its first step in the same call.
    "plan_first_two_steps": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"], cc=["cfo"])], approve_two_steps),
    "plan_first_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "plan_first_withdraw": ([StepSpec("经理", ["mgr"], sla="8wh", on_timeout="reject")], v2_withdraw),
    # Issue 15 (patch resume-opens-step): the resubmission opens the returning step in the same call.
    "resume_first_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    # Issue 15 (bundle lifecycle-bundle-1): every patch above in one marker.
    "bundle_two_steps": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"], cc=["cfo"])], approve_two_steps),
    "bundle_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "bundle_timers_escalation_ladder": (
        [StepSpec("经理审批", ["mgr"], sla="24h", remind_at=0.5, on_timeout="escalate", escalate_to=["dir"],
                  escalation=[{"after": "48h", "action": "approve", "to": []}])],
        v2_timers_escalation_ladder,
    ),
    "bundle_transfer_add_approver": ([StepSpec("会签", ["mgr"], mode="all")], v2_transfer_add_approver),
    "bundle_withdraw": ([StepSpec("经理", ["mgr"], sla="8wh", on_timeout="reject")], v2_withdraw),
}

SCENARIOS = {
    "approve_three_steps": (
        [
            StepSpec("部门经理", ["mgr"]),
            StepSpec("经理复核", ["mgr"], auto=True),
            StepSpec("财务会签", ["fin1", "fin2"], mode="all", sla_seconds=86400),
        ],
        approve_three_steps,
    ),
    "reject_second_step": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], reject_second_step),
    "no_policy": ([], no_policy),
}


# ---- delivery and integration workflows: scripted activities (the real ones are tested against
# the services in tests/workflows/test_delivery.py, test_crm_saga.py, test_handover.py)

_attempts: dict[str, int] = {}


@activity.defn(name=NOTIFY_DELIVER)
async def _deliver(inp: DeliverInput) -> DeliverResult:
    n = _attempts[inp.delivery_id] = _attempts.get(inp.delivery_id, 0) + 1
    if inp.delivery_id == "d-retry" and n < 3:
        raise ApplicationError("UNAVAILABLE: webhook answered 500", type="rpc_unavailable")
    if inp.delivery_id == "d-dead":
        raise ApplicationError("UNAVAILABLE: smtp 451", type="rpc_unavailable")
    if inp.delivery_id == "d-permanent":
        raise ApplicationError("webhook answered 400", type=DELIVERY_PERMANENT, non_retryable=True)
    if inp.delivery_id == "d-robot":
        return DeliverResult(outcome="rate_limited", retry_after_seconds=40, status="digest_waiting")
    return DeliverResult(outcome="delivered", status="delivered")


@activity.defn(name=NOTIFY_DELIVER_DIGEST)
async def _deliver_digest(inp: DeliverInput) -> DeliverResult:
    return DeliverResult(outcome="delivered", status="digested")


@activity.defn(name=NOTIFY_DEAD_LETTER)
async def _dead_letter(inp: DeliverInput) -> DeliverResult:
    return DeliverResult(outcome="dead", status="dead")


_crm_status = {"p-crm": "pending_approval", "p-close": "active", "p-close-review": "active"}


@activity.defn(name=REGISTRY_GET_PROJECT)
async def _get_project(inp: GetProjectInput) -> ProjectSnapshot:
    return ProjectSnapshot(id=inp.project_id, owner_id="owner", status=_crm_status[inp.project_id])


@activity.defn(name=REGISTRY_PROTECTION_INFO)
async def _protection_info(inp: ProtectionInfoInput) -> ProtectionInfo:
    return ProtectionInfo(state="released" if _crm_status[inp.project_id] == "cancelled" else "holder")


@activity.defn(name=LIFECYCLE_WITHDRAW)
async def _withdraw(inp: LifecycleWithdrawInput) -> LifecycleOpResult:
    _crm_status[inp.project_id] = "cancelled"
    return LifecycleOpResult(project_id=inp.project_id, outcome="done", status="cancelled")


@activity.defn(name=REGISTRY_GET_MANAGER_CHAIN)
async def _manager_chain(inp: ManagerChainInput) -> ManagerChain:
    return ManagerChain(manager_ids=[inp.user_id, "mgr"])


@activity.defn(name=APPROVAL_LIST_TODOS)
async def _todos(inp: ListTodosInput) -> TodoList:
    return TodoList(tasks=[TodoRef(id="t1", project_id="p1", approver_id=inp.user_id),
                              TodoRef(id="t2", project_id="p2", approver_id=inp.user_id),
                              TodoRef(id="t3", project_id="p3", approver_id="boss", on_behalf_of="boss")])


@activity.defn(name=REGISTRY_HAND_OVER_PROJECTS)
async def _hand_over_projects(inp: HandOverProjectsInput) -> HandedOverProjects:
    # p-gone has no lifecycle workflow: its owner_changed signal fails and is skipped.
    return HandedOverProjects(project_ids=["p-gone", "p-closed"], live_project_ids=["p-gone"])


@activity.defn(name=LIFECYCLE_DECIDE)
async def _decide_op(inp: LifecycleDecideInput) -> LifecycleOpResult:
    if inp.task_id == "t2":
        return LifecycleOpResult(project_id=inp.project_id, outcome="refused", error_type="conflict")
    return LifecycleOpResult(project_id=inp.project_id, outcome="done", status="pending_approval")


@activity.defn(name=REGISTRY_SET_PROJECT_STATUS)
async def _set_status(inp: SetProjectStatusInput) -> ProjectSnapshot:
    _crm_status[inp.project_id] = inp.status
    return ProjectSnapshot(id=inp.project_id, owner_id="owner", status=inp.status, code="BB-1", name="项目")


@activity.defn(name=REPORTING_INGEST_EVENT)
async def _ingest(inp: ReportEventInput) -> ReportEventResult:
    return ReportEventResult(applied=True)


@activity.defn(name=LIFECYCLE_STOP_EXECUTION)
async def _stop(inp: StopExecutionInput) -> StopExecutionResult:
    return StopExecutionResult(stopped=True)


@activity.defn(name=NOTIFY_SEND)
async def _send(inp: SendInput) -> SendResult:
    return SendResult(notification_ids=["n1"])


OTHER_SCENARIOS: dict[str, tuple[Any, str, Any, Any]] = {
    "delivery_retry_digest_dead": (
        NotificationDelivery,
        DELIVERY_WORKFLOW_TYPE,
        DeliveryBatchInput(batch_id="b1", deliveries=[
            DeliveryRef("d-retry"), DeliveryRef("d-robot"), DeliveryRef("d-dead"),
            DeliveryRef("d-permanent"),
            DeliveryRef("d-quiet", not_before=(datetime.now(UTC) + timedelta(hours=9)).isoformat()),
        ], max_attempts=3, initial_backoff_seconds=1, max_backoff_seconds=10),
        DeliveryBatchResult,
    ),
    # the same batch on the bounded path (patch delivery-bounded: in-flight cap, continue-as-new)
    "delivery_bounded": (
        NotificationDelivery,
        DELIVERY_WORKFLOW_TYPE,
        DeliveryBatchInput(batch_id="b2", deliveries=[
            DeliveryRef("d-retry"), DeliveryRef("d-robot"), DeliveryRef("d-dead"),
            DeliveryRef("d-permanent"),
            DeliveryRef("d-quiet", not_before=(datetime.now(UTC) + timedelta(hours=9)).isoformat()),
        ], max_attempts=3, initial_backoff_seconds=1, max_backoff_seconds=10),
        DeliveryBatchResult,
    ),
    "crm_lost_pending": (
        CrmOpportunityLost,
        CRM_LOST_WORKFLOW_TYPE,
        CrmLostInput(project_id="p-crm", external_id="opp-1", reason="客户选择了竞争对手", actor_id="crm"),
        CrmLostResult,
    ),
    "handover_two_tasks": (
        OrgHandover,
        ORG_HANDOVER_WORKFLOW_TYPE,
        HandoverInput(user_id="lead", reason="离职交接"),
        HandoverResult,
    ),
    # patch handover-projects (issue 16): the departing user's registrations too
    "handover_projects": (
        OrgHandover,
        ORG_HANDOVER_WORKFLOW_TYPE,
        HandoverInput(user_id="owner1", to_user_id="mgr", reason="离职交接"),
        HandoverResult,
    ),
}
OTHER_SCENARIOS.update({
    # ProjectClosure as it ran before reviews (a close without one takes the same path today)
    "closure_plain": (
        ProjectClosure,
        CLOSURE_WORKFLOW_TYPE,
        ClosureInput(project_id="p-close", actor_id="owner", comment="验收完成"),
        ClosureResult,
    ),
    # a close with a review (patch closure-review)
    "closure_review": (
        ProjectClosure,
        CLOSURE_WORKFLOW_TYPE,
        ClosureInput(project_id="p-close-review", actor_id="owner", comment="验收完成",
                     review=ClosureReview(outcome="delivered", reason="按期验收", lessons="需求冻结要早",
                                          tags=["需求"])),
        ClosureResult,
    ),
})
OTHER_ACTIVITIES: list[Callable[..., Any]] = [
    _deliver, _deliver_digest, _dead_letter, _get_project, _protection_info, _withdraw, _manager_chain, _todos,
    _decide_op, _set_status, _ingest, _stop, _send, _hand_over_projects,
]


async def _record_other(env: WorkflowEnvironment, name: str) -> None:
    cls, wf_type, arg, result_type = OTHER_SCENARIOS[name]
    tq = f"rec-{name}"
    async with Worker(env.client, task_queue=tq, workflows=[cls], activities=OTHER_ACTIVITIES):
        handle = await env.client.start_workflow(wf_type, arg, id=f"rec-{name}", task_queue=tq,
                                                 result_type=result_type)
        print(f"{name}: {await handle.result()}")
        history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
    print(f"recorded {name}: {len(history.events)} events")


# ---- ProjectExecution (issue 15): its start and first turn with task events to report. Its
# activities are tested against the tasks service in tests/workflows/test_execution*.py; here the
# calls are scripted (the template creates two tasks, whose events the first turn reports).
# Recorded before the patches plan-start-in-one / task-events-batch (execution_template_events)
# and after them (execution_start_in_one), both replayed against the current code.


@activity.defn(name=TASKS_APPLY_TEMPLATE)
async def _apply_template(inp: ApplyTemplateInput) -> ApplyTemplateResult:
    return ApplyTemplateResult(created=2, template_version=1, baseline_number=1 if inp.baseline_name else 0)


@activity.defn(name=TASKS_EVALUATE_RULES)
async def _evaluate(inp: EvaluateRulesWithProtection) -> RuleEvaluation:
    events = [TaskEventInfo(seq=n, kind="task.created", task_id=f"t{n}", at="2026-12-01T01:00:00+00:00",
                            payload={"name": f"任务{n}"}) for n in (1, 2) if n > inp.after_seq]
    return RuleEvaluation(events=events, last_seq=max([inp.after_seq] + [e.seq for e in events]))


@activity.defn(name=TASKS_START_PLAN)
async def _start_plan(inp: StartPlanInput) -> StartPlanResult:
    return StartPlanResult(applied=await _apply_template(inp.apply), evaluation=await _evaluate(inp.evaluate))


@activity.defn(name=REPORTING_INGEST_EVENTS)
async def _ingest_events(inp: ReportEventsInput) -> ReportEventsResult:
    return ReportEventsResult(applied=len(inp.events))


EXECUTION_SCENARIOS = ("execution_template_events", "execution_start_in_one", "execution_bundle")


async def _record_execution(env: WorkflowEnvironment, name: str) -> None:
    tq = f"rec-{name}"
    scripted = [_apply_template, _evaluate, _start_plan, _ingest, _ingest_events, _send, _protection_info]
    async with Worker(env.client, task_queue=tq, workflows=[ProjectExecution], activities=scripted):
        handle = await env.client.start_workflow(
            EXECUTION_WORKFLOW_TYPE,
            ExecutionInput(project_id="p-exec", owner_id="owner", name="智慧园区", amount="100000",
                           start="2026-12-01", protection=ProtectionInfo(state="none")),
            id=f"rec-{name}", task_queue=tq, result_type=ExecutionState)
        for _ in range(200):  # until the first turn has reported the template's events
            if (await handle.query("state", result_type=ExecutionState)).cursor >= 2:
                break
            await asyncio.sleep(0.05)
        await handle.signal(EXECUTION_SIGNAL_STOP)
        print(f"{name}: {await handle.result()}")
        history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
    print(f"recorded {name}: {len(history.events)} events")


async def record(names: list[str]) -> None:
    HISTORIES.mkdir(parents=True, exist_ok=True)
    everything: dict[str, Any] = {**SCENARIOS, **V2_SCENARIOS, **OTHER_SCENARIOS,
                                  **dict.fromkeys(EXECUTION_SCENARIOS)}
    wanted = names or [n for n in everything if not (HISTORIES / f"{n}.json").exists()]
    async with time_skipping_env() as env:
        for name in wanted:
            if name in EXECUTION_SCENARIOS:
                await _record_execution(env, name)
                continue
            if name in OTHER_SCENARIOS:
                await _record_other(env, name)
                continue
            steps, drive = everything[name]
            fakes = Fakes(steps=steps)
            async with lifecycle_worker(env.client, fakes) as tq:
                handle = await start_lifecycle(env.client, tq, fakes)
                if name in V2_SCENARIOS:
                    await drive(handle, fakes, env)
                else:
                    await drive(handle, fakes)
                await handle.result()
                history = await handle.fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
            print(f"recorded {name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))
