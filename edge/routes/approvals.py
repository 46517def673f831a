"""Approving: to-dos, decisions on approval tasks (approve, reject, return, transfer, add_approver),
withdraw, remind (催办), cc (抄送) with read receipts, comments with attachments, delegation while
away, and the admin's reassign / cancel. Every action is audited by the approval service."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from fastapi import Header, Request, Response
from google.protobuf import struct_pb2
from redis.exceptions import RedisError

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, ValidationFailed
from baobei.registry.v1 import comment_service_pb2 as comment_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, lifecycle, mapping, mentions
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router, bind_project
from edge.routes.changes import todo_change
from edge.routes.comments import request_id_of
from edge.routes.projects import approval_instance, project_view, viewer_of, visible_project
from edge.schemas import (
    ActionIn,
    ActionResultOut,
    ApprovalOut,
    AttachmentIn,
    CcIn,
    CcList,
    CcOut,
    CommentIn,
    DecisionIn,
    DecisionResultOut,
    DelegationIn,
    DelegationOut,
    ProjectOut,
    ReassignIn,
    TodoList,
)
from workflows.contracts.lifecycle import CcInput, DecisionInput, ReassignInput, RemindInput, WithdrawInput

router = area_router("approving")

TARGETED_ACTIONS = ("transfer", "add_approver")
DECISION_LOCK_SECONDS = 60
# An uploaded attachment's download URL, relative or absolute (any other URL is an external link).
ATTACHMENT_URL = re.compile(r"^/api/v1/attachments/([^/]+)/content/?$")


def attachment_id_of(url: str) -> str:
    """The registry attachment id a comment's attachment URL names ("" for an external link)."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return ""
    found = ATTACHMENT_URL.match(path)
    return unquote(found.group(1)) if found else ""


async def link_attachments(
    clients: EdgeClients, user: Principal, project_id: str, attachments: Sequence[AttachmentIn], kind: str
) -> None:
    """Tell the registry that uploaded attachments are referenced on the project's approval, so
    whoever may see the approval (owner, approvers, CC'd users, admins) may download them. 422 on
    `attachments[i].url` for an attachment the caller may not read themselves."""
    ids = [attachment_id_of(a.url) for a in attachments]
    if not any(ids):
        return
    await clients.registry.LinkAttachments(
        registry_pb2.LinkAttachmentsRequest(
            project_id=project_id, attachment_ids=ids, viewer=await viewer_of(clients, user), kind=kind
        )
    )


