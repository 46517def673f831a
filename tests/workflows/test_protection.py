"""ProjectProtection on the time-skipping server against the real registry service: the owner is
reminded before the end, the protection lapses at the end (durable timers, no polling), the next
waitlisted registration is promoted and its own protection workflow starts; a lifecycle-started
child for a registration without protection ends at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.converter import DataConverter
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from baobei.core.grpc_client import aio_channel
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService, time_skipping_env
from tests.service.test_registry_service import ORG
from workflows.activities.registry import RegistryActivities
from workflows.contracts import search_attributes
from workflows.contracts.execution import EXECUTION_WORKFLOW_TYPE, ExecutionInput
from workflows.contracts.notify import NOTIFY_SEND, SendInput, SendResult
from workflows.contracts.protection import PROTECTION_WORKFLOW_TYPE, ProtectionInput, ProtectionResult
from workflows.contracts.registry import ProtectionStatus, StartDeliveryInput
from workflows.contracts.tasks import ProtectionInfo
from workflows.protection import ProjectProtection

pytestmark = pytest.mark.asyncio(loop_scope="module")
S = pb.ProjectStatus


@pytest.fixture()
def registry(start_service: StartService, tmp_path: Any) -> Any:
    return registry_with_forms(start_service, tmp_path)


def registry_with_forms(start_service: StartService, tmp_path: Any) -> tuple[Any, str]:
    """A registry with a form that keeps a protection period ("prot") and one that does not."""
    svc = start_service("registry", attachments_dir=tmp_path)
    stub = pb_grpc.RegistryServiceStub(svc.channel)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(pb.PutFormRequest(
        request_id="f", key="prot", title="保护", fields=[pb.FormField(key="n", label="备注", type="text")],
        settings=pb.FormSettings(protection_days=30, protection_remind_days=5)), timeout=10)
    stub.PutForm(pb.PutFormRequest(request_id="g", key="plain", title="普通",
                                   fields=[pb.FormField(key="n", label="备注", type="text")]), timeout=10)
    return stub, svc.addr


sent: list[SendInput] = []


@activity.defn(name=NOTIFY_SEND)
async def fake_send(inp: SendInput) -> SendResult:
    if all(s.request_id != inp.request_id for s in sent):
        sent.append(inp)
    return SendResult(notification_ids=[inp.request_id])


def register(stub: Any, n: int, form: str = "prot") -> str:
    p = stub.CreateProject(pb.CreateProjectRequest(
        request_id=f"c{n}-{uuid.uuid4().hex[:6]}", owner_id="sales1", form_key=form, name=f"项目{n}", amount="1",
        customer=pb.Customer(name=f"宁波海{form}科技有限公司")), timeout=10).project
    stub.SubmitProject(pb.SubmitProjectRequest(request_id=f"s{p.id}", project_id=p.id, actor_id="sales1"),
                       timeout=10)
    stub.SetProjectStatus(pb.SetProjectStatusRequest(request_id=f"a{p.id}", project_id=p.id,
                                                     status=S.PROJECT_STATUS_ACTIVE, actor_id="boss"), timeout=10)
    return p.id


async def test_remind_lapse_promote(env: WorkflowEnvironment, registry: Any) -> None:
    stub, addr = registry
    a, b = register(stub, 1), register(stub, 2)  # b is approved too, but waits behind a (候补)
    ch = aio_channel(addr)
    acts = RegistryActivities(pb_grpc.RegistryServiceStub(ch), temporal=env.client)
    tq = f"prot-{uuid.uuid4().hex[:6]}"
    sent.clear()
    async with Worker(env.client, task_queue=tq, workflows=[ProjectProtection],
                      activities=[acts.start_protection, acts.expire_protection, fake_send]):
        waiting = await env.client.execute_workflow(
            PROTECTION_WORKFLOW_TYPE, ProtectionInput(project_id=b), id=f"protection-{b}", task_queue=tq,
            result_type=ProtectionResult, execution_timeout=timedelta(days=400))
        assert waiting.state == "waitlisted"  # ends at once; the promotion restarts it
        result = await env.client.execute_workflow(
            PROTECTION_WORKFLOW_TYPE, ProtectionInput(project_id=a), id=f"protection-{a}", task_queue=tq,
            result_type=ProtectionResult, execution_timeout=timedelta(days=400))
        assert (result.state, result.reminders, result.promoted) == ("lapsed", 1, [b])
        assert [s.kind for s in sent] == ["protection_expiring", "protection_lapsed"]
        assert get_protection(stub, a).state == "lapsed"
        promoted = get_protection(stub, b)
        assert promoted.state == "protected"
        # b's own protection workflow was started by a's and runs to its own end.
        desc = await env.client.get_workflow_handle(f"protection-{b}").describe()
        assert desc.parent_id == f"protection-{a}"
        handle = env.client.get_workflow_handle(f"protection-{b}", run_id=desc.run_id)
        for _ in range(100):  # until its first activity has answered
            st = await handle.query("state", result_type=ProtectionStatus)
            if st.state != "none":
                break
            await asyncio.sleep(0.1)
        assert st.state == "protected" and st.until
        # Started by a promotion that named only the project id, it set BaobeiCode itself.
        code = stub.GetProject(pb.GetProjectRequest(project_id=b), timeout=10).project.code
        assert code.startswith("BB-")
        labelled = await handle.describe()
        assert labelled.typed_search_attributes.get(search_attributes.CODE) == code
        plain = register(stub, 3, form="plain")
        none = await env.client.execute_workflow(
            PROTECTION_WORKFLOW_TYPE, ProtectionInput(project_id=plain), id=f"protection-{plain}", task_queue=tq,
            result_type=ProtectionResult, execution_timeout=timedelta(days=1))
        assert none.state == "none"
    await ch.close()


@workflow.defn(name=EXECUTION_WORKFLOW_TYPE, sandboxed=False)
class ExecutionStandIn:
    """Keeps the ProjectExecution the delivery start launches waiting (its loop is tested in
    test_execution*.py); the test reads the input it was started with."""

    @workflow.run
    async def run(self, inp: ExecutionInput) -> None:
        await workflow.wait_condition(lambda: False)


async def test_delivery_start_starts_protection_only_with_a_period(registry: Any) -> None:
    """The lifecycle's one local activity at approval (``lifecycle.StartDelivery``): the registry
    starts the period, ProjectExecution learns it from its input, ProjectProtection keeps time from
    the registry's answer without asking again — and a project without a period gets no
    protection workflow at all. A retry changes nothing. (Its own test server: the other test
    leaves a promoted protection running on a queue nobody polls, which stops time skipping.)"""
    async with time_skipping_env() as env:
        await _delivery_start(env, registry)


async def _delivery_start(env: WorkflowEnvironment, registry: Any) -> None:
    stub, addr = registry
    protected, plain = register(stub, 4), register(stub, 5, form="plain")
    ch = aio_channel(addr)
    tq = f"deliv-{uuid.uuid4().hex[:6]}"
    acts = RegistryActivities(pb_grpc.RegistryServiceStub(ch), temporal=env.client, task_queue=tq)
    sent.clear()
    at = (await env.get_current_time()).isoformat()
    async with Worker(env.client, task_queue=tq, workflows=[ProjectProtection, ExecutionStandIn],
                      activities=[acts.start_protection, acts.expire_protection, fake_send]):
        def start_input(pid: str) -> StartDeliveryInput:
            return StartDeliveryInput(request_id=f"project-{pid}:delivery:start", project_id=pid, owner_id="sales1",
                                      at=at, code=f"BB-{pid}", name="项目")

        first = await ActivityEnvironment().run(acts.start_delivery, start_input(protected))
        assert (first.protection_state, first.execution_started, first.protection_started) == (
            "protected", True, True)
        again = await ActivityEnvironment().run(acts.start_delivery, start_input(protected))
        assert (again.protection_state, again.until, again.execution_started, again.protection_started) == (
            "protected", first.until, False, False)
        assert get_protection(stub, protected).state == "protected"

        execution = env.client.get_workflow_handle(f"execution-{protected}")
        history = await execution.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        given = await DataConverter.default.decode(started.input.payloads, [ExecutionInput])
        assert given[0].protection == ProtectionInfo(state="protected", until=first.until)

        protection = env.client.get_workflow_handle(f"protection-{protected}", result_type=ProtectionResult)
        await env.sleep(timedelta(days=100))  # past the reminder and the end (30 days)
        result = await protection.result()
        assert (result.state, result.reminders) == ("lapsed", 1)
        assert [s.kind for s in sent] == ["protection_expiring", "protection_lapsed"]
        markers = [e.marker_recorded_event_attributes for e in (await protection.fetch_history()).events
                   if e.HasField("marker_recorded_event_attributes")]
        types = {str(json.loads(m.details["data"].payloads[0].data).get("activity_type", "")) for m in markers
                 if "data" in m.details}
        assert "registry.StartProtection" not in types and "registry.ExpireProtection" in types

        none = await ActivityEnvironment().run(acts.start_delivery, start_input(plain))
        assert (none.protection_state, none.execution_started, none.protection_started) == ("none", True, False)
        with pytest.raises(RPCError):
            await env.client.get_workflow_handle(f"protection-{plain}").describe()
        for pid in (protected, plain):
            await env.client.get_workflow_handle(f"execution-{pid}").terminate("test done")
    await ch.close()


def get_protection(stub: Any, pid: str) -> pb.Protection:
    return stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=10).project.protection


__all__ = ["WorkflowFailureError"]
