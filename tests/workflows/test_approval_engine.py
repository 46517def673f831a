"""The approval engine in ProjectLifecycle on the time-skipping server (fake activities): every
timer path (reminder, escalation, ladder, timeout approve, working hours across the National Day
holiday and a make-up Saturday), return / resubmit, transfer, add-sign, withdraw, remind, cc,
reassign, continue-as-new, and the approval analytics events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateStage
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from baobei.workcalendar import STATUTORY as calendar
from tests.conftest import time_skipping_env
from tests.workflows.conftest import eventually, lifecycle_worker, search_attributes_of, state_of, wait_for_step
from tests.workflows.fakes import Fakes, StepSpec
from tests.workflows.test_lifecycle import decide, refused, submit
from workflows.contracts import search_attributes as sa
from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN
from workflows.contracts.lifecycle import (
    UPDATE_CC,
    UPDATE_REASSIGN,
    UPDATE_REMIND,
    UPDATE_SUBMIT,
    UPDATE_WITHDRAW,
    WORKFLOW_TYPE,
    CcInput,
    CcResult,
    LifecycleInput,
    LifecycleResult,
    ReassignInput,
    ReassignResult,
    RemindInput,
    RemindResult,
    SubmitInput,
    SubmitResult,
    WithdrawInput,
    WithdrawResult,
    workflow_id,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per test here: these tests skip days of virtual time, and a
    workflow another test left with timers on a shared server makes every such skip crawl. (Overrides
    the module-scoped ``env`` of tests/workflows/conftest.py; same helper, narrower scope.)"""
    async with time_skipping_env() as environment:
        yield environment


SHANGHAI = ZoneInfo("Asia/Shanghai")


async def start(client: Client, tq: str, fakes: Fakes, *, history_limit: int = 0,
                task_timeout: timedelta | None = None) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        WORKFLOW_TYPE,
        LifecycleInput(project_id=fakes.project.id, owner_id=fakes.project.owner_id, history_limit=history_limit),
        id=workflow_id(fakes.project.id) + f"-{uuid.uuid4().hex[:6]}",
        task_queue=tq,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        execution_timeout=timedelta(days=60),
        task_timeout=task_timeout,
        result_type=LifecycleResult,
    )


async def advance(env: WorkflowEnvironment, duration: timedelta) -> None:
    """``env.sleep`` that survives the test server's RPC deadline on a loaded machine: the
    virtual clock keeps what it advanced, so continue to the target."""
    target = await env.get_current_time() + duration
    for _ in range(20):
        now = await env.get_current_time()
        if now >= target:
            return
        try:
            await env.sleep(target - now)
        except RPCError:
            continue
    raise AssertionError("the virtual clock did not advance")


async def fired(fakes: Fakes, n: int) -> None:
    async def check() -> bool:
        return len([f for f in fakes.fired if f[3]]) >= n

    await eventually(check)


# ---------------------------------------------------------------- timers


