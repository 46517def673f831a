"""Activities calling the registry service."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts import search_attributes as sa
from workflows.contracts.execution import EXECUTION_WORKFLOW_TYPE, ExecutionInput, execution_workflow_id
from workflows.contracts.project_snapshot import project_snapshot, status_label, status_name
from workflows.contracts.protection import PROTECTION_WORKFLOW_TYPE, ProtectionInput, protection_workflow_id
from workflows.contracts.registry import (
    LIFECYCLE_START_DELIVERY,
    REGISTRY_EXPIRE_PROTECTION,
    REGISTRY_GET_PROJECT,
    REGISTRY_SET_PROJECT_STATUS,
    REGISTRY_START_PROTECTION,
    REGISTRY_SUBMIT_PROJECT,
    GetProjectInput,
    ProjectSnapshot,
    PromotedRef,
    ProtectionCheckInput,
    ProtectionStatus,
    SetProjectStatusInput,
    StartDeliveryInput,
    StartDeliveryResult,
    SubmitProjectInput,
)
from workflows.contracts.tasks import ProtectionInfo


def _iso(ts: timestamp_pb2.Timestamp) -> str:
    return ts.ToDatetime().isoformat() + "+00:00" if ts.seconds or ts.nanos else ""


def protection_status(project_id: str, resp: pb.ProtectionResponse) -> ProtectionStatus:
    pr = resp.protection
    return ProtectionStatus(
        project_id=project_id, state=pr.state or "none", until=_iso(pr.until), remind_at=_iso(resp.remind_at),
        owner_id=resp.owner_id, code=resp.code, name=resp.name, position=pr.position,
        promoted=[PromotedRef(project_id=p.project_id, status=status_name(p.status)) for p in resp.promoted],
    )


def delivery_protection(inp: StartDeliveryInput) -> ProtectionCheckInput:
    """The StartProtection a delivery start makes (its request id and time): the same whether
    ``start_delivery`` calls it or the approval's SetProjectStatus carries it."""
    return ProtectionCheckInput(request_id=inp.request_id, project_id=inp.project_id, at=inp.at)


def _start_protection_request(inp: ProtectionCheckInput) -> pb.StartProtectionRequest:
    req = pb.StartProtectionRequest(request_id=inp.request_id, project_id=inp.project_id)
    req.at.FromDatetime(datetime.fromisoformat(inp.at))
    return req


