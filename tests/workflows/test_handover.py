"""OrgHandover on the time-skipping server against the real services and worker: a departing
approver with two pending tasks hands both to their manager (the nearest manager who is not
themself) through each project's lifecycle ``decide`` update; the approval audit shows transfers on
channel org_sync with the reason; the manager is notified with an action link; a second run finds
nothing left."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.notify.v1 import notify_service_pb2 as npb
from tests.workflows.conftest import eventually, state_of
from tests.workflows.test_crm_saga import Stack, real_stack
from workflows.contracts.handover import (
    ORG_HANDOVER_WORKFLOW_TYPE,
    HandoverInput,
    HandoverResult,
    org_handover_workflow_id,
)
from workflows.contracts.lifecycle import UPDATE_WITHDRAW, WithdrawInput, WithdrawResult

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def handover(stack: Stack, user: str, **kwargs: Any) -> HandoverResult:
    result: HandoverResult = await stack.client.execute_workflow(
        ORG_HANDOVER_WORKFLOW_TYPE, HandoverInput(user_id=user, **kwargs), id=org_handover_workflow_id(user),
        task_queue=stack.task_queue, result_type=HandoverResult, execution_timeout=timedelta(hours=1),
    )
    return result


@pytest.mark.timeout(120)
async def test_departing_approver_hands_pending_tasks_to_manager(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        p1 = await asyncio.to_thread(stack.create, "sales1", "徐汇机房改造", "徐汇数据有限公司")
        p2 = await asyncio.to_thread(stack.create, "sales2", "闵行园区网络", "闵行园区发展有限公司")
        h1 = await stack.lifecycle(p1, "sales1")
        h2 = await stack.lifecycle(p2, "sales2")
        before = await asyncio.to_thread(stack.todos, "lead")
        assert sorted(t.project_id for t in before) == sorted([p1, p2])

        # "lead" manages their own department: the handover goes one level up, to mgr_sh.
        result = await handover(stack, "lead", reason="离职交接")
        assert result.user_id == "lead"
        assert result.to_user_id == "mgr_sh"
        assert sorted(result.task_ids) == sorted(t.id for t in before)
        assert sorted(result.project_ids) == sorted([p1, p2])

        assert await asyncio.to_thread(stack.todos, "lead") == []
        after = await asyncio.to_thread(stack.todos, "mgr_sh")
        assert sorted(t.project_id for t in after) == sorted([p1, p2])
        for handle in (h1, h2):
            async def moved(h: Any = handle) -> bool:
                return (await state_of(h)).approvers == ["mgr_sh"]

            await eventually(moved)
        # Audited as a transfer by the departing user on channel org_sync, with the reason.
        for pid in (p1, p2):
            instance = stack.approval.GetInstance(apb.GetInstanceRequest(project_id=pid), timeout=10).instance
            decisions = [(d.user_id, d.action, d.channel, d.target_user_id, d.comment)
                         for s in instance.steps for d in s.decisions]
            assert ("lead", "transfer", "org_sync", "mgr_sh", "离职交接") in decisions, decisions
        # The manager was told, one approval request per handed-over task.
        inbox = stack.notify.ListInbox(npb.ListInboxRequest(user_id="mgr_sh"), timeout=10).items
        requests = [n for n in inbox if n.kind == "approval_request"]
        assert sorted(n.project_id for n in requests) == sorted([p1, p2])
        # Each carries a signed action link bound to the manager's new task.
        assert all("/a/" in n.action_url for n in requests), [n.action_url for n in requests]
        for n in requests:
            token = n.action_url.rsplit("/a/", 1)[1]
            link = stack.notify.ResolveActionLink(npb.ResolveActionLinkRequest(token=token), timeout=10).link
            assert link.approver_id == "mgr_sh"
            assert link.task_id in {t.id for t in after}

        # Idempotent: nothing left to hand over.
        again = await handover(stack, "lead")
        assert (again.to_user_id, again.task_ids) == ("mgr_sh", [])

        # Explicit target; a user without pending tasks hands over nothing.
        none = await handover(stack, "sales1", to_user_id="ceo")
        assert (none.to_user_id, none.task_ids) == ("ceo", [])
        # The top manager has nobody above: nothing to hand over to.
        top = await handover(stack, "ceo")
        assert (top.to_user_id, top.task_ids) == ("", [])


@pytest.mark.timeout(120)
async def test_departing_owner_hands_registrations_over(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    """报备交接 (patch handover-projects): the departing owner's live registrations go to the target;
    the pending one's lifecycle learns its new owner, who may then withdraw it."""
    async with real_stack(env, make_db_url, tmp_path) as stack:
        pending = await asyncio.to_thread(stack.create, "sales1", "静安展厅改造", "静安展览有限公司")
        draft = await asyncio.to_thread(stack.create, "sales1", "浦东仓储系统", "浦东仓储有限公司")
        other = await asyncio.to_thread(stack.create, "sales2", "长宁门店网络", "长宁零售有限公司")
        handle = await stack.lifecycle(pending, "sales1")

        # Real time: skipping would run the pending lifecycle into its SLA timers and time-out.
        with env.auto_time_skipping_disabled():
            result = await handover(stack, "sales1", to_user_id="sales2", reason="离职交接")
        assert result.to_user_id == "sales2"
        assert sorted(result.owned_project_ids) == sorted([pending, draft])
        for pid in (pending, draft):
            project = await asyncio.to_thread(stack.project, pid)
            assert project.owner_id == "sales2"
            last = project.history[-1]
            assert (last.event, last.data["from_user_id"], last.data["reason"]) == ("handed_over", "sales1", "离职交接")
        assert (await asyncio.to_thread(stack.project, other)).history[-1].event != "handed_over"

        # The lifecycle was told: the new owner may withdraw.
        events = [e async for e in handle.fetch_history_events()]
        signals = [e.workflow_execution_signaled_event_attributes.signal_name for e in events
                   if e.HasField("workflow_execution_signaled_event_attributes")]
        assert signals == ["owner_changed"]
        with env.auto_time_skipping_disabled():
            refused = await asyncio.gather(handle.execute_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="sales1")),
                                           return_exceptions=True)
            assert isinstance(refused[0], Exception)
            done = await handle.execute_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="sales2"),
                                               result_type=WithdrawResult)
        assert done.status == "cancelled"
