"""Integrations: the inbound CRM webhook (register + submit an opportunity once per external id;
"opportunity lost" runs the CrmOpportunityLost saga) and the org sync from the DingTalk / WeCom /
Feishu directory APIs (users who left hand their pending approvals to their manager through OrgHandover).

Callers are users with the `integrator` role (or admins) whose token carries the route's scope:
`crm:write` for the CRM routes, `org:sync` for the org sync (403 `scope_required` otherwise). When
`BAOBEI_CRM_SIGNING_SECRET` is set, CRM calls must also carry a Standard Webhooks signature
(`webhook-id`, `webhook-timestamp`, `webhook-signature`) over the raw body. See
docs/integrations.md.

The org sync is an upsert by the integrator: the registry skips every entry that would touch an
admin or the integrator's own record, grant `admin` / `integrator` or a role the integrator lacks,
or make it a manager; the answer lists them in `refused` (path in the caller's payload, code)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import time
import uuid
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Request, Response
from standardwebhooks import Webhook
from temporalio.client import Client as TemporalClient
from temporalio.client import RPCError, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from baobei.core.errors import FieldViolation, Forbidden, NotFound, Unauthenticated, ValidationFailed
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, lifecycle, mapping
from edge.auth import Principal, directory_changed, revoke_user
from edge.clients import Clients as EdgeClients
from edge.deps import CRM_WRITE, ORG_SYNC, Clients, CurrentUser, scope_required
from edge.errors import ServiceUnavailable, UpstreamFailed
from edge.org_import import OrgImport, OrgUser, from_dingtalk, from_feishu, from_wecom
from edge.routes import area_router, bind_project
from edge.schemas_notify import (
    CrmCreated,
    CrmLostIn,
    CrmLostOut,
    CrmOpportunityIn,
    DingTalkOrgIn,
    FeishuOrgIn,
    OrgSyncOut,
    WeComOrgIn,
)
from edge.sessions import SessionStore
from workflows.contracts.crm import CRM_LOST_WORKFLOW_TYPE, CrmLostInput, CrmLostResult, crm_lost_workflow_id
from workflows.contracts.handover import (
    ORG_HANDOVER_WORKFLOW_TYPE,
    HandoverInput,
    HandoverResult,
    org_handover_workflow_id,
)
from workflows.contracts.search_attributes import project_start_options

log = structlog.get_logger(__name__)
router = area_router("integrations")

CRM_SOURCE = "crm"
INTEGRATOR_ROLE = "integrator"
# Standard Webhooks: signatures older or newer than this are refused (replay window).
SIGNATURE_TOLERANCE_SECONDS = 300
# A saga / handover waits at most this many rpc_timeouts before the caller gets a 503 (it still
# completes; a repeat returns its result).
WORKFLOW_WAIT_FACTOR = 6
USER_HAS_LEFT = "left" in registry_pb2.User.DESCRIPTOR.fields_by_name
T = TypeVar("T")


# ---------------------------------------------------------------- callers


async def integrator(user: CurrentUser) -> Principal:
    if not (user.is_admin or INTEGRATOR_ROLE in user.roles):
        raise Forbidden("需要集成（integrator）角色", "the integrator role is required", code="integrator_required")
    return user


Integrator = Annotated[Principal, Depends(integrator)]


async def org_syncer(user: Integrator) -> Principal:
    return await scope_required(ORG_SYNC)(user)


OrgSyncer = Annotated[Principal, Depends(org_syncer)]


def verify_signature(secret: str, body: bytes, headers: dict[str, str], *, now: float | None = None) -> None:
    """Standard Webhooks over the raw body; 401 with ``signature_missing`` / ``signature_expired``
    / ``signature_invalid``."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signature = (
        lower.get(h, "").strip() for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (msg_id and stamp and signature):
        raise Unauthenticated(
            "缺少签名头 webhook-id / webhook-timestamp / webhook-signature",
            "missing Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)",
            code="signature_missing",
        )
    try:
        sent = int(stamp)
    except ValueError:
        raise Unauthenticated("webhook-timestamp 无效", "invalid webhook-timestamp", code="signature_invalid") from None
    if abs((time.time() if now is None else now) - sent) > SIGNATURE_TOLERANCE_SECONDS:
        raise Unauthenticated(
            "签名时间戳超出允许范围（5 分钟）", "webhook-timestamp is outside the 5 minute tolerance",
            code="signature_expired",
        )
    try:
        Webhook(secret).verify(body, {"webhook-id": msg_id, "webhook-timestamp": stamp,
                                      "webhook-signature": signature}, json_parse=False)
    except UnicodeDecodeError:  # a binary body (an uploaded workbook): the library signs text only
        if not _binary_signature_ok(secret, msg_id, stamp, body, signature):
            raise Unauthenticated(
                "签名校验失败", "the webhook signature does not match", code="signature_invalid"
            ) from None
    except Exception:  # WebhookVerificationError, malformed signature lists, bad base64
        raise Unauthenticated(
            "签名校验失败", "the webhook signature does not match", code="signature_invalid"
        ) from None