async def test_reminder_then_escalation_then_ladder_approve(env: WorkflowEnvironment) -> None:
    """24h SLA: reminder at 50 % (12h), escalate to the director at 24h, ladder level 1 at 48h
    approves on timeout. Each fires once, in order, and the project ends active."""
    fakes = Fakes(steps=[StepSpec("经理审批", ["mgr"], sla="24h", remind_at=0.5, on_timeout="escalate",
                                  escalate_to=["dir"], escalation=[{"after": "48h", "action": "approve", "to": []}])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        state = await state_of(handle)
        assert state.sla_deadline  # the SLA deadline is a search attribute too
        assert (await search_attributes_of(handle)).get(sa.SLA_DEADLINE) is not None

        await advance(env, timedelta(hours=11))
        assert fakes.fired == []
        await advance(env, timedelta(hours=2))
        await fired(fakes, 1)
        assert fakes.fired == [(0, 0, "remind", True)]
        assert ("approval_remind", ("mgr",)) in fakes.sent_kinds()

        await advance(env, timedelta(hours=12))
        await fired(fakes, 2)
        assert fakes.fired[1] == (0, 1, "escalate", True)
        await eventually(lambda: _approvers_are(handle, ["dir", "mgr"]))
        assert ("approval_request", ("dir",)) in fakes.sent_kinds()
        assert (await search_attributes_of(handle)).get(sa.APPROVERS) == ["dir", "mgr"]

        # Nobody decides: level 1 of the ladder approves at 48h.
        assert await handle.result() == LifecycleResult(project_id="p1", status="active")
    assert [f[2] for f in fakes.fired] == ["remind", "escalate", "approve"]
    assert fakes.status_history[-1] == ("active", "approved")
    decided = [e.payload for e in fakes.events_of("approval.decided")]
    assert [(d["user_id"], d["action"], d["channel"]) for d in decided] == [
        ("system", "escalate", "system"), ("system", "timeout_approve", "system")
    ]


async def _approvers_are(handle: WorkflowHandle[Any, Any], expected: list[str]) -> bool:
    return (await state_of(handle)).approvers == expected


async def test_escalated_resolver_decides_and_later_timers_do_nothing(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理审批", ["mgr"], sla="2h", on_timeout="escalate", escalate_to=["dir"],
                                  escalation=[{"after": "4h", "action": "reject", "to": []}])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        await advance(env, timedelta(hours=3))
        await fired(fakes, 1)
        task = next(t for t in fakes.tasks.values() if t.approver_id == "dir")
        assert task.kind == "escalated"
        assert (await decide(handle, task.id, "dir")).status == "active"
        assert await handle.result() == LifecycleResult(project_id="p1", status="active")
    # The mgr's task was closed with the step (a late decision on it is a conflict in the service).
    assert fakes.tasks["t0-mgr"].status == "closed"
    assert [f[2] for f in fakes.fired] == ["escalate"]


@pytest.mark.parametrize(
    ("origin", "expected_due"),
    [
        # Eve of the 2026 National Day week (Oct 1-7 off): 1 h on Sep 30, 7 h on Thursday Oct 8.
        (datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI), datetime(2026, 10, 8, 17, 0, tzinfo=SHANGHAI)),
        # Friday Oct 9, 17:00: Saturday Oct 10 is a make-up workday (调休), so 7 h fall on it.
        (datetime(2026, 10, 9, 17, 0, tzinfo=SHANGHAI), datetime(2026, 10, 10, 17, 0, tzinfo=SHANGHAI)),
    ],
    ids=["national_day", "makeup_saturday"],
)
async def test_working_hours_sla_on_the_mainland_calendar(
    env: WorkflowEnvironment, origin: datetime, expected_due: datetime
) -> None:
    """8wh opened at ``origin``: the durable timer waits exactly the working-calendar span."""
    assert calendar.add_duration(origin, "8wh") == expected_due
    span = expected_due - origin
    fakes = Fakes(steps=[StepSpec("经理审批", ["mgr"], sla="8wh", on_timeout="reject")])
    fakes.calendar_origin = origin
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        await advance(env, span - timedelta(minutes=30))
        assert fakes.fired == []  # naive 8 h (or 8 h on a weekday) would have fired by now
        assert await handle.result() == LifecycleResult(project_id="p1", status="rejected")
    assert fakes.fired == [(0, 0, "reject", True)]
    assert fakes.status_history[-1] == ("rejected", "rejected")


async def test_decision_before_the_sla_cancels_its_timers(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理审批", ["mgr"], sla="1h", on_timeout="reject"), StepSpec("总监", ["dir"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-mgr", "mgr")).status == "pending_approval"
        await advance(env, timedelta(hours=2))
        assert (await state_of(handle)).step_index == 1
        assert (await decide(handle, "t1-dir", "dir")).status == "active"
        await handle.result()
    assert fakes.fired == []


# ---------------------------------------------------------------- actions


