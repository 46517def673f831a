"""What the project export and the import template read from the registry: the projects the viewer
may see (filters applied), the form versions they were filed with, and the directory's people and
departments as they are written in a sheet (``baobei.sheets`` renders; this module only fetches)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from baobei.registry.v1 import directory_service_pb2 as directory_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.sheets.projects import Directory, display_names
from edge.auth import Principal
from edge.clients import Clients
from edge.routes.projects import ProjectQuery

MAX_EXPORT_ROWS = 100_000
PAGE = 100
# People listed in a template's drop-down (SearchUsers pages of 200).
MAX_TEMPLATE_USERS = 10_000


async def visible_projects(
    clients: Clients, viewer: registry_pb2.Viewer, query: ProjectQuery
) -> list[registry_pb2.Project]:
    """Every project the viewer may see (newest first), up to MAX_EXPORT_ROWS; restricted
    values already blanked by the registry."""
    projects: list[registry_pb2.Project] = []
    cursor = ""
    while len(projects) < MAX_EXPORT_ROWS:
        resp = await clients.registry.ListProjects(query.request(viewer, limit=PAGE, cursor=cursor))
        projects.extend(resp.items)
        cursor = resp.next_cursor
        if not cursor:
            break
    return projects[:MAX_EXPORT_ROWS]


async def form_versions(
    clients: Clients, projects: Sequence[registry_pb2.Project]
) -> dict[tuple[str, int], registry_pb2.Form]:
    keys = sorted({(p.form_key, p.form_version) for p in projects})
    forms = await asyncio.gather(*(
        clients.registry.GetForm(registry_pb2.GetFormRequest(key=k, version=v)) for k, v in keys))
    return {key: resp.form for key, resp in zip(keys, forms, strict=True)}


async def departments(clients: Clients, user: Principal) -> list[tuple[str, str]]:
    """(id, name) of every department, parents first, siblings by pinyin."""
    tree = await clients.directory.GetOrgTree(directory_pb2.GetOrgTreeRequest(viewer=user.viewer()))
    return [(d.id, d.name) for d in tree.departments]


async def export_directory(clients: Clients, user: Principal) -> Directory:
    """How an export writes people and departments: by name where the name is unique (the import
    finds them by name), else by id."""
    users, depts = await asyncio.gather(
        clients.registry.ListUsers(registry_pb2.ListUsersRequest()), departments(clients, user))
    return Directory(users=display_names((u.id, u.name) for u in users.users), departments=display_names(depts))


async def template_choices(clients: Clients, user: Principal) -> tuple[list[str], list[str]]:
    """The people (who have not left, by pinyin) and departments a template's drop-downs offer,
    written as an export writes them."""
    people: list[directory_pb2.DirectoryUser] = []
    cursor = ""
    while len(people) < MAX_TEMPLATE_USERS:
        page = await clients.directory.SearchUsers(directory_pb2.SearchUsersRequest(
            viewer=user.viewer(), limit=200, cursor=cursor))
        people.extend(page.users)
        cursor = page.next_cursor
        if not cursor:
            break
    names = display_names((u.id, u.name) for u in people)
    depts = await departments(clients, user)
    dept_names = display_names(depts)
    return [names[u.id] for u in people], [dept_names[i] for i, _ in depts]
