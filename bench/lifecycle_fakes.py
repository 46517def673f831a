"""Stateless stand-ins for the activities a project calls from its start to waiting on step 0
(bench.lifecycle_memory): nothing is kept per project, so the worker's memory measures the
workflows only. One step, one approver, an 8-hour SLA with a reminder at half and an escalation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity

from workflows.contracts.approval import (
    APPROVAL_OPEN_STEP,
    APPROVAL_PLAN_CHAIN,
    ChainPlan,
    OpenedStep,
    OpenStepInput,
    PlanChainInput,
    PlannedStep,
    TaskRef,
    TimerRef,
)
from workflows.contracts.notify import NOTIFY_SEND, SendInput, SendResult
from workflows.contracts.registry import (
    REGISTRY_GET_PROJECT,
    REGISTRY_SUBMIT_PROJECT,
    GetProjectInput,
    ProjectSnapshot,
    SubmitProjectInput,
)
from workflows.contracts.reporting import REPORTING_INGEST_EVENT, ReportEventInput, ReportEventResult

# The project's form field values (bench.lifecycle_memory --fields sets one, as bench.soak's form has).
FIELDS: dict[str, Any] = {}


def snapshot(project_id: str, status: str = "draft") -> ProjectSnapshot:
    return ProjectSnapshot(fields=dict(FIELDS),
                           id=project_id, code="BB-2026-0001", name="智慧园区一期", status=status, amount="1250000.00",
                           owner_id="owner", department_id="sales", region="east", business_line="iot",
                           form_key="standard", customer_name="华东制造有限公司")


@activity.defn(name=REGISTRY_GET_PROJECT)
async def get_project(inp: GetProjectInput) -> ProjectSnapshot:
    return snapshot(inp.project_id)


@activity.defn(name=REGISTRY_SUBMIT_PROJECT)
async def submit_project(inp: SubmitProjectInput) -> ProjectSnapshot:
    return snapshot(inp.project_id, "pending_approval")


@activity.defn(name=APPROVAL_PLAN_CHAIN)
async def plan_chain(inp: PlanChainInput) -> ChainPlan:
    return ChainPlan(instance_id=f"inst-{inp.project.id}", policy_key="standard", policy_version=1,
                     steps=[PlannedStep(index=0, name="部门经理", approvers=["mgr"], sla_seconds=8 * 3600)])


@activity.defn(name=APPROVAL_OPEN_STEP)
async def open_step(inp: OpenStepInput) -> OpenedStep:
    opened = activity.info().current_attempt_scheduled_time
    due = (opened + timedelta(hours=8)).isoformat()
    return OpenedStep(index=0, name="部门经理", status="pending", approvers=["mgr"],
                      tasks=[TaskRef(id=f"t0-mgr-{inp.instance_id}", approver_id="mgr", step_index=0, due_at=due)],
                      timers=[TimerRef(index=0, action="remind", at=(opened + timedelta(hours=4)).isoformat()),
                              TimerRef(index=1, action="escalate", at=due, level=1, to=["dir"])],
                      due_at=due, opened_at=opened.isoformat())


@activity.defn(name=NOTIFY_SEND)
async def send(inp: SendInput) -> SendResult:
    return SendResult(notification_ids=[inp.request_id])


@activity.defn(name=REPORTING_INGEST_EVENT)
async def ingest_event(inp: ReportEventInput) -> ReportEventResult:
    return ReportEventResult(applied=True)


ACTIVITIES = [get_project, submit_project, plan_chain, open_step, send, ingest_event]
