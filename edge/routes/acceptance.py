"""Acceptance (验收) of an active project.

* `GET|PUT /acceptance/checklists/{business_line}`: the deliverables a business line's projects
  must show before they are accepted (PUT: admin). Stored by the registry (AcceptanceService),
  which owns projects and their files.
* `POST /projects/{id}/acceptance/documents`: upload a customer sign-off or a deliverable's
  document (stored as a registry attachment, readable by whoever may see the project).
* `POST /projects/{id}/acceptance`: the owner (or an admin) opens an acceptance request; required
  deliverables not done (or without their document) → 422 naming `deliverables.<key>` /
  `documents.<key>`. The ProjectAcceptance workflow (`accept-<id>`) runs the request's approval
  chain on the policy `acceptance:<business line>` (else `acceptance`); accepted → the project is
  closed (ProjectClosure), rejected → it stays active with the reasons, and a new request may follow.
* `GET /projects/{id}/acceptance`: checklist, current request, history, each with its approval.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import structlog
from fastapi import File, Form, Request, UploadFile
from temporalio.client import WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, ValidationFailed
from baobei.registry.v1 import acceptance_service_pb2 as acc_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import mapping
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.errors import ServiceUnavailable
from edge.routes import area_router, bind_project
from edge.routes.projects import viewer_of, visible_project, visible_project_with_relations
from edge.schemas_acceptance import AcceptanceIn, AcceptanceOut, ChecklistIn, ChecklistOut, DocumentOut
from workflows.contracts.acceptance import (
    ACCEPTANCE_PURPOSE,
    ACCEPTANCE_WORKFLOW_TYPE,
    QUERY_STATE,
    AcceptanceInput,
    AcceptanceState,
    acceptance_policy_keys,
    acceptance_workflow_id,
)
from workflows.contracts.search_attributes import project_start_options

router = area_router("acceptance")
log = structlog.get_logger(__name__)
MAX_DOCUMENT = 20 * 1024 * 1024
# Sign-off scans, PDFs, OFD (电子签章), Office files.
DOCUMENT_TYPES = {
    "application/pdf", "image/png", "image/jpeg", "image/webp", "application/ofd",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DOCUMENT_SUFFIXES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                     ".webp": "image/webp", ".ofd": "application/ofd", ".doc": "application/msword",
                     ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     ".xls": "application/vnd.ms-excel",
                     ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# How long POST /acceptance waits for the workflow to have planned the request's chain.
PLAN_WAIT_SECONDS = 5.0


# ---------------------------------------------------------------- mapping


def checklist_out(c: acc_pb2.Checklist) -> dict[str, Any]:
    return {
        "business_line": c.business_line, "configured": c.configured, "version": c.version,
        "updated_at": mapping.ts(c.updated_at), "updated_by": c.updated_by or None,
        "items": [{"key": i.key, "name": i.name, "required": i.required, "needs_document": i.needs_document}
                  for i in c.items],
    }


def document_out(d: acc_pb2.AcceptanceDocument) -> dict[str, Any]:
    return {"attachment_id": d.attachment_id, "filename": d.filename, "content_type": d.content_type,
            "size": d.size, "deliverable_key": d.deliverable_key or None, "uploaded_by": d.uploaded_by,
            "uploaded_at": mapping.ts(d.uploaded_at)}


def request_out(r: acc_pb2.AcceptanceRequest, instance: approval_pb2.Instance | None,
                hidden: list[str]) -> dict[str, Any]:
    return {
        "id": r.id, "seq": r.seq, "status": r.status, "business_line": r.business_line,
        "deliverables": [{"key": d.key, "name": d.name, "required": d.required, "needs_document": d.needs_document,
                          "done": d.done, "note": d.note or None} for d in r.deliverables],
        "comment": r.comment or None, "requested_by": r.requested_by, "created_at": mapping.ts(r.created_at),
        "decided_at": mapping.ts(r.decided_at), "decided_by": r.decided_by or None, "reason": r.reason or None,
        "policy_key": r.policy_key, "documents": [document_out(d) for d in r.documents],
        "approval": mapping.approval_out(instance, hidden),
    }


async def acceptance_instance(clients: EdgeClients, project_id: str, subject_id: str) -> approval_pb2.Instance | None:
    try:
        resp: approval_pb2.GetInstanceResponse = await clients.approval.GetInstance(approval_pb2.GetInstanceRequest(
            project_id=project_id, purpose=ACCEPTANCE_PURPOSE, subject_id=subject_id))
    except NotFound:
        return None
    return resp.instance


async def acceptance_view(clients: EdgeClients, user: Principal, project: registry_pb2.Project) -> dict[str, Any]:
    got: acc_pb2.GetAcceptanceResponse = await clients.acceptance.GetAcceptance(
        acc_pb2.GetAcceptanceRequest(project_id=project.id, viewer=await viewer_of(clients, user)))
    instances = await asyncio.gather(*(acceptance_instance(clients, project.id, r.id) for r in got.requests))
    history = [request_out(r, i, list(project.hidden)) for r, i in zip(got.requests, instances, strict=True)]
    return {
        "project_id": project.id, "project_status": mapping.status_name(project.status),
        "required": got.checklist.configured, "checklist": checklist_out(got.checklist),
        "current": history[0] if history else None, "history": history,
        "documents": [document_out(d) for d in got.unattached],
    }


async def checklist_of(clients: EdgeClients, business_line: str) -> acc_pb2.Checklist:
    resp: acc_pb2.GetChecklistResponse = await clients.acceptance.GetChecklist(
        acc_pb2.GetChecklistRequest(business_line=business_line))
    return resp.checklist


async def acceptance_required(clients: EdgeClients, project: registry_pb2.Project) -> bool:
    """Closing this project needs an accepted acceptance request (its business line has a checklist)."""
    return (await checklist_of(clients, project.business_line)).configured


def _owner_or_admin(user: Principal, project: registry_pb2.Project, relations: list[str]) -> None:
    """The owner, the project's PM (team relation ``pm``) or an admin; the registry checks again."""
    if user.id != project.owner_id and not user.is_admin and "pm" not in relations:
        raise Forbidden("只有项目负责人、项目经理或管理员可以申请验收",
                        "only the owner, the project manager or an admin may request acceptance", code="not_owner")


