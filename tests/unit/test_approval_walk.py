"""ProjectLifecycle's approval walk as plain state (workflows/approval_walk.py), without Temporal:
rounds of one and two steps, returns (to the submitter, to an earlier step), rejection, steps that
open settled, the SLA timers in order, a decision racing a timer, a withdrawal while a step is
being opened, the carry over continue-as-new and the validators' refusals."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import workflows.approval_walk as walk_module
from workflows.approval_walk import (
    SYSTEM,
    TIMEOUT_COMMENT,
    ApprovalWalk,
    Decided,
    Rejected,
    Skip,
    Wait,
    cc_forbidden,
    remind_forbidden,
    v1_action_refusal,
    withdraw_forbidden,
)
from workflows.contracts.approval import (
    DecisionOutcome,
    FireTimerResult,
    OpenedStep,
    PlannedStep,
    TaskRef,
    TimerRef,
)
from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_VALIDATION
from workflows.contracts.registry import ProjectSnapshot

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
INSTANCE = "inst-1"
PLAN = [PlannedStep(index=0, name="sales", approvers=["a"]), PlannedStep(index=1, name="finance", approvers=["b"])]


def project(status: str = "draft") -> ProjectSnapshot:
    return ProjectSnapshot(id="p1", owner_id="owner", status=status, name="Deal")


def pending(index: int, *approvers: str, timers: list[TimerRef] | None = None, due_at: str = "") -> OpenedStep:
    tasks = [TaskRef(id=f"t{index}-{a}", approver_id=a, step_index=index) for a in approvers]
    return OpenedStep(index=index, name=PLAN[index].name if index < len(PLAN) else "", approvers=list(approvers),
                      tasks=tasks, timers=timers or [], due_at=due_at)


def decision(index: int, step_outcome: str, *, instance: str = INSTANCE, return_to: int = -1,
             pending_approvers: list[str] | None = None) -> DecisionOutcome:
    return DecisionOutcome(task_id=f"t{index}", instance_id=instance, step_index=index, step_outcome=step_outcome,
                           return_to=return_to, pending_approvers=pending_approvers or [])


def submitted(steps: list[PlannedStep] = PLAN) -> ApprovalWalk:
    """A walk whose first round is planned, as the workflow leaves it before opening a step."""
    w = ApprovalWalk(project=project())
    assert w.submit_refusal() is None
    assert w.submit_started() == 1
    w.submitting = False
    w.submitted(project("approval"))
    assert w.round_due
    assert w.start_round() == 1 and not w.round_due
    w.begin_round(resuming=False)
    assert w.opening and w.stage == "approval" and not w.resumes
    w.planned(INSTANCE, list(steps))
    return w


def open_next(w: ApprovalWalk, opened: OpenedStep, *, reopen: bool = False) -> Skip | Rejected | Wait:
    """Open the step at the cursor the way the workflow does (the opening flag around the call)."""
    assert w.next_step() is not None and not w.cancelled
    w.open_step(reopen=reopen)
    w.opening = True
    w.opening = False
    return w.step_opened(opened, reopen=reopen)


def test_the_walk_module_does_not_import_temporal() -> None:
    tree = ast.parse(Path(walk_module.__file__).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "temporalio" for name in names)


# ---------------------------------------------------------------- walking rounds


def test_the_created_project_is_taken_unless_a_submit_brought_a_newer_one() -> None:
    w = ApprovalWalk(project=ProjectSnapshot(id="p1"))
    assert w.created(project("draft")) and w.project == project("draft")
    w = submitted()
    assert not w.created(project("draft"))
    assert (w.project.status, w.status) == ("approval", "approval")


def test_a_one_step_walk_waits_for_its_approver_and_releases_the_caller_when_finished() -> None:
    w = submitted(PLAN[:1])
    todo = open_next(w, pending(0, "b", "a"))
    assert isinstance(todo, Wait) and [t.approver_id for t in todo.pending] == ["b", "a"]
    assert w.approvers == ["a", "b"] and w.step_index == 0 and w.open_seq == 1
    assert w.step_key == f"{INSTANCE}:0:1" and not w.settled

    decided = w.decision(decision(0, "approved"), "a", "fine")
    assert decided == Decided(current=True, settles=True, seq=1, approvers_changed=False)
    assert decided.wait_for_ack and not w.acted_on(decided.seq)
    assert w.settled and w.decider == "a" and w.decision_comment == "fine"

    assert w.step_done(w.wait_outcome) is None
    assert w.next_step() is None  # round approved
    w.finished("active", project("active"))
    assert w.acted_on(decided.seq)
    assert (w.stage, w.status, w.approvers) == ("active", "active", [])
    assert w.submit_refusal() is not None and w.decide_refusal("approve", "") is not None


def test_a_two_step_walk_releases_the_first_decider_once_the_second_step_is_open() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    first = w.decision(decision(0, "approved"), "a", "")
    assert w.step_done(w.wait_outcome) is None
    assert not w.acted_on(first.seq)  # the next step is not open yet

    todo = open_next(w, pending(1, "b"))
    assert isinstance(todo, Wait)
    assert w.acted_on(first.seq) and w.step_index == 1 and w.open_seq == 2
    assert w.state("p1").approvers == ["b"]

    second = w.decision(decision(1, "approved"), "b", "ok")
    assert not w.acted_on(second.seq)
    assert w.step_done(w.wait_outcome) is None and w.next_step() is None
    w.finished("active", project("active"))
    assert w.acted_on(second.seq)


def test_an_approval_that_opens_the_next_step_hands_that_opening_to_the_walk() -> None:
    """Patch "open-next-in-decision": the decide handler asks for the opening that follows, the
    service opens it inside the decision, and the walk's next opening takes it instead of an
    OpenStep call; the first decider is released once it is taken."""
    w = submitted(PLAN + [PlannedStep(index=2, name="legal", approvers=["c"])])
    assert w.next_opening("approve") is None  # planning: no step waiting yet
    open_next(w, pending(0, "a"))
    assert w.next_opening("reject") is None and w.next_opening("transfer") is None
    asked = w.next_opening("approve")
    assert asked == (1, 2)
    out = dataclasses.replace(decision(0, "approved"), next_opened=pending(1, "b"))
    first = w.decision(out, "a", "", asked)
    assert w.preopened == (1, 2, pending(1, "b"))
    assert w.next_opening("approve") is None  # settled already
    assert w.step_done(w.wait_outcome) is None
    seq = w.open_step(reopen=False)
    assert (w.step_index, seq) == asked
    opened = w.take_preopened(w.step_index, seq)
    assert opened == pending(1, "b") and w.preopened is None
    assert w.take_preopened(w.step_index, seq) is None  # used once
    assert isinstance(w.step_opened(opened, reopen=False), Wait)
    assert w.acted_on(first.seq) and w.approvers == ["b"]
    w.decision(dataclasses.replace(decision(1, "approved"), next_opened=pending(2, "c")), "b", "",
               w.next_opening("approve"))
    w.step_done(w.wait_outcome)
    w.open_step(reopen=False)
    assert w.take_preopened(2, 3) == pending(2, "c")
    # The last step has nothing after it.
    assert w.next_opening("approve") is None


def test_an_opening_inside_the_decision_is_held_only_for_an_approval_that_settles_the_open_step() -> None:
    w = submitted()
    open_next(w, pending(0, "a", "b"))
    asked = w.next_opening("approve")
    # One of several approvals: not settled, the service opened nothing.
    w.decision(decision(0, "pending", pending_approvers=["b"]), "a", "", asked)
    assert w.preopened is None
    # A stale decision (another instance) is not taken, whatever it carries.
    stale = dataclasses.replace(decision(0, "approved", instance="old"), next_opened=pending(1, "b"))
    w.decision(stale, "b", "", asked)
    assert w.preopened is None and not w.settled
    # An opening that is not the one the walk makes next is dropped when the walk opens.
    w.decision(dataclasses.replace(decision(0, "approved"), next_opened=pending(1, "b")), "b", "", (1, 9))
    w.step_done(w.wait_outcome)
    seq = w.open_step(reopen=False)
    assert w.take_preopened(w.step_index, seq) is None and w.preopened is None
    # A withdrawn walk asks for nothing.
    w2 = submitted()
    open_next(w2, pending(0, "a"))
    w2.withdrawn(project("cancelled"), "owner")
    assert w2.next_opening("approve") is None


def test_the_opening_held_is_never_carried_over_continue_as_new() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    w.decision(dataclasses.replace(decision(0, "approved"), next_opened=pending(1, "b")), "a", "",
               w.next_opening("approve"))
    restored = ApprovalWalk(project=ProjectSnapshot(id="p1"))
    restored.restore(w.carry())
    assert restored.preopened is None


def planning(steps: list[PlannedStep] = PLAN) -> ApprovalWalk:
    """A walk whose first round begins, as the workflow leaves it before planning."""
    w = ApprovalWalk(project=project())
    w.submit_started()
    w.submitting = False
    w.submitted(project("approval"))
    w.start_round()
    w.begin_round(resuming=False)
    return w


def test_a_planning_that_opens_the_first_step_hands_that_opening_to_the_walk() -> None:
    """Patch "plan-opens-first": the first opening is predicted before planning (step 0, the next
    seq), the service's answer held by ``planned`` and taken by the first ``open_step`` instead of
    an OpenStep call; taking it ends the opening a withdrawal waits for."""
    w = planning()
    asked = w.first_opening()
    assert asked == (0, 1)
    w.planned(INSTANCE, list(PLAN), pending(0, "a"), asked)
    assert w.preopened == (0, 1, pending(0, "a"))
    assert w.opening  # planned, the opening not taken yet: a withdrawal still waits
    assert w.next_step() is not None
    seq = w.open_step(reopen=False)
    assert (w.step_index, seq) == asked
    opened = w.take_preopened(w.step_index, seq)
    assert opened == pending(0, "a") and w.preopened is None and not w.opening
    assert isinstance(w.step_opened(opened, reopen=False), Wait) and w.approvers == ["a"]
    # Then the chain goes on as usual: the decision on step 0 may open step 1.
    assert w.next_opening("approve") == (1, 2)


def test_a_first_opening_is_held_only_for_a_chain_with_steps_and_for_its_first_step() -> None:
    # An empty chain (no-approval policy): nothing is held, whatever came back.
    w = planning([])
    w.planned(INSTANCE, [], pending(0, "a"), w.first_opening())
    assert w.preopened is None and w.next_step() is None
    # Not asked (older histories, patch off): the answer is ignored.
    w = planning()
    w.planned(INSTANCE, list(PLAN), pending(0, "a"))
    assert w.preopened is None
    # Asked but not opened (the service ignored it): the first open_step calls OpenStep.
    w = planning()
    w.planned(INSTANCE, list(PLAN), None, w.first_opening())
    seq = w.open_step(reopen=False)
    assert w.take_preopened(w.step_index, seq) is None and w.opening
    # A later round predicts its own seq: openings are numbered across rounds.
    w = submitted()
    open_next(w, pending(0, "a"))
    w.decision(decision(0, "returned"), "a", "")
    w.step_done(w.wait_outcome)
    w.returned(project("returned"))
    w.resume_pending = False  # e.g. a chain planned afresh
    w.submitted(project("approval"))
    w.start_round()
    w.begin_round(resuming=False)
    assert w.first_opening() == (0, 2)


def test_a_first_step_opened_settled_by_the_planning_is_skipped() -> None:
    """Auto-approved (the submitter self-approves) inside the planning: the walk skips it and
    records the system's approval, then opens the next step with OpenStep."""
    w = planning()
    auto = OpenedStep(index=0, status="approved", auto_approved=True)
    w.planned(INSTANCE, list(PLAN), auto, w.first_opening())
    seq = w.open_step(reopen=False)
    assert w.step_opened(w.take_preopened(w.step_index, seq) or pending(0), reopen=False) == Skip(auto_approved=True)
    assert w.cursor == 1 and not w.opening and w.preopened is None
    assert open_next(w, pending(1, "b")) == Wait(pending=pending(1, "b").tasks)


