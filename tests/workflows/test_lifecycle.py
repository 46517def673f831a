"""ProjectLifecycle on the time-skipping server with fake activities."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from services.notify import wording
from tests.workflows.conftest import lifecycle_worker, search_attributes_of, start_lifecycle, state_of, wait_for_step
from tests.workflows.fakes import Fakes, StepSpec
from workflows.activities.reporting import typed_event
from workflows.contracts import search_attributes as sa
from workflows.contracts.approval import APPROVAL_OPEN_STEP, APPROVAL_RECORD_DECISION
from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_VALIDATION
from workflows.contracts.finish import LIFECYCLE_FINISH
from workflows.contracts.lifecycle import (
    UPDATE_DECIDE,
    UPDATE_SUBMIT,
    DecisionInput,
    DecisionResult,
    LifecycleResult,
    SubmitInput,
    SubmitResult,
)
from workflows.contracts.notify import NOTIFY_SEND
from workflows.contracts.registry import REGISTRY_SET_PROJECT_STATUS, REGISTRY_SUBMIT_PROJECT
from workflows.contracts.reporting import REPORTING_INGEST_EVENT
from workflows.lifecycle import PATCH_BUNDLE

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def submit(handle: WorkflowHandle[Any, Any], actor: str = "owner", **kw: Any) -> SubmitResult:
    result: SubmitResult = await handle.execute_update(
        UPDATE_SUBMIT, SubmitInput(actor_id=actor, **kw), result_type=SubmitResult
    )
    return result


async def decide(
    handle: WorkflowHandle[Any, Any], task_id: str, user: str, action: str = "approve", **kw: Any
) -> DecisionResult:
    result: DecisionResult = await handle.execute_update(
        UPDATE_DECIDE, DecisionInput(task_id=task_id, user_id=user, action=action, **kw), result_type=DecisionResult
    )
    return result


async def refused(call: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    cause = info.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause


async def test_approve_path_through_three_steps(env: Any) -> None:
    fakes = Fakes(
        steps=[
            StepSpec("部门经理", ["mgr"]),
            StepSpec("区域总监", ["dir"], sla_seconds=86400),
            StepSpec("财务会签", ["fin1", "fin2"], mode="all"),
        ]
    )
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        assert (await state_of(handle)).stage == "draft"

        result = await submit(handle)
        assert result == SubmitResult(project_id="p1", status="pending_approval")

        state = await wait_for_step(handle, 0)
        assert (state.stage, state.status, state.approvers) == ("approval", "pending_approval", ["mgr"])
        attrs = await search_attributes_of(handle)
        assert attrs.get(sa.STAGE) == "approval"
        assert attrs.get(sa.AMOUNT) == 1250000.0
        assert attrs.get(sa.REGION) == "east"
        assert attrs.get(sa.APPROVERS) == ["mgr"]

        # The decision returns once the next step is open.
        assert (await decide(handle, "t0-mgr", "mgr")).status == "pending_approval"
        state = await state_of(handle)
        assert (state.step_index, state.approvers) == (1, ["dir"])
        attrs = await search_attributes_of(handle)
        assert attrs.get(sa.APPROVERS) == ["dir"]
        assert attrs.get(sa.SLA_DEADLINE) is not None

        assert (await decide(handle, "t1-dir", "dir", comment="同意")).status == "pending_approval"
        state = await state_of(handle)
        assert (state.step_index, state.approvers) == (2, ["fin1", "fin2"])

        # "all" step: the first of two approvals leaves the step pending.
        assert (await decide(handle, "t2-fin1", "fin1")).status == "pending_approval"
        # The last approval returns only after the project is active.
        assert (await decide(handle, "t2-fin2", "fin2")).status == "active"

        assert await handle.result() == LifecycleResult(project_id="p1", status="active")
        state = await state_of(handle)
        assert (state.stage, state.status, state.approvers) == ("active", "active", [])
        attrs = await search_attributes_of(handle)
        assert attrs.get(sa.STAGE) == "active"
        assert attrs.get(sa.APPROVERS) is None

    assert fakes.project.status == "active"
    assert fakes.status_history == [("pending_approval", "submitted"), ("active", "approved")]
    # The planning opened the first step in its own call (patch plan-opens-first), each approval
    # that settled a step the next one (patch open-next-in-decision): no OpenStep call at all;
    # each step opened once, the first one for the instance planned.
    wid = handle.id
    assert fakes.calls[APPROVAL_OPEN_STEP] == 0
    assert fakes.opened_in_plan == [f"{wid}:open:1:0:1"]
    assert f"{wid}:approval.step_opened:inst-1:0:1" in fakes.published
    assert fakes.opened_in_decision == [f"{wid}:open:1:1:2", f"{wid}:open:1:2:3"]
    assert dict(fakes.opens) == {0: 1, 1: 1, 2: 1}
    # Its delivery (protection period, execution) starts once, from the snapshot at approval.
    (delivery,) = fakes.deliveries.values()
    assert (delivery.project_id, delivery.owner_id, delivery.code, delivery.business_line, delivery.amount) == (
        "p1", "owner", "BB-2026-0001", "iot", "1250000.00")
    assert fakes.calls["lifecycle.StartDelivery"] == 1
    assert fakes.event_types() == ["project.created", "project.submitted", "project.approved"]
    approved = next(e for e in fakes.events.values() if e.type == "project.approved")
    assert json_format.MessageToDict(typed_event(approved).project_approved, preserving_proto_field_name=True) == {
        "code": "BB-2026-0001",
        "name": "智慧园区一期",
        "status": "active",
        "amount": "1250000.00",
        "owner_id": "owner",
        "department_id": "sales",
        "region": "east",
        "business_line": "iot",
        "form_key": "standard",
        "conflict_count": 0,
    }
    assert approved.actor_id == "fin2"
    # Registry and approval published every event (patch service-events) with the ids the workflow
    # used to send them under; the workflow sent none itself.
    assert fakes.calls[REPORTING_INGEST_EVENT] == 0
    assert {e for e in fakes.published if e.startswith(wid)} == {
        f"{wid}:project.submitted:1", f"{wid}:project.approved:1",
        f"{wid}:approval.step_opened:inst-1:0:1", f"{wid}:approval.step_opened:inst-1:1:2",
        f"{wid}:approval.step_opened:inst-1:2:3",
        f"{wid}:approval.decided:inst-1:0:t0-mgr:mgr:approve::",
        f"{wid}:approval.decided:inst-1:1:t1-dir:dir:approve::",
        f"{wid}:approval.decided:inst-1:2:t2-fin1:fin1:approve::",
        f"{wid}:approval.decided:inst-1:2:t2-fin2:fin2:approve::",
    }
    assert fakes.sent_kinds() == [
        ("approval_request", ("mgr",)),
        ("approval_request", ("dir",)),
        ("approval_request", ("fin1",)),
        ("approval_request", ("fin2",)),
        ("project_approved", ("owner",)),
    ]
    # The workflow sends a kind and facts; notify words them (services/notify/wording.py).
    first = next(iter(fakes.sent.values()))
    assert first.title == "" and first.body == ""
    assert {k: first.context[k] for k in ("code", "name", "customer", "amount")} == {
        "code": "BB-2026-0001", "name": "智慧园区一期", "customer": "华东制造有限公司", "amount": "1250000.00"}
    assert wording.title(first.kind, first.context) == "待审批：智慧园区一期"
    body = wording.body(first.kind, first.context)
    assert "BB-2026-0001" in body and "1250000.00 元" in body and "华东制造有限公司" in body
    assert f"审批任务：{first.context['task_id']}" in body


async def test_reject_path(env: Any) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        await decide(handle, "t0-mgr", "mgr")
        await wait_for_step(handle, 1)
        assert (await decide(handle, "t1-dir", "dir", action="reject", comment="价格过低")).status == "rejected"
        assert await handle.result() == LifecycleResult(project_id="p1", status="rejected")
        assert (await search_attributes_of(handle)).get(sa.STAGE) == "rejected"
        # Once the workflow has completed, updates are refused by the server itself (RPCError);
        # the edge maps that to 409 like ERR_CONFLICT.
        with pytest.raises(RPCError):
            await decide(handle, "t1-dir", "dir")

    assert fakes.status_history[-1] == ("rejected", "rejected")
    assert fakes.event_types() == ["project.created", "project.submitted", "project.rejected"]
    kind, recipients = fakes.sent_kinds()[-1]
    assert (kind, recipients) == ("project_rejected", ("owner",))
    assert fakes.deliveries == {}  # a rejected project is not delivered
    assert list(fakes.sent.values())[-1].context["comment"] == "价格过低"  # notify words it into the body


async def test_second_decision_on_decided_task_conflicts(env: Any) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr", "deputy"], mode="any"), StepSpec("总监", ["dir"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-mgr", "mgr")).status == "pending_approval"
        # The deputy's task was closed by the manager's approval.
        err = await refused(decide(handle, "t0-deputy", "deputy"))
        assert err.type == ERR_CONFLICT
        assert err.message == "该审批任务已处理"
        # The manager's retried call (same task, same user) is answered, not applied twice.
        assert (await decide(handle, "t0-mgr", "mgr")).status == "pending_approval"
        assert (await state_of(handle)).step_index == 1
        # A different second decision by the same approver: rejected by the service as decided.
        fakes.decisions.clear()
        err = await refused(decide(handle, "t0-mgr", "mgr", action="reject", locale="en"))
        assert (err.type, err.message) == (ERR_CONFLICT, "task already decided")
        assert (await decide(handle, "t1-dir", "dir")).status == "active"
        await handle.result()
    assert fakes.status_history.count(("active", "approved")) == 1


async def test_refusals_reach_the_caller(env: Any) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        # Decide before submit: the validator refuses.
        err = await refused(decide(handle, "t0-mgr", "mgr"))
        assert err.type == ERR_CONFLICT
        # Submit by someone else than the owner.
        err = await refused(submit(handle, actor="intruder"))
        assert (err.type, err.message) == (ERR_FORBIDDEN, "只有负责人可以提交")
        # Validation failure with field details.
        fakes.submit_error = ApplicationError(
            "输入校验失败",
            [{"field": "customer.uscc", "message": "统一社会信用代码无效"}],
            type=ERR_VALIDATION,
            non_retryable=True,
        )
        err = await refused(submit(handle))
        assert err.type == ERR_VALIDATION
        assert err.details == ([{"field": "customer.uscc", "message": "统一社会信用代码无效"}],)
        fakes.submit_error = None
        assert (await state_of(handle)).stage == "draft"

        await submit(handle)
        # Submitting again once in approval: refused by the validator.
        err = await refused(submit(handle))
        assert err.type == ERR_CONFLICT
        await wait_for_step(handle, 0)
        err = await refused(decide(handle, "t0-mgr", "someone-else", locale="en"))
        assert (err.type, err.message) == (ERR_FORBIDDEN, "you are not an approver of this task")
        err = await refused(decide(handle, "t0-mgr", "mgr", action="shrug"))
        assert err.type == ERR_VALIDATION
        assert (await decide(handle, "t0-mgr", "mgr")).status == "active"
        await handle.result()


async def test_auto_approved_step_is_skipped(env: Any) -> None:
    fakes = Fakes(
        steps=[StepSpec("经理", ["mgr"]), StepSpec("经理复核", ["mgr"], auto=True), StepSpec("总监", ["dir"])]
    )
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-mgr", "mgr")).status == "pending_approval"
        state = await state_of(handle)
        assert (state.step_index, state.approvers) == (2, ["dir"])
        assert (await decide(handle, "t2-dir", "dir")).status == "active"
        await handle.result()
    assert [k for k in fakes.sent_kinds() if k[0] == "approval_request"] == [
        ("approval_request", ("mgr",)),
        ("approval_request", ("dir",)),
    ]
    # The first step was opened by the planning, the auto-approved one inside mgr's decision; the
    # one after it by OpenStep.
    assert fakes.opened_in_decision == [f"{handle.id}:open:1:1:2"]
    assert fakes.calls[APPROVAL_OPEN_STEP] == 1
    assert f"{handle.id}:approval.decided:inst-1:1:auto:2" in fakes.published


async def test_a_two_step_approval_opens_step_two_inside_the_first_decision(env: Any) -> None:
    """The decide answer comes once step 2 is open, with one opening per step and no OpenStep
    call for step 2, also when the decision's answer was lost and the activity retried."""
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"], cc=["cfo"])])
    fakes.fail_first = {APPROVAL_RECORD_DECISION}
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-mgr", "mgr")).status == "pending_approval"
        # Answered with step 2 open: its approver is the one waited on, and was asked.
        state = await state_of(handle)
        assert (state.step_index, state.approvers) == (1, ["dir"])
        assert fakes.calls[APPROVAL_OPEN_STEP] == 0 and dict(fakes.opens) == {0: 1, 1: 1}
        assert fakes.calls[APPROVAL_RECORD_DECISION] == 2  # the retry got the same answer
        assert (await decide(handle, "t1-dir", "dir")).status == "active"
        await handle.result()
    wid = handle.id
    assert fakes.opened_in_decision == [f"{wid}:open:1:1:2"]
    assert [k for k in fakes.sent_kinds() if k[0] in ("approval_request", "approval_cc")] == [
        ("approval_request", ("mgr",)), ("approval_request", ("dir",)), ("approval_cc", ("cfo",))]
    assert f"{wid}:approval.step_opened:inst-1:1:2" in fakes.published


