"""Change requests (变更) of an active project.

* `POST /projects/{id}/changes`: the owner (or an admin) proposes a change of amount, dates or form
  fields with a reason. The registry validates it as it validated the registration (the form
  version the project was filed with: 422 naming `changes.<path>`; a change that changes nothing →
  422 `changes`), refuses a second open one (409 `change_pending`) and keeps its before/after diff.
  The ProjectChange workflow (`change-<change id>`) then runs its approval chain: the form's policy
  evaluated on the project as it would be after the change (approval instance purpose `change`),
  so a raise past a threshold brings in the higher approvers. Only an approved change is applied.
* `GET /projects/{id}/changes`: the project's change requests, newest first.
* `GET /changes/{id}`: one change request with its diff and approval chain.
* `POST /changes/{id}/withdraw`: the proposer (or an admin) withdraws a pending change.

Field-level read permissions hold: the registry's ChangeService gets the caller as viewer, answers
404 when they may not see the project and leaves out of the diff the paths they may not read (the
project's `hidden` paths, as on `GET /projects/{id}`; the edge drops them again from what it
shows); the chain's planning inputs are filtered as on the project page.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from fastapi import Request
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from temporalio.client import WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import Conflict, Forbidden, NotFound
from baobei.registry.v1 import change_service_pb2 as change_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import lifecycle, mapping
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import Clients, CurrentUser
from edge.errors import ServiceUnavailable
from edge.routes import area_router, bind_project
from edge.routes.projects import viewer_of, visible_project, visible_project_with_relations
from edge.schemas_changes import ChangeIn, ChangeList, ChangeOut, ChangeWithdrawIn
from workflows.contracts.change import (
    CHANGE_PURPOSE,
    CHANGE_WORKFLOW_TYPE,
    QUERY_STATE,
    ChangeInput,
    ChangeState,
    WithdrawChangeInput,
    change_workflow_id,
)
from workflows.contracts.search_attributes import project_start_options

router = area_router("changes")
log = structlog.get_logger(__name__)
# Who may propose: the owner, an admin, the project's PM (team relation "pm", where teams exist).
PROPOSERS = frozenset({"owner", "admin", "pm"})
# How long POST /changes waits for the workflow to have planned the change's chain.
PLAN_WAIT_SECONDS = 5.0


def _value(v: struct_pb2.Value) -> Any:
    return MessageToDict(v) if v.WhichOneof("kind") not in (None, "null_value") else None


def diff_out(c: change_pb2.ChangeRequest, hidden: set[str]) -> list[dict[str, Any]]:
    """The change's diff without the paths the viewer may not read."""
    return [{"field": d.field, "before": _value(d.before), "after": _value(d.after)}
            for d in c.diff if d.field not in hidden]


def change_out(c: change_pb2.ChangeRequest, hidden: set[str],
               instance: approval_pb2.Instance | None = None) -> dict[str, Any]:
    return {
        "id": c.id, "project_id": c.project_id, "seq": c.seq, "status": c.status, "diff": diff_out(c, hidden),
        "reason": c.reason, "reset_baseline": c.reset_baseline, "requested_by": c.requested_by,
        "created_at": mapping.ts(c.created_at), "decided_at": mapping.ts(c.decided_at),
        "decided_by": c.decided_by or None, "outcome_reason": c.outcome_reason or None,
        "applied_version": c.applied_version or None,
        "approval": mapping.approval_out(instance, sorted(hidden)) if instance is not None else None,
    }


async def change_instance(clients: EdgeClients, project_id: str, change_id: str) -> approval_pb2.Instance | None:
    try:
        resp: approval_pb2.GetInstanceResponse = await clients.approval.GetInstance(approval_pb2.GetInstanceRequest(
            project_id=project_id, purpose=CHANGE_PURPOSE, subject_id=change_id))
    except NotFound:
        return None
    return resp.instance


async def get_change_of(
    clients: EdgeClients, change_id: str, viewer: registry_pb2.Viewer | None = None
) -> change_pb2.ChangeRequest:
    """The change as ``viewer`` may read it (the registry answers NOT_FOUND when they may not see
    its project, and leaves out of the diff what they may not read); no viewer: unfiltered."""
    req = change_pb2.GetChangeRequest(change_id=change_id)
    if viewer is not None:
        req.viewer.CopyFrom(viewer)
    resp: change_pb2.ChangeResponse = await clients.change.GetChange(req)
    return resp.change


async def visible_change(
    clients: EdgeClients, user: Principal, change_id: str
) -> tuple[change_pb2.ChangeRequest, registry_pb2.Project]:
    """The change and its project as the caller may see it; 404 for an unknown change or one of a
    project the caller cannot see."""
    change = await get_change_of(clients, change_id, await viewer_of(clients, user))
    project = await visible_project(clients, user, change.project_id)
    return change, project


async def change_view(clients: EdgeClients, change: change_pb2.ChangeRequest,
                      project: registry_pb2.Project) -> dict[str, Any]:
    return change_out(change, set(project.hidden), await change_instance(clients, project.id, change.id))


async def todo_change(clients: EdgeClients, user: Principal, change_id: str) -> dict[str, Any] | None:
    """What an approver's to-do shows of a change request (None when it cannot be read now)."""
    try:
        change, project = await visible_change(clients, user, change_id)
    except NotFound:
        return None
    return {"id": change.id, "reason": change.reason, "diff": diff_out(change, set(project.hidden))}


