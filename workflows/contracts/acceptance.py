"""ProjectAcceptance (id ``accept-<project id>``): the acceptance (验收) of an active project. The
edge opens an acceptance request in the registry (checklist checked there) and starts this workflow;
it runs the request's approval chain (approval instance purpose ``acceptance``, subject = the
request id, policy ``acceptance:<business line>`` or ``acceptance``) like ProjectLifecycle runs the
registration's, then settles the request: accepted → the ProjectClosure child closes the project;
rejected (or returned) → the project stays active, the owner is told the reasons, and a new
request may be opened later (a new run under the same workflow id).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACCEPTANCE_WORKFLOW_TYPE = "ProjectAcceptance"
# The approval service's instance purpose of acceptance chains.
ACCEPTANCE_PURPOSE = "acceptance"
# Decisions on acceptance tasks arrive as this update (same payloads as ProjectLifecycle's).
UPDATE_DECIDE = "decide"
QUERY_STATE = "state"
# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
ACCEPTANCE_SETTLE = "acceptance.SettleRequest"


def acceptance_workflow_id(project_id: str) -> str:
    return f"accept-{project_id}"


def acceptance_policy_keys(business_line: str) -> list[str]:
    """Policies tried for a business line's acceptance, most specific first."""
    line = business_line.strip()
    return ([f"{ACCEPTANCE_PURPOSE}:{line}"] if line else []) + [ACCEPTANCE_PURPOSE]


@dataclass
class AcceptanceInput:
    project_id: str
    # The registry's acceptance request this run decides.
    acceptance_id: str
    # Who opened it (the owner / PM): the chain's submitter.
    actor_id: str
    policy_key: str
    comment: str = ""


@dataclass
class AcceptanceResult:
    project_id: str
    acceptance_id: str
    # accepted | rejected
    outcome: str
    # The project's status afterwards: closed (accepted) | active (rejected)
    status: str
    reason: str = ""
    steps: list[str] = field(default_factory=list)


@dataclass
class AcceptanceState:
    project_id: str
    acceptance_id: str
    # approval | accepted | rejected
    stage: str
    instance_id: str = ""
    step_index: int = -1
    approvers: list[str] = field(default_factory=list)


@dataclass
class SettleInput:
    request_id: str
    acceptance_id: str
    # accepted | rejected | cancelled
    status: str
    actor_id: str = ""
    reason: str = ""


@dataclass
class SettleResult:
    acceptance_id: str
    status: str