def _binary_signature_ok(secret: str, msg_id: str, stamp: str, body: bytes, signature: str) -> bool:
    """The Standard Webhooks signature (HMAC-SHA256 of ``<id>.<timestamp>.<body>``, base64) over a
    body that is not UTF-8 text, as raw bytes; any ``v1,`` entry of the list may match."""
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    expected = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    for entry in signature.split(" "):
        version, _, sig = entry.partition(",")
        try:
            given = base64.b64decode(sig, validate=True)
        except (binascii.Error, ValueError):
            continue
        if version == "v1" and hmac.compare_digest(expected, given):
            return True
    return False


async def crm_caller(request: Request, user: Integrator, clients: Clients) -> Principal:
    await scope_required(CRM_WRITE)(user)
    secret = clients.settings.crm_signing_secret
    if secret:
        verify_signature(secret, await request.body(), dict(request.headers))
    return user


CrmCaller = Annotated[Principal, Depends(crm_caller)]


# ---------------------------------------------------------------- CRM


async def _owner(clients: EdgeClients, caller: Principal, owner_id: str | None) -> str:
    owner = (owner_id or "").strip()
    if not owner or owner == caller.id:
        return caller.id
    try:
        await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=owner))
    except NotFound:
        raise ValidationFailed(
            [FieldViolation("owner_id", f"用户 {owner} 不存在", f"user {owner} does not exist")]
        ) from None
    return owner


@router.post(
    "/integrations/crm/opportunities", status_code=201, response_model=CrmCreated,
    responses={200: {"model": CrmCreated, "description": "The project registered earlier for this external_id"}},
)
async def crm_opportunity(
    body: CrmOpportunityIn, request: Request, response: Response, caller: CrmCaller, clients: Clients
) -> dict[str, Any]:
    """Register and submit a project for a CRM opportunity, once per `external_id`: 201 the first
    time, 200 with the same project after (a project left in draft by an interrupted first call
    is submitted then). Owned by `owner_id`, else by the integrator user."""
    owner_id = await _owner(clients, caller, body.owner_id)
    # Same rule as any submission: no approval policy for the form → 409, nothing registered.
    await lifecycle.require_approval_policy(clients, body.form_key)
    req = mapping.project_create_request(
        body, request_id=uuid.uuid4().hex, owner_id=owner_id, owner_is_admin=caller.is_admin and owner_id == caller.id
    )
    req.external_source, req.external_id = CRM_SOURCE, body.external_id
    resp = await clients.registry.CreateProject(req)
    project = resp.project
    bind_project(request, project.id)
    structlog.contextvars.bind_contextvars(external_id=body.external_id)
    status = mapping.status_name(project.status)
    if status == "draft":
        await lifecycle.ensure_started(clients, project.id, project.owner_id,
                                       code=project.code, name=project.name)
        # The integration submits on the owner's behalf (as admins may): audited as the integrator.
        result = await lifecycle.submit(clients, project.id, form_key=project.form_key, actor_id=caller.id,
                                        actor_is_admin=True)
        status = result.status
    if resp.existing:
        response.status_code = 200
    log.info("crm.opportunity", project_id=project.id, existing=resp.existing, status=status)
    return {"id": project.id, "code": project.code, "status": status}


async def _run_workflow(
    clients: EdgeClients,
    workflow: str,
    arg: Any,
    *,
    workflow_id: str,
    result_type: type[T],
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    start_options: dict[str, Any] | None = None,
) -> tuple[T, bool]:
    """Start ``workflow`` (or attach to the running / completed run with that id) and wait for its
    result. Returns (result, started_now). ``start_options``: e.g. the project's search attribute
    and summary (``project_start_options``)."""
    client: TemporalClient = await clients.temporal()
    started = True
    try:
        handle = await client.start_workflow(
            workflow, arg, id=workflow_id, task_queue=clients.settings.task_queue, result_type=result_type,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING, id_reuse_policy=reuse,
            **(start_options or {}),
        )
    except WorkflowAlreadyStartedError:
        started = False  # completed before: its result is the answer (a repeat changes nothing)
        handle = client.get_workflow_handle(workflow_id, result_type=result_type)
    except RPCError as err:
        raise ServiceUnavailable("工作流引擎暂不可用", "the workflow engine is unavailable",
                                 code="temporal_unavailable") from err
    deadline = WORKFLOW_WAIT_FACTOR * clients.settings.rpc_timeout
    try:
        result = await asyncio.wait_for(handle.result(), deadline)
    except TimeoutError as err:
        raise ServiceUnavailable("处理超时，请稍后重试（重复请求返回同一结果）",
                                 "timed out waiting for the workflow; repeat the call to get its result",
                                 code="workflow_timeout") from err
    except WorkflowFailureError as err:
        log.warning("integration.workflow_failed", workflow_id=workflow_id, error=str(err.cause or err))
        raise UpstreamFailed() from err
    except RPCError as err:
        raise ServiceUnavailable() from err
    return result, started