def _changes_dict(body: ChangeIn) -> dict[str, Any]:
    raw = body.changes.model_dump(exclude_unset=True)
    return {k: v for k, v in raw.items()}


@router.post("/projects/{project_id}/changes", status_code=201, response_model=ChangeOut)
async def propose_change(
    project_id: str, body: ChangeIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Propose a change of an active project (its owner, its PM where the project has a team, or
    an admin): `changes` with `amount`, `start_date`, `end_date` and/or `fields`, and a `reason`. 422 naming the field
    (`changes.amount`, `changes.fields.<key>`, `reason`; `changes` when nothing would change);
    403 for fields the caller may not write; 409 `illegal_transition` when the project is not
    active, `change_pending` while another change is open. Answers with the change, its diff and
    its planned approval chain."""
    bind_project(request, project_id)
    project, relations = await visible_project_with_relations(clients, user, project_id)
    if not PROPOSERS.intersection(relations) and not user.is_admin:
        raise Forbidden("只有项目负责人、项目经理或管理员可以发起变更",
                        "only the owner, the project manager or an admin may propose a change", code="not_owner")
    changes = struct_pb2.Struct()
    changes.update(_changes_dict(body))
    opened: change_pb2.ChangeResponse = await clients.change.OpenChange(change_pb2.OpenChangeRequest(
        request_id=uuid.uuid4().hex, project_id=project.id, actor_id=user.id, actor_is_admin=user.is_admin,
        actor_roles=list(user.roles), changes=changes, reason=body.reason, reset_baseline=body.reset_baseline,
        viewer=await viewer_of(clients, user)))
    change = opened.change
    asked = _changes_dict(body)
    client = await clients.temporal()
    try:
        handle = await client.start_workflow(
            CHANGE_WORKFLOW_TYPE,
            ChangeInput(project_id=project.id, change_id=change.id, actor_id=user.id, amount=change.after_amount,
                        start_date=asked.get("start_date"), fields=dict(asked.get("fields") or {}),
                        reset_baseline=body.reset_baseline, reason=body.reason),
            id=change_workflow_id(change.id), task_queue=clients.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            **project_start_options(CHANGE_WORKFLOW_TYPE, project.code, project.name),
        )
    except (WorkflowAlreadyStartedError, RPCError) as err:
        # Not started: the request must not stay pending without its workflow.
        await clients.change.SettleChange(change_pb2.SettleChangeRequest(
            request_id=f"{change.id}:cancel", change_id=change.id, status="cancelled", actor_id=user.id,
            reason="workflow not started"))
        if isinstance(err, WorkflowAlreadyStartedError):
            raise Conflict("该变更的审批已在进行中", "this change is already being approved",
                           code="change_pending") from err
        raise ServiceUnavailable() from err
    log.info("change.proposed", project_id=project.id, change_id=change.id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PLAN_WAIT_SECONDS
    while loop.time() < deadline:
        try:
            state: ChangeState = await handle.query(QUERY_STATE, result_type=ChangeState)
            if state.instance_id:
                break
        except (RPCError, WorkflowQueryFailedError):
            pass
        await asyncio.sleep(0.1)
    return await change_view(clients, change, project)


@router.get("/projects/{project_id}/changes", response_model=ChangeList)
async def list_changes(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The project's change requests, newest first, each with its diff (fields the caller may not
    read left out) and its approval chain."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    resp: change_pb2.ListChangesResponse = await clients.change.ListChanges(
        change_pb2.ListChangesRequest(project_id=project.id, viewer=await viewer_of(clients, user)))
    instances = await asyncio.gather(*(change_instance(clients, project.id, c.id) for c in resp.changes))
    hidden = set(project.hidden)
    return {"items": [change_out(c, hidden, i) for c, i in zip(resp.changes, instances, strict=True)]}


@router.get("/changes/{change_id}", response_model=ChangeOut)
async def get_change(change_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """One change request: its before/after diff (fields the caller may not read left out) and its
    approval chain. 404 when the caller cannot see the project."""
    change, project = await visible_change(clients, user, change_id)
    bind_project(request, project.id)
    return await change_view(clients, change, project)


@router.post("/changes/{change_id}/withdraw", response_model=ChangeOut)
async def withdraw_change(
    change_id: str, body: ChangeWithdrawIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Withdraw a pending change (its proposer, the owner or an admin): its approval chain is
    cancelled and nothing is applied. 409 when it is no longer pending."""
    change, project = await visible_change(clients, user, change_id)
    bind_project(request, project.id)
    if user.id not in (change.requested_by, project.owner_id) and not user.is_admin:
        raise Forbidden("只有发起人可以撤回变更", "only the proposer may withdraw the change", code="not_owner")
    if change.status != "pending":
        raise Conflict("变更申请已处理，不能撤回", "the change request is already settled", code="already_decided")
    await lifecycle.withdraw_change(clients, change.id, WithdrawChangeInput(
        actor_id=user.id, actor_is_admin=user.is_admin, reason=body.reason))
    return await change_view(clients, await get_change_of(clients, change_id, await viewer_of(clients, user)),
                             project)

