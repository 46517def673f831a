"""A loaded approval instance as plain dataclasses: the instance, its steps, every task (current
and earlier openings), its audit trail and carbon copies, plus what deciding needs to know about
delegations and used action links. Field names follow the tables so the store copies them 1:1.

Transitions (``opening``, ``deciding``, ``sla``, ``lifecycle``) take an ``Approval`` and ``now``
and return a ``Transition``: a new ``Approval`` (the input is not changed) and the rows to insert
and the events to log. The store persists the difference."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from baobei.workcalendar import STATUTORY, WorkingCalendar
from services.approval.domain.outcomes import (
    CLOSED_BY_REASSIGN,
    CLOSED_BY_TRANSFER,
    Delegation,
    TaskState,
    instance_status,
    step_outcome,
)
from services.approval.domain.rules import (
    INSTANCE_PENDING,
    KIND_NORMAL,
    OUTCOME_APPROVED,
    OUTCOME_PENDING,
    OUTCOME_REJECTED,
    OUTCOME_RETURNED,
    STEP_APPROVED,
    STEP_PENDING,
    STEP_REJECTED,
    STEP_RETURNED,
    TASK_CLOSED,
    TASK_PENDING,
    TASK_WAITING,
)
from services.approval.domain.timers import Timer, step_timers

NewId = Callable[[], str]
OPEN_TASK = (TASK_PENDING, TASK_WAITING)


def new_id() -> str:
    return uuid.uuid4().hex


# What an instance's chain decides. Registration is the project's own approval (GET /projects/{id}
# shows it); the others decide a request about an approved project, each on its own policy.
PURPOSE_REGISTRATION = "registration"
PURPOSE_ACCEPTANCE = "acceptance"
PURPOSE_CHANGE = "change"
PURPOSES = (PURPOSE_REGISTRATION, PURPOSE_ACCEPTANCE, PURPOSE_CHANGE)


def policy_purpose(key: str) -> str:
    """The purpose a policy key is reserved for: ``acceptance`` and ``acceptance:<business line>``
    decide acceptance requests (likewise ``change``…); any other key decides registrations."""
    head = key.strip().split(":", 1)[0]
    return head if head in PURPOSES and head != PURPOSE_REGISTRATION else PURPOSE_REGISTRATION


def purpose_of(value: str) -> str:
    """A request's purpose ("" = registration)."""
    return value.strip() or PURPOSE_REGISTRATION


@dataclass
class Instance:
    id: str
    project_id: str
    attempt: int
    status: str
    created_at: datetime
    policy_key: str = ""
    policy_version: int = 0
    form_key: str = ""
    submitter_id: str = ""
    decided_at: datetime | None = None
    inputs: dict[str, Any] | None = None
    form_hash: str = ""
    form_changed_at: datetime | None = None
    returned_step: int = -1
    purpose: str = "registration"
    subject_id: str = ""


@dataclass
class Step:
    instance_id: str
    step_index: int
    name: str
    mode: str
    approvers: list[str]
    status: str
    sla: str = ""
    sla_seconds: int = 0
    on_timeout: str = ""
    escalate_to: list[str] = field(default_factory=list)
    opened_at: datetime | None = None
    decided_at: datetime | None = None
    # min_approvals, ratio, remind_at, escalation ladder, cc, blocked, self_approved, auto_consecutive.
    config: dict[str, Any] | None = None
    provenance: dict[str, Any] | None = None
    id: int | None = None

    def timers(self) -> tuple[datetime | None, list[Timer]]:
        """Due time and timers of the current opening (none before the step was opened), working
        units counted on the calendar frozen at the opening (``config["calendar"]``: the company
        overrides then; steps opened before company calendars counted the statutory one), so a
        later change of the calendar never moves the timers the workflow already sleeps on."""
        if self.opened_at is None:
            return None, []
        config = self.config or {}
        frozen = config.get("calendar")
        cal = WorkingCalendar.from_snapshot(frozen) if isinstance(frozen, list) else STATUTORY
        return step_timers(
            opened_at=self.opened_at,
            sla=self.sla,
            on_timeout=self.on_timeout,
            escalate_to=list(self.escalate_to),
            remind_at=float(config.get("remind_at", 0) or 0),
            escalation=list(config.get("escalation") or []),
            cal=cal,
        )


