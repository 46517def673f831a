"""Inputs and outputs of the workflow, its updates and queries, and its activities: plain
dataclasses (no protobuf, no grpc), safe to import inside the workflow sandbox and from the edge."""

from __future__ import annotations

from dataclasses import dataclass, field

WORKFLOW_ID_PREFIX = "project-"
# Names the edge uses to start, update and query the workflow without importing its code.
WORKFLOW_TYPE = "ProjectLifecycle"
UPDATE_SUBMIT = "submit"
UPDATE_DECIDE = "decide"
QUERY_STATE = "state"


def workflow_id(project_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{project_id}"


# ---- workflow ----


@dataclass
class LifecycleInput:
    project_id: str
    owner_id: str


@dataclass
class LifecycleResult:
    project_id: str
    # Final project status: active | rejected | cancelled | closed
    status: str


# ---- updates / queries (called by the edge) ----


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


# Error types raised to update callers (ApplicationError.type); the edge maps them to HTTP.
ERR_VALIDATION = "validation_failed"
ERR_NOT_FOUND = "not_found"
ERR_FORBIDDEN = "forbidden"
ERR_CONFLICT = "conflict"
# Added: a downstream service stayed unreachable while the caller waited (edge: 503).
ERR_UNAVAILABLE = "unavailable"
# How update failures look to the caller (temporalio WorkflowUpdateFailedError.cause):
#   ApplicationError(type=ERR_*, message=<service message in the requested locale>,
#                    non_retryable=True, details=(violations,))
# where ``violations`` (details[0], present for every ERR_* raised by the workflow) is a list of
# {"field": "<path>", "message": "..."}; it is non-empty for ERR_VALIDATION and for a forbidden
# field write.
