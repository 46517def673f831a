"""Approval state transitions as plain Python, no database: planning, opening a step and every
decision (any / all / sequential / ratio, reject, return to the submitter or to a step, transfer,
add an approver before / after / in parallel), and the decisions that must be refused (stale,
duplicate, not the approver, a used link)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baobei.core.errors import Conflict, Forbidden, Gone, NotFound, ValidationFailed
from services.approval import domain
from tests.unit.approval_builders import (
    FACTS,
    T0,
    actions,
    at,
    counter,
    decide,
    opened,
    plan,
    statuses,
    step,
    task_of,
)

# ---------------------------------------------------------------- planning


def test_plan_numbers_attempts_and_supersedes_what_is_open_of_earlier_submissions() -> None:
    first = opened(plan(step("a", "x", "y")))
    second = domain.plan_instance(
        [first], domain.PlanInput(FACTS, "sub", None, [domain.PlannedStep(0, "a", "any", ("x",))]), at(5),
        lambda: "new")
    assert second.approval.instance.attempt == 2
    assert second.approval.instance.status == domain.INSTANCE_PENDING
    assert statuses(second.approval) == [domain.STEP_WAITING]
    [old] = second.previous
    assert old.approval.instance.status == domain.INSTANCE_SUPERSEDED
    assert {t.status for t in old.approval.tasks} == {domain.TASK_CLOSED}
    # The loaded state is what was read: transitions work on a copy.
    assert first.instance.status == domain.INSTANCE_PENDING
    assert {t.status for t in first.tasks} == {domain.TASK_PENDING}


def test_plan_without_steps_is_approved_at_once() -> None:
    a = plan()
    assert a.instance.status == domain.INSTANCE_APPROVED
    assert a.instance.decided_at == T0


# ---------------------------------------------------------------- opening


def test_open_gives_every_approver_a_task_with_the_sla_due_time() -> None:
    a = plan(step("a", "x", "y", mode="all", sla="24h", on_timeout="approve"))
    result = domain.open_step(a, 0, at(1), lambda: "t")
    assert result.step.status == domain.STEP_PENDING
    assert [t.approver_id for t in result.tasks] == ["x", "y"]
    assert result.due == at(1) + timedelta(hours=24)
    assert [t.due_at for t in result.tasks] == [result.due, result.due]
    assert [(x.action, x.at) for x in result.timers] == [("approve", result.due)]
    assert [e.name for e in result.transition.events] == ["approval.step_opened"]
    assert a.steps[0].status == domain.STEP_WAITING  # input unchanged


def test_sequential_opens_the_first_approver_only() -> None:
    a = opened(plan(step("a", "x", "y", "z", mode="sequential")))
    assert [t.approver_id for t in a.tasks] == ["x"]


def test_a_step_without_approvers_is_skipped_and_the_instance_settles() -> None:
    result = domain.open_step(plan(step("a")), 0, at(1))
    assert result.step.status == domain.STEP_SKIPPED
    assert result.transition.approval.instance.status == domain.INSTANCE_APPROVED
    assert [e.name for e in result.transition.events] == ["approval.instance_approved", "approval.step_skipped"]


def test_a_blocked_step_waits_for_an_admin_without_tasks() -> None:
    result = domain.open_step(plan(step("a", blocked=True)), 0, at(1))
    assert result.step.status == domain.STEP_PENDING
    assert result.tasks == []
    assert result.transition.events[-1].name == "approval.step_blocked"


def test_self_approved_step_is_approved_by_policy() -> None:
    result = domain.open_step(plan(step("a", "sub", self_approved=True)), 0, at(1))
    assert result.auto_approved and result.step.status == domain.STEP_APPROVED
    [d] = result.decisions
    assert (d.user_id, d.action, d.auto, d.comment) == ("sub", "approve", True, domain.SELF_APPROVE_COMMENT)


def test_same_single_approver_on_consecutive_steps_is_auto_approved() -> None:
    a = opened(plan(step("a", "x"), step("b", "x")))
    a = decide(a, "x").transition.approval
    result = domain.open_step(a, 1, at(3))
    assert result.auto_approved and result.step.status == domain.STEP_APPROVED
    assert result.transition.approval.instance.status == domain.INSTANCE_APPROVED
    assert result.decisions[0].comment == domain.AUTO_APPROVE_COMMENT


def test_no_auto_approval_when_the_form_changed_since_the_earlier_approval() -> None:
    a = opened(plan(step("a", "x"), step("b", "x")))
    a = decide(a, "x").transition.approval
    a.instance.form_changed_at = at(2.5)
    result = domain.open_step(a, 1, at(3))
    assert not result.auto_approved and result.step.status == domain.STEP_PENDING


def test_open_copies_the_step_cc_once() -> None:
    result = domain.open_step(plan(step("a", "x", cc=("c1", "c2"))), 0, at(1))
    assert result.cc == ["c1", "c2"]
    assert [(c.user_id, c.by_user_id) for c in result.transition.new_cc] == [("c1", "system"), ("c2", "system")]


def cc_rows(a: domain.Approval) -> list[tuple[int, str, str, str]]:
    return sorted((c.step_index, c.user_id, c.id, c.by_user_id) for c in a.cc)


def test_a_cc_step_reopened_after_a_resubmission_keeps_one_copy_per_user() -> None:
    a = opened(plan(step("a", "x", cc=("c1", "c2")), step("b", "y")), ids=counter("first"))
    before = cc_rows(a)
    assert before == [(0, "c1", "first2", "system"), (0, "c2", "first3", "system")]
    returned = decide(a, "x", "return").transition.approval
    resumed = domain.resume(returned, FACTS, "sub", at(3)).transition.approval
    again = domain.open_step(resumed, 0, at(4), counter("again"))
    assert again.step.status == domain.STEP_PENDING and [t.id for t in again.tasks] == ["again1"]
    # Named again (the caller notifies them of this opening), copied no more.
    assert again.cc == ["c1", "c2"]
    assert again.transition.new_cc == [] and cc_rows(again.transition.approval) == before


def test_a_return_to_an_earlier_step_reopens_cc_steps_without_copying_again() -> None:
    a = opened(plan(step("a", "x", cc=("c1",)), step("b", "y", cc=("c2", "c1"))))
    a = opened(decide(a, "x").transition.approval, 1, minutes=3)
    before = cc_rows(a)
    assert [(r[0], r[1]) for r in before] == [(0, "c1"), (1, "c1"), (1, "c2")]
    b = decide(a, "y", "return", index=1, minutes=4, to_step=0).transition.approval
    first = domain.open_step(b, 0, at(5))
    assert (first.cc, first.transition.new_cc) == (["c1"], [])
    b = decide(first.transition.approval, "x", minutes=6).transition.approval
    second = domain.open_step(b, 1, at(7))
    assert (second.cc, second.transition.new_cc) == (["c2", "c1"], [])
    assert cc_rows(second.transition.approval) == before


def test_opening_copies_only_the_users_without_a_copy_of_the_step() -> None:
    a = opened(plan(step("a", "x"), step("b", "y", cc=("c1", "c2"))))
    by_hand = domain.record_action(a, 1, "sub", "cc", "", "web", at(2), user_ids=["c1"], ids=lambda: "hand")
    b = decide(by_hand.transition.approval, "x", minutes=3).transition.approval
    result = domain.open_step(b, 1, at(4), lambda: "policy")
    assert result.cc == ["c1", "c2"]
    assert [(c.user_id, c.id, c.by_user_id) for c in result.transition.new_cc] == [("c2", "policy", "system")]
    assert [(r[1], r[2], r[3]) for r in cc_rows(result.transition.approval)] == [
        ("c1", "hand", "sub"), ("c2", "policy", "system")]


def test_opening_again_reports_the_step_as_it_is_and_changes_nothing() -> None:
    a = opened(plan(step("a", "x", "y")))
    again = domain.open_step(a, 0, at(9))
    assert [t.approver_id for t in again.tasks] == ["x", "y"]
    assert again.transition.new_tasks == [] and again.transition.new_decisions == []
    assert again.transition.approval == a


def test_open_refuses_out_of_order_over_and_unknown_steps() -> None:
    a = plan(step("a", "x"), step("b", "y"))
    with pytest.raises(Conflict) as err:
        domain.open_step(a, 1, at(1))
    assert err.value.code == "illegal_transition"
    with pytest.raises(NotFound):
        domain.open_step(a, 7, at(1))
    a.instance.status = domain.INSTANCE_CANCELLED
    with pytest.raises(Conflict) as err:
        domain.open_step(a, 0, at(1))
    assert err.value.code == "already_decided"


# ---------------------------------------------------------------- modes


def test_any_the_first_approval_decides_and_closes_the_others() -> None:
    result = decide(opened(plan(step("a", "x", "y"))), "y")
    a = result.transition.approval
    assert result.outcome == domain.OUTCOME_APPROVED
    assert a.instance.status == domain.INSTANCE_APPROVED
    assert task_of(a, "x", status=domain.TASK_CLOSED).decided_at == at(2)
    assert result.pending_approvers == []


def test_all_needs_every_approver_and_one_rejection_rejects() -> None:
    a = opened(plan(step("a", "x", "y", mode="all")))
    first = decide(a, "x")
    assert first.outcome == domain.OUTCOME_PENDING and first.pending_approvers == ["y"]
    done = decide(first.transition.approval, "y", minutes=3)
    assert done.outcome == domain.OUTCOME_APPROVED
    rejected = decide(a, "y", "reject")
    assert rejected.outcome == domain.OUTCOME_REJECTED
    assert rejected.transition.approval.instance.status == domain.INSTANCE_REJECTED


def test_sequential_hands_on_in_order_until_the_last_approves() -> None:
    a = opened(plan(step("a", "x", "y", mode="sequential")))
    first = decide(a, "x")
    assert first.outcome == domain.OUTCOME_PENDING
    assert [t.approver_id for t in first.new_tasks] == ["y"]
    last = decide(first.transition.approval, "y", minutes=3)
    assert last.outcome == domain.OUTCOME_APPROVED and last.new_tasks == []


def test_sequential_waits_for_an_approver_added_after_before_handing_on() -> None:
    a = opened(plan(step("a", "x", "y", mode="sequential")))
    added = decide(a, "x", "add_approver", to_user_id="post", position="after")
    assert [t.approver_id for t in added.new_tasks] == ["post"]
    handed = decide(added.transition.approval, "post", minutes=3)
    assert [t.approver_id for t in handed.new_tasks] == ["y"]
    assert handed.outcome == domain.OUTCOME_PENDING


def test_ratio_approves_at_the_threshold_and_rejects_once_out_of_reach() -> None:
    a = opened(plan(step("a", "x", "y", "z", mode="ratio", min_approvals=2)))
    one = decide(a, "x")
    assert one.outcome == domain.OUTCOME_PENDING
    assert decide(one.transition.approval, "y", minutes=3).outcome == domain.OUTCOME_APPROVED
    no = decide(a, "x", "reject")
    assert decide(no.transition.approval, "y", "reject", minutes=3).outcome == domain.OUTCOME_REJECTED


def test_approving_the_last_step_approves_the_instance_and_earlier_ones_leave_it_pending() -> None:
    a = opened(plan(step("a", "x"), step("b", "y")))
    result = decide(a, "x")
    assert result.outcome == domain.OUTCOME_APPROVED
    assert result.transition.approval.instance.status == domain.INSTANCE_PENDING
    assert statuses(result.transition.approval) == [domain.STEP_APPROVED, domain.STEP_WAITING]


# ---------------------------------------------------------------- return


def test_return_to_the_submitter_closes_the_step_and_returns_the_instance() -> None:
    a = opened(plan(step("a", "x", "y")))
    result = decide(a, "x", "return", comment="fix the amount")
    b = result.transition.approval
    assert result.outcome == domain.OUTCOME_RETURNED and result.return_to == -1
    assert b.instance.status == domain.INSTANCE_RETURNED and b.instance.returned_step == 0
    assert statuses(b) == [domain.STEP_RETURNED]
    assert {t.status for t in b.tasks} == {domain.TASK_CLOSED}


def test_return_to_an_earlier_step_reopens_it_and_every_step_up_to_this_one() -> None:
    a = opened(plan(step("a", "x"), step("b", "y"), step("c", "z")))
    a = decide(a, "x").transition.approval
    a = opened(a, 1, minutes=3)
    result = decide(a, "y", "return", index=1, minutes=4, to_step=0)
    b = result.transition.approval
    assert result.return_to == 0
    assert statuses(b) == [domain.STEP_WAITING, domain.STEP_WAITING, domain.STEP_WAITING]
    assert b.instance.status == domain.INSTANCE_PENDING
    assert b.decisions[-1].data == {"to_step": 0}
    # Reopened, the step's new opening has its own tasks; the earlier ones stay as history.
    again = domain.open_step(b, 0, at(5), lambda: "x-again")
    assert [t.id for t in again.tasks] == ["x-again"]


def test_return_only_to_an_earlier_approved_step() -> None:
    a = opened(plan(step("a", "x"), step("b", "y")))
    with pytest.raises(ValidationFailed):
        decide(a, "x", "return", to_step=0)
    with pytest.raises(ValidationFailed):
        decide(a, "x", "return", to_step=1)


# ---------------------------------------------------------------- transfer and add approver


def test_transfer_hands_the_task_on_and_the_old_holder_is_no_longer_assignee() -> None:
    a = opened(plan(step("a", "x", "y", mode="all")))
    result = decide(a, "x", "transfer", to_user_id="w")
    b = result.transition.approval
    old = task_of(b, "x", status=domain.TASK_CLOSED)
    assert b.closed_by(old) == domain.CLOSED_BY_TRANSFER
    assert [t.approver_id for t in result.new_tasks] == ["w"]
    assert b.steps[0].approvers == ["w", "y"]
    assert result.outcome == domain.OUTCOME_PENDING
    with pytest.raises(ValidationFailed):
        decide(a, "x", "transfer", to_user_id="y")
    with pytest.raises(ValidationFailed):
        decide(a, "x", "transfer", to_user_id="x")


def test_add_approver_before_holds_the_task_back_until_they_approve() -> None:
    a = opened(plan(step("a", "x")))
    result = decide(a, "x", "add_approver", to_user_id="pre", position="before")
    b = result.transition.approval
    held = task_of(b, "x", status=domain.TASK_WAITING)
    pre = task_of(b, "pre")
    assert pre.kind == domain.KIND_BEFORE and pre.blocks_task_id == held.id
    assert result.outcome == domain.OUTCOME_PENDING and result.pending_approvers == ["pre"]
    released = decide(b, "pre", minutes=3)
    assert [t.id for t in released.new_tasks] == [held.id]
    assert released.outcome == domain.OUTCOME_PENDING
    assert decide(released.transition.approval, "x", minutes=4).outcome == domain.OUTCOME_APPROVED
    # A rejection by the approver added before rejects the step.
    assert decide(b, "pre", "reject", minutes=3).outcome == domain.OUTCOME_REJECTED


def test_add_approver_after_must_approve_as_well() -> None:
    a = opened(plan(step("a", "x")))
    result = decide(a, "x", "add_approver", to_user_id="post", position="after")
    b = result.transition.approval
    assert task_of(b, "x", status=domain.TASK_APPROVED)
    assert result.outcome == domain.OUTCOME_PENDING
    assert b.steps[0].approvers == ["x", "post"]
    assert decide(b, "post", minutes=3).outcome == domain.OUTCOME_APPROVED


def test_add_approver_in_parallel_and_positions_checked() -> None:
    a = opened(plan(step("a", "x", mode="all")))
    result = decide(a, "x", "add_approver", to_user_id="par")
    b = result.transition.approval
    assert result.transition.new_decisions[0].data == {"position": "parallel"}
    assert sorted(t.approver_id for t in b.tasks if t.status == domain.TASK_PENDING) == ["par", "x"]
    with pytest.raises(ValidationFailed):
        decide(a, "x", "add_approver", to_user_id="par", position="sideways")


# ---------------------------------------------------------------- refused and delegated decisions


def test_a_decided_task_refuses_a_second_decision() -> None:
    a = decide(opened(plan(step("a", "x", "y", mode="all"))), "x").transition.approval
    task = task_of(a, "x", status=domain.TASK_APPROVED)
    with pytest.raises(Conflict) as err:
        domain.decide(a, domain.DecisionInput(task.id, "x", "approve"), at(3))
    assert err.value.code == "already_decided"


def test_a_task_of_a_settled_step_or_over_instance_refuses_decisions() -> None:
    a = opened(plan(step("a", "x", "y")))
    settled = decide(a, "y").transition.approval
    closed = task_of(settled, "x", status=domain.TASK_CLOSED)
    with pytest.raises(Conflict):
        domain.decide(settled, domain.DecisionInput(closed.id, "x", "approve"), at(3))
    cancelled = domain.cancel(a, "sub", "withdraw", "", "web", at(3)).approval
    with pytest.raises(Conflict):
        domain.decide(cancelled, domain.DecisionInput(task_of(a, "x").id, "x", "approve"), at(4))


def test_only_the_approver_or_their_active_delegate_decides() -> None:
    a = opened(plan(step("a", "x")))
    with pytest.raises(Forbidden) as err:
        decide(a, "x", actor="mallory")
    assert err.value.code == "not_approver"
    a.delegations = [domain.Delegation("x", "dep", at(0), at(60))]
    result = decide(a, "x", actor="dep")
    assert result.on_behalf_of == "x"
    assert result.transition.new_decisions[0].on_behalf_of == "x"
    with pytest.raises(Forbidden):
        decide(a, "x", actor="dep", minutes=61)


def test_action_links_decide_once_and_only_approve_or_reject() -> None:
    a = opened(plan(step("a", "x")))
    result = decide(a, "x", link_id="L1")
    assert result.transition.link_use == domain.LinkUse("L1", task_of(a, "x").id, "x", at(2))
    assert result.transition.new_decisions[0].channel == "link"
    assert result.transition.new_decisions[0].data == {"link_id": "L1"}
    a.used_links = frozenset({"L1"})
    with pytest.raises(Gone):
        decide(a, "x", link_id="L1")
    with pytest.raises(ValidationFailed):
        decide(a, "x", "return", link_id="L2")


def test_a_link_of_a_transferred_task_is_not_the_assignee_any_more() -> None:
    a = opened(plan(step("a", "x", "y", mode="all")))
    b = decide(a, "x", "transfer", to_user_id="w").transition.approval
    old = task_of(b, "x", status=domain.TASK_CLOSED)
    with pytest.raises(Forbidden) as err:
        domain.decide(b, domain.DecisionInput(old.id, "x", "approve", link_id="L9"), at(3))
    assert err.value.code == "not_assignee"


def test_unknown_action_is_refused() -> None:
    a = opened(plan(step("a", "x")))
    with pytest.raises(ValidationFailed):
        decide(a, "x", "approve_all")
    assert actions(a) == []
