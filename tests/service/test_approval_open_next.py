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