async def test_return_to_submitter_and_resubmission_resumes_at_that_step(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"]), StepSpec("财务", ["fin"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        await decide(handle, "t0-mgr", "mgr")
        await wait_for_step(handle, 1)
        result = await decide(handle, "t1-dir", "dir", action="return", comment="请补充合同")
        assert result.status == "returned"
        state = await state_of(handle)
        assert (state.stage, state.status) == ("returned", "returned")
        assert fakes.project.status == "returned"

        async def owner_told() -> bool:
            return ("project_returned", ("owner",)) in fakes.sent_kinds()

        await eventually(owner_told)

        assert (await submit(handle)).status == "pending_approval"
        state = await wait_for_step(handle, 1)  # resumes at the returning step, not at 0
        assert state.approvers == ["dir"]
        assert fakes.calls["approval.PlanChain"] == 1 and fakes.calls["approval.ResumeInstance"] == 1
        await decide(handle, fakes.task_of(1, "dir"), "dir")
        await wait_for_step(handle, 2)
        assert (await decide(handle, "t2-fin", "fin")).status == "active"
        await handle.result()
    # Every opening happened inside another call (patches plan-opens-first, resume-opens-step,
    # open-next-in-decision): the planning opened step 0, the resume the returning step 1.
    assert fakes.calls["approval.OpenStep"] == 0
    assert fakes.opened_in_plan == [f"{handle.id}:open:1:0:1"]
    assert fakes.opened_in_resume == [f"{handle.id}:open:2:1:3"]
    assert fakes.status_history == [
        ("pending_approval", "submitted"), ("returned", "returned"), ("pending_approval", "submitted"),
        ("active", "approved"),
    ]
    assert fakes.opens[0] == 1 and fakes.opens[1] == 2
    assert "project.returned" in fakes.event_types()


async def test_resubmission_with_changed_routing_continues_on_the_new_chain(env: WorkflowEnvironment) -> None:
    """Returned from the only step a small amount needs, resubmitted with a raised amount: the
    service plans a new chain (经理 then 总监) and the workflow walks it from its first step on the
    new instance instead of resuming the old chain (which would skip 总监)."""
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-mgr", "mgr", action="return")).status == "returned"
        fakes.replan = ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], "amount 100000.00 → 900000.00")
        assert (await submit(handle)).status == "pending_approval"
        state = await wait_for_step(handle, 0)
        assert state.approvers == ["mgr"]
        assert fakes.opened_instances[-1] == "inst-2"
        await decide(handle, fakes.task_of(0, "mgr"), "mgr")
        state = await wait_for_step(handle, 1)
        assert state.approvers == ["dir"]
        assert (await decide(handle, fakes.task_of(1, "dir"), "dir")).status == "active"
        await handle.result()
    assert fakes.calls["approval.PlanChain"] == 1 and fakes.calls["approval.ResumeInstance"] == 1
    assert set(fakes.opened_instances) == {"inst-1", "inst-2"}
    # Returned from step 0, re-planned from step 0: the resume opened the new chain's step 0.
    assert fakes.opened_in_resume == [f"{handle.id}:open:2:0:2"] and fakes.calls["approval.OpenStep"] == 0
    assert fakes.status_history[-1] == ("active", "approved")


async def test_return_to_an_earlier_step(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        await decide(handle, "t0-mgr", "mgr")
        await wait_for_step(handle, 1)
        result = await decide(handle, "t1-dir", "dir", action="return", to_step=0)
        assert result.status == "pending_approval"
        state = await wait_for_step(handle, 0)
        assert state.approvers == ["mgr"] and fakes.opens[0] == 2
        await decide(handle, fakes.task_of(0, "mgr"), "mgr")
        await wait_for_step(handle, 1)
        assert (await decide(handle, fakes.task_of(1, "dir"), "dir")).status == "active"
        await handle.result()


async def test_transfer_and_add_approver_notify_the_new_approver(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("会签", ["a", "b"], mode="all")])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-a", "a", action="transfer", to_user_id="c")).status == "pending_approval"
        assert (await state_of(handle)).approvers == ["b", "c"]
        assert (await search_attributes_of(handle)).get(sa.APPROVERS) == ["b", "c"]
        await decide(handle, "t0-b", "b", action="add_approver", to_user_id="d")
        assert (await state_of(handle)).approvers == ["b", "c", "d"]
        sent = fakes.sent_kinds()
        assert ("approval_request", ("c",)) in sent and ("approval_request", ("d",)) in sent
        for user in ("b", "c", "d"):
            task = next(t for t in fakes.tasks.values() if t.approver_id == user and t.status == "pending")
            result = await decide(handle, task.id, user)
        assert result.status == "active"
        await handle.result()
    actions = [(d.payload["user_id"], d.payload["action"]) for d in fakes.events_of("approval.decided")]
    assert actions == [("a", "transfer"), ("b", "add_approver"), ("b", "approve"), ("c", "approve"), ("d", "approve")]


async def test_sequential_step_asks_one_approver_after_the_other(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("依次审批", ["a", "b", "c"], mode="sequential")])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        assert (await wait_for_step(handle, 0)).approvers == ["a"]
        await decide(handle, "t0-a", "a")
        assert (await state_of(handle)).approvers == ["b"]
        await decide(handle, "t0-b", "b")
        assert (await decide(handle, "t0-c", "c")).status == "active"
        await handle.result()