@router.post("/integrations/crm/opportunities/{external_id}/lost", response_model=CrmLostOut)
async def crm_lost(
    external_id: str, request: Request, caller: CrmCaller, clients: Clients, body: CrmLostIn | None = None
) -> dict[str, Any]:
    """The opportunity was lost: withdraw the pending approval, cancel the registration and release
    its protection, as one durable saga (CrmOpportunityLost). A repeat returns the same result;
    an unknown `external_id` → 404."""
    try:
        project = (
            await clients.registry.GetProject(
                registry_pb2.GetProjectRequest(project_id=f"ext:{CRM_SOURCE}:{external_id.strip()}")
            )
        ).project
    except NotFound:
        raise NotFound(f"没有外部编号为 {external_id} 的 CRM 商机", f"no CRM opportunity {external_id}",
                       code="not_found") from None
    bind_project(request, project.id)
    result, started = await _run_workflow(
        clients, CRM_LOST_WORKFLOW_TYPE,
        CrmLostInput(project_id=project.id, external_id=external_id.strip(), reason=body.reason if body else "",
                     actor_id=caller.id),
        workflow_id=crm_lost_workflow_id(project.id), result_type=CrmLostResult,
        start_options=project_start_options(CRM_LOST_WORKFLOW_TYPE, project.code, project.name),
    )
    log.info("crm.lost", project_id=project.id, status=result.status, repeat=not started)
    return {"project_id": result.project_id or project.id, "status": result.status, "steps": list(result.steps)}


# ---------------------------------------------------------------- org sync


async def _existing_users(clients: EdgeClients, ids: list[str]) -> dict[str, registry_pb2.User]:
    if not ids:
        return {}
    resp = await clients.registry.ListUsers(registry_pb2.ListUsersRequest(user_ids=ids))
    return {u.id: u for u in resp.users}


def _user_pb(u: OrgUser, known: registry_pb2.User | None) -> registry_pb2.User:
    """The registry user: roles and region stay as they are (new users get none); contact fields
    and department come from the platform when it gave them."""
    def pick(name: str, value: str) -> str:
        return value if name in u.given or known is None else str(getattr(known, name))

    out = registry_pb2.User(
        id=u.id, name=pick("name", u.name) or (known.name if known else u.id), email=pick("email", u.email),
        mobile=pick("mobile", u.mobile), department_id=pick("department_id", u.department_id),
        roles=list(known.roles) if known else [], region=known.region if known else "",
    )
    if USER_HAS_LEFT:
        setattr(out, "left", u.left)  # noqa: B010 - the field may be missing from older generated code
    return out


def _was_left(known: registry_pb2.User | None) -> bool:
    return bool(known is not None and USER_HAS_LEFT and getattr(known, "left", False))