async def test_a_no_approval_policy_goes_straight_to_active(env: Any) -> None:
    """An empty chain (an explicit no-approval policy) approves at once; the history says so."""
    fakes = Fakes(steps=[])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        assert (await submit(handle)).status == "pending_approval"
        assert await handle.result() == LifecycleResult(project_id="p1", status="active")
    assert fakes.status_history == [("pending_approval", "submitted"), ("active", "approved")]
    assert fakes.status_notes[-1] == ("system", "审批策略 standard 无需审批，提交即通过")
    assert fakes.sent_kinds() == [("project_approved", ("owner",))]


async def test_transient_failures_are_retried_and_take_effect_once(env: Any) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"])])
    fakes.fail_first = {
        REGISTRY_SUBMIT_PROJECT,
        APPROVAL_RECORD_DECISION,
        REGISTRY_SET_PROJECT_STATUS,
        NOTIFY_SEND,
        REPORTING_INGEST_EVENT,
    }
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        assert (await submit(handle)).status == "pending_approval"
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-mgr", "mgr")).status == "active"
        assert await handle.result() == LifecycleResult(project_id="p1", status="active")
    # Each call failed once after taking effect, was retried, and took effect once.
    assert fakes.calls[REGISTRY_SUBMIT_PROJECT] == 2
    assert fakes.calls[APPROVAL_RECORD_DECISION] == 2
    assert fakes.calls[REGISTRY_SET_PROJECT_STATUS] == 2
    assert fakes.status_history == [("pending_approval", "submitted"), ("active", "approved")]
    assert fakes.event_types() == ["project.created", "project.submitted", "project.approved"]
    assert fakes.sent_kinds() == [("approval_request", ("mgr",)), ("project_approved", ("owner",))]
    # The approval request is the approval service's (published with the opening), the owner's
    # notice runs inside lifecycle.Finish (patch finish-in-one), whose first attempt failed at the
    # status write, so it is sent once, by the retry.
    assert list(fakes.notices) == [f"{handle.id}:notify:1:step0:mgr:t0-mgr"]
    assert fakes.calls[NOTIFY_SEND] == 1
    assert fakes.calls[LIFECYCLE_FINISH] == 2


