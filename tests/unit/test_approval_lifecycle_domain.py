"""Approval transitions around the decisions, no database: SLA timers (remind, escalate,
auto-approve / reject, a timer after the step settled), withdrawal and cancellation, resubmission
after a return (resume, or a new chain), an admin's reassignment and the audit-only actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baobei.core.errors import Conflict, NotFound, ValidationFailed
from services.approval import domain
from services.approval.domain import ProjectFacts
from tests.unit.approval_builders import FACTS, actions, at, decide, opened, plan, statuses, step, task_of

SLA = {"sla": "24h", "remind_at": 0.5}


def ladder() -> domain.Approval:
    """One step, x approves within 24h: a reminder at 12h, escalation to boss at 24h, then the
    ladder approves at 48h."""
    return opened(plan(step("a", "x", "y", mode="all", on_timeout="escalate", escalate_to=("boss",),
                            escalation=({"after": "48h", "action": "approve", "to": []},), **SLA)))


# ---------------------------------------------------------------- SLA timers


def test_timers_of_a_step_in_firing_order() -> None:
    due, timers = ladder().steps[0].timers()
    assert due == at(1) + timedelta(hours=24)
    assert [(t.index, t.action, t.level) for t in timers] == [(0, "remind", 0), (1, "escalate", 0), (2, "approve", 1)]


def test_remind_names_the_pending_approvers_and_changes_no_state() -> None:
    a = decide(ladder(), "x").transition.approval
    fired = domain.fire_timer(a, 0, 0, at(12 * 60))
    assert fired.fired and fired.action == "remind" and fired.outcome == domain.OUTCOME_PENDING
    assert fired.remind_user_ids == ["y"]
    [d] = fired.transition.new_decisions
    assert (d.user_id, d.action, d.auto, d.channel) == ("system", "remind", True, "system")
    assert d.data == {"level": 0, "timer": 0, "to": ["y"]}
    assert fired.transition.new_tasks == [] and statuses(fired.transition.approval) == statuses(a)


def test_escalation_adds_a_resolver_whose_decision_settles_the_step_alone() -> None:
    fired = domain.fire_timer(ladder(), 0, 1, at(24 * 60), lambda: "esc")
    b = fired.transition.approval
    assert [(t.approver_id, t.kind) for t in fired.new_tasks] == [("boss", domain.KIND_ESCALATED)]
    assert b.steps[0].approvers == ["x", "y", "boss"]
    assert fired.pending_approvers == ["boss", "x", "y"]
    assert b.decisions[-1].target_user_id == "boss"
    settled = decide(b, "boss", minutes=24 * 60 + 5)
    assert settled.outcome == domain.OUTCOME_APPROVED
    assert settled.transition.approval.instance.status == domain.INSTANCE_APPROVED


def test_timeout_approve_and_reject_settle_the_step() -> None:
    approved = domain.fire_timer(ladder(), 0, 2, at(48 * 60))
    assert approved.outcome == domain.OUTCOME_APPROVED
    assert approved.transition.approval.instance.status == domain.INSTANCE_APPROVED
    assert actions(approved.transition.approval) == ["timeout_approve"]
    assert {t.status for t in approved.transition.approval.tasks} == {domain.TASK_CLOSED}
    a = opened(plan(step("a", "x", sla="1h", on_timeout="reject")))
    rejected = domain.fire_timer(a, 0, 0, at(61))
    assert rejected.outcome == domain.OUTCOME_REJECTED
    assert rejected.transition.approval.instance.status == domain.INSTANCE_REJECTED


def test_a_timer_of_a_settled_step_does_nothing() -> None:
    a = decide(decide(ladder(), "x").transition.approval, "y", minutes=3).transition.approval
    fired = domain.fire_timer(a, 0, 1, at(24 * 60))
    assert not fired.fired and fired.outcome == domain.OUTCOME_APPROVED
    assert fired.transition.new_decisions == [] and fired.transition.new_tasks == []


def test_unknown_timer_or_step() -> None:
    with pytest.raises(NotFound):
        domain.fire_timer(ladder(), 0, 9, at(1))
    with pytest.raises(NotFound):
        domain.fire_timer(ladder(), 3, 0, at(1))


# ---------------------------------------------------------------- withdrawal and cancellation


@pytest.mark.parametrize("action", ["withdraw", "cancel"])
def test_withdraw_or_cancel_closes_every_open_task(action: str) -> None:
    t = domain.cancel(opened(plan(step("a", "x", "y"))), "sub", action, "no longer needed", "web", at(5))
    assert t.approval.instance.status == domain.INSTANCE_CANCELLED
    assert {x.status for x in t.approval.tasks} == {domain.TASK_CLOSED}
    [d] = t.new_decisions
    assert (d.action, d.step_index, d.comment, d.channel) == (action, -1, "no longer needed", "web")


def test_a_returned_approval_can_be_withdrawn_but_an_approval_that_is_over_cannot() -> None:
    returned = decide(opened(plan(step("a", "x"))), "x", "return").transition.approval
    assert domain.cancel(returned, "sub", "withdraw", "", "", at(3)).approval.instance.status == "cancelled"
    approved = decide(opened(plan(step("a", "x"))), "x").transition.approval
    with pytest.raises(Conflict):
        domain.cancel(approved, "sub", "withdraw", "", "", at(3))


# ---------------------------------------------------------------- resubmission


def returned_at_second_step() -> domain.Approval:
    a = decide(opened(plan(step("a", "x"), step("b", "y"))), "x").transition.approval
    return decide(opened(a, 1, minutes=3), "y", "return", index=1, minutes=4).transition.approval


def test_resume_reopens_from_the_returning_step() -> None:
    a = returned_at_second_step()
    resumed = domain.resume(a, FACTS, "sub", at(10))
    b = resumed.transition.approval
    assert resumed.resume_from == 1
    assert statuses(b) == [domain.STEP_APPROVED, domain.STEP_WAITING]
    assert b.instance.status == domain.INSTANCE_PENDING and b.instance.returned_step == -1
    assert b.instance.form_changed_at is None
    assert b.decisions[-1].data == {"form_changed": False}


def test_resume_with_an_edited_form_stops_earlier_approvals_counting_for_auto_approval() -> None:
    a = returned_at_second_step()
    edited = ProjectFacts(project_id="p1", form_key="deal", name="changed")
    b = domain.resume(a, edited, "sub", at(10)).transition.approval
    assert b.instance.form_changed_at == at(10)
    assert b.instance.form_hash == edited.content_hash()


def test_only_a_returned_approval_resumes() -> None:
    with pytest.raises(Conflict) as err:
        domain.resume(opened(plan(step("a", "x"))), FACTS, "sub", at(3))
    assert err.value.code == "illegal_transition"


def test_replan_supersedes_the_returned_approval_by_a_new_chain() -> None:
    old = returned_at_second_step()
    steps = [domain.PlannedStep(0, "a", "any", ("x",)), domain.PlannedStep(1, "c", "any", ("cfo",))]
    planned = domain.replan([old], old.instance.id, domain.PlanInput(FACTS, "sub", None, steps, {"k": 1}),
                            "amount 1 → 2", "sub", at(10), lambda: "new")
    assert planned.approval.instance.id == "new" and planned.approval.instance.attempt == 2
    assert planned.approval.instance.inputs == {"k": 1, "replanned": {"reason": "amount 1 → 2",
                                                                       "from_instance": old.instance.id}}
    [superseded] = planned.previous
    assert superseded.approval.instance.status == domain.INSTANCE_SUPERSEDED
    [note] = superseded.new_decisions
    assert (note.action, note.step_index, note.data) == ("resubmit", -1, {"replanned": "amount 1 → 2"})


# ---------------------------------------------------------------- reassignment and audit actions


def test_reassign_moves_open_tasks_and_keeps_an_approver_added_before_pointing_at_them() -> None:
    a = opened(plan(step("a", "x", "y", mode="all")))
    a = decide(a, "x", "add_approver", to_user_id="pre", position="before").transition.approval
    done = domain.reassign(a, 0, "x", "z", "admin", "x is away", at(5), lambda: "moved")
    b = done.transition.approval
    assert [t.approver_id for t in done.new_tasks] == ["z"]
    assert task_of(b, "pre").blocks_task_id == "moved"
    assert b.steps[0].approvers == ["z", "y", "pre"]
    assert b.closed_by(task_of(b, "x", status=domain.TASK_CLOSED)) == domain.CLOSED_BY_REASSIGN
    assert b.decisions[-1].data == {"from": ["x"]}


def test_reassign_unblocks_a_step_without_approvers() -> None:
    a = opened(plan(step("a", blocked=True)))
    done = domain.reassign(a, 0, "", "admin2", "admin", "", at(5))
    assert done.pending_approvers == ["admin2"]
    assert done.step.config is not None and done.step.config["blocked"] is False


def test_reassign_refusals() -> None:
    a = opened(plan(step("a", "x", "y", mode="all")))
    with pytest.raises(ValidationFailed):
        domain.reassign(a, 0, "nobody", "z", "admin", "", at(5))
    with pytest.raises(ValidationFailed):
        domain.reassign(a, 0, "x", "y", "admin", "", at(5))
    with pytest.raises(Conflict):
        domain.reassign(plan(step("a", "x")), 0, "x", "z", "admin", "", at(5))


def test_cc_copies_each_user_once_per_step_at_the_pending_step() -> None:
    a = opened(plan(step("a", "x")))
    first = domain.record_action(a, -1, "x", "cc", "", "web", at(3), user_ids=["c1", "c1", "c2"])
    assert first.step_index == 0 and [c.user_id for c in first.cc] == ["c1", "c2"]
    again = domain.record_action(first.transition.approval, 0, "x", "cc", "", "web", at(4), user_ids=["c2", "c3"])
    assert [c.user_id for c in again.cc] == ["c3"]
    assert again.action.data == {"user_ids": ["c2", "c3"]}


def test_remind_and_comment_are_audit_only_and_other_actions_are_refused() -> None:
    a = opened(plan(step("a", "x")))
    acted = domain.record_action(a, -1, "sub", "comment", "please hurry", "", at(3),
                                 attachments=[{"name": "q.pdf", "url": "u"}])
    assert (acted.action.action, acted.action.channel) == ("comment", "api")
    assert acted.transition.approval.tasks == a.tasks
    with pytest.raises(ValidationFailed):
        domain.record_action(a, -1, "sub", "approve", "", "", at(3))
