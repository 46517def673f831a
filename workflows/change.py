"""ProjectChange (id ``change-<change id>``): the approval chain of one change request (变更) of an
active project, then its outcome.

    registry.GetProject ─► the project as it would be after the change (amount, dates, fields)
      ─► approval.PlanChain(purpose change, subject = the change, the form's policy on those facts:
         a raise past a policy branch brings in that branch's approvers)
      for each step: approval.OpenStep ─► notify.Send(approval_request, action links) to its
                     approvers ─► wait for the step's outcome (update ``decide``), firing the
                     step's SLA timers through approval.FireTimer (remind / escalate / timeout)
      approved ─► change.SettleChange(approved): the registry applies it in one transaction
                  (history ``changed`` with the diff, audit) ─► reporting ``project.edited``
                  ─► tasks.SaveBaseline when the change asked to re-set the baseline
                  ─► the owner is told (change_approved)
      rejected / returned ─► change.SettleChange(rejected, reason): nothing applied ─► the owner
                             is told the reason (change_rejected)
      update ``withdraw`` (owner, while pending) ─► approval.CancelInstance ─► SettleChange(withdrawn)

The update ``decide`` takes the same payloads as ProjectLifecycle's (the edge routes a task's
decision here when the task's instance has purpose ``change``: workflow id from its subject).

Determinism: no I/O, clocks or randomness; every side effect is a (local) activity whose request id
is derived from the workflow id, the change id and the step.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.approval import ApprovalActivities
    from workflows.activities.change import ChangeActivities
    from workflows.activities.notify import NotifyActivities
    from workflows.activities.registry import RegistryActivities
    from workflows.activities.reporting import ReportingActivities
    from workflows.activities.tasks import TasksActivities
    from workflows.contracts.approval import (
        CancelApprovalInput,
        FireTimerInput,
        OpenedStep,
        OpenStepInput,
        PlanChainInput,
        PlannedStep,
        RecordDecisionInput,
        TaskRef,
        TimerRef,
    )
    from workflows.contracts.change import (
        CHANGE_PURPOSE,
        CHANGE_WORKFLOW_TYPE,
        QUERY_STATE,
        UPDATE_DECIDE,
        UPDATE_WITHDRAW,
        ChangeInput,
        ChangeResult,
        ChangeState,
        SettleChangeInput,
        WithdrawChangeInput,
        WithdrawChangeResult,
    )
    from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_VALIDATION
    from workflows.contracts.lifecycle import DecisionInput, DecisionResult
    from workflows.contracts.notify import SendInput
    from workflows.contracts.policies import (
        ACTIVITY_TIMEOUT,
        BACKGROUND_RETRY,
        CALLER_RETRY,
        CALLER_TIMEOUT,
        LOCAL_RETRY_THRESHOLD,
    )
    from workflows.contracts.registry import GetProjectInput, ProjectSnapshot
    from workflows.contracts.reporting import ReportEventInput
    from workflows.contracts.tasks import SaveBaselineInput

CALLER_ERRORS = (ERR_VALIDATION, ERR_NOT_FOUND, ERR_FORBIDDEN, ERR_CONFLICT)
ACTIONS = ("approve", "reject", "return", "transfer", "add_approver")
SYSTEM = "system"


def _text(locale: str, zh: str, en: str) -> str:
    return en if locale.lower().startswith("en") else zh


def changed_facts(project: ProjectSnapshot, inp: ChangeInput) -> ProjectSnapshot:
    """The project as it would be after the change: what the form's policy decides on."""
    fields = dict(project.fields)
    for key, value in inp.fields.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return dataclasses.replace(
        project, amount=inp.amount or project.amount,
        start_date=project.start_date if inp.start_date is None else inp.start_date, fields=fields,
    )


