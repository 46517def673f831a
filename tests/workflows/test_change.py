"""ProjectChange on the time-skipping server against the real services (test_crm_saga's
``real_stack``): a change request raising an active project's amount past a policy branch gets
the branch's extra approver (the form's policy evaluated on the changed facts); approved → the
registry applies it (history ``changed`` with the diff) and the owner is told; a rejected change
applies nothing and tells the owner the reason; a pending change may be withdrawn. The
registration's approval (what GET /projects/{id} shows) stays the registration's throughout."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.registry.v1 import change_service_pb2 as cpb
from baobei.registry.v1 import registry_service_pb2 as rpb
from tests.workflows.conftest import eventually, local_activities
from tests.workflows.test_acceptance import acceptance_task as task_of
from tests.workflows.test_acceptance import approve_registration
from tests.workflows.test_crm_saga import Stack, real_stack
from workflows.contracts.change import (
    CHANGE_WORKFLOW_TYPE,
    UPDATE_WITHDRAW,
    ChangeInput,
    ChangeResult,
    WithdrawChangeInput,
    WithdrawChangeResult,
    change_workflow_id,
)
from workflows.contracts.lifecycle import UPDATE_DECIDE, DecisionInput, DecisionResult

pytestmark = pytest.mark.asyncio(loop_scope="module")
RECORD = bool(os.environ.get("BAOBEI_RECORD_HISTORIES"))
HISTORIES = Path(__file__).parent.parent / "replay" / "histories"


def two_branch_policy(stack: Stack) -> None:
    """The form's policy: the submitter's manager, and the CEO above 1,000,000."""
    stack.approval.PutPolicy(apb.PutPolicyRequest(
        request_id=f"policy-crm-{uuid.uuid4().hex[:6]}", key="crm", form_key="crm",
        steps=[apb.PolicyStep(name="组长审批", approvers=apb.Approvers(type="manager_of_submitter"), mode="any"),
               apb.PolicyStep(name="大额审批", when="project.amount > 1000000",
                              approvers=apb.Approvers(type="user", user_id="ceo"), mode="any")]), timeout=10)


async def propose(stack: Stack, project_id: str, changes: dict[str, Any], reason: str) -> tuple[
        cpb.ChangeRequest, WorkflowHandle[Any, Any]]:
    assert stack.change is not None
    body = struct_pb2.Struct()
    body.update(changes)
    opened = stack.change.OpenChange(cpb.OpenChangeRequest(
        request_id=uuid.uuid4().hex, project_id=project_id, actor_id="sales1", changes=body, reason=reason),
        timeout=10).change
    handle = await stack.client.start_workflow(
        CHANGE_WORKFLOW_TYPE,
        ChangeInput(project_id=project_id, change_id=opened.id, actor_id="sales1", amount=opened.after_amount,
                    reason=reason),
        id=change_workflow_id(opened.id), task_queue=stack.task_queue, result_type=ChangeResult,
        execution_timeout=timedelta(days=30),
    )
    return opened, handle


async def decide(handle: WorkflowHandle[Any, Any], task: apb.ApprovalTask, user: str, action: str,
                 comment: str = "") -> None:
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id=task.id, user_id=user, action=action,
                                                             comment=comment), result_type=DecisionResult)


@pytest.mark.timeout(240)
async def test_raise_past_a_branch_needs_the_extra_approver(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        assert stack.change is not None
        p = await asyncio.to_thread(stack.create, "sales1", "虹桥数据中心", "虹桥科技有限公司")
        await approve_registration(stack, p)
        registration = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=p), timeout=10).instance
        two_branch_policy(stack)

        # A raise to 2,000,000: the manager, then the CEO (the branch on the changed amount).
        opened, handle = await propose(stack, p, {"amount": "2000000.00"}, "客户追加二期")
        assert [(d.field, d.before.string_value, d.after.string_value) for d in opened.diff] == [
            ("amount", "880000.00", "2000000.00")]
        first = await task_of(stack, "lead", p)
        assert (first.purpose, first.subject_id) == ("change", opened.id)
        await decide(handle, first, "lead", "approve")
        second = await task_of(stack, "ceo", p)
        assert (second.purpose, second.subject_id, second.step_index) == ("change", opened.id, 1)
        assert stack.project(p).amount == "880000.00"  # nothing applied before the last approval
        await decide(handle, second, "ceo", "approve", "同意追加")
        result: ChangeResult = await handle.result()
        if RECORD:  # BAOBEI_RECORD_HISTORIES=1: the replay tests' history of this workflow
            # (change_approved / _rejected / _withdrawn were recorded before patch chain-fewer-calls)
            (HISTORIES / "chain_fewer_change_approved.json").write_text((await handle.fetch_history()).to_json(),
                                                                        encoding="utf-8")
        assert result.outcome == "approved"
        assert result.steps == ["plan", "approval", "applied", "reported", "notify_owner"]
        # Patch chain-fewer-calls: the planning opened step 0, the manager's approval step 1; approval
        # published both approval requests (the relay sends them): the workflow's one Send is the owner's.
        called = await local_activities(handle)
        assert (called["approval.PlanChain"], called["approval.OpenStep"], called["approval.RecordDecision"],
                called["notify.Send"]) == (1, 0, 2, 1)
        project = stack.project(p)
        assert project.amount == "2000000.00"
        changed = [h for h in project.history if h.event == "changed"]
        assert len(changed) == 1
        got = stack.change.GetChange(cpb.GetChangeRequest(change_id=opened.id), timeout=10).change
        assert (got.status, got.decided_by, got.applied_version) == ("approved", "ceo", project.version)
        inbox = stack.notify.ListInbox(npb.ListInboxRequest(user_id="sales1"), timeout=10).items
        assert "change_approved" in [n.kind for n in inbox if n.project_id == p]
        assert await stack.relay_notices() >= 2  # the manager's and the CEO's approval requests
        asked = stack.notify.ListInbox(npb.ListInboxRequest(user_id="ceo"), timeout=10).items
        assert [n.title for n in asked if n.project_id == p] == ["待审批变更：虹桥数据中心"]

        # A small change stays with the manager alone; rejected → nothing applied, owner told.
        opened, handle = await propose(stack, p, {"amount": "1900000.00"}, "二期缩减")
        only = await task_of(stack, "lead", p)
        await decide(handle, only, "lead", "reject", "预算已锁定")
        result = await handle.result()
        if RECORD:
            (HISTORIES / "chain_fewer_change_rejected.json").write_text((await handle.fetch_history()).to_json(),
                                                                        encoding="utf-8")
        assert (result.outcome, result.reason) == ("rejected", "预算已锁定")
        assert stack.project(p).amount == "2000000.00"
        got = stack.change.GetChange(cpb.GetChangeRequest(change_id=opened.id), timeout=10).change
        assert (got.status, got.outcome_reason) == ("rejected", "预算已锁定")
        inbox = stack.notify.ListInbox(npb.ListInboxRequest(user_id="sales1"), timeout=10).items
        assert "change_rejected" in [n.kind for n in inbox if n.project_id == p]

        # Withdrawn while pending: the chain is cancelled, nothing applied.
        opened, handle = await propose(stack, p, {"amount": "2100000.00"}, "再追加")
        await task_of(stack, "lead", p)
        withdrawn = await handle.execute_update(UPDATE_WITHDRAW, WithdrawChangeInput(actor_id="sales1"),
                                                result_type=WithdrawChangeResult)
        assert withdrawn.status == "withdrawn"
        assert (await handle.result()).outcome == "withdrawn"
        if RECORD:
            (HISTORIES / "chain_fewer_change_withdrawn.json").write_text((await handle.fetch_history()).to_json(),
                                                                         encoding="utf-8")
        assert stack.project(p).amount == "2000000.00"

        async def no_todos() -> bool:
            return not [t for t in await asyncio.to_thread(stack.todos, "lead") if t.project_id == p]

        await eventually(no_todos, timeout=10)
        again = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=p), timeout=10).instance
        assert (again.id, again.status) == (registration.id, "approved")

        # Approved after the project was closed meanwhile: cancelled with the reason, nothing applied.
        opened, handle = await propose(stack, p, {"amount": "900000.00"}, "最后一次")
        only = await task_of(stack, "lead", p)
        stack.registry.SetProjectStatus(rpb.SetProjectStatusRequest(
            request_id=f"close-{p}", project_id=p, status=rpb.PROJECT_STATUS_CLOSED, actor_id="sales1"), timeout=10)
        await decide(handle, only, "lead", "approve")
        result = await handle.result()
        assert result.outcome == "cancelled" and "变更未能生效" in result.reason
        assert stack.project(p).amount == "2000000.00"
        got = stack.change.GetChange(cpb.GetChangeRequest(change_id=opened.id), timeout=10).change
        assert got.status == "cancelled" and got.outcome_reason == result.reason
