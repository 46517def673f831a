"""A step with carbon copies (抄送) opens again after a return — to the submitter and resumed, or to
an earlier step — over real gRPC on a real database: by OpenStep, by ResumeInstance's
``open_first`` and by RecordDecision's ``open_next``. It used to insert the step's copies a second
time and fail on ``uq_approval_cc_instance_step_user`` (gRPC INTERNAL, retried forever by the
lifecycle workflow's activity).

What a reopened step shows: each user keeps the one copy of that step (the copy made the first time,
as it was — who copied, when, read or not); the opening still names the step's cc users in its
answer (``OpenStepResponse.cc``), as every opening does: the workflow sends them the cc notice of
that opening (its own request id per opening), as the step's approvers get a new approval request.
A user copied by hand on a step before it opened keeps that copy when the step's policy copies him
too."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from tests.service import test_approval_open_next as open_next
from tests.service import test_approval_service as base
from tests.service.test_approval_open_next import decide, open_req, pending, step_opened_events
from tests.service.test_approval_service import facts, rid

registry_addr = base.registry_addr
service = open_next.service  # the approval service of the module, as test_approval_open_next starts it

Stub = pb_grpc.ApprovalServiceStub
WID = "project-p1"


def step(name: str, approver: str, *cc: str) -> pb.PolicyStep:
    return pb.PolicyStep(name=name, approvers=pb.Approvers(type="user", user_id=approver), mode="any",
                         cc=[pb.Approvers(type="user", user_id=u) for u in cc])


def started(stub: Stub, form: str, *steps: pb.PolicyStep) -> tuple[pb.ProjectFacts, str]:
    stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key=form, form_key=form, steps=steps), timeout=10)
    f = facts(form)
    return f, stub.PlanChain(pb.PlanChainRequest(request_id=rid(), project=f, submitter_id="rep"),
                             timeout=10).instance_id


def copies(engine: sa.Engine, instance_id: str) -> list[tuple[Any, ...]]:
    """The instance's carbon copies: (step, user, id, by, created_at, read_at), in that order."""
    with engine.connect() as conn:
        found = conn.execute(sa.text(
            "SELECT step_index, user_id, id, by_user_id, created_at, read_at FROM approval_cc"
            " WHERE instance_id = :i ORDER BY step_index, user_id"), {"i": instance_id})
        return [tuple(r) for r in found]


def per_step(rows: list[tuple[Any, ...]]) -> list[tuple[int, str, str]]:
    return [(r[0], r[1], r[3]) for r in rows]


def open_at(stub: Stub, instance_id: str, index: int, seq: int, request_id: str = "") -> pb.OpenStepResponse:
    req = open_req(instance_id, index, seq)
    if request_id:
        req.request_id = request_id
    return stub.OpenStep(req, timeout=10)


def resume(stub: Stub, f: pb.ProjectFacts, instance_id: str,
           open_first: pb.OpenStepRequest | None = None) -> pb.ResumeInstanceResponse:
    return stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=rid(), instance_id=instance_id, project=f,
                                                        actor_id="rep", open_first=open_first), timeout=10)


