"""ProjectChange (id ``change-<change id>``): one change request (变更) of an active project. The
edge opens the request in the registry (validated there, with its before/after diff) and starts
this workflow; it plans the request's approval chain with the project's form policy evaluated on
the project as it would be after the change (approval instance purpose ``change``, subject = the
change id), walks it like ProjectLifecycle walks the registration's, then settles the request:
approved → the registry applies it (history ``changed``, audit), reporting hears ``project.edited``,
the tasks service's baseline is saved again when asked for, the owner is told; rejected (or
returned) → nothing is applied and the owner is told the reason. The owner may withdraw it while
it is pending (update ``withdraw``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHANGE_WORKFLOW_TYPE = "ProjectChange"
# The approval service's instance purpose of change chains.
CHANGE_PURPOSE = "change"
# Decisions on change tasks arrive as this update (same payloads as ProjectLifecycle's).
UPDATE_DECIDE = "decide"
UPDATE_WITHDRAW = "withdraw"
QUERY_STATE = "state"
# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
CHANGE_SETTLE = "change.SettleChange"


def change_workflow_id(change_id: str) -> str:
    return f"change-{change_id}"


@dataclass
class ChangeInput:
    project_id: str
    # The registry's change request this run decides.
    change_id: str
    # Who proposed it (the owner / an admin): the chain's submitter.
    actor_id: str
    # The facts after the change (what the policy is evaluated on): amount as a decimal string,
    # ISO dates ("" = unchanged / none), the changed form fields (null = cleared).
    amount: str = ""
    start_date: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    reset_baseline: bool = False
    reason: str = ""


@dataclass
class ChangeResult:
    project_id: str
    change_id: str
    # approved | rejected | withdrawn | cancelled (approved, but the project had moved on)
    outcome: str
    reason: str = ""
    steps: list[str] = field(default_factory=list)


@dataclass
class ChangeState:
    project_id: str
    change_id: str
    # approval | approved | rejected | withdrawn | cancelled
    stage: str
    instance_id: str = ""
    step_index: int = -1
    approvers: list[str] = field(default_factory=list)


@dataclass
class WithdrawChangeInput:
    actor_id: str
    actor_is_admin: bool = False
    reason: str = ""
    locale: str = "zh"


@dataclass
class WithdrawChangeResult:
    change_id: str
    status: str


@dataclass
class SettleChangeInput:
    request_id: str
    change_id: str
    # approved | rejected | withdrawn | cancelled
    status: str
    actor_id: str = ""
    reason: str = ""


@dataclass
class SettleChangeResult:
    change_id: str
    status: str
    # The project version after an applied change (0 otherwise).
    applied_version: int = 0
