"""CrmOpportunityLost (id ``crm-lost-<project id>``): a CRM "opportunity lost" event withdraws the
pending approval, cancels the registration and releases its protection (保护期), each step
idempotent, as one durable saga started by the edge.
"""

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
