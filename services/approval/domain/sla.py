"""A step's SLA timer firing: remind the pending approvers, escalate (resolvers whose decision
settles the step alone), or approve / reject on timeout. A timer of a step already settled (a
decision or an earlier timer came first) does nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from baobei.core.errors import NotFound
from services.approval.domain.model import (
    OPEN_TASK,
    Approval,
    Event,
    NewId,
    Step,
    Task,
    Transition,
    add_task,
    audit,
    new_id,
    outcome_of,
    settle_step,
    working_copy,
)
from services.approval.domain.opening import unknown_step
from services.approval.domain.rules import (
    INSTANCE_PENDING,
    KIND_ESCALATED,
    OUTCOME_APPROVED,
    OUTCOME_PENDING,
    OUTCOME_REJECTED,
    STEP_PENDING,
    SYSTEM_ACTOR,
    TASK_PENDING,
)

TIMEOUT_COMMENT = "审批超时，按策略自动处理"


@dataclass
class Fired:
    transition: Transition
    fired: bool
    action: str
    outcome: str
    step: Step
    new_tasks: list[Task] = field(default_factory=list)
    # Who to remind (a reminder is sent by the caller).
    remind_user_ids: list[str] = field(default_factory=list)
    pending_approvers: list[str] = field(default_factory=list)


def fire_timer(loaded: Approval, step_index: int, timer_index: int, now: datetime, ids: NewId = new_id) -> Fired:
    t = Transition(working_copy(loaded))
    a = t.approval
    step = a.step(step_index)
    if step is None:
        raise unknown_step(step_index)
    _, timers = step.timers()
    timer = next((x for x in timers if x.index == timer_index), None)
    if timer is None:
        raise NotFound(f"定时器不存在：{timer_index}", f"unknown timer: {timer_index}")
    if a.instance.status != INSTANCE_PENDING or step.status != STEP_PENDING:
        return Fired(t, fired=False, action=timer.action, outcome=outcome_of(step), step=step)
    tasks = a.current_tasks(step)
    pending = [x.approver_id for x in tasks if x.status == TASK_PENDING]
    result = OUTCOME_PENDING
    data = {"level": timer.level, "timer": timer.index}
    if timer.action == "remind":
        audit(t, step_index=step_index, user_id=SYSTEM_ACTOR, action="remind", now=now, channel="system", auto=True,
              data={**data, "to": pending})
    elif timer.action == "escalate":
        open_ids = {x.approver_id for x in tasks if x.status in OPEN_TASK}
        for user in timer.to:
            if user not in open_ids:
                add_task(t, step, user, now, ids, kind=KIND_ESCALATED)
                open_ids.add(user)
        step.approvers = list(dict.fromkeys([*step.approvers, *timer.to]))
        audit(t, step_index=step_index, user_id=SYSTEM_ACTOR, action="escalate", now=now, channel="system",
              auto=True, target_user_id=",".join(timer.to), data={**data, "to": list(timer.to)})
    else:
        result = OUTCOME_APPROVED if timer.action == "approve" else OUTCOME_REJECTED
        audit(t, step_index=step_index, user_id=SYSTEM_ACTOR, action=f"timeout_{timer.action}", now=now,
              channel="system", auto=True, comment=TIMEOUT_COMMENT, data=data)
        settle_step(t, step, result, now)
    t.events.append(Event("approval.timer_fired", {
        "project_id": a.instance.project_id, "instance_id": a.instance.id, "step_index": step_index,
        "timer": timer.index, "action": timer.action, "level": timer.level, "outcome": result}))
    return Fired(t, fired=True, action=timer.action, outcome=result, step=step, new_tasks=list(t.new_tasks),
                 remind_user_ids=pending if timer.action == "remind" else [],
                 pending_approvers=a.pending_approvers(step))
