"""Project team (项目团队), registration ownership handover (报备交接) and 再次发起.

- ``GET /projects/{id}/team`` (whoever may see the project) and ``PUT /projects/{id}/team`` (the
  owner, the project's PM or an admin) with the whole team ``{"members": [{"user_id", "role"}]}``;
  roles ``pm`` (at most one), ``member``, ``observer``. Team members see the project, its tasks
  and schedule; the PM edits the plan like the owner; observers only read.
- ``POST /projects/{id}/handover`` and ``POST /users/{id}/handover-projects`` (admin): ownership to
  ``to_user_id``; audited, the new owner notified (``project_handed_over``).
- ``POST /projects/{id}/copy`` (the owner of a rejected or cancelled project) → 201 a new draft."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated, Any, Literal

import structlog
from fastapi import Header, Request
from google.protobuf import struct_pb2
from pydantic import Field
from temporalio.service import RPCError

from baobei.core.errors import NotFound
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, lifecycle, mapping, reporting_feed
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router, bind_project
from edge.routes.projects import viewer_of, visible_project
from edge.schemas import Model, ProjectCreated, ProjectStatus
from workflows.contracts.lifecycle import SIGNAL_OWNER_CHANGED, OwnerChanged, workflow_id

router = area_router("projects")
log = structlog.get_logger(__name__)
HANDED_OVER = "project_handed_over"
TEAM_ADDED = "team_added"
ROLE_NAMES = {"pm": "项目经理", "member": "成员", "observer": "观察者"}

TeamRole = Literal["pm", "member", "observer"]


class TeamMemberIn(Model):
    user_id: str = Field(max_length=100)
    role: TeamRole


class TeamIn(Model):
    members: list[TeamMemberIn] = Field(max_length=200, description="The whole team (replaces it)")


class TeamMemberOut(Model):
    user_id: str
    name: str = ""
    role: TeamRole
    added_by: str = ""
    added_at: str | None = None


class TeamOut(Model):
    project_id: str
    owner_id: str
    can_edit: bool = Field(description="Whether the caller may change the team (owner, pm or admin)")
    members: list[TeamMemberOut]


class HandoverIn(Model):
    to_user_id: str = Field(max_length=100, description="The new owner")
    reason: str = Field(default="", max_length=500)


class BulkHandoverIn(HandoverIn):
    include_closed: bool = Field(default=False, description="Also closed, rejected and cancelled projects")


class HandedOverOut(Model):
    id: str
    code: str
    name: str
    from_user_id: str
    status: ProjectStatus


class HandoverOut(Model):
    to_user_id: str
    projects: list[HandedOverOut]


def _team_out(resp: registry_pb2.TeamResponse) -> dict[str, Any]:
    return {
        "project_id": resp.project_id, "owner_id": resp.owner_id, "can_edit": resp.can_edit,
        "members": [{"user_id": m.user_id, "name": m.name, "role": m.role, "added_by": m.added_by,
                     "added_at": mapping.ts(m.added_at) if m.HasField("added_at") else None}
                    for m in resp.members],
    }


@router.get("/projects/{project_id}/team", response_model=TeamOut)
async def get_team(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The project's team (whoever may see the project; 404 otherwise)."""
    bind_project(request, project_id)
    resp = await clients.registry.GetTeam(
        registry_pb2.GetTeamRequest(project_id=project_id, viewer=await viewer_of(clients, user)))
    return _team_out(resp)