async def _policy_key(clients: EdgeClients, business_line: str) -> str:
    for key in acceptance_policy_keys(business_line):
        try:
            await clients.approval.GetPolicy(approval_pb2.GetPolicyRequest(key=key))
        except NotFound:
            continue
        return key
    line = business_line or "—"
    raise Conflict(f"未配置验收审批策略（acceptance:{line} 或 acceptance），请联系管理员",
                   f"no acceptance approval policy (acceptance:{line} or acceptance) is configured",
                   code="acceptance_policy_missing")


# ---------------------------------------------------------------- checklists


@router.get("/acceptance/checklists/{business_line}", response_model=ChecklistOut)
async def get_checklist(business_line: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The deliverables a business line's projects must show for acceptance (`configured: false`
    without a checklist)."""
    return checklist_out(await checklist_of(clients, business_line))


@router.put("/acceptance/checklists/{business_line}", response_model=ChecklistOut)
async def put_checklist(business_line: str, body: ChecklistIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Set the checklist of a business line (admin). While it has items, `POST /projects/{id}/close`
    on the line's active projects answers 409 `acceptance_required`: they close through an accepted
    acceptance request."""
    resp: acc_pb2.PutChecklistResponse = await clients.acceptance.PutChecklist(acc_pb2.PutChecklistRequest(
        business_line=business_line, actor_id=admin.id,
        items=[acc_pb2.ChecklistItem(key=i.key, name=i.name, required=i.required, needs_document=i.needs_document)
               for i in body.items]))
    log.info("acceptance.checklist_set", business_line=business_line, items=len(body.items))
    return checklist_out(resp.checklist)


# ---------------------------------------------------------------- a project's acceptance


