"""Approval service over real gRPC, reading its org directory from a real registry server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core.grpc_client import metadata, read_failure
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from tests.conftest import StartService


def rid() -> str:
    return uuid.uuid4().hex


@pytest.fixture(scope="module")
def registry_addr(start_module_service: StartService) -> str:
    registry = start_module_service("registry")
    org = rpb_grpc.RegistryServiceStub(registry.channel)
    # hq (ceo) ─ sales (boss) ─ east (lead)
    org.UpsertOrg(
        rpb.UpsertOrgRequest(
            request_id=rid(),
            departments=[
                rpb.Department(id="hq", name="总部", manager_id="ceo"),
                rpb.Department(id="sales", name="销售部", parent_id="hq", manager_id="boss"),
                rpb.Department(id="east", name="华东", parent_id="sales", manager_id="lead"),
            ],
            users=[
                rpb.User(id="ceo", name="CEO", department_id="hq", roles=["exec"]),
                rpb.User(id="boss", name="Boss", department_id="sales", roles=["sales_director"]),
                rpb.User(id="lead", name="Lead", department_id="east", roles=["sales"]),
                rpb.User(id="rep", name="Rep", department_id="east", roles=["sales"]),
                rpb.User(id="fin1", name="Fin 1", department_id="hq", roles=["finance"]),
                rpb.User(id="fin2", name="Fin 2", department_id="hq", roles=["finance"]),
            ],
        ),
        timeout=10,
    )
    return registry.addr


@pytest.fixture(scope="module")
def stub(start_module_service: StartService, registry_addr: str) -> pb_grpc.ApprovalServiceStub:
    return pb_grpc.ApprovalServiceStub(start_module_service("approval", registry_addr=registry_addr).channel)


def fail(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    f = read_failure(info.value)
    return f.code, f.reason, {v.field: v.zh for v in f.violations}


def step(name: str, kind: str = "user", *, user: str = "", role: str = "", when: str = "", mode: str = "any",
         sla: str = "") -> pb.PolicyStep:
    return pb.PolicyStep(name=name, when=when, approvers=pb.Approvers(type=kind, user_id=user, role=role), mode=mode,
                         sla=sla)


def nobody(name: str) -> pb.PolicyStep:
    """A step whose approvers resolve to nobody (the 9th manager up does not exist)."""
    return pb.PolicyStep(name=name, approvers=pb.Approvers(type="manager_level", level=9), mode="any")


def put(stub: pb_grpc.ApprovalServiceStub, key: str, form_key: str, *steps: pb.PolicyStep) -> pb.PutPolicyResponse:
    return stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key=key, form_key=form_key, steps=steps), timeout=10)


def facts(form_key: str, amount: str = "100000", project_id: str = "", **fields: Any) -> pb.ProjectFacts:
    s = struct_pb2.Struct()
    s.update(fields)
    return pb.ProjectFacts(project_id=project_id or rid(), form_key=form_key, name="项目", amount=amount,
                           region="east", business_line="cloud", fields=s)


def plan(stub: pb_grpc.ApprovalServiceStub, f: pb.ProjectFacts, submitter: str = "rep") -> pb.PlanChainResponse:
    return stub.PlanChain(pb.PlanChainRequest(request_id=rid(), project=f, submitter_id=submitter), timeout=10)


def open_step(stub: pb_grpc.ApprovalServiceStub, instance_id: str, index: int) -> pb.OpenStepResponse:
    return stub.OpenStep(pb.OpenStepRequest(request_id=rid(), instance_id=instance_id, step_index=index), timeout=10)


def decide(stub: pb_grpc.ApprovalServiceStub, task: pb.ApprovalTask, action: str = "approve", *,
           actor: str = "", request_id: str = "", comment: str = "") -> pb.RecordDecisionResponse:
    return stub.RecordDecision(
        pb.RecordDecisionRequest(request_id=request_id or rid(), task_id=task.id, actor_id=actor or task.approver_id,
                                 action=action, comment=comment, channel="api"),
        timeout=10,
    )


def instance(stub: pb_grpc.ApprovalServiceStub, project_id: str) -> pb.Instance:
    return stub.GetInstance(pb.GetInstanceRequest(project_id=project_id), timeout=10).instance


# ---------------------------------------------------------------- policies


def test_put_policy_validation_errors(stub: pb_grpc.ApprovalServiceStub) -> None:
    req = pb.PutPolicyRequest(
        request_id=rid(), key="bad-cel", form_key="f-validation",
        steps=[step("经理", "manager_of_submitter", when="project.amount >"), step("财务", user="nobody")],
    )
    code, reason, fields = fail(lambda: stub.PutPolicy(req, timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and reason == "validation_failed"
    assert set(fields) == {"steps[0].when", "steps[1].approvers.user_id"}
    assert "nobody" in fields["steps[1].approvers.user_id"]

    with pytest.raises(grpc.RpcError) as info:
        stub.PutPolicy(req, timeout=10, metadata=metadata(locale="en"))
    assert {v.en for v in read_failure(info.value).violations} >= {"unknown user: nobody"}

    bad = pb.PutPolicyRequest(request_id=rid(), key="Bad Key", form_key="", steps=[])
    assert set(fail(lambda: stub.PutPolicy(bad, timeout=10))[2]) == {"key", "form_key", "steps"}
    more = pb.PutPolicyRequest(request_id=rid(), key="k", form_key="f", steps=[
        pb.PolicyStep(name="x", approvers=pb.Approvers(type="role"), mode="most", sla="2 days", on_timeout="nap"),
    ])
    assert set(fail(lambda: stub.PutPolicy(more, timeout=10))[2]) == {
        "steps[0].approvers.role", "steps[0].mode", "steps[0].sla", "steps[0].on_timeout",
    }
    # Nothing was stored.
    assert fail(lambda: stub.GetPolicy(pb.GetPolicyRequest(key="bad-cel"), timeout=10))[0] == grpc.StatusCode.NOT_FOUND


def test_policy_versioning(stub: pb_grpc.ApprovalServiceStub) -> None:
    s1 = step("经理审批", "manager_of_submitter", sla="24h")
    first = put(stub, "versions", "f-versions", s1)
    assert (first.version, first.created) == (1, True)
    again = put(stub, "versions", "f-versions", s1)
    assert (again.version, again.created) == (1, False)
    second = put(stub, "versions", "f-versions", s1, step("财务", "role", role="finance", mode="all"))
    assert (second.version, second.created) == (2, True)
    moved = put(stub, "versions", "f-versions-2", s1, step("财务", "role", role="finance", mode="all"))
    assert (moved.version, moved.created) == (3, True)

    latest = stub.GetPolicy(pb.GetPolicyRequest(key="versions"), timeout=10).policy
    assert (latest.version, latest.form_key) == (3, "f-versions-2")
    assert [s.name for s in latest.steps] == ["经理审批", "财务"]
    assert latest.steps[1].approvers.role == "finance" and latest.steps[1].mode == "all"
    v1 = stub.GetPolicy(pb.GetPolicyRequest(key="versions", version=1), timeout=10).policy
    assert [s.name for s in v1.steps] == ["经理审批"] and v1.steps[0].sla == "24h" and v1.created_at.seconds > 0
    assert fail(lambda: stub.GetPolicy(pb.GetPolicyRequest(key="versions", version=9), timeout=10))[0] == (
        grpc.StatusCode.NOT_FOUND
    )

    # Same request id: same answer, no new version.
    req = pb.PutPolicyRequest(request_id=rid(), key="versions", form_key="f-versions", steps=[s1])
    r1, r2 = stub.PutPolicy(req, timeout=10), stub.PutPolicy(req, timeout=10)
    assert r1 == r2 and (r1.version, r1.created) == (4, True)


# ---------------------------------------------------------------- simulate / plan


def test_simulate_leaves_out_false_steps_and_stores_nothing(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(
        stub, "simulate", "f-simulate",
        step("经理审批", "manager_of_submitter", sla="8wh"),
        step("总裁审批", user="ceo", when="project.amount >= 1000000"),
        step("财务审批", "role", role="finance", mode="all", when='project.fields.industry == "bank"'),
    )
    f = facts("f-simulate", "200000", industry="bank")
    steps = stub.Simulate(pb.SimulateRequest(policy_key="simulate", project=f, submitter_id="lead"), timeout=10).steps
    assert [(s.index, s.name, s.mode, list(s.approvers)) for s in steps] == [
        (0, "经理审批", "any", ["boss"]),  # lead manages east: walk up to sales
        (1, "财务审批", "all", ["fin1", "fin2"]),
    ]
    assert steps[0].sla_seconds == 8 * 3600

    # By form key, a big amount brings the CEO in.
    big = facts("f-simulate", "1500000.00", industry="retail")
    steps = stub.Simulate(pb.SimulateRequest(project=big, submitter_id="rep"), timeout=10).steps
    assert [(s.name, list(s.approvers)) for s in steps] == [("经理审批", ["lead"]), ("总裁审批", ["ceo"])]

    assert fail(lambda: instance(stub, f.project_id))[0] == grpc.StatusCode.NOT_FOUND
    unknown = pb.SimulateRequest(policy_key="nope", project=f)
    assert fail(lambda: stub.Simulate(unknown, timeout=10))[0] == grpc.StatusCode.NOT_FOUND
    no_policy = pb.SimulateRequest(project=facts("f-without-policy"))
    assert fail(lambda: stub.Simulate(no_policy, timeout=10))[0] == grpc.StatusCode.NOT_FOUND


def test_policy_for_a_form_is_the_most_recently_changed(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "shared-a", "f-shared", step("A", user="boss"))
    put(stub, "shared-b", "f-shared", step("B", user="ceo"))
    assert [s.name for s in plan(stub, facts("f-shared")).steps] == ["B"]
    put(stub, "shared-a", "f-shared", step("A2", user="boss"))
    got = plan(stub, facts("f-shared"))
    assert (got.policy_key, got.policy_version, [s.name for s in got.steps]) == ("shared-a", 2, ["A2"])


def test_a_form_without_a_policy_cannot_be_submitted_or_planned(stub: pb_grpc.ApprovalServiceStub) -> None:
    code, reason, _ = fail(lambda: stub.RequirePolicy(pb.RequirePolicyRequest(form_key="f-nobody-decides"), timeout=10))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "no_approval_policy")
    with pytest.raises(grpc.RpcError) as info:
        stub.RequirePolicy(pb.RequirePolicyRequest(form_key="f-nobody-decides"), timeout=10,
                           metadata=(("accept-language", "en"),))
    assert "f-nobody-decides" in (info.value.details() or "")
    # Planning without a policy never approves: UNAVAILABLE, retried until a policy exists.
    f = facts("f-nobody-decides")
    code, _, _ = fail(lambda: plan(stub, f))
    assert code == grpc.StatusCode.UNAVAILABLE
    assert fail(lambda: instance(stub, f.project_id))[0] == grpc.StatusCode.NOT_FOUND


def test_an_explicit_no_approval_policy_approves_on_submit(stub: pb_grpc.ApprovalServiceStub) -> None:
    code, _, v = fail(lambda: stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key="free", form_key="f-free"),
                                             timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "steps" in v
    code, _, v = fail(lambda: stub.PutPolicy(
        pb.PutPolicyRequest(request_id=rid(), key="free", form_key="f-free", steps=[step("A", user="boss")],
                            options=pb.PolicyOptions(no_approval=True)), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "steps" in v
    stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key="free", form_key="f-free",
                                       options=pb.PolicyOptions(no_approval=True)), timeout=10)
    req = stub.RequirePolicy(pb.RequirePolicyRequest(form_key="f-free"), timeout=10)
    assert (req.policy_key, req.policy_version, req.no_approval) == ("free", 1, True)
    f = facts("f-free")
    got = plan(stub, f)
    assert got.instance_id and list(got.steps) == [] and got.policy_key == "free"
    current = instance(stub, f.project_id)
    assert current.status == "approved" and current.inputs["no_approval"] is True


def test_plan_is_idempotent_and_resubmission_makes_a_new_instance(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "resubmit", "f-resubmit", step("经理审批", "manager_of_submitter"))
    f = facts("f-resubmit")
    req = pb.PlanChainRequest(request_id=rid(), project=f, submitter_id="rep")
    first, same = stub.PlanChain(req, timeout=10), stub.PlanChain(req, timeout=10)
    assert first == same
    task = open_step(stub, first.instance_id, 0).tasks[0]
    assert [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="lead"), timeout=10).tasks].count(task.id) == 1

    second = plan(stub, f)
    assert second.instance_id != first.instance_id
    current = instance(stub, f.project_id)
    assert current.id == second.instance_id and current.status == "pending"
    assert [s.status for s in current.steps] == ["waiting"]
    # The earlier submission's open task is gone from the to-do list and cannot be decided.
    assert task.id not in [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="lead"), timeout=10).tasks]
    assert fail(lambda: decide(stub, task))[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "already_decided")


# ---------------------------------------------------------------- deciding


def test_plan_open_decide_until_approved(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(
        stub, "happy", "f-happy",
        step("经理审批", "manager_of_submitter", sla="24h"),
        nobody("法务审批"),  # resolves to nobody: skipped
        step("财务会签", "role", role="finance", mode="all"),
    )
    f = facts("f-happy", "300000")
    planned = plan(stub, f)
    assert [(s.name, list(s.approvers)) for s in planned.steps] == [
        ("经理审批", ["lead"]), ("法务审批", []), ("财务会签", ["fin1", "fin2"]),
    ]
    inst = instance(stub, f.project_id)
    assert (inst.id, inst.status, inst.policy_key) == (planned.instance_id, "pending", "happy")
    assert [s.status for s in inst.steps] == ["waiting", "waiting", "waiting"]

    opened = open_step(stub, planned.instance_id, 0)
    assert opened.step.status == "pending" and not opened.auto_approved
    [task] = opened.tasks
    assert (task.approver_id, task.status, task.project_id) == ("lead", pb.TASK_STATUS_PENDING, f.project_id)
    assert task.due_at.seconds - task.created_at.seconds == 86400
    assert stub.GetTask(pb.GetTaskRequest(task_id=task.id), timeout=10).task == task
    assert task.id in [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="lead"), timeout=10).tasks]

    done = decide(stub, task, comment="同意")
    assert done.step_outcome == "approved" and done.task.status == pb.TASK_STATUS_APPROVED
    assert [(d.user_id, d.action, d.comment, d.channel, d.auto) for d in done.step.decisions] == [
        ("lead", "approve", "同意", "api", False)
    ]
    assert task.id not in [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="lead"), timeout=10).tasks]

    skipped = open_step(stub, planned.instance_id, 1)
    assert skipped.step.status == "skipped" and list(skipped.tasks) == []

    fin = open_step(stub, planned.instance_id, 2)
    assert sorted(t.approver_id for t in fin.tasks) == ["fin1", "fin2"]
    t1, t2 = sorted(fin.tasks, key=lambda t: t.approver_id)
    assert decide(stub, t1).step_outcome == "pending"
    assert instance(stub, f.project_id).status == "pending"
    last = decide(stub, t2)
    assert last.step_outcome == "approved" and last.step.status == "approved"

    inst = instance(stub, f.project_id)
    assert inst.status == "approved"
    assert [s.status for s in inst.steps] == ["approved", "skipped", "approved"]
    assert [d.user_id for d in inst.steps[2].decisions] == ["fin1", "fin2"]
    assert all(d.at.seconds > 0 for d in inst.steps[2].decisions)
    for user in ("lead", "fin1", "fin2"):
        got = stub.ListApproverProjects(pb.ListApproverProjectsRequest(user_id=user), timeout=10).project_ids
        assert f.project_id in got
    assert f.project_id not in stub.ListApproverProjects(pb.ListApproverProjectsRequest(user_id="ceo")).project_ids


def test_opening_out_of_order_and_unknowns(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "order", "f-order", step("一", user="boss"), step("二", user="ceo"))
    planned = plan(stub, facts("f-order"))
    assert fail(lambda: open_step(stub, planned.instance_id, 1))[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION, "illegal_transition"
    )
    assert fail(lambda: open_step(stub, planned.instance_id, 5))[0] == grpc.StatusCode.NOT_FOUND
    assert fail(lambda: open_step(stub, "nope", 0))[0] == grpc.StatusCode.NOT_FOUND
    # Idempotent on request id: same tasks, not new ones.
    req = pb.OpenStepRequest(request_id=rid(), instance_id=planned.instance_id, step_index=0)
    a, b = stub.OpenStep(req, timeout=10), stub.OpenStep(req, timeout=10)
    assert a == b and len(a.tasks) == 1
    # Opened again under another request id: reports the step as it is.
    c = open_step(stub, planned.instance_id, 0)
    assert [t.id for t in c.tasks] == [t.id for t in a.tasks]
    assert fail(lambda: stub.GetTask(pb.GetTaskRequest(task_id="nope"), timeout=10))[0] == grpc.StatusCode.NOT_FOUND


def test_reject_any_mode_closes_other_tasks(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "reject", "f-reject", step("财务", "role", role="finance"), step("总裁", user="ceo"))
    f = facts("f-reject")
    planned = plan(stub, f)
    t1, t2 = sorted(open_step(stub, planned.instance_id, 0).tasks, key=lambda t: t.approver_id)
    out = decide(stub, t1, "reject", comment="预算不足")
    assert (out.step_outcome, out.step.status, out.task.status) == ("rejected", "rejected", pb.TASK_STATUS_REJECTED)
    assert stub.GetTask(pb.GetTaskRequest(task_id=t2.id), timeout=10).task.status == pb.TASK_STATUS_CLOSED
    inst = instance(stub, f.project_id)
    assert inst.status == "rejected" and [s.status for s in inst.steps] == ["rejected", "waiting"]
    assert [(d.user_id, d.action, d.comment) for d in inst.steps[0].decisions] == [("fin1", "reject", "预算不足")]
    assert fail(lambda: decide(stub, t2))[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "already_decided")
    assert fail(lambda: open_step(stub, planned.instance_id, 1))[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert t2.id not in [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="fin2"), timeout=10).tasks]


def test_any_mode_first_approval_wins(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "any", "f-any", step("财务", "role", role="finance"))
    f = facts("f-any")
    planned = plan(stub, f)
    t1, t2 = sorted(open_step(stub, planned.instance_id, 0).tasks, key=lambda t: t.approver_id)
    assert decide(stub, t2).step_outcome == "approved"
    assert stub.GetTask(pb.GetTaskRequest(task_id=t1.id), timeout=10).task.status == pb.TASK_STATUS_CLOSED
    assert instance(stub, f.project_id).status == "approved"


def test_all_mode_one_reject_rejects(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "all-reject", "f-all-reject", step("会签", "role", role="finance", mode="all"))
    f = facts("f-all-reject")
    planned = plan(stub, f)
    t1, t2 = sorted(open_step(stub, planned.instance_id, 0).tasks, key=lambda t: t.approver_id)
    assert decide(stub, t1).step_outcome == "pending"
    assert decide(stub, t2, "reject").step_outcome == "rejected"
    assert instance(stub, f.project_id).status == "rejected"


def test_forbidden_conflict_validation_and_idempotency(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "guards", "f-guards", step("经理", user="boss"))
    f = facts("f-guards")
    [task] = open_step(stub, plan(stub, f).instance_id, 0).tasks

    code, reason, _ = fail(lambda: decide(stub, task, actor="rep"))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "not_approver")
    code, _, fields = fail(lambda: decide(stub, task, "maybe"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"action"}
    missing = pb.RecordDecisionRequest(request_id=rid(), task_id="nope", actor_id="boss", action="approve")
    assert fail(lambda: stub.RecordDecision(missing, timeout=10))[0] == grpc.StatusCode.NOT_FOUND

    request_id = rid()
    first = decide(stub, task, request_id=request_id, comment="ok")
    assert decide(stub, task, request_id=request_id, comment="ok") == first
    assert fail(lambda: decide(stub, task))[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "already_decided")
    assert fail(lambda: decide(stub, task, "reject"))[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "already_decided")
    assert len(instance(stub, f.project_id).steps[0].decisions) == 1


def race_one_task(stub: pb_grpc.ApprovalServiceStub, n: int = 8) -> None:
    f = facts("f-race")
    [task] = open_step(stub, plan(stub, f).instance_id, 0).tasks
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def go(i: int) -> None:
        barrier.wait()
        try:
            out = decide(stub, task, "approve" if i % 2 else "reject")
            outcome = "ok:" + out.step_outcome
        except grpc.RpcError as err:
            outcome = f"err:{err.code().name}:{read_failure(err).reason}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [r for r in results if r.startswith("ok:")]
    assert len(results) == n and len(winners) == 1, results
    assert results.count("err:FAILED_PRECONDITION:already_decided") == n - 1, results
    inst = instance(stub, f.project_id)
    assert len(inst.steps[0].decisions) == 1
    assert inst.steps[0].status == winners[0].removeprefix("ok:")


def test_concurrent_decisions_are_exactly_once(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "race", "f-race", step("经理", user="boss"), step("总裁", user="ceo"))
    for _round in range(3):
        race_one_task(stub)


def test_concurrent_duplicates_of_one_request_decide_once(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "dupes", "f-dupes", step("经理", user="boss"))
    f = facts("f-dupes")
    [task] = open_step(stub, plan(stub, f).instance_id, 0).tasks
    request_id, n = rid(), 6
    barrier = threading.Barrier(n)
    answers: list[pb.RecordDecisionResponse] = []

    def go() -> None:
        barrier.wait()
        answers.append(decide(stub, task, request_id=request_id))

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == n and all(a == answers[0] for a in answers)
    assert len(instance(stub, f.project_id).steps[0].decisions) == 1


def test_concurrent_duplicates_of_one_plan_make_one_instance(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "plan-dupes", "f-plan-dupes", step("经理", user="boss"))
    for resubmissions in (0, 1):
        f = facts("f-plan-dupes")
        earlier = [plan(stub, f).instance_id for _ in range(resubmissions)]
        req = pb.PlanChainRequest(request_id=rid(), project=f, submitter_id="rep")
        n = 6
        barrier = threading.Barrier(n)
        answers: list[pb.PlanChainResponse] = []

        def go(req: pb.PlanChainRequest = req, barrier: threading.Barrier = barrier,
               answers: list[pb.PlanChainResponse] = answers) -> None:
            barrier.wait()
            answers.append(stub.PlanChain(req, timeout=10))

        threads = [threading.Thread(target=go) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(answers) == n and all(a == answers[0] for a in answers)
        assert instance(stub, f.project_id).id == answers[0].instance_id not in earlier


def test_consecutive_same_approver_is_auto_approved(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(
        stub, "auto", "f-auto",
        step("直属经理", "manager_of_submitter"),
        nobody("空步骤"),
        step("区域负责人", user="lead"),
        step("总裁", user="ceo"),
    )
    f = facts("f-auto")
    planned = plan(stub, f)
    [task] = open_step(stub, planned.instance_id, 0).tasks
    assert task.approver_id == "lead"
    decide(stub, task)
    assert open_step(stub, planned.instance_id, 1).step.status == "skipped"
    auto = open_step(stub, planned.instance_id, 2)
    assert auto.auto_approved and list(auto.tasks) == [] and auto.step.status == "approved"
    [d] = auto.step.decisions
    assert (d.user_id, d.action, d.comment, d.auto) == ("lead", "approve", "同一审批人连续审批，自动通过", True)
    nxt = open_step(stub, planned.instance_id, 3)
    assert not nxt.auto_approved and [t.approver_id for t in nxt.tasks] == ["ceo"]
    assert instance(stub, f.project_id).status == "pending"
    decide(stub, nxt.tasks[0])
    inst = instance(stub, f.project_id)
    assert inst.status == "approved"
    assert [s.status for s in inst.steps] == ["approved", "skipped", "approved", "approved"]
    assert inst.steps[2].decisions[0].auto


def test_todos_oldest_first_and_required_fields(stub: pb_grpc.ApprovalServiceStub) -> None:
    put(stub, "todos", "f-todos", step("总裁", user="ceo"))
    ids: list[str] = []
    for _ in range(3):
        ids.extend(t.id for t in open_step(stub, plan(stub, facts("f-todos")).instance_id, 0).tasks)
    todos = [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="ceo"), timeout=10).tasks]
    assert [t for t in todos if t in ids] == ids
    code, _, fields = fail(lambda: stub.ListTodos(pb.ListTodosRequest(), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"user_id"}
    code, _, fields = fail(lambda: stub.PlanChain(pb.PlanChainRequest(request_id=rid()), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"project.project_id"}


def test_registry_down_is_unavailable_not_internal(start_service: StartService) -> None:
    from tests.conftest import free_port

    ch = start_service("approval", registry_addr=f"127.0.0.1:{free_port()}", rpc_timeout=2).channel
    down = pb_grpc.ApprovalServiceStub(ch)
    req = pb.PutPolicyRequest(request_id=rid(), key="down", form_key="f-down", steps=[step("x", user="boss")])
    assert fail(lambda: down.PutPolicy(req, timeout=10))[0] == grpc.StatusCode.UNAVAILABLE
    # Policies that need no lookup are still accepted.
    role_only = [step("x", "manager_of_submitter")]
    ok = pb.PutPolicyRequest(request_id=rid(), key="down", form_key="f-down", steps=role_only)
    assert down.PutPolicy(ok, timeout=10).created
