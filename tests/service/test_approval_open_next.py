"""RecordDecision opening the next step in its transaction (``open_next``, issue 15) over real gRPC:
an approval that settles its step opens the step after it (tasks, reporting event, recorded under
the OpenStep request id the workflow would use later); a retry answers the same; decisions that
do not settle the step approved, or ask for another step, leave it to OpenStep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core.db import make_engine
from tests.conftest import StartService
from tests.service import test_approval_service as base
from tests.service.test_approval_service import facts, plan, put, rid, step

registry_addr = base.registry_addr

Stub = pb_grpc.ApprovalServiceStub
WID = "project-p1"


@pytest.fixture(scope="module")
def service(start_module_service: StartService, registry_addr: str) -> Iterator[tuple[Stub, sa.Engine]]:
    running = start_module_service("approval", registry_addr=registry_addr)
    engine = make_engine(running.db_url)
    try:
        yield pb_grpc.ApprovalServiceStub(running.channel), engine
    finally:
        engine.dispose()


def started(stub: Stub, form: str, *steps: pb.PolicyStep) -> str:
    put(stub, form, form, *steps)
    return plan(stub, facts(form)).instance_id


def open_req(instance_id: str, index: int, seq: int = 1) -> pb.OpenStepRequest:
    """The OpenStep request ProjectLifecycle makes for the index's ``seq``-th opening."""
    return pb.OpenStepRequest(request_id=f"{WID}:open:1:{index}:{seq}:{instance_id}", instance_id=instance_id,
                              step_index=index, report_scope=WID, report_key=str(seq))


def decide(stub: Stub, task: pb.ApprovalTask, action: str = "approve", *, open_next: pb.OpenStepRequest | None = None,
           request_id: str = "", **kw: str) -> pb.RecordDecisionResponse:
    req = pb.RecordDecisionRequest(request_id=request_id or rid(), task_id=task.id, actor_id=task.approver_id,
                                   action=action, channel="api", open_next=open_next, **kw)
    return stub.RecordDecision(req, timeout=10)


def pending(resp: pb.OpenStepResponse) -> list[pb.ApprovalTask]:
    return [t for t in resp.tasks if t.status == pb.TASK_STATUS_PENDING]


def step_opened_events(engine: sa.Engine, instance_id: str, index: int) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT event_id FROM event_outbox WHERE event_id LIKE :p"),
                            {"p": f"%:approval.step_opened:{instance_id}:{index}:%"})
        return [r[0] for r in rows]


def test_approval_opens_the_next_step_in_the_same_call(service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    inst = started(stub, "on-two", step("经理", user="lead"), step("总监", user="boss"), step("财务", user="fin1"))
    [lead] = pending(stub.OpenStep(open_req(inst, 0), timeout=10))
    request_id = rid()
    resp = decide(stub, lead, open_next=open_req(inst, 1), request_id=request_id)
    assert resp.step_outcome == "approved" and resp.HasField("next_opened")
    nxt = resp.next_opened
    assert (nxt.step.index, nxt.step.status, nxt.auto_approved) == (1, "pending", False)
    assert [t.approver_id for t in pending(nxt)] == ["boss"]
    assert [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="boss"), timeout=10).tasks
            if t.instance_id == inst] == [nxt.tasks[0].id]
    assert step_opened_events(engine, inst, 1) == [f"{WID}:approval.step_opened:{inst}:1:1"]
    # A retried decision answers the same, opening nothing more.
    assert decide(stub, lead, open_next=open_req(inst, 1), request_id=request_id) == resp
    # The workflow's own OpenStep with that request id gets this opening, not a second one.
    assert stub.OpenStep(open_req(inst, 1), timeout=10) == nxt
    assert step_opened_events(engine, inst, 1) == [f"{WID}:approval.step_opened:{inst}:1:1"]
    # The last step has nothing after it: asking for one is ignored.
    [boss] = pending(nxt)
    third = decide(stub, boss, open_next=open_req(inst, 2)).next_opened
    [fin] = pending(third)
    last = decide(stub, fin, open_next=open_req(inst, 3))
    assert last.step_outcome == "approved" and not last.HasField("next_opened")


