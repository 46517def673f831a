"""Action links at the approval service over real gRPC: a link decides once (recorded as used in
the decision's transaction, a second use → FAILED_PRECONDITION link_used, also when two uses
race), and CheckActionLink answers usable / used / not_assignee / decided."""

from __future__ import annotations

import threading
from typing import Any

import grpc
import pytest

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from tests.service import test_approval_service as base
from tests.service.test_approval_service import facts, fail, instance, open_step, plan, rid, step

registry_addr = base.registry_addr
stub = base.stub

Stub = pb_grpc.ApprovalServiceStub


def started(stub: Stub, form: str, *steps: pb.PolicyStep) -> tuple[pb.ProjectFacts, list[pb.ApprovalTask]]:
    stub.PutPolicy(pb.PutPolicyRequest(request_id=rid(), key=form, form_key=form, steps=steps), timeout=10)
    f = facts(form)
    planned = plan(stub, f)
    opened = open_step(stub, planned.instance_id, 0)
    return f, [t for t in opened.tasks if t.status == pb.TASK_STATUS_PENDING]


def by_link(stub: Stub, task: pb.ApprovalTask, link_id: str, action: str = "approve", *,
            request_id: str = "") -> pb.RecordDecisionResponse:
    return stub.RecordDecision(
        pb.RecordDecisionRequest(request_id=request_id or rid(), task_id=task.id, actor_id=task.approver_id,
                                 action=action, comment="链接审批", channel="link", link_id=link_id),
        timeout=10,
    )


def check(stub: Stub, task: pb.ApprovalTask, link_id: str, approver: str = "") -> str:
    resp = stub.CheckActionLink(
        pb.CheckActionLinkRequest(link_id=link_id, task_id=task.id, approver_id=approver or task.approver_id),
        timeout=10,
    )
    assert resp.task.id == task.id
    return resp.state


def api(stub: Stub, task: pb.ApprovalTask, action: str, **kw: Any) -> pb.RecordDecisionResponse:
    return stub.RecordDecision(pb.RecordDecisionRequest(request_id=rid(), task_id=task.id, actor_id=task.approver_id,
                                                        action=action, channel="api", **kw), timeout=10)


def test_a_link_decides_once_and_is_recorded_as_link(stub: Stub) -> None:
    f, [lead] = started(stub, "l-once", step("组长", user="lead"))
    link = rid()
    assert check(stub, lead, link) == "usable"
    first = by_link(stub, lead, link, request_id="link-once-1")
    assert first.step_outcome == "approved"
    # A retried request (same request id) answers the first response, no error.
    assert by_link(stub, lead, link, request_id="link-once-1") == first
    # Any other use of the link: 410-style link_used, before the already-decided check.
    code, reason, _ = fail(lambda: by_link(stub, lead, link))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "link_used")
    code, reason, _ = fail(lambda: by_link(stub, lead, link, "reject"))
    assert reason == "link_used"
    assert check(stub, lead, link) == "used"
    [decision] = [d for d in instance(stub, f.project_id).steps[0].decisions if d.action == "approve"]
    assert (decision.user_id, decision.channel) == ("lead", "link")
    assert decision.data.fields["link_id"].string_value == link


