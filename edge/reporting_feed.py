"""Edits of a registration that no workflow step reports: a draft or returned project edited over
``PATCH /projects/{id}`` or by an import's row edit. Its lifecycle workflow reports the facts at
creation and at each step; between them only the edge sees the edit, so it tells reporting
(``project.edited`` with the project's facts as the registry now has them). Idempotent per project
version; a failure is logged and the edit stands (``baobei rebuild-read-models`` repairs the read
model, and the next submission reports the facts anyway)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb2
from baobei.reporting_events import build
from baobei.reporting_facts import registry_facts
from edge.clients import Clients

log = structlog.get_logger(__name__)


async def project_edited(clients: Clients, project: registry_pb2.Project, *, actor_id: str) -> None:
    """``project`` as the registry stored it after the edit (unfiltered)."""
    at = project.updated_at.ToDatetime(tzinfo=UTC) if project.HasField("updated_at") else datetime.now(UTC)
    event = build(event_id=f"edit:{project.id}:v{project.version}", event_type="project.edited",
                  project_id=project.id, at=at, actor_id=actor_id, facts=registry_facts(project))
    try:
        await clients.reporting.IngestEvent(reporting_pb2.IngestEventRequest(event=event))
    except Exception as err:  # noqa: BLE001 - the edit stands; a rebuild brings reporting up to date
        log.warning("reporting.edit_not_reported", project_id=project.id, error=str(err))


async def projects_edited(
    clients: Clients, viewer: registry_pb2.Viewer, project_ids: list[str], *, actor_id: str
) -> None:
    """The projects an import edited (read back as stored, a few at a time)."""
    gate = asyncio.Semaphore(8)

    async def one(project_id: str) -> None:
        async with gate:
            try:
                project = (await clients.registry.GetProject(
                    registry_pb2.GetProjectRequest(project_id=project_id, viewer=viewer))).project
            except Exception as err:  # noqa: BLE001 - as above
                log.warning("reporting.edit_not_reported", project_id=project_id, error=str(err))
                return
            await project_edited(clients, project, actor_id=actor_id)

    await asyncio.gather(*(one(pid) for pid in project_ids))
