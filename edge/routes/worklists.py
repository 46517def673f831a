"""The web app's work lists (issue 14): 已办 (``/me/approvals/done``, from the approval service's
decisions), 我的任务 (``/me/tasks``, from the tasks service) and the collision (撞单) check as one
types (``/projects/conflict-check``, the registry's own rules). Project names and codes come from
the registry, which shows each project only to whoever may see it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from fastapi import Query

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import NotFound
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.tasks.v1 import tasks_service_pb2 as tasks_pb2
from edge import mapping
from edge.clients import Clients as EdgeClients
from edge.deps import Clients, CurrentUser
from edge.routes import area_router
from edge.routes.projects import viewer_of
from edge.routes.tasks import task_out
from edge.schemas_worklists import AssignedTaskPage, ConflictCheckIn, ConflictCheckOut, DecidedPage

router = area_router("worklists")

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=1000, description="next_cursor of the previous page")]


async def project_briefs(
    clients: EdgeClients, viewer: registry_pb2.Viewer, project_ids: Iterable[str]
) -> dict[str, dict[str, Any] | None]:
    """{id, code, name, status} of each project the viewer may see (None for the others), one
    registry read per distinct project (a page holds at most 100)."""

    async def one(project_id: str) -> dict[str, Any] | None:
        try:
            resp = await clients.registry.GetProject(
                registry_pb2.GetProjectRequest(project_id=project_id, viewer=viewer)
            )
        except NotFound:
            return None
        p = resp.project
        return {"id": p.id, "code": p.code, "name": p.name, "status": mapping.status_name(p.status)}

    ids = list(dict.fromkeys(i for i in project_ids if i))
    found = await asyncio.gather(*(one(i) for i in ids))
    return dict(zip(ids, found, strict=True))


@router.get("/me/approvals/done", response_model=DecidedPage)
async def my_decided(
    user: CurrentUser, clients: Clients, limit: Limit = 20, cursor: Cursor = None
) -> dict[str, Any]:
    """已办: the approval decisions the caller took (approve, reject, return, transfer,
    add_approver; auto-approvals are not theirs), newest first, one page at a time."""
    resp = await clients.approval.ListDecided(
        approval_pb2.ListDecidedRequest(user_id=user.id, limit=limit, cursor=(cursor or "").strip())
    )
    briefs = await project_briefs(clients, await viewer_of(clients, user), (d.project_id for d in resp.items))
    items = [
        {
            "task_id": d.task_id,
            "project_id": d.project_id,
            "project": briefs.get(d.project_id),
            "step": d.step,
            "action": d.action,
            "comment": d.comment,
            "at": mapping.ts(d.at),
            "on_behalf_of": d.on_behalf_of or None,
            "target_user_id": d.target_user_id or None,
        }
        for d in resp.items
    ]
    return {"items": items, "next_cursor": resp.next_cursor or None}


TaskFilter = Literal["todo", "in_progress", "done", "blocked", "open"]


@router.get("/me/tasks", response_model=AssignedTaskPage)
async def my_tasks(
    user: CurrentUser,
    clients: Clients,
    status: Annotated[TaskFilter | None, Query(description="One status, or open (every status but done)")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """我的任务: tasks assigned to the caller across projects, by due date (tasks without one
    last), one page at a time; each with its project's id, code, name and status."""
    resp = await clients.tasks.ListAssigneeTasks(
        tasks_pb2.ListAssigneeTasksRequest(user_id=user.id, status=status or "", limit=limit,
                                           cursor=(cursor or "").strip())
    )
    briefs = await project_briefs(clients, await viewer_of(clients, user), (t.project_id for t in resp.tasks))
    return {
        "items": [{**task_out(t), "project": briefs.get(t.project_id)} for t in resp.tasks],
        "next_cursor": resp.next_cursor or None,
    }


@router.post("/projects/conflict-check", response_model=ConflictCheckOut)
async def conflict_check(body: ConflictCheckIn, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The collisions (撞单) a registration for this customer would have now, by the same rules
    as create and submit (same USCC, same or highly similar customer name among live
    registrations); nothing is stored. Each match names the project and why; its `code` only
    when the caller may see that project. `project_id` (the draft being edited) is left out; a
    USCC that is not valid yet is ignored. 404 for an unknown form."""
    resp = await clients.registry.CheckConflicts(
        registry_pb2.CheckConflictsRequest(
            viewer=await viewer_of(clients, user),
            form_key=body.form_key.strip(),
            customer=registry_pb2.Customer(name=body.customer.name, uscc=body.customer.uscc or ""),
            project_name=body.name or "",
            project_id=(body.project_id or "").strip(),
        )
    )
    return {
        "conflicts": [{"project_id": c.project_id, "code": c.code, "reason": c.reason} for c in resp.conflicts],
        "conflict_policy": resp.conflict_policy or "warn",
    }