@dataclass
class Task:
    id: str
    instance_id: str
    project_id: str
    step_index: int
    step_name: str
    approver_id: str
    status: str
    created_at: datetime
    due_at: datetime | None = None
    opened_at: datetime | None = None
    decided_at: datetime | None = None
    kind: str = KIND_NORMAL
    # For a "before" task: the task it holds back until it is approved.
    blocks_task_id: str = ""


@dataclass
class Decision:
    """One audit event (a decision, an action of the engine or an administrative action)."""

    instance_id: str
    step_index: int
    user_id: str
    action: str
    at: datetime
    task_id: str = ""
    comment: str = ""
    channel: str = "api"
    auto: bool = False
    on_behalf_of: str = ""
    target_user_id: str = ""
    data: dict[str, Any] | None = None
    id: int | None = None


@dataclass
class CcCopy:
    id: str
    instance_id: str
    project_id: str
    step_index: int
    user_id: str
    by_user_id: str
    created_at: datetime
    read_at: datetime | None = None


@dataclass(frozen=True)
class LinkUse:
    link_id: str
    task_id: str
    user_id: str
    at: datetime


@dataclass(frozen=True)
class Event:
    """A structured log event of a transition (the store logs it after persisting)."""

    name: str
    fields: dict[str, Any]


@dataclass
class Approval:
    """One instance with everything its transitions read."""

    instance: Instance
    steps: list[Step]
    tasks: list[Task] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    cc: list[CcCopy] = field(default_factory=list)
    # Delegations of the instance's approvers (who may act for whom).
    delegations: list[Delegation] = field(default_factory=list)
    # Action links already used on this instance's tasks.
    used_links: frozenset[str] = frozenset()
    # The working calendar a step opened now counts its SLA on (statutory + company overrides; set
    # by the store for an opening, which freezes it in the step).
    calendar: WorkingCalendar = STATUTORY

    def step(self, index: int) -> Step | None:
        return next((s for s in self.steps if s.step_index == index), None)

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    def current_tasks(self, step: Step) -> list[Task]:
        """The tasks of the step's current opening (a step reopened after a return keeps its
        earlier tasks as history), oldest first."""
        since = step.opened_at
        tasks = [
            t for t in self.tasks
            if t.step_index == step.step_index and (since is None or t.created_at >= since)
        ]
        return sorted(tasks, key=lambda t: (t.created_at, t.approver_id))

    def step_tasks(self, step_index: int) -> list[Task]:
        tasks = (t for t in self.tasks if t.step_index == step_index)
        return sorted(tasks, key=lambda t: (t.created_at, t.approver_id))

    def decisions_of(self, step_index: int) -> list[Decision]:
        return [d for d in self.decisions if d.step_index == step_index]

    def pending_approvers(self, step: Step) -> list[str]:
        if step.status != STEP_PENDING:
            return []
        return sorted({t.approver_id for t in self.current_tasks(step) if t.status == TASK_PENDING})

    def closed_by(self, task: Task) -> str:
        return closed_by(task, self.decisions)


def closed_by(task: Task, decisions: Sequence[Decision]) -> str:
    """transfer / reassign when the closed task was moved to someone else, else ""."""
    if any(d.task_id == task.id and d.action == "transfer" for d in decisions):
        return CLOSED_BY_TRANSFER
    for d in decisions:
        if (
            d.instance_id == task.instance_id
            and d.step_index == task.step_index
            and d.action == "reassign"
            and d.at >= task.created_at
            and task.approver_id in ((d.data or {}).get("from") or [])
        ):
            return CLOSED_BY_REASSIGN
    return ""


@dataclass
class Transition:
    """What a transition did: the new state, rows to insert, events to log, and what the caller
    is told (``result``, specific to each transition)."""

    approval: Approval
    new_tasks: list[Task] = field(default_factory=list)
    new_decisions: list[Decision] = field(default_factory=list)
    new_cc: list[CcCopy] = field(default_factory=list)
    link_use: LinkUse | None = None
    events: list[Event] = field(default_factory=list)


def working_copy(approval: Approval) -> Approval:
    """Transitions work on a copy so the loaded state stays what was read (the calendar, immutable,
    is shared rather than copied)."""
    return copy.deepcopy(approval, {id(approval.calendar): approval.calendar})


