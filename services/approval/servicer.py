"""gRPC surface of the approval service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NoReturn

import grpc
import structlog

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core import event_outbox
from baobei.core.errors import FieldViolation, Forbidden, NotFound, ValidationFailed, require
from baobei.core.grpc_server import rpc
from baobei.workcalendar import validate_overrides
from services.approval import domain, mapping, metrics, notice_outbox
from services.approval.models import event_outbox as event_outbox_table
from services.approval.models import notice_outbox as notice_outbox_table
from services.approval.org_client import DirectoryUnavailable
from services.approval.store import ApprovalStore, Replan

log = structlog.get_logger(__name__)

WHAT_IF_DEFAULT, WHAT_IF_MAX = 100, 1000
DECIDED_DEFAULT, DECIDED_MAX = 20, 100


def _required(*checks: list[FieldViolation]) -> None:
    violations = [v for check in checks for v in check]
    if violations:
        raise ValidationFailed(violations)


def _unavailable(context: grpc.ServicerContext, err: DirectoryUnavailable) -> NoReturn:
    """Registry down: UNAVAILABLE, so callers (workflow activities) retry."""
    context.abort(grpc.StatusCode.UNAVAILABLE, f"org directory unavailable: {err}")
    raise AssertionError("unreachable")


def _calendar_year(year: int) -> int:
    if year and not 1900 <= year <= 2200:
        raise ValidationFailed([FieldViolation("year", "年份须在 1900 到 2200 之间", "year must be 1900–2200")])
    return year


class ApprovalServicer(pb_grpc.ApprovalServiceServicer):
    def __init__(self, *, store: ApprovalStore, directory: domain.OrgDirectory) -> None:
        self.store = store
        self.directory = directory

    def _known_user(self, user_id: str, field: str, context: grpc.ServicerContext) -> None:
        try:
            user = self.directory.get_user(user_id) if user_id else None
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        if user is None:
            raise ValidationFailed([FieldViolation(field, f"用户不存在：{user_id}" if user_id else "请指定用户",
                                                   f"unknown user: {user_id}" if user_id else "a user is required")])
        if user.left:
            raise ValidationFailed([FieldViolation(field, f"用户已离职：{user_id}", f"user has left: {user_id}")])

    # ------------------------------------------------------------ policies

    @rpc
    def PutPolicy(self, request: pb.PutPolicyRequest, context: grpc.ServicerContext) -> pb.PutPolicyResponse:
        key = request.key.strip()
        steps = mapping.steps_from_proto(request.steps)
        options = mapping.options_from_proto(request.options)
        try:
            violations = domain.validate_policy(
                key=key, form_key=request.form_key, steps=steps, directory=self.directory, options=options
            )
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        if violations:
            raise ValidationFailed(violations)
        return self.store.put_policy(
            request_id=request.request_id, key=key, form_key=request.form_key, steps=steps, options=options
        )

    @rpc
    def GetPolicy(self, request: pb.GetPolicyRequest, context: grpc.ServicerContext) -> pb.GetPolicyResponse:
        _required(require(request.key, "key", "策略标识", "key"))
        return pb.GetPolicyResponse(policy=self.store.get_policy(key=request.key.strip(), version=request.version))

    @rpc
    def RequirePolicy(
        self, request: pb.RequirePolicyRequest, context: grpc.ServicerContext
    ) -> pb.RequirePolicyResponse:
        _required(require(request.form_key, "form_key", "表单标识", "form_key"))
        form_key = request.form_key.strip()
        policy = domain.require_policy(self.store.policy_for_form(form_key=form_key), form_key)
        return pb.RequirePolicyResponse(policy_key=policy.key, policy_version=policy.version,
                                        no_approval=policy.options.no_approval)

    # ------------------------------------------------------------ company calendar

    @rpc
    def GetCalendar(self, request: pb.GetCalendarRequest, context: grpc.ServicerContext) -> pb.GetCalendarResponse:
        year = _calendar_year(request.year)
        saved = self.store.get_overrides(year=year)
        return pb.GetCalendarResponse(overrides=[mapping.override_to_proto(o) for o in saved])

    @rpc
    def PutCalendar(self, request: pb.PutCalendarRequest, context: grpc.ServicerContext) -> pb.PutCalendarResponse:
        year = _calendar_year(request.year)
        items = [{"date": o.date, "kind": o.kind, "name": o.name} for o in request.overrides]
        overrides = validate_overrides(items, year=year)
        saved = self.store.put_overrides(year=year, overrides=overrides, actor_id=request.actor_id)
        return pb.PutCalendarResponse(overrides=[mapping.override_to_proto(o) for o in saved])

    # ------------------------------------------------------------ planning

    def _policy_for(self, policy_key: str, form_key: str) -> domain.Policy | None:
        if policy_key.strip():
            return self.store.policy(key=policy_key.strip())
        return self.store.policy_for_form(form_key=form_key)

    @rpc
    def Simulate(self, request: pb.SimulateRequest, context: grpc.ServicerContext) -> pb.SimulateResponse:
        if not request.policy_key.strip():
            _required(require(request.project.form_key, "project.form_key", "表单标识", "form_key"))
        facts = mapping.facts_from_proto(request.project)
        policy = self._policy_for(request.policy_key, facts.form_key)
        if policy is None:
            raise NotFound(f"表单 {facts.form_key} 没有审批策略", f"no approval policy for form {facts.form_key}")
        reads = domain.PlanningReads(self.directory, [request.submitter_id])
        try:
            steps = domain.plan_steps(policy, facts, request.submitter_id, reads)
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        return pb.SimulateResponse(steps=[mapping.planned_step_to_proto(s) for s in steps])

    @rpc
    def PlanChain(self, request: pb.PlanChainRequest, context: grpc.ServicerContext) -> pb.PlanChainResponse:
        _required(
            require(request.request_id, "request_id"),
            require(request.project.project_id, "project.project_id", "项目", "project_id"),
        )
        if request.open_first.HasField("notice"):
            notice_outbox.validate(request.open_first.notice, field="open_first.notice")
        facts = mapping.facts_from_proto(request.project)
        purpose = domain.purpose_of(request.purpose)
        if purpose not in domain.PURPOSES:
            raise ValidationFailed([FieldViolation("purpose", f"未知的审批用途：{purpose}",
                                                   f"unknown purpose: {purpose}")])
        if request.policy_key.strip():
            # A request about an approved project (acceptance…) names its own policy.
            policy: domain.Policy | None = self.store.policy(key=request.policy_key.strip())
        else:
            policy = self.store.policy_for_form(form_key=facts.form_key)
        if policy is None:
            # Submissions are refused without a policy (RequirePolicy, before anything changes);
            # one that slipped through (its policy moved to another form meanwhile) waits, retried,
            # until one exists: it is never approved for want of a policy.
            log.error("approval.no_policy_at_planning", project_id=facts.project_id, form_key=facts.form_key)
            context.abort(grpc.StatusCode.UNAVAILABLE, f"no approval policy for form {facts.form_key} yet")
            raise AssertionError("unreachable")
        # The submitter and their manager chain in one registry read, each read once.
        reads = domain.PlanningReads(self.directory, [request.submitter_id])
        try:
            steps = domain.plan_steps(policy, facts, request.submitter_id, reads)
            submitter = reads.get_user(request.submitter_id) if request.submitter_id else None
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        return self.store.plan_chain(
            request_id=request.request_id,
            facts=facts,
            submitter_id=request.submitter_id,
            policy=policy,
            steps=steps,
            inputs=domain.plan_inputs(policy, facts, submitter or domain.OrgUser(id=request.submitter_id)),
            purpose=purpose,
            subject_id=request.subject_id.strip(),
            open_first=request.open_first if request.HasField("open_first") else None,
        )

    @rpc
    def OpenStep(self, request: pb.OpenStepRequest, context: grpc.ServicerContext) -> pb.OpenStepResponse:
        _required(require(request.instance_id, "instance_id", "审批实例", "instance_id"))
        notice = request.notice if request.HasField("notice") else None
        if notice is not None:
            notice_outbox.validate(notice)
        return self.store.open_step(
            request_id=request.request_id, instance_id=request.instance_id, step_index=request.step_index,
            report_scope=request.report_scope.strip(), report_key=request.report_key, notice=notice,
        )

    @rpc
    def WhatIf(self, request: pb.WhatIfRequest, context: grpc.ServicerContext) -> pb.WhatIfResponse:
        form_key = request.form_key.strip()
        steps = mapping.steps_from_proto(request.steps)
        options = mapping.options_from_proto(request.options)
        try:
            violations = domain.validate_policy(
                key="what-if", form_key=form_key, steps=steps, directory=self.directory, options=options
            )
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        if violations:
            raise ValidationFailed(violations)
        if request.limit < 0 or request.limit > WHAT_IF_MAX:
            raise ValidationFailed([FieldViolation("limit", f"须在 1 到 {WHAT_IF_MAX} 之间",
                                                   f"must be between 1 and {WHAT_IF_MAX}")])
        draft = domain.Policy(key="what-if", form_key=form_key, version=0, steps=tuple(steps), options=options)
        items: list[pb.WhatIfItem] = []
        recent = self.store.recent_submissions(form_key=form_key, limit=request.limit or WHAT_IF_DEFAULT)
        submitters = [str((inputs.get("submitter") or {}).get("id", "")) for _, _, inputs, _ in recent]
        reads = domain.PlanningReads(self.directory, submitters)  # a submitter's reads serve all their projects
        try:
            for (instance_id, project_id, inputs, before), submitter_id in zip(recent, submitters, strict=True):
                facts = domain.ProjectFacts.from_dict(inputs.get("project") or {})
                after = [(s.name, list(s.approvers)) for s in domain.plan_steps(draft, facts, submitter_id, reads)]
                diff = domain.diff_chains(project_id, before, after)
                if diff.changed:
                    items.append(
                        pb.WhatIfItem(
                            project_id=project_id,
                            instance_id=instance_id,
                            added=list(diff.added),
                            removed=list(diff.removed),
                            approvers_changed=[
                                pb.StepApproversChange(step=name, before=list(b), after=list(a))
                                for name, (b, a) in diff.approvers_changed.items()
                            ],
                            before=[n for n, _ in before],
                            after=[n for n, _ in after],
                        )
                    )
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        log.info("approval.what_if", form_key=form_key, evaluated=len(recent), changed=len(items))
        return pb.WhatIfResponse(evaluated=len(recent), changed=len(items), items=items)

    # ------------------------------------------------------------ deciding

    @rpc
    def RecordDecision(
        self, request: pb.RecordDecisionRequest, context: grpc.ServicerContext
    ) -> pb.RecordDecisionResponse:
        _required(
            require(request.task_id, "task_id", "审批任务", "task_id"),
            require(request.actor_id, "actor_id", "审批人", "actor_id"),
        )
        action = request.action.strip()
        if action in ("transfer", "add_approver"):
            self._known_user(request.to_user_id.strip(), "to_user_id", context)
        if request.link_id.strip() and self._departed(request.actor_id.strip(), context):
            raise Forbidden("审批人已离职，审批链接已失效", "the approver has left: the action link no longer works",
                            code="approver_left")
        if request.open_next.HasField("notice"):
            notice_outbox.validate(request.open_next.notice, field="open_next.notice")
        resp = self.store.record_decision(
            request_id=request.request_id,
            task_id=request.task_id,
            actor_id=request.actor_id,
            action=action,
            comment=request.comment,
            channel=request.channel.strip(),
            to_user_id=request.to_user_id,
            position=request.position.strip(),
            to_step=request.to_step if request.HasField("to_step") else None,
            attachments=mapping.attachments_from_proto(request.attachments),
            link_id=request.link_id,
            report_scope=request.report_scope.strip(),
            report_key=request.report_key,
            open_next=request.open_next if request.HasField("open_next") else None,
        )
        metrics.observe_decision(action, request.channel.strip())
        return resp

    @rpc
    def CheckActionLink(
        self, request: pb.CheckActionLinkRequest, context: grpc.ServicerContext
    ) -> pb.CheckActionLinkResponse:
        """usable | used | not_assignee | decided | approver_left for an action link bound to (task,
        approver)."""
        _required(
            require(request.link_id, "link_id", "审批链接", "link_id"),
            require(request.task_id, "task_id", "审批任务", "task_id"),
            require(request.approver_id, "approver_id", "审批人", "approver_id"),
        )
        resp = self.store.check_action_link(link_id=request.link_id.strip(), task_id=request.task_id.strip(),
                                            approver_id=request.approver_id.strip())
        if self._departed(request.approver_id.strip(), context):
            resp.state = "approver_left"  # the links of someone who left stop working at once
        return resp

    def _departed(self, user_id: str, context: grpc.ServicerContext) -> bool:
        """Left the organisation (or no longer in the directory)."""
        try:
            user = self.directory.get_user(user_id)
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        return user is None or user.left

    @rpc
    def FireTimer(self, request: pb.FireTimerRequest, context: grpc.ServicerContext) -> pb.FireTimerResponse:
        _required(require(request.instance_id, "instance_id", "审批实例", "instance_id"))
        resp = self.store.fire_timer(request_id=request.request_id, instance_id=request.instance_id,
                                     step_index=request.step_index, timer_index=request.timer_index,
                                     report_scope=request.report_scope.strip(), report_key=request.report_key)
        metrics.observe_timer(resp.action, resp.fired)
        return resp

    @rpc
    def ResumeInstance(
        self, request: pb.ResumeInstanceRequest, context: grpc.ServicerContext
    ) -> pb.ResumeInstanceResponse:
        _required(require(request.instance_id, "instance_id", "审批实例", "instance_id"))
        if request.open_first.HasField("notice"):
            notice_outbox.validate(request.open_first.notice, field="open_first.notice")
        facts = mapping.facts_from_proto(request.project)
        try:
            replan = self._replan(request.instance_id, facts)
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        return self.store.resume_instance(request_id=request.request_id, instance_id=request.instance_id,
                                          facts=facts, actor_id=request.actor_id, replan=replan,
                                          open_first=request.open_first if request.HasField("open_first") else None)

    def _replan(self, instance_id: str, facts: domain.ProjectFacts) -> Replan | None:
        """The new chain when the policy, evaluated on the resubmitted facts, plans another chain
        than the returned approval's; None to resume it where it was returned."""
        returned = self.store.returned_chain(instance_id=instance_id)
        if returned is None:
            return None  # a repeat of a resume that happened, or not returned: the store answers
        policy = self.store.policy_for_form(form_key=returned.form_key or facts.form_key)
        if policy is None:
            return None
        reads = domain.PlanningReads(self.directory, [returned.submitter_id])
        steps = domain.plan_steps(policy, facts, returned.submitter_id, reads)
        submitter = reads.get_user(returned.submitter_id) if returned.submitter_id else None
        inputs = domain.plan_inputs(policy, facts, submitter or domain.OrgUser(id=returned.submitter_id))
        reason = domain.replan_reason(returned.inputs, returned.chain, inputs, domain.planned_chain(steps))
        return Replan(policy=policy, steps=steps, inputs=inputs, reason=reason) if reason else None

    @rpc
    def CancelInstance(
        self, request: pb.CancelInstanceRequest, context: grpc.ServicerContext
    ) -> pb.CancelInstanceResponse:
        _required(require(request.instance_id, "instance_id", "审批实例", "instance_id"))
        return self.store.cancel_instance(request_id=request.request_id, instance_id=request.instance_id,
                                          actor_id=request.actor_id, action=request.action.strip() or "withdraw",
                                          comment=request.comment, channel=request.channel.strip())

    @rpc
    def ReassignStep(self, request: pb.ReassignStepRequest, context: grpc.ServicerContext) -> pb.ReassignStepResponse:
        _required(require(request.instance_id, "instance_id", "审批实例", "instance_id"))
        self._known_user(request.to_user_id.strip(), "to_user_id", context)
        return self.store.reassign_step(request_id=request.request_id, instance_id=request.instance_id,
                                        step_index=request.step_index, from_user_id=request.from_user_id.strip(),
                                        to_user_id=request.to_user_id.strip(), actor_id=request.actor_id,
                                        comment=request.comment, report_scope=request.report_scope.strip(),
                                        report_key=request.report_key)

    @rpc
    def RecordAction(self, request: pb.RecordActionRequest, context: grpc.ServicerContext) -> pb.RecordActionResponse:
        _required(require(request.instance_id, "instance_id", "审批实例", "instance_id"))
        if request.action == "cc":
            if not request.user_ids:
                raise ValidationFailed([FieldViolation("user_ids", "请指定抄送人", "user_ids is required")])
            for i, user in enumerate(request.user_ids):
                self._known_user(user, f"user_ids[{i}]", context)
        return self.store.record_action(request_id=request.request_id, instance_id=request.instance_id,
                                        step_index=request.step_index, actor_id=request.actor_id,
                                        action=request.action.strip(), comment=request.comment,
                                        channel=request.channel.strip(), user_ids=list(request.user_ids),
                                        attachments=mapping.attachments_from_proto(request.attachments))

    # ------------------------------------------------------------ cc and delegation

    @rpc
    def ListCc(self, request: pb.ListCcRequest, context: grpc.ServicerContext) -> pb.ListCcResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        return pb.ListCcResponse(items=self.store.list_cc(user_id=request.user_id))

    @rpc
    def MarkCcRead(self, request: pb.MarkCcReadRequest, context: grpc.ServicerContext) -> pb.MarkCcReadResponse:
        _required(
            require(request.cc_id, "cc_id", "抄送", "cc_id"), require(request.user_id, "user_id", "用户", "user_id")
        )
        return pb.MarkCcReadResponse(cc=self.store.mark_cc_read(cc_id=request.cc_id, user_id=request.user_id))

    @rpc
    def SetDelegation(
        self, request: pb.SetDelegationRequest, context: grpc.ServicerContext
    ) -> pb.SetDelegationResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        delegate = request.delegate_id.strip()
        starts = mapping.utc(request.starts_at.ToDatetime()) if request.HasField("starts_at") else None
        ends = mapping.utc(request.ends_at.ToDatetime()) if request.HasField("ends_at") else None
        if delegate:
            violations: list[FieldViolation] = []
            if delegate == request.user_id:
                violations.append(FieldViolation("delegate_id", "不能委托给自己", "cannot delegate to yourself"))
            if starts is None:
                violations.append(FieldViolation("starts_at", "开始时间为必填项", "starts_at is required"))
            if ends is None:
                violations.append(FieldViolation("ends_at", "结束时间为必填项", "ends_at is required"))
            if starts is not None and ends is not None and ends <= starts:
                violations.append(
                    FieldViolation("ends_at", "结束时间须晚于开始时间", "ends_at must be after starts_at")
                )
            if violations:
                raise ValidationFailed(violations)
            self._known_user(delegate, "delegate_id", context)
        return self.store.set_delegation(request_id=request.request_id, user_id=request.user_id,
                                         delegate_id=delegate, starts_at=starts, ends_at=ends)

    @rpc
    def GetDelegation(
        self, request: pb.GetDelegationRequest, context: grpc.ServicerContext
    ) -> pb.GetDelegationResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        return pb.GetDelegationResponse(delegation=self.store.get_delegation(user_id=request.user_id))

    # ------------------------------------------------------------ reads

    @rpc
    def GetTask(self, request: pb.GetTaskRequest, context: grpc.ServicerContext) -> pb.GetTaskResponse:
        _required(require(request.task_id, "task_id", "审批任务", "task_id"))
        return self.store.get_task(task_id=request.task_id, actor_id=request.actor_id)

    @rpc
    def ListTodos(self, request: pb.ListTodosRequest, context: grpc.ServicerContext) -> pb.ListTodosResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        return pb.ListTodosResponse(tasks=self.store.list_todos(user_id=request.user_id))

    @rpc
    def ClaimTaskClosings(
        self, request: pb.ClaimTaskClosingsRequest, context: grpc.ServicerContext
    ) -> pb.ClaimTaskClosingsResponse:
        return pb.ClaimTaskClosingsResponse(closings=self.store.claim_task_closings(limit=request.limit or 100))

    @rpc
    def AckTaskClosings(
        self, request: pb.AckTaskClosingsRequest, context: grpc.ServicerContext
    ) -> pb.AckTaskClosingsResponse:
        return pb.AckTaskClosingsResponse(acknowledged=self.store.ack_task_closings(seqs=list(request.seqs)))

    @rpc
    def ClaimEvents(self, request: pb.ClaimEventsRequest, context: grpc.ServicerContext) -> pb.ClaimEventsResponse:
        rows = event_outbox.claim(self.store.engine, event_outbox_table, limit=request.limit or 100)
        return pb.ClaimEventsResponse(events=[pb.OutboxEvent(seq=seq, event=data) for seq, data in rows])

    @rpc
    def AckEvents(self, request: pb.AckEventsRequest, context: grpc.ServicerContext) -> pb.AckEventsResponse:
        return pb.AckEventsResponse(
            acknowledged=event_outbox.ack(self.store.engine, event_outbox_table, seqs=list(request.seqs)))

    @rpc
    def ClaimNotices(self, request: pb.ClaimNoticesRequest, context: grpc.ServicerContext) -> pb.ClaimNoticesResponse:
        rows = event_outbox.claim(self.store.engine, notice_outbox_table, limit=request.limit or 100)
        return pb.ClaimNoticesResponse(
            notices=[pb.OutboxNotice(seq=seq, notice=pb.Notice.FromString(data)) for seq, data in rows])

    @rpc
    def AckNotices(self, request: pb.AckNoticesRequest, context: grpc.ServicerContext) -> pb.AckNoticesResponse:
        return pb.AckNoticesResponse(
            acknowledged=event_outbox.ack(self.store.engine, notice_outbox_table, seqs=list(request.seqs)))

    @rpc
    def ForecastInstance(
        self, request: pb.ForecastInstanceRequest, context: grpc.ServicerContext
    ) -> pb.ForecastInstanceResponse:
        _required(require(request.project_id, "project_id", "项目", "project_id"))
        now = request.at.ToDatetime(tzinfo=UTC) if request.HasField("at") else datetime.now(UTC)
        return self.store.forecast_instance(project_id=request.project_id, now=now)

    @rpc
    def GetInstance(self, request: pb.GetInstanceRequest, context: grpc.ServicerContext) -> pb.GetInstanceResponse:
        _required(require(request.project_id, "project_id", "项目", "project_id"))
        return pb.GetInstanceResponse(instance=self.store.get_instance(
            project_id=request.project_id, purpose=request.purpose, subject_id=request.subject_id.strip()))

    @rpc
    def ListApproverProjects(
        self, request: pb.ListApproverProjectsRequest, context: grpc.ServicerContext
    ) -> pb.ListApproverProjectsResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        return pb.ListApproverProjectsResponse(project_ids=self.store.list_approver_projects(user_id=request.user_id))

    @rpc
    def ListDecided(self, request: pb.ListDecidedRequest, context: grpc.ServicerContext) -> pb.ListDecidedResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        if not 0 <= request.limit <= DECIDED_MAX:
            raise ValidationFailed([FieldViolation("limit", f"须在 1 到 {DECIDED_MAX} 之间",
                                                   f"must be between 1 and {DECIDED_MAX}")])
        items, next_cursor = self.store.list_decided(
            user_id=request.user_id, limit=request.limit or DECIDED_DEFAULT, cursor=request.cursor.strip()
        )
        return pb.ListDecidedResponse(items=items, next_cursor=next_cursor)