async def _sync_org(clients: EdgeClients, caller: Principal, imp: OrgImport, source: str) -> dict[str, Any]:
    if imp.violations:
        raise ValidationFailed(imp.violations)
    ids = list(dict.fromkeys([u.id for u in imp.users] + imp.left))
    known = await _existing_users(clients, ids)
    warnings = list(imp.warnings)
    users = [_user_pb(u, known.get(u.id)) for u in imp.users]
    listed = {u.id for u in imp.users}
    for uid in imp.left:
        if uid in listed:
            continue
        if uid not in known:  # resigned_userids naming someone never synced: nothing to hand over
            warnings.append(
                FieldViolation("resigned_userids", f"未知用户 {uid}，已忽略", f"unknown user {uid}: ignored")
            )
            continue
        users.append(_user_pb(OrgUser(id=uid, name=known[uid].name, left=True), known[uid]))
    departed = [u.id for u in users if u.id in set(imp.left) and (u.id in known or u.id in listed)]
    try:
        resp = await clients.registry.UpsertOrg(
            registry_pb2.UpsertOrgRequest(
                request_id=uuid.uuid4().hex,
                departments=[
                    registry_pb2.Department(id=d.id, name=d.name, parent_id=d.parent_id, manager_id=d.manager_id)
                    for d in imp.departments
                ],
                users=users,
                # The registry decides what this caller may change (admins, itself, roles, managers).
                actor=registry_pb2.OrgActor(user_id=caller.id, roles=list(caller.roles), is_admin=caller.is_admin),
            )
        )
    except ValidationFailed as err:  # report against the caller's payload, not our request
        raise ValidationFailed(
            [FieldViolation(imp.source_path(v.field), v.zh, v.en) for v in err.violations], zh=err.zh, en=err.en
        ) from None
    await directory_changed(clients)  # new roles count from the next request, not after the cache's minute
    refused = [_refusal(imp, r, clients.locale) for r in resp.refused]
    skipped = {r.user_id for r in resp.refused if r.user_id}
    departed = [uid for uid in departed if uid not in skipped]
    if refused:
        log.warning("org.sync_refused", refused=[(r["field"], r["code"]) for r in refused])
    for uid in departed:  # their tokens and sessions stop working now, not when a cache expires
        await revoke_user(clients, uid)
        await SessionStore(clients.redis, clients.settings).revoke_user(uid)
    handovers = await asyncio.gather(*(_handover(clients, caller, uid, _was_left(known.get(uid))) for uid in departed))
    log.info("org.synced", departments=resp.departments, users=resp.users, left=len(departed))
    done = [h for h in handovers if h is not None]
    await audit.record(clients, "org.synced", actor_id=caller.id, target_type="org", target_id=source, details={
        "source": source, "departments": resp.departments, "users": resp.users, "left": departed,
        "refused": len(refused), "warnings": len(warnings), "handovers": len(done),
    })
    for uid in departed:
        await audit.record(clients, "user.left", actor_id=caller.id, target_type="user", target_id=uid,
                           details={"source": source})
    return {
        "departments": resp.departments,
        "users": resp.users,
        "left": departed,
        "handovers": done,
        "warnings": [{"field": w.field, "message": w.text(clients.locale)} for w in warnings],
        "refused": refused,
    }


def _refusal(imp: OrgImport, r: registry_pb2.OrgRefusal, locale: str) -> dict[str, Any]:
    """A skipped entry, its path in the caller's payload (a user named only in resigned_userids
    has no entry of its own: that list is the path)."""
    path = imp.source_path(r.field)
    if r.field.startswith("users[") and path == r.field:
        path = "resigned_userids"
    return {"field": path, "code": r.code, "message": r.message_en if locale == "en" else r.message_zh,
            "user_id": r.user_id or None, "department_id": r.department_id or None}


async def _handover(clients: EdgeClients, caller: Principal, user_id: str, already_left: bool) -> dict[str, Any] | None:
    """Hand the user's pending approvals to their manager, once per departure: a user the registry
    already knew as left is only handed over when no handover ran yet (e.g. a crash after the
    upsert); a new departure (also after a re-hire) runs a new one."""
    fresh = USER_HAS_LEFT and not already_left
    reuse = WorkflowIDReusePolicy.ALLOW_DUPLICATE if fresh else WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    result, started = await _run_workflow(
        clients, ORG_HANDOVER_WORKFLOW_TYPE,
        HandoverInput(user_id=user_id, actor_id=caller.id),
        workflow_id=org_handover_workflow_id(user_id), result_type=HandoverResult, reuse=reuse,
    )
    if not started:
        return None
    return {"user_id": result.user_id or user_id, "to_user_id": result.to_user_id or None,
            "task_ids": list(result.task_ids)}


@router.post("/integrations/org/dingtalk", response_model=OrgSyncOut)
async def org_dingtalk(body: DingTalkOrgIn, caller: OrgSyncer, clients: Clients) -> dict[str, Any]:
    """Import departments and users as the DingTalk directory API returns them (see
    docs/integrations.md). Idempotent: a repeat changes nothing and hands over nothing new."""
    return await _sync_org(clients, caller, from_dingtalk(body.model_dump()), "dingtalk")


@router.post("/integrations/org/wecom", response_model=OrgSyncOut)
async def org_wecom(body: WeComOrgIn, caller: OrgSyncer, clients: Clients) -> dict[str, Any]:
    """Import departments and users as the WeCom directory API returns them (see
    docs/integrations.md). Idempotent: a repeat changes nothing and hands over nothing new."""
    return await _sync_org(clients, caller, from_wecom(body.model_dump()), "wecom")



@router.post("/integrations/org/feishu", response_model=OrgSyncOut)
async def org_feishu(body: FeishuOrgIn, caller: OrgSyncer, clients: Clients) -> dict[str, Any]:
    """Import departments and users as the Feishu contact API returns them (fetched with
    `user_id_type=user_id`; see docs/integrations.md). Idempotent: a repeat changes nothing and
    hands over nothing new."""
    return await _sync_org(clients, caller, from_feishu(body.model_dump()), "feishu")