def test_a_link_only_approves_or_rejects(stub: Stub) -> None:
    _, [lead] = started(stub, "l-actions", step("组长", user="lead"))
    code, reason, fields = fail(lambda: by_link(stub, lead, rid(), "return"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "action" in fields
    assert check(stub, lead, rid()) == "usable"


def test_two_uses_at_once_exactly_one_succeeds(stub: Stub) -> None:
    # "all" of two approvers: the step stays pending after one decision, so a second use of the
    # same link would otherwise be a legal decision of another task.
    for round_no in range(3):
        _, tasks = started(stub, f"l-race-{round_no}", step("财务", "role", role="finance", mode="all"))
        fin1 = next(t for t in tasks if t.approver_id == "fin1")
        link = rid()
        results: list[Any] = []
        barrier = threading.Barrier(4)

        def use(results: list[Any] = results, fin1: pb.ApprovalTask = fin1, link: str = link,
                barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                results.append(by_link(stub, fin1, link))
            except grpc.RpcError as err:
                results.append(err)

        threads = [threading.Thread(target=use) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        ok = [r for r in results if isinstance(r, pb.RecordDecisionResponse)]
        errors = [r for r in results if isinstance(r, grpc.RpcError)]
        assert len(ok) == 1 and len(errors) == 3, results
        assert all(e.code() == grpc.StatusCode.FAILED_PRECONDITION for e in errors)
        assert check(stub, fin1, link) == "used"


def test_two_links_of_one_task_at_once_decide_once(stub: Stub) -> None:
    _, [lead] = started(stub, "l-two-links", step("组长", user="lead"))
    links = [rid(), rid()]
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def use(link: str) -> None:
        barrier.wait()
        try:
            results.append(by_link(stub, lead, link))
        except grpc.RpcError as err:
            results.append(err)

    threads = [threading.Thread(target=use, args=(link,)) for link in links]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(isinstance(r, pb.RecordDecisionResponse) for r in results) == 1
    states = sorted(check(stub, lead, link) for link in links)
    assert states == ["decided", "used"]


def test_decided_through_the_api_or_by_another_approver(stub: Stub) -> None:
    _, [lead] = started(stub, "l-api", step("组长", user="lead"))
    api(stub, lead, "approve")
    assert check(stub, lead, rid()) == "decided"
    code, reason, _ = fail(lambda: by_link(stub, lead, rid()))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "already_decided")

    # "any": fin2 decides, fin1's task is closed by that decision, not moved away from fin1.
    _, tasks = started(stub, "l-any", step("财务", "role", role="finance", mode="any"))
    fin1 = next(t for t in tasks if t.approver_id == "fin1")
    fin2 = next(t for t in tasks if t.approver_id == "fin2")
    api(stub, fin2, "reject")
    assert check(stub, fin1, rid()) == "decided"

    # The approval was withdrawn.
    f, [lead] = started(stub, "l-withdrawn", step("组长", user="lead"))
    inst = instance(stub, f.project_id)
    stub.CancelInstance(pb.CancelInstanceRequest(request_id=rid(), instance_id=inst.id, actor_id="rep",
                                                 action="withdraw"), timeout=10)
    assert check(stub, lead, rid()) == "decided"


def test_transfer_and_reassign_leave_the_old_link_not_assignee(stub: Stub) -> None:
    _, [lead] = started(stub, "l-transfer", step("组长", user="lead"))
    moved = api(stub, lead, "transfer", to_user_id="boss")
    assert check(stub, lead, rid()) == "not_assignee"
    [boss] = moved.new_tasks
    assert check(stub, boss, rid()) == "usable"
    # A link bound to another approver than the task's.
    assert check(stub, boss, rid(), approver="lead") == "not_assignee"

    f, [lead] = started(stub, "l-reassign", step("组长", user="lead"))
    inst = instance(stub, f.project_id)
    stub.ReassignStep(pb.ReassignStepRequest(request_id=rid(), instance_id=inst.id, step_index=0,
                                             from_user_id="lead", to_user_id="ceo", actor_id="admin"), timeout=10)
    assert check(stub, lead, rid()) == "not_assignee"
    # Deciding with the old link (a check that raced the reassign): refused as not the assignee.
    code, reason, _ = fail(lambda: by_link(stub, lead, rid()))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "not_assignee")


def test_escalation_keeps_the_original_approvers_link_usable(stub: Stub) -> None:
    s = pb.PolicyStep(name="经理", approvers=pb.Approvers(type="user", user_id="lead"), sla="8wh",
                      on_timeout="escalate", escalate_to=pb.Approvers(type="user", user_id="boss"))
    f, [lead] = started(stub, "l-escalate", s)
    inst = instance(stub, f.project_id)
    fired = stub.FireTimer(pb.FireTimerRequest(request_id=rid(), instance_id=inst.id, step_index=0, timer_index=0),
                           timeout=10)
    assert fired.fired and fired.action == "escalate"
    [boss] = fired.new_tasks
    link = rid()
    assert check(stub, lead, link) == "usable" and check(stub, boss, rid()) == "usable"
    assert by_link(stub, lead, link).step_outcome == "approved"
    assert check(stub, lead, link) == "used" and check(stub, boss, rid()) == "decided"


def test_check_validates_and_unknown_task_is_not_found(stub: Stub) -> None:
    code, reason, _ = fail(lambda: stub.CheckActionLink(
        pb.CheckActionLinkRequest(link_id=rid(), task_id="nope", approver_id="lead"), timeout=10))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _, fields = fail(lambda: stub.CheckActionLink(pb.CheckActionLinkRequest(task_id="x"), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"link_id", "approver_id"}


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_link_decision_outcomes(stub: Stub, action: str) -> None:
    f, [lead] = started(stub, f"l-outcome-{action}", step("组长", user="lead"))
    resp = by_link(stub, lead, rid(), action)
    assert resp.step_outcome == ("approved" if action == "approve" else "rejected")
    assert instance(stub, f.project_id).status == resp.step_outcome