async def test_a_new_run_records_one_patch_marker(env: Any) -> None:
    """Patch bundle lifecycle-bundle-1: a new run answers all its patches with one marker (and one
    TemporalChangeVersion upsert) instead of one of each per patch; old histories keep theirs
    (tests/replay)."""
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes)
        await submit(handle)
        await wait_for_step(handle, 0)
        assert (await decide(handle, "t0-mgr", "mgr")).status == "pending_approval"
        assert (await decide(handle, "t1-dir", "dir")).status == "active"
        await handle.result()
        events = (await handle.fetch_history()).events
    markers = [e.marker_recorded_event_attributes for e in events if e.HasField("marker_recorded_event_attributes")]
    patches = [json.loads(m.details["patch-data"].payloads[0].data)["id"] for m in markers
               if m.marker_name == "core_patch"]
    assert patches == [PATCH_BUNDLE]
    first_command = next(e for e in events if e.HasField("marker_recorded_event_attributes")
                         or e.HasField("upsert_workflow_search_attributes_event_attributes"))
    assert first_command.marker_recorded_event_attributes.marker_name == "core_patch"
    versions = [e for e in events if e.HasField("upsert_workflow_search_attributes_event_attributes")
                and "TemporalChangeVersion" in e.upsert_workflow_search_attributes_event_attributes
                .search_attributes.indexed_fields]
    assert len(versions) == 1
    # Every bundled behaviour is on: no OpenStep after planning or the decision, one Finish.
    assert fakes.calls[APPROVAL_OPEN_STEP] == 0 and fakes.calls[LIFECYCLE_FINISH] == 1
