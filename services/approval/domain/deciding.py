"""An approver's decision on a task: approve, reject, return (to the submitter or to an earlier
step), transfer, add an approver (before / after / in parallel). Refuses what may not happen
(not the approver, a used link, a task or step already decided) and settles the step by its mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from baobei.core.errors import Conflict, FieldViolation, Forbidden, Gone, NotFound, ValidationFailed
from services.approval import group_links
from services.approval.domain.model import (
    OPEN_TASK,
    Approval,
    Event,
    LinkUse,
    NewId,
    Step,
    Task,
    Transition,
    add_task,
    audit,
    close_open_tasks,
    new_id,
    next_in_sequence,
    outcome,
    settle_step,
    working_copy,
)
from services.approval.domain.outcomes import acting_for
from services.approval.domain.rules import (
    ACTIONS,
    INSTANCE_PENDING,
    INSTANCE_RETURNED,
    KIND_AFTER,
    KIND_BEFORE,
    KIND_NORMAL,
    OUTCOME_PENDING,
    OUTCOME_RETURNED,
    POSITIONS,
    STEP_APPROVED,
    STEP_PENDING,
    STEP_RETURNED,
    STEP_WAITING,
    TASK_APPROVED,
    TASK_CLOSED,
    TASK_PENDING,
    TASK_REJECTED,
    TASK_WAITING,
)


@dataclass(frozen=True)
class DecisionInput:
    task_id: str
    actor_id: str
    action: str
    comment: str = ""
    channel: str = ""
    to_user_id: str = ""
    position: str = ""
    to_step: int | None = None
    attachments: Sequence[dict[str, str]] = ()
    link_id: str = ""


@dataclass
class Decided:
    transition: Transition
    task: Task
    step: Step
    outcome: str
    on_behalf_of: str
    # Tasks that became pending (new ones and one released by an approver added before).
    new_tasks: list[Task] = field(default_factory=list)
    return_to: int = -1
    pending_approvers: list[str] = field(default_factory=list)


def unknown_task(task_id: str) -> NotFound:
    return NotFound(f"审批任务不存在：{task_id}", f"unknown approval task: {task_id}")


def already_decided() -> Conflict:
    return Conflict(
        "该审批任务已处理或审批已结束", "the task is already decided or the approval is over", code="already_decided"
    )


def link_used() -> Gone:
    return Gone("该审批链接已使用过", "this action link was already used", code="link_used")


def check_action(action: str, link_id: str) -> None:
    if action not in ACTIONS:
        raise ValidationFailed([FieldViolation(
            "action", "操作须为 approve、reject、return、transfer 或 add_approver",
            "action must be approve, reject, return, transfer or add_approver")])
    if link_id and action not in ("approve", "reject"):
        raise ValidationFailed([FieldViolation("action", "审批链接只能通过或驳回",
                                               "an action link can only approve or reject")])


def decide(loaded: Approval, inp: DecisionInput, now: datetime, ids: NewId = new_id) -> Decided:
    link_id = inp.link_id.strip()
    # link, or group_link (g:<link>:<task>)
    channel = group_links.channel_of(link_id) if link_id else inp.channel
    check_action(inp.action, link_id)
    t = Transition(working_copy(loaded))
    a = t.approval
    task = a.task(inp.task_id)
    if task is None:
        raise unknown_task(inp.task_id)
    # A used link stays used, whatever happened to the task since (410 before 409).
    if link_id and link_id in a.used_links:
        raise link_used()
    behalf = acting_for(inp.actor_id, task.approver_id, a.delegations, now)
    if behalf is None:
        raise Forbidden("您不是该审批任务的审批人", "you are not the approver of this task", code="not_approver")
    step = a.step(task.step_index)
    assert step is not None, "a task belongs to a step of its instance"
    if link_id and task.status == TASK_CLOSED and a.closed_by(task):
        # The link's approver no longer holds the task (transferred or reassigned): 403.
        raise Forbidden("该审批任务已转交他人", "the task was handed to someone else", code="not_assignee")
    if task.status != TASK_PENDING or a.instance.status != INSTANCE_PENDING or step.status != STEP_PENDING:
        raise already_decided()
    target = inp.to_user_id.strip()
    if inp.action in ("transfer", "add_approver"):
        current = {x.approver_id for x in a.current_tasks(step) if x.status in OPEN_TASK}
        if target in current or target == inp.actor_id:
            raise ValidationFailed([FieldViolation("to_user_id", f"{target} 已是该步骤的审批人",
                                                   f"{target} is already an approver of this step")])
    data: dict[str, Any] = {"attachments": list(inp.attachments)} if inp.attachments else {}
    announced: list[Task] = []
    result = OUTCOME_PENDING
    return_to = -1

    def close(status: str) -> None:
        task.status, task.decided_at = status, now

    if inp.action in ("approve", "reject"):
        close(TASK_APPROVED if inp.action == "approve" else TASK_REJECTED)
        held = a.task(task.blocks_task_id) if inp.action == "approve" and task.kind == KIND_BEFORE else None
        if held is not None and held.status == TASK_WAITING:
            held.status, held.opened_at = TASK_PENDING, now
            announced.append(held)
    elif inp.action == "return":
        return_to = _return(a, step, inp.to_step, now)
        close(TASK_CLOSED)
        close_open_tasks(a, step.step_index, now)
        result = OUTCOME_RETURNED
        if return_to >= 0:
            data["to_step"] = return_to
    elif inp.action == "transfer":
        close(TASK_CLOSED)
        new = add_task(t, step, target, now, ids, kind=task.kind or KIND_NORMAL)
        announced.append(new)
        for other in a.tasks:
            if other.blocks_task_id == task.id:
                other.blocks_task_id = new.id
        step.approvers = [target if x == task.approver_id else x for x in step.approvers]
    else:
        where = inp.position or "parallel"
        if where not in POSITIONS:
            raise ValidationFailed([FieldViolation("position", "须为 before、after 或 parallel",
                                                   "position must be before, after or parallel")])
        data["position"] = where
        if where == "parallel":
            announced.append(add_task(t, step, target, now, ids))
        elif where == "before":
            close(TASK_WAITING)
            announced.append(add_task(t, step, target, now, ids, kind=KIND_BEFORE, blocks=task.id))
        else:
            close(TASK_APPROVED)
            announced.append(add_task(t, step, target, now, ids, kind=KIND_AFTER))
        if target not in step.approvers:
            step.approvers = [*step.approvers, target]
    if link_id:
        data["link_id"] = link_id
        # Stored in the decision's transaction: its primary key makes a second use fail.
        t.link_use = LinkUse(link_id=link_id, task_id=task.id, user_id=inp.actor_id, at=now)
    audit(t, step_index=step.step_index, user_id=inp.actor_id, action=inp.action, now=now, task_id=task.id,
          comment=inp.comment, channel=channel, on_behalf_of=behalf, target_user_id=target, data=data)
    if result == OUTCOME_PENDING:
        result = outcome(step, a.current_tasks(step))
        if result == OUTCOME_PENDING:
            announced.extend(next_in_sequence(t, step, now, ids))
        settle_step(t, step, result, now)
    t.events.append(Event("approval.decided", {
        "project_id": a.instance.project_id, "instance_id": a.instance.id, "task_id": task.id,
        "step_index": step.step_index, "actor_id": inp.actor_id, "on_behalf_of": behalf, "action": inp.action,
        "outcome": result, "channel": channel or "api", "new_tasks": len(announced)}))
    return Decided(t, task, step, result, behalf, [x for x in announced if x.status == TASK_PENDING], return_to,
                   a.pending_approvers(step))


def _return(a: Approval, step: Step, to_step: int | None, now: datetime) -> int:
    """Return to the submitter (the instance waits for a resubmission) or to an earlier approved
    step (it and every step up to this one open again); the step returned to, or -1."""
    if to_step is None:
        step.status, step.decided_at = STEP_RETURNED, now
        a.instance.status = INSTANCE_RETURNED
        a.instance.returned_step = step.step_index
        return -1
    back = a.step(to_step)
    if back is None or to_step >= step.step_index or back.status != STEP_APPROVED:
        raise ValidationFailed([FieldViolation("to_step", "只能退回到已通过的前序步骤",
                                               "can only return to an earlier approved step")])
    for s in a.steps:
        if to_step <= s.step_index <= step.step_index:
            s.status, s.opened_at, s.decided_at = STEP_WAITING, None, None
    return to_step
