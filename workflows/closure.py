"""ProjectClosure (id ``close-<project id>``): close an active project as one durable sequence.

    registry.GetProject ─► active? (closed already → done, nothing repeated; anything else →
    ApplicationError "conflict", which the edge answers as 409)
      ─► registry.SetProjectStatus(closed)        the registration leaves the line; the customer's
                                                   protection claim is released in that transaction
      ─► reporting.IngestEvent(project.closed)     dashboards, and the finance webhook subscribers
                                                   through the reporting service's forwarding outbox
      ─► reporting.IngestEvent(project.reviewed)   only when the close carries a review (复盘),
                                                   behind the ``closure-review`` patch
      ─► ProjectExecution ``stop`` signal          no more rule timers for a closed project
      ─► notify.Send(project_closed) to the owner

Each step carries an id derived from this workflow's id, so a retried activity or a second run
changes nothing twice.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.lifecycle_ops import LifecycleOps
    from workflows.activities.notify import NotifyActivities
    from workflows.activities.registry import RegistryActivities
    from workflows.activities.reporting import ReportingActivities
    from workflows.contracts.closure import CLOSURE_WORKFLOW_TYPE, ClosureInput, ClosureResult
    from workflows.contracts.errors import ERR_CONFLICT, ERR_NOT_FOUND
    from workflows.contracts.lifecycle_ops import StopExecutionInput, StopExecutionResult
    from workflows.contracts.notify import SendInput
    from workflows.contracts.policies import ACTIVITY_TIMEOUT, BACKGROUND_RETRY
    from workflows.contracts.registry import GetProjectInput, ProjectSnapshot, SetProjectStatusInput
    from workflows.contracts.reporting import ReportEventInput


# A close with a review reports project.reviewed after project.closed (added after histories of
# ProjectClosure existed: the marker keeps their replay on the old command sequence).
REVIEW_PATCH = "closure-review"


@workflow.defn(name=CLOSURE_WORKFLOW_TYPE)
class ProjectClosure:
    @workflow.run
    async def run(self, inp: ClosureInput) -> ClosureResult:
        wid = workflow.info().workflow_id
        steps: list[str] = []
        project = await self._project(inp.project_id)
        if project.status != "active":
            if project.status == "closed":
                return ClosureResult(project_id=project.id, status="closed", steps=steps)
            raise ApplicationError(
                f"项目状态为 {project.status}，只有已生效的项目可以关闭 / only an active project can be closed",
                type=ERR_CONFLICT, non_retryable=True,
            )
        try:
            project = await workflow.execute_activity_method(
                RegistryActivities.set_project_status,
                SetProjectStatusInput(request_id=f"{wid}:status:closed", project_id=project.id, status="closed",
                                          actor_id=inp.actor_id, event="closed", comment=inp.comment),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
            )
        except ActivityError as err:  # refused: the status moved on meanwhile
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                raise ApplicationError(cause.message, type=ERR_CONFLICT, non_retryable=True) from None
            raise
        steps.append("close_registration")
        await workflow.execute_activity_method(
            ReportingActivities.ingest_event,
            ReportEventInput(event_id=f"{wid}:project.closed", type="project.closed", project_id=project.id,
                                 at=workflow.now().isoformat(), actor_id=inp.actor_id,
                                 project=project, payload={"comment": inp.comment, "channel": inp.channel}),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
        )
        steps.append("report_closed")
        if inp.review is not None and workflow.patched(REVIEW_PATCH):
            r = inp.review
            await workflow.execute_activity_method(
                ReportingActivities.ingest_event,
                ReportEventInput(event_id=f"{wid}:project.reviewed", type="project.reviewed", project_id=project.id,
                                 at=workflow.now().isoformat(), actor_id=inp.actor_id,
                                 payload={"outcome": r.outcome, "reason": r.reason, "lessons": r.lessons,
                                          "tags": list(r.tags), "delay_summary": r.delay_summary}),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
            )
            steps.append("report_reviewed")
        stopped: StopExecutionResult = await workflow.execute_activity_method(
            LifecycleOps.stop_execution, StopExecutionInput(project_id=project.id, reason=inp.comment or "closed"),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
        )
        if stopped.stopped:
            steps.append("stop_execution")
        if project.owner_id:
            await workflow.execute_activity_method(
                NotifyActivities.send,
                SendInput(request_id=f"{wid}:notify:closed", recipient_ids=[project.owner_id],
                          kind="project_closed", title="", project_id=project.id,
                              context={"project_id": project.id, "code": project.code, "name": project.name,
                                       "customer": project.customer_name, "amount": project.amount,
                                       "comment": inp.comment}),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
            )
            steps.append("notify_owner")
        workflow.logger.info("project %s closed by %s", project.id, inp.actor_id)
        return ClosureResult(project_id=project.id, status=project.status, steps=steps)

    async def _project(self, project_id: str) -> ProjectSnapshot:
        try:
            project: ProjectSnapshot = await workflow.execute_activity_method(
                RegistryActivities.get_project, GetProjectInput(project_id=project_id),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == ERR_NOT_FOUND:
                raise ApplicationError(cause.message, type=ERR_NOT_FOUND, non_retryable=True) from None
            raise
        return project
