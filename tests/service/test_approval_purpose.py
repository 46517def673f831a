"""Approval instances with a purpose (registration | acceptance | change) over real gRPC: an
acceptance chain is planned on its own policy (``acceptance`` / ``acceptance:<business line>``),
never supersedes the registration's instance nor is superseded by it; GetInstance shows the
registration's by default and an acceptance request's by purpose and subject; tasks name their
purpose (which workflow decides them); reserved keys never decide registrations."""

from __future__ import annotations

import grpc
import pytest

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_approval_service import decide, facts, fail, open_step, put, registry_addr, rid, step

__all__ = ["registry_addr"]  # the module fixture, shared


@pytest.fixture(scope="module")
def stub(start_module_service: StartService, registry_addr: str) -> pb_grpc.ApprovalServiceStub:
    return pb_grpc.ApprovalServiceStub(start_module_service("approval", registry_addr=registry_addr).channel)


def plan(stub: pb_grpc.ApprovalServiceStub, f: pb.ProjectFacts, *, purpose: str = "", subject: str = "",
         policy_key: str = "") -> pb.PlanChainResponse:
    return stub.PlanChain(pb.PlanChainRequest(request_id=rid(), project=f, submitter_id="rep", purpose=purpose,
                                              subject_id=subject, policy_key=policy_key), timeout=10)


def instance(stub: pb_grpc.ApprovalServiceStub, project_id: str, purpose: str = "", subject: str = "") -> pb.Instance:
    return stub.GetInstance(pb.GetInstanceRequest(project_id=project_id, purpose=purpose, subject_id=subject),
                            timeout=10).instance


def test_acceptance_chains_live_beside_the_registration(stub: pb_grpc.ApprovalServiceStub) -> None:
    form = f"f-{rid()[:8]}"
    put(stub, form, form, step("经理审批", user="lead"))
    # Reserved keys name the form but never decide its registrations (even when changed last).
    put(stub, "acceptance", form, step("验收审批", user="boss"))
    put(stub, "acceptance:cloud", form, step("云业务验收", user="fin1"), step("总部验收", user="ceo"))
    assert stub.RequirePolicy(pb.RequirePolicyRequest(form_key=form), timeout=10).policy_key == form

    f = facts(form)
    registration = plan(stub, f)
    assert registration.policy_key == form
    reg_task = open_step(stub, registration.instance_id, 0).tasks[0]
    decide(stub, reg_task)
    assert instance(stub, f.project_id).status == "approved"

    first = plan(stub, f, purpose="acceptance", subject="req-1", policy_key="acceptance:cloud")
    assert (first.policy_key, [s.name for s in first.steps]) == ("acceptance:cloud", ["云业务验收", "总部验收"])
    task = open_step(stub, first.instance_id, 0).tasks[0]
    assert (task.purpose, task.subject_id) == ("acceptance", "req-1")
    got = stub.GetTask(pb.GetTaskRequest(task_id=task.id, actor_id="fin1"), timeout=10)
    assert (got.task.purpose, got.task.subject_id, got.may_act) == ("acceptance", "req-1", True)
    todos = stub.ListTodos(pb.ListTodosRequest(user_id="fin1"), timeout=10).tasks
    assert [(t.purpose, t.subject_id) for t in todos if t.id == task.id] == [("acceptance", "req-1")]
    decide(stub, task, "reject", comment="资料不全")

    # The registration's instance is untouched and still what GetInstance shows by default.
    reg = instance(stub, f.project_id)
    assert (reg.id, reg.status, reg.purpose) == (registration.instance_id, "approved", "registration")
    rejected = instance(stub, f.project_id, "acceptance")
    assert (rejected.id, rejected.status, rejected.subject_id) == (first.instance_id, "rejected", "req-1")

    # A second request: its own instance; the first keeps its outcome.
    second = plan(stub, f, purpose="acceptance", subject="req-2", policy_key="acceptance")
    assert [s.name for s in second.steps] == ["验收审批"]
    assert instance(stub, f.project_id, "acceptance").id == second.instance_id
    assert instance(stub, f.project_id, "acceptance", "req-1").status == "rejected"
    decide(stub, open_step(stub, second.instance_id, 0).tasks[0])
    assert instance(stub, f.project_id, "acceptance", "req-2").status == "approved"
    assert instance(stub, f.project_id).id == registration.instance_id


def test_a_pending_acceptance_is_not_superseded_by_a_registration_plan(stub: pb_grpc.ApprovalServiceStub) -> None:
    form = f"f-{rid()[:8]}"
    put(stub, form, form, step("经理审批", user="lead"))
    put(stub, "acceptance", form, step("验收审批", user="boss"))
    f = facts(form)
    pending = plan(stub, f, purpose="acceptance", subject="req-x", policy_key="acceptance")
    open_step(stub, pending.instance_id, 0)
    plan(stub, f)  # e.g. a registration planned (again) meanwhile
    assert instance(stub, f.project_id, "acceptance").status == "pending"


def test_purpose_and_policy_key_are_checked(stub: pb_grpc.ApprovalServiceStub) -> None:
    form = f"f-{rid()[:8]}"
    put(stub, form, form, step("经理审批", user="lead"))
    code, _, fields = fail(lambda: plan(stub, facts(form), purpose="nonsense", policy_key=form))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "purpose" in fields
    code, _, _ = fail(lambda: plan(stub, facts(form), purpose="acceptance", policy_key="acceptance:nowhere"))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _, fields = fail(lambda: put(stub, "acceptance:bad line", form, step("x", user="lead")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "key" in fields
    assert put(stub, "acceptance:系统集成", form, step("验收", user="boss")).version >= 1
