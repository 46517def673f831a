"""Activities on the registry service (``RegistryActivities``): projects, their status and protection
period. ``ProjectSnapshot`` is what workflows keep of a project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
REGISTRY_GET_PROJECT = "registry.GetProject"
REGISTRY_SUBMIT_PROJECT = "registry.SubmitProject"
REGISTRY_SET_PROJECT_STATUS = "registry.SetProjectStatus"
REGISTRY_START_PROTECTION = "registry.StartProtection"
# An approved project's delivery: its protection period started in the registry, then its
# ProjectExecution (and, when protected, ProjectProtection) workflows started by the client.
LIFECYCLE_START_DELIVERY = "lifecycle.StartDelivery"
REGISTRY_EXPIRE_PROTECTION = "registry.ExpireProtection"


@dataclass
class ProjectSnapshot:
    """What the workflow keeps of a project (reporting events carry it: ReportEventInput.project)."""

    id: str
    code: str = ""
    name: str = ""
    # draft | pending_approval | active | closed | returned | rejected | cancelled
    status: str = ""
    # Decimal string, exact.
    amount: str = "0"
    owner_id: str = ""
    department_id: str = ""
    region: str = ""
    business_line: str = ""
    form_key: str = ""
    customer_name: str = ""
    # ISO date the registration gives for the project's start ("" = none): anchors its plan template.
    start_date: str = ""
    # Form field values as plain JSON (for approval rules).
    fields: dict[str, Any] = field(default_factory=dict)
    # How many live registrations this one collides with (撞单), exact.
    conflict_count: int = 0
    # [{"project_id", "reason"}]: the most similar of them, at most MAX_WORKFLOW_CONFLICTS
    # (project_snapshot.py), for approval rules. Histories recorded before the bound may hold more.
    conflicts: list[dict[str, str]] = field(default_factory=list)


@dataclass
class GetProjectInput:
    project_id: str


@dataclass
class SubmitProjectInput:
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool = False
    locale: str = "zh"
    # Added (issue 15, patch "service-events"): the id of the reporting event the registry
    # publishes with the change (outbox); empty (older histories) = none, the workflow reports it.
    report_event_id: str = ""


@dataclass
class SetProjectStatusInput:
    request_id: str
    project_id: str
    status: str
    actor_id: str = ""
    event: str = ""
    comment: str = ""
    # Added (issue 15, patch "service-events"): the id of the reporting event the registry
    # publishes with the change (outbox); empty (older histories) = none, the workflow reports it.
    report_event_id: str = ""


@dataclass
class ProtectionCheckInput:
    """StartProtection / ExpireProtection: ``at`` is workflow time (ISO 8601 with zone)."""

    request_id: str
    project_id: str
    at: str


@dataclass
class PromotedRef:
    project_id: str
    status: str


@dataclass
class ProtectionStatus:
    project_id: str
    # none | holder | protected | lapsed | waitlisted | released
    state: str
    # ISO 8601 with zone, empty when not protected.
    until: str = ""
    remind_at: str = ""
    owner_id: str = ""
    code: str = ""
    name: str = ""
    position: int = 0
    # Waitlisted registrations that took over the customer when this one let go of it.
    promoted: list[PromotedRef] = field(default_factory=list)


@dataclass
class StartDeliveryInput:
    """What an approved project's delivery starts from (the lifecycle's snapshot at approval)."""

    # StartProtection's request id (the registry answers a repeat from its record).
    request_id: str
    project_id: str
    owner_id: str
    # ISO 8601 workflow time: when the protection period starts.
    at: str
    code: str = ""
    name: str = ""
    business_line: str = ""
    amount: str = "0"
    start_date: str = ""


@dataclass
class StartDeliveryResult:
    # The protection state after StartProtection: none | protected | waitlisted | …
    protection_state: str
    until: str = ""
    # False: it already ran (started earlier by the edge, a promotion or a retry).
    execution_started: bool = False
    protection_started: bool = False
