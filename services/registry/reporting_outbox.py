"""Project events for reporting, published through the registry's outbox (event_outbox, written
in the transaction of the change; baobei/core/event_outbox.py): the typed events the lifecycle
workflow's reporting activity sent before, with the same ids, so an event reported both ways
during a rollout is applied once.

* ``project.created`` — every project created (CreateProject, imports); id
  ``project-<id>:project.created:0``: the lifecycle workflow (id ``project-<id>``) reported it in
  round 0.
* ``project.submitted`` / ``approved`` / ``rejected`` / ``returned`` / ``cancelled`` — when the
  caller (the workflow) names the event id it would have used (``report_event_id``); without one
  nothing is published (old workflow histories still report themselves)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from baobei import reporting_events
from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.core.event_outbox import publish, publish_rows
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb
from baobei.reporting_facts import project_facts, registry_facts
from services.registry.domain import Status
from services.registry.models import event_outbox

LIFECYCLE_PREFIX = "project-"  # workflows.contracts.lifecycle.workflow_id
# The reporting event of each status a lifecycle workflow sets.
STATUS_EVENTS = {
    Status.ACTIVE: "project.approved",
    Status.REJECTED: "project.rejected",
    Status.RETURNED: "project.returned",
    Status.CANCELLED: "project.cancelled",
}


def created_event_id(project_id: str) -> str:
    return f"{LIFECYCLE_PREFIX}{project_id}:project.created:0"


def _facts(project: pb.Project) -> reporting_pb.ProjectFacts:
    facts = registry_facts(project)
    facts.amount = facts.amount or "0"  # as the workflow's project snapshot carried it
    return facts


def _publish(session: Session, *, event_id: str, event_type: str, project_id: str, actor_id: str,
             facts: reporting_pb.ProjectFacts) -> None:
    event = reporting_events.build(event_id=event_id, event_type=event_type, project_id=project_id,
                                   at=datetime.now(UTC), actor_id=actor_id, facts=facts)
    publish(session, event_outbox, event)


def project_created(session: Session, project: pb.Project) -> None:
    _publish(session, event_id=created_event_id(project.id), event_type="project.created", project_id=project.id,
             actor_id=project.owner_id, facts=_facts(project))


def imported_created(session: Session, rows: Sequence[Mapping[str, Any]], conflicts: Sequence[int]) -> None:
    """``project.created`` of bulk-imported rows (the ``project`` table's values), as one executemany."""
    events: list[tuple[str, bytes]] = []
    for row, count in zip(rows, conflicts, strict=True):
        facts = project_facts(_Row(row), status=str(row["status"]), conflict_count=count)
        facts.amount = facts.amount or "0"
        event = reporting_events.build(event_id=created_event_id(row["id"]), event_type="project.created",
                                       project_id=row["id"], at=datetime.now(UTC), actor_id=row["owner_id"],
                                       facts=facts)
        events.append((event.event_id, event.SerializeToString()))
    publish_rows(session, event_outbox, events)


def project_submitted(session: Session, project: pb.Project, event_id: str) -> None:
    if event_id.strip():
        _publish(session, event_id=event_id.strip(), event_type="project.submitted", project_id=project.id,
                 actor_id=project.owner_id, facts=_facts(project))


def status_changed(session: Session, project: pb.Project, status: Status, actor_id: str, event_id: str) -> None:
    if not event_id.strip():
        return
    event_type = STATUS_EVENTS.get(status)
    if event_type is None:
        raise ValidationFailed([FieldViolation(
            "report_event_id", f"状态 {status.value} 没有报表事件", f"status {status.value} has no reporting event")])
    _publish(session, event_id=event_id.strip(), event_type=event_type, project_id=project.id, actor_id=actor_id,
             facts=_facts(project))


class _Row:
    """A ``project`` row's values seen as ProjectLike."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._v = values

    def __getattr__(self, name: str) -> str:
        return str(self._v.get(name) or "")
