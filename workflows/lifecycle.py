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

The walk's state and its transitions (what an opened step asks for, which timer is due, which
decision settles a step, the validators' refusals, the carry over continue-as-new) are a plain
object, ``workflows.approval_walk.ApprovalWalk``; this class is the Temporal side: it asks the walk
what to do, runs the activities, feeds their results back and waits on its conditions.

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
from datetime import datetime
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.approval import ApprovalActivities
    from workflows.activities.finish import FinishActivities
    from workflows.activities.notify import NotifyActivities
    from workflows.activities.registry import RegistryActivities
    from workflows.activities.reporting import ReportingActivities
    from workflows.approval_walk import (
        SUBMITTABLE,
        SYSTEM,
        ApprovalWalk,
        Refusal,
        Rejected,
        Skip,
        cc_forbidden,
        remind_forbidden,
        v1_action_refusal,
        withdraw_forbidden,
    )
    from workflows.calls import PATCH_LOCAL_ACTIVITIES, ActivityCalls
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
        StepNotice,
        TaskRef,
        TimerRef,
    )
    from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_VALIDATION
    from workflows.contracts.execution import EXECUTION_WORKFLOW_TYPE, ExecutionInput, execution_workflow_id
    from workflows.contracts.finish import FinishInput
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
    from workflows.contracts.registry import (
        GetProjectInput,
        ProjectSnapshot,
        SetProjectStatusInput,
        StartDeliveryInput,
        SubmitProjectInput,
    )
    from workflows.contracts.reporting import ReportEventInput
    from workflows.patch_bundle import PatchBundle

A = TypeVar("A")
T = TypeVar("T")

CALLER_ERRORS = (ERR_VALIDATION, ERR_NOT_FOUND, ERR_FORBIDDEN, ERR_CONFLICT)
PATCH_V2 = "approval-engine-v2"
# A resubmission whose routing facts changed continues on the new chain the service planned.
PATCH_REPLAN = "replan-on-changed-facts"
# An empty chain is recorded as approved by the system, naming the policy.
PATCH_NO_APPROVAL = "no-approval-recorded"
# Independent side effects run concurrently (issue 15).
PATCH_CONCURRENT_EFFECTS = "concurrent-effects"
# Delivery (protection + execution) started by one local activity, not two child starts (issue 15).
PATCH_DELIVERY_START = "delivery-start-activity"
# Registry and approval publish the reporting events through their outboxes, in the transaction
# of the change, with the ids this workflow used (issue 15): the workflow passes the ids it cannot
# derive in the activity inputs and reports nothing itself. Older histories keep reporting.
PATCH_SERVICE_EVENTS = "service-events"
# The approval service publishes the approval requests of the tasks an opening creates (its notice
# outbox, written with the opening; the delivery worker's relay sends them), so a decision's answer
# no longer waits for the next approver's mail (issue 15). Older histories send them themselves.
PATCH_NOTICES = "notices-from-approval"
# The approval's end (status, delivery start, owner's notice) in one local activity instead of two
# rounds of them: one activation and two local activities fewer on the last decision's answer.
PATCH_FINISH_IN_ONE = "finish-in-one"
# An approval that settles its step opens the next step in the same approval-service transaction
# (RecordDecision's open_next, the OpenStep request the main loop would make): the main loop takes
# that opening instead of calling OpenStep, and the decide answer no longer waits for a second
# local activity and activation (issue 15).
PATCH_OPEN_NEXT = "open-next-in-decision"
# Planning a new chain (PlanChain's open_first) opens its first step in the same approval-service
# transaction: the main loop takes that opening instead of calling OpenStep right after planning
# (one local activity and activation fewer per submission; issue 15).
PATCH_PLAN_OPENS_FIRST = "plan-opens-first"
# The same for a resubmission: ResumeInstance opens the step the chain continues at (the returning
# step, as the workflow expects; step 0 of a re-planned chain only if that was the returning step).
PATCH_RESUME_OPENS = "resume-opens-step"
# Every patch above (and the older ones asked by name below) in one marker for runs that start
# under it: one history event and one search-attribute upsert instead of one of each per patch
# (workflows/patch_bundle.py). Patches added after it are asked one by one again.
PATCH_BUNDLE = "lifecycle-bundle-1"
BUNDLED_PATCHES = (
    PATCH_V2, PATCH_REPLAN, PATCH_NO_APPROVAL, PATCH_CONCURRENT_EFFECTS, PATCH_DELIVERY_START, PATCH_SERVICE_EVENTS,
    PATCH_NOTICES, PATCH_FINISH_IN_ONE, PATCH_OPEN_NEXT, PATCH_PLAN_OPENS_FIRST, PATCH_RESUME_OPENS,
    PATCH_LOCAL_ACTIVITIES, "start-execution", "start-protection", "imported-project", "withdraw-after-opening",
)