def test_a_withdrawal_during_a_planning_that_opens_the_first_step_cancels_the_walk() -> None:
    w = planning()
    assert w.opening and w.withdraw_refusal() is None
    w.submitting = True  # the withdrawal runs, waiting for the opening
    w.planned(INSTANCE, list(PLAN), pending(0, "a", "b"), w.first_opening())
    assert w.opening and w.cancels_instance  # not yet: the step is taken in this activation
    w.open_step(reopen=False)
    w.step_opened(w.take_preopened(w.step_index, w.open_seq) or pending(0), reopen=False)
    assert not w.opening  # the withdrawal goes on and cancels the instance planned
    w.submitting = False
    assert w.withdrawn(project("cancelled"), "owner") == ["a", "b"]
    assert w.step_done(w.wait_outcome) == "cancelled"


def returned_at(index: int) -> ApprovalWalk:
    """A walk returned to the submitter by step ``index``, resubmitted, as the workflow leaves it
    before ResumeInstance."""
    w = submitted()
    for i in range(index):
        open_next(w, pending(i, "a"))
        w.decision(decision(i, "approved"), "a", "")
        w.step_done(w.wait_outcome)
    open_next(w, pending(index, "b"))
    w.decision(decision(index, "returned"), "b", "")
    assert w.step_done(w.wait_outcome) == "returned"
    w.returned(project("returned"))
    w.submitted(project("approval"))
    w.start_round()
    w.begin_round(resuming=False)
    assert w.resumes
    return w


