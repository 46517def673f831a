"""Step and instance outcomes for every mode, auto-approval of consecutive steps, delegation and
the state of an action link."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.approval.domain.rules import (
    INSTANCE_APPROVED,
    INSTANCE_PENDING,
    INSTANCE_REJECTED,
    KIND_AFTER,
    KIND_BEFORE,
    KIND_ESCALATED,
    KIND_NORMAL,
    OUTCOME_APPROVED,
    OUTCOME_PENDING,
    OUTCOME_REJECTED,
    STEP_APPROVED,
    STEP_PENDING,
    STEP_REJECTED,
    STEP_SKIPPED,
    TASK_APPROVED,
    TASK_CLOSED,
    TASK_PENDING,
    TASK_REJECTED,
)


@dataclass(frozen=True)
class TaskState:
    status: str
    kind: str = KIND_NORMAL


def needed_approvals(mode: str, total: int, *, min_approvals: int = 0, ratio: float = 0.0) -> int:
    """Approvals a step needs: any 1; all and sequential every approver; ratio the count, or the
    share of approvers rounded up (capped at the number of approvers)."""
    if total <= 0:
        return 1
    if mode == "any":
        return 1
    if mode == "ratio":
        wanted = min_approvals if min_approvals > 0 else math.ceil(round(ratio * total, 9))
        return max(1, min(total, wanted))
    return total


def step_outcome(
    mode: str,
    task_statuses: Sequence[str | TaskState],
    *,
    total: int | None = None,
    min_approvals: int = 0,
    ratio: float = 0.0,
) -> str:
    """A step's outcome from its tasks. An escalation resolver's decision settles it alone. A
    rejection by an approver added before or after rejects. Normal tasks: ``any`` the first
    decision decides; ``all``/``sequential`` one rejection rejects and every approver must
    approve; ``ratio`` approves once enough approve and rejects once that can no longer happen.
    Approvers added after someone (后加签) must approve as well. ``total`` is the number of
    approvers of the step (defaults to its normal, not closed, tasks)."""
    tasks = [t if isinstance(t, TaskState) else TaskState(t) for t in task_statuses]
    for t in tasks:
        if t.kind == KIND_ESCALATED and t.status in (TASK_APPROVED, TASK_REJECTED):
            return OUTCOME_APPROVED if t.status == TASK_APPROVED else OUTCOME_REJECTED
    if any(t.kind in (KIND_BEFORE, KIND_AFTER) and t.status == TASK_REJECTED for t in tasks):
        return OUTCOME_REJECTED
    normal = [t for t in tasks if t.kind == KIND_NORMAL and t.status != TASK_CLOSED]
    approvals = sum(1 for t in normal if t.status == TASK_APPROVED)
    rejections = sum(1 for t in normal if t.status == TASK_REJECTED)
    count = total if total is not None else len(normal)
    if mode in ("any", "all", "sequential") and rejections:
        base = OUTCOME_REJECTED
    elif not normal and total is None:
        base = OUTCOME_PENDING
    else:
        needed = needed_approvals(mode, count, min_approvals=min_approvals, ratio=ratio)
        if approvals >= needed:
            base = OUTCOME_APPROVED
        elif count - rejections < needed:
            base = OUTCOME_REJECTED
        else:
            base = OUTCOME_PENDING
    if base == OUTCOME_APPROVED and any(t.kind == KIND_AFTER and t.status != TASK_APPROVED for t in tasks):
        return OUTCOME_PENDING
    return base


@dataclass(frozen=True)
class StepRecord:
    """What auto-approval needs to know of an earlier step."""

    status: str
    approvers: tuple[str, ...]
    approved_by: tuple[str, ...] = ()
    # The earlier step's approval predates a change of the form (resubmission with edits).
    stale: bool = False


def should_auto_approve(approvers: Sequence[str], earlier: Sequence[StepRecord]) -> bool:
    """A step with exactly one approver is approved without a task when the nearest earlier
    non-skipped step had exactly that one approver and was approved by them, and the form has not
    changed since."""
    if len(approvers) != 1:
        return False
    previous = next((s for s in reversed(earlier) if s.status != STEP_SKIPPED), None)
    if previous is None or previous.status != STEP_APPROVED or previous.stale:
        return False
    return tuple(previous.approvers) == tuple(approvers) and approvers[0] in previous.approved_by


def instance_status(step_statuses: Sequence[str]) -> str:
    """rejected if any step is; approved once every step is approved or skipped."""
    if STEP_REJECTED in step_statuses:
        return INSTANCE_REJECTED
    if all(s in (STEP_APPROVED, STEP_SKIPPED) for s in step_statuses):
        return INSTANCE_APPROVED
    return INSTANCE_PENDING


@dataclass(frozen=True)
class Delegation:
    user_id: str
    delegate_id: str
    starts_at: datetime
    ends_at: datetime

    def active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def acting_for(actor_id: str, approver_id: str, delegations: Iterable[Delegation], at: datetime) -> str | None:
    """Whom ``actor_id`` acts for on ``approver_id``'s task: "" as themselves, the approver when
    an active delegation names the actor, None when they may not act."""
    if actor_id == approver_id:
        return ""
    for d in delegations:
        if d.user_id == approver_id and d.delegate_id == actor_id and d.active(at):
            return approver_id
    return None


# ---------------------------------------------------------------- action links

# CheckActionLink states (HTTP 200 page / 410 / 403 / 409 at the edge).
LINK_USABLE, LINK_USED, LINK_NOT_ASSIGNEE, LINK_DECIDED = "usable", "used", "not_assignee", "decided"
# How a task came to be closed without a decision of its own approver.
CLOSED_BY_TRANSFER, CLOSED_BY_REASSIGN = "transfer", "reassign"


@dataclass(frozen=True)
class LinkFacts:
    """What deciding an action link's state needs to know."""

    # A decision was already recorded with this link.
    used: bool
    # The approver the link was minted for, and the task's approver.
    link_approver_id: str
    task_approver_id: str
    task_status: str
    step_status: str
    instance_status: str
    # "transfer" / "reassign" when the task was closed by moving it to someone else, else "".
    closed_by: str = ""


def action_link_state(f: LinkFacts) -> str:
    """used beats everything (a used link never works again); a link whose approver no longer
    holds the task (other approver, transferred, reassigned) → not_assignee; task, step and
    instance all pending → usable; anything else (decided by the approver through another
    channel, another approver decided the step, the approval ended, was withdrawn or
    superseded, the task is held back behind an approver added before) → decided. Escalation
    only adds approvers, so it leaves the original approver's link usable."""
    if f.used:
        return LINK_USED
    if f.link_approver_id != f.task_approver_id:
        return LINK_NOT_ASSIGNEE
    if f.task_status == TASK_CLOSED and f.closed_by in (CLOSED_BY_TRANSFER, CLOSED_BY_REASSIGN):
        return LINK_NOT_ASSIGNEE
    if (
        f.task_status == TASK_PENDING
        and f.step_status == STEP_PENDING
        and f.instance_status == INSTANCE_PENDING
    ):
        return LINK_USABLE
    return LINK_DECIDED
