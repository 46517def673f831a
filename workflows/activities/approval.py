"""Activities calling the approval service."""

from __future__ import annotations

from datetime import UTC

from google.protobuf import struct_pb2, timestamp_pb2
from temporalio import activity

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.activities.notify import context_struct
from workflows.contracts.approval import (
    APPROVAL_CANCEL,
    APPROVAL_FIRE_TIMER,
    APPROVAL_OPEN_STEP,
    APPROVAL_PLAN_CHAIN,
    APPROVAL_REASSIGN,
    APPROVAL_RECORD_ACTION,
    APPROVAL_RECORD_DECISION,
    APPROVAL_RESUME,
    CancelApprovalInput,
    CancelApprovalResult,
    ChainPlan,
    DecisionOutcome,
    FireTimerInput,
    FireTimerResult,
    OpenedStep,
    OpenStepInput,
    PlanChainInput,
    PlannedStep,
    ReassignStepInput,
    ReassignStepResult,
    RecordActionInput,
    RecordActionResult,
    RecordDecisionInput,
    ResumeApprovalInput,
    ResumedApproval,
    TaskRef,
    TimerRef,
)
from workflows.contracts.registry import ProjectSnapshot


def _iso(ts: timestamp_pb2.Timestamp) -> str:
    return ts.ToDatetime(tzinfo=UTC).isoformat() if ts.seconds or ts.nanos else ""


def _task_status(value: int) -> str:
    return pb.TaskStatus.Name(value).removeprefix("TASK_STATUS_").lower()