def test_a_resubmission_that_opens_the_returning_step_hands_that_opening_to_the_walk() -> None:
    """Patch "resume-opens-step": the resume is expected at the returning step, with the next seq;
    the service's answer is held only when the chain continues there."""
    w = returned_at(1)
    asked = w.resume_opening()
    assert asked == (1, 3)
    w.resumed(list(PLAN), 1, pending(1, "b"), asked)
    assert w.preopened == (1, 3, pending(1, "b")) and w.opening
    seq = w.open_step(reopen=False)
    assert (w.step_index, seq) == asked
    opened = w.take_preopened(w.step_index, seq)
    assert opened == pending(1, "b") and not w.opening
    assert isinstance(w.step_opened(opened, reopen=False), Wait)
    # Re-planned (resumes at 0) while step 1 was expected: nothing is held, OpenStep opens step 0.
    w = returned_at(1)
    w.resumed(list(PLAN), 0, None, w.resume_opening())
    assert w.preopened is None
    w = returned_at(1)
    w.resumed(list(PLAN), 0, pending(1, "b"), w.resume_opening())  # an answer for another step
    assert w.preopened is None
    # Returned from step 0 and re-planned: step 0 of the new chain is the one expected.
    w = returned_at(0)
    asked = w.resume_opening()
    assert asked == (0, 2)
    w.resumed(list(PLAN), 0, pending(0, "a"), asked)
    assert w.preopened == (0, 2, pending(0, "a"))
    # Without a step to resume at (never opened one): nothing to ask.
    assert planning().resume_opening() is None