def outcome(step: Step, tasks: Sequence[Task]) -> str:
    """The step's outcome from the tasks of its current opening."""
    config = step.config or {}
    total = len(dict.fromkeys(step.approvers)) if step.mode == "sequential" else None
    return step_outcome(
        step.mode,
        [TaskState(t.status, t.kind or KIND_NORMAL) for t in tasks],
        total=total,
        min_approvals=int(config.get("min_approvals", 0) or 0),
        ratio=float(config.get("ratio", 0) or 0),
    )


def outcome_of(step: Step) -> str:
    """A settled step's outcome as the caller sees it."""
    return {
        STEP_APPROVED: OUTCOME_APPROVED,
        STEP_REJECTED: OUTCOME_REJECTED,
        STEP_RETURNED: OUTCOME_RETURNED,
    }.get(step.status, OUTCOME_PENDING)


def add_task(
    t: Transition,
    step: Step,
    approver: str,
    now: datetime,
    new_id: NewId,
    *,
    kind: str = KIND_NORMAL,
    status: str = TASK_PENDING,
    blocks: str = "",
) -> Task:
    a = t.approval
    due, _ = step.timers()
    task = Task(
        id=new_id(),
        instance_id=a.instance.id,
        project_id=a.instance.project_id,
        step_index=step.step_index,
        step_name=step.name,
        approver_id=approver,
        status=status,
        due_at=due,
        created_at=now,
        opened_at=now if status == TASK_PENDING else None,
        kind=kind,
        blocks_task_id=blocks,
    )
    a.tasks.append(task)
    t.new_tasks.append(task)
    return task


def audit(
    t: Transition,
    *,
    step_index: int,
    user_id: str,
    action: str,
    now: datetime,
    task_id: str = "",
    comment: str = "",
    channel: str = "api",
    auto: bool = False,
    on_behalf_of: str = "",
    target_user_id: str = "",
    data: dict[str, Any] | None = None,
) -> Decision:
    row = Decision(
        instance_id=t.approval.instance.id,
        step_index=step_index,
        task_id=task_id,
        user_id=user_id,
        action=action,
        comment=comment,
        channel=channel or "api",
        auto=auto,
        at=now,
        on_behalf_of=on_behalf_of,
        target_user_id=target_user_id,
        data=data or None,
    )
    t.approval.decisions.append(row)
    t.new_decisions.append(row)
    return row


def close_open_tasks(approval: Approval, step_index: int | None, now: datetime) -> None:
    """Close every pending or held-back task of the step (of the instance with None)."""
    for task in approval.tasks:
        if task.status in OPEN_TASK and (step_index is None or task.step_index == step_index):
            task.status = TASK_CLOSED
            task.decided_at = now


def settle_instance(t: Transition, now: datetime) -> None:
    instance = t.approval.instance
    status = instance_status([s.status for s in t.approval.steps])
    if status != instance.status:
        instance.status = status
        instance.decided_at = now if status != INSTANCE_PENDING else None
        t.events.append(Event("approval.instance_" + status,
                              {"project_id": instance.project_id, "instance_id": instance.id}))


def settle_step(t: Transition, step: Step, result: str, now: datetime) -> None:
    """A decided outcome closes what is still open of the step and settles it and the instance."""
    if result not in (OUTCOME_APPROVED, OUTCOME_REJECTED):
        return
    close_open_tasks(t.approval, step.step_index, now)
    step.status = STEP_APPROVED if result == OUTCOME_APPROVED else STEP_REJECTED
    step.decided_at = now
    settle_instance(t, now)


def next_in_sequence(t: Transition, step: Step, now: datetime, new_id: NewId) -> list[Task]:
    """依次: once nobody of the step is pending, the next approver in order gets a task."""
    if step.mode != "sequential":
        return []
    tasks = t.approval.current_tasks(step)
    if any(x.status in OPEN_TASK for x in tasks):
        return []
    tasked = {x.approver_id for x in tasks if x.status != TASK_CLOSED}
    for approver in dict.fromkeys(step.approvers):
        if approver not in tasked:
            return [add_task(t, step, approver, now, new_id)]
    return []
