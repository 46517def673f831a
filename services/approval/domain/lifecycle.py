"""An instance's life around the decisions: planning it (superseding what is open of earlier
submissions), resubmission after a return (resume at the returning step, or a new chain when the
routing facts changed), withdrawal / cancellation, an admin's reassignment, and the audit-only
actions remind, comment and cc."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from baobei.core.errors import Conflict, FieldViolation, ValidationFailed
from services.approval.domain.facts import ProjectFacts
from services.approval.domain.model import (
    OPEN_TASK,
    PURPOSE_REGISTRATION,
    Approval,
    CcCopy,
    Decision,
    Event,
    Instance,
    NewId,
    Step,
    Task,
    Transition,
    add_task,
    audit,
    close_open_tasks,
    new_id,
    working_copy,
)
from services.approval.domain.opening import unknown_step
from services.approval.domain.planning import PlannedStep
from services.approval.domain.policies import Policy
from services.approval.domain.rules import (
    INSTANCE_APPROVED,
    INSTANCE_CANCELLED,
    INSTANCE_PENDING,
    INSTANCE_RETURNED,
    INSTANCE_SUPERSEDED,
    KIND_NORMAL,
    STEP_PENDING,
    STEP_RETURNED,
    STEP_WAITING,
    TASK_CLOSED,
)

AUDIT_ONLY = ("remind", "comment", "cc")


def step_config(s: PlannedStep) -> dict[str, Any]:
    return {
        "min_approvals": s.min_approvals,
        "ratio": s.ratio,
        "remind_at": s.remind_at,
        "escalation": [dict(lv) for lv in s.escalation],
        "cc": list(s.cc),
        "blocked": s.blocked,
        "self_approved": s.self_approved,
    }


# ---------------------------------------------------------------- planning


@dataclass
class Planned:
    approval: Approval
    # Earlier submissions of the project, with what was open of them superseded.
    previous: list[Transition] = field(default_factory=list)


@dataclass(frozen=True)
class PlanInput:
    facts: ProjectFacts
    submitter_id: str
    policy: Policy | None
    steps: Sequence[PlannedStep]
    inputs: dict[str, Any] | None = None
    purpose: str = PURPOSE_REGISTRATION
    subject_id: str = ""


def plan_instance(previous: Sequence[Approval], inp: PlanInput, now: datetime, ids: NewId = new_id) -> Planned:
    """A new instance with its planned steps (approved at once without steps); a resubmission
    supersedes what is still open of earlier submissions of the project for the same purpose
    (an acceptance request never supersedes the registration's chain, nor the reverse); attempts
    are numbered across all of the project's instances."""
    superseded = [
        supersede(p, now) if p.instance.purpose == inp.purpose else Transition(working_copy(p)) for p in previous
    ]
    policy, steps = inp.policy, inp.steps
    instance = Instance(
        id=ids(),
        project_id=inp.facts.project_id,
        attempt=max((p.instance.attempt for p in previous), default=0) + 1,
        policy_key=policy.key if policy else "",
        policy_version=policy.version if policy else 0,
        submitter_id=inp.submitter_id,
        status=INSTANCE_PENDING if steps else INSTANCE_APPROVED,
        created_at=now,
        decided_at=None if steps else now,
        form_key=inp.facts.form_key,
        inputs=inp.inputs,
        form_hash=inp.facts.content_hash(),
        purpose=inp.purpose,
        subject_id=inp.subject_id,
    )
    auto_consecutive = policy.options.auto_approve_consecutive if policy else True
    planned = [
        Step(instance_id=instance.id, step_index=s.index, name=s.name, mode=s.mode, approvers=list(s.approvers),
             sla=s.sla, sla_seconds=s.sla_seconds, on_timeout=s.on_timeout, escalate_to=list(s.escalate_to),
             status=STEP_WAITING, config={**step_config(s), "auto_consecutive": auto_consecutive},
             provenance=dict(s.provenance) or None)
        for s in steps
    ]
    return Planned(Approval(instance, planned), superseded)


def supersede(loaded: Approval, now: datetime) -> Transition:
    t = Transition(working_copy(loaded))
    instance = t.approval.instance
    if instance.status in (INSTANCE_PENDING, INSTANCE_RETURNED):
        instance.status, instance.decided_at = INSTANCE_SUPERSEDED, now
        close_open_tasks(t.approval, None, now)
    return t


# ---------------------------------------------------------------- resubmission


@dataclass
class Resumed:
    transition: Transition
    resume_from: int


def _require_returned(a: Approval) -> None:
    if a.instance.status != INSTANCE_RETURNED:
        raise Conflict("审批未处于退回状态", "the approval is not returned", code="illegal_transition")


def resume(loaded: Approval, facts: ProjectFacts, actor_id: str, now: datetime) -> Resumed:
    """Resume a returned approval at the returning step; earlier approvals stop counting for
    auto-approval when the form changed."""
    _require_returned(loaded)
    t = Transition(working_copy(loaded))
    a = t.approval
    instance = a.instance
    resume_from = max(instance.returned_step, 0)
    for s in a.steps:
        if s.step_index >= resume_from and s.status in (STEP_RETURNED, STEP_PENDING):
            s.status, s.opened_at, s.decided_at = STEP_WAITING, None, None
    new_hash = facts.content_hash()
    changed = bool(instance.form_hash) and new_hash != instance.form_hash
    if changed:
        instance.form_changed_at = now
    instance.form_hash = new_hash
    instance.inputs = {**(instance.inputs or {}), "project": facts.as_dict()}
    instance.status, instance.decided_at, instance.returned_step = INSTANCE_PENDING, None, -1
    audit(t, step_index=resume_from, user_id=actor_id, action="resubmit", now=now, data={"form_changed": changed})
    t.events.append(Event("approval.resumed", {"project_id": instance.project_id, "instance_id": instance.id,
                                               "resume_from": resume_from, "form_changed": changed}))
    return Resumed(t, resume_from)


def replan(
    previous: Sequence[Approval], returned_id: str, inp: PlanInput, reason: str, actor_id: str, now: datetime,
    ids: NewId = new_id,
) -> Planned:
    """A returned approval resubmitted with other routing facts: a new chain from its first step,
    superseding the returned one (whose trail records why)."""
    old = next(p for p in previous if p.instance.id == returned_id)
    _require_returned(old)
    inputs = {**(inp.inputs or {}), "replanned": {"reason": reason, "from_instance": returned_id}}
    planned = plan_instance(previous, PlanInput(inp.facts, old.instance.submitter_id, inp.policy, inp.steps, inputs,
                                               old.instance.purpose, old.instance.subject_id),
                            now, ids)
    superseded = next(t for t in planned.previous if t.approval.instance.id == returned_id)
    audit(superseded, step_index=-1, user_id=actor_id, action="resubmit", now=now, data={"replanned": reason})
    return planned


# ---------------------------------------------------------------- withdrawal and admin


def cancel(loaded: Approval, actor_id: str, action: str, comment: str, channel: str, now: datetime) -> Transition:
    """Withdraw (the submitter) or cancel (an admin) an approval that is not over."""
    if loaded.instance.status not in (INSTANCE_PENDING, INSTANCE_RETURNED):
        raise Conflict("审批已结束，无法撤回或取消", "the approval is over and cannot be withdrawn or cancelled",
                       code="already_decided")
    t = Transition(working_copy(loaded))
    instance = t.approval.instance
    close_open_tasks(t.approval, None, now)
    instance.status, instance.decided_at = INSTANCE_CANCELLED, now
    action = "cancel" if action == "cancel" else "withdraw"
    audit(t, step_index=-1, user_id=actor_id, action=action, now=now, comment=comment, channel=channel)
    t.events.append(Event("approval.cancelled", {"project_id": instance.project_id, "instance_id": instance.id,
                                                 "actor_id": actor_id, "action": action}))
    return t


@dataclass
class Reassigned:
    transition: Transition
    step: Step
    new_tasks: list[Task]
    pending_approvers: list[str]


def reassign(
    loaded: Approval, step_index: int, from_user_id: str, to_user_id: str, actor_id: str, comment: str,
    now: datetime, ids: NewId = new_id,
) -> Reassigned:
    """Move a pending step's open tasks (of ``from_user_id``, or all) to ``to_user_id``; also how an
    admin unblocks a step that found no approver."""
    t = Transition(working_copy(loaded))
    a = t.approval
    step = a.step(step_index)
    if step is None:
        raise unknown_step(step_index)
    if a.instance.status != INSTANCE_PENDING or step.status != STEP_PENDING:
        raise Conflict("该步骤不在审批中", "the step is not pending", code="illegal_state")
    open_tasks = [x for x in a.current_tasks(step) if x.status in OPEN_TASK]
    moving = [x for x in open_tasks if not from_user_id or x.approver_id == from_user_id]
    if from_user_id and not moving:
        raise ValidationFailed([FieldViolation("from_user_id", f"{from_user_id} 不是该步骤的待审批人",
                                               f"{from_user_id} has no open task in this step")])
    moving_ids = {x.id for x in moving}
    if any(x.approver_id == to_user_id for x in open_tasks if x.id not in moving_ids):
        raise ValidationFailed([FieldViolation("to_user_id", f"{to_user_id} 已是该步骤的审批人",
                                               f"{to_user_id} is already an approver of this step")])
    for x in moving:
        x.status, x.decided_at = TASK_CLOSED, now
    kinds = {x.kind for x in moving} or {KIND_NORMAL}
    new = add_task(t, step, to_user_id, now, ids, kind=KIND_NORMAL if KIND_NORMAL in kinds else sorted(kinds)[0])
    for x in a.tasks:
        if x.blocks_task_id in moving_ids:
            x.blocks_task_id = new.id
    moved = {x.approver_id for x in moving}
    step.approvers = list(dict.fromkeys([to_user_id if u in moved else u for u in step.approvers]
                                        + ([to_user_id] if not moved else [])))
    step.config = {**(step.config or {}), "blocked": False}
    audit(t, step_index=step_index, user_id=actor_id, action="reassign", now=now, comment=comment,
          target_user_id=to_user_id, data={"from": sorted(moved)})
    t.events.append(Event("approval.reassigned", {
        "project_id": a.instance.project_id, "instance_id": a.instance.id, "step_index": step_index,
        "from_users": sorted(moved), "to_user": to_user_id, "actor_id": actor_id}))
    return Reassigned(t, step, [new], a.pending_approvers(step))


@dataclass
class Acted:
    transition: Transition
    action: Decision
    cc: list[CcCopy]
    step_index: int


def record_action(
    loaded: Approval, step_index: int, actor_id: str, action: str, comment: str, channel: str, now: datetime,
    user_ids: Sequence[str] = (), attachments: Sequence[dict[str, str]] = (), ids: NewId = new_id,
) -> Acted:
    """remind / comment / cc on an instance (at ``step_index``, or its pending step when negative);
    cc copies each user once per step."""
    if action not in AUDIT_ONLY:
        raise ValidationFailed([FieldViolation("action", "须为 remind、comment 或 cc",
                                               "action must be remind, comment or cc")])
    t = Transition(working_copy(loaded))
    a = t.approval
    index = step_index
    if index < 0:
        current = next((s for s in a.steps if s.status == STEP_PENDING), None)
        index = current.step_index if current else -1
    if action == "cc":
        existing = {c.user_id for c in a.cc if c.step_index == index}
        for user in dict.fromkeys(user_ids):
            if user and user not in existing:
                copy = CcCopy(id=ids(), instance_id=a.instance.id, project_id=a.instance.project_id,
                              step_index=index, user_id=user, by_user_id=actor_id, created_at=now)
                a.cc.append(copy)
                t.new_cc.append(copy)
    data: dict[str, Any] = {}
    if attachments:
        data["attachments"] = list(attachments)
    if user_ids:
        data["user_ids"] = list(user_ids)
    row = audit(t, step_index=index, user_id=actor_id, action=action, now=now, comment=comment, channel=channel,
                data=data)
    t.events.append(Event("approval.action", {"project_id": a.instance.project_id, "instance_id": a.instance.id,
                                              "action": action, "actor_id": actor_id, "step_index": index}))
    return Acted(t, row, list(t.new_cc), index)
