"""Projects: create (and submit), read, list, submit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import NotFound
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.tasks.v1 import tasks_service_pb2 as tasks_pb2
from edge import lifecycle, mapping, reporting_feed
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import Clients, CurrentUser
from edge.routes import area_router, bind_project
from edge.schemas import (
    FollowUpIn,
    ProjectCreate,
    ProjectCreated,
    ProjectOut,
    ProjectPage,
    ProjectPatch,
    ProjectStatus,
)

router = area_router("projects")


async def approver_project_ids(clients: EdgeClients, user: Principal) -> list[str]:
    if user.is_admin:
        return []
    resp = await clients.approval.ListApproverProjects(approval_pb2.ListApproverProjectsRequest(user_id=user.id))
    return list(resp.project_ids)


async def assignee_project_ids(clients: EdgeClients, user: Principal) -> list[str]:
    """Projects where the caller is assigned a task: they may see those (field permissions apply)."""
    if user.is_admin:
        return []
    resp = await clients.tasks.ListAssigneeProjects(tasks_pb2.ListAssigneeProjectsRequest(user_id=user.id))
    return list(resp.project_ids)


async def viewer_of(clients: EdgeClients, user: Principal) -> registry_pb2.Viewer:
    approving, assigned = await asyncio.gather(
        approver_project_ids(clients, user), assignee_project_ids(clients, user)
    )
    viewer = user.viewer(approving)
    viewer.assignee_project_ids.extend(assigned)
    return viewer


async def visible_project_with_relations(
    clients: EdgeClients, user: Principal, project_id: str
) -> tuple[registry_pb2.Project, list[str]]:
    """The project as the caller may see it and why (owner, manager, approver, assignee, admin);
    404 when unknown or not visible."""
    viewer = await viewer_of(clients, user)
    resp = await clients.registry.GetProject(registry_pb2.GetProjectRequest(project_id=project_id, viewer=viewer))
    return resp.project, list(resp.viewer_relations)


async def visible_project(clients: EdgeClients, user: Principal, project_id: str) -> registry_pb2.Project:
    """The project as the caller may see it; 404 when unknown or not visible."""
    return (await visible_project_with_relations(clients, user, project_id))[0]


async def approval_instance(clients: EdgeClients, project_id: str) -> approval_pb2.Instance | None:
    try:
        resp: approval_pb2.GetInstanceResponse = await clients.approval.GetInstance(
            approval_pb2.GetInstanceRequest(project_id=project_id))
    except NotFound:
        return None
    return resp.instance


async def project_view(clients: EdgeClients, user: Principal, project_id: str) -> dict[str, Any]:
    project = await visible_project(clients, user, project_id)
    return mapping.project_out(project, await approval_instance(clients, project_id))


@router.post("/projects", status_code=201, response_model=ProjectCreated)
async def create_project(
    body: ProjectCreate,
    request: Request,
    user: CurrentUser,
    clients: Clients,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Repeats return the first response (24 h)")
    ] = None,
) -> dict[str, Any]:
    """Register a project owned by the caller; with `submit: true` it is submitted at once."""
    request_id = f"{user.id}:{idempotency_key}" if idempotency_key else uuid.uuid4().hex
    if body.submit:
        await lifecycle.require_approval_policy(clients, body.form_key)
    resp = await clients.registry.CreateProject(
        mapping.project_create_request(body, request_id=request_id, owner_id=user.id, owner_is_admin=user.is_admin)
    )
    project = resp.project
    bind_project(request, project.id)
    status = mapping.status_name(project.status)
    if body.submit:
        # The form's policy was checked above: start the workflow and submit in one Temporal call.
        result = await lifecycle.start_and_submit(clients, project, actor_id=user.id, actor_is_admin=user.is_admin,
                                                  request_id=request_id if idempotency_key else "")
        status = result.status
    else:
        await lifecycle.ensure_started(clients, project.id, project.owner_id, project=project)
    return {"id": project.id, "code": project.code, "status": status}


@router.get("/projects/{project_id}", response_model=ProjectOut)
async def get_project(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The project with its conflicts, approval chain and history (404 when not visible)."""
    bind_project(request, project_id)
    return await project_view(clients, user, project_id)


