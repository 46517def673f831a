"""Closing an active project (POST /projects/{id}/close): the ProjectClosure workflow closes the
registration, tells reporting (and through it the finance subscribers) project.closed, stops the
execution workflow and notifies the owner; the answer comes once it has finished."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from fastapi import Request
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from baobei.core.errors import Conflict, Forbidden
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge.deps import Clients, CurrentUser
from edge.errors import ServiceUnavailable, UpstreamFailed
from edge.routes import area_router, bind_project
from edge.routes.acceptance import acceptance_required
from edge.routes.projects import project_view, visible_project
from edge.routes.reviews import record_review
from edge.schemas import ProjectOut
from edge.schemas_reviews import CloseIn
from workflows.contracts.closure import (
    CLOSURE_WORKFLOW_TYPE,
    ClosureInput,
    ClosureResult,
    ClosureReview,
    closure_workflow_id,
)
from workflows.contracts.errors import ERR_CONFLICT
from workflows.contracts.search_attributes import project_start_options

router = area_router("approving")
log = structlog.get_logger(__name__)
# The closure runs four activities; wait at most this many rpc_timeouts for it.
WAIT_FACTOR = 3


@router.post("/projects/{project_id}/close", response_model=ProjectOut)
async def close_project(
    project_id: str, request: Request, user: CurrentUser, clients: Clients, body: CloseIn | None = None
) -> dict[str, Any]:
    """The owner (or an admin) closes an active project → `closed` (409 for any other status; a
    repeated close of a project this call closed answers the closed project again). An optional
    `review` (outcome, reason, lessons, tags, delay_summary) records the closing review (复盘) in
    the same durable closure; it can be edited later with `PUT /projects/{id}/review`."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    if user.id != project.owner_id and not user.is_admin:
        raise Forbidden("只有项目负责人或管理员可以关闭项目", "only the owner or an admin may close the project")
    if project.status == registry_pb2.PROJECT_STATUS_ACTIVE and await acceptance_required(clients, project):
        # The business line has an acceptance checklist: an active project closes only through an
        # accepted acceptance request (POST /projects/{id}/acceptance), never directly.
        raise Conflict("该业务线的项目须通过验收（验收申请审批通过后自动关闭），不能直接关闭",
                       "projects of this business line close through acceptance (验收): open an acceptance "
                       "request with POST /api/v1/projects/{id}/acceptance", code="acceptance_required")
    client = await clients.temporal()
    review = None
    if body is not None and body.review is not None:
        r = body.review
        review = ClosureReview(outcome=r.outcome, reason=r.reason, lessons=r.lessons, tags=list(r.tags),
                               delay_summary=r.delay_summary)
    arg = ClosureInput(project_id=project.id, actor_id=user.id, comment=body.comment if body else "", channel="api",
                       review=review)
    wid = closure_workflow_id(project.id)
    try:
        handle = await client.start_workflow(
            CLOSURE_WORKFLOW_TYPE, arg, id=wid, task_queue=clients.settings.task_queue, result_type=ClosureResult,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            **project_start_options(CLOSURE_WORKFLOW_TYPE, project.code, project.name),
            # A refused closure (project not active yet) may be tried again later; a done one is final.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(wid, result_type=ClosureResult)
    except RPCError as err:
        raise ServiceUnavailable() from err
    try:
        result = await asyncio.wait_for(handle.result(), WAIT_FACTOR * clients.settings.rpc_timeout)
    except TimeoutError as err:
        raise ServiceUnavailable("关闭处理超时，请稍后重试", "timed out closing the project; repeat the call",
                                 code="workflow_timeout") from err
    except WorkflowFailureError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == ERR_CONFLICT:
            raise Conflict(f"项目当前状态不能关闭：{project_id}",
                           f"project {project_id} cannot be closed in its status", code="illegal_transition") from None
        log.warning("project.close_failed", project_id=project.id, error=str(cause or err))
        raise UpstreamFailed() from err
    if review is not None and body is not None and body.review is not None and "report_reviewed" not in result.steps:
        # The project was closed before (a repeated close answers the first run's result): the
        # review given now is still recorded, as an edit would be.
        await record_review(clients, project.id, body.review, actor_id=user.id)
    log.info("project.closed", project_id=project.id, steps=result.steps)
    return await project_view(clients, user, project_id)