def test_a_return_to_the_submitter_resumes_at_the_returning_step_after_resubmission() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    w.decision(decision(0, "approved"), "a", "")
    w.step_done(w.wait_outcome)
    open_next(w, pending(1, "b"))
    returned = w.decision(decision(1, "returned"), "b", "fix the amount")
    assert w.step_done(w.wait_outcome) == "returned"

    w.returned(project("returned"))
    assert w.acted_on(returned.seq)
    assert (w.stage, w.status, w.resume_pending, w.approvers) == ("returned", "returned", True, [])
    assert w.decider == "b" and w.decision_comment == "fix the amount"
    assert w.decide_refusal("approve", "") is not None and w.cc_refusal() is None

    assert w.submit_refusal() is None
    assert w.submit_started() == 2
    w.submitting = False
    w.submitted(project("approval"))
    assert w.start_round() == 2
    w.begin_round(resuming=False)
    assert w.resumes
    w.resumed(PLAN, 1)
    assert not w.resume_pending
    assert w.next_step() == PLAN[1]
    open_next(w, pending(1, "b"))
    assert w.step_index == 1 and w.open_seq == 3 and w.step_key == f"{INSTANCE}:1:3"


def test_a_return_to_an_earlier_step_opens_it_again() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    w.decision(decision(0, "approved"), "a", "")
    w.step_done(w.wait_outcome)
    open_next(w, pending(1, "b"))
    back = w.decision(decision(1, "returned", return_to=0), "b", "ask sales")
    assert w.return_to == 0
    assert w.step_done(w.wait_outcome) is None
    assert w.next_step() == PLAN[0] and not w.acted_on(back.seq)

    open_next(w, pending(0, "a"))
    assert w.acted_on(back.seq)
    assert (w.step_index, w.open_seq, w.return_to, w.step_outcome) == (0, 3, -1, None)


