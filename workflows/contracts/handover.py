"""OrgHandover (id ``handover-<user id>``): org sync found a user who left; every pending approval
task of theirs goes to their manager (audited transfer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    # Added (issue 16, patch "handover-projects"): registrations the user owned (live ones), now
    # owned by to_user_id.
    owned_project_ids: list[str] = field(default_factory=list)
