"""Routing never picks a user who left, over real gRPC with the org read from a real registry:
role approvers skip them, manager_of_submitter walks up past a manager who left, a named
approver who left counts as no approver, and nothing is transferred or reassigned to them."""

from __future__ import annotations

import uuid

import grpc
import pytest
import sqlalchemy as sa

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core.db import make_engine
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from services.registry.mapping import USER_HAS_LEFT
from tests.conftest import StartService
from tests.service.test_approval_service import facts, fail, open_step, plan, put, rid, step

USERS = [
    rpb.User(id="ceo", name="CEO", department_id="hq", roles=["exec"]),
    rpb.User(id="boss", name="Boss", department_id="sales", roles=["sales_director"]),
    rpb.User(id="lead", name="Lead", department_id="east", roles=["sales"]),
    rpb.User(id="rep", name="Rep", department_id="east", roles=["sales"]),
    rpb.User(id="fin1", name="Fin 1", department_id="hq", roles=["finance"]),
    rpb.User(id="fin2", name="Fin 2", department_id="hq", roles=["finance"]),
    rpb.User(id="legal", name="Legal", department_id="hq", roles=["legal"]),
]
LEFT = ("lead", "fin1", "legal")


def mark_left(org: rpb_grpc.RegistryServiceStub, db_url: str, user_ids: tuple[str, ...]) -> None:
    if USER_HAS_LEFT:
        departed = []
        for u in USERS:
            if u.id in user_ids:
                copy = rpb.User()
                copy.CopyFrom(u)
                setattr(copy, "left", True)  # noqa: B010
                departed.append(copy)
        org.UpsertOrg(rpb.UpsertOrgRequest(request_id=rid(), users=departed), timeout=10)
        return
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text('UPDATE org_user SET "left" = :t WHERE id IN :ids')
                         .bindparams(sa.bindparam("ids", expanding=True)), {"t": True, "ids": list(user_ids)})
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def registry_addr(start_module_service: StartService) -> str:
    registry = start_module_service("registry")
    db_url = registry.db_url
    org = rpb_grpc.RegistryServiceStub(registry.channel)
    org.UpsertOrg(
        rpb.UpsertOrgRequest(
            request_id=uuid.uuid4().hex,
            departments=[
                rpb.Department(id="hq", name="总部", manager_id="ceo"),
                rpb.Department(id="sales", name="销售部", parent_id="hq", manager_id="boss"),
                rpb.Department(id="east", name="华东", parent_id="sales", manager_id="lead"),
            ],
            users=USERS,
        ),
        timeout=10,
    )
    mark_left(org, db_url, LEFT)
    return registry.addr


@pytest.fixture(scope="module")
def stub(start_module_service: StartService, registry_addr: str) -> pb_grpc.ApprovalServiceStub:
    return pb_grpc.ApprovalServiceStub(start_module_service("approval", registry_addr=registry_addr).channel)


def test_role_approvers_who_left_are_skipped(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "d-role", "d-role", step("财务", "role", role="finance", mode="all"))
    planned = plan(stub, facts("d-role"))
    assert list(planned.steps[0].approvers) == ["fin2"]
    opened = open_step(stub, planned.instance_id, 0)
    assert [t.approver_id for t in opened.tasks] == ["fin2"]


def test_manager_of_submitter_walks_past_a_manager_who_left(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "d-manager", "d-manager", step("经理", "manager_of_submitter"),
        pb.PolicyStep(name="逐级", approvers=pb.Approvers(type="managers_chain"), mode="all"))
    planned = plan(stub, facts("d-manager"), submitter="rep")
    assert list(planned.steps[0].approvers) == ["boss"]
    assert list(planned.steps[1].approvers) == ["boss", "ceo"]


def test_a_role_whose_holders_all_left_is_refused_in_new_policies(stub: pb_grpc.ApprovalServiceStub) -> None:
    req = pb.PutPolicyRequest(request_id=rid(), key="d-legal", form_key="d-legal",
                              steps=[step("法务", "role", role="legal")])
    code, _, fields = fail(lambda: stub.PutPolicy(req, timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"steps[0].approvers.role"}


@pytest.mark.skipif(not USER_HAS_LEFT, reason="registry proto has no User.left yet")
def test_a_named_approver_who_left_is_no_approver(stub: pb_grpc.ApprovalServiceStub) -> None:
    stub.PutPolicy(pb.PutPolicyRequest(
        request_id=rid(), key="d-named", form_key="d-named", steps=[step("财务一", user="fin1")],
        options=pb.PolicyOptions(on_no_approver="admin", approval_admin="ceo")), timeout=10)
    planned = plan(stub, facts("d-named"))
    assert list(planned.steps[0].approvers) == ["ceo"]


@pytest.mark.skipif(not USER_HAS_LEFT, reason="registry proto has no User.left yet")
def test_nothing_is_handed_to_a_user_who_left(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "d-transfer", "d-transfer", step("总监", user="boss"))
    planned = plan(stub, facts("d-transfer"))
    [task] = open_step(stub, planned.instance_id, 0).tasks
    req = pb.RecordDecisionRequest(request_id=rid(), task_id=task.id, actor_id="boss", action="transfer",
                                   to_user_id="fin1", channel="api")
    code, _, fields = fail(lambda: stub.RecordDecision(req, timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "to_user_id" in fields
    reassign = pb.ReassignStepRequest(request_id=rid(), instance_id=planned.instance_id, step_index=0,
                                      to_user_id="lead", actor_id="admin")
    assert fail(lambda: stub.ReassignStep(reassign, timeout=10))[0] == grpc.StatusCode.INVALID_ARGUMENT