def _task(task: pb.ApprovalTask) -> TaskRef:
    return TaskRef(
        id=task.id,
        approver_id=task.approver_id,
        step_index=task.step_index,
        status=_task_status(task.status),
        due_at=_iso(task.due_at) if task.HasField("due_at") else "",
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


def facts(project: ProjectSnapshot) -> pb.ProjectFacts:
    fields = struct_pb2.Struct()
    fields.update(project.fields)
    return pb.ProjectFacts(
        project_id=project.id,
        form_key=project.form_key,
        name=project.name,
        amount=project.amount,
        region=project.region,
        business_line=project.business_line,
        fields=fields,
        conflict_count=max(project.conflict_count, len(project.conflicts)),
        conflicts=[
            pb.ProjectConflict(project_id=str(c.get("project_id", "")), reason=str(c.get("reason", "")))
            for c in project.conflicts
        ],
    )


def _attachments(items: list[dict[str, str]]) -> struct_pb2.ListValue:
    out = struct_pb2.ListValue()
    for a in items:
        out.add_struct().update({"name": str(a.get("name", "")), "url": str(a.get("url", ""))})
    return out


def open_step_request(inp: OpenStepInput) -> pb.OpenStepRequest:
    req = pb.OpenStepRequest(request_id=inp.request_id, instance_id=inp.instance_id, step_index=inp.step_index,
                             report_scope=inp.report_scope, report_key=inp.report_key)
    if inp.notice is not None:
        n = inp.notice
        req.notice.CopyFrom(pb.NoticeSpec(kind=n.kind, project_id=n.project_id, context=context_struct(n.context),
                                          request_id_prefix=n.request_id_prefix))
    return req


def opened_step(resp: pb.OpenStepResponse) -> OpenedStep:
    return OpenedStep(
        index=resp.step.index,
        name=resp.step.name,
        status=resp.step.status,
        approvers=list(resp.step.approvers),
        tasks=[_task(t) for t in resp.tasks],
        auto_approved=resp.auto_approved,
        timers=[TimerRef(index=t.index, action=t.action, at=_iso(t.at), level=t.level, to=list(t.to))
                for t in resp.timers],
        due_at=_iso(resp.due_at),
        cc=list(resp.cc),
        opened_at=_iso(resp.step.opened_at),
        notices_published=resp.notices_published,
    )


class ApprovalActivities:
    def __init__(self, stub: ApprovalServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=APPROVAL_PLAN_CHAIN)
    async def plan_chain(self, inp: PlanChainInput) -> ChainPlan:
        log = activity_logger(inp.project.id)
        req = pb.PlanChainRequest(request_id=inp.request_id, project=facts(inp.project), submitter_id=inp.submitter_id,
                                  purpose=inp.purpose, subject_id=inp.subject_id, policy_key=inp.policy_key)
        if inp.open_first is not None:
            req.open_first.CopyFrom(open_step_request(inp.open_first))
        resp = await call(self._stub.PlanChain, req, timeout=self._timeout)
        log.info("approval.planned", instance_id=resp.instance_id, policy=resp.policy_key, steps=len(resp.steps),
                 first_opened=resp.HasField("first_opened"))
        return ChainPlan(
            instance_id=resp.instance_id,
            policy_key=resp.policy_key,
            policy_version=resp.policy_version,
            steps=[_planned(s) for s in resp.steps],
            first_opened=opened_step(resp.first_opened) if resp.HasField("first_opened") else None,
        )

    @activity.defn(name=APPROVAL_OPEN_STEP)
    async def open_step(self, inp: OpenStepInput) -> OpenedStep:
        log = activity_logger()
        resp = await call(self._stub.OpenStep, open_step_request(inp), timeout=self._timeout)
        log.info("approval.step_opened", instance_id=inp.instance_id, step=inp.step_index, status=resp.step.status,
                 auto=resp.auto_approved, timers=len(resp.timers), notices=resp.notices_published)
        return opened_step(resp)

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
            to_user_id=inp.to_user_id,
            position=inp.position,
            attachments=_attachments(inp.attachments),
            link_id=inp.link_id,
            report_scope=inp.report_scope,
            report_key=inp.report_key,
        )
        if inp.to_step is not None:
            req.to_step = inp.to_step
        if inp.open_next is not None:
            req.open_next.CopyFrom(open_step_request(inp.open_next))
        resp = await call(self._stub.RecordDecision, req, timeout=self._timeout, locale=inp.locale)
        log.info(
            "approval.decided", task_id=inp.task_id, actor=inp.actor_id, action=inp.action, outcome=resp.step_outcome
        )
        return DecisionOutcome(
            task_id=resp.task.id or inp.task_id,
            instance_id=resp.task.instance_id,
            step_index=resp.task.step_index,
            step_outcome=resp.step_outcome,
            new_tasks=[_task(t) for t in resp.new_tasks],
            return_to=resp.return_to,
            on_behalf_of=resp.on_behalf_of,
            step_name=resp.step.name or resp.task.step_name,
            pending_approvers=list(resp.pending_approvers),
            next_opened=opened_step(resp.next_opened) if resp.HasField("next_opened") else None,
        )

    @activity.defn(name=APPROVAL_FIRE_TIMER)
    async def fire_timer(self, inp: FireTimerInput) -> FireTimerResult:
        req = pb.FireTimerRequest(request_id=inp.request_id, instance_id=inp.instance_id,
                                  step_index=inp.step_index, timer_index=inp.timer_index,
                                  report_scope=inp.report_scope, report_key=inp.report_key)
        resp = await call(self._stub.FireTimer, req, timeout=self._timeout)
        activity_logger().info("approval.timer_fired", instance_id=inp.instance_id, step=inp.step_index,
                               timer=inp.timer_index, action=resp.action, fired=resp.fired,
                               outcome=resp.step_outcome)
        return FireTimerResult(
            fired=resp.fired,
            action=resp.action,
            step_outcome=resp.step_outcome,
            new_tasks=[_task(t) for t in resp.new_tasks],
            remind_user_ids=list(resp.remind_user_ids),
            pending_approvers=list(resp.pending_approvers),
        )

    @activity.defn(name=APPROVAL_RESUME)
    async def resume(self, inp: ResumeApprovalInput) -> ResumedApproval:
        req = pb.ResumeInstanceRequest(request_id=inp.request_id, instance_id=inp.instance_id,
                                       project=facts(inp.project), actor_id=inp.actor_id)
        if inp.open_first is not None:
            req.open_first.CopyFrom(open_step_request(inp.open_first))
        resp = await call(self._stub.ResumeInstance, req, timeout=self._timeout)
        activity_logger(inp.project.id).info("approval.resumed", instance_id=resp.instance_id,
                                             resume_from=resp.resume_from, replanned=resp.replanned,
                                             first_opened=resp.HasField("first_opened"))
        return ResumedApproval(instance_id=resp.instance_id, resume_from=resp.resume_from,
                               steps=[_planned(s) for s in resp.steps], replanned=resp.replanned,
                               first_opened=opened_step(resp.first_opened) if resp.HasField("first_opened") else None)

    @activity.defn(name=APPROVAL_CANCEL)
    async def cancel(self, inp: CancelApprovalInput) -> CancelApprovalResult:
        req = pb.CancelInstanceRequest(request_id=inp.request_id, instance_id=inp.instance_id, actor_id=inp.actor_id,
                                       action=inp.action, comment=inp.comment, channel=inp.channel)
        resp = await call(self._stub.CancelInstance, req, timeout=self._timeout, locale=inp.locale)
        activity_logger().info("approval.cancelled", instance_id=inp.instance_id, action=inp.action)
        return CancelApprovalResult(status=resp.instance.status)

    @activity.defn(name=APPROVAL_REASSIGN)
    async def reassign(self, inp: ReassignStepInput) -> ReassignStepResult:
        req = pb.ReassignStepRequest(request_id=inp.request_id, instance_id=inp.instance_id,
                                     step_index=inp.step_index, from_user_id=inp.from_user_id,
                                     to_user_id=inp.to_user_id, actor_id=inp.actor_id, comment=inp.comment,
                                     report_scope=inp.report_scope, report_key=inp.report_key)
        resp = await call(self._stub.ReassignStep, req, timeout=self._timeout, locale=inp.locale)
        activity_logger().info("approval.reassigned", instance_id=inp.instance_id, step=inp.step_index,
                               to_user=inp.to_user_id)
        return ReassignStepResult(new_tasks=[_task(t) for t in resp.new_tasks],
                                  pending_approvers=list(resp.pending_approvers))

    @activity.defn(name=APPROVAL_RECORD_ACTION)
    async def record_action(self, inp: RecordActionInput) -> RecordActionResult:
        req = pb.RecordActionRequest(request_id=inp.request_id, instance_id=inp.instance_id,
                                     step_index=inp.step_index, actor_id=inp.actor_id, action=inp.action,
                                     comment=inp.comment, channel=inp.channel, user_ids=inp.user_ids)
        resp = await call(self._stub.RecordAction, req, timeout=self._timeout, locale=inp.locale)
        activity_logger().info("approval.action", instance_id=inp.instance_id, action=inp.action)
        return RecordActionResult(step_index=resp.step_index, cc_user_ids=[c.user_id for c in resp.cc])