def test_a_rejection_ends_the_round_whether_decided_or_opened_rejected() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    rejected = w.decision(decision(0, "rejected"), "a", "no")
    assert w.step_done(w.wait_outcome) == "rejected"
    w.finished("rejected", project("rejected"))
    assert w.acted_on(rejected.seq) and w.stage == "rejected"

    w = submitted()
    assert isinstance(open_next(w, OpenedStep(index=0, status="rejected")), Rejected)
    w.finished("rejected", project("rejected"))
    assert w.acted_on(1)


def test_steps_that_open_settled_are_skipped_and_only_a_first_auto_approval_is_recorded() -> None:
    w = submitted()
    assert open_next(w, OpenedStep(index=0, status="approved", auto_approved=True)) == Skip(auto_approved=True)
    assert open_next(w, OpenedStep(index=1, status="skipped")) == Skip(auto_approved=False)
    assert w.next_step() is None and w.approvers == []
    w.finished("active", project("active"))
    assert w.acted_on(2)

    # A continued run re-opening an auto-approved step does not record it twice.
    w = submitted()
    assert open_next(w, OpenedStep(index=0, status="approved", auto_approved=True), reopen=True) == Skip(False)


def test_an_empty_chain_is_approved_by_the_system() -> None:
    w = submitted([])
    w.approved_without_steps("no-approval")
    assert w.next_step() is None
    assert w.decider == SYSTEM and "no-approval" in w.decision_comment


# ---------------------------------------------------------------- timers and decisions


def ladder() -> list[TimerRef]:
    # Handed over out of order: the walk fires them by index.
    return [
        TimerRef(index=2, action="reject", at=(T0 + timedelta(hours=3)).isoformat()),
        TimerRef(index=0, action="remind", at=(T0 + timedelta(hours=1)).isoformat()),
        TimerRef(index=1, action="escalate", at=(T0 + timedelta(hours=2)).isoformat(), level=1),
    ]


def test_timers_fall_due_in_order_remind_escalate_timeout() -> None:
    w = submitted(PLAN[:1])
    open_next(w, pending(0, "a", timers=ladder()))
    due = w.timer_due(T0)
    assert due is not None and (due.timer.action, due.delay) == ("remind", 3600.0)
    w.timer_fired(due.timer, FireTimerResult(fired=True, action="remind", remind_user_ids=["a"]))
    assert not w.settled

    due = w.timer_due(T0 + timedelta(hours=2, minutes=1))
    assert due is not None and due.timer.action == "escalate" and due.delay == -60.0
    w.escalated(["boss", "a", "boss"])
    w.timer_fired(due.timer, FireTimerResult(fired=True, action="escalate", pending_approvers=["a", "boss"]))
    assert w.approvers == ["a", "boss"] and not w.settled

    due = w.timer_due(T0 + timedelta(hours=3))
    assert due is not None and (due.timer.action, due.delay) == ("reject", 0.0)
    w.timer_fired(due.timer, FireTimerResult(fired=True, action="reject", step_outcome="rejected"))
    assert w.settled and w.wait_outcome == "rejected"
    assert (w.decider, w.decision_comment) == (SYSTEM, TIMEOUT_COMMENT)
    assert w.timer_due(T0 + timedelta(days=1)) is None


def test_a_new_opening_starts_the_timers_again_but_a_reopening_keeps_those_fired() -> None:
    w = submitted(PLAN[:1])
    open_next(w, pending(0, "a", timers=ladder()))
    first = w.timer_due(T0)
    assert first is not None
    w.timer_fired(first.timer, FireTimerResult(fired=False))  # the service found nothing to do
    assert w.timers_fired == 1

    w.begin_round(resuming=True)
    open_next(w, pending(0, "a", timers=ladder()), reopen=True)
    assert w.open_seq == 1 and w.timers_fired == 1
    due = w.timer_due(T0)
    assert due is not None and due.timer.action == "escalate"


