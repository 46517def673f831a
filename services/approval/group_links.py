"""Group action links (pure rules). A link posted to a group chat (a robot card) names no
approver: it is bound to the approval request it announced — its anchor task, and so that step's
current opening. Whoever opens it signs in first; these rules say what that user may do with it.

- **usable**: the user holds a pending task of that opening (or may act on one as an active
  delegate, exactly as their to-do list allows), and the step and the approval are pending.
- **used** (410): the user already decided through this link. A group link works **once per
  approver**: in an ``all`` (会签) step each approver can use the same card once.
- **decided** (409): the user's part was decided by other means (their to-do list, a personal
  link, another approver settled the step, it was withdrawn), or the opening the link announced is
  over (the step was returned and opened again: the new opening has its own cards).
- **not_assignee** (403): the user is not an approver of that step, or handed their task on
  (transfer, admin reassign) — the same as a personal link after a transfer.

A use is recorded like a personal link's, in the decision's transaction, under
``g:<link id>:<task id>`` (the primary key makes each task decided through the link once); the
decision's channel is then ``group_link``."""

from __future__ import annotations

from dataclasses import dataclass

USE_PREFIX = "g:"
CHANNEL = "group_link"
PERSONAL_CHANNEL = "link"

USABLE, USED, NOT_ASSIGNEE, DECIDED = "usable", "used", "not_assignee", "decided"


def use_prefix(link_id: str) -> str:
    return f"{USE_PREFIX}{link_id}:"


def use_id(link_id: str, task_id: str) -> str:
    """What the link's use on ``task_id`` is recorded under (fits approval_link_use.link_id)."""
    return f"{use_prefix(link_id)}{task_id}"


def channel_of(link_id: str) -> str:
    """The decision channel of a decision recorded with ``link_id``."""
    return CHANNEL if link_id.startswith(USE_PREFIX) else PERSONAL_CHANNEL


@dataclass(frozen=True)
class GroupLinkFacts:
    # The user already decided through this link.
    used_by_actor: bool
    # The anchor task belongs to the step's current opening (the step was not reopened since).
    opening_current: bool
    step_pending: bool
    instance_pending: bool
    # A pending task of the opening the user may act on (own, or as an active delegate).
    actionable: bool
    # The user's own tasks of the opening that were not handed on (any status).
    own_kept: int
    # The user decided (approve / reject / return) in that step as somebody's delegate.
    acted_as_delegate: bool
    # For an opening that is over: the user had a task in that step at any opening.
    had_part_before: bool = False


def state(f: GroupLinkFacts) -> str:
    if f.used_by_actor:
        return USED
    if not f.opening_current:
        return DECIDED if f.had_part_before or f.acted_as_delegate else NOT_ASSIGNEE
    if f.actionable and f.step_pending and f.instance_pending:
        return USABLE
    if f.actionable or f.own_kept or f.acted_as_delegate:
        return DECIDED
    return NOT_ASSIGNEE
