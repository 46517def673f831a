"""Walking one approval chain of a purpose other than the registration (acceptance 验收, change
变更): the part ProjectAcceptance and ProjectChange share, each keeping only its own outcome.

    ChainWalk.walk(plan.steps), for each step: approval.OpenStep ─► notify.Send(approval_request,
        action links) to its approvers ─► wait for the step's outcome (``decide``), firing the
        step's SLA timers through approval.FireTimer (remind / escalate / timeout)
    ChainWalk.decide(inp)    the body of the update ``decide`` (approval.RecordDecision, then wait
                             until the loop has acted on a settling outcome)
    ChainWalk.withdraw(...)  approval.CancelInstance and the owner's settle while the walk waits,
                             then the approvers are told (approval_withdrawn)

The owning workflow plans the chain (``planned``), settles its request and sets ``done``
(``finish``).

Fewer calls (issue 15, patch ``chain-fewer-calls``, asked once by the owning workflow at init):
planning opens step 0 (PlanChain's ``open_first``, ``first_opening``), an approval that settles
its step opens the next one (RecordDecision's ``open_next``), each with the OpenStep request the
walk would make (same request id: the service answers both as one), and every opening carries
the approval requests' notice (the approval service publishes them through its outbox, the
worker's notice relay sends them; the walk sends them itself only when ``notices_published`` is
false). The walk takes such an opening instead of calling OpenStep.

Every side effect is a local activity (``call``) whose request id is derived from ``key``
(workflow id and request id): without the patch the command sequence is the one the two
workflows had before they shared this (their recorded histories replay, tests/replay).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.approval import ApprovalActivities
    from workflows.activities.notify import NotifyActivities
    from workflows.approval_walk import following_opening, held_opening
    from workflows.contracts import search_attributes as sa
    from workflows.contracts.approval import (
        CancelApprovalInput,
        FireTimerInput,
        OpenedStep,
        OpenStepInput,
        PlannedStep,
        RecordDecisionInput,
        StepNotice,
        TaskRef,
        TimerRef,
    )
    from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_VALIDATION
    from workflows.contracts.lifecycle import DecisionInput
    from workflows.contracts.notify import SendInput
    from workflows.contracts.policies import (
        ACTIVITY_TIMEOUT,
        BACKGROUND_RETRY,
        CALLER_RETRY,
        CALLER_TIMEOUT,
        LOCAL_RETRY_THRESHOLD,
    )
    from workflows.contracts.registry import ProjectSnapshot

CALLER_ERRORS = (ERR_VALIDATION, ERR_NOT_FOUND, ERR_FORBIDDEN, ERR_CONFLICT)
ACTIONS = ("approve", "reject", "return", "transfer", "add_approver")
SYSTEM = "system"
TIMEOUT_COMMENT = "审批超时，按策略自动处理"
# Asked once in the owning workflow's @workflow.init (its answer: ChainWalk(fewer_calls=...)).
PATCH_FEWER_CALLS = "chain-fewer-calls"


def cause_of(err: BaseException) -> BaseException | None:
    """The service's refusal behind an activity failure (local activities may raise it directly)."""
    return err.cause if isinstance(err, ActivityError) else err


def text(locale: str, zh: str, en: str) -> str:
    return en if locale.lower().startswith("en") else zh


async def call(fn: Any, arg: Any, *, caller: bool = False) -> Any:
    """A service call as a local activity: a caller's (short, few retries) or a background one."""
    return await workflow.execute_local_activity_method(
        fn, arg,
        start_to_close_timeout=CALLER_TIMEOUT if caller else ACTIVITY_TIMEOUT,
        retry_policy=CALLER_RETRY if caller else BACKGROUND_RETRY,
        local_retry_threshold=LOCAL_RETRY_THRESHOLD,
    )


