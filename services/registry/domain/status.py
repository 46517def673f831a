"""Project statuses and which may follow which (submit, approval outcomes, cancel, close)."""

from __future__ import annotations

from enum import StrEnum

from baobei.core.errors import Conflict


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    CLOSED = "closed"
    RETURNED = "returned"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


NOT_LIVE = frozenset({Status.DRAFT, Status.REJECTED, Status.CANCELLED})
# SubmitProject: back into approval.
SUBMITTABLE = frozenset({Status.DRAFT, Status.RETURNED})
# SetProjectStatus: every other legal move.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING_APPROVAL: frozenset({Status.ACTIVE, Status.REJECTED, Status.RETURNED, Status.CANCELLED}),
    Status.RETURNED: frozenset({Status.CANCELLED}),
    Status.DRAFT: frozenset({Status.CANCELLED}),
    Status.ACTIVE: frozenset({Status.CLOSED}),
}


def is_live(status: Status) -> bool:
    return status not in NOT_LIVE


def illegal(current: Status, target: Status) -> Conflict:
    return Conflict(
        f"非法的状态变更：{current.value} → {target.value}",
        f"illegal transition: {current.value} -> {target.value}",
        code="illegal_transition",
    )


def check_submit(current: Status) -> None:
    if current not in SUBMITTABLE:
        raise illegal(current, Status.PENDING_APPROVAL)


def check_status_change(current: Status, target: Status) -> bool:
    """True when ``current → target`` is a change to make, False for a no-op (already there);
    Conflict when it is not allowed."""
    if current is target:
        return False
    if target not in TRANSITIONS.get(current, frozenset()):
        raise illegal(current, target)
    return True
