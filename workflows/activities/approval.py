"""Activities calling the approval service."""

from __future__ import annotations

from datetime import UTC

from google.protobuf import struct_pb2
from temporalio import activity

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.activity_types import (
    APPROVAL_OPEN_STEP,
    APPROVAL_PLAN_CHAIN,
    APPROVAL_RECORD_DECISION,
    ChainPlan,
    DecisionOutcome,
    OpenedStep,
    OpenStepInput,
    PlanChainInput,
    PlannedStep,
    RecordDecisionInput,
    TaskRef,
)


def _task_status(value: int) -> str:
    return pb.TaskStatus.Name(value).removeprefix("TASK_STATUS_").lower()


def _task(task: pb.ApprovalTask) -> TaskRef:
    due = ""
    if task.HasField("due_at") and (task.due_at.seconds or task.due_at.nanos):
        due = task.due_at.ToDatetime(tzinfo=UTC).isoformat()
    return TaskRef(
        id=task.id,
        approver_id=task.approver_id,
        step_index=task.step_index,
        status=_task_status(task.status),
        due_at=due,
    )


def _planned(step: pb.PlannedStep) -> PlannedStep:
    return PlannedStep(
        index=step.index,
        name=step.name,
        mode=step.mode,
        approvers=list(step.approvers),
        sla_seconds=int(step.sla_seconds),
        sla=step.sla,
        on_timeout=step.on_timeout,
        escalate_to=list(step.escalate_to),
    )


class ApprovalActivities:
    def __init__(self, stub: ApprovalServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=APPROVAL_PLAN_CHAIN)
    async def plan_chain(self, inp: PlanChainInput) -> ChainPlan:
        log = activity_logger(inp.project.id)
        fields = struct_pb2.Struct()
        fields.update(inp.project.fields)
        facts = pb.ProjectFacts(
            project_id=inp.project.id,
            form_key=inp.project.form_key,
            name=inp.project.name,
            amount=inp.project.amount,
            region=inp.project.region,
            business_line=inp.project.business_line,
            fields=fields,
            conflict_count=inp.project.conflict_count,
        )
        req = pb.PlanChainRequest(request_id=inp.request_id, project=facts, submitter_id=inp.submitter_id)
        resp = await call(self._stub.PlanChain, req, timeout=self._timeout)
        log.info("approval.planned", instance_id=resp.instance_id, policy=resp.policy_key, steps=len(resp.steps))
        return ChainPlan(
            instance_id=resp.instance_id,
            policy_key=resp.policy_key,
            policy_version=resp.policy_version,
            steps=[_planned(s) for s in resp.steps],
        )

    @activity.defn(name=APPROVAL_OPEN_STEP)
    async def open_step(self, inp: OpenStepInput) -> OpenedStep:
        log = activity_logger()
        req = pb.OpenStepRequest(request_id=inp.request_id, instance_id=inp.instance_id, step_index=inp.step_index)
        resp = await call(self._stub.OpenStep, req, timeout=self._timeout)
        log.info("approval.step_opened", step=inp.step_index, status=resp.step.status, auto=resp.auto_approved)
        return OpenedStep(
            index=resp.step.index,
            name=resp.step.name,
            status=resp.step.status,
            approvers=list(resp.step.approvers),
            tasks=[_task(t) for t in resp.tasks],
            auto_approved=resp.auto_approved,
        )

    @activity.defn(name=APPROVAL_RECORD_DECISION)
    async def record_decision(self, inp: RecordDecisionInput) -> DecisionOutcome:
        log = activity_logger()
        req = pb.RecordDecisionRequest(
            request_id=inp.request_id,
            task_id=inp.task_id,
            actor_id=inp.actor_id,
            action=inp.action,
            comment=inp.comment,
            channel=inp.channel,
        )
        resp = await call(self._stub.RecordDecision, req, timeout=self._timeout, locale=inp.locale)
        log.info(
            "approval.decided", task_id=inp.task_id, actor=inp.actor_id, action=inp.action, outcome=resp.step_outcome
        )
        return DecisionOutcome(
            task_id=resp.task.id or inp.task_id,
            instance_id=resp.task.instance_id,
            step_index=resp.task.step_index,
            step_outcome=resp.step_outcome,
        )