@router.get("/me/todos", response_model=TodoList, response_model_exclude_none=True)
async def my_todos(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Approval tasks waiting for the caller (also those of users who delegated to them now)."""
    resp = await clients.approval.ListTodos(approval_pb2.ListTodosRequest(user_id=user.id))
    items = [mapping.todo_out(t) for t in resp.tasks]
    changes = [(item, t) for item, t in zip(items, resp.tasks, strict=True) if t.purpose == "change" and t.subject_id]
    if changes:
        found = await asyncio.gather(*(todo_change(clients, user, t.subject_id) for _, t in changes))
        for (item, _), change in zip(changes, found, strict=True):
            if change is not None:
                item["change"] = change
    return {"items": items}


@router.post("/approval-tasks/{task_id}/decision", response_model=DecisionResultOut)
async def decide(
    task_id: str, body: DecisionIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Decide an approval task: approve, reject, return (to the submitter, or to an earlier step
    with `to_step`), transfer (转交) or add_approver (加签; `position` before, after or parallel)
    to `to_user_id`. It takes effect in the project's workflow before the answer."""
    if body.action in TARGETED_ACTIONS and not (body.to_user_id or "").strip():
        raise ValidationFailed([FieldViolation("to_user_id", "转交或加签须指定用户", "to_user_id is required")])
    found = await clients.approval.GetTask(approval_pb2.GetTaskRequest(task_id=task_id, actor_id=user.id))
    task = found.task
    bind_project(request, task.project_id)
    # Whoever may act on a task sees its project (the registry's "approver" relation: their own
    # tasks and pending delegated ones are what ListApproverProjects answers), so only the others
    # are asked about the project: 404 when they cannot see it, else 403. Saves the
    # approver three reads and a round trip before the decision (issue 15, the answer's time).
    if not found.may_act:
        await visible_project(clients, user, task.project_id)
        raise Forbidden("你不是该审批任务的审批人", "you are not the approver of this task", code="not_approver")
    if task.status != approval_pb2.TASK_STATUS_PENDING:
        raise _already_decided()
    await link_attachments(clients, user, task.project_id, body.attachments, "decision")
    # Double clicks: only one decision per task is in flight; the other one answers 409 at once.
    lock = f"baobei:edge:decide:{task_id}"
    try:
        if not await clients.redis.set(lock, user.id, nx=True, ex=DECISION_LOCK_SECONDS):
            raise _already_decided()
    except RedisError:
        lock = ""  # without Redis the workflow still refuses the second decision
    try:
        result = await lifecycle.decide(
            clients,
            task.project_id,
            DecisionInput(
                task_id=task_id,
                user_id=user.id,
                action=body.action,
                comment=body.comment,
                channel="api",
                to_user_id=(body.to_user_id or "").strip(),
                position=body.position,
                to_step=body.to_step,
                attachments=[a.model_dump() for a in body.attachments],
            ),
            purpose=task.purpose,
            subject_id=task.subject_id,
        )
    finally:
        if lock:
            with contextlib.suppress(RedisError):
                await clients.redis.delete(lock)
    return {"project_id": result.project_id or task.project_id, "status": result.status}


def _already_decided() -> Conflict:
    return Conflict("该审批任务已处理", "this approval task has already been decided", code="already_decided")


# ---------------------------------------------------------------- the submitter's actions


@router.post("/projects/{project_id}/withdraw", response_model=ProjectOut)
async def withdraw_project(
    project_id: str, request: Request, user: CurrentUser, clients: Clients, body: ActionIn | None = None
) -> dict[str, Any]:
    """The owner withdraws a draft, pending or returned project: its approval is cancelled and the
    project becomes `cancelled` (403 for others, 409 once decided)."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    await lifecycle.ensure_started(clients, project.id, project.owner_id,
                                   code=project.code, name=project.name)
    await lifecycle.withdraw(
        clients, project_id,
        WithdrawInput(actor_id=user.id, actor_is_admin=user.is_admin, comment=body.comment if body else ""),
    )
    return await project_view(clients, user, project_id)


@router.post("/projects/{project_id}/remind", response_model=ActionResultOut)
async def remind(
    project_id: str, request: Request, user: CurrentUser, clients: Clients, body: ActionIn | None = None
) -> dict[str, Any]:
    """催办: the owner reminds the current approvers (at most every 10 minutes, else 409)."""
    bind_project(request, project_id)
    await visible_project(clients, user, project_id)
    out = await lifecycle.remind(
        clients, project_id,
        RemindInput(actor_id=user.id, actor_is_admin=user.is_admin, comment=body.comment if body else ""),
    )
    return {"project_id": project_id, "reminded": out.reminded}


@router.post("/projects/{project_id}/approval/cc", response_model=ActionResultOut)
async def carbon_copy(
    project_id: str, body: CcIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """抄送: the owner or a current approver copies the approval to users (they are notified, may
    read the project, and their reading is receipted)."""
    bind_project(request, project_id)
    await visible_project(clients, user, project_id)
    out = await lifecycle.cc(
        clients, project_id,
        CcInput(actor_id=user.id, user_ids=[u.strip() for u in body.user_ids], actor_is_admin=user.is_admin,
                comment=body.comment),
    )
    return {"project_id": project_id, "user_ids": out.user_ids}


@router.post("/projects/{project_id}/approval/comments", status_code=201, response_model=ActionResultOut)
async def comment(
    project_id: str, body: CommentIn, request: Request, user: CurrentUser, clients: Clients,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Repeats record and notify once (24 h)")
    ] = None,
) -> dict[str, Any]:
    """A comment (评论) with attachments on the approval, by anyone who can see the project. An
    attachment uploaded with `POST /attachments` (url `/api/v1/attachments/<id>/content`) becomes
    downloadable by whoever may see the project; it must be one the commenter may read or the owner's
    upload (else 422 on `attachments[i].url`). `mentions` @-s people as in project comments: each
    must exist, not have left and be able to see the project (else 422 naming `mentions[i]`, and
    nothing is recorded); they get a `mentioned` notification linking to the approval."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    instance = await approval_instance(clients, project_id)
    if instance is None:
        raise Conflict("项目尚未提交审批", "the project has no approval yet", code="illegal_state")
    mentioned: list[str] = []
    if body.mentions:
        checked = await clients.comments.CheckMentions(comment_pb2.CheckMentionsRequest(
            project_id=project_id, author_id=user.id,
            mentions=await mentions.mention_viewers(clients, body.mentions, project_id)))
        mentioned = list(checked.user_ids)
    await link_attachments(clients, user, project_id, body.attachments, "comment")
    attachments = struct_pb2.ListValue()
    for a in body.attachments:
        attachments.add_struct().update(a.model_dump())
    request_id = request_id_of(user.id, idempotency_key)
    resp = await clients.approval.RecordAction(
        approval_pb2.RecordActionRequest(
            request_id=request_id, instance_id=instance.id, step_index=-1, actor_id=user.id,
            action="comment", comment=body.comment, channel="api", attachments=attachments,
        )
    )
    if mentioned:
        await mentions.notify_comment(
            clients,
            mentions.CommentNotice(
                key=f"approval-comment:{request_id}", project_id=project_id, code=project.code, name=project.name,
                author_id=user.id, author_name=user.name, body=body.comment,
                url=f"{clients.settings.public_base_url()}/projects/{project_id}?tab=approval",
                anchor=f"step:{resp.step_index}" if resp.step_index >= 0 else "project",
            ),
            mentions=mentioned,
        )
    return {"project_id": project_id, "comment": mapping.decision_out(resp.action)}


@router.get("/projects/{project_id}/approval", response_model=ApprovalOut)
async def approval_detail(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The approval with its provenance (policy version, inputs, the rule behind each step), every
    audited action, CCs and their read receipts, and while pending its `forecast`: the expected
    completion (P50) and an 80 % range learnt from the lead times of earlier steps of the same
    policy, step and approvers, on the working calendar."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    instance = await approval_instance(clients, project_id)
    if instance is None:
        raise NotFound("项目尚无审批记录", "the project has no approval yet")
    out = mapping.approval_out(instance, project.hidden)
    if instance.status == "pending":
        forecast = await clients.approval.ForecastInstance(approval_pb2.ForecastInstanceRequest(project_id=project_id))
        out["forecast"] = mapping.forecast_out(forecast)
    return out


# ---------------------------------------------------------------- admin


@router.post("/projects/{project_id}/approval/cancel", response_model=ProjectOut)
async def cancel_approval(
    project_id: str, request: Request, admin: AdminUser, clients: Clients, body: ActionIn | None = None
) -> dict[str, Any]:
    """An admin cancels a pending or returned approval (audited); the project becomes `cancelled`."""
    bind_project(request, project_id)
    project = await visible_project(clients, admin, project_id)
    await lifecycle.ensure_started(clients, project.id, project.owner_id,
                                   code=project.code, name=project.name)
    await lifecycle.withdraw(
        clients, project_id,
        WithdrawInput(actor_id=admin.id, actor_is_admin=True, cancel=True, comment=body.comment if body else ""),
    )
    await audit.record(clients, "approval.cancelled", actor_id=admin.id, target_type="project", target_id=project_id,
                       details={"comment": body.comment if body else ""})
    return await project_view(clients, admin, project_id)


@router.post("/projects/{project_id}/approval/reassign", response_model=ActionResultOut)
async def reassign(
    project_id: str, body: ReassignIn, request: Request, admin: AdminUser, clients: Clients
) -> dict[str, Any]:
    """An admin replaces an approver of the open step (`from_user_id`, default all of them), or
    assigns one to a step blocked for want of an approver (audited)."""
    bind_project(request, project_id)
    await visible_project(clients, admin, project_id)
    out = await lifecycle.reassign(
        clients, project_id,
        ReassignInput(actor_id=admin.id, to_user_id=body.to_user_id.strip(),
                      step_index=-1 if body.step_index is None else body.step_index,
                      from_user_id=(body.from_user_id or "").strip(), comment=body.comment),
    )
    await audit.record(clients, "approval.reassigned", actor_id=admin.id, target_type="project", target_id=project_id,
                       details={"to_user_id": body.to_user_id.strip(),
                                "from_user_id": (body.from_user_id or "").strip(), "step_index": body.step_index,
                                "approvers": list(out.approvers), "comment": body.comment})
    return {"project_id": project_id, "approvers": out.approvers}


# ---------------------------------------------------------------- cc receipts and delegation


@router.get("/me/cc", response_model=CcList)
async def my_cc(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Approvals copied to the caller, newest first, with their read receipts."""
    resp = await clients.approval.ListCc(approval_pb2.ListCcRequest(user_id=user.id))
    return {"items": [mapping.cc_out(c) for c in resp.items]}


@router.post("/cc/{cc_id}/read", response_model=CcOut)
async def read_cc(cc_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Read receipt of a copy (the first read is kept)."""
    resp = await clients.approval.MarkCcRead(approval_pb2.MarkCcReadRequest(cc_id=cc_id, user_id=user.id))
    return mapping.cc_out(resp.cc)


def _delegation_out(user_id: str, d: approval_pb2.Delegation) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "delegate_id": d.delegate_id or None,
        "starts_at": mapping.ts(d.starts_at),
        "ends_at": mapping.ts(d.ends_at),
    }


@router.get("/me/delegation", response_model=DelegationOut)
async def my_delegation(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    resp = await clients.approval.GetDelegation(approval_pb2.GetDelegationRequest(user_id=user.id))
    return _delegation_out(user.id, resp.delegation)


@router.put("/me/delegation", response_model=DelegationOut)
async def set_delegation(body: DelegationIn, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """While away, name a delegate for a date range: they see and decide the caller's approval
    tasks, recorded as acting for the caller."""
    req = approval_pb2.SetDelegationRequest(request_id=uuid.uuid4().hex, user_id=user.id,
                                            delegate_id=body.delegate_id.strip())
    req.starts_at.FromDatetime(body.starts_at)
    req.ends_at.FromDatetime(body.ends_at)
    resp = await clients.approval.SetDelegation(req)
    return _delegation_out(user.id, resp.delegation)


@router.delete("/me/delegation", status_code=204)
async def clear_delegation(user: CurrentUser, clients: Clients) -> Response:
    await clients.approval.SetDelegation(
        approval_pb2.SetDelegationRequest(request_id=uuid.uuid4().hex, user_id=user.id, delegate_id="")
    )
    return Response(status_code=204)