class RegistryActivities:
    """``temporal`` (optional): the client used to start the protection workflow of a waitlisted
    registration promoted by a status change (a holder rejected, cancelled or closed)."""

    def __init__(
        self, stub: RegistryServiceStub, *, timeout: float = 10.0, temporal: Client | None = None,
        task_queue: str = "",
    ) -> None:
        self._stub = stub
        self._timeout = timeout
        self._temporal = temporal
        self._task_queue = task_queue

    @activity.defn(name=REGISTRY_GET_PROJECT)
    async def get_project(self, inp: GetProjectInput) -> ProjectSnapshot:
        resp = await call(self._stub.GetProject, pb.GetProjectRequest(project_id=inp.project_id), timeout=self._timeout)
        return project_snapshot(resp.project)

    @activity.defn(name=REGISTRY_SUBMIT_PROJECT)
    async def submit_project(self, inp: SubmitProjectInput) -> ProjectSnapshot:
        log = activity_logger(inp.project_id)
        req = pb.SubmitProjectRequest(
            request_id=inp.request_id,
            project_id=inp.project_id,
            actor_id=inp.actor_id,
            actor_is_admin=inp.actor_is_admin,
            report_event_id=inp.report_event_id,
        )
        resp = await call(self._stub.SubmitProject, req, timeout=self._timeout, locale=inp.locale)
        log.info("project.submitted", request_id=inp.request_id, status=status_name(resp.project.status))
        return project_snapshot(resp.project)

    @activity.defn(name=REGISTRY_SET_PROJECT_STATUS)
    async def set_project_status(self, inp: SetProjectStatusInput) -> ProjectSnapshot:
        return project_snapshot((await self._set_status(inp, None)).project)

    async def set_status_and_start_protection(
        self, inp: SetProjectStatusInput, protection: ProtectionCheckInput
    ) -> tuple[ProjectSnapshot, ProtectionStatus]:
        """An approval (``inp``: status active) that also starts the protection period in the same
        registry call, exactly as ``start_protection(protection)`` would (its request id: a retry
        after that call, or after this one, gets the registry's stored answers)."""
        resp = await self._set_status(inp, protection)
        if not resp.HasField("protection"):
            # A registry older than start_protection ignored it (a rolling upgrade): its own call.
            return project_snapshot(resp.project), await self.start_protection(protection)
        out = protection_status(protection.project_id, resp.protection)
        activity_logger(protection.project_id).info("protection.start", state=out.state, until=out.until)
        return project_snapshot(resp.project), out

    async def _set_status(
        self, inp: SetProjectStatusInput, protection: ProtectionCheckInput | None
    ) -> pb.SetProjectStatusResponse:
        log = activity_logger(inp.project_id)
        req = pb.SetProjectStatusRequest(
            request_id=inp.request_id,
            project_id=inp.project_id,
            status=status_label(inp.status),
            actor_id=inp.actor_id,
            event=inp.event,
            comment=inp.comment,
            report_event_id=inp.report_event_id,
        )
        if protection is not None:
            req.start_protection.CopyFrom(_start_protection_request(protection))
        resp: pb.SetProjectStatusResponse = await call(self._stub.SetProjectStatus, req, timeout=self._timeout)
        log.info("project.status_set", request_id=inp.request_id, status=inp.status, history_event=inp.event)
        for p in resp.promoted:
            if status_name(p.status) == "active":
                await self._start_protection_workflow(p.project_id)
        return resp

    async def _start_protection_workflow(self, project_id: str) -> None:
        """Idempotent: attaches to a running protection workflow of that project (retries too)."""
        log = activity_logger(project_id)
        if self._temporal is None:
            log.warning("protection.promoted_without_client")
            return
        await self._temporal.start_workflow(
            PROTECTION_WORKFLOW_TYPE, ProtectionInput(project_id=project_id), id=protection_workflow_id(project_id),
            task_queue=self._task_queue or activity.info().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        log.info("protection.workflow_started", promoted=project_id)

    @activity.defn(name=REGISTRY_START_PROTECTION)
    async def start_protection(self, inp: ProtectionCheckInput) -> ProtectionStatus:
        resp = await call(self._stub.StartProtection, _start_protection_request(inp), timeout=self._timeout)
        out = protection_status(inp.project_id, resp)
        activity_logger(inp.project_id).info("protection.start", state=out.state, until=out.until)
        return out

    @activity.defn(name=LIFECYCLE_START_DELIVERY)
    async def start_delivery(self, inp: StartDeliveryInput) -> StartDeliveryResult:
        """An approved project's delivery in one local activity of its lifecycle: the protection
        period started in the registry, then the delivery workflows (``deliver``)."""
        return await self.deliver(inp, await self.start_protection(delivery_protection(inp)))

    async def deliver(self, inp: StartDeliveryInput, st: ProtectionStatus) -> StartDeliveryResult:
        """The delivery of an approved project whose protection period started (``st``: the
        registry's answer to ``delivery_protection(inp)``): ProjectExecution started knowing it,
        and ProjectProtection only when there is a period to keep time for (none / waitlisted: a
        promotion starts it later). Client starts instead of child workflows cost the lifecycle no
        events of its own; a retry finds each step done (the registry's stored answer, and
        workflows already started are left as they are)."""
        log = activity_logger(inp.project_id)
        execution = await self._start_once(
            EXECUTION_WORKFLOW_TYPE,
            ExecutionInput(project_id=inp.project_id, owner_id=inp.owner_id, name=inp.name,
                           business_line=inp.business_line, amount=inp.amount, start=inp.start_date,
                           protection=ProtectionInfo(state=st.state, until=st.until)),
            execution_workflow_id(inp.project_id), inp.code, inp.name,
        )
        protection = st.state == "protected" and await self._start_once(
            PROTECTION_WORKFLOW_TYPE, ProtectionInput(project_id=inp.project_id, started=st),
            protection_workflow_id(inp.project_id), inp.code, inp.name,
        )
        log.info("delivery.started", protection=st.state, until=st.until, execution_started=execution,
                 protection_started=protection)
        return StartDeliveryResult(protection_state=st.state, until=st.until, execution_started=execution,
                                   protection_started=protection)

    async def _start_once(self, workflow_type: str, arg: object, workflow_id: str, code: str, name: str) -> bool:
        """Start ``workflow_id`` unless it runs or ran (False then)."""
        if self._temporal is None:
            raise RuntimeError("start_delivery needs the worker's Temporal client")
        try:
            await self._temporal.start_workflow(
                workflow_type, arg, id=workflow_id, task_queue=self._task_queue or activity.info().task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                **sa.project_start_options(workflow_type, code, name), request_eager_start=True,
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    @activity.defn(name=REGISTRY_EXPIRE_PROTECTION)
    async def expire_protection(self, inp: ProtectionCheckInput) -> ProtectionStatus:
        req = pb.ExpireProtectionRequest(request_id=inp.request_id, project_id=inp.project_id)
        req.at.FromDatetime(datetime.fromisoformat(inp.at))
        resp = await call(self._stub.ExpireProtection, req, timeout=self._timeout)
        out = protection_status(inp.project_id, resp)
        activity_logger(inp.project_id).info(
            "protection.check", state=out.state, until=out.until, promoted=[p.project_id for p in out.promoted]
        )
        return out
