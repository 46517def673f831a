"""ProjectLifecycle: one workflow per project (id ``project-<id>``), started by the edge when the
project is created.

    draft ──submit──► approval ──(all steps approved)──► active
                         └──────(a step rejected)──────► rejected

* Update ``submit`` records the submission in the registry (the caller gets the registry's error
  if it refuses) and hands over to the main loop, which plans the approval chain and walks its
  steps: open the step, tell its approvers, wait for the step's outcome.
* Update ``decide`` records one approver's decision in the approval service; when that settles the
  step, it hands the outcome to the main loop and waits until the loop has acted on it (next step
  opened, or the project set active/rejected), so the caller sees the resulting status.
* Query ``state`` returns a ``LifecycleState``.

Approval engine (patch ``approval-engine-v2``; workflows started before it keep the first
version's logic, which stays below unchanged so their histories replay):

    draft ──submit──► approval ──► active | rejected
      │                  ├──return to submitter──► returned ──submit──► approval (resumes at the
      │                  │                                                returning step)
      └──withdraw────────┴──withdraw / admin cancel──► cancelled

* ``decide`` also takes return (to the submitter or an earlier step), transfer and add_approver;
  tasks it creates are notified, and every decision is a reporting event ``approval.decided``.
* Each open step sleeps on durable timers computed by the approval service (SLA in natural or
  working time on the mainland calendar): a reminder, the SLA's action, then each rung of the
  escalation ladder; a timer fires through ``approval.FireTimer``, which applies it once and only
  while the step is pending (a decision racing it: exactly one wins, the other gets 409).
* Updates ``withdraw`` (owner; admin cancel), ``remind`` (催办), ``cc`` (抄送), ``reassign`` (admin).
* The history stays bounded: while waiting, the workflow continues as new once the server
  suggests it (or past ``LifecycleInput.history_limit`` events), carrying its state.

Determinism: no I/O, clocks or randomness here; every side effect is an activity whose
``request_id`` / ``event_id`` is derived from the workflow id and the step. Changes to this logic
that affect running histories must be guarded with ``workflow.patched("<change-id>")`` (the replay
tests under tests/replay run recorded histories against this code).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.approval import ApprovalActivities
    from workflows.activities.notify import NotifyActivities
    from workflows.activities.registry import RegistryActivities
    from workflows.activities.reporting import ReportingActivities
    from workflows.calls import ActivityCalls
    from workflows.contracts import search_attributes as sa
    from workflows.contracts.approval import (
        CancelApprovalInput,
        FireTimerInput,
        OpenedStep,
        OpenStepInput,
        PlanChainInput,
        PlannedStep,
        ReassignStepInput,
        RecordActionInput,
        RecordDecisionInput,
        ResumeApprovalInput,
        TaskRef,
        TimerRef,
    )
    from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_VALIDATION
    from workflows.contracts.execution import EXECUTION_WORKFLOW_TYPE, ExecutionInput, execution_workflow_id
    from workflows.contracts.lifecycle import (
        QUERY_STATE,
        SIGNAL_OWNER_CHANGED,
        UPDATE_CC,
        UPDATE_DECIDE,
        UPDATE_REASSIGN,
        UPDATE_REMIND,
        UPDATE_SUBMIT,
        UPDATE_WITHDRAW,
        WORKFLOW_TYPE,
        CcInput,
        CcResult,
        DecisionInput,
        DecisionResult,
        LifecycleCarry,
        LifecycleInput,
        LifecycleResult,
        LifecycleState,
        OwnerChanged,
        ReassignInput,
        ReassignResult,
        RemindInput,
        RemindResult,
        SubmitInput,
        SubmitResult,
        WithdrawInput,
        WithdrawResult,
    )
    from workflows.contracts.notify import SendInput
    from workflows.contracts.policies import ACTIVITY_TIMEOUT, BACKGROUND_RETRY, CALLER_RETRY, CALLER_TIMEOUT
    from workflows.contracts.protection import PROTECTION_WORKFLOW_TYPE, ProtectionInput, protection_workflow_id
    from workflows.contracts.registry import GetProjectInput, ProjectSnapshot, SetProjectStatusInput, SubmitProjectInput
    from workflows.contracts.reporting import ReportEventInput

A = TypeVar("A")
T = TypeVar("T")

CALLER_ERRORS = (ERR_VALIDATION, ERR_NOT_FOUND, ERR_FORBIDDEN, ERR_CONFLICT)
ACTIONS = ("approve", "reject")
SUBMITTABLE = ("draft", "returned")
PATCH_V2 = "approval-engine-v2"
# A resubmission whose routing facts changed continues on the new chain the service planned.
PATCH_REPLAN = "replan-on-changed-facts"
# An empty chain is recorded as approved by the system, naming the policy.
PATCH_NO_APPROVAL = "no-approval-recorded"
# Independent side effects run concurrently (issue 15).
PATCH_CONCURRENT_EFFECTS = "concurrent-effects"
# Notifications sent once the waiting caller is released run as regular activities (issue 15).
PATCH_NOTICES_AFTER_ANSWER = "notices-after-answer"
ACTIONS_V2 = ("approve", "reject", "return", "transfer", "add_approver")
WITHDRAWABLE = ("draft", "approval", "returned")
# 催办 at most this often per project.
REMIND_INTERVAL = timedelta(minutes=10)
SYSTEM = "system"


def _text(locale: str, zh: str, en: str) -> str:
    return en if locale.lower().startswith("en") else zh


def _refuse(err_type: str, message: str, violations: list[dict[str, str]] | None = None) -> ApplicationError:
    return ApplicationError(message, violations or [], type=err_type, non_retryable=True)


def _amount(text: str) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


@workflow.defn(name=WORKFLOW_TYPE)
class ProjectLifecycle:
    @workflow.init
    def __init__(self, inp: LifecycleInput) -> None:
        self._project_id = inp.project_id
        self._owner_id = inp.owner_id
        self._wid = workflow.info().workflow_id
        self._project = ProjectSnapshot(id=inp.project_id, owner_id=inp.owner_id, status="draft")
        self._stage = "draft"
        self._status = "draft"
        # Successful submissions so far (one approval round each) and the rounds handled.
        self._round = 0
        self._rounds_started = 0
        self._submit_attempts = 0
        self._submitting = False
        # Planning the chain or opening a step is in flight (its instance/tasks are being created):
        # a withdrawal waits for it, so it cancels what was created instead of racing it.
        self._opening = False
        # The open step: "<instance>:<index>", its index and pending approvers.
        self._instance_id = ""
        self._step_key = ""
        self._step_index = -1
        self._approvers: list[str] = []
        # Outcome of the open step handed over by `decide`, and who decided it.
        self._step_outcome: str | None = None
        self._decider = ""
        self._decision_comment = ""
        # Steps whose outcome the main loop has acted on (decide handlers wait for this).
        self._acted: set[str] = set()
        self._unacked: list[str] = []
        # ---- approval engine (v2) state
        self._v2: bool | None = None
        self._history_limit = inp.history_limit
        self._plan: list[PlannedStep] = []
        self._open_seq = 0
        # v2 decide callers wait until the loop has acted on the opening they decided.
        self._acted_seq = 0
        self._ack_seq_pending = 0
        self._return_to = -1
        self._resume_pending = False
        self._cancelled = False
        self._wake = False
        self._timers_fired = 0
        self._sla_deadline_iso = ""
        self._last_remind_at = ""
        self._runs = 1
        self._activity = ActivityCalls()
        self._concurrent: bool | None = None
        self._remote_notices: bool | None = None
        self._given: ProjectSnapshot | None = (
            inp.project if inp.project is not None and inp.project.id == inp.project_id else None
        )
        self._carried = inp.carry is not None
        if inp.carry is not None:
            self._restore(inp.carry)

    # ---------------------------------------------------------------- main loop

    @workflow.run
    async def run(self, inp: LifecycleInput) -> LifecycleResult:
        if self._is_v2():
            return await self._run_v2()
        await self._record_created()

        await workflow.wait_condition(lambda: self._round > self._rounds_started)
        self._rounds_started = self._round
        outcome = await self._approval_round()
        await self._finish(outcome)

        # A finishing workflow fails update handlers still running: let them return first.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return LifecycleResult(project_id=self._project_id, status=self._status)

    async def _record_created(self) -> ProjectSnapshot:
        """Read the new project, show it in the Temporal UI and record ``project.created``."""
        # A starter that holds the project passes it (the input decides, so replays agree).
        created = self._given
        if created is None:
            created = await self._background(
                RegistryActivities.get_project, GetProjectInput(project_id=self._project_id)
            )
        if self._round == 0:  # unless a submit already brought a newer snapshot
            self._project = created
            self._status = created.status
            workflow.upsert_search_attributes(
                [
                    sa.STAGE.value_set(self._stage),
                    sa.AMOUNT.value_set(_amount(created.amount)),
                    sa.REGION.value_set(created.region),
                ]
            )
        await self._report("project.created", actor=self._owner_id, project=created)
        return created

    async def _approval_round(self) -> str:
        """Walk the chain of the current submission: "approved" or "rejected"."""
        round_no = self._round
        self._stage = "approval"
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set("approval"),
                sa.AMOUNT.value_set(_amount(self._project.amount)),
                sa.REGION.value_set(self._project.region),
            ]
        )
        await self._report("project.submitted", actor=self._owner_id)
        plan = await self._background(
            ApprovalActivities.plan_chain,
            PlanChainInput(
                request_id=f"{self._wid}:plan:{round_no}", project=self._project, submitter_id=self._owner_id
            ),
        )
        self._instance_id = plan.instance_id
        workflow.logger.info("approval chain planned: %d step(s)", len(plan.steps))
        for step in plan.steps:
            self._step_key = f"{plan.instance_id}:{step.index}"
            self._step_index = step.index
            self._step_outcome = None
            opened = await self._background(
                ApprovalActivities.open_step,
                OpenStepInput(
                    request_id=f"{self._wid}:open:{round_no}:{step.index}",
                    instance_id=plan.instance_id,
                    step_index=step.index,
                ),
            )
            if opened.auto_approved or opened.status in ("approved", "skipped"):
                workflow.logger.info("step %d (%s) %s without a decision", step.index, step.name, opened.status)
                continue
            if opened.status == "rejected":
                return "rejected"
            pending = [t for t in opened.tasks if t.status == "pending"]
            if not pending and not opened.approvers:
                workflow.logger.warning("step %d (%s) opened without approvers", step.index, step.name)
            self._approvers = sorted({t.approver_id for t in pending} or set(opened.approvers))
            deadline = self._sla_deadline(step, pending)
            workflow.upsert_search_attributes(
                [
                    sa.APPROVERS.value_set(self._approvers),
                    sa.SLA_DEADLINE.value_set(deadline) if deadline else sa.SLA_DEADLINE.value_unset(),
                ]
            )
            await self._notify_approvers(round_no, step, opened)
            # The loop has now acted on the previous step's outcome: release its decide caller.
            self._ack()
            await workflow.wait_condition(lambda: self._step_outcome is not None)
            self._unacked.append(self._step_key)
            if self._step_outcome == "rejected":
                return "rejected"
        return "approved"

    async def _finish(self, outcome: str) -> None:
        status, event = ("active", "approved") if outcome == "approved" else ("rejected", "rejected")
        self._project = await self._background(
            RegistryActivities.set_project_status,
            SetProjectStatusInput(
                request_id=f"{self._wid}:status:{self._round}:{status}",
                project_id=self._project_id,
                status=status,
                actor_id=self._decider,
                event=event,
                comment=self._decision_comment,
            ),
        )
        self._stage = status
        self._status = status
        self._approvers = []
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set(status), sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()]
        )
        self._ack()
        workflow.logger.info("project %s", status)
        kind = "project_approved" if status == "active" else "project_rejected"
        await self._together(
            self._report(f"project.{event}", actor=self._decider),
            self._notice(
                SendInput(
                    request_id=f"{self._wid}:notify:{self._round}:{kind}",
                    recipient_ids=[self._owner_id],
                    kind=kind,
                    title="",  # notify words it (services/notify/wording.py)
                    project_id=self._project_id,
                    context=self._context(comment=self._decision_comment),
                ),
                released=True,
            ),
            *([self._start_delivery()] if status == "active" else []),
        )

    async def _start_delivery(self) -> None:
        """An active project is delivered by its own long-running workflows (ABANDON: they outlive
        this one); starting one that already runs (the edge or a promotion got there first) is fine."""
        p = self._project
        # Issue 6: execution (plan, schedule, rules).
        if workflow.patched("start-execution"):
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    EXECUTION_WORKFLOW_TYPE,
                    ExecutionInput(
                        project_id=p.id,
                        owner_id=self._owner_id,
                        name=p.name,
                        business_line=p.business_line,
                        amount=p.amount,
                        start=p.start_date,
                    ),
                    id=execution_workflow_id(self._project_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    # BaobeiCode + UI summary at start: not in the replay check, no patch needed.
                    **sa.project_start_options(EXECUTION_WORKFLOW_TYPE, p.code, p.name),
                )
        # Issue 3: the customer's protection period (保护期).
        if workflow.patched("start-protection"):
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    PROTECTION_WORKFLOW_TYPE,
                    ProtectionInput(project_id=self._project_id),
                    id=protection_workflow_id(self._project_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    **sa.project_start_options(PROTECTION_WORKFLOW_TYPE, p.code, p.name),
                )

    def _ack(self) -> None:
        self._acted.update(self._unacked)
        self._unacked = []
        self._acted_seq = max(self._acted_seq, self._ack_seq_pending)

    def _sla_deadline(self, step: PlannedStep, pending: list[TaskRef]) -> datetime | None:
        dues = sorted(datetime.fromisoformat(t.due_at) for t in pending if t.due_at)
        if dues:
            return dues[0]
        if step.sla_seconds > 0:
            return workflow.now() + timedelta(seconds=step.sla_seconds)
        return None

    def _context(self, step: str = "", comment: str = "", **extra: Any) -> dict[str, Any]:
        """Template context of a notification (JSON values only; only activity inputs change)."""
        p = self._project
        out: dict[str, Any] = {
            "project_id": self._project_id,
            "code": p.code,
            "name": p.name,
            "customer": p.customer_name,
            "amount": p.amount,
        }
        if step:
            out["step"] = step
        if comment:
            out["comment"] = comment
        out.update(extra)
        return out

    async def _notify_approvers(self, round_no: int, step: PlannedStep, opened: OpenedStep) -> None:
        task_of = {t.approver_id: t.id for t in opened.tasks if t.status == "pending"}
        for approver in self._approvers:
            await self._background(
                NotifyActivities.send,
                SendInput(
                    request_id=f"{self._wid}:notify:{round_no}:step{step.index}:{approver}",
                    recipient_ids=[approver],
                    kind="approval_request",
                    title="",
                    project_id=self._project_id,
                    action_tasks={approver: task_of[approver]} if approver in task_of else {},
                    context=self._context(step=opened.name or step.name,
                                          **({"task_id": task_of[approver]} if approver in task_of else {})),
                ),
            )

    async def _report(self, event_type: str, *, actor: str, project: ProjectSnapshot | None = None) -> None:
        await self._background(
            ReportingActivities.ingest_event,
            ReportEventInput(
                event_id=f"{self._wid}:{event_type}:{self._round}",
                type=event_type,
                project_id=self._project_id,
                at=workflow.now().isoformat(),
                actor_id=actor,
                project=project or self._project,
            ),
        )

    # ---------------------------------------------------------------- approval engine (v2)

    def _is_v2(self) -> bool:
        """Workflows started before the approval engine keep its first version (their histories
        carry no marker); continued-as-new runs are v2 by construction."""
        if self._v2 is None:
            self._v2 = True if self._carried else workflow.patched(PATCH_V2)
        return self._v2

    def _restore(self, c: LifecycleCarry) -> None:
        self._project = ProjectSnapshot(**c.project)
        self._stage, self._status = c.stage, c.status
        self._round, self._rounds_started, self._submit_attempts = c.round, c.rounds_started, c.submit_attempts
        self._instance_id = c.instance_id
        self._plan = [PlannedStep(**s) for s in c.steps]
        self._step_index = c.step_index
        # The opening being waited on has not been acted on yet.
        self._open_seq = c.open_seq
        self._acted_seq = self._ack_seq_pending = c.open_seq - 1
        self._timers_fired = c.timers_fired
        self._resume_pending = c.resume_pending
        self._last_remind_at = c.last_remind_at
        self._runs = c.runs

    def _carry(self) -> LifecycleCarry:
        return LifecycleCarry(
            project=dataclasses.asdict(self._project),
            stage=self._stage,
            status=self._status,
            round=self._round,
            rounds_started=self._rounds_started,
            submit_attempts=self._submit_attempts,
            instance_id=self._instance_id,
            steps=[dataclasses.asdict(s) for s in self._plan],
            step_index=self._step_index,
            open_seq=self._open_seq,
            timers_fired=self._timers_fired,
            resume_pending=self._resume_pending,
            last_remind_at=self._last_remind_at,
            runs=self._runs + 1,
        )

    def _maybe_continue_as_new(self) -> None:
        """Between events only, with no update in flight: continue as new carrying the state."""
        info = workflow.info()
        too_long = bool(self._history_limit) and info.get_current_history_length() > self._history_limit
        if not (too_long or info.is_continue_as_new_suggested()) or not workflow.all_handlers_finished():
            return
        workflow.logger.info("continuing as new after %d events", info.get_current_history_length())
        workflow.continue_as_new(
            LifecycleInput(
                project_id=self._project_id,
                owner_id=self._owner_id,
                carry=self._carry(),
                history_limit=self._history_limit,
            )
        )

    async def _run_v2(self) -> LifecycleResult:
        if not self._carried:
            created = await self._record_created()
            if created.status not in SUBMITTABLE and self._round == 0 and workflow.patched("imported-project"):
                # Registered past approval (Excel import of existing registrations): nothing to
                # submit; an active project still gets its delivery and protection workflows.
                self._stage = self._status = created.status
                workflow.upsert_search_attributes([sa.STAGE.value_set(created.status)])
                if created.status == "active":
                    await self._start_delivery()
                return LifecycleResult(project_id=self._project_id, status=self._status)
        resuming = self._carried and self._stage == "approval"
        while not self._cancelled:
            if not resuming:
                while not (self._round > self._rounds_started or self._cancelled):
                    await workflow.wait_condition(
                        lambda: self._round > self._rounds_started or self._cancelled or self._wake
                    )
                    self._wake = False
                    self._maybe_continue_as_new()
                if self._cancelled:
                    break
                self._rounds_started = self._round
            outcome = await self._round_v2(resuming=resuming)
            resuming = False
            if outcome == "returned":
                await self._returned()
                continue
            if outcome in ("approved", "rejected"):
                await self._finish(outcome)
            break
        if self._cancelled:
            await self._after_cancel()
        # A finishing workflow fails update handlers still running: let them return first.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return LifecycleResult(project_id=self._project_id, status=self._status)

    async def _round_v2(self, *, resuming: bool) -> str:
        """Walk the chain of the current submission from where it stands: "approved",
        "rejected", "returned" (to the submitter) or "cancelled"."""
        round_no = self._round
        index = self._step_index
        if not resuming:
            self._opening = True
            self._stage = "approval"
            workflow.upsert_search_attributes(
                [
                    sa.STAGE.value_set("approval"),
                    sa.AMOUNT.value_set(_amount(self._project.amount)),
                    sa.REGION.value_set(self._project.region),
                ]
            )
            await self._report("project.submitted", actor=self._owner_id)
            if self._resume_pending and self._instance_id:
                resumed = await self._background(
                    ApprovalActivities.resume,
                    ResumeApprovalInput(
                        request_id=f"{self._wid}:resume:{round_no}",
                        instance_id=self._instance_id,
                        project=self._project,
                        actor_id=self._owner_id,
                    ),
                )
                self._plan, index = resumed.steps, resumed.resume_from
                if resumed.instance_id != self._instance_id and workflow.patched(PATCH_REPLAN):
                    # The routing facts changed: the service planned a new chain from the start.
                    self._instance_id = resumed.instance_id
                    workflow.logger.info("resubmitted with changed routing facts, re-planned: %s",
                                         resumed.replanned)
                else:
                    workflow.logger.info("resubmitted: resuming at step %d", index)
            else:
                plan = await self._background(
                    ApprovalActivities.plan_chain,
                    PlanChainInput(
                        request_id=f"{self._wid}:plan:{round_no}", project=self._project, submitter_id=self._owner_id
                    ),
                )
                self._instance_id, self._plan, index = plan.instance_id, plan.steps, 0
                workflow.logger.info("approval chain planned: %d step(s)", len(plan.steps))
                if not plan.steps and workflow.patched(PATCH_NO_APPROVAL):
                    # An explicit no-approval policy (or no step applies): say so in the history.
                    self._decider = SYSTEM
                    self._decision_comment = f"审批策略 {plan.policy_key} 无需审批，提交即通过"
            self._resume_pending = False
        while index < len(self._plan):
            if self._cancelled:
                return "cancelled"
            step = self._plan[index]
            reopen = resuming
            resuming = False
            if not reopen:
                self._open_seq += 1
                self._timers_fired = 0
            seq = self._open_seq
            self._step_index = index
            self._step_key = f"{self._instance_id}:{index}:{seq}"
            self._step_outcome = None
            self._return_to = -1
            # A continued run asks for the step as it is now (transfers may have changed it).
            request_id = f"{self._wid}:open:{round_no}:{index}:{seq}" + (f":run{self._runs}" if reopen else "")
            self._opening = True
            try:
                opened = await self._background(
                    ApprovalActivities.open_step,
                    OpenStepInput(request_id=request_id, instance_id=self._instance_id, step_index=index),
                )
            finally:
                self._opening = False
            if opened.status in ("approved", "skipped"):
                workflow.logger.info("step %d (%s) %s without a decision", index, step.name, opened.status)
                if opened.auto_approved and not reopen:
                    await self._emit_decided(step.index, opened.name or step.name, opened.approvers[:1], "approve",
                                             "auto", key=f"auto:{seq}")
                self._ack_seq_pending = seq
                index += 1
                continue
            if opened.status == "rejected":
                self._ack_seq_pending = seq
                return "rejected"
            pending = [t for t in opened.tasks if t.status == "pending"]
            if not pending:
                workflow.logger.warning("step %d (%s) is waiting for an approver to be assigned", index, step.name)
            self._approvers = sorted({t.approver_id for t in pending})
            self._sla_deadline_iso = opened.due_at
            self._set_approver_attributes()
            # The next step is open (its to-dos exist): release the previous step's decide
            # caller now; notifications and analytics follow without holding the answer back.
            self._ack()
            if not reopen:
                await self._together(
                    self._notify_tasks(round_no, f"step{index}", pending, opened.name or step.name, released=True),
                    self._notify_cc(f"{round_no}:step{index}:{seq}", opened.cc, opened.name or step.name,
                                    released=True),
                    self._emit(
                        "approval.step_opened",
                        f"{self._wid}:approval.step_opened:{self._instance_id}:{index}:{seq}",
                        {
                            "instance_id": self._instance_id,
                            "step_index": index,
                            "step": opened.name or step.name,
                            "approvers": sorted(set(opened.approvers)),
                            "opened_at": opened.opened_at or workflow.now().isoformat(),
                        },
                    ),
                )
            outcome = await self._wait_step(round_no, step, opened, seq)
            self._ack_seq_pending = seq
            self._unacked.append(self._step_key)
            if outcome == "cancelled":
                return "cancelled"
            if outcome == "rejected":
                return "rejected"
            if outcome == "returned":
                if self._return_to < 0:
                    return "returned"
                workflow.logger.info("step %d returned to step %d", index, self._return_to)
                index = self._return_to
                continue
            index += 1
        return "approved"

    def _set_approver_attributes(self) -> None:
        deadline = datetime.fromisoformat(self._sla_deadline_iso) if self._sla_deadline_iso else None
        workflow.upsert_search_attributes(
            [
                sa.APPROVERS.value_set(self._approvers) if self._approvers else sa.APPROVERS.value_unset(),
                sa.SLA_DEADLINE.value_set(deadline) if deadline else sa.SLA_DEADLINE.value_unset(),
            ]
        )

    async def _wait_step(self, round_no: int, step: PlannedStep, opened: OpenedStep, seq: int) -> str:
        """Wait for the step's outcome, firing its timers as they fall due."""
        timers = sorted(opened.timers, key=lambda t: t.index)

        def settled() -> bool:
            return self._step_outcome is not None or self._cancelled

        while not settled():
            upcoming = [t for t in timers if t.index >= self._timers_fired]
            if upcoming:
                delay = (datetime.fromisoformat(upcoming[0].at) - workflow.now()).total_seconds()
                if delay > 0:
                    try:
                        await workflow.wait_condition(lambda: settled() or self._wake, timeout=delay)
                    except TimeoutError:
                        pass
                    else:
                        self._wake = False
                        self._maybe_continue_as_new()
                        continue
                if settled():
                    break
                await self._fire(round_no, step, upcoming[0], seq)
                self._timers_fired = upcoming[0].index + 1
            else:
                await workflow.wait_condition(lambda: settled() or self._wake)
                self._wake = False
                self._maybe_continue_as_new()
        return "cancelled" if self._cancelled else str(self._step_outcome)

    async def _fire(self, round_no: int, step: PlannedStep, timer: TimerRef, seq: int) -> None:
        result = await self._background(
            ApprovalActivities.fire_timer,
            FireTimerInput(
                request_id=f"{self._wid}:timer:{round_no}:{step.index}:{seq}:{timer.index}",
                instance_id=self._instance_id,
                step_index=step.index,
                timer_index=timer.index,
            ),
        )
        workflow.logger.info("timer %d (%s, level %d) of step %d: fired=%s outcome=%s", timer.index, timer.action,
                             timer.level, step.index, result.fired, result.step_outcome)
        if not result.fired:
            return
        key = f"{round_no}:step{step.index}:{seq}:timer{timer.index}"
        if timer.action == "remind":
            await self._send(key, result.remind_user_ids, "approval_remind", step=step.name)
        elif timer.action == "escalate":
            self._approvers = sorted(set(result.pending_approvers))
            self._set_approver_attributes()
            await self._notify_tasks(round_no, f"step{step.index}:{seq}:esc{timer.index}",
                                     [t for t in result.new_tasks if t.status == "pending"], step.name,
                                     escalated=True)
            await self._emit_decided(step.index, step.name, [SYSTEM], "escalate", "system",
                                     key=f"timer:{seq}:{timer.index}")
        else:
            await self._emit_decided(step.index, step.name, [SYSTEM], f"timeout_{timer.action}", "system",
                                     key=f"timer:{seq}:{timer.index}")
        if result.step_outcome in ("approved", "rejected") and self._step_outcome is None:
            self._decider = SYSTEM
            self._decision_comment = "审批超时，按策略自动处理"
            self._step_outcome = result.step_outcome

    async def _returned(self) -> None:
        """Back to the owner: they may edit and resubmit, which resumes at the returning step."""
        self._project = await self._background(
            RegistryActivities.set_project_status,
            SetProjectStatusInput(
                request_id=f"{self._wid}:status:{self._round}:returned",
                project_id=self._project_id,
                status="returned",
                actor_id=self._decider,
                event="returned",
                comment=self._decision_comment,
            ),
        )
        self._stage = self._status = "returned"
        self._approvers = []
        self._resume_pending = True
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set("returned"), sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()]
        )
        self._ack()
        await self._report("project.returned", actor=self._decider)
        await self._send(f"{self._round}:returned", [self._owner_id], "project_returned",
                         comment=self._decision_comment, released=True)

    async def _after_cancel(self) -> None:
        self._approvers = []
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set("cancelled"), sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()]
        )
        self._ack_seq_pending = self._open_seq
        self._ack()
        await self._report("project.cancelled", actor=self._decider)

    async def _send(
        self, key: str, recipients: list[str], kind: str, *, step: str = "", comment: str = "",
        released: bool = False, **extra: Any,
    ) -> None:
        """A notification of ``kind``: notify words it from the kind and this context."""
        if not recipients:
            return
        await self._notice(
            SendInput(
                request_id=f"{self._wid}:notify:{key}:{kind}",
                recipient_ids=sorted(set(recipients)),
                kind=kind,
                title="",
                project_id=self._project_id,
                context=self._context(step=step, comment=comment, **extra),
            ),
            released=released,
        )

    async def _notify_tasks(
        self, round_no: int, key: str, tasks: list[TaskRef], step_name: str, *, escalated: bool = False,
        released: bool = False,
    ) -> None:
        """One approval request per task (its body names the task, like the first version)."""
        sends = [
            SendInput(
                request_id=f"{self._wid}:notify:{round_no}:{key}:{task.approver_id}:{task.id}",
                recipient_ids=[task.approver_id],
                kind="approval_request",
                title="",
                project_id=self._project_id,
                action_tasks={task.approver_id: task.id},
                context=self._context(step=step_name, task_id=task.id, escalated=escalated),
            )
            for task in tasks
        ]
        if released and self._notices_after_answer():
            await asyncio.gather(*(self._notice(s, released=True) for s in sends))
            return
        for send in sends:
            await self._background(NotifyActivities.send, send)

    async def _notify_cc(self, key: str, users: list[str], step_name: str, *, released: bool = False) -> None:
        await self._send(f"cc:{key}", users, "approval_cc", step=step_name, released=released)

    async def _notice(self, inp: SendInput, *, released: bool = False) -> None:
        """``released``: sent once the waiting caller (submit, decide) was let go. A local activity
        holds its workflow task open until done, and with it the caller's answer; a regular
        activity is only scheduled by that task, so the answer does not wait for the mail (issue
        15: ~25 ms of a decision's ~100, notify's per-recipient redaction reads and its send)."""
        if released and self._notices_after_answer():
            await workflow.execute_activity_method(
                NotifyActivities.send, inp, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY
            )
            return
        await self._background(NotifyActivities.send, inp)

    def _notices_after_answer(self) -> bool:
        # Asked once per run, at the first released notification; runs from before keep theirs local.
        if self._remote_notices is None:
            self._remote_notices = self._activity.local and workflow.patched(PATCH_NOTICES_AFTER_ANSWER)
        return self._remote_notices

    async def _emit(self, event_type: str, event_id: str, payload: dict[str, Any], actor: str = "") -> None:
        await self._background(
            ReportingActivities.ingest_event,
            ReportEventInput(
                event_id=event_id,
                type=event_type,
                project_id=self._project_id,
                at=workflow.now().isoformat(),
                actor_id=actor,
                payload=payload,
            ),
        )

    async def _emit_decided(
        self, step_index: int, step: str, users: list[str], action: str, channel: str, *, key: str,
        on_behalf_of: str = "",
    ) -> None:
        user = users[0] if users else ""
        payload: dict[str, Any] = {
            "instance_id": self._instance_id,
            "step_index": step_index,
            "step": step,
            "user_id": user,
            "action": action,
            "at": workflow.now().isoformat(),
            "channel": channel,
        }
        if on_behalf_of:
            payload["on_behalf_of"] = on_behalf_of
        await self._emit(
            "approval.decided", f"{self._wid}:approval.decided:{self._instance_id}:{step_index}:{key}", payload,
            actor=user,
        )

    async def _decide_v2(self, inp: DecisionInput) -> DecisionResult:
        outcome = await self._for_caller(
            ApprovalActivities.record_decision,
            RecordDecisionInput(
                # Same task, user and action (and target) → same request: a retried HTTP call is
                # recorded once; the same approver adding someone before and later after is not.
                request_id=f"{self._wid}:decide:{inp.task_id}:{inp.user_id}:{inp.action}"
                + (f":{inp.position}:{inp.to_user_id}" if inp.action in ("transfer", "add_approver") else "")
                + (f":{inp.to_step}" if inp.action == "return" else ""),
                task_id=inp.task_id,
                actor_id=inp.user_id,
                action=inp.action,
                comment=inp.comment,
                channel=inp.channel,
                locale=inp.locale,
                to_user_id=inp.to_user_id,
                position=inp.position,
                to_step=inp.to_step,
                link_id=inp.link_id,
                attachments=list(inp.attachments),
            ),
            locale=inp.locale,
        )
        current = outcome.instance_id == self._instance_id and outcome.step_index == self._step_index
        seq = self._open_seq
        settles = outcome.step_outcome in ("approved", "rejected", "returned")
        if current and settles and self._step_outcome is None:
            self._decider = inp.user_id
            self._decision_comment = inp.comment
            self._return_to = outcome.return_to
            self._step_outcome = outcome.step_outcome
        elif current and not settles:
            self._approvers = sorted(set(outcome.pending_approvers))
            self._set_approver_attributes()
        await self._together(
            self._emit_decided(outcome.step_index, outcome.step_name, [inp.user_id], inp.action, inp.channel,
                               key=f"{inp.task_id}:{inp.user_id}:{inp.action}:{inp.position}:{inp.to_user_id}",
                               on_behalf_of=outcome.on_behalf_of),
            *([self._notify_tasks(self._round, f"step{outcome.step_index}:{seq}:{inp.action}:{inp.task_id}",
                                  outcome.new_tasks, outcome.step_name)] if outcome.new_tasks else []),
        )
        self._wake = True
        if current and settles:
            # Return only once the main loop has acted on the outcome (next step open, or done).
            await workflow.wait_condition(lambda: self._acted_seq >= seq)
        return DecisionResult(project_id=self._project_id, status=self._status)

    # ---------------------------------------------------------------- withdraw / remind / cc / reassign

    @workflow.update(name=UPDATE_WITHDRAW)
    async def withdraw(self, inp: WithdrawInput) -> WithdrawResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持撤回", "this project cannot be withdrawn"))
        if inp.cancel and not inp.actor_is_admin:
            raise _refuse(ERR_FORBIDDEN, _text(inp.locale, "只有管理员可以取消审批", "only an admin may cancel"))
        if not inp.cancel and inp.actor_id != self._owner_id and not inp.actor_is_admin:
            raise _refuse(ERR_FORBIDDEN, _text(inp.locale, "只有负责人可以撤回", "only the owner may withdraw"))
        self._submitting = True  # no submit while withdrawing
        try:
            if workflow.patched("withdraw-after-opening"):
                # A withdrawal right after submit (e.g. a CRM "lost" event) must not race the
                # planning of the chain: cancel the instance once it exists.
                await workflow.wait_condition(lambda: not self._opening)
            if self._instance_id and self._stage in ("approval", "returned"):
                await self._for_caller(
                    ApprovalActivities.cancel,
                    CancelApprovalInput(
                        request_id=f"{self._wid}:cancel:{self._round}",
                        instance_id=self._instance_id,
                        actor_id=inp.actor_id,
                        action="cancel" if inp.cancel else "withdraw",
                        comment=inp.comment,
                        channel=inp.channel,
                        locale=inp.locale,
                    ),
                    locale=inp.locale,
                )
            project = await self._for_caller(
                RegistryActivities.set_project_status,
                SetProjectStatusInput(
                    request_id=f"{self._wid}:status:{self._round}:cancelled",
                    project_id=self._project_id,
                    status="cancelled",
                    actor_id=inp.actor_id,
                    event="approval_cancelled" if inp.cancel else "withdrawn",
                    comment=inp.comment,
                ),
                locale=inp.locale,
            )
        finally:
            self._submitting = False
        previous = list(self._approvers)
        self._project = project
        self._stage = self._status = "cancelled"
        self._decider = inp.actor_id
        self._cancelled = True
        self._wake = True
        workflow.logger.info("%s by %s", "cancelled" if inp.cancel else "withdrawn", inp.actor_id)
        await self._send(f"{self._round}:cancelled", previous, "approval_withdrawn", comment=inp.comment)
        return WithdrawResult(project_id=self._project_id, status="cancelled")

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawInput) -> None:
        if self._submitting or self._cancelled or self._stage not in WITHDRAWABLE:
            raise _refuse(
                ERR_CONFLICT,
                _text(inp.locale, f"项目当前状态（{self._status}）不能撤回",
                      f"project cannot be withdrawn in status {self._status}"),
            )

    @workflow.update(name=UPDATE_REMIND)
    async def remind(self, inp: RemindInput) -> RemindResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持催办", "this project cannot be reminded"))
        if inp.actor_id != self._owner_id and not inp.actor_is_admin:
            raise _refuse(ERR_FORBIDDEN, _text(inp.locale, "只有负责人可以催办", "only the owner may send a reminder"))
        self._last_remind_at = workflow.now().isoformat()
        recipients = list(self._approvers)
        key = str(workflow.uuid4())
        await self._for_caller(
            ApprovalActivities.record_action,
            RecordActionInput(request_id=f"{self._wid}:remind:{key}", instance_id=self._instance_id,
                                  actor_id=inp.actor_id, action="remind", comment=inp.comment, channel=inp.channel,
                                  user_ids=recipients, locale=inp.locale),
            locale=inp.locale,
        )
        await self._send(f"remind:{key}", recipients, "approval_remind", comment=inp.comment, by_owner=True)
        self._wake = True
        return RemindResult(project_id=self._project_id, reminded=recipients)

    @remind.validator
    def _validate_remind(self, inp: RemindInput) -> None:
        if self._stage != "approval" or not self._instance_id:
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "项目不在审批中", "project is not pending approval"))
        last = self._last_remind_at
        if last and workflow.now() - datetime.fromisoformat(last) < REMIND_INTERVAL:
            raise _refuse(
                ERR_CONFLICT, _text(inp.locale, "催办过于频繁，请稍后再试", "reminded too recently, try later")
            )

    @workflow.update(name=UPDATE_CC)
    async def cc(self, inp: CcInput) -> CcResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持抄送", "this project does not support cc"))
        if inp.actor_id not in (self._owner_id, *self._approvers) and not inp.actor_is_admin:
            raise _refuse(ERR_FORBIDDEN, _text(inp.locale, "只有负责人或当前审批人可以抄送",
                                               "only the owner or a current approver may cc"))
        key = str(workflow.uuid4())
        done = await self._for_caller(
            ApprovalActivities.record_action,
            RecordActionInput(request_id=f"{self._wid}:cc:{key}", instance_id=self._instance_id,
                                  actor_id=inp.actor_id, action="cc", comment=inp.comment, channel=inp.channel,
                                  user_ids=list(inp.user_ids), locale=inp.locale),
            locale=inp.locale,
        )
        await self._notify_cc(key, done.cc_user_ids, self._plan[self._step_index].name if self._plan else "")
        self._wake = True
        return CcResult(project_id=self._project_id, user_ids=done.cc_user_ids)

    @cc.validator
    def _validate_cc(self, inp: CcInput) -> None:
        if self._stage not in ("approval", "returned") or not self._instance_id:
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "项目不在审批中", "project is not pending approval"))

    @workflow.update(name=UPDATE_REASSIGN)
    async def reassign(self, inp: ReassignInput) -> ReassignResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持改派", "this project cannot be reassigned"))
        index = self._step_index if inp.step_index < 0 else inp.step_index
        done = await self._for_caller(
            ApprovalActivities.reassign,
            ReassignStepInput(request_id=f"{self._wid}:reassign:{workflow.uuid4()}", instance_id=self._instance_id,
                                  step_index=index, to_user_id=inp.to_user_id, actor_id=inp.actor_id,
                                  from_user_id=inp.from_user_id, comment=inp.comment, locale=inp.locale),
            locale=inp.locale,
        )
        if index == self._step_index:
            self._approvers = sorted(set(done.pending_approvers))
            self._set_approver_attributes()
        name = self._plan[index].name if 0 <= index < len(self._plan) else ""
        await self._notify_tasks(self._round, f"step{index}:{self._open_seq}:reassign:{workflow.uuid4()}",
                                 [t for t in done.new_tasks if t.status == "pending"], name)
        await self._emit_decided(index, name, [inp.actor_id], "reassign", "api", key=f"reassign:{workflow.uuid4()}")
        self._wake = True
        return ReassignResult(project_id=self._project_id, approvers=list(self._approvers))

    @reassign.validator
    def _validate_reassign(self, inp: ReassignInput) -> None:
        if self._stage != "approval" or not self._instance_id:
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "项目不在审批中", "project is not pending approval"))

    # ---------------------------------------------------------------- submit

    @workflow.update(name=UPDATE_SUBMIT)
    async def submit(self, inp: SubmitInput) -> SubmitResult:
        self._submitting = True
        self._submit_attempts += 1
        try:
            project = await self._for_caller(
                RegistryActivities.submit_project,
                SubmitProjectInput(
                    request_id=f"{self._wid}:submit:{self._submit_attempts}",
                    project_id=self._project_id,
                    actor_id=inp.actor_id,
                    actor_is_admin=inp.actor_is_admin,
                    locale=inp.locale,
                ),
                locale=inp.locale,
            )
        finally:
            self._submitting = False
        self._project = project
        self._stage = "approval"
        self._status = project.status
        self._round += 1
        workflow.logger.info("submitted by %s (round %d)", inp.actor_id, self._round)
        return SubmitResult(project_id=self._project_id, status=project.status)

    @submit.validator
    def _validate_submit(self, inp: SubmitInput) -> None:
        if self._submitting or self._stage not in SUBMITTABLE:
            raise _refuse(
                ERR_CONFLICT,
                _text(
                    inp.locale,
                    f"项目当前状态（{self._status}）不能提交",
                    f"project cannot be submitted in status {self._status}",
                ),
            )

    # ---------------------------------------------------------------- decide

    @workflow.update(name=UPDATE_DECIDE)
    async def decide(self, inp: DecisionInput) -> DecisionResult:
        if self._is_v2():
            return await self._decide_v2(inp)
        if inp.action not in ACTIONS:
            raise _refuse(ERR_VALIDATION, _text(inp.locale, "不支持的审批操作", "unsupported decision action"),
                          [{"field": "action", "message": _text(inp.locale, "应为 approve 或 reject",
                                                                "must be approve or reject")}])
        outcome = await self._for_caller(
            ApprovalActivities.record_decision,
            RecordDecisionInput(
                # Same task and user → same request: a retried HTTP call is recorded once.
                request_id=f"{self._wid}:decide:{inp.task_id}:{inp.user_id}",
                task_id=inp.task_id,
                actor_id=inp.user_id,
                action=inp.action,
                comment=inp.comment,
                channel=inp.channel,
                locale=inp.locale,
                link_id=inp.link_id,
            ),
            locale=inp.locale,
        )
        key = f"{outcome.instance_id}:{outcome.step_index}"
        known = key == self._step_key or key in self._unacked or key in self._acted
        if outcome.step_outcome in ("approved", "rejected") and known:
            if key == self._step_key and self._step_outcome is None and key not in self._acted:
                self._step_outcome = outcome.step_outcome
                self._decider = inp.user_id
                self._decision_comment = inp.comment
            # Return only once the main loop has acted on the outcome (next step open, or done).
            await workflow.wait_condition(lambda: key in self._acted)
        return DecisionResult(project_id=self._project_id, status=self._status)

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        if self._stage != "approval":
            raise _refuse(
                ERR_CONFLICT,
                _text(inp.locale, "项目不在审批中", "project is not pending approval"),
            )
        if inp.action not in ACTIONS_V2:
            raise _refuse(
                ERR_VALIDATION,
                _text(inp.locale, "不支持的审批操作", "unsupported decision action"),
                [
                    {
                        "field": "action",
                        "message": _text(
                            inp.locale,
                            "应为 approve、reject、return、transfer 或 add_approver",
                            "must be approve, reject, return, transfer or add_approver",
                        ),
                    }
                ],
            )
        if inp.action in ("transfer", "add_approver") and not inp.to_user_id:
            raise _refuse(
                ERR_VALIDATION,
                _text(inp.locale, "请指定目标用户", "to_user_id is required"),
                [{"field": "to_user_id", "message": _text(inp.locale, "必填", "required")}],
            )

    # ---------------------------------------------------------------- handover

    @workflow.signal(name=SIGNAL_OWNER_CHANGED)
    def owner_changed(self, inp: OwnerChanged) -> None:
        """报备交接: the new owner submits, withdraws and hears of decisions from now on."""
        if inp.owner_id:
            self._owner_id = inp.owner_id
            self._project = dataclasses.replace(self._project, owner_id=inp.owner_id)

    # ---------------------------------------------------------------- query

    @workflow.query(name=QUERY_STATE)
    def state(self) -> LifecycleState:
        return LifecycleState(
            project_id=self._project_id,
            stage=self._stage,
            status=self._status,
            step_index=self._step_index,
            approvers=list(self._approvers),
            instance_id=self._instance_id,
            sla_deadline=self._sla_deadline_iso,
            round=self._round,
            runs=self._runs,
        )

    # ---------------------------------------------------------------- activities

    async def _together(self, *effects: Awaitable[Any]) -> None:
        """Side effects that do not depend on each other (notifications, reporting events, child
        starts), run at once: with local activities a workflow task (and the update answer it
        carries) completes only when its last one is done, so their times no longer add up. Runs
        from before the patch keep their order."""
        if self._concurrent is None:
            self._concurrent = workflow.patched(PATCH_CONCURRENT_EFFECTS)
        if self._concurrent:
            await asyncio.gather(*effects)
            return
        for effect in effects:
            await effect

    async def _background(self, fn: Callable[[Any, A], Awaitable[T]], arg: A) -> T:
        return await self._activity(fn, arg, timeout=ACTIVITY_TIMEOUT, retry=BACKGROUND_RETRY)

    async def _for_caller(self, fn: Callable[[Any, A], Awaitable[T]], arg: A, *, locale: str) -> T:
        """Run an activity for an update caller; its refusal becomes the update's failure."""
        try:
            return await self._activity(fn, arg, timeout=CALLER_TIMEOUT, retry=CALLER_RETRY)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in CALLER_ERRORS:
                violations = cause.details[0] if cause.details else []
                raise _refuse(cause.type or ERR_CONFLICT, cause.message, violations) from None
            workflow.logger.warning("%s failed for the caller: %s", getattr(fn, "__name__", fn), cause or err)
            raise _refuse(
                ERR_UNAVAILABLE, _text(locale, "服务暂时不可用，请稍后重试", "service unavailable, try again later")
            ) from None
