"""The task-closing outbox over real gRPC: every path that ends a to-do writes one row with why
and by whom (a decision, an 或签 colleague's decision, a transfer, a withdrawal), read oldest
first and acknowledged once."""

from __future__ import annotations

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from tests.service import test_approval_service as base
from tests.service.test_approval_engine_service import act, pending, started
from tests.service.test_approval_service import open_step, rid, step

registry_addr = base.registry_addr
stub = base.stub

Stub = pb_grpc.ApprovalServiceStub


def drain(stub: Stub, project_id: str) -> list[tuple[str, str, str]]:
    """(approver, outcome, actor) of the project's unacknowledged closings; acknowledges them."""
    rows = list(stub.ClaimTaskClosings(pb.ClaimTaskClosingsRequest(limit=500), timeout=10).closings)
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    mine = [r for r in rows if r.project_id == project_id]
    acked = stub.AckTaskClosings(pb.AckTaskClosingsRequest(seqs=[r.seq for r in mine]), timeout=10)
    assert acked.acknowledged == len(mine)
    # Acknowledged rows are not read again, and a second acknowledgement changes nothing.
    assert stub.AckTaskClosings(pb.AckTaskClosingsRequest(seqs=[r.seq for r in mine]), timeout=10).acknowledged == 0
    return sorted((r.approver_id, r.outcome, r.actor_id) for r in mine)


def test_any_mode_decision_closes_the_colleagues_task(stub: Stub) -> None:
    f, planned = started(stub, "c-any", step("财务", "role", role="finance", mode="any"))
    fin1, fin2 = pending(open_step(stub, planned.instance_id, 0))
    assert drain(stub, f.project_id) == []  # opening a step closes nothing
    act(stub, fin1, "approve")
    assert drain(stub, f.project_id) == [("fin1", "approved", "fin1"), ("fin2", "closed", "fin1")]
    assert drain(stub, f.project_id) == []


def test_transfer_reject_and_withdraw(stub: Stub) -> None:
    f, planned = started(stub, "c-transfer", step("会签", "role", role="finance", mode="all"))
    fin1, fin2 = pending(open_step(stub, planned.instance_id, 0))
    moved = act(stub, fin1, "transfer", to_user_id="boss")
    assert drain(stub, f.project_id) == [("fin1", "transferred", "fin1")]
    act(stub, fin2, "reject")
    # fin2's rejection settles the step: boss's task closes with it.
    assert drain(stub, f.project_id) == [("boss", "closed", "fin2"), ("fin2", "rejected", "fin2")]
    assert moved.new_tasks[0].approver_id == "boss"

    g, planned = started(stub, "c-withdraw", step("经理", user="lead"))
    pending(open_step(stub, planned.instance_id, 0))
    stub.CancelInstance(pb.CancelInstanceRequest(request_id=rid(), instance_id=planned.instance_id, actor_id="rep",
                                                 action="withdraw"), timeout=10)
    assert drain(stub, g.project_id) == [("lead", "withdrawn", "rep")]


def test_timeout_and_reassign_close_tasks_as_the_system_and_the_admin(stub: Stub) -> None:
    s = pb.PolicyStep(name="经理", approvers=pb.Approvers(type="user", user_id="lead"), sla="8wh",
                      on_timeout="approve")
    f, planned = started(stub, "c-timeout", s)
    opened = open_step(stub, planned.instance_id, 0)
    last = max(t.index for t in opened.timers)
    fired = stub.FireTimer(pb.FireTimerRequest(request_id=rid(), instance_id=planned.instance_id, step_index=0,
                                               timer_index=last), timeout=10)
    assert fired.fired and fired.step_outcome == "approved"
    assert drain(stub, f.project_id) == [("lead", "closed", "system")]

    g, planned = started(stub, "c-reassign", step("经理", user="lead"))
    pending(open_step(stub, planned.instance_id, 0))
    stub.ReassignStep(pb.ReassignStepRequest(request_id=rid(), instance_id=planned.instance_id, step_index=0,
                                             to_user_id="ceo", actor_id="admin", from_user_id="lead"), timeout=10)
    assert drain(stub, g.project_id) == [("lead", "reassigned", "admin")]