def test_a_decision_racing_a_timer_gives_one_outcome() -> None:
    # The approver first: the timeout the service applied late does not change the outcome.
    w = submitted(PLAN[:1])
    open_next(w, pending(0, "a", timers=ladder()))
    w.decision(decision(0, "approved"), "a", "yes")
    due = w.timer_due(T0 + timedelta(hours=4))
    assert due is not None
    w.timer_fired(due.timer, FireTimerResult(fired=True, step_outcome="rejected"))
    assert (w.wait_outcome, w.decider, w.decision_comment) == ("approved", "a", "yes")

    # The timer first: a later settling decision is still answered, but the timer's outcome stays.
    w = submitted(PLAN[:1])
    open_next(w, pending(0, "a", timers=ladder()))
    due = w.timer_due(T0 + timedelta(hours=4))
    assert due is not None
    w.timer_fired(due.timer, FireTimerResult(fired=True, step_outcome="rejected"))
    late = w.decision(decision(0, "approved"), "a", "yes")
    assert late.wait_for_ack
    assert (w.wait_outcome, w.decider) == ("rejected", SYSTEM)


def test_decisions_that_do_not_settle_or_are_stale_leave_the_outcome_alone() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    transfer = w.decision(decision(0, "pending", pending_approvers=["c", "c"]), "a", "")
    assert transfer == Decided(current=True, settles=False, seq=1, approvers_changed=True)
    assert w.approvers == ["c"] and not w.settled and not transfer.wait_for_ack

    stale = w.decision(decision(0, "approved", instance="old"), "a", "")
    assert not stale.current and not stale.wait_for_ack and not w.settled
    other = w.decision(decision(1, "approved"), "b", "")
    assert not other.current and not w.settled


def test_reassign_changes_the_open_steps_approvers_only() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    assert not w.reassigned(1, ["x"]) and w.approvers == ["a"]
    assert w.reassigned(0, ["y", "x", "y"]) and w.approvers == ["x", "y"]
    assert (w.step_name(1), w.step_name(5), w.current_step_name()) == ("finance", "", "sales")


# ---------------------------------------------------------------- withdraw


def test_a_withdrawal_while_a_step_is_being_opened_cancels_the_walk() -> None:
    w = submitted()
    assert w.opening  # planned, first step not open yet: the withdrawal waits for this
    assert w.withdraw_refusal() is None and w.cancels_instance
    w.submitting = True  # the withdrawal runs
    assert w.submit_refusal() is not None and w.withdraw_refusal() is not None
    open_next(w, pending(0, "a", "b"))
    w.submitting = False
    assert w.withdrawn(project("cancelled"), "owner") == ["a", "b"]
    assert (w.stage, w.status, w.decider, w.cancelled, w.wake) == ("cancelled", "cancelled", "owner", True, True)
    assert w.settled and w.wait_outcome == "cancelled"
    assert w.step_done(w.wait_outcome) == "cancelled"
    w.after_cancel()
    assert w.approvers == [] and w.acted_on(w.open_seq)
    assert w.withdraw_refusal() is not None and w.submit_refusal() is not None


def test_a_draft_is_withdrawn_without_an_instance_to_cancel() -> None:
    w = ApprovalWalk(project=project())
    assert w.withdraw_refusal() is None and not w.cancels_instance
    w.withdrawn(project("cancelled"), "owner")
    assert w.stage == "cancelled"


# ---------------------------------------------------------------- continue-as-new


def test_carry_and_restore_round_trip() -> None:
    w = submitted()
    open_next(w, pending(0, "a"))
    w.decision(decision(0, "approved"), "a", "")
    w.step_done(w.wait_outcome)
    open_next(w, pending(1, "b", timers=ladder()))
    due = w.timer_due(T0)
    assert due is not None
    w.timer_fired(due.timer, FireTimerResult(fired=True))
    w.reminded(T0)
    carried = w.carry()
    assert carried.runs == 2

    restored = ApprovalWalk(project=ProjectSnapshot(id="p1"))
    restored.restore(carried)
    assert restored.carry() == dataclasses.replace(carried, runs=3)
    for name in ("project", "stage", "status", "round", "rounds_started", "submit_attempts", "instance_id", "plan",
                 "step_index", "open_seq", "timers_fired", "resume_pending", "last_remind_at"):
        assert getattr(restored, name) == getattr(w, name), name
    # The opening waited on is not acted on yet: the continued run re-opens it and releases it.
    assert restored.acted_on(w.open_seq - 1) and not restored.acted_on(w.open_seq)
    restored.begin_round(resuming=True)
    assert restored.cursor == 1
    open_next(restored, pending(1, "b", timers=ladder()), reopen=True)
    assert restored.open_seq == w.open_seq and restored.timers_fired == 1


