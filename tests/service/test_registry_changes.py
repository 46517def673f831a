"""ChangeService over real gRPC (the registry process): a change of an active project validated
against its form version (violations named under `changes.`), write_roles (PERMISSION_DENIED),
nothing changed (INVALID_ARGUMENT `changes`), one pending at a time; who may read (NOT_FOUND for who
cannot see the project) and what (the diff without the paths the viewer may not read); settling:
rejected applies nothing, approved applies in one transaction with history `changed` and an audit
event; idempotent and final."""

from __future__ import annotations

import grpc
import pytest

from baobei.registry.v1 import audit_service_pb2 as aud
from baobei.registry.v1 import audit_service_pb2_grpc as aud_grpc
from baobei.registry.v1 import change_service_pb2 as cpb
from baobei.registry.v1 import change_service_pb2_grpc as cpb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_acceptance import active
from tests.service.test_registry_service import FORM, ORG, create, fails, struct

Stubs = tuple[pb_grpc.RegistryServiceStub, cpb_grpc.ChangeServiceStub, aud_grpc.AuditServiceStub]


@pytest.fixture()
def stubs(start_service: StartService) -> Stubs:
    svc = start_service("registry")
    registry = pb_grpc.RegistryServiceStub(svc.channel)
    registry.UpsertOrg(ORG, timeout=10)
    registry.PutForm(FORM, timeout=10)
    return registry, cpb_grpc.ChangeServiceStub(svc.channel), aud_grpc.AuditServiceStub(svc.channel)


def opening(project_id: str, actor: str, changes: dict[str, object], reason: str = "客户追加",
            roles: tuple[str, ...] = ()) -> cpb.OpenChangeRequest:
    return cpb.OpenChangeRequest(
        request_id=f"o-{project_id}-{actor}-{sorted(changes)}-{reason}", project_id=project_id, actor_id=actor,
        actor_is_admin=actor == "admin", actor_roles=list(roles), changes=struct(changes), reason=reason,
        viewer=pb.Viewer(user_id=actor, is_admin=actor == "admin", roles=list(roles)))


def test_open_read_settle(stubs: Stubs) -> None:
    registry, chg, audit = stubs
    draft = create(registry, owner_id="sales1")
    fails(chg.OpenChange, opening(draft.id, "sales1", {"amount": "2000"}), grpc.StatusCode.FAILED_PRECONDITION)
    p = active(registry)
    fails(chg.OpenChange, opening(p.id, "mgr_bj", {"amount": "2000"}), grpc.StatusCode.NOT_FOUND)
    fails(chg.OpenChange, opening(p.id, "lead", {"amount": "2000"}), grpc.StatusCode.PERMISSION_DENIED)
    failure = fails(chg.OpenChange, opening(p.id, "sales1", {"fields": {"industry": "农业"}, "name": "x"}),
                    grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["changes.name"]
    failure = fails(chg.OpenChange, opening(p.id, "sales1", {"fields": {"industry": "农业"}}),
                    grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["changes.fields.industry"]
    failure = fails(chg.OpenChange, opening(p.id, "sales1", {"fields": {"floor_price": "10"}}),
                    grpc.StatusCode.PERMISSION_DENIED)
    assert [v.field for v in failure.violations] == ["changes.fields.floor_price"]
    failure = fails(chg.OpenChange, opening(p.id, "sales1", {"amount": "1000"}), grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["changes"]

    # An admin may write the restricted field; the owner's manager may not read it.
    first = chg.OpenChange(opening(p.id, "admin", {"amount": "5000", "fields": {"floor_price": "4000"}}),
                           timeout=10).change
    assert (first.seq, first.status, first.after_amount) == (1, "pending", "5000.00")
    assert [d.field for d in first.diff] == ["amount", "fields.floor_price"]
    fails(chg.OpenChange, opening(p.id, "sales1", {"amount": "6000"}), grpc.StatusCode.FAILED_PRECONDITION)
    seen = chg.GetChange(cpb.GetChangeRequest(change_id=first.id, viewer=pb.Viewer(user_id="lead", roles=["manager"])),
                         timeout=10).change
    assert [d.field for d in seen.diff] == ["amount"]
    assert "floor_price" not in dict(seen.changes.fields["fields"].struct_value.fields)
    fails(chg.GetChange, cpb.GetChangeRequest(change_id=first.id, viewer=pb.Viewer(user_id="mgr_bj")),
          grpc.StatusCode.NOT_FOUND)
    fails(chg.ListChanges, cpb.ListChangesRequest(project_id=p.id, viewer=pb.Viewer(user_id="mgr_bj")),
          grpc.StatusCode.NOT_FOUND)

    # Rejected: nothing applied; then final.
    reject = cpb.SettleChangeRequest(request_id="s1", change_id=first.id, status="rejected", actor_id="lead",
                                     reason="预算锁定")
    assert chg.SettleChange(reject, timeout=10).change.outcome_reason == "预算锁定"
    assert chg.SettleChange(reject, timeout=10).change.status == "rejected"
    fails(chg.SettleChange, cpb.SettleChangeRequest(request_id="s2", change_id=first.id, status="approved"),
          grpc.StatusCode.FAILED_PRECONDITION)
    got = registry.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project
    assert got.amount == "1000.00" and "changed" not in [h.event for h in got.history]

    # Approved: applied with a history entry and an audit event.
    second = chg.OpenChange(opening(p.id, "sales1", {"amount": "8000", "end_date": "2027-06-30"}), timeout=10).change
    done = chg.SettleChange(cpb.SettleChangeRequest(request_id="s3", change_id=second.id, status="approved",
                                                    actor_id="lead"), timeout=10).change
    got = registry.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project
    assert (got.amount, got.end_date, done.applied_version) == ("8000.00", "2027-06-30", got.version)
    changed = [h for h in got.history if h.event == "changed"]
    assert len(changed) == 1 and changed[0].actor == "lead"
    events = audit.List(aud.ListAuditRequest(action="project.changed", target_id=p.id), timeout=10).events
    assert [e.actor_id for e in events] == ["lead"]
    listed = chg.ListChanges(cpb.ListChangesRequest(project_id=p.id), timeout=10).changes
    assert [(c.seq, c.status) for c in listed] == [(2, "approved"), (1, "rejected")]
