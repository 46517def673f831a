"""ProjectLifecycle end to end on real parts: the Temporal dev server (with the custom search
attributes), the worker with the real activities, and the registry, approval, notify and
reporting gRPC servers in-process on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.core.grpc_client import channel
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1 import reporting_service_pb2 as xpb
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from tests.conftest import StartService, temporal_cli_path
from tests.workflows.conftest import eventually, local_activities, state_of, wait_for_step
from workflows.contracts import search_attributes as sa
from workflows.contracts.audit_retention import AUDIT_RETENTION_WORKFLOW_ID
from workflows.contracts.errors import ERR_FORBIDDEN
from workflows.contracts.lifecycle import (
    UPDATE_DECIDE,
    UPDATE_SUBMIT,
    WORKFLOW_TYPE,
    DecisionInput,
    DecisionResult,
    LifecycleInput,
    LifecycleResult,
    SubmitInput,
    SubmitResult,
    workflow_id,
)
from workflows.worker import run_worker

SERVICES = ("registry", "approval", "notify", "reporting")


@pytest.fixture
def services(start_service: StartService) -> dict[str, str]:
    """The four services on loopback ports: name → address."""
    addrs: dict[str, str] = {}
    for name in SERVICES:
        extra = {"registry_addr": addrs["registry"]} if name == "approval" else {}
        addrs[name] = start_service(name, **extra).addr
    return addrs


def _seed(addrs: dict[str, str]) -> str:
    """Org, form, a two-step policy and a draft project; returns the project id."""
    registry = RegistryServiceStub(channel(addrs["registry"]))
    approval = ApprovalServiceStub(channel(addrs["approval"]))
    registry.UpsertOrg(
        rpb.UpsertOrgRequest(
            request_id="seed-org",
            departments=[
                rpb.Department(id="hq", name="总部", manager_id="boss"),
                rpb.Department(id="sales", name="华东销售部", parent_id="hq", manager_id="mgr"),
            ],
            users=[
                rpb.User(id="boss", name="王总", department_id="hq", roles=["director"]),
                rpb.User(id="mgr", name="李经理", department_id="sales", roles=["manager"]),
                rpb.User(id="owner", name="张三", department_id="sales", roles=["sales"], region="east"),
            ],
        ),
        timeout=10,
    )
    registry.PutForm(
        rpb.PutFormRequest(
            request_id="seed-form",
            key="standard",
            title="标准报备",
            fields=[rpb.FormField(key="contract_no", label="合同号", type="text")],
        ),
        timeout=10,
    )
    approval.PutPolicy(
        apb.PutPolicyRequest(
            request_id="seed-policy",
            key="standard",
            form_key="standard",
            steps=[
                apb.PolicyStep(name="部门经理", approvers=apb.Approvers(type="manager_of_submitter"), mode="any"),
                apb.PolicyStep(
                    name="总监", approvers=apb.Approvers(type="role", role="director"), mode="any", sla="24h"
                ),
            ],
        ),
        timeout=10,
    )
    created = registry.CreateProject(
        rpb.CreateProjectRequest(
            request_id=f"seed-project-{uuid.uuid4().hex[:6]}",
            owner_id="owner",
            form_key="standard",
            name="智慧园区一期",
            customer=rpb.Customer(name="华东制造有限公司"),
            amount="1250000.00",
            region="east",
            business_line="iot",
        ),
        timeout=10,
    )
    return created.project.id


async def _polled(client: Client, task_queue: str) -> bool:
    """The worker polls the task queue (it is up and registered)."""
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return bool(resp.pollers)


def _todo(addrs: dict[str, str], user: str) -> str:
    approval = ApprovalServiceStub(channel(addrs["approval"]))
    tasks = approval.ListTodos(apb.ListTodosRequest(user_id=user), timeout=10).tasks
    assert len(tasks) == 1, tasks
    return tasks[0].id


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_lifecycle_with_real_services(services: dict[str, str]) -> None:
    project_id = await asyncio.to_thread(_seed, services)
    settings = Settings(
        registry_addr=services["registry"],
        approval_addr=services["approval"],
        notify_addr=services["notify"],
        reporting_addr=services["reporting"],
        task_queue=f"it-{uuid.uuid4().hex[:6]}",
    )

    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(), search_attributes=sa.ALL, ui=False
    ) as env:
        settings.temporal_address = env.client.service_client.config.target_host
        settings.temporal_namespace = env.client.namespace
        worker = asyncio.create_task(run_worker(settings, handle_signals=False))
        try:
            await eventually(lambda: _polled(env.client, settings.task_queue), timeout=20)
            handle = await env.client.start_workflow(
                WORKFLOW_TYPE,
                LifecycleInput(project_id=project_id, owner_id="owner"),
                id=workflow_id(project_id),
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                result_type=LifecycleResult,
            )
            submitted = await handle.execute_update(
                UPDATE_SUBMIT, SubmitInput(actor_id="owner"), result_type=SubmitResult
            )
            assert submitted.status == "pending_approval"

            state = await wait_for_step(handle, 0)
            assert state.approvers == ["mgr"]
            mgr_task = await asyncio.to_thread(_todo, services, "mgr")

            # A stranger's decision is refused by the approval service.
            with pytest.raises(WorkflowUpdateFailedError) as info:
                await handle.execute_update(
                    UPDATE_DECIDE, DecisionInput(task_id=mgr_task, user_id="owner", action="approve")
                )
            assert isinstance(info.value.cause, ApplicationError)
            assert info.value.cause.type == ERR_FORBIDDEN

            first = await handle.execute_update(
                UPDATE_DECIDE,
                DecisionInput(task_id=mgr_task, user_id="mgr", action="approve", comment="同意"),
                result_type=DecisionResult,
            )
            assert first.status == "pending_approval"
            state = await state_of(handle)
            assert (state.step_index, state.approvers) == (1, ["boss"])
            # The planning opened step 1 inside its PlanChain (patch plan-opens-first), the approval
            # step 2 inside its RecordDecision (patch open-next-in-decision): the workflow called
            # OpenStep for no step, and step 2 has one task.
            called = await local_activities(handle)
            assert (called["approval.PlanChain"], called["approval.OpenStep"], called["approval.RecordDecision"]) == (
                1, 0, 2)
            desc = await handle.describe()
            assert desc.typed_search_attributes.get(sa.STAGE) == "approval"
            assert desc.typed_search_attributes.get(sa.APPROVERS) == ["boss"]
            assert desc.typed_search_attributes.get(sa.SLA_DEADLINE) is not None

            boss_task = await asyncio.to_thread(_todo, services, "boss")
            last = await handle.execute_update(
                UPDATE_DECIDE,
                DecisionInput(task_id=boss_task, user_id="boss", action="approve"),
                result_type=DecisionResult,
            )
            assert last.status == "active"
            assert await handle.result() == LifecycleResult(project_id=project_id, status="active")
            assert "approval.OpenStep" not in await local_activities(handle)

            desc = await handle.describe()
            assert desc.typed_search_attributes.get(sa.STAGE) == "active"
            # The workflow is closed: the server refuses further updates with NOT_FOUND (edge: 409).
            with pytest.raises(RPCError) as closed:
                await handle.execute_update(
                    UPDATE_DECIDE, DecisionInput(task_id=boss_task, user_id="boss", action="approve")
                )
            assert closed.value.status == RPCStatusCode.NOT_FOUND

            async def listed() -> bool:
                ids = [w.id async for w in env.client.list_workflows('BaobeiStage = "active"')]
                return handle.id in ids

            await eventually(listed, timeout=15)

            reporting = ReportingServiceStub(channel(services["reporting"]))

            async def reported() -> bool:  # the worker's relay ships the services' reporting events
                portfolio = await asyncio.to_thread(reporting.Portfolio, xpb.PortfolioRequest(all=True), timeout=10)
                return portfolio.by_status.get("active") == 1

            await eventually(reported, timeout=15)
            # The worker started the daily audit retention once (issue 13).
            retention = await env.client.get_workflow_handle(AUDIT_RETENTION_WORKFLOW_ID).describe()
            assert retention.status == WorkflowExecutionStatus.RUNNING
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    checks = await asyncio.to_thread(_read_back, services, project_id)
    assert checks["status"] == rpb.PROJECT_STATUS_ACTIVE
    assert "approval_request" in checks["mgr_kinds"]
    assert "approval_request" in checks["boss_kinds"]
    assert "project_approved" in checks["owner_kinds"]
    assert checks["by_status"].get("active") == 1


def _read_back(addrs: dict[str, str], project_id: str) -> dict[str, Any]:
    registry = RegistryServiceStub(channel(addrs["registry"]))
    notify = NotifyServiceStub(channel(addrs["notify"]))
    reporting = ReportingServiceStub(channel(addrs["reporting"]))
    project = registry.GetProject(rpb.GetProjectRequest(project_id=project_id), timeout=10).project

    def kinds(user: str) -> list[str]:
        return [n.kind for n in notify.ListInbox(npb.ListInboxRequest(user_id=user), timeout=10).items]

    portfolio = reporting.Portfolio(xpb.PortfolioRequest(all=True), timeout=10)
    return {
        "status": project.status,
        "mgr_kinds": kinds("mgr"),
        "boss_kinds": kinds("boss"),
        "owner_kinds": kinds("owner"),
        "by_status": dict(portfolio.by_status),
    }
