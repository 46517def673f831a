"""The registry's ``Project`` message → the ``ProjectSnapshot`` a workflow keeps: one mapping,
used by the registry activities and by the edge, which hands the project it just created to the
new workflow (no registry read at the workflow's start)."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import json_format

from baobei.registry.v1 import registry_service_pb2 as pb
from workflows.contracts.registry import ProjectSnapshot

_PREFIX = "PROJECT_STATUS_"

# Conflicts (撞单) a workflow carries of a project. The registry keeps them all; a popular
# customer's N-th project collides with the N−1 before it, and every one of them (~200 B) would sit
# in the lifecycle's start input, its registry results and each cached instance — ~10,000 pass
# Temporal's 2 MB payload limit and the start fails. 20 is more than any approver reads and keeps a
# snapshot's list under ~4 KB; ``conflict_count`` stays exact, so count-based rules are unchanged.
MAX_WORKFLOW_CONFLICTS = 20


def status_name(value: int) -> str:
    """ProjectStatus enum → contract name ("pending_approval")."""
    return pb.ProjectStatus.Name(value).removeprefix(_PREFIX).lower()


def status_label(name: str) -> str:
    """Contract name → ProjectStatus label ("PROJECT_STATUS_ACTIVE"), accepted by the constructor."""
    label = _PREFIX + name.upper()
    pb.ProjectStatus.Value(label)  # an unknown name fails here, loudly
    return label


def project_snapshot(project: pb.Project) -> ProjectSnapshot:
    """The whole project as the registry stores it (not a viewer's filtered view), but for its
    conflicts: the most similar ``MAX_WORKFLOW_CONFLICTS`` and their exact ``conflict_count``."""
    return ProjectSnapshot(
        id=project.id,
        code=project.code,
        name=project.name,
        status=status_name(project.status),
        amount=project.amount or "0",
        owner_id=project.owner_id,
        department_id=project.department_id,
        region=project.region,
        business_line=project.business_line,
        form_key=project.form_key,
        customer_name=project.customer.name,
        start_date=project.start_date,
        fields=json_format.MessageToDict(project.fields) if project.HasField("fields") else {},
        conflict_count=max(project.conflict_count, len(project.conflicts)),
        conflicts=top_conflicts(project.conflicts),
    )


def top_conflicts(conflicts: Sequence[pb.Conflict], limit: int = MAX_WORKFLOW_CONFLICTS) -> list[dict[str, str]]:
    """The ``limit`` most similar conflicts, highest score first; equal scores (all 0 in a list
    stored before the registry scored them) keep the registry's order (oldest first)."""
    ranked = sorted(range(len(conflicts)), key=lambda i: -conflicts[i].score)[:limit]
    return [{"project_id": conflicts[i].project_id, "reason": conflicts[i].reason} for i in ranked]