@router.get("/projects/{project_id}/acceptance", response_model=AcceptanceOut)
async def get_acceptance(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The project's acceptance: checklist of its business line, the current request and every
    earlier one (deliverables, documents, reasons, each with its own approval chain)."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    return await acceptance_view(clients, user, project)


@router.post("/projects/{project_id}/acceptance/documents", status_code=201, response_model=DocumentOut)
async def upload_document(
    project_id: str, request: Request, user: CurrentUser, clients: Clients,
    file: Annotated[UploadFile, File(description="Customer sign-off or deliverable document (≤ 20 MB; PDF, OFD, "
                                                 "PNG/JPEG/WebP, Word, Excel)")],
    deliverable_key: Annotated[str, Form(description="The deliverable it documents; empty = customer sign-off",
                                         max_length=64)] = "",
) -> dict[str, Any]:
    """Upload a document for the project's acceptance (owner or admin): it joins the pending
    request, else the next one. 422 naming `file` (too large, wrong type, empty) or
    `deliverable_key` (not on the checklist)."""
    bind_project(request, project_id)
    project, relations = await visible_project_with_relations(clients, user, project_id)
    _owner_or_admin(user, project, relations)
    key = deliverable_key.strip()
    if key:
        items = {i.key for i in (await checklist_of(clients, project.business_line)).items}
        if key not in items:
            raise ValidationFailed([FieldViolation("deliverable_key", f"清单中没有该交付物：{key}",
                                                   f"not on the checklist: {key}")])
    filename = (file.filename or "document").strip() or "document"
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if content_type not in DOCUMENT_TYPES:
        content_type = DOCUMENT_SUFFIXES.get(suffix, content_type)
    if content_type not in DOCUMENT_TYPES:
        raise ValidationFailed([FieldViolation("file", "只接受 PDF、OFD、图片（PNG/JPEG/WebP）、Word 或 Excel 文件",
                                               "only PDF, OFD, PNG/JPEG/WebP images, Word or Excel files")])
    data = await file.read(MAX_DOCUMENT + 1)
    if len(data) > MAX_DOCUMENT:
        raise ValidationFailed([FieldViolation("file", f"文件超过 {MAX_DOCUMENT // 1024 // 1024} MB",
                                               f"the file exceeds {MAX_DOCUMENT // 1024 // 1024} MB")])
    if not data:
        raise ValidationFailed([FieldViolation("file", "文件为空", "the file is empty")])
    uploaded = (await clients.registry.UploadAttachment(registry_pb2.UploadAttachmentRequest(
        request_id=uuid.uuid4().hex, filename=filename, content_type=content_type, data=data,
        uploader_id=user.id))).attachment
    # Whoever may see the project (its approvers included) may download it.
    await clients.registry.LinkAttachments(registry_pb2.LinkAttachmentsRequest(
        project_id=project.id, attachment_ids=[uploaded.id], viewer=await viewer_of(clients, user), kind="acceptance"))
    added: acc_pb2.AddDocumentResponse = await clients.acceptance.AddDocument(acc_pb2.AddDocumentRequest(
        project_id=project.id, viewer=await viewer_of(clients, user), document=acc_pb2.AcceptanceDocument(
            attachment_id=uploaded.id, filename=uploaded.filename, content_type=uploaded.content_type,
            size=uploaded.size, deliverable_key=key, uploaded_by=user.id)))
    return document_out(added.document)


@router.post("/projects/{project_id}/acceptance", status_code=201, response_model=AcceptanceOut)
async def request_acceptance(
    project_id: str, body: AcceptanceIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Open an acceptance request for an active project (owner or admin). 422 naming
    `deliverables.<key>` for each required deliverable not done and `documents.<key>` for a done
    one that needs a document not uploaded; 409 when the project is not active, a request is
    pending, or no acceptance policy exists. The request's approval chain then runs (to-dos and
    action links as for registrations); accepted → the project is closed."""
    bind_project(request, project_id)
    project, relations = await visible_project_with_relations(clients, user, project_id)
    _owner_or_admin(user, project, relations)
    policy_key = await _policy_key(clients, project.business_line)
    opened: acc_pb2.OpenRequestResponse = await clients.acceptance.OpenRequest(acc_pb2.OpenRequestRequest(
        request_id=uuid.uuid4().hex, project_id=project.id, viewer=await viewer_of(clients, user),
        comment=body.comment or "", actor_id=user.id, policy_key=policy_key,
        deliverables=[acc_pb2.DeliverableState(key=d.key, done=d.done, note=d.note or "") for d in body.deliverables]))
    acceptance_id = opened.request.id
    client = await clients.temporal()
    wid = acceptance_workflow_id(project.id)
    try:
        handle = await client.start_workflow(
            ACCEPTANCE_WORKFLOW_TYPE,
            AcceptanceInput(project_id=project.id, acceptance_id=acceptance_id, actor_id=user.id,
                            policy_key=policy_key, comment=body.comment or ""),
            id=wid, task_queue=clients.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            # A rejected request's run is over: the next request runs under the same id.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            **project_start_options(ACCEPTANCE_WORKFLOW_TYPE, project.code, project.name),
        )
    except (WorkflowAlreadyStartedError, RPCError) as err:
        # Not started: the request must not stay pending without its workflow.
        await clients.acceptance.SettleRequest(acc_pb2.SettleRequestRequest(
            request_id=f"{acceptance_id}:cancel", acceptance_id=acceptance_id, status="cancelled",
            actor_id=user.id, reason="workflow not started"))
        if isinstance(err, WorkflowAlreadyStartedError):
            raise Conflict("该项目的验收审批仍在进行中", "an acceptance of this project is still running",
                           code="acceptance_pending") from err
        raise ServiceUnavailable() from err
    log.info("acceptance.requested", project_id=project.id, acceptance_id=acceptance_id, policy=policy_key)
    # Show the request with its planned chain when the workflow is that quick (it usually is).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PLAN_WAIT_SECONDS
    while loop.time() < deadline:
        try:
            state: AcceptanceState = await handle.query(QUERY_STATE, result_type=AcceptanceState)
            if state.instance_id:
                break
        except (RPCError, WorkflowQueryFailedError):
            pass
        await asyncio.sleep(0.1)
    return await acceptance_view(clients, user, project)
