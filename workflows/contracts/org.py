"""Read-only activities of the org handover (``OrgActivities``): a user's manager chain (registry) and
their pending approval to-dos (approval service).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
REGISTRY_GET_MANAGER_CHAIN = "registry.GetManagerChain"
APPROVAL_LIST_TODOS = "approval.ListTodos"
# Added (issue 16, 报备交接): the departing user's registrations to the same target.
REGISTRY_HAND_OVER_PROJECTS = "registry.HandOverProjects"


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
class HandOverProjectsInput:
    user_id: str
    to_user_id: str
    reason: str = ""
    actor_id: str = ""
    request_id: str = ""


@dataclass
class HandedOverProjects:
    project_ids: list[str] = field(default_factory=list)
    # Those still in their lifecycle (draft, pending, returned, active): their workflow learns the owner.
    live_project_ids: list[str] = field(default_factory=list)
