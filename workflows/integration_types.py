"""Names, ids and payloads of the integration workflows (CRM saga, org handover), shared by the
edge that starts them and the worker that runs them. No grpc/protobuf imports (sandbox-safe)."""

from __future__ import annotations

from dataclasses import dataclass, field

# A CRM "opportunity lost" event: withdraw the pending approval, cancel the registration and
# release its protection (保护期), each step idempotent, as one durable saga.
CRM_LOST_WORKFLOW_TYPE = "CrmOpportunityLost"


def crm_lost_workflow_id(project_id: str) -> str:
    return f"crm-lost-{project_id}"


@dataclass
class CrmLostInput:
    project_id: str
    external_id: str
    reason: str = ""
    # The integrator user who reported the loss (audit).
    actor_id: str = ""


@dataclass
class CrmLostResult:
    project_id: str
    # The project's status after the saga (cancelled, closed, or unchanged when already final).
    status: str = ""
    # Steps done, in order, e.g. ["withdraw_approval", "cancel_registration", "release_protection"].
    steps: list[str] = field(default_factory=list)


# Org sync: a user who left hands every pending approval task to their manager (audited transfer).
ORG_HANDOVER_WORKFLOW_TYPE = "OrgHandover"


def org_handover_workflow_id(user_id: str) -> str:
    return f"handover-{user_id}"


@dataclass
class HandoverInput:
    user_id: str
    # Empty = the user's manager (first of the registry's manager chain).
    to_user_id: str = ""
    reason: str = "离职交接"
    actor_id: str = ""


@dataclass
class HandoverResult:
    user_id: str
    to_user_id: str = ""
    # Approval task ids handed over (and the projects they belong to).
    task_ids: list[str] = field(default_factory=list)
    project_ids: list[str] = field(default_factory=list)


# ---- activities of the integration workflows (names "<target>.<Operation>") ----

REGISTRY_GET_MANAGER_CHAIN = "registry.GetManagerChain"
APPROVAL_LIST_TODOS = "approval.ListTodos"
# Run through the Temporal client against the project's ProjectLifecycle workflow (its updates).
LIFECYCLE_WITHDRAW = "lifecycle.Withdraw"
LIFECYCLE_DECIDE = "lifecycle.Decide"
# Signal the project's ProjectExecution workflow to stop (a closed project is no longer delivered).
LIFECYCLE_STOP_EXECUTION = "lifecycle.StopExecution"


@dataclass
class ManagerChainInput:
    user_id: str


@dataclass
class ManagerChain:
    # Managers of the user's department and its ancestors, nearest first (no duplicates).
    manager_ids: list[str] = field(default_factory=list)


@dataclass
class ListTodosInput:
    user_id: str


@dataclass
class TodoRef:
    id: str
    project_id: str
    instance_id: str = ""
    step_index: int = 0
    approver_id: str = ""
    # Set when the user only acts on the task as a delegate of ``approver_id``.
    on_behalf_of: str = ""
    # pending | waiting | ...
    status: str = "pending"


@dataclass
class TodoList:
    tasks: list[TodoRef] = field(default_factory=list)


@dataclass
class LifecycleWithdrawInput:
    project_id: str
    actor_id: str
    comment: str = ""
    actor_is_admin: bool = False
    # True: an admin cancels the approval instead of the owner withdrawing it.
    cancel: bool = False
    channel: str = "api"
    # Temporal update id: a retried activity attaches to the same update instead of a second one.
    update_id: str = ""


@dataclass
class LifecycleDecideInput:
    project_id: str
    task_id: str
    user_id: str
    action: str
    to_user_id: str = ""
    comment: str = ""
    channel: str = "api"
    update_id: str = ""


@dataclass
class LifecycleOpResult:
    project_id: str
    # done: the update ran | refused: the workflow refused it (already decided, not pending, …;
    # see ``error_type`` / ``message``) | no_workflow: no running lifecycle workflow for the project
    outcome: str
    # Project status reported by the workflow (done) or "" when unknown.
    status: str = ""
    error_type: str = ""
    message: str = ""


@dataclass
class StopExecutionInput:
    project_id: str
    reason: str = ""


@dataclass
class StopExecutionResult:
    # False: no running execution workflow.
    stopped: bool = False


# Closing an active project (POST /projects/{id}/close, or a CRM loss after approval): the
# registration becomes closed, reporting (and through it the finance subscribers) hears
# project.closed, the ProjectExecution workflow stops, the owner is told.
CLOSURE_WORKFLOW_TYPE = "ProjectClosure"


def closure_workflow_id(project_id: str) -> str:
    return f"close-{project_id}"


@dataclass
class ClosureInput:
    project_id: str
    actor_id: str
    comment: str = ""
    # api | crm | …
    channel: str = "api"


@dataclass
class ClosureResult:
    project_id: str
    # closed, or the status that stopped the closure (e.g. pending_approval → refused).
    status: str = ""
    steps: list[str] = field(default_factory=list)
