"""ProjectLifecycle (id ``project-<project id>``): its type, updates, query and payloads, used by the
edge to start, update and query it without importing the workflow code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.contracts.registry import ProjectSnapshot

WORKFLOW_ID_PREFIX = "project-"
# Names the edge uses to start, update and query the workflow without importing its code.
WORKFLOW_TYPE = "ProjectLifecycle"
UPDATE_SUBMIT = "submit"
UPDATE_DECIDE = "decide"
# Added (approval engine): withdraw / admin cancel, remind (催办), cc (抄送), admin reassign.
UPDATE_WITHDRAW = "withdraw"
UPDATE_REMIND = "remind"
UPDATE_CC = "cc"
UPDATE_REASSIGN = "reassign"
QUERY_STATE = "state"
# Added (issue 16, 报备交接): the registration changed owner; a signal only sets state (no
# command), so older histories replay unchanged.
SIGNAL_OWNER_CHANGED = "owner_changed"


def workflow_id(project_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{project_id}"


@dataclass
class LifecycleCarry:
    """State carried over continue-as-new (history kept bounded for long-running approvals)."""

    project: dict[str, Any]
    stage: str
    status: str
    round: int = 0
    rounds_started: int = 0
    submit_attempts: int = 0
    instance_id: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    step_index: int = -1
    open_seq: int = 0
    timers_fired: int = 0
    resume_pending: bool = False
    last_remind_at: str = ""
    runs: int = 1


@dataclass
class LifecycleInput:
    project_id: str
    owner_id: str
    # Added: set only by continue-as-new.
    carry: LifecycleCarry | None = None
    # Added: continue-as-new once the history is longer than this (0 = when the server suggests).
    history_limit: int = 0
    # Added (issue 15): the project as the starter holds it (the edge, right after creating it);
    # the workflow then records it without reading it back from the registry.
    project: ProjectSnapshot | None = None


@dataclass
class OwnerChanged:
    owner_id: str


@dataclass
class LifecycleResult:
    project_id: str
    # Final project status: active | rejected | cancelled | closed
    status: str


@dataclass
class SubmitInput:
    actor_id: str
    actor_is_admin: bool = False
    # Added: language of error messages raised back to the caller ("zh" | "en").
    locale: str = "zh"


@dataclass
class SubmitResult:
    project_id: str
    status: str


@dataclass
class DecisionInput:
    task_id: str
    user_id: str
    # approve | reject
    action: str
    comment: str = ""
    # api | link | web
    channel: str = "api"
    # Added: language of error messages raised back to the caller ("zh" | "en").
    locale: str = "zh"
    # Added (approval engine): transfer / add_approver target, add_approver position,
    # return target step (None = to the submitter), attachments [{"name", "url"}].
    to_user_id: str = ""
    position: str = ""
    to_step: int | None = None
    attachments: list[dict[str, str]] = field(default_factory=list)
    # Decided from an action link (channel "link"): the approval service marks it used in the
    # same transaction as the decision.
    link_id: str = ""


@dataclass
class DecisionResult:
    project_id: str
    # Project status once the workflow has acted on the decision.
    status: str


@dataclass
class LifecycleState:
    project_id: str
    # draft | approval | active | rejected | cancelled | closed
    stage: str
    status: str
    step_index: int = -1
    approvers: list[str] = field(default_factory=list)
    # Added (approval engine).
    instance_id: str = ""
    sla_deadline: str = ""
    round: int = 0
    runs: int = 1


@dataclass
class WithdrawInput:
    actor_id: str
    actor_is_admin: bool = False
    comment: str = ""
    # True: an admin cancels the approval (audited as cancel), else the owner withdraws.
    cancel: bool = False
    channel: str = "api"
    locale: str = "zh"


@dataclass
class WithdrawResult:
    project_id: str
    status: str


@dataclass
class RemindInput:
    actor_id: str
    actor_is_admin: bool = False
    comment: str = ""
    channel: str = "api"
    locale: str = "zh"


@dataclass
class RemindResult:
    project_id: str
    reminded: list[str] = field(default_factory=list)


@dataclass
class CcInput:
    actor_id: str
    user_ids: list[str]
    actor_is_admin: bool = False
    comment: str = ""
    channel: str = "api"
    locale: str = "zh"


@dataclass
class CcResult:
    project_id: str
    user_ids: list[str] = field(default_factory=list)


@dataclass
class ReassignInput:
    actor_id: str
    to_user_id: str
    # -1: the step open now.
    step_index: int = -1
    from_user_id: str = ""
    comment: str = ""
    locale: str = "zh"


@dataclass
class ReassignResult:
    project_id: str
    approvers: list[str] = field(default_factory=list)
