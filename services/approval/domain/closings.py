"""Which tasks a transition closed, and why: the approval service's own record of "this to-do is
gone", published through its outbox (``approval_task_closing``) so that whatever mirrors the
to-do elsewhere — a DingTalk 待办, a WeCom or Feishu card — is closed too, whichever path closed
it (a decision, an 或签 colleague's decision, a transfer, an admin's reassignment or
cancellation, a withdrawal, an SLA timer, a departed approver's handover).

Plain functions over the loaded state before a transition and the transition itself."""

from __future__ import annotations

from dataclasses import dataclass

from services.approval.domain.model import OPEN_TASK, Approval, Decision, Task, Transition, closed_by
from services.approval.domain.outcomes import CLOSED_BY_REASSIGN, CLOSED_BY_TRANSFER
from services.approval.domain.rules import SYSTEM_ACTOR, TASK_APPROVED, TASK_REJECTED

# Why a task closed (notify words each: 已同意 · 李四, 已转交, 已由 王五 处理 …).
APPROVED, REJECTED, RETURNED = "approved", "rejected", "returned"
TRANSFERRED, REASSIGNED = "transferred", "reassigned"
CANCELLED, WITHDRAWN = "cancelled", "withdrawn"
# The step was settled by someone else (或签, an escalation resolver, an SLA timer).
CLOSED = "closed"
OUTCOMES = (APPROVED, REJECTED, RETURNED, TRANSFERRED, REASSIGNED, CANCELLED, WITHDRAWN, CLOSED)

_BY_ACTION = {"cancel": CANCELLED, "withdraw": WITHDRAWN, "return": RETURNED, "transfer": TRANSFERRED}


@dataclass(frozen=True)
class TaskClosing:
    task_id: str
    instance_id: str
    project_id: str
    approver_id: str
    outcome: str
    # Who closed it: the deciding user, the admin, or "system" (timers).
    actor_id: str


def _own(task: Task, decisions: list[Decision]) -> Decision | None:
    return next((d for d in decisions if d.task_id == task.id), None)


def _settling(task: Task, decisions: list[Decision]) -> Decision | None:
    """The decision of this transition that settled the task's step or the instance."""
    return next((d for d in decisions if d.task_id != task.id and d.step_index in (task.step_index, -1)), None)


def outcome_of(task: Task, before: Approval, new: list[Decision]) -> tuple[str, str]:
    """(outcome, actor) of a task the transition closed."""
    own = _own(task, new)
    if task.status == TASK_APPROVED:
        return APPROVED, own.user_id if own else task.approver_id
    if task.status == TASK_REJECTED:
        return REJECTED, own.user_id if own else task.approver_id
    if own is not None:
        return _BY_ACTION.get(own.action, CLOSED), own.user_id
    moved = closed_by(task, before.decisions + new)
    other = _settling(task, new)
    actor = other.user_id if other else SYSTEM_ACTOR
    if moved == CLOSED_BY_TRANSFER:
        return TRANSFERRED, actor
    if moved == CLOSED_BY_REASSIGN:
        return REASSIGNED, actor
    if other is not None and other.action in _BY_ACTION:
        return _BY_ACTION[other.action], actor
    return CLOSED, actor


def closed_tasks(before: Approval, t: Transition) -> list[TaskClosing]:
    """Tasks open in ``before`` and not open after ``t``."""
    was_open = {x.id for x in before.tasks if x.status in OPEN_TASK}
    out = []
    for task in t.approval.tasks:
        if task.id in was_open and task.status not in OPEN_TASK:
            outcome, actor = outcome_of(task, before, t.new_decisions)
            out.append(TaskClosing(task.id, task.instance_id, task.project_id, task.approver_id, outcome, actor))
    return out
