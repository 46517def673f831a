"""ChainWalk's plain parts (acceptance 验收, change 变更; workflows/chain_walk.py), without a
worker: under patch chain-fewer-calls the openings asked of PlanChain and RecordDecision are the
OpenStep requests the walk would make itself (same request ids, so the approval service answers
both as one), with the notice whose ids are those of the walk's own approval requests; which
opening follows an approval is approval_walk's ``following_opening``."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from workflows.approval_walk import following_opening, held_opening
from workflows.chain_walk import ChainWalk
from workflows.contracts.approval import OpenedStep, PlannedStep
from workflows.contracts.errors import ERR_CONFLICT
from workflows.contracts.lifecycle import DecisionInput

PLAN = [PlannedStep(index=0, name="组长审批", approvers=["lead"]),
        PlannedStep(index=1, name="大额审批", approvers=["ceo"])]


def chain(*, fewer_calls: bool) -> ChainWalk:
    return ChainWalk(key="change-c1:c1", project_id="p1", purpose="change", context_extra={"change_id": "c1"},
                     fewer_calls=fewer_calls)


def test_the_old_path_asks_the_planning_for_nothing_and_holds_nothing() -> None:
    c = chain(fewer_calls=False)
    assert c.first_opening() is None
    c.planned("i1", PLAN, None)
    assert (c.instance_id, c.plan) == ("i1", PLAN)
    opening = c._open_input(0, 1)
    assert (opening.request_id, opening.instance_id, opening.notice) == ("change-c1:c1:open:0:1", "i1", None)


def test_the_first_opening_is_the_walks_own_opening_of_step_0_with_its_notice() -> None:
    c = chain(fewer_calls=True)
    first = c.first_opening()
    assert first is not None
    # The walk's OpenStep of step 0 (opening 1), on the instance the planning creates (none named).
    assert (first.request_id, first.instance_id, first.step_index) == ("change-c1:c1:open:0:1", "", 0)
    assert first.notice is not None
    # notify_tasks("step0:1", ...) sends "<key>:notify:step0:1:<approver>:<task>": the same ids.
    assert first.notice.request_id_prefix == "change-c1:c1:notify:step0:1"
    assert (first.notice.kind, first.notice.project_id) == ("approval_request", "p1")
    assert first.notice.context["change_id"] == "c1" and first.notice.context["purpose"] == "change"
    assert first.notice.context["escalated"] is False
    opened = OpenedStep(index=0, status="pending", notices_published=True)
    c.planned("i1", PLAN, opened)
    assert c._preopened == (0, 1, opened)
    assert c._open_input(1, 2).instance_id == "i1"


def test_a_planning_without_steps_or_opening_holds_nothing() -> None:
    c = chain(fewer_calls=True)
    c.planned("i1", [], OpenedStep(index=0))
    assert c._preopened is None
    c.planned("i1", PLAN, None)
    assert c._preopened is None


def test_the_opening_that_follows_an_approval() -> None:
    assert following_opening("approve", step_index=0, steps=2, open_seq=1, settled=False) == (1, 2)
    assert following_opening("reject", step_index=0, steps=2, open_seq=1, settled=False) is None
    assert following_opening("approve", step_index=1, steps=2, open_seq=2, settled=False) is None  # the last
    assert following_opening("approve", step_index=0, steps=2, open_seq=1, settled=True) is None
    assert following_opening("approve", step_index=-1, steps=2, open_seq=0, settled=False) is None  # none open
    opened = OpenedStep(index=1)
    assert held_opening((1, 2, opened), 1, 2) is opened
    assert held_opening((1, 2, opened), 1, 3) is None and held_opening(None, 1, 2) is None


def test_a_decision_before_the_plannings_answer_is_refused_only_on_the_old_path() -> None:
    """New path: step 0's to-do exists once PlanChain commits, maybe before the walk has its
    answer; ``decide`` then waits for it instead of answering "over"."""
    inp = DecisionInput(task_id="t1", user_id="lead", action="approve")
    with pytest.raises(ApplicationError) as refused:
        chain(fewer_calls=False).validate_decide(inp, "变更审批已结束", "the change approval is over")
    assert refused.value.type == ERR_CONFLICT
    c = chain(fewer_calls=True)
    c.validate_decide(inp, "变更审批已结束", "the change approval is over")
    c.done = True
    with pytest.raises(ApplicationError):
        c.validate_decide(inp, "变更审批已结束", "the change approval is over")
