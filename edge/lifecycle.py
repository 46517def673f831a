"""Starting and updating a project's ``ProjectLifecycle`` workflow, and reading its update
failures (``ApplicationError`` with an ``ERR_*`` type) back into the contract's errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio.client import (
    RPCError,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCStatusCode

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import (
    Conflict,
    DomainError,
    FieldViolation,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge.clients import Clients
from edge.errors import ServiceUnavailable, UpstreamFailed
from workflows.contracts.acceptance import ACCEPTANCE_PURPOSE, acceptance_workflow_id
from workflows.contracts.change import CHANGE_PURPOSE, WithdrawChangeInput, WithdrawChangeResult, change_workflow_id
from workflows.contracts.change import UPDATE_WITHDRAW as UPDATE_WITHDRAW_CHANGE
from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_VALIDATION
from workflows.contracts.lifecycle import (
    UPDATE_CC,
    UPDATE_DECIDE,
    UPDATE_REASSIGN,
    UPDATE_REMIND,
    UPDATE_SUBMIT,
    UPDATE_WITHDRAW,
    WORKFLOW_TYPE,
    CcInput,
    CcResult,
    DecisionInput,
    DecisionResult,
    LifecycleInput,
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
from workflows.contracts.project_snapshot import project_snapshot
from workflows.contracts.search_attributes import project_start_options

T = TypeVar("T")
# An update waits at most this many rpc_timeouts (the workflow may run several activities).
UPDATE_DEADLINE_FACTOR = 3


def _start_input(project_id: str, owner_id: str, project: registry_pb2.Project | None) -> LifecycleInput:
    # The project the caller holds as the registry stored it (CreateProject's answer, never a
    # viewer's filtered view) saves the workflow a registry read at its start.
    snap = project_snapshot(project) if project is not None else None
    return LifecycleInput(project_id=project_id, owner_id=owner_id, project=snap)


async def ensure_started(
    clients: Clients, project_id: str, owner_id: str, *, project: registry_pb2.Project | None = None,
    code: str = "", name: str = "",
) -> None:
    """Start the project's workflow, or attach to the running one (USE_EXISTING). A closed run is
    only replaced when it failed or was terminated. ``project``: the stored project, when the
    caller has it unfiltered (just created). ``code``/``name`` (else the project's): how the
    Temporal UI shows it (``BaobeiCode`` and the summary)."""
    if project is not None:
        code, name = code or project.code, name or project.name
    client = await clients.temporal()
    try:
        await client.start_workflow(
            WORKFLOW_TYPE,
            _start_input(project_id, owner_id, project),
            id=workflow_id(project_id),
            task_queue=clients.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            **project_start_options(WORKFLOW_TYPE, code, name),
        )
    except WorkflowAlreadyStartedError:
        pass  # closed normally (approved / rejected / ...): the update below answers 409
    except RPCError as err:
        raise _rpc_error(err) from err


async def start_and_submit(
    clients: Clients, project: registry_pb2.Project, *, actor_id: str, actor_is_admin: bool, request_id: str = ""
) -> SubmitResult:
    """Create+submit in one call to Temporal (update-with-start): the workflow starts (or is
    attached to) and runs the submission in its first task. Same answers as ``ensure_started`` then
    ``submit``; the caller has checked the form's approval policy."""
    client = await clients.temporal()
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WORKFLOW_TYPE,
        _start_input(project.id, project.owner_id, project),
        id=workflow_id(project.id),
        task_queue=clients.settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        **project_start_options(WORKFLOW_TYPE, project.code, project.name),
    )
    inp = SubmitInput(actor_id=actor_id, actor_is_admin=actor_is_admin, locale=clients.locale)
    return await _answer(client.execute_update_with_start_workflow(
        UPDATE_SUBMIT, inp, start_workflow_operation=start, id=f"submit:{request_id}" if request_id else None,
        result_type=SubmitResult,
    ), clients)


async def require_approval_policy(clients: Clients, form_key: str) -> None:
    """409 ``no_approval_policy`` (naming the form) unless the form has an approval policy: asked
    before anything is created or submitted, so a refusal changes nothing. A blank form key is
    left to the registry, which reports it with the body's other violations. A form seen with a
    policy is not asked again for a few seconds (``edge.policy_presence``)."""
    if not form_key.strip():
        return
    seen = clients.deps.policies
    if seen.known(form_key):
        return
    await clients.approval.RequirePolicy(approval_pb2.RequirePolicyRequest(form_key=form_key))
    seen.saw(form_key)


async def submit(
    clients: Clients, project_id: str, *, form_key: str, actor_id: str, actor_is_admin: bool,
    request_id: str = "",
) -> SubmitResult:
    """Submit (draft/returned → pending_approval) once the form is known to have a policy.
    ``request_id`` (from the caller's Idempotency-Key) becomes the Temporal update id: a retry after
    a timed-out answer gets the first submission's result instead of "cannot submit"."""
    await require_approval_policy(clients, form_key)
    return await _update(
        clients,
        project_id,
        UPDATE_SUBMIT,
        SubmitInput(actor_id=actor_id, actor_is_admin=actor_is_admin, locale=clients.locale),
        SubmitResult,
        update_id=f"submit:{request_id}" if request_id else None,
    )


