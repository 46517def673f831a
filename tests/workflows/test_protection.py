"""ProjectProtection on the time-skipping server against the real registry service: the owner is
reminded before the end, the protection lapses at the end (durable timers, no polling), the next
waitlisted registration is promoted and its own protection workflow starts; a lifecycle-started
child for a registration without protection ends at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from baobei.core.grpc_client import aio_channel
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_service import ORG
from workflows.activities.registry import RegistryActivities
from workflows.contracts import search_attributes
from workflows.contracts.notify import NOTIFY_SEND, SendInput, SendResult
from workflows.contracts.protection import PROTECTION_WORKFLOW_TYPE, ProtectionInput, ProtectionResult
from workflows.contracts.registry import ProtectionStatus
from workflows.protection import ProjectProtection

pytestmark = pytest.mark.asyncio(loop_scope="module")
S = pb.ProjectStatus


@pytest.fixture()
def registry(start_service: StartService, tmp_path: Any) -> Any:
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


def get_protection(stub: Any, pid: str) -> pb.Protection:
    return stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=10).project.protection


__all__ = ["WorkflowFailureError"]