# ---------------------------------------------------------------- refusals


def test_validators_refuse_with_a_reason() -> None:
    w = ApprovalWalk(project=project())
    refusal = w.decide_refusal("approve", "")
    assert refusal is not None and refusal.type == ERR_CONFLICT
    assert refusal.message("en") == "project is not pending approval" and refusal.message("zh") == "项目不在审批中"
    for refused in (w.remind_refusal(T0), w.cc_refusal(), w.reassign_refusal()):
        assert refused is not None and refused.type == ERR_CONFLICT

    w = submitted()
    assert w.decide_refusal("approve", "") is None
    bad = w.decide_refusal("veto", "")
    assert bad is not None and bad.type == ERR_VALIDATION and bad.violations("en")[0]["field"] == "action"
    missing = w.decide_refusal("transfer", "")
    assert missing is not None and missing.violations("en") == [{"field": "to_user_id", "message": "required"}]
    assert w.decide_refusal("transfer", "x") is None

    submit = w.submit_refusal()
    assert submit is not None and "approval" in submit.message("en") and submit.violations("en") == []

    assert w.remind_refusal(T0) is None
    w.reminded(T0)
    too_soon = w.remind_refusal(T0 + timedelta(minutes=9))
    assert too_soon is not None and too_soon.message("en") == "reminded too recently, try later"
    assert w.remind_refusal(T0 + timedelta(minutes=10)) is None


@pytest.mark.parametrize(
    ("cancel", "is_owner", "is_admin", "refused"),
    [(False, True, False, False), (False, False, True, False), (False, False, False, True),
     (True, True, False, True), (True, False, True, False)],
)
def test_who_may_withdraw_or_cancel(cancel: bool, is_owner: bool, is_admin: bool, refused: bool) -> None:
    refusal = withdraw_forbidden(cancel=cancel, is_owner=is_owner, is_admin=is_admin)
    assert (refusal is not None) == refused
    assert refusal is None or refusal.type == ERR_FORBIDDEN


def test_who_may_remind_or_cc_and_the_first_versions_actions() -> None:
    assert remind_forbidden(is_owner=True, is_admin=False) is None
    assert remind_forbidden(is_owner=False, is_admin=True) is None
    assert remind_forbidden(is_owner=False, is_admin=False) is not None
    assert cc_forbidden(is_owner_or_approver=True, is_admin=False) is None
    assert cc_forbidden(is_owner_or_approver=False, is_admin=False) is not None
    assert v1_action_refusal("approve") is None
    refused = v1_action_refusal("return")
    assert refused is not None and refused.violations("en")[0]["message"] == "must be approve or reject"


def test_the_first_versions_decide_callers_wait_for_the_step_key() -> None:
    w = submitted()
    w.open_v1_step(INSTANCE, 0)
    assert w.decision_v1(decision(0, "pending"), "a", "") is None
    assert w.decision_v1(decision(0, "approved"), "a", "ok") == f"{INSTANCE}:0"
    assert (w.step_outcome, w.decider) == ("approved", "a")
    w.unacked.append(w.step_key)
    # A retry of the same decision waits on the same key without changing the outcome.
    assert w.decision_v1(decision(0, "rejected"), "b", "") == f"{INSTANCE}:0"
    assert w.step_outcome == "approved"
    w.ack()
    assert f"{INSTANCE}:0" in w.acted
    assert w.sla_deadline_v1(PLAN[0], [], T0) is None
    assert w.sla_deadline_v1(PlannedStep(index=0, name="x", sla_seconds=60), [], T0) == T0 + timedelta(minutes=1)
