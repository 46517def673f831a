"""``lifecycle.Finish`` (issue 15, patch ``finish-in-one``) against the real registry and notify
services: the approval's end — the final status, an approved project's delivery start and the
owner's notice — in one activity, each step once however often the activity is retried; the
approval starts the protection period in the same registry call (no StartProtection call of its
own, counted by the registry's gRPC metrics), also when retrying a Finish the older code began."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowInput, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from baobei.core.grpc_client import aio_channel
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService, time_skipping_env
from tests.workflows.test_protection import ExecutionStandIn, get_protection, registry_with_forms
from workflows.activities.finish import FinishActivities
from workflows.activities.notify import NotifyActivities
from workflows.activities.registry import RegistryActivities
from workflows.contracts.execution import ExecutionInput
from workflows.contracts.finish import FinishInput
from workflows.contracts.notify import SendInput
from workflows.contracts.registry import ProtectionCheckInput, SetProjectStatusInput, StartDeliveryInput

pytestmark = pytest.mark.asyncio(loop_scope="module")
S = pb.ProjectStatus


def handled(method: str) -> float:
    """Registry calls answered (any status), from the service's gRPC metrics (in this process)."""
    return sum(REGISTRY.get_sample_value("baobei_grpc_server_handled_total", {
        "grpc_service": "baobei.registry.v1.RegistryService", "grpc_method": method, "grpc_code": code}) or 0.0
        for code in ("OK", "INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "INTERNAL", "UNAVAILABLE"))


def calls() -> dict[str, float]:
    return {m: handled(m) for m in ("SetProjectStatus", "StartProtection")}


def history_events(stub: Any, pid: str) -> list[str]:
    return [h.event for h in stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=10).project.history]


async def execution_input(env: Any, pid: str) -> ExecutionInput:
    history = await env.client.get_workflow_handle(f"execution-{pid}").fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [given] = await env.client.data_converter.decode(started.input.payloads, [ExecutionInput])
    assert isinstance(given, ExecutionInput)
    return given


@pytest.fixture()
def services(start_service: StartService, tmp_path: Any) -> Any:
    stub, addr = registry_with_forms(start_service, tmp_path)
    notify = start_service("notify", registry_addr=addr, redis_url="")
    return stub, addr, npb_grpc.NotifyServiceStub(notify.channel), notify.addr


class StartRecorder(Interceptor):
    """Records the workflow starts a client makes: (workflow type, eager start requested)."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, bool]] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        recorder = self

        class Outbound(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
                recorder.starts.append((input.workflow, input.request_eager_start))
                return await super().start_workflow(input)

        return Outbound(next)


def pending(stub: Any, n: int) -> str:
    p = stub.CreateProject(pb.CreateProjectRequest(
        request_id=f"c{n}-{uuid.uuid4().hex[:6]}", owner_id="sales1", form_key="prot", name=f"收尾项目{n}",
        amount="1", customer=pb.Customer(name=f"收尾客户{uuid.uuid4().hex[:8]}")), timeout=10).project
    stub.SubmitProject(pb.SubmitProjectRequest(request_id=f"s{p.id}", project_id=p.id, actor_id="sales1"),
                       timeout=10)
    return str(p.id)


def finish_input(pid: str, *, approved: bool, at: str) -> FinishInput:
    wid = f"project-{pid}"
    status, event, kind = ("active", "approved", "project_approved") if approved else (
        "rejected", "rejected", "project_rejected")
    return FinishInput(
        status=SetProjectStatusInput(request_id=f"{wid}:status:1:{status}", project_id=pid, status=status,
                                     actor_id="boss", event=event, comment="同意" if approved else "不同意"),
        notice=SendInput(request_id=f"{wid}:notify:1:{kind}", recipient_ids=["sales1"], kind=kind, title="",
                         project_id=pid, context={"project_id": pid, "name": "收尾项目"}),
        delivery=StartDeliveryInput(request_id=f"{wid}:delivery:start", project_id=pid, owner_id="sales1", at=at,
                                    code="", name="收尾项目") if approved else None,
    )


async def test_finish_records_status_starts_delivery_and_tells_the_owner_once(services: Any) -> None:
    stub, registry_addr, notify_stub, notify_addr = services
    rch, nch = aio_channel(registry_addr), aio_channel(notify_addr)
    async with time_skipping_env() as env:
        tq = f"finish-{uuid.uuid4().hex[:6]}"
        # The activity starts the delivery workflows with the worker's own client.
        recorder = StartRecorder()
        client = Client(env.client.service_client, namespace=env.client.namespace, interceptors=[recorder])
        registry = RegistryActivities(pb_grpc.RegistryServiceStub(rch), temporal=client, task_queue=tq)
        notify = NotifyActivities(npb_grpc.NotifyServiceStub(nch), registry=pb_grpc.RegistryServiceStub(rch))
        acts = FinishActivities(registry, notify)
        at = (await env.get_current_time()).isoformat()
        approved, rejected = pending(stub, 1), pending(stub, 2)
        async with Worker(env.client, task_queue=tq, workflows=[ExecutionStandIn]):
            before = calls()
            first = await ActivityEnvironment().run(acts.finish, finish_input(approved, approved=True, at=at))
            # The protection period started in the approval's SetProjectStatus: no call of its own.
            assert calls() == {"SetProjectStatus": before["SetProjectStatus"] + 1,
                               "StartProtection": before["StartProtection"]}
            # A retried activity (a crash after any of its steps) repeats none of them.
            again = await ActivityEnvironment().run(acts.finish, finish_input(approved, approved=True, at=at))
            assert first.status == again.status == "active"
            assert calls()["StartProtection"] == before["StartProtection"]
            project = stub.GetProject(pb.GetProjectRequest(project_id=approved), timeout=10).project
            assert project.status == S.PROJECT_STATUS_ACTIVE
            assert project.protection.state == "protected"
            assert project.protection.until.ToDatetime() == datetime.fromisoformat(at).replace(
                tzinfo=None) + timedelta(days=30)
            assert [h.event for h in project.history].count("protection.started") == 1
            # The execution workflow knows the period the registry started.
            given = await execution_input(env, approved)
            assert given.protection is not None and given.protection.state == "protected"
            assert datetime.fromisoformat(given.protection.until) == project.protection.until.ToDatetime(
                tzinfo=datetime.fromisoformat(at).tzinfo)
            assert (await env.client.get_workflow_handle(f"execution-{approved}").describe()).run_id
            # Eager start: the server hands the new workflow's first task straight back to this
            # worker's client (no task-queue round trip) when that client's worker has a free slot.
            assert set(recorder.starts) == {("ProjectExecution", True), ("ProjectProtection", True)}
            await env.client.get_workflow_handle(f"execution-{approved}").terminate("test done")

            done = await ActivityEnvironment().run(acts.finish, finish_input(rejected, approved=False, at=at))
            assert done.status == "rejected"
            with pytest.raises(RPCError):  # a rejected project gets no delivery
                await env.client.get_workflow_handle(f"execution-{rejected}").describe()

        inbox = notify_stub.ListInbox(npb.ListInboxRequest(user_id="sales1", limit=50), timeout=10).items
        kinds = sorted((n.kind, n.project_id) for n in inbox)
        assert kinds == sorted([("project_approved", approved), ("project_rejected", rejected)])
    await rch.close()
    await nch.close()


async def test_a_finish_begun_by_the_older_code_is_completed_from_the_registrys_stored_answers(
    services: Any,
) -> None:
    """The older Finish called SetProjectStatus, then (in start_delivery) StartProtection with the
    delivery's request id, and the worker died before the delivery workflows started: the retry,
    by this code, gets both stored answers in its one call and starts the delivery from them."""
    stub, registry_addr, notify_stub, notify_addr = services
    rch, nch = aio_channel(registry_addr), aio_channel(notify_addr)
    async with time_skipping_env() as env:
        tq = f"finish-old-{uuid.uuid4().hex[:6]}"
        registry = RegistryActivities(pb_grpc.RegistryServiceStub(rch), temporal=env.client, task_queue=tq)
        notify = NotifyActivities(npb_grpc.NotifyServiceStub(nch), registry=pb_grpc.RegistryServiceStub(rch))
        acts = FinishActivities(registry, notify)
        at = (await env.get_current_time()).isoformat()
        pid = pending(stub, 3)
        inp = finish_input(pid, approved=True, at=at)
        assert inp.delivery is not None
        # The older code's first steps (its own calls, as start_delivery made them).
        await ActivityEnvironment().run(registry.set_project_status, inp.status)
        old = await ActivityEnvironment().run(registry.start_protection, ProtectionCheckInput(
            request_id=inp.delivery.request_id, project_id=pid, at=at))
        assert old.state == "protected"
        trail = history_events(stub, pid)
        async with Worker(env.client, task_queue=tq, workflows=[ExecutionStandIn]):
            before = calls()
            done = await ActivityEnvironment().run(acts.finish, inp)
            assert done.status == "active"
            assert calls() == {"SetProjectStatus": before["SetProjectStatus"] + 1,
                               "StartProtection": before["StartProtection"]}
            # Nothing changed again in the registry; the delivery started from the stored answer.
            assert history_events(stub, pid) == trail and trail.count("protection.started") == 1
            assert get_protection(stub, pid).until.ToDatetime(tzinfo=datetime.fromisoformat(at).tzinfo) == \
                datetime.fromisoformat(old.until)
            given = await execution_input(env, pid)
            assert given.protection is not None and (given.protection.state, given.protection.until) == (
                "protected", old.until)
            assert (await env.client.get_workflow_handle(f"protection-{pid}").describe()).run_id
            await env.client.get_workflow_handle(f"execution-{pid}").terminate("test done")
            await env.client.get_workflow_handle(f"protection-{pid}").terminate("test done")
        inbox = notify_stub.ListInbox(npb.ListInboxRequest(user_id="sales1", limit=50), timeout=10).items
        assert [(n.kind, n.project_id) for n in inbox if n.project_id == pid] == [("project_approved", pid)]
    await rch.close()
    await nch.close()
