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

Determinism: no I/O, clocks or randomness here; every side effect is an activity whose
``request_id`` / ``event_id`` is derived from the workflow id and the step. Changes to this logic
that affect running histories must be guarded with ``workflow.patched("<change-id>")`` (the replay
tests under tests/replay run recorded histories against this code). Continue-as-new is not needed
yet: a lifecycle's history stays small (a few dozen events per approval round).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_types as act
    from workflows import search_attributes as sa
    from workflows.payloads import (
        ERR_CONFLICT,
        ERR_FORBIDDEN,
        ERR_NOT_FOUND,
        ERR_UNAVAILABLE,
        ERR_VALIDATION,
        QUERY_STATE,
        UPDATE_DECIDE,
        UPDATE_SUBMIT,
        WORKFLOW_TYPE,
        DecisionInput,
        DecisionResult,
        LifecycleInput,
        LifecycleResult,
        LifecycleState,
        SubmitInput,
        SubmitResult,
    )

T = TypeVar("T")

# Background steps (no caller waiting): retry transient failures for as long as it takes.
ACTIVITY_TIMEOUT = timedelta(seconds=30)
BACKGROUND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
)
# Steps an update caller waits for: a few quick retries, then tell the caller.
CALLER_TIMEOUT = timedelta(seconds=15)
CALLER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=2),
    maximum_attempts=5,
)
CALLER_ERRORS = (ERR_VALIDATION, ERR_NOT_FOUND, ERR_FORBIDDEN, ERR_CONFLICT)
ACTIONS = ("approve", "reject")
SUBMITTABLE = ("draft", "returned")


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
        self._project = act.ProjectSnapshot(id=inp.project_id, owner_id=inp.owner_id, status="draft")
        self._stage = "draft"
        self._status = "draft"
        # Successful submissions so far (one approval round each) and the rounds handled.
        self._round = 0
        self._rounds_started = 0
        self._submit_attempts = 0
        self._submitting = False
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

    # ---------------------------------------------------------------- main loop

    @workflow.run
    async def run(self, inp: LifecycleInput) -> LifecycleResult:
        created = await self._background(
            act.REGISTRY_GET_PROJECT, act.GetProjectInput(project_id=inp.project_id), act.ProjectSnapshot
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

        await workflow.wait_condition(lambda: self._round > self._rounds_started)
        self._rounds_started = self._round
        outcome = await self._approval_round()
        await self._finish(outcome)

        # A finishing workflow fails update handlers still running: let them return first.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return LifecycleResult(project_id=self._project_id, status=self._status)

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
            act.APPROVAL_PLAN_CHAIN,
            act.PlanChainInput(
                request_id=f"{self._wid}:plan:{round_no}", project=self._project, submitter_id=self._owner_id
            ),
            act.ChainPlan,
        )
        self._instance_id = plan.instance_id
        workflow.logger.info("approval chain planned: %d step(s)", len(plan.steps))
        for step in plan.steps:
            self._step_key = f"{plan.instance_id}:{step.index}"
            self._step_index = step.index
            self._step_outcome = None
            opened = await self._background(
                act.APPROVAL_OPEN_STEP,
                act.OpenStepInput(
                    request_id=f"{self._wid}:open:{round_no}:{step.index}",
                    instance_id=plan.instance_id,
                    step_index=step.index,
                ),
                act.OpenedStep,
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
            act.REGISTRY_SET_PROJECT_STATUS,
            act.SetProjectStatusInput(
                request_id=f"{self._wid}:status:{self._round}:{status}",
                project_id=self._project_id,
                status=status,
                actor_id=self._decider,
                event=event,
                comment=self._decision_comment,
            ),
            act.ProjectSnapshot,
        )
        self._stage = status
        self._status = status
        self._approvers = []
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set(status), sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()]
        )
        self._ack()
        workflow.logger.info("project %s", status)
        await self._report(f"project.{event}", actor=self._decider)
        if status == "active":
            kind, title = "project_approved", f"项目已通过审批：{self._project.name}"
        else:
            kind, title = "project_rejected", f"项目未通过审批：{self._project.name}"
        await self._background(
            act.NOTIFY_SEND,
            act.SendInput(
                request_id=f"{self._wid}:notify:{self._round}:{kind}",
                recipient_ids=[self._owner_id],
                kind=kind,
                title=title,
                body=self._summary() + (f"\n意见：{self._decision_comment}" if self._decision_comment else ""),
                project_id=self._project_id,
            ),
            act.SendResult,
        )

    def _ack(self) -> None:
        self._acted.update(self._unacked)
        self._unacked = []

    def _sla_deadline(self, step: act.PlannedStep, pending: list[act.TaskRef]) -> datetime | None:
        dues = sorted(datetime.fromisoformat(t.due_at) for t in pending if t.due_at)
        if dues:
            return dues[0]
        if step.sla_seconds > 0:
            return workflow.now() + timedelta(seconds=step.sla_seconds)
        return None

    def _summary(self) -> str:
        p = self._project
        return f"编号：{p.code}\n名称：{p.name}\n客户：{p.customer_name}\n金额：{p.amount} 元"

    async def _notify_approvers(self, round_no: int, step: act.PlannedStep, opened: act.OpenedStep) -> None:
        task_of = {t.approver_id: t.id for t in opened.tasks if t.status == "pending"}
        for approver in self._approvers:
            await self._background(
                act.NOTIFY_SEND,
                act.SendInput(
                    request_id=f"{self._wid}:notify:{round_no}:step{step.index}:{approver}",
                    recipient_ids=[approver],
                    kind="approval_request",
                    title=f"待审批：{self._project.name}",
                    body=f"{self._summary()}\n审批环节：{opened.name or step.name}"
                    + (f"\n审批任务：{task_of[approver]}" if approver in task_of else ""),
                    project_id=self._project_id,
                ),
                act.SendResult,
            )

    async def _report(self, event_type: str, *, actor: str, project: act.ProjectSnapshot | None = None) -> None:
        await self._background(
            act.REPORTING_INGEST_EVENT,
            act.ReportEventInput(
                event_id=f"{self._wid}:{event_type}:{self._round}",
                type=event_type,
                project_id=self._project_id,
                at=workflow.now().isoformat(),
                actor_id=actor,
                payload=(project or self._project).event_payload(),
            ),
            act.ReportEventResult,
        )

    # ---------------------------------------------------------------- submit

    @workflow.update(name=UPDATE_SUBMIT)
    async def submit(self, inp: SubmitInput) -> SubmitResult:
        self._submitting = True
        self._submit_attempts += 1
        try:
            project = await self._for_caller(
                act.REGISTRY_SUBMIT_PROJECT,
                act.SubmitProjectInput(
                    request_id=f"{self._wid}:submit:{self._submit_attempts}",
                    project_id=self._project_id,
                    actor_id=inp.actor_id,
                    actor_is_admin=inp.actor_is_admin,
                    locale=inp.locale,
                ),
                act.ProjectSnapshot,
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
        outcome = await self._for_caller(
            act.APPROVAL_RECORD_DECISION,
            act.RecordDecisionInput(
                # Same task and user → same request: a retried HTTP call is recorded once.
                request_id=f"{self._wid}:decide:{inp.task_id}:{inp.user_id}",
                task_id=inp.task_id,
                actor_id=inp.user_id,
                action=inp.action,
                comment=inp.comment,
                channel=inp.channel,
                locale=inp.locale,
            ),
            act.DecisionOutcome,
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
        if inp.action not in ACTIONS:
            raise _refuse(
                ERR_VALIDATION,
                _text(inp.locale, "不支持的审批操作", "unsupported decision action"),
                [
                    {
                        "field": "action",
                        "message": _text(inp.locale, "应为 approve 或 reject", "must be approve or reject"),
                    }
                ],
            )

    # ---------------------------------------------------------------- query

    @workflow.query(name=QUERY_STATE)
    def state(self) -> LifecycleState:
        return LifecycleState(
            project_id=self._project_id,
            stage=self._stage,
            status=self._status,
            step_index=self._step_index,
            approvers=list(self._approvers),
        )

    # ---------------------------------------------------------------- activities

    async def _background(self, name: str, arg: Any, result_type: type[T]) -> T:
        result: T = await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=BACKGROUND_RETRY,
        )
        return result

    async def _for_caller(self, name: str, arg: Any, result_type: type[T], *, locale: str) -> T:
        """Run an activity for an update caller; its refusal becomes the update's failure."""
        try:
            result: T = await workflow.execute_activity(
                name,
                arg,
                result_type=result_type,
                start_to_close_timeout=CALLER_TIMEOUT,
                retry_policy=CALLER_RETRY,
            )
            return result
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in CALLER_ERRORS:
                violations = cause.details[0] if cause.details else []
                raise _refuse(cause.type or ERR_CONFLICT, cause.message, violations) from None
            workflow.logger.warning("%s failed for the caller: %s", name, cause or err)
            raise _refuse(
                ERR_UNAVAILABLE, _text(locale, "服务暂时不可用，请稍后重试", "service unavailable, try again later")
            ) from None
