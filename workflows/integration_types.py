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
