"""Approval engine over real gRPC (registry for the org): return / resume, transfer, add-sign,
sequential and ratio modes, timers (remind, escalate, timeout) and their race with decisions,
cancel, reassign of a blocked step, delegation, cc receipts, comments, what-if, provenance."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from tests.service import test_approval_service as base
from tests.service.test_approval_service import facts, fail, instance, open_step, plan, put, rid, step

# The service and its registry, shared with the base tests' fixtures.
registry_addr = base.registry_addr
stub = base.stub

Stub = pb_grpc.ApprovalServiceStub


def plain(msg: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(msg)


def pending(resp: Any) -> list[pb.ApprovalTask]:
    return [t for t in resp.tasks if t.status == pb.TASK_STATUS_PENDING]


def act(stub: Stub, task: pb.ApprovalTask, action: str, **kw: Any) -> pb.RecordDecisionResponse:
    req = pb.RecordDecisionRequest(request_id=rid(), task_id=task.id, actor_id=kw.pop("actor", task.approver_id),
                                   action=action, channel="api", **kw)
    return stub.RecordDecision(req, timeout=10)


def todos(stub: Stub, user: str) -> list[pb.ApprovalTask]:
    return list(stub.ListTodos(pb.ListTodosRequest(user_id=user), timeout=10).tasks)


def started(stub: Stub, form: str, *steps: pb.PolicyStep, options: pb.PolicyOptions | None = None,
            amount: str = "100000", submitter: str = "rep") -> tuple[pb.ProjectFacts, pb.PlanChainResponse]:
    stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key=form, form_key=form, steps=steps, options=options),
                   timeout=10)
    f = facts(form, amount)
    return f, plan(stub, f, submitter)


def test_return_to_submitter_and_resume_with_a_changed_form(stub: Stub) -> None:
    f, planned = started(stub, "e-return", step("组长", user="lead"), step("组长复核", user="lead"))
    first = pending(open_step(stub, planned.instance_id, 0))[0]
    back = act(stub, first, "return", comment="请补充")
    assert (back.step_outcome, back.return_to) == ("returned", -1)
    inst = instance(stub, f.project_id)
    assert (inst.status, inst.returned_step, inst.steps[0].status) == ("returned", 0, "returned")
    assert todos(stub, "lead") == [] or all(t.project_id != f.project_id for t in todos(stub, "lead"))
    # The form changed before resubmitting.
    f.amount = "150000"
    resumed = stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=rid(), instance_id=planned.instance_id,
                                                           project=f, actor_id="rep"), timeout=10)
    assert resumed.resume_from == 0
    assert fail(lambda: stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=rid(), instance_id=planned.instance_id,
                                                                      project=f), timeout=10))[0] == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    again = pending(open_step(stub, planned.instance_id, 0))[0]
    assert again.id != first.id
    act(stub, again, "approve")
    # Same approver on the next step, approved after the change: auto-approved.
    second = open_step(stub, planned.instance_id, 1)
    assert second.auto_approved
    inst = instance(stub, f.project_id)
    assert inst.status == "approved" and plain(inst.inputs)["project"]["amount"] == "150000"


def test_resubmission_with_a_raised_amount_is_planned_anew(stub: Stub) -> None:
    """Returned at 100,000 (one step), resubmitted at 900,000: the chain the amount now requires
    (经理 then 总监) is planned from the start on a new instance, and the provenance says why."""
    f, planned = started(stub, "e-raise", step("经理", user="lead"),
                         step("总监", user="boss", when="project.amount >= 500000.0"))
    assert [s.name for s in planned.steps] == ["经理"]
    act(stub, pending(open_step(stub, planned.instance_id, 0))[0], "return", comment="补充材料")
    f.amount = "900000"
    req = pb.ResumeInstanceRequest(request_id=rid(), instance_id=planned.instance_id, project=f, actor_id="rep")
    resumed = stub.ResumeInstance(req, timeout=10)
    assert resumed == stub.ResumeInstance(req, timeout=10)  # a retried activity gets the same answer
    assert resumed.instance_id != planned.instance_id and resumed.resume_from == 0
    assert [s.name for s in resumed.steps] == ["经理", "总监"]
    assert resumed.replanned == "amount 100000.00 → 900000.00"
    inst = instance(stub, f.project_id)
    assert inst.id == resumed.instance_id and inst.status == "pending"
    assert plain(inst.inputs)["replanned"] == {"reason": "amount 100000.00 → 900000.00",
                                                "from_instance": planned.instance_id}
    # The old chain is gone: resuming it again is refused, and lead decides on the new one.
    again = pb.ResumeInstanceRequest(request_id=rid(), instance_id=planned.instance_id, project=f)
    assert fail(lambda: stub.ResumeInstance(again, timeout=10))[0] == grpc.StatusCode.FAILED_PRECONDITION
    act(stub, pending(open_step(stub, resumed.instance_id, 0))[0], "approve")
    boss = pending(open_step(stub, resumed.instance_id, 1))
    assert [t.approver_id for t in boss] == ["boss"]


def test_resubmission_with_the_same_routing_resumes_at_the_returning_step(stub: Stub) -> None:
    f, planned = started(stub, "e-same", step("经理", user="lead"), step("财务", user="boss"),
                         step("总监", user="ceo", when="project.amount >= 500000.0"))
    act(stub, pending(open_step(stub, planned.instance_id, 0))[0], "approve")
    act(stub, pending(open_step(stub, planned.instance_id, 1))[0], "return")
    f.amount = "120000"  # changed, but the policy still plans the same chain
    resumed = stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=rid(), instance_id=planned.instance_id,
                                                           project=f, actor_id="rep"), timeout=10)
    assert (resumed.instance_id, resumed.resume_from, resumed.replanned) == (planned.instance_id, 1, "")


def test_form_change_disables_auto_approval_across_it(stub: Stub) -> None:
    f, planned = started(stub, "e-stale", step("组长", user="lead"), step("总监", user="boss"),
                         step("组长复核", user="lead"))
    act(stub, pending(open_step(stub, planned.instance_id, 0))[0], "approve")
    boss = pending(open_step(stub, planned.instance_id, 1))[0]
    act(stub, boss, "return")
    f.amount = "999999"
    stub.ResumeInstance(pb.ResumeInstanceRequest(request_id=rid(), instance_id=planned.instance_id, project=f),
                        timeout=10)
    act(stub, pending(open_step(stub, planned.instance_id, 1))[0], "approve")
    # lead approved step 0 before the change: step 2 is not auto-approved.
    third = open_step(stub, planned.instance_id, 2)
    assert not third.auto_approved and [t.approver_id for t in pending(third)] == ["lead"]


def test_return_to_an_earlier_step_reopens_from_there(stub: Stub) -> None:
    _, planned = started(stub, "e-back", step("经理", user="boss"), step("财务", user="fin1"))
    act(stub, pending(open_step(stub, planned.instance_id, 0))[0], "approve")
    fin = pending(open_step(stub, planned.instance_id, 1))[0]
    code, _, fields = fail(lambda: act(stub, fin, "return", to_step=1))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"to_step"}
    back = act(stub, fin, "return", to_step=0)
    assert (back.step_outcome, back.return_to) == ("returned", 0)
    reopened = open_step(stub, planned.instance_id, 0)
    assert [t.approver_id for t in pending(reopened)] == ["boss"]
    assert act(stub, pending(reopened)[0], "approve").step_outcome == "approved"


def test_transfer_and_add_approver_positions(stub: Stub) -> None:
    _, planned = started(stub, "e-sign", step("会签", "role", role="finance", mode="all"))
    fin1, fin2 = pending(open_step(stub, planned.instance_id, 0))
    code, _, fields = fail(lambda: act(stub, fin1, "transfer", to_user_id="ghost"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"to_user_id"}
    code, _, fields = fail(lambda: act(stub, fin1, "transfer", to_user_id="fin2"))
    assert set(fields) == {"to_user_id"}  # already an approver of the step
    moved = act(stub, fin1, "transfer", to_user_id="boss")
    [boss] = moved.new_tasks
    assert (boss.approver_id, moved.step_outcome) == ("boss", "pending")
    assert moved.pending_approvers == ["boss", "fin2"]
    # 前加签 by fin2 (ceo first), 后加签 by boss (lead after).
    before = act(stub, fin2, "add_approver", to_user_id="ceo", position="before")
    [ceo] = before.new_tasks
    assert ceo.kind == "before" and before.pending_approvers == ["boss", "ceo"]
    assert fail(lambda: act(stub, fin2, "approve"))[0] == grpc.StatusCode.FAILED_PRECONDITION  # waiting
    released = act(stub, ceo, "approve")
    assert [t.approver_id for t in released.new_tasks] == ["fin2"] and released.step_outcome == "pending"
    after = act(stub, boss, "add_approver", to_user_id="lead", position="after")
    [lead] = after.new_tasks
    assert lead.kind == "after" and after.step_outcome == "pending"
    assert act(stub, fin2, "approve", actor="fin2").step_outcome == "pending"  # lead still to approve
    assert act(stub, lead, "approve").step_outcome == "approved"
    decisions = [(d.user_id, d.action, d.target_user_id) for d in instance(stub, lead.project_id).steps[0].decisions]
    assert decisions == [("fin1", "transfer", "boss"), ("fin2", "add_approver", "ceo"), ("ceo", "approve", ""),
                         ("boss", "add_approver", "lead"), ("fin2", "approve", ""), ("lead", "approve", "")]


def test_sequential_and_ratio_modes(stub: Stub) -> None:
    seq = pb.PolicyStep(name="依次", approvers=pb.Approvers(type="managers_chain"), mode="sequential")
    _, planned = started(stub, "e-seq", seq)
    assert list(planned.steps[0].approvers) == ["lead", "boss", "ceo"]
    [first] = pending(open_step(stub, planned.instance_id, 0))
    assert first.approver_id == "lead"
    nxt = act(stub, first, "approve")
    assert [t.approver_id for t in nxt.new_tasks] == ["boss"] and nxt.step_outcome == "pending"
    nxt = act(stub, nxt.new_tasks[0], "approve")
    assert act(stub, nxt.new_tasks[0], "approve").step_outcome == "approved"

    ratio = pb.PolicyStep(name="半数通过", approvers=pb.Approvers(type="role", role="finance"), mode="ratio", ratio=0.5)
    _, planned = started(stub, "e-ratio", ratio)
    fin1, fin2 = pending(open_step(stub, planned.instance_id, 0))
    assert act(stub, fin1, "reject").step_outcome == "pending"  # half of 2 = 1 approval still reachable
    assert act(stub, fin2, "approve").step_outcome == "approved"


def test_timers_remind_escalate_and_race_with_decisions(stub: Stub) -> None:
    s = pb.PolicyStep(name="经理", approvers=pb.Approvers(type="user", user_id="lead"), sla="8wh", remind_at=0.5,
                      on_timeout="escalate", escalate_to=pb.Approvers(type="user", user_id="boss"),
                      escalation=[pb.LadderLevel(after="2wd", action="approve")])
    _, planned = started(stub, "e-timers", s)
    opened = open_step(stub, planned.instance_id, 0)
    assert [(t.action, t.level, list(t.to)) for t in opened.timers] == [
        ("remind", 0, []), ("escalate", 0, ["boss"]), ("approve", 1, [])
    ]
    assert opened.due_at == opened.timers[1].at and opened.tasks[0].due_at == opened.due_at

    def fire(i: int, request_id: str = "") -> pb.FireTimerResponse:
        return stub.FireTimer(pb.FireTimerRequest(request_id=request_id or rid(), instance_id=planned.instance_id,
                                                  step_index=0, timer_index=i), timeout=10)

    remind = fire(0, "timer-0")
    assert remind.fired and list(remind.remind_user_ids) == ["lead"]
    assert fire(0, "timer-0") == remind  # a retried fire is applied once
    esc = fire(1)
    [boss] = esc.new_tasks
    assert (boss.approver_id, boss.kind, list(esc.pending_approvers)) == ("boss", "escalated", ["boss", "lead"])
    # Decision and timeout approve race: exactly one takes effect.
    results: list[Any] = []

    def run(fn: Callable[[], Any]) -> None:
        try:
            results.append(fn())
        except grpc.RpcError as err:
            results.append(err.code())

    threads = [threading.Thread(target=run, args=(lambda: act(stub, boss, "reject"),)),
               threading.Thread(target=run, args=(lambda: fire(2),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decided = [r for r in results if isinstance(r, pb.RecordDecisionResponse)]
    fired = [r for r in results if isinstance(r, pb.FireTimerResponse)]
    conflicts = [r for r in results if r == grpc.StatusCode.FAILED_PRECONDITION]
    assert len(fired) == 1
    if fired[0].fired:
        assert not decided and len(conflicts) == 1
        assert instance(stub, boss.project_id).status == "approved"
    else:
        assert decided and decided[0].step_outcome == "rejected"
        assert instance(stub, boss.project_id).status == "rejected"
    actions = [d.action for d in instance(stub, boss.project_id).steps[0].decisions]
    assert actions[:2] == ["remind", "escalate"] and len(actions) == 3


def test_cancel_closes_everything_and_later_actions_conflict(stub: Stub) -> None:
    f, planned = started(stub, "e-cancel", step("经理", user="lead"))
    [task] = pending(open_step(stub, planned.instance_id, 0))
    out = stub.CancelInstance(pb.CancelInstanceRequest(request_id=rid(), instance_id=planned.instance_id,
                                                       actor_id="rep", action="withdraw", comment="不做了"), timeout=10)
    assert out.instance.status == "cancelled"
    assert [a.action for a in out.instance.actions] == ["withdraw"]
    assert all(t.project_id != f.project_id for t in todos(stub, "lead"))
    assert fail(lambda: act(stub, task, "approve"))[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert fail(lambda: stub.CancelInstance(pb.CancelInstanceRequest(request_id=rid(), instance_id=planned.instance_id),
                                            timeout=10))[0] == grpc.StatusCode.FAILED_PRECONDITION


def test_blocked_step_waits_for_an_admin_to_assign(stub: Stub) -> None:
    nobody = pb.PolicyStep(name="法务", approvers=pb.Approvers(type="manager_level", level=9))
    options = pb.PolicyOptions(on_no_approver="block")
    f, planned = started(stub, "e-block", nobody, options=options)
    assert planned.steps[0].blocked and plain(planned.steps[0].provenance)["notes"][0]["kind"] == "no_approver"
    opened = open_step(stub, planned.instance_id, 0)
    assert opened.step.status == "pending" and not opened.tasks and opened.step.blocked
    moved = stub.ReassignStep(pb.ReassignStepRequest(request_id=rid(), instance_id=planned.instance_id, step_index=0,
                                                     to_user_id="ceo", actor_id="admin", comment="指派"), timeout=10)
    [ceo] = moved.new_tasks
    assert ceo.approver_id == "ceo" and not moved.step.blocked
    assert act(stub, ceo, "approve").step_outcome == "approved"
    assert instance(stub, f.project_id).steps[0].decisions[0].action == "reassign"


def test_delegation_lets_the_delegate_act_for_the_approver(stub: Stub) -> None:
    now = datetime.now(UTC)
    req = pb.SetDelegationRequest(request_id=rid(), user_id="boss", delegate_id="lead")
    req.starts_at.FromDatetime(now - timedelta(hours=1))
    req.ends_at.FromDatetime(now + timedelta(hours=1))
    stub.SetDelegation(req, timeout=10)
    try:
        f, planned = started(stub, "e-deleg", step("总监", user="boss"))
        [task] = pending(open_step(stub, planned.instance_id, 0))
        mine = [t for t in todos(stub, "lead") if t.project_id == f.project_id]
        assert [(t.id, t.on_behalf_of) for t in mine] == [(task.id, "boss")]
        got = stub.GetTask(pb.GetTaskRequest(task_id=task.id, actor_id="lead"), timeout=10)
        assert (got.may_act, got.on_behalf_of) == (True, "boss")
        assert not stub.GetTask(pb.GetTaskRequest(task_id=task.id, actor_id="rep"), timeout=10).may_act
        assert f.project_id in stub.ListApproverProjects(pb.ListApproverProjectsRequest(user_id="lead"),
                                                         timeout=10).project_ids
        out = act(stub, task, "approve", actor="lead")
        assert out.on_behalf_of == "boss"
        [d] = instance(stub, f.project_id).steps[0].decisions
        assert (d.user_id, d.on_behalf_of) == ("lead", "boss")
    finally:
        stub.SetDelegation(pb.SetDelegationRequest(request_id=rid(), user_id="boss"), timeout=10)
    assert not stub.GetDelegation(pb.GetDelegationRequest(user_id="boss"), timeout=10).HasField("delegation")


def test_cc_receipts_comments_and_policy_cc(stub: Stub) -> None:
    s = pb.PolicyStep(name="经理", approvers=pb.Approvers(type="user", user_id="lead"),
                      cc=[pb.Approvers(type="user", user_id="fin1")])
    f, planned = started(stub, "e-cc", s)
    opened = open_step(stub, planned.instance_id, 0)
    assert list(opened.cc) == ["fin1"]
    att = struct_pb2.ListValue()
    att.add_struct().update({"name": "合同.pdf", "url": "https://x/c.pdf"})
    stub.RecordAction(pb.RecordActionRequest(request_id=rid(), instance_id=planned.instance_id, step_index=-1,
                                             actor_id="rep", action="comment", comment="附合同", attachments=att),
                      timeout=10)
    out = stub.RecordAction(pb.RecordActionRequest(request_id=rid(), instance_id=planned.instance_id, step_index=-1,
                                                   actor_id="lead", action="cc", user_ids=["fin1", "fin2"]), timeout=10)
    assert [c.user_id for c in out.cc] == ["fin2"]  # fin1 was already copied
    [copy] = [c for c in stub.ListCc(pb.ListCcRequest(user_id="fin2"), timeout=10).items
              if c.project_id == f.project_id]
    read = stub.MarkCcRead(pb.MarkCcReadRequest(cc_id=copy.id, user_id="fin2"), timeout=10).cc
    assert read.read_at.seconds > 0
    assert stub.MarkCcRead(pb.MarkCcReadRequest(cc_id=copy.id, user_id="fin2"), timeout=10).cc.read_at == read.read_at
    assert fail(lambda: stub.MarkCcRead(pb.MarkCcReadRequest(cc_id=copy.id, user_id="rep"), timeout=10))[0] == (
        grpc.StatusCode.NOT_FOUND
    )
    inst = instance(stub, f.project_id)
    assert [c.user_id for c in inst.cc] == ["fin1", "fin2"]
    comment = inst.steps[0].decisions[0]
    assert (comment.action, plain(comment.data)["attachments"][0]["name"]) == ("comment", "合同.pdf")


def test_what_if_reports_routing_differences(stub: Stub) -> None:
    put(stub, "e-whatif", "f-whatif", step("经理", "manager_of_submitter"),
        step("财务", "role", role="finance", when="project.amount >= 500000.0"))
    small, big = facts("f-whatif", "1000"), facts("f-whatif", "900000")
    plan(stub, small)
    plan(stub, big)
    draft = [step("经理", user="boss"), step("总裁", user="ceo", when="project.amount >= 500000.0")]
    out = stub.WhatIf(pb.WhatIfRequest(form_key="f-whatif", steps=draft, limit=10), timeout=10)
    assert (out.evaluated, out.changed) == (2, 2)
    by = {i.project_id: i for i in out.items}
    assert list(by[big.project_id].added) == ["总裁"] and list(by[big.project_id].removed) == ["财务"]
    assert [(c.step, list(c.before), list(c.after)) for c in by[small.project_id].approvers_changed] == [
        ("经理", ["lead"], ["boss"])
    ]
    code, _, fields = fail(lambda: stub.WhatIf(pb.WhatIfRequest(form_key="f-whatif", steps=[]), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "steps" in fields


def test_new_approver_types_over_the_real_directory(stub: Stub) -> None:
    _, planned = started(
        stub, "e-types",
        pb.PolicyStep(name="二级经理", approvers=pb.Approvers(type="manager_level", level=2)),
        pb.PolicyStep(name="财务部长", approvers=pb.Approvers(type="department_head", department_id="sales")),
        pb.PolicyStep(name="到总监为止", approvers=pb.Approvers(type="managers_chain", until_role="sales_director"),
                      mode="sequential"),
        pb.PolicyStep(name="本部门财务", approvers=pb.Approvers(type="role", role="finance", scope="department")),
    )
    assert [(s.name, list(s.approvers)) for s in planned.steps] == [
        ("二级经理", ["boss"]), ("财务部长", ["boss"]), ("到总监为止", ["lead", "boss"]),
        ("本部门财务", ["fin1", "fin2"]),
    ]
    assert plain(planned.steps[3].provenance)["approver_rule"]["scope"] == "department"


@pytest.mark.parametrize("role", ["nobody-holds-this"])
def test_unknown_role_is_refused(stub: Stub, role: str) -> None:
    code, _, fields = fail(lambda: put(stub, "e-role", "f-role", step("x", "role", role=role)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"steps[0].approvers.role"}


def test_a_task_says_since_when_it_waits(stub: Stub) -> None:
    """opened_at: when the task became pending; a task held back by a 前加签 has none until released."""
    _, planned = started(stub, "e-opened", step("会签", "role", role="finance", mode="all", sla="3d"))
    opened = open_step(stub, planned.instance_id, 0)
    fin1, fin2 = pending(opened)
    assert fin1.HasField("opened_at") and fin1.opened_at == fin1.created_at
    assert opened.step.opened_at.ToDatetime() <= fin1.opened_at.ToDatetime()
    assert fin1.due_at.ToDatetime() > fin1.opened_at.ToDatetime()
    before = act(stub, fin2, "add_approver", to_user_id="ceo", position="before")
    [ceo] = before.new_tasks
    assert ceo.opened_at.ToDatetime() >= fin2.opened_at.ToDatetime()
    held = stub.GetTask(pb.GetTaskRequest(task_id=fin2.id, actor_id="fin2"), timeout=10).task
    assert held.status == pb.TASK_STATUS_WAITING and not held.HasField("opened_at")
    released = act(stub, ceo, "approve")
    [again] = released.new_tasks
    assert again.id == fin2.id and again.opened_at.ToDatetime() >= ceo.opened_at.ToDatetime()
    [todo] = [t for t in todos(stub, "fin2") if t.id == fin2.id]
    assert todo.opened_at == again.opened_at and todo.created_at == fin2.created_at
