"""How many registry calls the approval service makes while planning, over real gRPC against a real
registry, counted by the registry's own gRPC metrics: one GetManagerChain answers the submitter's
record and chain together, and each read is made once per planning (PlanChain, Simulate,
ResumeInstance's re-plan, WhatIf), with the same chains as before — managers who left walked past,
department-scoped roles found in a department without a manager, holders who left skipped, an
unknown submitter planned with no approver. Nothing is kept between requests: an org change
applies to the next planning."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from google.protobuf import json_format

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core.metrics import GRPC_HANDLED
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from services.registry.mapping import USER_HAS_LEFT
from tests.conftest import StartService
from tests.service.test_approval_service import facts, instance, open_step, plan, put, rid, step

REGISTRY_SERVICE = "baobei.registry.v1.RegistryService"

# hq (ceo) ─ sales (boss) ─┬ east (lead)
#                          ├ west (gone, who left)
#                          └ lab (no manager)
DEPARTMENTS = [
    rpb.Department(id="hq", name="总部", manager_id="ceo"),
    rpb.Department(id="sales", name="销售部", parent_id="hq", manager_id="boss"),
    rpb.Department(id="east", name="华东", parent_id="sales", manager_id="lead"),
    rpb.Department(id="west", name="华西", parent_id="sales", manager_id="gone"),
    rpb.Department(id="lab", name="实验室", parent_id="sales"),
]
USERS = [
    rpb.User(id="ceo", name="CEO", department_id="hq", roles=["exec"]),
    rpb.User(id="boss", name="Boss", department_id="sales", roles=["sales_director"]),
    rpb.User(id="lead", name="Lead", department_id="east", roles=["sales"]),
    rpb.User(id="rep", name="Rep", department_id="east", roles=["sales"], region="east"),
    rpb.User(id="gone", name="Gone", department_id="west", roles=["sales"]),
    rpb.User(id="wrep", name="West rep", department_id="west", roles=["sales"]),
    rpb.User(id="tech", name="Tech", department_id="lab", roles=["engineer"], region="north"),
    rpb.User(id="qa_lab", name="QA lab", department_id="lab", roles=["qa"]),
    rpb.User(id="qa_left", name="QA left", department_id="lab", roles=["qa"]),
    rpb.User(id="qa_sales", name="QA sales", department_id="sales", roles=["qa"]),
    rpb.User(id="mover", name="Mover", department_id="east", roles=["sales"]),
]
LEFT = ("gone", "qa_left")


@pytest.fixture(scope="module")
def registry(start_module_service: StartService) -> Iterator[tuple[str, rpb_grpc.RegistryServiceStub]]:
    svc = start_module_service("registry")
    org = rpb_grpc.RegistryServiceStub(svc.channel)
    org.UpsertOrg(rpb.UpsertOrgRequest(request_id=rid(), departments=DEPARTMENTS, users=USERS), timeout=10)
    if USER_HAS_LEFT:
        departed = [rpb.User() for _ in LEFT]
        for copy, user_id in zip(departed, LEFT, strict=True):
            copy.CopyFrom(next(u for u in USERS if u.id == user_id))
            setattr(copy, "left", True)  # noqa: B010 - the field may be missing from older generated code
        org.UpsertOrg(rpb.UpsertOrgRequest(request_id=rid(), users=departed), timeout=10)
    yield svc.addr, org


@pytest.fixture(scope="module")
def stub(start_module_service: StartService,
         registry: tuple[str, rpb_grpc.RegistryServiceStub]) -> pb_grpc.ApprovalServiceStub:
    return pb_grpc.ApprovalServiceStub(start_module_service("approval", registry_addr=registry[0]).channel)


def _handled() -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for family in GRPC_HANDLED.collect():
        for s in family.samples:
            if s.name.endswith("_total") and s.labels["grpc_service"] == REGISTRY_SERVICE:
                out[(s.labels["grpc_method"], s.labels["grpc_code"])] += int(s.value)
    return out


@contextmanager
def registry_calls() -> Iterator[Counter[str]]:
    """The registry calls made inside the block, by method (any status), counted by the registry."""
    calls: Counter[str] = Counter()
    before = _handled()
    yield calls
    for (method, _), n in (_handled() - before).items():
        calls[method] += n


def policy(stub: pb_grpc.ApprovalServiceStub, *steps: pb.PolicyStep) -> str:
    form = f"reads-{uuid.uuid4().hex[:8]}"
    put(stub, form, form, *steps)
    return form


def submitter_inputs(stub: pb_grpc.ApprovalServiceStub, project_id: str) -> dict[str, Any]:
    inputs = json_format.MessageToDict(instance(stub, project_id).inputs)
    return dict(inputs["submitter"])


MANAGER = step("经理", "manager_of_submitter")


def dept_role(role: str) -> pb.PolicyStep:
    return pb.PolicyStep(name="部门质检", approvers=pb.Approvers(type="role", role=role, scope="department"),
                         mode="any")


def test_the_chain_response_carries_the_user_as_get_user_reads_them(
    registry: tuple[str, rpb_grpc.RegistryServiceStub],
) -> None:
    _, org = registry
    for user_id in ("rep", "tech", "gone"):
        chain = org.GetManagerChain(rpb.GetManagerChainRequest(user_id=user_id), timeout=10)
        assert chain.HasField("user")
        assert chain.user == org.GetUser(rpb.GetUserRequest(user_id=user_id), timeout=10).user


def test_manager_of_submitter_is_planned_with_one_registry_call(stub: pb_grpc.ApprovalServiceStub) -> None:
    form = policy(stub, MANAGER)
    f = facts(form)
    with registry_calls() as calls:
        planned = plan(stub, f, "rep")
    assert [list(s.approvers) for s in planned.steps] == [["lead"]]
    assert calls == {"GetManagerChain": 1}  # was GetManagerChain 1 + GetUser 2
    # The submitter recorded with the chain is the registry's record of them.
    assert submitter_inputs(stub, f.project_id) == {"id": "rep", "department_id": "east", "roles": ["sales"],
                                                    "region": "east"}


@pytest.mark.skipif(not USER_HAS_LEFT, reason="registry proto has no User.left yet")
def test_a_manager_who_left_is_walked_past_with_one_call(stub: pb_grpc.ApprovalServiceStub) -> None:
    form = policy(stub, MANAGER, pb.PolicyStep(name="逐级", approvers=pb.Approvers(type="managers_chain"), mode="all"))
    with registry_calls() as calls:
        planned = plan(stub, facts(form), "wrep")
    assert [list(s.approvers) for s in planned.steps] == [["boss"], ["boss", "ceo"]]
    assert calls == {"GetManagerChain": 1}  # the second step reads nothing more


@pytest.mark.skipif(not USER_HAS_LEFT, reason="registry proto has no User.left yet")
def test_a_department_scoped_role_in_a_department_without_a_manager(stub: pb_grpc.ApprovalServiceStub) -> None:
    """tech's department (lab) has no manager and so is not in the registry's chain; its holder who
    is still there approves, not the one who left nor the holder up in sales."""
    form = policy(stub, dept_role("qa"))
    f = facts(form)
    with registry_calls() as calls:
        planned = plan(stub, f, "tech")
    assert [list(s.approvers) for s in planned.steps] == [["qa_lab"]]
    assert calls == {"GetManagerChain": 1, "ListUsers": 1}  # was GetUser 4 + GetManagerChain 1 + ListUsers 1
    assert submitter_inputs(stub, f.project_id) == {"id": "tech", "department_id": "lab", "roles": ["engineer"],
                                                    "region": "north"}
    # Up the tree when the submitter's own department has no holder.
    form = policy(stub, dept_role("sales_director"))
    with registry_calls() as calls:
        planned = plan(stub, facts(form), "tech")
    assert [list(s.approvers) for s in planned.steps] == [["boss"]]
    assert calls == {"GetManagerChain": 1, "ListUsers": 1}


def test_an_unknown_submitter_has_no_approver_with_one_call(stub: pb_grpc.ApprovalServiceStub) -> None:
    form = policy(stub, MANAGER)
    f = facts(form)
    with registry_calls() as calls:
        planned = plan(stub, f, "ghost")
    assert [(s.name, list(s.approvers)) for s in planned.steps] == [("经理", [])]
    assert calls == {"GetManagerChain": 1}  # NOT_FOUND, once: was GetUser 2 + GetManagerChain 1, all NOT_FOUND
    assert submitter_inputs(stub, f.project_id) == {"id": "ghost", "department_id": "", "roles": [], "region": ""}


def test_a_named_approver_is_read_once_per_planning(stub: pb_grpc.ApprovalServiceStub) -> None:
    """A named user is read to see whether they left: once, though planning asks for each use."""
    form = policy(stub, step("总监", user="boss"),
                  pb.PolicyStep(name="复核", approvers=pb.Approvers(type="user", user_id="boss"), mode="any",
                                cc=[pb.Approvers(type="user", user_id="boss")]))
    with registry_calls() as calls:
        planned = plan(stub, facts(form), "rep")
    assert [list(s.approvers) for s in planned.steps] == [["boss"], ["boss"]]
    assert calls == {"GetManagerChain": 1, "GetUser": 1}


def test_simulate_resume_and_what_if_plan_the_same_way(stub: pb_grpc.ApprovalServiceStub) -> None:
    form = policy(stub, MANAGER, step("财务", "role", role="qa", when="project.amount >= 500000.0"))
    with registry_calls() as calls:
        simulated = stub.Simulate(pb.SimulateRequest(project=facts(form), submitter_id="rep"), timeout=10)
    assert [list(s.approvers) for s in simulated.steps] == [["lead"]]
    assert calls == {"GetManagerChain": 1}

    # Returned, then resubmitted with an amount that adds a step: re-planned with one call.
    f = facts(form)
    planned = plan(stub, f, "rep")
    [task] = open_step(stub, planned.instance_id, 0).tasks
    stub.RecordDecision(pb.RecordDecisionRequest(request_id=rid(), task_id=task.id, actor_id="lead",
                                                 action="return", comment="请补充", channel="api"), timeout=10)
    f.amount = "900000"
    with registry_calls() as calls:
        resumed = stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=rid(), instance_id=planned.instance_id,
                                                               project=f, actor_id="rep"), timeout=10)
    assert resumed.replanned and [list(s.approvers) for s in resumed.steps] == [["lead"], ["qa_lab", "qa_sales"]]
    assert calls == {"GetManagerChain": 1, "ListUsers": 1}

    # What-if over two submissions of one submitter reads their record and chain once.
    plan(stub, facts(form, "1000"), "rep")
    draft = [step("总监", user="boss"), MANAGER]
    with registry_calls() as calls:
        out = stub.WhatIf(pb.WhatIfRequest(form_key=form, steps=draft, limit=2), timeout=10)
    assert (out.evaluated, out.changed) == (2, 2)
    assert calls == {"GetUser": 2, "GetManagerChain": 1}  # GetUser: boss checked by the draft's validation


def test_an_org_change_applies_to_the_next_planning(
    stub: pb_grpc.ApprovalServiceStub, registry: tuple[str, rpb_grpc.RegistryServiceStub]
) -> None:
    _, org = registry
    form = policy(stub, MANAGER)
    assert [list(s.approvers) for s in plan(stub, facts(form), "mover").steps] == [["lead"]]
    moved = rpb.User()
    moved.CopyFrom(next(u for u in USERS if u.id == "mover"))
    moved.department_id = "sales"
    org.UpsertOrg(rpb.UpsertOrgRequest(request_id=rid(), users=[moved]), timeout=10)
    f = facts(form)
    assert [list(s.approvers) for s in plan(stub, f, "mover").steps] == [["boss"]]
    assert submitter_inputs(stub, f.project_id)["department_id"] == "sales"