class ProjectQuery:
    """The list/search/export filters (query parameters), shared with the export endpoint."""

    def __init__(
        self,
        status: Annotated[ProjectStatus | None, Query(description="Only projects in this status")] = None,
        q: Annotated[str | None, Query(description="Free text: matches code, name and customer name")] = None,
        owner_id: Annotated[str | None, Query()] = None,
        department_id: Annotated[str | None, Query()] = None,
        region: Annotated[str | None, Query()] = None,
        business_line: Annotated[str | None, Query()] = None,
        customer: Annotated[str | None, Query(description="Customer name (also normalised) or USCC")] = None,
        amount_min: Annotated[str | None, Query(description="Decimal, inclusive")] = None,
        amount_max: Annotated[str | None, Query(description="Decimal, inclusive")] = None,
        created_from: Annotated[str | None, Query(description="YYYY-MM-DD (Asia/Shanghai), inclusive")] = None,
        created_to: Annotated[str | None, Query(description="YYYY-MM-DD (Asia/Shanghai), inclusive")] = None,
        form_key: Annotated[str | None, Query()] = None,
    ) -> None:
        self.status, self.q = status, q
        self.filters = {
            "owner_id": owner_id, "department_id": department_id, "region": region,
            "business_line": business_line, "customer": customer, "amount_min": amount_min,
            "amount_max": amount_max, "created_from": created_from, "created_to": created_to, "form_key": form_key,
        }

    def request(self, viewer: registry_pb2.Viewer, *, limit: int, cursor: str) -> registry_pb2.ListProjectsRequest:
        return registry_pb2.ListProjectsRequest(
            viewer=viewer,
            status=mapping.status_enum_name(self.status) if self.status else None,
            q=self.q or "",
            limit=limit,
            cursor=cursor,
            **{k: v or "" for k, v in self.filters.items()},
        )


@router.get("/projects", response_model=ProjectPage)
async def list_projects(
    user: CurrentUser,
    clients: Clients,
    query: Annotated[ProjectQuery, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    """The projects the caller may see, newest first, one page at a time; filters are ANDed."""
    resp = await clients.registry.ListProjects(
        query.request(await viewer_of(clients, user), limit=limit, cursor=cursor or "")
    )
    return {"items": [mapping.project_summary(p) for p in resp.items], "next_cursor": resp.next_cursor or None}


@router.patch("/projects/{project_id}", response_model=ProjectOut)
async def edit_project(
    project_id: str, body: ProjectPatch, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Edit a draft or returned project (owner or admin). `version` must be the version read:
    a stale one is 409 `stale_version`; fields without write permission are 403."""
    bind_project(request, project_id)
    await visible_project(clients, user, project_id)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    resp = await clients.registry.UpdateProject(
        registry_pb2.UpdateProjectRequest(
            request_id=uuid.uuid4().hex, project_id=project_id, actor_id=user.id, actor_is_admin=user.is_admin,
            actor_roles=list(user.roles), expected_version=body.version, changes=mapping.dict_to_struct(changes),
        )
    )
    await reporting_feed.project_edited(clients, resp.project, actor_id=user.id)
    return mapping.project_out(resp.project, await approval_instance(clients, project_id))


@router.post("/projects/{project_id}/follow-ups", response_model=ProjectOut)
async def record_follow_up(
    project_id: str, body: FollowUpIn, request: Request, user: CurrentUser, clients: Clients,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Record a follow-up (跟进) by the owner: extends the customer's protection up to the cap."""
    bind_project(request, project_id)
    await visible_project(clients, user, project_id)
    await clients.registry.RecordFollowUp(
        registry_pb2.RecordFollowUpRequest(
            request_id=f"{user.id}:{idempotency_key}" if idempotency_key else uuid.uuid4().hex,
            project_id=project_id, actor_id=user.id, actor_is_admin=user.is_admin, note=body.note,
        )
    )
    return await project_view(clients, user, project_id)


@router.post("/projects/{project_id}/submit", response_model=ProjectOut)
async def submit_project(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Submit a draft (or returned) project for approval."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    await lifecycle.ensure_started(clients, project.id, project.owner_id,
                                   code=project.code, name=project.name)
    await lifecycle.submit(clients, project.id, form_key=project.form_key, actor_id=user.id,
                           actor_is_admin=user.is_admin)
    return await project_view(clients, user, project_id)
