"""The registry's ``Project`` message → the ``ProjectSnapshot`` a workflow keeps: one mapping,
used by the registry activities and by the edge, which hands the project it just created to the
new workflow (no registry read at the workflow's start)."""

from __future__ import annotations

from google.protobuf import json_format

from baobei.registry.v1 import registry_service_pb2 as pb
from workflows.contracts.registry import ProjectSnapshot

_PREFIX = "PROJECT_STATUS_"


def status_name(value: int) -> str:
    """ProjectStatus enum → contract name ("pending_approval")."""
    return pb.ProjectStatus.Name(value).removeprefix(_PREFIX).lower()


def status_label(name: str) -> str:
    """Contract name → ProjectStatus label ("PROJECT_STATUS_ACTIVE"), accepted by the constructor."""
    label = _PREFIX + name.upper()
    pb.ProjectStatus.Value(label)  # an unknown name fails here, loudly
    return label


def project_snapshot(project: pb.Project) -> ProjectSnapshot:
    """The whole project as the registry stores it (not a viewer's filtered view)."""
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
        conflict_count=len(project.conflicts),
        conflicts=[{"project_id": c.project_id, "reason": c.reason} for c in project.conflicts],
    )
