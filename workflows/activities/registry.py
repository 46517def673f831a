"""Activities calling the registry service."""

from __future__ import annotations

from google.protobuf import json_format
from temporalio import activity

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.activity_types import (
    REGISTRY_GET_PROJECT,
    REGISTRY_SET_PROJECT_STATUS,
    REGISTRY_SUBMIT_PROJECT,
    GetProjectInput,
    ProjectSnapshot,
    SetProjectStatusInput,
    SubmitProjectInput,
)

_PREFIX = "PROJECT_STATUS_"


def status_name(value: int) -> str:
    """ProjectStatus enum → contract name ("pending_approval")."""
    return pb.ProjectStatus.Name(value).removeprefix(_PREFIX).lower()


def status_label(name: str) -> str:
    """Contract name → ProjectStatus label ("PROJECT_STATUS_ACTIVE"), accepted by the constructor."""
    label = _PREFIX + name.upper()
    pb.ProjectStatus.Value(label)  # an unknown name fails here, loudly
    return label


def snapshot(project: pb.Project) -> ProjectSnapshot:
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
        fields=json_format.MessageToDict(project.fields) if project.HasField("fields") else {},
        conflict_count=len(project.conflicts),
    )


class RegistryActivities:
    def __init__(self, stub: RegistryServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=REGISTRY_GET_PROJECT)
    async def get_project(self, inp: GetProjectInput) -> ProjectSnapshot:
        resp = await call(self._stub.GetProject, pb.GetProjectRequest(project_id=inp.project_id), timeout=self._timeout)
        return snapshot(resp.project)

    @activity.defn(name=REGISTRY_SUBMIT_PROJECT)
    async def submit_project(self, inp: SubmitProjectInput) -> ProjectSnapshot:
        log = activity_logger(inp.project_id)
        req = pb.SubmitProjectRequest(
            request_id=inp.request_id,
            project_id=inp.project_id,
            actor_id=inp.actor_id,
            actor_is_admin=inp.actor_is_admin,
        )
        resp = await call(self._stub.SubmitProject, req, timeout=self._timeout, locale=inp.locale)
        log.info("project.submitted", request_id=inp.request_id, status=status_name(resp.project.status))
        return snapshot(resp.project)

    @activity.defn(name=REGISTRY_SET_PROJECT_STATUS)
    async def set_project_status(self, inp: SetProjectStatusInput) -> ProjectSnapshot:
        log = activity_logger(inp.project_id)
        req = pb.SetProjectStatusRequest(
            request_id=inp.request_id,
            project_id=inp.project_id,
            status=status_label(inp.status),
            actor_id=inp.actor_id,
            event=inp.event,
            comment=inp.comment,
        )
        resp = await call(self._stub.SetProjectStatus, req, timeout=self._timeout)
        log.info("project.status_set", request_id=inp.request_id, status=inp.status, history_event=inp.event)
        return snapshot(resp.project)