def test_a_cc_step_returned_to_the_submitter_opens_again_after_the_resubmission(
        service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    f, inst = started(stub, "cc-resume", step("经理", "lead", "fin1", "fin2"), step("总监", "boss"))
    first = open_at(stub, inst, 0, 1)
    assert list(first.cc) == ["fin1", "fin2"]
    before = copies(engine, inst)
    assert per_step(before) == [(0, "fin1", "system"), (0, "fin2", "system")]
    [fin1] = [c for c in stub.ListCc(pb.ListCcRequest(user_id="fin1"), timeout=10).items if c.instance_id == inst]
    stub.MarkCcRead(pb.MarkCcReadRequest(cc_id=fin1.id, user_id="fin1"), timeout=10)
    read = copies(engine, inst)
    assert read[0][5] is not None and read[1:] == before[1:]

    assert decide(stub, pending(first)[0], "return").step_outcome == "returned"
    assert resume(stub, f, inst).resume_from == 0
    request_id = rid()
    again = open_at(stub, inst, 0, 2, request_id)
    [task] = pending(again)
    assert task.approver_id == "lead" and task.id != pending(first)[0].id
    # Named again (the workflow sends this opening's cc notice); one copy each, as it was.
    assert list(again.cc) == ["fin1", "fin2"] and list(again.step.cc) == ["fin1", "fin2"]
    assert copies(engine, inst) == read
    # A retry of the opening answers the same and copies nothing.
    assert open_at(stub, inst, 0, 2, request_id) == again
    assert copies(engine, inst) == read
    shown = stub.GetInstance(pb.GetInstanceRequest(project_id=f.project_id), timeout=10).instance
    assert [(c.step_index, c.user_id) for c in shown.cc] == [(0, "fin1"), (0, "fin2")]
    for user in ("fin1", "fin2"):
        assert len([c for c in stub.ListCc(pb.ListCcRequest(user_id=user), timeout=10).items
                    if c.instance_id == inst]) == 1
    assert step_opened_events(engine, inst, 0) == [f"{WID}:approval.step_opened:{inst}:0:1",
                                                   f"{WID}:approval.step_opened:{inst}:0:2"]
    # The chain goes on.
    assert decide(stub, task).step_outcome == "approved"
    assert [t.approver_id for t in pending(open_at(stub, inst, 1, 3))] == ["boss"]


def test_resume_opens_the_returned_cc_step_in_the_same_call(service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    f, inst = started(stub, "cc-open-first", step("经理", "lead"), step("总监", "boss", "fin1"))
    decide(stub, pending(open_at(stub, inst, 0, 1))[0])
    second = open_at(stub, inst, 1, 2)
    assert list(second.cc) == ["fin1"]
    before = copies(engine, inst)
    assert decide(stub, pending(second)[0], "return").step_outcome == "returned"
    resumed = resume(stub, f, inst, open_req(inst, 1, 3))
    assert resumed.resume_from == 1 and resumed.HasField("first_opened")
    assert [t.approver_id for t in pending(resumed.first_opened)] == ["boss"]
    assert list(resumed.first_opened.cc) == ["fin1"]
    assert copies(engine, inst) == before and per_step(before) == [(1, "fin1", "system")]


def test_a_return_to_an_earlier_step_reopens_cc_steps_by_open_step_and_open_next(
        service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    _, inst = started(stub, "cc-back", step("经理", "lead", "fin1"), step("总监", "boss", "fin2", "ceo"))
    [lead] = pending(open_at(stub, inst, 0, 1))
    [boss] = pending(decide(stub, lead, open_next=open_req(inst, 1, 2)).next_opened)
    before = copies(engine, inst)
    assert per_step(before) == [(0, "fin1", "system"), (1, "ceo", "system"), (1, "fin2", "system")]
    back = stub.RecordDecision(pb.RecordDecisionRequest(request_id=rid(), task_id=boss.id, actor_id="boss",
                                                        action="return", channel="api", to_step=0), timeout=10)
    assert (back.step_outcome, back.return_to) == ("returned", 0)
    reopened = open_at(stub, inst, 0, 3)
    assert list(reopened.cc) == ["fin1"]
    nxt = decide(stub, pending(reopened)[0], open_next=open_req(inst, 1, 4))
    assert nxt.HasField("next_opened") and list(nxt.next_opened.cc) == ["fin2", "ceo"]
    assert [t.approver_id for t in pending(nxt.next_opened)] == ["boss"]
    assert copies(engine, inst) == before
    assert step_opened_events(engine, inst, 1) == [f"{WID}:approval.step_opened:{inst}:1:2",
                                                   f"{WID}:approval.step_opened:{inst}:1:4"]


def test_a_user_copied_by_hand_before_the_step_opens_keeps_that_copy(service: tuple[Stub, sa.Engine]) -> None:
    stub, engine = service
    _, inst = started(stub, "cc-by-hand", step("经理", "lead"), step("总监", "boss", "fin1", "fin2"))
    [lead] = pending(open_at(stub, inst, 0, 1))
    out = stub.RecordAction(pb.RecordActionRequest(request_id=rid(), instance_id=inst, step_index=1, actor_id="rep",
                                                   action="cc", user_ids=["fin1"]), timeout=10)
    assert [(c.step_index, c.user_id, c.by_user_id) for c in out.cc] == [(1, "fin1", "rep")]
    decide(stub, lead)
    second = open_at(stub, inst, 1, 2)
    assert list(second.cc) == ["fin1", "fin2"]
    assert per_step(copies(engine, inst)) == [(1, "fin1", "rep"), (1, "fin2", "system")]
