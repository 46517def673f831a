"""AcceptanceService over real gRPC (the registry process): checklists; who may read and act (the
registry decides with the viewer: NOT_FOUND for who cannot see the project, PERMISSION_DENIED for
who sees it but is neither its owner nor an admin); only an active project, one pending request;
missing deliverables named; documents join the pending request or the next; settling is
idempotent and final."""

from __future__ import annotations

import grpc
import pytest

from baobei.registry.v1 import acceptance_service_pb2 as apb
from baobei.registry.v1 import acceptance_service_pb2_grpc as apb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_service import FORM, ORG, create, fails

Stubs = tuple[pb_grpc.RegistryServiceStub, apb_grpc.AcceptanceServiceStub]
LINE = "系统集成"


@pytest.fixture()
def stubs(start_service: StartService) -> Stubs:
    svc = start_service("registry")
    registry = pb_grpc.RegistryServiceStub(svc.channel)
    registry.UpsertOrg(ORG, timeout=10)
    registry.PutForm(FORM, timeout=10)
    return registry, apb_grpc.AcceptanceServiceStub(svc.channel)


def active(registry: pb_grpc.RegistryServiceStub) -> pb.Project:
    p = create(registry, owner_id="sales1", business_line=LINE)
    registry.SubmitProject(pb.SubmitProjectRequest(request_id=f"s-{p.id}", project_id=p.id, actor_id="sales1"),
                           timeout=10)
    registry.SetProjectStatus(pb.SetProjectStatusRequest(
        request_id=f"a-{p.id}", project_id=p.id, status=pb.PROJECT_STATUS_ACTIVE, actor_id="lead"), timeout=10)
    return p


def opening(project_id: str, viewer: str, *states: tuple[str, bool], request_id: str = "") -> apb.OpenRequestRequest:
    return apb.OpenRequestRequest(
        request_id=request_id or f"o-{project_id}-{viewer}-{len(states)}", project_id=project_id,
        viewer=pb.Viewer(user_id=viewer, is_admin=viewer == "admin"), actor_id=viewer, policy_key="acceptance",
        deliverables=[apb.DeliverableState(key=k, done=d) for k, d in states])


def test_checklist_access_and_requests(stubs: Stubs) -> None:
    registry, acc = stubs
    put = acc.PutChecklist(apb.PutChecklistRequest(business_line=LINE, actor_id="admin", items=[
        apb.ChecklistItem(key="report", name="实施报告", required=True),
        apb.ChecklistItem(key="signoff", name="客户签字验收单", required=True, needs_document=True),
    ]), timeout=10).checklist
    assert (put.configured, put.version, [i.key for i in put.items]) == (True, 1, ["report", "signoff"])
    assert acc.GetChecklist(apb.GetChecklistRequest(business_line="其他"), timeout=10).checklist.configured is False

    draft = create(registry, owner_id="sales1", business_line=LINE)
    fails(acc.OpenRequest, opening(draft.id, "sales1"), grpc.StatusCode.FAILED_PRECONDITION)
    p = active(registry)
    # Someone who cannot see the project: NOT_FOUND; who sees it (the owner's manager) but does not
    # own it: PERMISSION_DENIED — for reading, opening and documents alike.
    fails(acc.GetAcceptance, apb.GetAcceptanceRequest(project_id=p.id, viewer=pb.Viewer(user_id="mgr_bj")),
          grpc.StatusCode.NOT_FOUND)
    fails(acc.OpenRequest, opening(p.id, "mgr_bj"), grpc.StatusCode.NOT_FOUND)
    fails(acc.OpenRequest, opening(p.id, "lead"), grpc.StatusCode.PERMISSION_DENIED)
    doc = apb.AcceptanceDocument(attachment_id="sha256:abc", filename="签字.pdf", deliverable_key="signoff")
    fails(acc.AddDocument, apb.AddDocumentRequest(project_id=p.id, document=doc, viewer=pb.Viewer(user_id="lead")),
          grpc.StatusCode.PERMISSION_DENIED)

    failure = fails(acc.OpenRequest, opening(p.id, "sales1", ("report", True)), grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["deliverables.signoff"]
    failure = fails(acc.OpenRequest, opening(p.id, "sales1", ("report", True), ("signoff", True)),
                    grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["documents.signoff"]

    acc.AddDocument(apb.AddDocumentRequest(project_id=p.id, document=doc, viewer=pb.Viewer(user_id="sales1")),
                    timeout=10)
    got = acc.GetAcceptance(apb.GetAcceptanceRequest(project_id=p.id, viewer=pb.Viewer(user_id="lead")), timeout=10)
    assert got.checklist.business_line == LINE and [d.attachment_id for d in got.unattached] == ["sha256:abc"]
    first = acc.OpenRequest(opening(p.id, "sales1", ("report", True), ("signoff", True), request_id="r1"),
                            timeout=10).request
    assert (first.seq, first.status, [d.attachment_id for d in first.documents]) == (1, "pending", ["sha256:abc"])
    # Idempotent on the request id; a second request while one is pending is refused.
    again = acc.OpenRequest(opening(p.id, "sales1", ("report", True), ("signoff", True), request_id="r1"), timeout=10)
    assert again.request.id == first.id
    fails(acc.OpenRequest, opening(p.id, "sales1", ("report", True), ("signoff", True), request_id="r2"),
          grpc.StatusCode.FAILED_PRECONDITION)

    settle = apb.SettleRequestRequest(request_id="st1", acceptance_id=first.id, status="rejected", actor_id="qa",
                                      reason="缺少公章")
    assert acc.SettleRequest(settle, timeout=10).request.status == "rejected"
    assert acc.SettleRequest(settle, timeout=10).request.reason == "缺少公章"
    fails(acc.SettleRequest, apb.SettleRequestRequest(request_id="st2", acceptance_id=first.id, status="accepted"),
          grpc.StatusCode.FAILED_PRECONDITION)
    # The next request needs its own sign-off (the first one's stays with it).
    fails(acc.OpenRequest, opening(p.id, "sales1", ("report", True), ("signoff", True), request_id="r3"),
          grpc.StatusCode.INVALID_ARGUMENT)
    acc.AddDocument(apb.AddDocumentRequest(project_id=p.id, document=doc), timeout=10)  # internal caller
    second = acc.OpenRequest(opening(p.id, "admin", ("report", True), ("signoff", True), request_id="r4"),
                             timeout=10).request
    assert second.seq == 2
    got = acc.GetAcceptance(apb.GetAcceptanceRequest(project_id=p.id), timeout=10)
    assert [(r.seq, r.status) for r in got.requests] == [(2, "pending"), (1, "rejected")]
