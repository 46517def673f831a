"""ProjectClosure on the time-skipping server against the real services (see test_crm_saga's
``real_stack``): an active project is closed once, reporting hears project.closed and forwards it
to the finance webhook subscribers, the owner is told; anything but an active project is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb
from tests.workflows.conftest import eventually
from tests.workflows.test_crm_saga import Stack, real_stack
from workflows.contracts.closure import (
    CLOSURE_WORKFLOW_TYPE,
    ClosureInput,
    ClosureResult,
    ClosureReview,
    closure_workflow_id,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")
S = rpb.ProjectStatus


async def close(stack: Stack, project_id: str, *, run: int = 0) -> ClosureResult:
    result: ClosureResult = await stack.client.execute_workflow(
        CLOSURE_WORKFLOW_TYPE, ClosureInput(project_id=project_id, actor_id="sales1", comment="验收完成"),
        id=closure_workflow_id(project_id) + (f"-{run}" if run else ""), task_queue=stack.task_queue,
        result_type=ClosureResult, execution_timeout=timedelta(hours=1),
    )
    return result


@pytest.mark.timeout(120)
async def test_closing_an_active_project(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        stack.notify.PutSubscription(npb.PutSubscriptionRequest(
            request_id="sub-fin", subscription=npb.Subscription(
                id="finance", url="https://finance.example.com/hook", events=["project.closed"],
                secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], enabled=True)), timeout=10)
        p = await asyncio.to_thread(stack.create, "sales1", "静安展陈", "静安文化传媒有限公司")
        stack.registry.SubmitProject(rpb.SubmitProjectRequest(request_id=f"s-{p}", project_id=p, actor_id="sales1"),
                                     timeout=10)
        stack.registry.SetProjectStatus(rpb.SetProjectStatusRequest(
            request_id=f"a-{p}", project_id=p, status=S.PROJECT_STATUS_ACTIVE, actor_id="lead"), timeout=10)

        result = await close(stack, p)
        assert result.status == "closed"
        assert result.steps == ["close_registration", "report_closed", "notify_owner"]
        got = stack.project(p)
        assert got.status == S.PROJECT_STATUS_CLOSED
        assert got.protection.state == "released"
        inbox = stack.notify.ListInbox(npb.ListInboxRequest(user_id="sales1"), timeout=10).items
        assert [n.kind for n in inbox if n.project_id == p] == ["project_closed"]

        # Finance sync: reporting forwards project.closed to notify, which queues one signed
        # webhook delivery for the subscriber.
        async def forwarded() -> bool:
            rows = stack.notify.ListDeliveries(npb.ListDeliveriesRequest(project_id=p, channel="webhook"), timeout=10)
            return len(rows.deliveries) == 1 and rows.deliveries[0].target == "finance"

        await eventually(forwarded, timeout=20)

        # Closing again (a second run) changes nothing and sends nothing.
        again = await close(stack, p, run=2)
        assert (again.status, again.steps) == ("closed", [])
        inbox = stack.notify.ListInbox(npb.ListInboxRequest(user_id="sales1"), timeout=10).items
        assert len([n for n in inbox if n.project_id == p]) == 1


@pytest.mark.timeout(120)
async def test_only_an_active_project_can_be_closed(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        p = await asyncio.to_thread(stack.create, "sales1", "草稿项目", "草稿客户有限公司")
        with pytest.raises(WorkflowFailureError) as failed:
            await close(stack, p)
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "conflict"
        assert stack.project(p).status == S.PROJECT_STATUS_DRAFT


@pytest.mark.timeout(120)
async def test_closing_with_a_review_reports_it(
    env: WorkflowEnvironment, make_db_url: Callable[[str], str], tmp_path: Any
) -> None:
    async with real_stack(env, make_db_url, tmp_path) as stack:
        p = await asyncio.to_thread(stack.create, "sales1", "复盘项目", "复盘客户有限公司")
        stack.registry.SubmitProject(rpb.SubmitProjectRequest(request_id=f"s-{p}", project_id=p, actor_id="sales1"),
                                     timeout=10)
        stack.registry.SetProjectStatus(rpb.SetProjectStatusRequest(
            request_id=f"a-{p}", project_id=p, status=S.PROJECT_STATUS_ACTIVE, actor_id="lead"), timeout=10)
        review = ClosureReview(outcome="delivered", reason="按期验收", lessons="需求冻结要早", tags=["需求", "联调"])
        result: ClosureResult = await stack.client.execute_workflow(
            CLOSURE_WORKFLOW_TYPE,
            ClosureInput(project_id=p, actor_id="sales1", comment="验收完成", review=review),
            id=closure_workflow_id(p), task_queue=stack.task_queue, result_type=ClosureResult,
            execution_timeout=timedelta(hours=1),
        )
        assert result.steps == ["close_registration", "report_closed", "report_reviewed", "notify_owner"]
        assert stack.reporting is not None
        got = stack.reporting.GetReview(reporting_pb.GetReviewRequest(project_id=p), timeout=10).review
        assert (got.outcome, got.reason, got.lessons, list(got.tags)) == ("delivered", "按期验收", "需求冻结要早",
                                                                          ["需求", "联调"])
        assert (got.status, got.budget, got.cost, got.reviewed_by) == ("closed", "880000.00", "0.00", "sales1")
