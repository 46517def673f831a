"""Activities that act on a project's ProjectLifecycle (and ProjectExecution) workflow through the
Temporal client, for the integration workflows (CRM saga, org handover): the same updates the edge
runs, so the lifecycle stays the one place that changes an approval.

Each call carries a Temporal update id chosen by the calling workflow: a retried activity attaches
to the update already accepted instead of running it twice. What the lifecycle refuses (already
decided, not pending, not allowed) comes back as ``outcome="refused"`` with the error type — the
caller decides whether that is fine (idempotent re-run) — and a project without a running
lifecycle as ``outcome="no_workflow"``; transient trouble is raised and retried.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workflows.activities._log import activity_logger
from workflows.contracts.errors import ERR_UNAVAILABLE
from workflows.contracts.execution import EXECUTION_SIGNAL_STOP, execution_workflow_id
from workflows.contracts.lifecycle import (
    UPDATE_DECIDE,
    UPDATE_WITHDRAW,
    DecisionInput,
    DecisionResult,
    WithdrawInput,
    WithdrawResult,
    workflow_id,
)
from workflows.contracts.lifecycle_ops import (
    LIFECYCLE_DECIDE,
    LIFECYCLE_STOP_EXECUTION,
    LIFECYCLE_WITHDRAW,
    LifecycleDecideInput,
    LifecycleOpResult,
    LifecycleWithdrawInput,
    StopExecutionInput,
    StopExecutionResult,
)

# RPC statuses meaning "no running workflow to update" (never started, or closed).
_GONE = (RPCStatusCode.NOT_FOUND,)


class LifecycleOps:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name=LIFECYCLE_WITHDRAW)
    async def withdraw(self, inp: LifecycleWithdrawInput) -> LifecycleOpResult:
        arg = WithdrawInput(actor_id=inp.actor_id, actor_is_admin=inp.actor_is_admin, comment=inp.comment,
                            cancel=inp.cancel, channel=inp.channel)
        return await self._update(inp.project_id, UPDATE_WITHDRAW, arg, WithdrawResult, inp.update_id)

    @activity.defn(name=LIFECYCLE_DECIDE)
    async def decide(self, inp: LifecycleDecideInput) -> LifecycleOpResult:
        arg = DecisionInput(task_id=inp.task_id, user_id=inp.user_id, action=inp.action, comment=inp.comment,
                            channel=inp.channel, to_user_id=inp.to_user_id)
        return await self._update(inp.project_id, UPDATE_DECIDE, arg, DecisionResult, inp.update_id)

    @activity.defn(name=LIFECYCLE_STOP_EXECUTION)
    async def stop_execution(self, inp: StopExecutionInput) -> StopExecutionResult:
        handle = self._client.get_workflow_handle(execution_workflow_id(inp.project_id))
        try:
            await handle.signal(EXECUTION_SIGNAL_STOP)
        except RPCError as err:
            if err.status in _GONE:
                return StopExecutionResult(stopped=False)
            raise
        activity_logger(inp.project_id).info("execution.stop_signalled", reason=inp.reason)
        return StopExecutionResult(stopped=True)

    async def _update(
        self, project_id: str, name: str, arg: Any, result_type: type[Any], update_id: str
    ) -> LifecycleOpResult:
        log = activity_logger(project_id).bind(update=name, update_id=update_id)
        handle = self._client.get_workflow_handle(workflow_id(project_id))
        try:
            result = await handle.execute_update(name, arg, id=update_id or None, result_type=result_type)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type != ERR_UNAVAILABLE:
                log.info("lifecycle.update_refused", error_type=cause.type, message=cause.message)
                return LifecycleOpResult(project_id=project_id, outcome="refused", error_type=cause.type or "",
                                         message=cause.message)
            # The lifecycle could not reach a service while we waited: try again later.
            raise ApplicationError(f"{name} failed: {cause or err}", type=ERR_UNAVAILABLE) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise ApplicationError(f"{name} timed out", type=ERR_UNAVAILABLE) from None
        except RPCError as err:
            if err.status in _GONE:
                log.info("lifecycle.no_workflow")
                return LifecycleOpResult(project_id=project_id, outcome="no_workflow")
            raise
        status = str(getattr(result, "status", ""))
        log.info("lifecycle.updated", status=status)
        return LifecycleOpResult(project_id=project_id, outcome="done", status=status)
