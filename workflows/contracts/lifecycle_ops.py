"""Activities acting on a project's ProjectLifecycle / ProjectExecution workflow through the Temporal
client (``LifecycleOps``), for the integration workflows: the lifecycle's own updates, so it stays
the one place that changes an approval.
"""

from __future__ import annotations

from dataclasses import dataclass

# Run through the Temporal client against the project's ProjectLifecycle workflow (its updates).
# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
LIFECYCLE_WITHDRAW = "lifecycle.Withdraw"
LIFECYCLE_DECIDE = "lifecycle.Decide"
# Signal the project's ProjectExecution workflow to stop (a closed project is no longer delivered).
LIFECYCLE_STOP_EXECUTION = "lifecycle.StopExecution"


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