async def test_withdraw_while_pending_cancels_and_a_late_decision_is_refused(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        cause = await refused(handle.execute_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="mgr")))
        assert cause.type == ERR_FORBIDDEN
        out = await handle.execute_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="owner", comment="客户取消"),
                                          result_type=WithdrawResult)
        assert out.status == "cancelled"
        assert await handle.result() == LifecycleResult(project_id="p1", status="cancelled")
        attrs = await search_attributes_of(handle)
        assert attrs.get(sa.STAGE) == "cancelled" and attrs.get(sa.APPROVERS) is None
    assert fakes.status_history[-1] == ("cancelled", "withdrawn")
    assert ("withdraw", "owner", -1) in fakes.actions
    assert ("approval_withdrawn", ("mgr",)) in fakes.sent_kinds()
    assert "project.cancelled" in fakes.event_types()


async def test_withdraw_while_the_chain_is_planned_cancels_the_opened_first_step(env: WorkflowEnvironment) -> None:
    """A withdrawal right after submit (a CRM "lost" event) arrives while the planning, which also
    opens the first step (patch plan-opens-first), is in flight: it waits for that call, then
    cancels the instance with the step's to-do; nothing opens afterwards."""
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])])
    fakes.plan_gate = asyncio.Event()
    async with lifecycle_worker(env.client, fakes) as tq:
        # The held planning keeps its workflow task open until the worker heartbeats it (at 80 % of
        # the task timeout); only then is the withdrawal delivered: a short timeout, a short test.
        handle = await start(env.client, tq, fakes, task_timeout=timedelta(seconds=2))
        # The submit's answer rides the workflow task the held planning is in: accepted, not awaited.
        submitting = await handle.start_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"),
                                               wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=SubmitResult)
        await eventually(lambda: _planning(fakes))
        withdrawing = await handle.start_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="owner", comment="商机丢失"),
                                                wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=WithdrawResult)
        assert fakes.calls["approval.CancelInstance"] == 0  # waits for the planning
        fakes.plan_gate.set()
        assert (await submitting.result()).status == "pending_approval"
        assert (await withdrawing.result()).status == "cancelled"
        assert await handle.result() == LifecycleResult(project_id="p1", status="cancelled")
    assert fakes.opened_in_plan == [f"{handle.id}:open:1:0:1"]
    assert fakes.calls["approval.OpenStep"] == 0 and dict(fakes.opens) == {0: 1}
    assert fakes.actions == [("withdraw", "owner", -1)]
    assert fakes.instance_status == "cancelled" and fakes.tasks["t0-mgr"].status == "closed"
    assert fakes.status_history[-1] == ("cancelled", "withdrawn")


async def _planning(fakes: Fakes) -> bool:
    return fakes.calls["approval.PlanChain"] >= 1


async def test_withdraw_a_draft(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await eventually(lambda: _stage_is(handle, "draft"))
        out = await handle.execute_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="owner"), result_type=WithdrawResult)
        assert out.status == "cancelled"
        assert (await handle.result()).status == "cancelled"
    assert fakes.calls["approval.CancelInstance"] == 0


async def _stage_is(handle: WorkflowHandle[Any, Any], stage: str) -> bool:
    return (await state_of(handle)).stage == stage


async def test_remind_cc_and_admin_reassign(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        out = await handle.execute_update(UPDATE_REMIND, RemindInput(actor_id="owner", comment="客户在等"),
                                          result_type=RemindResult)
        assert out.reminded == ["mgr"]
        cause = await refused(handle.execute_update(UPDATE_REMIND, RemindInput(actor_id="owner")))
        assert cause.type == ERR_CONFLICT  # too soon
        await advance(env, timedelta(minutes=11))
        await handle.execute_update(UPDATE_REMIND, RemindInput(actor_id="owner"), result_type=RemindResult)
        assert [k for k in fakes.sent_kinds() if k[0] == "approval_remind"] == [("approval_remind", ("mgr",))] * 2

        cc = await handle.execute_update(UPDATE_CC, CcInput(actor_id="mgr", user_ids=["fin"]), result_type=CcResult)
        assert cc.user_ids == ["fin"] and ("approval_cc", ("fin",)) in fakes.sent_kinds()
        assert (await refused(handle.execute_update(UPDATE_CC, CcInput(actor_id="x", user_ids=["y"])))).type == (
            ERR_FORBIDDEN
        )

        moved = await handle.execute_update(UPDATE_REASSIGN, ReassignInput(actor_id="admin", to_user_id="boss2"),
                                            result_type=ReassignResult)
        assert moved.approvers == ["boss2"]
        task = next(t for t in fakes.tasks.values() if t.approver_id == "boss2")
        assert (await decide(handle, task.id, "boss2")).status == "active"
        await handle.result()
    assert [a[0] for a in fakes.actions] == ["remind", "remind", "cc", "reassign", "approve"]


async def _transfer_until_continued(handle: Any, fakes: Fakes) -> None:
    """Step 1 transferred u0 → u1 → … → u8: enough events for the workflow to continue as new."""
    for i in range(8):
        task = next(t for t in fakes.tasks.values() if t.approver_id == f"u{i}" and t.status == "pending")
        await decide(handle, task.id, f"u{i}", action="transfer", to_user_id=f"u{i + 1}")
    await eventually(lambda: _runs_over(handle, 1))


async def test_history_stays_bounded_by_continue_as_new(env: WorkflowEnvironment) -> None:
    """Many transfers on one step: the workflow continues as new, keeps waiting on the same
    step with the right approvers, and completes on the next decision."""
    fakes = Fakes(steps=[StepSpec("经理", ["u0"], sla="30d", on_timeout="reject")])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes, history_limit=60)
        await submit(handle)
        await wait_for_step(handle, 0)
        await _transfer_until_continued(handle, fakes)
        state = await state_of(handle)
        assert (state.stage, state.step_index, state.approvers) == ("approval", 0, ["u8"])
        task = next(t for t in fakes.tasks.values() if t.approver_id == "u8")
        assert (await decide(handle, task.id, "u8")).status == "active"
        assert (await handle.result()).status == "active"
    assert fakes.calls["approval.PlanChain"] == 1
    assert len(fakes.events_of("approval.step_opened")) == 1  # not re-announced after continue-as-new