class ChainWalk:
    """The state of one chain being walked, and the steps of walking it.

    ``key``: prefix of every request id; ``purpose``: the approval instance's purpose (also in the
    notification context, with ``context_extra``); ``search_attributes``: keep ``BaobeiApprovers``
    and ``BaobeiSlaDeadline`` current (the acceptance does, the change never did: upserts are
    commands, so turning them on there needs a ``workflow.patched`` guard); ``fewer_calls``: the
    answer of ``PATCH_FEWER_CALLS``.
    """

    def __init__(self, *, key: str, project_id: str, purpose: str, context_extra: dict[str, Any] | None = None,
                 search_attributes: bool = False, fewer_calls: bool = False) -> None:
        self.key = key
        self.purpose = purpose
        self.project = ProjectSnapshot(id=project_id)
        self.instance_id = ""
        self.plan: list[PlannedStep] = []
        self.step_index = -1
        self.approvers: list[str] = []
        self.open_seq = 0
        self.acted_seq = 0
        self.step_outcome: str | None = None
        self.return_to = -1
        self.decider = ""
        self.comment = ""
        self.timers_fired = 0
        self.withdrawn = False
        self.withdrawing = False
        self.done = False
        self._context_extra = dict(context_extra or {})
        self._search_attributes = search_attributes
        self._fewer_calls = fewer_calls
        # A step opened by the planning or by the approval of the step before: (index, seq, opened),
        # taken by the walk when it comes to that opening, in the activation the answer came in.
        self._preopened: tuple[int, int, OpenedStep] | None = None

    # ---------------------------------------------------------------- plan

    def first_opening(self) -> OpenStepInput | None:
        """The opening of step 0 to ask of the planning (PlanChain's ``open_first``): the
        instance is the one it plans, so none is named. None on the old path."""
        if not self._fewer_calls:
            return None
        return self._open_input(0, self.open_seq + 1, instance_id="")

    def planned(self, instance_id: str, steps: list[PlannedStep], first_opened: OpenedStep | None = None) -> None:
        """The chain as planned, with step 0 if the planning opened it."""
        self.instance_id, self.plan = instance_id, list(steps)
        if first_opened is not None and steps:
            self._preopened = (0, self.open_seq + 1, first_opened)

    def _open_input(self, index: int, seq: int, *, instance_id: str | None = None) -> OpenStepInput:
        """The OpenStep request of an opening, whoever makes it; with the approval requests'
        notice on the new path (the prefix ``notify_tasks`` gives them, the service appends
        ``:<approver>:<task id>`` and adds the step's name and the task id)."""
        notice = None
        if self._fewer_calls:
            notice = StepNotice(kind="approval_request", project_id=self.project.id,
                                request_id_prefix=f"{self.key}:notify:step{index}:{seq}",
                                context=self.context(escalated=False))
        return OpenStepInput(request_id=f"{self.key}:open:{index}:{seq}",
                             instance_id=self.instance_id if instance_id is None else instance_id,
                             step_index=index, notice=notice)

    # ---------------------------------------------------------------- walk

    async def walk(self, plan: list[PlannedStep]) -> str:
        """Walk the chain: "approved", "rejected", "returned" or "withdrawn"."""
        self.plan = list(plan)
        index = 0
        while index < len(plan):
            step = plan[index]
            self.open_seq += 1
            seq = self.open_seq
            self.timers_fired = 0
            self.step_index = index
            self.step_outcome = None
            self.return_to = -1
            held, self._preopened = self._preopened, None
            opened = held_opening(held, index, seq)
            if opened is None:
                opened = await call(ApprovalActivities.open_step, self._open_input(index, seq))
            if opened.status in ("approved", "skipped"):
                self.acted_seq = max(self.acted_seq, seq)
                index += 1
                continue
            if opened.status == "rejected":
                return "rejected"
            pending = [t for t in opened.tasks if t.status == "pending"]
            self.approvers = sorted({t.approver_id for t in pending})
            self._set_approver_attributes(opened.due_at)
            # The step is open (its to-dos exist): release the previous step's decide caller.
            self.acted_seq = max(self.acted_seq, seq - 1)
            if not opened.notices_published:  # else approval published them (its notice outbox)
                await self.notify_tasks(f"step{index}:{seq}", pending, opened.name or step.name)
            # The deciding caller is released at the next opening, or once the request is settled.
            outcome = await self._wait_step(step, opened, seq)
            if outcome in ("rejected", "withdrawn"):
                return outcome
            if outcome == "returned":
                if self.return_to < 0:
                    return "returned"
                index = self.return_to
                continue
            index += 1
        return "approved"

    def finish(self) -> None:
        """The request is settled: release every waiting decide caller."""
        self.done = True
        self.acted_seq = self.open_seq

    def _settled_or_withdrawn(self) -> bool:
        return self.step_outcome is not None or self.withdrawn

    async def _wait_step(self, step: PlannedStep, opened: OpenedStep, seq: int) -> str:
        timers = sorted(opened.timers, key=lambda t: t.index)
        while not self._settled_or_withdrawn():
            upcoming = [t for t in timers if t.index >= self.timers_fired]
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
            if self.withdrawing:
                await workflow.wait_condition(lambda: not self.withdrawing)
                continue
            await self._fire(step, upcoming[0], seq)
            self.timers_fired = upcoming[0].index + 1
        return "withdrawn" if self.withdrawn else str(self.step_outcome)

    async def _fire(self, step: PlannedStep, timer: TimerRef, seq: int) -> None:
        result = await call(
            ApprovalActivities.fire_timer,
            FireTimerInput(request_id=f"{self.key}:timer:{step.index}:{seq}:{timer.index}",
                           instance_id=self.instance_id, step_index=step.index, timer_index=timer.index),
        )
        if not result.fired:
            return
        key = f"step{step.index}:{seq}:timer{timer.index}"
        if timer.action == "remind":
            await self.send(key, result.remind_user_ids, "approval_remind", step=step.name)
        elif timer.action == "escalate":
            self.approvers = sorted(set(result.pending_approvers))
            self._set_approver_attributes(None)
            await self.notify_tasks(f"{key}:esc", [t for t in result.new_tasks if t.status == "pending"], step.name,
                                    escalated=True)
        if result.step_outcome in ("approved", "rejected") and self.step_outcome is None:
            self.decider = SYSTEM
            self.comment = TIMEOUT_COMMENT
            self.step_outcome = result.step_outcome

    def _set_approver_attributes(self, due_at: str | None) -> None:
        """``due_at``: the step's SLA deadline (ISO), "" for none, None to keep the current one."""
        if not self._search_attributes:
            return
        approvers = sa.APPROVERS.value_set(self.approvers) if self.approvers else sa.APPROVERS.value_unset()
        updates: list[Any] = [approvers]
        if due_at is not None:
            updates.append(sa.SLA_DEADLINE.value_set(datetime.fromisoformat(due_at)) if due_at
                           else sa.SLA_DEADLINE.value_unset())
        workflow.upsert_search_attributes(updates)

    # ---------------------------------------------------------------- notifications

    def context(self, step: str = "", comment: str = "", **extra: Any) -> dict[str, Any]:
        p = self.project
        out: dict[str, Any] = {"project_id": p.id, "code": p.code, "name": p.name, "customer": p.customer_name,
                               "amount": p.amount, "purpose": self.purpose, **self._context_extra}
        if step:
            out["step"] = step
        if comment:
            out["comment"] = comment
        out.update(extra)
        return out

    async def send(self, key: str, recipients: list[str], kind: str, *, step: str = "", comment: str = "") -> None:
        users = sorted({r for r in recipients if r})
        if not users:
            return
        await call(NotifyActivities.send, SendInput(
            request_id=f"{self.key}:notify:{key}:{kind}", recipient_ids=users, kind=kind, title="",
            project_id=self.project.id, context=self.context(step=step, comment=comment)))

    async def notify_tasks(self, key: str, tasks: list[TaskRef], step_name: str, *, escalated: bool = False) -> None:
        """One approval request per task, with its action link."""
        for task in tasks:
            await call(NotifyActivities.send, SendInput(
                request_id=f"{self.key}:notify:{key}:{task.approver_id}:{task.id}", recipient_ids=[task.approver_id],
                kind="approval_request", title="", project_id=self.project.id,
                action_tasks={task.approver_id: task.id},
                context=self.context(step=step_name, task_id=task.id, escalated=escalated)))

    # ---------------------------------------------------------------- decide

    def validate_decide(self, inp: DecisionInput, over_zh: str, over_en: str) -> None:
        """The validator of ``decide``: a known action, while the chain is walked."""
        if inp.action not in ACTIONS:
            message = text(inp.locale, f"不支持的操作：{inp.action}", f"unsupported action: {inp.action}")
            raise ApplicationError(message, [], type=ERR_VALIDATION, non_retryable=True)
        # New path: step 0's to-do (and its approval request) exist once PlanChain commits, maybe
        # before its answer reaches the walk: ``decide`` waits for the instance instead.
        unplanned = self.instance_id == "" and not self._fewer_calls
        if self.done or self.withdrawn or self.withdrawing or unplanned:
            raise ApplicationError(text(inp.locale, over_zh, over_en), [], type=ERR_CONFLICT, non_retryable=True)

    async def decide(self, inp: DecisionInput) -> None:
        """Record a decision on one of the chain's tasks; a settling one returns once the loop has
        acted on it (next step open, or the request settled). An approval that settles the step
        asks the service to open the next one in the same call (new path)."""
        if self.instance_id == "":  # only on the new path (the validator): the planning's answer
            await workflow.wait_condition(lambda: self.instance_id != "" or self.done)
        asked = None
        if self._fewer_calls:
            asked = following_opening(inp.action, step_index=self.step_index, steps=len(self.plan),
                                      open_seq=self.open_seq,
                                      settled=self._settled_or_withdrawn() or self.withdrawing)
        try:
            outcome = await call(
                ApprovalActivities.record_decision,
                RecordDecisionInput(
                    request_id=f"{self.key}:decide:{inp.task_id}:{inp.user_id}:{inp.action}"
                    + (f":{inp.position}:{inp.to_user_id}" if inp.action in ("transfer", "add_approver") else "")
                    + (f":{inp.to_step}" if inp.action == "return" else ""),
                    task_id=inp.task_id, actor_id=inp.user_id, action=inp.action, comment=inp.comment,
                    channel=inp.channel, locale=inp.locale, to_user_id=inp.to_user_id, position=inp.position,
                    to_step=inp.to_step, link_id=inp.link_id, attachments=list(inp.attachments),
                    open_next=None if asked is None else self._open_input(*asked),
                ),
                caller=True,
            )
        except (ActivityError, ApplicationError) as err:
            cause = cause_of(err)
            if isinstance(cause, ApplicationError) and cause.type in CALLER_ERRORS:
                violations = cause.details[0] if cause.details else []
                raise ApplicationError(cause.message, violations, type=cause.type, non_retryable=True) from None
            busy = text(inp.locale, "服务暂时不可用，请稍后重试", "service unavailable, try again later")
            raise ApplicationError(busy, [], type=ERR_UNAVAILABLE, non_retryable=True) from None
        seq = self.open_seq
        current = outcome.instance_id == self.instance_id and outcome.step_index == self.step_index
        settles = outcome.step_outcome in ("approved", "rejected", "returned")
        if current and settles and self.step_outcome is None:
            self.decider = inp.user_id
            self.comment = inp.comment
            self.return_to = outcome.return_to
            self.step_outcome = outcome.step_outcome
            if asked is not None and outcome.next_opened is not None and outcome.step_outcome == "approved":
                self._preopened = (*asked, outcome.next_opened)
        elif current:
            self.approvers = sorted(set(outcome.pending_approvers))
        if outcome.new_tasks:
            await self.notify_tasks(f"step{outcome.step_index}:{seq}:{inp.action}:{inp.task_id}", outcome.new_tasks,
                                    outcome.step_name)
        if current and settles:
            await workflow.wait_condition(lambda: self.acted_seq >= seq or self.done)

    # ---------------------------------------------------------------- withdraw

    async def withdraw(self, *, actor_id: str, reason: str, locale: str, settle: Callable[[], Awaitable[Any]]) -> None:
        """The pending request is withdrawn: the chain is cancelled (approval.CancelInstance), the
        owner's ``settle`` records it, the approvers are told; the walk returns "withdrawn"."""
        self.withdrawing = True
        try:
            await workflow.wait_condition(lambda: self.instance_id != "")
            await call(ApprovalActivities.cancel, CancelApprovalInput(
                request_id=f"{self.key}:cancel", instance_id=self.instance_id, actor_id=actor_id,
                action="withdraw", comment=reason, channel="api", locale=locale), caller=True)
            await settle()
        finally:
            self.withdrawing = False
        previous = list(self.approvers)
        self.withdrawn = True
        self.comment = reason
        self.approvers = []
        await self.send("withdrawn", previous, "approval_withdrawn", comment=reason)
        self.done = True