def test_decisions_that_do_not_settle_the_step_approved_ignore_it(service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    inst = started(stub, "on-all", step("财务", kind="role", role="finance", mode="all"), step("总监", user="boss"))
    fin1, fin2 = pending(stub.OpenStep(open_req(inst, 0), timeout=10))
    # One of two approvals of an all-mode step: not settled, nothing opened.
    first = decide(stub, fin1, open_next=open_req(inst, 1))
    assert first.step_outcome == "pending" and not first.HasField("next_opened")
    assert step_opened_events(engine, inst, 1) == []
    # A rejection settles it, but not approved.
    rejected = decide(stub, fin2, "reject", open_next=open_req(inst, 1))
    assert rejected.step_outcome == "rejected" and not rejected.HasField("next_opened")
    assert step_opened_events(engine, inst, 1) == []

    inst = started(stub, "on-ret", step("经理", user="lead"), step("总监", user="boss"))
    [lead] = pending(stub.OpenStep(open_req(inst, 0), timeout=10))
    returned = decide(stub, lead, "return", open_next=open_req(inst, 1))
    assert returned.step_outcome == "returned" and not returned.HasField("next_opened")

    # Transfer: not settled.
    inst = started(stub, "on-xfer", step("经理", user="lead"), step("总监", user="boss"))
    [lead] = pending(stub.OpenStep(open_req(inst, 0), timeout=10))
    moved = decide(stub, lead, "transfer", open_next=open_req(inst, 1), to_user_id="rep")
    assert moved.step_outcome == "pending" and not moved.HasField("next_opened")
    # An approval asking for a step other than the next one (or another instance): ignored, and
    # the next step is opened by OpenStep as before.
    [rep] = list(moved.new_tasks)
    skipped = decide(stub, rep, open_next=open_req(inst, 0))
    assert skipped.step_outcome == "approved" and not skipped.HasField("next_opened")
    assert step_opened_events(engine, inst, 1) == []
    assert [t.approver_id for t in pending(stub.OpenStep(open_req(inst, 1), timeout=10))] == ["boss"]


def test_an_auto_approved_next_step_is_reported_as_opened_approved(service: tuple[Stub, sa.Engine]) -> None:
    """The same approver on the next step: the opening inside the decision approves it by policy,
    like OpenStep would, and the answer says so (the workflow goes on to the step after)."""
    stub, _ = service
    inst = started(stub, "on-auto", step("经理", user="lead"), step("复核", user="lead"), step("总监", user="boss"))
    [lead] = pending(stub.OpenStep(open_req(inst, 0), timeout=10))
    nxt = decide(stub, lead, open_next=open_req(inst, 1)).next_opened
    assert (nxt.step.status, nxt.auto_approved, list(nxt.tasks)) == ("approved", True, [])
    assert [t.approver_id for t in pending(stub.OpenStep(open_req(inst, 2), timeout=10))] == ["boss"]


# ---------------------------------------------------------------- PlanChain's open_first


def first_req(index: int = 0, seq: int = 1, instance_id: str = "") -> pb.OpenStepRequest:
    """The OpenStep request ProjectLifecycle makes for a round's first opening, asked before the
    instance exists (instance_id empty: the service opens the instance it plans)."""
    return pb.OpenStepRequest(request_id=f"{WID}:open:1:{index}:{seq}:{rid()}", instance_id=instance_id,
                              step_index=index, report_scope=WID, report_key=str(seq))


def plan_opening(stub: Stub, form: str, open_first: pb.OpenStepRequest, *, request_id: str = "",
                 project_id: str = "", submitter: str = "rep") -> pb.PlanChainResponse:
    req = pb.PlanChainRequest(request_id=request_id or rid(), project=facts(form, project_id=project_id),
                              submitter_id=submitter, open_first=open_first)
    return stub.PlanChain(req, timeout=10)


def test_planning_opens_the_first_step_in_the_same_call(service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    put(stub, "pf-two", "pf-two", step("经理", user="lead"), step("总监", user="boss"))
    first, request_id, project_id = first_req(), rid(), rid()
    planned = plan_opening(stub, "pf-two", first, request_id=request_id, project_id=project_id)
    inst = planned.instance_id
    assert inst and [s.name for s in planned.steps] == ["经理", "总监"] and planned.HasField("first_opened")
    opened = planned.first_opened
    assert (opened.step.index, opened.step.status, opened.auto_approved) == (0, "pending", False)
    [lead] = pending(opened)
    assert (lead.approver_id, lead.instance_id, lead.step_index) == ("lead", inst, 0)
    assert [t.id for t in stub.ListTodos(pb.ListTodosRequest(user_id="lead"), timeout=10).tasks
            if t.instance_id == inst] == [lead.id]
    assert step_opened_events(engine, inst, 0) == [f"{WID}:approval.step_opened:{inst}:0:1"]
    # A retried planning answers the same: same instance, same opening, nothing more.
    again = plan_opening(stub, "pf-two", first, request_id=request_id, project_id=project_id)
    assert again == planned
    # The workflow's own OpenStep with that request id (now naming the instance) gets this opening.
    later = pb.OpenStepRequest(request_id=first.request_id, instance_id=inst, step_index=0, report_scope=WID,
                               report_key="1")
    assert stub.OpenStep(later, timeout=10) == opened
    assert step_opened_events(engine, inst, 0) == [f"{WID}:approval.step_opened:{inst}:0:1"]
    # The chain goes on as usual: approving step 0 opens step 1 (here inside the decision).
    nxt = decide(stub, lead, open_next=open_req(inst, 1, 2)).next_opened
    assert [t.approver_id for t in pending(nxt)] == ["boss"]


def test_open_first_is_ignored_without_steps_or_for_another_step(service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key="pf-free", form_key="pf-free",
                                       options=pb.PolicyOptions(no_approval=True)), timeout=10)
    free = plan_opening(stub, "pf-free", first_req())
    assert free.instance_id and list(free.steps) == [] and not free.HasField("first_opened")
    assert step_opened_events(engine, free.instance_id, 0) == []

    put(stub, "pf-other", "pf-other", step("经理", user="lead"), step("总监", user="boss"))
    # Not the first step, or another instance than the one planned: left to OpenStep.
    for ask in (first_req(index=1), first_req(instance_id="another-instance")):
        got = plan_opening(stub, "pf-other", ask)
        assert not got.HasField("first_opened")
        assert step_opened_events(engine, got.instance_id, 0) == []
        assert step_opened_events(engine, got.instance_id, 1) == []
        assert [t.approver_id for t in pending(stub.OpenStep(open_req(got.instance_id, 0), timeout=10))] == ["lead"]


def test_a_self_approved_first_step_is_reported_as_opened_approved(service: tuple[Stub, sa.Engine]) -> None:
    """The submitter is the first approver and the policy self-approves: the opening inside the
    planning approves step 0 by policy, like OpenStep would, and the answer says so."""
    stub, _ = service
    stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key="pf-self", form_key="pf-self",
                                       steps=[step("经理", user="lead"), step("总监", user="boss")],
                                       options=pb.PolicyOptions(on_submitter_is_approver="self_approve")), timeout=10)
    planned = plan_opening(stub, "pf-self", first_req(), submitter="lead")
    opened = planned.first_opened
    assert (opened.step.status, opened.auto_approved, list(opened.tasks)) == ("approved", True, [])
    assert [t.approver_id for t in pending(stub.OpenStep(open_req(planned.instance_id, 1), timeout=10))] == ["boss"]