def _text(locale: str, zh: str, en: str) -> str:
    return en if locale.lower().startswith("en") else zh


def _refuse(err_type: str, message: str, violations: list[dict[str, str]] | None = None) -> ApplicationError:
    return ApplicationError(message, violations or [], type=err_type, non_retryable=True)


def _raise(refusal: Refusal | None, locale: str) -> None:
    if refusal is not None:
        raise _refuse(refusal.type, refusal.message(locale), refusal.violations(locale))


def _amount(text: str) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


@workflow.defn(name=WORKFLOW_TYPE)
class ProjectLifecycle:
    @workflow.init
    def __init__(self, inp: LifecycleInput) -> None:
        # First: the bundle's marker is the run's first command (workflows/patch_bundle.py).
        self._patched = PatchBundle(PATCH_BUNDLE, BUNDLED_PATCHES).patched
        self._project_id = inp.project_id
        self._owner_id = inp.owner_id
        self._wid = workflow.info().workflow_id
        self._w = ApprovalWalk(project=ProjectSnapshot(id=inp.project_id, owner_id=inp.owner_id, status="draft"))
        self._v2: bool | None = None
        self._history_limit = inp.history_limit
        self._activity = ActivityCalls(self._patched)
        self._concurrent: bool | None = None
        self._service_events: bool | None = None
        self._given: ProjectSnapshot | None = (
            inp.project if inp.project is not None and inp.project.id == inp.project_id else None
        )
        self._carried = inp.carry is not None
        if inp.carry is not None:
            self._w.restore(inp.carry)

    # Read-only views of the walk for the activity inputs, reports and notifications.
    @property
    def _project(self) -> ProjectSnapshot:
        return self._w.project

    @property
    def _round(self) -> int:
        return self._w.round

    @property
    def _stage(self) -> str:
        return self._w.stage

    @property
    def _status(self) -> str:
        return self._w.status

    @property
    def _instance_id(self) -> str:
        return self._w.instance_id

    @property
    def _step_index(self) -> int:
        return self._w.step_index

    @property
    def _approvers(self) -> list[str]:
        return self._w.approvers

    @property
    def _decider(self) -> str:
        return self._w.decider

    @property
    def _decision_comment(self) -> str:
        return self._w.decision_comment

    # ---------------------------------------------------------------- main loop

    @workflow.run
    async def run(self, inp: LifecycleInput) -> LifecycleResult:
        if self._is_v2():
            return await self._run_v2()
        await self._record_created()

        await workflow.wait_condition(lambda: self._w.round_due)
        self._w.start_round()
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
        if self._w.created(created):  # unless a submit already brought a newer snapshot
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
        """First version: walk the chain of the current submission: "approved" or "rejected"."""
        w = self._w
        round_no = self._round
        w.stage = "approval"
        self._upsert_stage_approval()
        await self._report("project.submitted", actor=self._owner_id)
        plan = await self._background(
            ApprovalActivities.plan_chain,
            PlanChainInput(
                request_id=f"{self._wid}:plan:{round_no}", project=self._project, submitter_id=self._owner_id
            ),
        )
        w.instance_id = plan.instance_id
        workflow.logger.info("approval chain planned: %d step(s)", len(plan.steps))
        for step in plan.steps:
            w.open_v1_step(plan.instance_id, step.index)
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
            w.approvers = sorted({t.approver_id for t in pending} or set(opened.approvers))
            deadline = w.sla_deadline_v1(step, pending, workflow.now())
            workflow.upsert_search_attributes(
                [
                    sa.APPROVERS.value_set(w.approvers),
                    sa.SLA_DEADLINE.value_set(deadline) if deadline else sa.SLA_DEADLINE.value_unset(),
                ]
            )
            await self._notify_approvers(round_no, step, opened)
            # The loop has now acted on the previous step's outcome: release its decide caller.
            w.ack()
            await workflow.wait_condition(lambda: w.step_outcome is not None)
            w.unacked.append(w.step_key)
            if w.step_outcome == "rejected":
                return "rejected"
        return "approved"

    async def _finish(self, outcome: str) -> None:
        status, event = ("active", "approved") if outcome == "approved" else ("rejected", "rejected")
        status_input = SetProjectStatusInput(
            request_id=f"{self._wid}:status:{self._round}:{status}",
            project_id=self._project_id,
            status=status,
            actor_id=self._decider,
            event=event,
            comment=self._decision_comment,
            report_event_id=self._report_id(f"project.{event}"),
        )
        kind = "project_approved" if status == "active" else "project_rejected"
        notice = SendInput(
            request_id=f"{self._wid}:notify:{self._round}:{kind}",
            recipient_ids=[self._owner_id],
            kind=kind,
            title="",  # notify words it (services/notify/wording.py)
            project_id=self._project_id,
            context=self._context(comment=self._decision_comment),
        )
        if self._patched(PATCH_FINISH_IN_ONE):
            delivery = self._delivery_input() if status == "active" else None
            project = await self._background(FinishActivities.finish,
                                             FinishInput(status=status_input, notice=notice, delivery=delivery))
            self._finished(status, project)
            await self._report(f"project.{event}", actor=self._decider)
            return
        project = await self._background(RegistryActivities.set_project_status, status_input)
        self._finished(status, project)
        await self._together(
            self._report(f"project.{event}", actor=self._decider),
            self._background(NotifyActivities.send, notice),
            *([self._start_delivery()] if status == "active" else []),
        )

    def _finished(self, status: str, project: ProjectSnapshot) -> None:
        self._w.finished(status, project)
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set(status), sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()]
        )
        workflow.logger.info("project %s", status)

    def _delivery_input(self) -> StartDeliveryInput:
        p = self._project
        return StartDeliveryInput(
            request_id=f"{self._wid}:delivery:start", project_id=p.id, owner_id=self._owner_id,
            at=workflow.now().isoformat(), code=p.code, name=p.name, business_line=p.business_line,
            amount=p.amount, start_date=p.start_date,
        )

    async def _start_delivery(self) -> None:
        """An active project is delivered by its own long-running workflows (ABANDON: they outlive
        this one); starting one that already runs (the edge or a promotion got there first) is fine."""
        p = self._project
        if self._patched(PATCH_DELIVERY_START):
            # One local activity: the protection period starts in the registry and the delivery
            # workflows are started by the client knowing it — no child-start events here, no
            # protection workflow for a project without a period, no first re-read in either.
            await self._background(RegistryActivities.start_delivery, self._delivery_input())
            return
        # Issue 6: execution (plan, schedule, rules).
        if self._patched("start-execution"):
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
        if self._patched("start-protection"):
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    PROTECTION_WORKFLOW_TYPE,
                    ProtectionInput(project_id=self._project_id),
                    id=protection_workflow_id(self._project_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    **sa.project_start_options(PROTECTION_WORKFLOW_TYPE, p.code, p.name),
                )

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
        if self._services_publish():
            return  # the registry published it with the change (its outbox)
        await self._background(
            ReportingActivities.ingest_event,
            ReportEventInput(
                event_id=self._project_event_id(event_type, self._round),
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
            self._v2 = True if self._carried else self._patched(PATCH_V2)
        return self._v2

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
                carry=self._w.carry(),
                history_limit=self._history_limit,
            )
        )

    def _woken(self) -> None:
        """Something happened while waiting: a moment to continue as new."""
        self._w.wake = False
        self._maybe_continue_as_new()

    async def _run_v2(self) -> LifecycleResult:
        w = self._w
        if not self._carried:
            created = await self._record_created()
            if self._services_publish():
                # No reporting activity separates reading the project from this check any more:
                # a submit racing the start lands first, so its pending_approval is not taken
                # for an imported project's status.
                await workflow.wait_condition(lambda: not self._w.submitting)
            if created.status not in SUBMITTABLE and self._round == 0 and self._patched("imported-project"):
                # Registered past approval (Excel import of existing registrations): nothing to
                # submit; an active project still gets its delivery and protection workflows.
                w.stage = w.status = created.status
                workflow.upsert_search_attributes([sa.STAGE.value_set(created.status)])
                if created.status == "active":
                    await self._start_delivery()
                return LifecycleResult(project_id=self._project_id, status=self._status)
        resuming = self._carried and self._stage == "approval"
        while not w.cancelled:
            if not resuming:
                while not (w.round_due or w.cancelled):
                    await workflow.wait_condition(lambda: w.round_due or w.cancelled or w.wake)
                    self._woken()
                if w.cancelled:
                    break
                w.start_round()
            outcome = await self._round_v2(resuming=resuming)
            resuming = False
            if outcome == "returned":
                await self._returned()
                continue
            if outcome in ("approved", "rejected"):
                await self._finish(outcome)
            break
        if w.cancelled:
            await self._after_cancel()
        # A finishing workflow fails update handlers still running: let them return first.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return LifecycleResult(project_id=self._project_id, status=self._status)

    def _upsert_stage_approval(self) -> None:
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set("approval"),
                sa.AMOUNT.value_set(_amount(self._project.amount)),
                sa.REGION.value_set(self._project.region),
            ]
        )

    async def _round_v2(self, *, resuming: bool) -> str:
        """Walk the chain of the current submission from where it stands: "approved",
        "rejected", "returned" (to the submitter) or "cancelled"."""
        w = self._w
        round_no = self._round
        w.begin_round(resuming=resuming)
        if not resuming:
            self._upsert_stage_approval()
            await self._report("project.submitted", actor=self._owner_id)
            if w.resumes:
                first = w.resume_opening() if self._patched(PATCH_RESUME_OPENS) else None
                resumed = await self._background(
                    ApprovalActivities.resume,
                    ResumeApprovalInput(
                        request_id=f"{self._wid}:resume:{round_no}",
                        instance_id=self._instance_id,
                        project=self._project,
                        actor_id=self._owner_id,
                        open_first=None if first is None else self._first_open_input(round_no, first),
                    ),
                )
                w.resumed(resumed.steps, resumed.resume_from, resumed.first_opened, first)
                if resumed.instance_id != w.instance_id and self._patched(PATCH_REPLAN):
                    # The routing facts changed: the service planned a new chain from the start.
                    w.instance_id = resumed.instance_id
                    workflow.logger.info("resubmitted with changed routing facts, re-planned: %s",
                                         resumed.replanned)
                else:
                    workflow.logger.info("resubmitted: resuming at step %d", w.cursor)
            else:
                # The first step's opening, asked of the planning; the instance is not known yet
                # (the service opens the one it plans: instance_id empty).
                first = w.first_opening() if self._patched(PATCH_PLAN_OPENS_FIRST) else None
                plan = await self._background(
                    ApprovalActivities.plan_chain,
                    PlanChainInput(
                        request_id=f"{self._wid}:plan:{round_no}", project=self._project, submitter_id=self._owner_id,
                        open_first=None if first is None else self._first_open_input(round_no, first),
                    ),
                )
                w.planned(plan.instance_id, plan.steps, plan.first_opened, first)
                workflow.logger.info("approval chain planned: %d step(s)", len(plan.steps))
                if not plan.steps and self._patched(PATCH_NO_APPROVAL):
                    # An explicit no-approval policy (or no step applies): say so in the history.
                    w.approved_without_steps(plan.policy_key)
        while (step := w.next_step()) is not None:
            if w.cancelled:
                return "cancelled"
            reopen = resuming
            resuming = False
            seq = w.open_step(reopen=reopen)
            index = w.step_index
            # Opened already by the decision that approved the step before, or by the planning of
            # the chain (same request id).
            opened = w.take_preopened(index, seq)
            if opened is None or reopen:
                w.opening = True
                try:
                    opened = await self._background(ApprovalActivities.open_step,
                                                    self._open_step_input(round_no, index, seq, reopen=reopen))
                finally:
                    w.opening = False
            todo = w.step_opened(opened, reopen=reopen)
            if isinstance(todo, Skip):
                workflow.logger.info("step %d (%s) %s without a decision", index, step.name, opened.status)
                if todo.auto_approved:
                    await self._emit_decided(step.index, opened.name or step.name, opened.approvers[:1], "approve",
                                             "auto", key=f"auto:{seq}")
                continue
            if isinstance(todo, Rejected):
                return "rejected"
            pending = todo.pending
            if not pending:
                workflow.logger.warning("step %d (%s) is waiting for an approver to be assigned", index, step.name)
            # The next step is open (its to-dos exist): the walk released the previous step's
            # decide caller; notifications and analytics follow without holding the answer back.
            self._set_approver_attributes()
            if not reopen:
                await self._together(
                    # Unless the approval service published them with the opening (its outbox).
                    *([] if opened.notices_published else [
                        self._notify_tasks(round_no, f"step{index}", pending, opened.name or step.name)]),
                    self._notify_cc(f"{round_no}:step{index}:{seq}", opened.cc, opened.name or step.name),
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
            outcome = await self._wait_step(round_no, step, seq)
            done = w.step_done(outcome)
            if done is not None:
                return done
            if outcome == "returned":
                workflow.logger.info("step %d returned to step %d", index, w.cursor)
        return "approved"

    def _open_step_input(self, round_no: int, index: int, seq: int, *, reopen: bool) -> OpenStepInput:
        """The OpenStep request of an opening, made by the main loop or, for the step after the
        one an approval settles, by the decision (RecordDecision's open_next): one request id. A
        continued run asks for the step as it is now (transfers may have changed it) and publishes
        nothing; a first opening names its reporting ids and (patch ``notices-from-approval``) the
        approval request the service sends each new task's approver, with the request ids
        ``_notify_tasks`` gives them (the service adds the step's name and the task id)."""
        request_id = f"{self._wid}:open:{round_no}:{index}:{seq}" + (f":run{self._w.runs}" if reopen else "")
        notice = None
        if not reopen and self._patched(PATCH_NOTICES):
            notice = StepNotice(kind="approval_request", project_id=self._project_id,
                                request_id_prefix=self._notice_prefix(round_no, f"step{index}"),
                                context=self._context(escalated=False))
        return OpenStepInput(request_id=request_id, instance_id=self._instance_id, step_index=index,
                             report_scope="" if reopen else self._report_scope(), report_key=str(seq), notice=notice)

    def _first_open_input(self, round_no: int, first: tuple[int, int]) -> OpenStepInput:
        """The OpenStep request of a round's first opening, asked of the planning (or resume) call:
        the instance is the one that call plans (or continues), so none is named."""
        return dataclasses.replace(self._open_step_input(round_no, *first, reopen=False), instance_id="")

    def _set_approver_attributes(self) -> None:
        w = self._w
        deadline = datetime.fromisoformat(w.sla_deadline_iso) if w.sla_deadline_iso else None
        workflow.upsert_search_attributes(
            [
                sa.APPROVERS.value_set(w.approvers) if w.approvers else sa.APPROVERS.value_unset(),
                sa.SLA_DEADLINE.value_set(deadline) if deadline else sa.SLA_DEADLINE.value_unset(),
            ]
        )

    async def _wait_step(self, round_no: int, step: PlannedStep, seq: int) -> str:
        """Wait for the step's outcome, firing its timers as they fall due."""
        w = self._w
        while not w.settled:
            due = w.timer_due(workflow.now())
            if due is None:
                await workflow.wait_condition(lambda: w.settled or w.wake)
                self._woken()
                continue
            if due.delay > 0:
                try:
                    await workflow.wait_condition(lambda: w.settled or w.wake, timeout=due.delay)
                except TimeoutError:
                    pass
                else:
                    self._woken()
                    continue
            if w.settled:
                break
            await self._fire(round_no, step, due.timer, seq)
        return w.wait_outcome

    async def _fire(self, round_no: int, step: PlannedStep, timer: TimerRef, seq: int) -> None:
        result = await self._background(
            ApprovalActivities.fire_timer,
            FireTimerInput(
                request_id=f"{self._wid}:timer:{round_no}:{step.index}:{seq}:{timer.index}",
                instance_id=self._instance_id,
                step_index=step.index,
                timer_index=timer.index,
                report_scope=self._report_scope(),
                report_key=f"timer:{seq}:{timer.index}",
            ),
        )
        workflow.logger.info("timer %d (%s, level %d) of step %d: fired=%s outcome=%s", timer.index, timer.action,
                             timer.level, step.index, result.fired, result.step_outcome)
        if result.fired:
            key = f"{round_no}:step{step.index}:{seq}:timer{timer.index}"
            if timer.action == "remind":
                await self._send(key, result.remind_user_ids, "approval_remind", step=step.name)
            elif timer.action == "escalate":
                self._w.escalated(result.pending_approvers)
                self._set_approver_attributes()
                await self._notify_tasks(round_no, f"step{step.index}:{seq}:esc{timer.index}",
                                         [t for t in result.new_tasks if t.status == "pending"], step.name,
                                         escalated=True)
                await self._emit_decided(step.index, step.name, [SYSTEM], "escalate", "system",
                                         key=f"timer:{seq}:{timer.index}")
            else:
                await self._emit_decided(step.index, step.name, [SYSTEM], f"timeout_{timer.action}", "system",
                                         key=f"timer:{seq}:{timer.index}")
        self._w.timer_fired(timer, result)

    async def _returned(self) -> None:
        """Back to the owner: they may edit and resubmit, which resumes at the returning step."""
        project = await self._background(
            RegistryActivities.set_project_status,
            SetProjectStatusInput(
                request_id=f"{self._wid}:status:{self._round}:returned",
                project_id=self._project_id,
                status="returned",
                actor_id=self._decider,
                event="returned",
                comment=self._decision_comment,
                report_event_id=self._report_id("project.returned"),
            ),
        )
        self._w.returned(project)
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set("returned"), sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()]
        )
        await self._report("project.returned", actor=self._decider)
        await self._send(f"{self._round}:returned", [self._owner_id], "project_returned",
                         comment=self._decision_comment)

    async def _after_cancel(self) -> None:
        self._w.after_cancel()
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set("cancelled"), sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()]
        )
        await self._report("project.cancelled", actor=self._decider)

    async def _send(
        self, key: str, recipients: list[str], kind: str, *, step: str = "", comment: str = "", **extra: Any
    ) -> None:
        """A notification of ``kind``: notify words it from the kind and this context."""
        if not recipients:
            return
        await self._background(
            NotifyActivities.send,
            SendInput(
                request_id=f"{self._wid}:notify:{key}:{kind}",
                recipient_ids=sorted(set(recipients)),
                kind=kind,
                title="",
                project_id=self._project_id,
                context=self._context(step=step, comment=comment, **extra),
            ),
        )

    async def _notify_tasks(
        self, round_no: int, key: str, tasks: list[TaskRef], step_name: str, *, escalated: bool = False
    ) -> None:
        """One approval request per task (its body names the task, like the first version)."""
        for task in tasks:
            await self._background(
                NotifyActivities.send,
                SendInput(
                    request_id=f"{self._notice_prefix(round_no, key)}:{task.approver_id}:{task.id}",
                    recipient_ids=[task.approver_id],
                    kind="approval_request",
                    title="",
                    project_id=self._project_id,
                    action_tasks={task.approver_id: task.id},
                    context=self._context(step=step_name, task_id=task.id, escalated=escalated),
                ),
            )

    def _notice_prefix(self, round_no: int, key: str) -> str:
        """The request-id prefix of a task's approval request (the approval service appends
        ``:<approver>:<task id>`` as ``_notify_tasks`` does, so notify sends one of the two)."""
        return f"{self._wid}:notify:{round_no}:{key}"

    async def _notify_cc(self, key: str, users: list[str], step_name: str) -> None:
        await self._send(f"cc:{key}", users, "approval_cc", step=step_name)

    async def _emit(self, event_type: str, event_id: str, payload: dict[str, Any], actor: str = "") -> None:
        if self._services_publish():
            return  # the approval service published it with the change (its outbox)
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
        asked = self._w.next_opening(inp.action)
        if asked is not None and not self._patched(PATCH_OPEN_NEXT):
            asked = None
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
                report_scope=self._report_scope(),
                report_key=f"{inp.task_id}:{inp.user_id}:{inp.action}:{inp.position}:{inp.to_user_id}",
                open_next=None if asked is None else self._open_step_input(self._round, *asked, reopen=False),
            ),
            locale=inp.locale,
        )
        decided = self._w.decision(outcome, inp.user_id, inp.comment, asked)
        seq = decided.seq
        if decided.approvers_changed:
            self._set_approver_attributes()
        await self._together(
            self._emit_decided(outcome.step_index, outcome.step_name, [inp.user_id], inp.action, inp.channel,
                               key=f"{inp.task_id}:{inp.user_id}:{inp.action}:{inp.position}:{inp.to_user_id}",
                               on_behalf_of=outcome.on_behalf_of),
            *([self._notify_tasks(self._round, f"step{outcome.step_index}:{seq}:{inp.action}:{inp.task_id}",
                                  outcome.new_tasks, outcome.step_name)] if outcome.new_tasks else []),
        )
        self._w.wake = True
        if decided.wait_for_ack:
            # Return only once the main loop has acted on the outcome (next step open, or done).
            await workflow.wait_condition(lambda: self._w.acted_on(seq))
        return DecisionResult(project_id=self._project_id, status=self._status)

    # ---------------------------------------------------------------- withdraw / remind / cc / reassign

    @workflow.update(name=UPDATE_WITHDRAW)
    async def withdraw(self, inp: WithdrawInput) -> WithdrawResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持撤回", "this project cannot be withdrawn"))
        _raise(withdraw_forbidden(cancel=inp.cancel, is_owner=inp.actor_id == self._owner_id,
                                  is_admin=inp.actor_is_admin), inp.locale)
        w = self._w
        w.submitting = True  # no submit while withdrawing
        try:
            if self._patched("withdraw-after-opening"):
                # A withdrawal right after submit (e.g. a CRM "lost" event) must not race the
                # planning of the chain: cancel the instance once it exists.
                await workflow.wait_condition(lambda: not w.opening)
            if w.cancels_instance:
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
                    report_event_id=self._report_id("project.cancelled"),
                ),
                locale=inp.locale,
            )
        finally:
            w.submitting = False
        previous = w.withdrawn(project, inp.actor_id)
        workflow.logger.info("%s by %s", "cancelled" if inp.cancel else "withdrawn", inp.actor_id)
        await self._send(f"{self._round}:cancelled", previous, "approval_withdrawn", comment=inp.comment)
        return WithdrawResult(project_id=self._project_id, status="cancelled")

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawInput) -> None:
        _raise(self._w.withdraw_refusal(), inp.locale)

    @workflow.update(name=UPDATE_REMIND)
    async def remind(self, inp: RemindInput) -> RemindResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持催办", "this project cannot be reminded"))
        _raise(remind_forbidden(is_owner=inp.actor_id == self._owner_id, is_admin=inp.actor_is_admin), inp.locale)
        recipients = self._w.reminded(workflow.now())
        key = str(workflow.uuid4())
        await self._for_caller(
            ApprovalActivities.record_action,
            RecordActionInput(request_id=f"{self._wid}:remind:{key}", instance_id=self._instance_id,
                                  actor_id=inp.actor_id, action="remind", comment=inp.comment, channel=inp.channel,
                                  user_ids=recipients, locale=inp.locale),
            locale=inp.locale,
        )
        await self._send(f"remind:{key}", recipients, "approval_remind", comment=inp.comment, by_owner=True)
        self._w.wake = True
        return RemindResult(project_id=self._project_id, reminded=recipients)

    @remind.validator
    def _validate_remind(self, inp: RemindInput) -> None:
        _raise(self._w.remind_refusal(workflow.now()), inp.locale)

    @workflow.update(name=UPDATE_CC)
    async def cc(self, inp: CcInput) -> CcResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持抄送", "this project does not support cc"))
        _raise(cc_forbidden(is_owner_or_approver=inp.actor_id in (self._owner_id, *self._w.approvers),
                            is_admin=inp.actor_is_admin), inp.locale)
        key = str(workflow.uuid4())
        done = await self._for_caller(
            ApprovalActivities.record_action,
            RecordActionInput(request_id=f"{self._wid}:cc:{key}", instance_id=self._instance_id,
                                  actor_id=inp.actor_id, action="cc", comment=inp.comment, channel=inp.channel,
                                  user_ids=list(inp.user_ids), locale=inp.locale),
            locale=inp.locale,
        )
        await self._notify_cc(key, done.cc_user_ids, self._w.current_step_name())
        self._w.wake = True
        return CcResult(project_id=self._project_id, user_ids=done.cc_user_ids)

    @cc.validator
    def _validate_cc(self, inp: CcInput) -> None:
        _raise(self._w.cc_refusal(), inp.locale)

    @workflow.update(name=UPDATE_REASSIGN)
    async def reassign(self, inp: ReassignInput) -> ReassignResult:
        if not self._is_v2():
            raise _refuse(ERR_CONFLICT, _text(inp.locale, "该项目不支持改派", "this project cannot be reassigned"))
        index = self._step_index if inp.step_index < 0 else inp.step_index
        # The decision's key is known before the call when the service publishes the event.
        event_key = f"reassign:{workflow.uuid4()}" if self._services_publish() else ""
        done = await self._for_caller(
            ApprovalActivities.reassign,
            ReassignStepInput(request_id=f"{self._wid}:reassign:{workflow.uuid4()}", instance_id=self._instance_id,
                                  step_index=index, to_user_id=inp.to_user_id, actor_id=inp.actor_id,
                                  from_user_id=inp.from_user_id, comment=inp.comment, locale=inp.locale,
                                  report_scope=self._report_scope(), report_key=event_key),
            locale=inp.locale,
        )
        if self._w.reassigned(index, done.pending_approvers):
            self._set_approver_attributes()
        name = self._w.step_name(index)
        await self._notify_tasks(self._round, f"step{index}:{self._w.open_seq}:reassign:{workflow.uuid4()}",
                                 [t for t in done.new_tasks if t.status == "pending"], name)
        await self._emit_decided(index, name, [inp.actor_id], "reassign", "api",
                                 key=event_key or f"reassign:{workflow.uuid4()}")
        self._w.wake = True
        return ReassignResult(project_id=self._project_id, approvers=list(self._approvers))

    @reassign.validator
    def _validate_reassign(self, inp: ReassignInput) -> None:
        _raise(self._w.reassign_refusal(), inp.locale)

    # ---------------------------------------------------------------- submit

    @workflow.update(name=UPDATE_SUBMIT)
    async def submit(self, inp: SubmitInput) -> SubmitResult:
        attempt = self._w.submit_started()
        try:
            project = await self._for_caller(
                RegistryActivities.submit_project,
                SubmitProjectInput(
                    request_id=f"{self._wid}:submit:{attempt}",
                    project_id=self._project_id,
                    actor_id=inp.actor_id,
                    actor_is_admin=inp.actor_is_admin,
                    locale=inp.locale,
                    report_event_id=self._report_id("project.submitted", self._round + 1),
                ),
                locale=inp.locale,
            )
        finally:
            self._w.submitting = False
        self._w.submitted(project)
        workflow.logger.info("submitted by %s (round %d)", inp.actor_id, self._round)
        return SubmitResult(project_id=self._project_id, status=project.status)

    @submit.validator
    def _validate_submit(self, inp: SubmitInput) -> None:
        _raise(self._w.submit_refusal(), inp.locale)

    # ---------------------------------------------------------------- decide

    @workflow.update(name=UPDATE_DECIDE)
    async def decide(self, inp: DecisionInput) -> DecisionResult:
        if self._is_v2():
            return await self._decide_v2(inp)
        _raise(v1_action_refusal(inp.action), inp.locale)
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
        key = self._w.decision_v1(outcome, inp.user_id, inp.comment)
        if key is not None:
            # Return only once the main loop has acted on the outcome (next step open, or done).
            await workflow.wait_condition(lambda: key in self._w.acted)
        return DecisionResult(project_id=self._project_id, status=self._status)

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        _raise(self._w.decide_refusal(inp.action, inp.to_user_id), inp.locale)

    # ---------------------------------------------------------------- handover

    @workflow.signal(name=SIGNAL_OWNER_CHANGED)
    def owner_changed(self, inp: OwnerChanged) -> None:
        """报备交接: the new owner submits, withdraws and hears of decisions from now on."""
        if inp.owner_id:
            self._owner_id = inp.owner_id
            self._w.project = dataclasses.replace(self._w.project, owner_id=inp.owner_id)

    # ---------------------------------------------------------------- query

    @workflow.query(name=QUERY_STATE)
    def state(self) -> LifecycleState:
        return self._w.state(self._project_id)

    # ---------------------------------------------------------------- activities

    def _services_publish(self) -> bool:
        """The services publish the reporting events (patch ``service-events``), decided once per run."""
        if self._service_events is None:
            self._service_events = self._patched(PATCH_SERVICE_EVENTS)
        return self._service_events

    def _project_event_id(self, event_type: str, round_no: int) -> str:
        """A project event's id: the same whether this workflow reports it or the registry does."""
        return f"{self._wid}:{event_type}:{round_no}"

    def _report_id(self, event_type: str, round_no: int | None = None) -> str:
        """The id of a project event the registry publishes for us ("" = none: we report it)."""
        if not self._services_publish():
            return ""
        return self._project_event_id(event_type, self._round if round_no is None else round_no)

    def _report_scope(self) -> str:
        """The id prefix of the approval events the approval service publishes ("" = none)."""
        return self._wid if self._services_publish() else ""

    async def _together(self, *effects: Awaitable[Any]) -> None:
        """Side effects that do not depend on each other (notifications, reporting events, child
        starts), run at once: with local activities a workflow task (and the update answer it
        carries) completes only when its last one is done, so their times no longer add up. Runs
        from before the patch keep their order."""
        if self._concurrent is None:
            self._concurrent = self._patched(PATCH_CONCURRENT_EFFECTS)
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
