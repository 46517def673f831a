"""In-process gRPC stand-ins for registry, approval and notify (fixed answers, nothing kept), so
bench.lifecycle_memory can run the worker's real activity classes over real ``grpc.aio`` channels
(``--real-activities``): the activities' code, protobuf conversions, structlog and the channels are
the product's; only the services are canned."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf import struct_pb2, timestamp_pb2

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1.approval_service_pb2_grpc import (
    ApprovalServiceServicer,
    ApprovalServiceStub,
    add_ApprovalServiceServicer_to_server,
)
from baobei.core.grpc_client import aio_channel
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1.notify_service_pb2_grpc import (
    NotifyServiceServicer,
    NotifyServiceStub,
    add_NotifyServiceServicer_to_server,
)
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1.registry_service_pb2_grpc import (
    RegistryServiceServicer,
    RegistryServiceStub,
    add_RegistryServiceServicer_to_server,
)
from bench import lifecycle_fakes
from workflows.activities.approval import ApprovalActivities
from workflows.activities.notify import NotifyActivities
from workflows.activities.registry import RegistryActivities


def _ts(at: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(at)
    return ts


def _project(pid: str, status: int) -> rpb.Project:
    fields = struct_pb2.Struct()
    fields.update(lifecycle_fakes.FIELDS)
    return rpb.Project(fields=fields if lifecycle_fakes.FIELDS else None,
                       id=pid, code="BB-2026-0001", status=status, name="智慧园区一期",
                       customer=rpb.Customer(name="华东制造有限公司"), amount="1250000.00", region="east",
                       business_line="iot", form_key="standard", owner_id="owner", department_id="sales")


# Seconds each SubmitProject takes (bench.lifecycle_memory --slow-submit): a database write's latency.
SUBMIT_DELAY: list[float] = [0.0]


class Registry(RegistryServiceServicer):
    async def SubmitProject(self, request: Any, context: Any) -> rpb.SubmitProjectResponse:  # noqa: N802
        if SUBMIT_DELAY[0]:
            await asyncio.sleep(SUBMIT_DELAY[0])
        return rpb.SubmitProjectResponse(project=_project(request.project_id, rpb.PROJECT_STATUS_PENDING_APPROVAL))

    async def RecipientRedactions(self, request: Any, context: Any) -> rpb.RecipientRedactionsResponse:  # noqa: N802
        project = _project(request.project_id, rpb.PROJECT_STATUS_PENDING_APPROVAL)
        return rpb.RecipientRedactionsResponse(project=project)


class Approval(ApprovalServiceServicer):
    async def PlanChain(self, request: Any, context: Any) -> apb.PlanChainResponse:  # noqa: N802
        return apb.PlanChainResponse(instance_id=f"inst-{request.project.project_id or request.request_id}",
                                     policy_key="standard", policy_version=1,
                                     steps=[apb.PlannedStep(index=0, name="部门经理", mode="any", approvers=["mgr"],
                                                            sla_seconds=8 * 3600)])

    async def OpenStep(self, request: Any, context: Any) -> apb.OpenStepResponse:  # noqa: N802
        now = datetime.now(UTC)
        due = _ts(now + timedelta(hours=8))
        return apb.OpenStepResponse(
            step=apb.StepState(index=0, name="部门经理", mode="any", status="pending", approvers=["mgr"], due_at=due,
                               opened_at=_ts(now)),
            tasks=[apb.ApprovalTask(id=f"t0-mgr-{request.instance_id}", instance_id=request.instance_id,
                                    step_index=0, approver_id="mgr", status=apb.TASK_STATUS_PENDING, due_at=due)],
            timers=[apb.Timer(index=0, action="remind", at=_ts(now + timedelta(hours=4))),
                    apb.Timer(index=1, action="escalate", at=due, level=1, to=["dir"])],
            due_at=due)


class Notify(NotifyServiceServicer):
    async def Send(self, request: Any, context: Any) -> npb.SendResponse:  # noqa: N802
        return npb.SendResponse(notifications=[npb.Notification(id=f"{request.request_id}:{r}")
                                               for r in request.recipient_ids])


async def serve_only() -> tuple[grpc.aio.Server, int]:
    """The three stand-ins on one loopback port."""
    server = grpc.aio.server()
    add_RegistryServiceServicer_to_server(Registry(), server)
    add_ApprovalServiceServicer_to_server(Approval(), server)
    add_NotifyServiceServicer_to_server(Notify(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def serve() -> tuple[grpc.aio.Server, list[Any], list[grpc.aio.Channel]]:
    """The three stand-ins on one port, and the real activities on channels to it."""
    server, port = await serve_only()
    channels = [aio_channel(f"127.0.0.1:{port}") for _ in range(3)]  # one per service, as open_stubs
    registry = RegistryServiceStub(channels[0])
    reg = RegistryActivities(registry, timeout=10.0)
    app = ApprovalActivities(ApprovalServiceStub(channels[1]), timeout=10.0)
    notify = NotifyActivities(NotifyServiceStub(channels[2]), timeout=10.0, registry=registry)
    return server, [reg.get_project, reg.submit_project, app.plan_chain, app.open_step, notify.send], channels