async def decide(
    clients: Clients, project_id: str, decision: DecisionInput, *, purpose: str = "", subject_id: str = ""
) -> DecisionResult:
    """A decision on an approval task, in the workflow that runs the task's chain: the project's
    lifecycle for the registration, ProjectAcceptance (``accept-<id>``) for an acceptance request,
    ProjectChange (``change-<change id>``, the task's subject) for a change request."""
    decision.locale = clients.locale
    wid: str | None = None
    if purpose == ACCEPTANCE_PURPOSE:
        wid = acceptance_workflow_id(project_id)
    elif purpose == CHANGE_PURPOSE and subject_id:
        wid = change_workflow_id(subject_id)
    return await _update(clients, project_id, UPDATE_DECIDE, decision, DecisionResult, wid=wid)


async def withdraw_change(clients: Clients, change_id: str, inp: WithdrawChangeInput) -> WithdrawChangeResult:
    """The proposer withdraws a pending change request (its ProjectChange workflow)."""
    inp.locale = clients.locale
    return await _update(clients, "", UPDATE_WITHDRAW_CHANGE, inp, WithdrawChangeResult,
                         wid=change_workflow_id(change_id))


async def withdraw(clients: Clients, project_id: str, inp: WithdrawInput) -> WithdrawResult:
    """The owner withdraws (or an admin cancels, ``inp.cancel``) a draft, pending or returned project."""
    inp.locale = clients.locale
    return await _update(clients, project_id, UPDATE_WITHDRAW, inp, WithdrawResult)


async def remind(clients: Clients, project_id: str, inp: RemindInput) -> RemindResult:
    inp.locale = clients.locale
    return await _update(clients, project_id, UPDATE_REMIND, inp, RemindResult)


async def cc(clients: Clients, project_id: str, inp: CcInput) -> CcResult:
    inp.locale = clients.locale
    return await _update(clients, project_id, UPDATE_CC, inp, CcResult)


async def reassign(clients: Clients, project_id: str, inp: ReassignInput) -> ReassignResult:
    inp.locale = clients.locale
    return await _update(clients, project_id, UPDATE_REASSIGN, inp, ReassignResult)


async def _update(
    clients: Clients, project_id: str, name: str, arg: Any, result_type: type[T], *, update_id: str | None = None,
    wid: str | None = None,
) -> T:
    client = await clients.temporal()
    handle = client.get_workflow_handle(wid or workflow_id(project_id))
    # Temporal answers a repeated update id with the first one's outcome (no second run).
    return await _answer(handle.execute_update(name, arg, id=update_id, result_type=result_type), clients)


async def _answer(call: Awaitable[T], clients: Clients) -> T:
    """An update's outcome in the contract's terms."""
    # The caller waits for the workflow to act, but not forever: after the deadline it gets a 503
    # and the update still completes in the workflow (GET the project to see the outcome).
    deadline = UPDATE_DEADLINE_FACTOR * clients.settings.rpc_timeout
    try:
        return await asyncio.wait_for(call, deadline)
    except TimeoutError as err:
        raise ServiceUnavailable(
            "处理超时，请稍后查看项目状态",
            "timed out waiting for the workflow; check the project later",
            code="workflow_timeout",
        ) from err
    except WorkflowUpdateFailedError as err:
        raise update_error(err) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise ServiceUnavailable() from err
    except WorkflowAlreadyStartedError as err:
        # Update-with-start on a project whose workflow closed normally (approved, rejected …).
        raise Conflict(
            "项目当前状态不允许该操作", "the project no longer accepts this action", code="illegal_state"
        ) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            # The workflow has completed: the project is no longer in a state that takes updates.
            raise Conflict(
                "项目当前状态不允许该操作", "the project no longer accepts this action", code="illegal_state"
            ) from err
        raise _rpc_error(err) from err


def _rpc_error(err: RPCError) -> DomainError:
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
        return ServiceUnavailable(
            "工作流引擎暂不可用", "the workflow engine is unavailable", code="temporal_unavailable"
        )
    return UpstreamFailed()


def _violations(app: ApplicationError) -> list[FieldViolation]:
    """``details[0]`` is a list of ``{"field", "message"}`` (already in the caller's locale)."""
    out: list[FieldViolation] = []
    first = app.details[0] if app.details else []
    for v in first if isinstance(first, list) else []:
        if isinstance(v, dict):
            text = str(v.get("message", ""))
            out.append(FieldViolation(str(v.get("field", "")), text, text))
    return out


def update_error(err: WorkflowUpdateFailedError) -> DomainError:
    cause: BaseException | None = err.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if not isinstance(cause, ApplicationError):
        return UpstreamFailed()
    # The workflow renders the message in the locale it was given (SubmitInput/DecisionInput).
    zh = en = cause.message
    violations = _violations(cause)
    kind = cause.type or ""
    if kind == ERR_VALIDATION:
        return ValidationFailed(violations, zh=zh, en=en)
    if kind == ERR_NOT_FOUND:
        return NotFound(zh, en, code="not_found")
    if kind == ERR_FORBIDDEN:
        return Forbidden(zh, en, code="forbidden", violations=violations)
    if kind == ERR_CONFLICT:
        return Conflict(zh, en, code="conflict")
    if kind == ERR_UNAVAILABLE:
        return ServiceUnavailable(zh, en)
    return UpstreamFailed()