@workflow.defn(name=CHANGE_WORKFLOW_TYPE)
class ProjectChange:
    @workflow.init
    def __init__(self, inp: ChangeInput) -> None:
        self._inp = inp
        self._wid = workflow.info().workflow_id
        self._key = f"{self._wid}:{inp.change_id}"
        self._project = ProjectSnapshot(id=inp.project_id)
        self._stage = "approval"
        self._instance_id = ""
        self._step_index = -1
        self._approvers: list[str] = []
        self._open_seq = 0
        self._acted_seq = 0
        self._step_outcome: str | None = None
        self._return_to = -1
        self._decider = ""
        self._comment = ""
        self._timers_fired = 0
        self._withdrawn = False
        self._withdrawing = False
        self._done = False

    # ---------------------------------------------------------------- main

    @workflow.run
    async def run(self, inp: ChangeInput) -> ChangeResult:
        steps: list[str] = []
        self._project = await self._call(RegistryActivities.get_project, GetProjectInput(project_id=inp.project_id))
        plan = await self._call(
            ApprovalActivities.plan_chain,
            PlanChainInput(request_id=f"{self._key}:plan", project=changed_facts(self._project, inp),
                           submitter_id=inp.actor_id, purpose=CHANGE_PURPOSE, subject_id=inp.change_id),
        )
        self._instance_id = plan.instance_id
        steps.append("plan")
        outcome = await self._walk(plan.steps)
        if outcome == "withdrawn":
            # The withdraw update cancelled the chain and settled the request.
            await workflow.wait_condition(lambda: self._done)
            await workflow.wait_condition(workflow.all_handlers_finished)
            return ChangeResult(project_id=inp.project_id, change_id=inp.change_id, outcome="withdrawn",
                                reason=self._comment, steps=[*steps, "withdrawn"])
        steps.append("approval")
        reason = self._comment
        if outcome == "approved":
            refused = await self._apply(inp, reason)
            if refused:
                # The project moved on meanwhile (closed, or a value no longer valid): the change is
                # cancelled with the registry's reason, nothing applied, the owner told.
                steps += ["cancelled", "notify_owner"]
                self._stage = "cancelled"
                await self._send("cancelled", [self._project.owner_id, inp.actor_id], "change_rejected",
                                 comment=refused)
                self._done = True
                self._acted_seq = self._open_seq
                await workflow.wait_condition(workflow.all_handlers_finished)
                return ChangeResult(project_id=inp.project_id, change_id=inp.change_id, outcome="cancelled",
                                    reason=refused, steps=steps)
            steps.append("applied")
            self._stage = "approved"
            self._project = await self._call(RegistryActivities.get_project,
                                             GetProjectInput(project_id=inp.project_id))
            await self._call(ReportingActivities.ingest_event, ReportEventInput(
                event_id=f"{self._key}:project.edited", type="project.edited", project_id=inp.project_id,
                at=workflow.now().isoformat(), actor_id=self._decider or SYSTEM, project=self._project))
            steps.append("reported")
            if inp.reset_baseline:
                await self._call(TasksActivities.save_baseline, SaveBaselineInput(
                    request_id=f"{self._key}:baseline", project_id=inp.project_id, name=f"变更 {inp.change_id[:8]}"))
                steps.append("baseline")
            await self._send("approved", [self._project.owner_id, inp.actor_id], "change_approved", comment=reason)
            steps.append("notify_owner")
        else:
            if not reason:
                reason = "变更未通过审批" if outcome == "rejected" else "变更被退回"
            await self._call(ChangeActivities.settle, SettleChangeInput(
                request_id=f"{self._key}:settle:rejected", change_id=inp.change_id, status="rejected",
                actor_id=self._decider or SYSTEM, reason=reason))
            steps.append("rejected")
            self._stage = "rejected"
            await self._send("rejected", [self._project.owner_id, inp.actor_id], "change_rejected", comment=reason)
            steps.append("notify_owner")
        self._done = True
        self._acted_seq = self._open_seq
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ChangeResult(project_id=inp.project_id, change_id=inp.change_id,
                            outcome="approved" if outcome == "approved" else "rejected",
                            reason="" if outcome == "approved" else reason, steps=steps)

    async def _apply(self, inp: ChangeInput, reason: str) -> str:
        """Settle the approved change (the registry applies it); the registry's refusal, if any."""
        try:
            await self._call(ChangeActivities.settle, SettleChangeInput(
                request_id=f"{self._key}:settle:approved", change_id=inp.change_id, status="approved",
                actor_id=self._decider or SYSTEM, reason=reason))
        except (ActivityError, ApplicationError) as err:
            # The worker's interceptor may hand over the activity's ApplicationError itself.
            cause = err.cause if isinstance(err, ActivityError) else err
            if not (isinstance(cause, ApplicationError) and cause.type in (ERR_CONFLICT, ERR_VALIDATION)):
                raise
            refused = f"变更未能生效：{cause.message}"
            await self._call(ChangeActivities.settle, SettleChangeInput(
                request_id=f"{self._key}:settle:cancelled", change_id=inp.change_id, status="cancelled",
                actor_id=SYSTEM, reason=refused))
            return refused
        return ""

    async def _walk(self, plan: list[PlannedStep]) -> str:
        """Walk the chain: "approved", "rejected" or "returned"."""
        index = 0
        while index < len(plan):
            step = plan[index]
            self._open_seq += 1
            seq = self._open_seq
            self._timers_fired = 0
            self._step_index = index
            self._step_outcome = None
            self._return_to = -1
            opened: OpenedStep = await self._call(
                ApprovalActivities.open_step,
                OpenStepInput(request_id=f"{self._key}:open:{index}:{seq}", instance_id=self._instance_id,
                              step_index=index),
            )
            if opened.status in ("approved", "skipped"):
                self._acted_seq = max(self._acted_seq, seq)
                index += 1
                continue
            if opened.status == "rejected":
                return "rejected"
            pending = [t for t in opened.tasks if t.status == "pending"]
            self._approvers = sorted({t.approver_id for t in pending})
            # The step is open (its to-dos exist): release the previous step's decide caller.
            self._acted_seq = max(self._acted_seq, seq - 1)
            await self._notify_tasks(f"step{index}:{seq}", pending, opened.name or step.name)
            # The deciding caller is released at the next opening, or once the request is settled.
            outcome = await self._wait_step(step, opened, seq)
            if outcome in ("rejected", "withdrawn"):
                return outcome
            if outcome == "returned":
                if self._return_to < 0:
                    return "returned"
                index = self._return_to
                continue
            index += 1
        return "approved"

    def _settled_or_withdrawn(self) -> bool:
        return self._step_outcome is not None or self._withdrawn

    async def _wait_step(self, step: PlannedStep, opened: OpenedStep, seq: int) -> str:
        timers = sorted(opened.timers, key=lambda t: t.index)
        while not self._settled_or_withdrawn():
            upcoming = [t for t in timers if t.index >= self._timers_fired]
            if not upcoming:
                await workflow.wait_condition(self._settled_or_withdrawn)
                break
            delay = (datetime.fromisoformat(upcoming[0].at) - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(self._settled_or_withdrawn, timeout=timedelta(seconds=delay))
                    break
                except TimeoutError:
                    pass
            if self._withdrawing:
                await workflow.wait_condition(lambda: not self._withdrawing)
                continue
            await self._fire(step, upcoming[0], seq)
            self._timers_fired = upcoming[0].index + 1
        return "withdrawn" if self._withdrawn else str(self._step_outcome)

    async def _fire(self, step: PlannedStep, timer: TimerRef, seq: int) -> None:
        result = await self._call(
            ApprovalActivities.fire_timer,
            FireTimerInput(request_id=f"{self._key}:timer:{step.index}:{seq}:{timer.index}",
                           instance_id=self._instance_id, step_index=step.index, timer_index=timer.index),
        )
        if not result.fired:
            return
        key = f"step{step.index}:{seq}:timer{timer.index}"
        if timer.action == "remind":
            await self._send(key, result.remind_user_ids, "approval_remind", step=step.name)
        elif timer.action == "escalate":
            self._approvers = sorted(set(result.pending_approvers))
            await self._notify_tasks(f"{key}:esc", [t for t in result.new_tasks if t.status == "pending"], step.name,
                                     escalated=True)
        if result.step_outcome in ("approved", "rejected") and self._step_outcome is None:
            self._decider = SYSTEM
            self._comment = "审批超时，按策略自动处理"
            self._step_outcome = result.step_outcome

    # ---------------------------------------------------------------- notifications

    def _context(self, step: str = "", comment: str = "", **extra: Any) -> dict[str, Any]:
        p = self._project
        out: dict[str, Any] = {"project_id": p.id, "code": p.code, "name": p.name, "customer": p.customer_name,
                               "amount": p.amount, "purpose": CHANGE_PURPOSE,
                               "change_id": self._inp.change_id}
        if step:
            out["step"] = step
        if comment:
            out["comment"] = comment
        out.update(extra)
        return out

    async def _send(self, key: str, recipients: list[str], kind: str, *, step: str = "", comment: str = "") -> None:
        users = sorted({r for r in recipients if r})
        if not users:
            return
        await self._call(NotifyActivities.send, SendInput(
            request_id=f"{self._key}:notify:{key}:{kind}", recipient_ids=users, kind=kind, title="",
            project_id=self._project.id, context=self._context(step=step, comment=comment)))

    async def _notify_tasks(self, key: str, tasks: list[TaskRef], step_name: str, *, escalated: bool = False) -> None:
        """One approval request per task, with its action link."""
        for task in tasks:
            await self._call(NotifyActivities.send, SendInput(
                request_id=f"{self._key}:notify:{key}:{task.approver_id}:{task.id}", recipient_ids=[task.approver_id],
                kind="approval_request", title="", project_id=self._project.id,
                action_tasks={task.approver_id: task.id},
                context=self._context(step=step_name, task_id=task.id, escalated=escalated)))

    # ---------------------------------------------------------------- decide

    @workflow.update(name=UPDATE_DECIDE)
    async def decide(self, inp: DecisionInput) -> DecisionResult:
        try:
            outcome = await self._call(
                ApprovalActivities.record_decision,
                RecordDecisionInput(
                    request_id=f"{self._key}:decide:{inp.task_id}:{inp.user_id}:{inp.action}"
                    + (f":{inp.position}:{inp.to_user_id}" if inp.action in ("transfer", "add_approver") else "")
                    + (f":{inp.to_step}" if inp.action == "return" else ""),
                    task_id=inp.task_id, actor_id=inp.user_id, action=inp.action, comment=inp.comment,
                    channel=inp.channel, locale=inp.locale, to_user_id=inp.to_user_id, position=inp.position,
                    to_step=inp.to_step, link_id=inp.link_id, attachments=list(inp.attachments),
                ),
                caller=True,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in CALLER_ERRORS:
                violations = cause.details[0] if cause.details else []
                raise ApplicationError(cause.message, violations, type=cause.type, non_retryable=True) from None
            busy = _text(inp.locale, "服务暂时不可用，请稍后重试", "service unavailable, try again later")
            raise ApplicationError(busy, [], type=ERR_UNAVAILABLE, non_retryable=True) from None
        seq = self._open_seq
        current = outcome.instance_id == self._instance_id and outcome.step_index == self._step_index
        settles = outcome.step_outcome in ("approved", "rejected", "returned")
        if current and settles and self._step_outcome is None:
            self._decider = inp.user_id
            self._comment = inp.comment
            self._return_to = outcome.return_to
            self._step_outcome = outcome.step_outcome
        elif current:
            self._approvers = sorted(set(outcome.pending_approvers))
        if outcome.new_tasks:
            await self._notify_tasks(f"step{outcome.step_index}:{seq}:{inp.action}:{inp.task_id}", outcome.new_tasks,
                                     outcome.step_name)
        if current and settles:
            # Answer once the loop has acted on the outcome (next step open, or settled and closed).
            await workflow.wait_condition(lambda: self._acted_seq >= seq or self._done)
        # A change leaves the project active whatever its outcome.
        return DecisionResult(project_id=self._inp.project_id, status=self._project.status or "active")

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        if inp.action not in ACTIONS:
            text = _text(inp.locale, f"不支持的操作：{inp.action}", f"unsupported action: {inp.action}")
            raise ApplicationError(text, [], type=ERR_VALIDATION, non_retryable=True)
        if self._done or self._withdrawn or self._withdrawing or self._instance_id == "":
            raise ApplicationError(_text(inp.locale, "变更审批已结束", "the change approval is over"),
                                   [], type=ERR_CONFLICT, non_retryable=True)

    # ---------------------------------------------------------------- withdraw

    @workflow.update(name=UPDATE_WITHDRAW)
    async def withdraw(self, inp: WithdrawChangeInput) -> WithdrawChangeResult:
        """The proposer withdraws the pending change (the edge checks who may): the chain is
        cancelled, the request settled as withdrawn, nothing applied; the approvers are told."""
        if inp.actor_id != self._inp.actor_id and inp.actor_id != self._project.owner_id and not inp.actor_is_admin:
            raise ApplicationError(_text(inp.locale, "只有发起人可以撤回变更", "only the proposer may withdraw"),
                                   [], type=ERR_FORBIDDEN, non_retryable=True)
        self._withdrawing = True
        try:
            await workflow.wait_condition(lambda: self._instance_id != "")
            await self._call(ApprovalActivities.cancel, CancelApprovalInput(
                request_id=f"{self._key}:cancel", instance_id=self._instance_id, actor_id=inp.actor_id,
                action="withdraw", comment=inp.reason, channel="api", locale=inp.locale), caller=True)
            await self._call(ChangeActivities.settle, SettleChangeInput(
                request_id=f"{self._key}:settle:withdrawn", change_id=self._inp.change_id, status="withdrawn",
                actor_id=inp.actor_id, reason=inp.reason), caller=True)
        finally:
            self._withdrawing = False
        previous = list(self._approvers)
        self._withdrawn = True
        self._stage = "withdrawn"
        self._comment = inp.reason
        self._approvers = []
        await self._send("withdrawn", previous, "approval_withdrawn", comment=inp.reason)
        self._done = True
        return WithdrawChangeResult(change_id=self._inp.change_id, status="withdrawn")

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawChangeInput) -> None:
        if self._done or self._withdrawn or self._withdrawing or self._stage != "approval":
            text = _text(inp.locale, "变更申请已处理，不能撤回", "the change request is already settled")
            raise ApplicationError(text, [], type=ERR_CONFLICT, non_retryable=True)

    @workflow.query(name=QUERY_STATE)
    def state(self) -> ChangeState:
        return ChangeState(project_id=self._inp.project_id, change_id=self._inp.change_id,
                               stage=self._stage, instance_id=self._instance_id, step_index=self._step_index,
                               approvers=list(self._approvers))

    # ---------------------------------------------------------------- calls

    async def _call(self, fn: Any, arg: Any, *, caller: bool = False) -> Any:
        return await workflow.execute_local_activity_method(
            fn, arg,
            start_to_close_timeout=CALLER_TIMEOUT if caller else ACTIVITY_TIMEOUT,
            retry_policy=CALLER_RETRY if caller else BACKGROUND_RETRY,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
        )