async def test_the_step_opened_inside_a_decision_survives_continue_as_new(env: WorkflowEnvironment) -> None:
    """Patch open-next-in-decision across runs: in a continued run, the approval of step 1 opens
    step 2 inside its RecordDecision and the loop takes it (no OpenStep for it); the run after the
    next continue-as-new asks for step 2 as it is (a reopening) and does not open it again."""
    fakes = Fakes(steps=[StepSpec("经理", ["u0"]), StepSpec("总监", ["v0"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes, history_limit=60)
        await submit(handle)
        await wait_for_step(handle, 0)
        await _transfer_until_continued(handle, fakes)
        runs = (await state_of(handle)).runs
        task = next(t for t in fakes.tasks.values() if t.approver_id == "u8")
        assert (await decide(handle, task.id, "u8")).status == "pending_approval"
        state = await state_of(handle)
        assert (state.step_index, state.approvers) == (1, ["v0"])
        assert fakes.opened_in_decision == [f"{handle.id}:open:1:1:2"]
        opens_before = fakes.calls["approval.OpenStep"]
        for i in range(8):
            task = next(t for t in fakes.tasks.values() if t.approver_id == f"v{i}" and t.status == "pending")
            await decide(handle, task.id, f"v{i}", action="transfer", to_user_id=f"v{i + 1}")
        await eventually(lambda: _runs_over(handle, runs))
        task = next(t for t in fakes.tasks.values() if t.approver_id == "v8")
        assert (await decide(handle, task.id, "v8")).status == "active"
        assert (await handle.result()).status == "active"
    # After step 2 opened in the decision, only reopenings (a continued run asking for the step
    # as it is), and step 2 opened once.
    asked = [r for r in fakes._done if r.startswith(f"{handle.id}:open:1:1:")]
    assert asked[0] == f"{handle.id}:open:1:1:2" and len(asked) > 1
    assert all(r.startswith(f"{handle.id}:open:1:1:2:run") for r in asked[1:])
    assert fakes.calls["approval.OpenStep"] == opens_before + len(asked) - 1
    assert dict(fakes.opens) == {0: 1, 1: 1}
    assert len(fakes.events_of("approval.step_opened")) == 2


async def _runs_over(handle: WorkflowHandle[Any, Any], n: int) -> bool:
    return (await state_of(handle)).runs > n


async def test_step_opened_event_payload(env: WorkflowEnvironment) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        await decide(handle, "t0-mgr", "mgr", channel="link")
        await handle.result()
    [opened] = fakes.events_of("approval.step_opened")
    assert {k: v for k, v in opened.payload.items() if k != "opened_at"} == {
        "instance_id": "inst-1", "step_index": 0, "step": "经理", "approvers": ["mgr"]
    }
    assert datetime.fromisoformat(opened.payload["opened_at"])
    [decided] = fakes.events_of("approval.decided")
    assert {k: v for k, v in decided.payload.items() if k != "at"} == {
        "instance_id": "inst-1", "step_index": 0, "step": "经理", "user_id": "mgr", "action": "approve",
        "channel": "link",
    }
