"""CrmOpportunityLost (id ``crm-lost-<project id>``): the CRM reported that the opportunity behind a
registration was lost. One durable saga, started by the edge, which waits for its result:

    registry.GetProject ─► status?
      draft / pending_approval / returned
          ─► the project's lifecycle ``withdraw`` update, as the owner, comment "商机丢失：<reason>",
             channel "crm": the lifecycle cancels the pending (or returned) approval instance
             (audited as a withdrawal) and sets the registration cancelled — the same path as the
             owner's own withdrawal, so the lifecycle workflow ends cleanly and the approvers are told.
             Steps: withdraw_approval (when an approval instance was open), cancel_registration.
             Fallback when the project has no running lifecycle (or one predating withdrawals):
             registry.SetProjectStatus(cancelled, event crm_lost).
      active
          ─► registry.SetProjectStatus(closed, event crm_lost): an approved registration can only be
             closed (the registry allows active → closed, never active → cancelled), which keeps its
             history and costs for reporting; then the ProjectExecution workflow is told to stop.
             reporting hears project.closed (forwarded to the finance subscribers).
             Steps: close_registration, stop_execution.
      closed / cancelled / rejected
          ─► nothing to do (status unchanged, no steps).
    release_protection: cancelling or closing makes the registry release the customer's claim
    (保护期) in the same transaction and promote the next waitlisted registration (an active one
    gets its ProjectProtection workflow started by the registry activity); the saga reads the
    protection state before and after and records the step when the claim was let go.

Every step is idempotent — registry calls carry request ids derived from this workflow id, the
lifecycle update has a fixed update id, and a re-run finds the project already cancelled/closed —
and retried with backoff until it succeeds (transient failures) or is refused for good.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.lifecycle_ops import LifecycleOps
    from workflows.activities.registry import RegistryActivities
    from workflows.activities.reporting import ReportingActivities
    from workflows.activities.tasks import ProtectionInfoActivities
    from workflows.contracts.crm import CRM_LOST_WORKFLOW_TYPE, CrmLostInput, CrmLostResult
    from workflows.contracts.errors import ERR_NOT_FOUND
    from workflows.contracts.lifecycle_ops import (
        LifecycleOpResult,
        LifecycleWithdrawInput,
        StopExecutionInput,
        StopExecutionResult,
    )
    from workflows.contracts.policies import ACTIVITY_TIMEOUT, BACKGROUND_RETRY, LIFECYCLE_UPDATE_TIMEOUT
    from workflows.contracts.registry import GetProjectInput, ProjectSnapshot, SetProjectStatusInput
    from workflows.contracts.reporting import ReportEventInput
    from workflows.contracts.tasks import ProtectionInfo, ProtectionInfoInput

CANCELLABLE = ("draft", "pending_approval", "returned")
HOLDING = ("holder", "protected", "waitlisted")
# A refused withdraw (e.g. a submit in flight) is tried again this many times before the fallback.
WITHDRAW_TRIES = 5
CHANNEL = "crm"


@workflow.defn(name=CRM_LOST_WORKFLOW_TYPE)
class CrmOpportunityLost:
    def __init__(self) -> None:
        self._steps: list[str] = []

    @workflow.query(name="steps")
    def steps(self) -> list[str]:
        return list(self._steps)

    @workflow.run
    async def run(self, inp: CrmLostInput) -> CrmLostResult:
        self._wid = workflow.info().workflow_id
        self._inp = inp
        comment = f"商机丢失：{inp.reason}" if inp.reason else "商机丢失"
        project = await self._project()
        before = await self._protection()
        workflow.logger.info("opportunity %s lost: project %s is %s", inp.external_id, project.id, project.status)
        if project.status in CANCELLABLE:
            project = await self._cancel(project, comment)
        elif project.status == "active":
            project = await self._set_status(project, "closed", comment)
            if project.status == "closed":
                self._steps.append("close_registration")
                # Dashboards and the finance subscribers hear of the closure like any other.
                await workflow.execute_activity_method(
                    ReportingActivities.ingest_event,
                    ReportEventInput(event_id=f"{self._wid}:project.closed", type="project.closed",
                                         project_id=project.id, at=workflow.now().isoformat(),
                                         actor_id=self._inp.actor_id,
                                         project=project, payload={"comment": comment, "channel": CHANNEL}),
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
                )
                stopped: StopExecutionResult = await workflow.execute_activity_method(
                    LifecycleOps.stop_execution, StopExecutionInput(project_id=project.id, reason=comment),
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
                )
                if stopped.stopped:
                    self._steps.append("stop_execution")
        after = await self._protection()
        if before.state in HOLDING and after.state not in HOLDING:
            self._steps.append("release_protection")
        elif after.state in HOLDING and project.status not in CANCELLABLE + ("active",):
            workflow.logger.warning("project %s is %s but still %s", project.id, project.status, after.state)
        return CrmLostResult(project_id=project.id, status=project.status, steps=list(self._steps))

    async def _cancel(self, project: ProjectSnapshot, comment: str) -> ProjectSnapshot:
        had_approval = project.status in ("pending_approval", "returned")
        for attempt in range(1, WITHDRAW_TRIES + 1):
            done: LifecycleOpResult = await workflow.execute_activity_method(
                LifecycleOps.withdraw,
                LifecycleWithdrawInput(project_id=project.id, actor_id=project.owner_id, comment=comment,
                                          channel=CHANNEL, update_id=f"{self._wid}:withdraw:{attempt}"),
                start_to_close_timeout=LIFECYCLE_UPDATE_TIMEOUT, retry_policy=BACKGROUND_RETRY,
            )
            project = await self._project()
            if done.outcome == "done" or project.status == "cancelled":
                if done.outcome == "done":
                    if had_approval:
                        self._steps.append("withdraw_approval")
                    self._steps.append("cancel_registration")
                return project
            if project.status not in CANCELLABLE:
                return project  # approved / rejected meanwhile: the caller handles the new status
            if done.outcome == "no_workflow":
                break
            workflow.logger.info("withdraw of %s refused (%s: %s), try %d", project.id, done.error_type,
                                 done.message, attempt)
            if done.error_type != "conflict":
                break  # refused for good (e.g. a lifecycle that predates withdrawals)
            await workflow.sleep(timedelta(seconds=2 * attempt))
        # No lifecycle to go through: cancel the registration directly (releases the claim too).
        project = await self._set_status(project, "cancelled", comment)
        if project.status == "cancelled":
            self._steps.append("cancel_registration")
        return project

    async def _set_status(self, project: ProjectSnapshot, status: str, comment: str) -> ProjectSnapshot:
        try:
            out: ProjectSnapshot = await workflow.execute_activity_method(
                RegistryActivities.set_project_status,
                SetProjectStatusInput(request_id=f"{self._wid}:status:{status}", project_id=project.id,
                                          status=status, actor_id=self._inp.actor_id or project.owner_id,
                                          event="crm_lost", comment=comment),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
            )
            return out
        except ActivityError as err:  # refused (the status moved on meanwhile): report where it stands
            workflow.logger.warning("setting %s %s refused: %s", project.id, status, err.cause or err)
            return await self._project()

    async def _project(self) -> ProjectSnapshot:
        try:
            project: ProjectSnapshot = await workflow.execute_activity_method(
                RegistryActivities.get_project, GetProjectInput(project_id=self._inp.project_id),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == ERR_NOT_FOUND:
                raise ApplicationError(cause.message, type=ERR_NOT_FOUND, non_retryable=True) from None
            raise
        return project

    async def _protection(self) -> ProtectionInfo:
        info: ProtectionInfo = await workflow.execute_activity_method(
            ProtectionInfoActivities.protection_info, ProtectionInfoInput(project_id=self._inp.project_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=BACKGROUND_RETRY,
        )
        return info
