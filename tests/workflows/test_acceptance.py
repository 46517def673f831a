"""ProjectAcceptance on the time-skipping server against the real services (test_crm_saga's
``real_stack``): an approved project's acceptance request runs its own approval chain (policy
``acceptance``); rejected → the project stays active, the reasons are kept and the owner is told;
a second request accepted → the ProjectClosure child closes the project. The registration's
approval (what GET /projects/{id} shows) stays the registration's throughout."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.registry.v1 import acceptance_service_pb2 as acc
from baobei.registry.v1 import registry_service_pb2 as rpb
from tests.conftest import time_skipping_env
from tests.workflows.conftest import eventually, local_activities, search_attributes_of
from tests.workflows.test_crm_saga import Stack, real_stack
from workflows.contracts import search_attributes as sa
from workflows.contracts.acceptance import (
    ACCEPTANCE_WORKFLOW_TYPE,
    AcceptanceInput,
    AcceptanceResult,
    acceptance_workflow_id,
)
from workflows.contracts.lifecycle import UPDATE_DECIDE, DecisionInput, DecisionResult, LifecycleResult

pytestmark = pytest.mark.asyncio(loop_scope="module")
RECORD = bool(os.environ.get("BAOBEI_RECORD_HISTORIES"))
HISTORIES = Path(__file__).parent.parent / "replay" / "histories"
S = rpb.ProjectStatus


async def approve_registration(stack: Stack, project_id: str) -> None:
    handle = await stack.lifecycle(project_id, "sales1")
    task = [t for t in await asyncio.to_thread(stack.todos, "lead") if t.project_id == project_id][0]
    assert task.purpose == "registration"
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id=task.id, user_id="lead", action="approve"),
                                result_type=DecisionResult)
    assert (await handle.result()) == LifecycleResult(project_id=project_id, status="active")


async def acceptance_task(stack: Stack, user: str, project_id: str) -> apb.ApprovalTask:
    found: list[apb.ApprovalTask] = []

    async def waiting() -> bool:
        found[:] = [t for t in await asyncio.to_thread(stack.todos, user) if t.project_id == project_id]
        return bool(found)

    await eventually(waiting, timeout=20)
    return found[0]


@pytest.mark.timeout(180)
async def test_acceptance_rejected_then_accepted(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        p = await asyncio.to_thread(stack.create, "sales1", "浦东展馆", "浦东会展有限公司")
        await approve_registration(stack, p)
        registration = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=p), timeout=10).instance
        assert (registration.status, registration.purpose) == ("approved", "registration")

        # The acceptance policy names the same form but never decides its registrations.
        stack.approval.PutPolicy(apb.PutPolicyRequest(
            request_id="policy-acceptance", key="acceptance", form_key="crm",
            steps=[apb.PolicyStep(name="交付验收", approvers=apb.Approvers(type="user", user_id="mgr_sh"),
                                  mode="any")]), timeout=10)
        assert stack.approval.RequirePolicy(apb.RequirePolicyRequest(form_key="crm"), timeout=10).policy_key == "crm"
        acceptance = stack.acceptance
        assert acceptance is not None

        async def run(decision: str, comment: str) -> AcceptanceResult:
            opened = acceptance.OpenRequest(acc.OpenRequestRequest(
                request_id=uuid.uuid4().hex, project_id=p, actor_id="sales1",
                policy_key="acceptance", comment="交付完成，申请验收"), timeout=10).request
            handle = await stack.client.start_workflow(
                ACCEPTANCE_WORKFLOW_TYPE,
                AcceptanceInput(project_id=p, acceptance_id=opened.id, actor_id="sales1", policy_key="acceptance"),
                id=acceptance_workflow_id(p), task_queue=stack.task_queue, result_type=AcceptanceResult,
                execution_timeout=timedelta(days=30),
            )
            task = await acceptance_task(stack, "mgr_sh", p)
            assert (task.purpose, task.subject_id) == ("acceptance", opened.id)
            # The Temporal UI finds acceptances under way; the workflow sets the attributes in the
            # workflow task after the step opened, so the to-do may be seen first.
            async def labelled() -> bool:
                attrs = await search_attributes_of(handle)
                return (attrs.get(sa.STAGE), attrs.get(sa.APPROVERS)) == ("acceptance", ["mgr_sh"])

            await eventually(labelled)
            decided = await handle.execute_update(
                UPDATE_DECIDE, DecisionInput(task_id=task.id, user_id="mgr_sh", action=decision, comment=comment),
                result_type=DecisionResult)
            result = await handle.result()
            assert decided.status == result.status
            # Patch chain-fewer-calls: the planning opened the step, approval published its
            # approval request (the relay sends it): no OpenStep, and no Send of the workflow's own
            # but the owner's acceptance_rejected.
            called = await local_activities(handle)
            assert (called["approval.PlanChain"], called["approval.OpenStep"]) == (1, 0)
            assert called["notify.Send"] == (1 if result.outcome == "rejected" else 0)
            if RECORD:  # BAOBEI_RECORD_HISTORIES=1: the replay tests' histories of this workflow
                # (acceptance_accepted / _rejected were recorded before that patch: never again)
                history = await handle.fetch_history()
                (HISTORIES / f"chain_fewer_acceptance_{result.outcome}.json").write_text(history.to_json(),
                                                                                       encoding="utf-8")
            return result

        rejected = await run("reject", "缺少客户签字的验收单")
        assert (rejected.outcome, rejected.status, rejected.reason) == ("rejected", "active", "缺少客户签字的验收单")
        assert stack.project(p).status == S.PROJECT_STATUS_ACTIVE
        got = acceptance.GetAcceptance(acc.GetAcceptanceRequest(project_id=p), timeout=10)
        assert [(r.status, r.reason, r.decided_by) for r in got.requests] == [
            ("rejected", "缺少客户签字的验收单", "mgr_sh")]
        inbox = stack.notify.ListInbox(npb.ListInboxRequest(user_id="sales1"), timeout=10).items
        assert "acceptance_rejected" in [n.kind for n in inbox if n.project_id == p]
        assert await stack.relay_notices() >= 1  # the approval request, published by approval
        asked = stack.notify.ListInbox(npb.ListInboxRequest(user_id="mgr_sh"), timeout=10).items
        assert [n.title for n in asked if n.project_id == p] == ["待验收审批：浦东展馆"]
        assert all(n.action_url for n in asked if n.project_id == p)

        accepted = await run("approve", "同意验收")
        assert (accepted.outcome, accepted.status) == ("accepted", "closed")
        assert accepted.steps == ["plan", "approval", "accepted", "closed"]
        assert stack.project(p).status == S.PROJECT_STATUS_CLOSED
        got = acceptance.GetAcceptance(acc.GetAcceptanceRequest(project_id=p), timeout=10)
        assert [r.status for r in got.requests] == ["accepted", "rejected"]

        # The project page's approval is still the registration's; each acceptance has its own.
        again = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=p), timeout=10).instance
        assert (again.id, again.status) == (registration.id, "approved")
        latest = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=p, purpose="acceptance"),
                                            timeout=10).instance
        assert (latest.status, latest.subject_id, latest.policy_key) == ("approved", got.requests[0].id, "acceptance")
        first = stack.approval.GetInstance(apb.GetInstanceRequest(
            project_id=p, purpose="acceptance", subject_id=got.requests[1].id), timeout=10).instance
        assert first.status == "rejected"
        assert await asyncio.to_thread(stack.todos, "mgr_sh") == []


@pytest.mark.timeout(180)
async def test_acceptance_times_out_as_its_policy_says(make_db_url: Callable[[str], str], tmp_path: Any) -> None:
    """The acceptance step's SLA runs on durable timers: past 4h without a decision the policy
    rejects it; the request is settled rejected with the reason and the project stays active.
    (Its own test server: the module's holds the earlier test's execution workflow, whose pending
    tasks would keep the clock from skipping.)"""
    async with time_skipping_env() as env, real_stack(env, make_db_url, tmp_path) as stack:
        assert stack.acceptance is not None
        p = await asyncio.to_thread(stack.create, "sales1", "闵行机房", "闵行数据有限公司")
        # Approved outside a lifecycle (its execution workflow would need the tasks service,
        # which this stack lacks, and hold the time-skipping clock).
        stack.registry.SubmitProject(rpb.SubmitProjectRequest(request_id=f"s-{p}", project_id=p, actor_id="sales1"),
                                     timeout=10)
        stack.registry.SetProjectStatus(rpb.SetProjectStatusRequest(
            request_id=f"a-{p}", project_id=p, status=S.PROJECT_STATUS_ACTIVE, actor_id="lead"), timeout=10)
        stack.approval.PutPolicy(apb.PutPolicyRequest(
            request_id="policy-acceptance-sla", key="acceptance:sla", form_key="crm",
            steps=[apb.PolicyStep(name="限时验收", approvers=apb.Approvers(type="user", user_id="mgr_sh"), mode="any",
                                  sla="4h", on_timeout="reject")]), timeout=10)
        opened = stack.acceptance.OpenRequest(acc.OpenRequestRequest(
            request_id=uuid.uuid4().hex, project_id=p, actor_id="sales1", policy_key="acceptance:sla"),
            timeout=10).request
        result = await stack.client.execute_workflow(
            ACCEPTANCE_WORKFLOW_TYPE,
            AcceptanceInput(project_id=p, acceptance_id=opened.id, actor_id="sales1", policy_key="acceptance:sla"),
            id=acceptance_workflow_id(p), task_queue=stack.task_queue, result_type=AcceptanceResult,
            execution_timeout=timedelta(days=30),
        )
        assert (result.outcome, result.status, result.reason) == ("rejected", "active", "审批超时，按策略自动处理")
        got = stack.acceptance.GetAcceptance(acc.GetAcceptanceRequest(project_id=p), timeout=10).requests[0]
        assert (got.status, got.decided_by) == ("rejected", "system")
        assert stack.project(p).status == S.PROJECT_STATUS_ACTIVE
        assert await asyncio.to_thread(stack.todos, "mgr_sh") == []

        # A request whose chain cannot be planned (its policy is gone) is cancelled, never left pending.
        opened = stack.acceptance.OpenRequest(acc.OpenRequestRequest(
            request_id=uuid.uuid4().hex, project_id=p, actor_id="sales1", policy_key="acceptance:gone"),
            timeout=10).request
        result = await stack.client.execute_workflow(
            ACCEPTANCE_WORKFLOW_TYPE,
            AcceptanceInput(project_id=p, acceptance_id=opened.id, actor_id="sales1", policy_key="acceptance:gone"),
            id=acceptance_workflow_id(p), task_queue=stack.task_queue, result_type=AcceptanceResult,
            execution_timeout=timedelta(days=30),
        )
        assert (result.outcome, result.status, result.steps) == ("cancelled", "active", ["plan_refused"])
        got = stack.acceptance.GetAcceptance(acc.GetAcceptanceRequest(project_id=p), timeout=10).requests[0]
        assert (got.id, got.status) == (opened.id, "cancelled")