@router.put("/projects/{project_id}/team", response_model=TeamOut)
async def put_team(
    project_id: str, body: TeamIn, request: Request, user: CurrentUser, clients: Clients,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Replace the whole team (the owner, the PM or an admin; 403 otherwise). At most one `pm`;
    an unknown or departed user → 422 naming `members[i].user_id`. Audited and in the history."""
    bind_project(request, project_id)
    before = await clients.registry.GetTeam(
        registry_pb2.GetTeamRequest(project_id=project_id, viewer=await viewer_of(clients, user)))
    resp = await clients.registry.SetTeam(registry_pb2.SetTeamRequest(
        request_id=f"{user.id}:{idempotency_key}" if idempotency_key else uuid.uuid4().hex,
        project_id=project_id, actor_id=user.id, actor_is_admin=user.is_admin,
        members=[registry_pb2.TeamMember(user_id=m.user_id.strip(), role=m.role) for m in body.members],
    ))
    old = {m.user_id: m.role for m in before.members}
    new = {m.user_id: m.role for m in resp.members}
    if old != new:
        await audit.record(clients, "project.team_changed", actor_id=user.id, target_type="project",
                           target_id=project_id, details={"before": old, "after": new})
        added = [uid for uid, role in new.items() if old.get(uid) != role and uid != user.id]
        if added:
            await _notify_added(clients, project_id, added, new, key=_team_key(project_id, new))
    return _team_out(resp)


def _team_key(project_id: str, team: dict[str, str]) -> str:
    """Stable per resulting team: a repeated PUT of the same team notifies nobody twice."""
    digest = hashlib.sha256(json.dumps(sorted(team.items())).encode()).hexdigest()[:16]
    return f"{project_id}:{digest}"


async def _notify_added(clients: EdgeClients, project_id: str, user_ids: list[str], team: dict[str, str],
                        *, key: str) -> None:
    """``team_added`` to each user who joined the team or got a new role (not the caller)."""
    try:
        project = (await clients.registry.GetProject(registry_pb2.GetProjectRequest(project_id=project_id))).project
    except Exception as err:  # noqa: BLE001 - the change is committed; a lost notice must not fail it
        log.warning("team.notify_failed", project_id=project_id, error=str(err))
        return
    url = f"{clients.settings.public_base_url()}/projects/{project_id}?tab=team"
    for uid in user_ids:
        context = struct_pb2.Struct()
        context.update({"code": project.code, "name": project.name, "team_role": ROLE_NAMES.get(team[uid], team[uid])})
        try:
            await clients.notify.Send(notify_pb2.SendRequest(
                request_id=f"team_added:{key}:{uid}", recipient_ids=[uid], kind=TEAM_ADDED,
                project_id=project_id, action_urls={uid: url}, context=context,
            ))
        except Exception as err:  # noqa: BLE001 - as above
            log.warning("team.notify_failed", project_id=project_id, user_id=uid, error=str(err))


async def _notify_new_owner(clients: EdgeClients, key: str, to_user_id: str, handed: list[registry_pb2.HandedOver],
                            reason: str) -> None:
    base = clients.settings.public_base_url()
    for h in handed:
        context = struct_pb2.Struct()
        context.update({"code": h.code, "name": h.name, "handed_from": h.from_user_id, "handover_reason": reason})
        try:
            await clients.notify.Send(notify_pb2.SendRequest(
                request_id=f"handover:{key}:{h.project_id}", recipient_ids=[to_user_id], kind=HANDED_OVER,
                project_id=h.project_id, action_urls={to_user_id: f"{base}/projects/{h.project_id}"}, context=context,
            ))
        except Exception as err:  # noqa: BLE001 - the handover is committed; a lost notice must not fail it
            log.warning("handover.notify_failed", project_id=h.project_id, error=str(err))


async def _tell_workflows(clients: EdgeClients, to_user_id: str, handed: list[registry_pb2.HandedOver]) -> None:
    """The lifecycle workflow of each live project learns its new owner (who may then submit,
    withdraw and is told of decisions). Best effort: no workflow (e.g. imported) is fine."""
    live = {registry_pb2.PROJECT_STATUS_DRAFT, registry_pb2.PROJECT_STATUS_PENDING_APPROVAL,
            registry_pb2.PROJECT_STATUS_RETURNED, registry_pb2.PROJECT_STATUS_ACTIVE}
    targets = [h for h in handed if h.status in live]
    if not targets:
        return
    try:
        client = await clients.temporal()
    except Exception as err:  # noqa: BLE001
        log.warning("handover.temporal_unavailable", error=str(err))
        return
    for h in targets:
        try:
            await client.get_workflow_handle(workflow_id(h.project_id)).signal(
                SIGNAL_OWNER_CHANGED, OwnerChanged(owner_id=to_user_id))
        except (RPCError, Exception) as err:  # noqa: BLE001 - finished or never started: nothing to tell
            log.info("handover.workflow_not_signalled", project_id=h.project_id, error=str(err))


async def _hand_over(clients: EdgeClients, admin_id: str, req: registry_pb2.HandOverProjectsRequest,
                     target_id: str, target_type: str) -> dict[str, Any]:
    resp = await clients.registry.HandOverProjects(req)
    handed = list(resp.projects)
    for h in handed:
        await audit.record(clients, "project.handed_over", actor_id=admin_id, target_type="project",
                           target_id=h.project_id,
                           details={"from_user_id": h.from_user_id, "to_user_id": resp.to_user_id,
                                    "reason": req.reason, "via": target_type, "of": target_id})
    await _tell_workflows(clients, resp.to_user_id, handed)
    # Reporting's read model follows the new owner and department (project.edited, per version).
    await reporting_feed.projects_edited(clients, registry_pb2.Viewer(user_id=admin_id, is_admin=True),
                                         [h.project_id for h in handed], actor_id=admin_id)
    await _notify_new_owner(clients, req.request_id, resp.to_user_id, handed, req.reason)
    return {"to_user_id": resp.to_user_id, "projects": [
        {"id": h.project_id, "code": h.code, "name": h.name, "from_user_id": h.from_user_id,
         "status": mapping.status_name(h.status)} for h in handed]}


@router.post("/projects/{project_id}/handover", response_model=HandoverOut)
async def hand_over_project(
    project_id: str, body: HandoverIn, request: Request, admin: AdminUser, clients: Clients,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """报备交接 (admin): the project's ownership to `to_user_id` (422 naming `to_user_id` for an
    unknown or departed user, or the current owner). The old owner's PM role passes to the new
    owner; history `handed_over`, audit `project.handed_over`, the new owner is notified."""
    bind_project(request, project_id)
    await visible_project(clients, admin, project_id)
    req = registry_pb2.HandOverProjectsRequest(
        request_id=f"{admin.id}:{idempotency_key}" if idempotency_key else uuid.uuid4().hex,
        project_id=project_id, to_user_id=body.to_user_id.strip(), actor_id=admin.id, reason=body.reason.strip(),
    )
    return await _hand_over(clients, admin.id, req, project_id, "project")


@router.post("/users/{user_id}/handover-projects", response_model=HandoverOut)
async def hand_over_user_projects(
    user_id: str, body: BulkHandoverIn, admin: AdminUser, clients: Clients,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """报备交接 of everything a user owns (admin): their live registrations (draft, pending,
    returned, active; finished ones too with `include_closed`) to `to_user_id`. 404 for an
    unknown user; the answer lists the projects handed over (possibly none)."""
    try:
        await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=user_id))
    except NotFound:
        raise NotFound(f"用户 {user_id} 不存在", f"user {user_id} not found", code="user_not_found") from None
    req = registry_pb2.HandOverProjectsRequest(
        request_id=f"{admin.id}:{idempotency_key}" if idempotency_key else uuid.uuid4().hex,
        from_user_id=user_id, to_user_id=body.to_user_id.strip(), actor_id=admin.id, reason=body.reason.strip(),
        include_closed=body.include_closed,
    )
    return await _hand_over(clients, admin.id, req, user_id, "user")


@router.post("/projects/{project_id}/copy", status_code=201, response_model=ProjectCreated)
async def copy_project(
    project_id: str, request: Request, user: CurrentUser, clients: Clients,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """再次发起: the owner copies a rejected or cancelled registration into a new draft (same form,
    fields, customer and amount; 409 for another status, 403 for anyone but the owner). The new
    draft's history notes the source (`copied_from`)."""
    bind_project(request, project_id)
    await visible_project(clients, user, project_id)
    resp = await clients.registry.CopyProject(registry_pb2.CopyProjectRequest(
        request_id=f"{user.id}:{idempotency_key}" if idempotency_key else uuid.uuid4().hex,
        project_id=project_id, actor_id=user.id, actor_is_admin=user.is_admin,
    ))
    project = resp.project
    await lifecycle.ensure_started(clients, project.id, project.owner_id, project=project)
    await audit.record(clients, "project.copied", actor_id=user.id, target_type="project", target_id=project.id,
                       details={"source_project_id": project_id})
    return {"id": project.id, "code": project.code, "status": mapping.status_name(project.status)}