def test_a_resubmission_opens_the_step_it_resumes_at_in_the_same_call(service: tuple[Stub, sa.Engine]) -> None:
    """ResumeInstance's open_first: the returning step, asked for by the workflow before the call
    (it expects the chain to resume there), opens in the resume's transaction; asked for another
    step (the chain resumes elsewhere), it is left to OpenStep."""
    stub, engine = service
    put(stub, "pf-ret", "pf-ret", step("经理", user="lead"), step("总监", user="boss"))
    f = facts("pf-ret")
    planned = stub.PlanChain(pb.PlanChainRequest(request_id=rid(), project=f, submitter_id="rep",
                                                 open_first=first_req()), timeout=10)
    inst = planned.instance_id
    [lead] = pending(planned.first_opened)
    [boss] = pending(decide(stub, lead, open_next=open_req(inst, 1, 2)).next_opened)
    assert decide(stub, boss, "return").step_outcome == "returned"

    ask = first_req(index=1, seq=3)
    request_id = rid()
    resumed = stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=request_id, instance_id=inst, project=f,
                                                           actor_id="rep", open_first=ask), timeout=10)
    assert (resumed.instance_id, resumed.resume_from) == (inst, 1) and resumed.HasField("first_opened")
    [again] = pending(resumed.first_opened)
    assert again.approver_id == "boss" and again.id != boss.id
    assert step_opened_events(engine, inst, 1) == [f"{WID}:approval.step_opened:{inst}:1:2",
                                                   f"{WID}:approval.step_opened:{inst}:1:3"]
    # A retry answers the same; the workflow's OpenStep with that id gets this opening.
    assert stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=request_id, instance_id=inst, project=f,
                                                        actor_id="rep", open_first=ask), timeout=10) == resumed
    later = pb.OpenStepRequest(request_id=ask.request_id, instance_id=inst, step_index=1, report_scope=WID,
                               report_key="3")
    assert stub.OpenStep(later, timeout=10) == resumed.first_opened
    assert len(step_opened_events(engine, inst, 1)) == 2

    # Returned again; asked for step 0 while the chain resumes at step 1: ignored.
    assert decide(stub, again, "return").step_outcome == "returned"
    other = stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=rid(), instance_id=inst, project=f,
                                                         actor_id="rep", open_first=first_req(index=0, seq=4)),
                                timeout=10)
    assert other.resume_from == 1 and not other.HasField("first_opened")
    assert len(step_opened_events(engine, inst, 1)) == 2
