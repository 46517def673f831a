"""Opening a step: skipped without approvers, approved by policy (self-approval, the same approver
as the step before), else pending with one task per approver (the first only when sequential)
and its carbon copies (those its users do not hold yet: a reopened step keeps the earlier ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from baobei.core.errors import Conflict, NotFound
from baobei.workcalendar import SHANGHAI
from services.approval.domain.model import (
    Approval,
    CcCopy,
    Decision,
    Event,
    NewId,
    Step,
    Task,
    Transition,
    add_task,
    audit,
    new_id,
    settle_instance,
    working_copy,
)
from services.approval.domain.outcomes import StepRecord, should_auto_approve
from services.approval.domain.rules import (
    AUTO_APPROVE_COMMENT,
    INSTANCE_PENDING,
    SELF_APPROVE_COMMENT,
    STEP_APPROVED,
    STEP_PENDING,
    STEP_SKIPPED,
    STEP_WAITING,
    SYSTEM_ACTOR,
)
from services.approval.domain.timers import Timer


@dataclass
class Opened:
    """The step after opening (or as it is, when it was opened before)."""

    transition: Transition
    step: Step
    # The step's decisions to report: those of this opening, or all when it was opened before.
    decisions: list[Decision]
    tasks: list[Task]
    auto_approved: bool
    timers: list[Timer] = field(default_factory=list)
    due: datetime | None = None
    # The step's cc users, named by every opening (its copies are made once: transition.new_cc).
    cc: list[str] = field(default_factory=list)


def unknown_step(index: int) -> NotFound:
    return NotFound(f"审批步骤不存在：{index}", f"unknown approval step: {index}")


def opening_refusal(a: Approval, step_index: int) -> Conflict | None:
    """Why a waiting step may not open now: the approval is over, or an earlier step is not done."""
    if a.instance.status != INSTANCE_PENDING:
        return Conflict("审批已结束", "the approval is over", code="already_decided")
    if any(s.status not in (STEP_APPROVED, STEP_SKIPPED) for s in a.steps if s.step_index < step_index):
        return Conflict("前序审批步骤尚未完成", "an earlier step is not finished", code="illegal_transition")
    return None


def open_step(loaded: Approval, step_index: int, now: datetime, ids: NewId = new_id) -> Opened:
    t = Transition(working_copy(loaded))
    a = t.approval
    step = a.step(step_index)
    if step is None:
        raise unknown_step(step_index)
    if step.status != STEP_WAITING:
        # Opened before (under another request id): report what it is now.
        so_far = a.decisions_of(step_index)
        due, timers = step.timers()
        return Opened(t, step, so_far, a.current_tasks(step), auto_approved=any(d.auto for d in so_far),
                      timers=timers, due=due, cc=list((step.config or {}).get("cc") or []))
    refused = opening_refusal(a, step_index)
    if refused is not None:
        raise refused
    earlier = [s for s in a.steps if s.step_index < step_index]

    config = step.config or {}
    step.opened_at = now
    # The working calendar its SLA counts on, frozen for this opening (see Step.timers).
    step.config = {**config, "calendar": a.calendar.snapshot(now.astimezone(SHANGHAI).date())}
    auto = False
    event = "approval.step_opened"
    if not step.approvers and not config.get("blocked"):
        step.status, step.decided_at = STEP_SKIPPED, now
        event = "approval.step_skipped"
    elif config.get("self_approved"):
        auto = True
        _approve_by_policy(t, step, SELF_APPROVE_COMMENT, now)
        event = "approval.step_self_approved"
    elif config.get("auto_consecutive", True) and should_auto_approve(step.approvers, _records(a, earlier)):
        auto = True
        _approve_by_policy(t, step, AUTO_APPROVE_COMMENT, now)
        event = "approval.step_auto_approved"
    else:
        step.status = STEP_PENDING
        approvers = list(dict.fromkeys(step.approvers))
        if step.mode == "sequential":
            approvers = approvers[:1]
        for approver in approvers:
            add_task(t, step, approver, now, ids)
        if not approvers:
            event = "approval.step_blocked"
    cc_users = list(config.get("cc") or []) if step.status == STEP_PENDING else []
    # One copy per user and step (uq_approval_cc_instance_step_user): a step reopened after a return,
    # or a user copied by hand before it opened, keeps the copy it has; the opening still names
    # every cc user (``Opened.cc``: the caller notifies them of this opening).
    copied = {c.user_id for c in a.cc if c.step_index == step_index}
    for user in dict.fromkeys(cc_users):
        if user in copied:
            continue
        copy = CcCopy(id=ids(), instance_id=a.instance.id, project_id=a.instance.project_id, step_index=step_index,
                      user_id=user, by_user_id=SYSTEM_ACTOR, created_at=now)
        a.cc.append(copy)
        t.new_cc.append(copy)
    settle_instance(t, now)
    due, timers = step.timers() if step.status == STEP_PENDING else (None, [])
    t.events.append(Event(event, {"project_id": a.instance.project_id, "instance_id": a.instance.id,
                                  "step_index": step_index, "approvers": list(step.approvers),
                                  "tasks": len(t.new_tasks), "timers": len(timers)}))
    return Opened(t, step, list(t.new_decisions), list(t.new_tasks), auto_approved=auto, timers=timers, due=due,
                  cc=cc_users)


def _approve_by_policy(t: Transition, step: Step, comment: str, now: datetime) -> None:
    step.status, step.decided_at = STEP_APPROVED, now
    audit(t, step_index=step.step_index, user_id=step.approvers[0], action="approve", now=now, comment=comment,
          channel="auto", auto=True)


def _records(a: Approval, earlier: list[Step]) -> list[StepRecord]:
    """What auto-approval needs of the earlier steps; approvals from before a change of the form
    (resubmission with edits) are stale."""
    changed_at = a.instance.form_changed_at
    return [
        StepRecord(
            status=s.status,
            approvers=tuple(s.approvers),
            approved_by=tuple(d.user_id for d in a.decisions if d.step_index == s.step_index and d.action == "approve"),
            stale=changed_at is not None and s.decided_at is not None and s.decided_at < changed_at,
        )
        for s in earlier
    ]
