"""A project colliding (撞单) with more than MAX_WORKFLOW_CONFLICTS live registrations, found by
the real registry over gRPC: what the registry activities hand the workflow (and the edge's start
input, the same mapping) carries the most similar ones only, with the exact count; the registry
itself keeps and answers them all."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.converter import DataConverter
from temporalio.testing import ActivityEnvironment

from baobei.core.grpc_client import aio_channel
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from baobei.reporting_facts import registry_facts
from tests.conftest import StartService
from tests.service.test_registry_service import ORG
from workflows.activities.registry import RegistryActivities
from workflows.contracts.project_snapshot import MAX_WORKFLOW_CONFLICTS, project_snapshot
from workflows.contracts.registry import GetProjectInput, SubmitProjectInput

pytestmark = pytest.mark.asyncio(loop_scope="module")

CUSTOMER = pb.Customer(name="星辰科技有限公司")
OURS = "智慧园区二期建设"


@pytest.fixture()
def registry(start_service: StartService, tmp_path: Any) -> Any:
    svc = start_service("registry", attachments_dir=tmp_path)
    stub = pb_grpc.RegistryServiceStub(svc.channel)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(pb.PutFormRequest(request_id="f", key="plain", title="普通",
                                   fields=[pb.FormField(key="n", label="备注", type="text")]), timeout=10)
    return stub, svc.addr


def create(stub: Any, name: str) -> pb.Project:
    return stub.CreateProject(pb.CreateProjectRequest(
        request_id=f"c-{uuid.uuid4().hex}", owner_id="sales1", form_key="plain", name=name, amount="1",
        customer=CUSTOMER), timeout=10).project


def live(stub: Any, name: str) -> str:
    p = create(stub, name)
    stub.SubmitProject(pb.SubmitProjectRequest(request_id=f"s{p.id}", project_id=p.id, actor_id="sales1"),
                       timeout=10)
    return p.id


async def test_more_conflicts_than_the_bound(registry: Any) -> None:
    stub, addr = registry
    # Same customer: each collides (score 100); the three newest also share our project's name
    # (score 200), so the most similar sit past the bound in the registry's (oldest-first) order.
    plain = [live(stub, f"机房运维{i}") for i in range(MAX_WORKFLOW_CONFLICTS + 2)]
    twins = [live(stub, OURS) for _ in range(3)]
    total = len(plain) + len(twins)

    ours = create(stub, OURS)
    assert len(ours.conflicts) == total  # the registry keeps them all
    start_input = project_snapshot(ours)  # what the edge hands the new lifecycle
    assert start_input.conflict_count == total and len(start_input.conflicts) == MAX_WORKFLOW_CONFLICTS

    acts = RegistryActivities(pb_grpc.RegistryServiceStub(aio_channel(addr)))
    submitted = await ActivityEnvironment().run(acts.submit_project, SubmitProjectInput(
        request_id=f"s{ours.id}", project_id=ours.id, actor_id="sales1"))
    read = await ActivityEnvironment().run(acts.get_project, GetProjectInput(project_id=ours.id))
    for snap in (start_input, submitted, read):
        assert snap.conflict_count == total
        ids = [c["project_id"] for c in snap.conflicts]
        assert len(ids) == MAX_WORKFLOW_CONFLICTS
        # The most similar first (in registry order among equals), then the oldest others.
        assert ids == twins + plain[:MAX_WORKFLOW_CONFLICTS - len(twins)]
        assert "同一客户的项目名称相似" in snap.conflicts[0]["reason"]

    full = stub.GetProject(pb.GetProjectRequest(project_id=ours.id), timeout=10).project
    assert [c.project_id for c in full.conflicts] == plain + twins
    assert [c.score for c in full.conflicts] == [100.0] * len(plain) + [200.0] * len(twins)
    # The activity result's payload is bounded: ~20 entries, not one per live registration.
    payload = DataConverter.default.payload_converter.to_payloads([submitted])[0]
    assert len(payload.data) < 4_000
    assert full.conflict_count == total
    # Lists and notification reads carry the count only, however many conflicts there are; the
    # reporting facts built from a list item keep the exact count.
    admin = pb.Viewer(user_id="admin", is_admin=True)
    listed = stub.ListProjects(pb.ListProjectsRequest(viewer=admin, limit=100), timeout=10).items
    item = next(p for p in listed if p.id == ours.id)
    assert (len(item.conflicts), item.conflict_count) == (0, total)
    assert registry_facts(item).conflict_count == total
    redacted = stub.RecipientRedactions(pb.RecipientRedactionsRequest(project_id=ours.id, user_ids=["sales1"]),
                                        timeout=10).project
    assert (len(redacted.conflicts), redacted.conflict_count) == (0, total)
    assert project_snapshot(item).conflict_count == total
