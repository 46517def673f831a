"""CrmOpportunityLost on the time-skipping server against the real registry, approval, notify and
reporting services (gRPC on loopback, SQLite) and the real worker (``build_worker``): a submitted
registration with a pending approval is withdrawn through its lifecycle workflow, cancelled, and
its protection claim released so the waitlisted registration of the same customer is promoted; a
second run changes nothing; an active registration is closed.

``real_stack`` is shared with test_handover.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.core.grpc_client import aio_channel, channel
from baobei.core.settings import Settings
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1.acceptance_service_pb2_grpc import AcceptanceServiceStub
from baobei.registry.v1.change_service_pb2_grpc import ChangeServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from tests.conftest import running_service
from tests.workflows.conftest import eventually, state_of
from workflows.contracts.crm import CRM_LOST_WORKFLOW_TYPE, CrmLostInput, CrmLostResult, crm_lost_workflow_id
from workflows.contracts.lifecycle import (
    UPDATE_SUBMIT,
    WORKFLOW_TYPE,
    LifecycleInput,
    LifecycleResult,
    SubmitInput,
    SubmitResult,
    workflow_id,
)
from workflows.notice_relay import NoticeRelay
from workflows.worker import Stubs, build_worker

pytestmark = pytest.mark.asyncio(loop_scope="module")
S = rpb.ProjectStatus
SERVICES = ("registry", "approval", "notify", "reporting")

ORG = rpb.UpsertOrgRequest(
    request_id="org-crm",
    departments=[
        rpb.Department(id="hq", name="总部", manager_id="ceo"),
        rpb.Department(id="sh", name="上海", parent_id="hq", manager_id="mgr_sh"),
        rpb.Department(id="team", name="上海一组", parent_id="sh", manager_id="lead"),
    ],
    users=[
        rpb.User(id="ceo", name="CEO", department_id="hq", roles=["exec"], mobile="13900000001"),
        rpb.User(id="mgr_sh", name="上海经理", department_id="sh", roles=["manager"], mobile="13900000002"),
        rpb.User(id="lead", name="组长", department_id="team", roles=["manager"], mobile="13900000003"),
        rpb.User(id="sales1", name="销售一", department_id="team", roles=["sales"], mobile="13900000004"),
        rpb.User(id="sales2", name="销售二", department_id="team", roles=["sales"], mobile="13900000005"),
        rpb.User(id="crm", name="CRM 集成", department_id="hq", roles=["integrator"]),
    ],
)


@dataclass
class Stack:
    client: Client
    task_queue: str
    registry: RegistryServiceStub
    approval: ApprovalServiceStub
    notify: NotifyServiceStub
    reporting: ReportingServiceStub | None = None
    acceptance: AcceptanceServiceStub | None = None
    change: ChangeServiceStub | None = None
    # The worker's notice relay (sends the approval requests the approval service published).
    notices: NoticeRelay | None = None

    async def relay_notices(self) -> int:
        """One round of the notice relay, as the delivery worker runs it: how many were sent."""
        assert self.notices is not None
        return await self.notices.run_once()

    async def lifecycle(self, project_id: str, owner: str) -> WorkflowHandle[Any, Any]:
        handle = await self.client.start_workflow(
            WORKFLOW_TYPE, LifecycleInput(project_id=project_id, owner_id=owner), id=workflow_id(project_id),
            task_queue=self.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            execution_timeout=timedelta(days=30), result_type=LifecycleResult,
        )
        submitted = await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id=owner), result_type=SubmitResult)
        assert submitted.status == "pending_approval"

        async def waiting() -> bool:
            return bool((await state_of(handle)).approvers)

        await eventually(waiting, timeout=20)
        return handle

    def create(self, owner: str, name: str, customer: str) -> str:
        return self.registry.CreateProject(rpb.CreateProjectRequest(
            request_id=f"c-{uuid.uuid4().hex[:8]}", owner_id=owner, form_key="crm", name=name, amount="880000.00",
            customer=rpb.Customer(name=customer)), timeout=10).project.id

    def project(self, project_id: str) -> rpb.Project:
        return self.registry.GetProject(rpb.GetProjectRequest(project_id=project_id), timeout=10).project

    def todos(self, user: str) -> list[apb.ApprovalTask]:
        return list(self.approval.ListTodos(apb.ListTodosRequest(user_id=user), timeout=10).tasks)


@asynccontextmanager
async def real_stack(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any, redis_url: str = ""
) -> AsyncIterator[Stack]:
    """The four services on loopback ports, seeded with an org, a form with protection (30 days) and
    a one-step policy (manager of the submitter), and the real worker on a fresh task queue."""
    services = ExitStack()
    addrs: dict[str, str] = {}
    task_queue = f"crm-{uuid.uuid4().hex[:6]}"
    settings = Settings(task_queue=task_queue, rpc_timeout=10.0, webhook_allow_internal=True)
    extra: dict[str, Any] = {"redis_url": redis_url} if redis_url else {}
    try:
        for name in SERVICES:
            kwargs: dict[str, Any] = {"make_db_url": make_db_url, **extra}
            if name == "approval":
                kwargs["registry_addr"] = addrs["registry"]
            if name == "registry":
                kwargs["attachments_dir"] = tmp_path
            if name == "reporting":
                kwargs["notify_addr"] = addrs["notify"]
            addrs[name] = services.enter_context(running_service(name, **kwargs)).addr
        registry = RegistryServiceStub(channel(addrs["registry"]))
        approval = ApprovalServiceStub(channel(addrs["approval"]))
        registry.UpsertOrg(ORG, timeout=10)
        registry.PutForm(rpb.PutFormRequest(
            request_id="form-crm", key="crm", title="CRM 报备",
            fields=[rpb.FormField(key="n", label="备注", type="text")],
            settings=rpb.FormSettings(protection_days=30, protection_remind_days=5)), timeout=10)
        approval.PutPolicy(apb.PutPolicyRequest(
            request_id="policy-crm", key="crm", form_key="crm",
            steps=[apb.PolicyStep(name="组长审批", approvers=apb.Approvers(type="manager_of_submitter"), mode="any")],
        ), timeout=10)
        channels = [aio_channel(addrs[n]) for n in SERVICES]
        stubs = Stubs(registry=RegistryServiceStub(channels[0]), approval=ApprovalServiceStub(channels[1]),
                      notify=NotifyServiceStub(channels[2]), reporting=ReportingServiceStub(channels[3]),
                      acceptance=AcceptanceServiceStub(channels[0]), change=ChangeServiceStub(channels[0]))
        try:
            async with build_worker(env.client, settings, stubs=stubs, task_queue=task_queue):
                yield Stack(client=env.client, task_queue=task_queue, registry=registry, approval=approval,
                            notify=NotifyServiceStub(channel(addrs["notify"])),
                            reporting=ReportingServiceStub(channel(addrs["reporting"])),
                            acceptance=AcceptanceServiceStub(channel(addrs["registry"])),
                            change=ChangeServiceStub(channel(addrs["registry"])),
                            notices=NoticeRelay(stubs.approval, stubs.notify, stubs.registry,
                                                rpc_timeout=settings.rpc_timeout))
        finally:
            for ch in channels:
                await ch.close()
    finally:
        services.close()


async def run_saga(stack: Stack, project_id: str, reason: str) -> CrmLostResult:
    result: CrmLostResult = await stack.client.execute_workflow(
        CRM_LOST_WORKFLOW_TYPE, CrmLostInput(project_id=project_id, external_id=f"opp-{project_id}", reason=reason,
                                             actor_id="crm"),
        id=crm_lost_workflow_id(project_id), task_queue=stack.task_queue, result_type=CrmLostResult,
        execution_timeout=timedelta(hours=1),
    )
    return result


@pytest.mark.timeout(120)
async def test_lost_opportunity_withdraws_cancels_and_promotes(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        customer = "上海临港智造有限公司"
        a = await asyncio.to_thread(stack.create, "sales1", "临港一期", customer)
        lifecycle = await stack.lifecycle(a, "sales1")
        assert [t.project_id for t in await asyncio.to_thread(stack.todos, "lead")] == [a]
        # A second registration of the same customer waits behind it (候补).
        b = await asyncio.to_thread(stack.create, "sales2", "临港一期（重复）", customer)
        stack.registry.SubmitProject(rpb.SubmitProjectRequest(request_id=f"s-{b}", project_id=b, actor_id="sales2"),
                                     timeout=10)
        assert stack.project(a).protection.state == "holder"
        assert stack.project(b).protection.state == "waitlisted"

        result = await run_saga(stack, a, "客户选择了竞争对手")
        assert result.project_id == a
        assert result.status == "cancelled"
        assert result.steps == ["withdraw_approval", "cancel_registration", "release_protection"]

        # The lifecycle ran its own withdrawal and finished; the approval instance is cancelled and
        # audited with the owner, the crm channel and the reason; the approver's to-do is gone.
        assert await lifecycle.result() == LifecycleResult(project_id=a, status="cancelled")
        instance = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=a), timeout=10).instance
        assert instance.status == "cancelled"
        audit = [(d.user_id, d.action, d.channel, d.comment) for d in instance.actions]
        assert ("sales1", "withdraw", "crm", "商机丢失：客户选择了竞争对手") in audit, audit
        assert await asyncio.to_thread(stack.todos, "lead") == []
        got = stack.project(a)
        assert got.status == S.PROJECT_STATUS_CANCELLED
        assert got.protection.state == "released"
        # The next registration in line took over the customer.
        assert stack.project(b).protection.state == "holder"

        # Idempotent: a repeated "lost" event finds it done and changes nothing.
        again = await run_saga(stack, a, "客户选择了竞争对手")
        assert (again.status, again.steps) == ("cancelled", [])
        assert stack.project(b).protection.state == "holder"


@pytest.mark.timeout(120)
async def test_lost_opportunity_of_an_active_or_draft_registration(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        # Active (approved outside any lifecycle here): closed, its claim released.
        c = await asyncio.to_thread(stack.create, "sales1", "宝山仓储", "宝山物流有限公司")
        stack.registry.SubmitProject(rpb.SubmitProjectRequest(request_id=f"s-{c}", project_id=c, actor_id="sales1"),
                                     timeout=10)
        stack.registry.SetProjectStatus(rpb.SetProjectStatusRequest(
            request_id=f"a-{c}", project_id=c, status=S.PROJECT_STATUS_ACTIVE, actor_id="lead"), timeout=10)
        result = await run_saga(stack, c, "预算取消")
        assert (result.status, result.steps) == ("closed", ["close_registration", "release_protection"])
        closed = stack.project(c)
        assert closed.status == S.PROJECT_STATUS_CLOSED
        assert closed.protection.state == "released"

        # Draft with its lifecycle waiting for a submit: cancelled through the lifecycle, no approval.
        d = await asyncio.to_thread(stack.create, "sales2", "嘉定展厅", "嘉定汽车城有限公司")
        handle = await stack.client.start_workflow(
            WORKFLOW_TYPE, LifecycleInput(project_id=d, owner_id="sales2"), id=workflow_id(d),
            task_queue=stack.task_queue, result_type=LifecycleResult, execution_timeout=timedelta(days=1))

        async def created() -> bool:
            return (await state_of(handle)).stage == "draft" and bool((await state_of(handle)).project_id)

        await eventually(created)
        result = await run_saga(stack, d, "")
        assert (result.status, result.steps) == ("cancelled", ["cancel_registration"])
        assert await handle.result() == LifecycleResult(project_id=d, status="cancelled")


@pytest.mark.timeout(120)
async def test_lost_right_after_submit_cancels_the_approval_being_planned(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    """A CRM "lost" event may arrive while the lifecycle is still planning the chain: the
    withdrawal waits for the instance to exist and cancels it (no orphaned to-do)."""
    async with real_stack(env, make_db_url, tmp_path) as stack:
        for i in range(3):
            p = await asyncio.to_thread(stack.create, "sales1", f"即报即撤 {i}", f"闪退科技有限公司{i}")
            handle = await stack.client.start_workflow(
                WORKFLOW_TYPE, LifecycleInput(project_id=p, owner_id="sales1"), id=workflow_id(p),
                task_queue=stack.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                execution_timeout=timedelta(days=1), result_type=LifecycleResult,
            )
            await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="sales1"), result_type=SubmitResult)
            result = await run_saga(stack, p, "客户取消")  # no wait for the approvers
            assert result.status == "cancelled"
            assert await handle.result() == LifecycleResult(project_id=p, status="cancelled")
            instance = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=p), timeout=10).instance
            assert instance.status == "cancelled", (i, instance.status)
            assert [t.project_id for t in await asyncio.to_thread(stack.todos, "lead")] == []
