"""The one mapping of a registry project onto reporting's project facts: used by the workflows'
reporting activity (project events), the edge and ``rebuild-read-models`` (rebuild snapshots)."""

from __future__ import annotations

from typing import Protocol

from baobei.registry.v1 import registry_service_pb2 as registry_pb
from baobei.reporting.v1 import reporting_service_pb2 as pb

_STATUS_PREFIX = "PROJECT_STATUS_"


class ProjectLike(Protocol):
    """What a registry Project and the workflows' project snapshot have in common."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def amount(self) -> str: ...
    @property
    def owner_id(self) -> str: ...
    @property
    def department_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def business_line(self) -> str: ...
    @property
    def form_key(self) -> str: ...


def project_facts(p: ProjectLike, *, status: str, conflict_count: int) -> pb.ProjectFacts:
    return pb.ProjectFacts(
        code=p.code,
        name=p.name,
        status=status,
        amount=p.amount,
        owner_id=p.owner_id,
        department_id=p.department_id,
        region=p.region,
        business_line=p.business_line,
        form_key=p.form_key,
        conflict_count=conflict_count,
    )


def status_name(value: int) -> str:
    """Registry ProjectStatus → reporting's status name ("pending_approval"; "" when unspecified)."""
    name = registry_pb.ProjectStatus.Name(value).removeprefix(_STATUS_PREFIX).lower()
    return "" if name == "unspecified" else name


def registry_facts(p: registry_pb.Project) -> pb.ProjectFacts:
    # A list item carries only the count (a registry before conflict_count: only the list).
    return project_facts(p, status=status_name(p.status), conflict_count=max(p.conflict_count, len(p.conflicts)))


def registry_snapshot(p: registry_pb.Project) -> pb.ProjectSnapshot:
    out = pb.ProjectSnapshot(id=p.id, facts=registry_facts(p))
    if p.HasField("created_at"):
        out.created_at.CopyFrom(p.created_at)
    if p.HasField("updated_at"):
        out.updated_at.CopyFrom(p.updated_at)
    return out
