"""Who may see a project and which of its values they may read. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.registry.domain.org import ADMIN_ROLE
from services.registry.domain.projects import Customer, Project
from services.registry.forms import FormDef, readable, unreadable_paths


@dataclass(frozen=True)
class Viewer:
    user_id: str
    is_admin: bool = False
    roles: frozenset[str] = frozenset()
    approver_project_ids: frozenset[str] = frozenset()
    # Projects where the viewer is assigned a task (the tasks service knows).
    assignee_project_ids: frozenset[str] = frozenset()
    # Project teams (项目团队) the viewer is on (the registry fills these in: it owns the teams):
    # every role, and those where they are the pm / an observer.
    team_project_ids: frozenset[str] = frozenset()
    pm_project_ids: frozenset[str] = frozenset()
    observer_project_ids: frozenset[str] = frozenset()

    @property
    def admin(self) -> bool:
        return self.is_admin or ADMIN_ROLE in self.roles


def relations(viewer: Viewer | None, project: Project, managed: set[str]) -> list[str]:
    """Why the viewer may see the project (empty = they may not): admin, owner, manager (of its
    department, directly or via an ancestor: ``managed``), approver (tasks, delegation or CC),
    assignee, team ("pm", "team_member", "observer"). Other services decide what each relation may
    do (e.g. tasks: who records costs; the edge: the pm edits the plan)."""
    if viewer is None:
        return []
    out = []
    if viewer.admin:
        out.append("admin")
    if viewer.user_id and viewer.user_id == project.owner_id:
        out.append("owner")
    if project.department_id and project.department_id in managed:
        out.append("manager")
    if project.id in viewer.approver_project_ids:
        out.append("approver")
    if project.id in viewer.assignee_project_ids:
        out.append("assignee")
    if project.id in viewer.team_project_ids:
        if project.id in viewer.pm_project_ids:
            out.append("pm")
        elif project.id in viewer.observer_project_ids:
            out.append("observer")
        else:
            out.append("team_member")
    return out


def can_see(viewer: Viewer | None, project: Project, managed: set[str]) -> bool:
    """``managed``: departments the viewer manages (directly or via an ancestor)."""
    return viewer is None or bool(relations(viewer, project, managed))


def may_read_all(viewer: Viewer | None, project: Project) -> bool:
    """Internal callers, admins and the owner read every field; anyone else is held to read_roles
    (approvers included: they decide on what they may read)."""
    return viewer is None or viewer.admin or bool(viewer.user_id and viewer.user_id == project.owner_id)


def hidden_paths(viewer: Viewer | None, project: Project, form: FormDef | None) -> set[str]:
    """The paths of ``project`` the viewer may not read (``fields.<key>``, ``amount``,
    ``customer.phone``, …); fields the form no longer defines stay visible."""
    if may_read_all(viewer, project) or form is None:
        return set()
    assert viewer is not None
    return unreadable_paths(form, set(viewer.roles))


def redact(project: Project, hidden: set[str]) -> Project:
    """Blank ``hidden`` in place: restricted form fields go, restricted core values become empty,
    and history keeps no before/after of them (an old value stays hidden once cleared)."""
    if not hidden:
        return project
    project.hidden = frozenset(hidden)
    project.fields = {k: v for k, v in project.fields.items() if f"fields.{k}" not in hidden}
    c = project.customer
    project.customer = Customer(
        name="" if "customer.name" in hidden else c.name, uscc="" if "customer.uscc" in hidden else c.uscc,
        contact="" if "customer.contact" in hidden else c.contact,
        phone="" if "customer.phone" in hidden else c.phone,
    )
    if "amount" in hidden:
        project.amount = Decimal(0)  # not shown: the mapping sends "" for a hidden amount
    for name in ("region", "business_line"):
        if name in hidden:
            setattr(project, name, "")
    for name in ("start_date", "end_date"):
        if name in hidden:
            setattr(project, name, None)
    for h in project.history:
        if "changes" in h.data:
            h.data["changes"] = [c for c in h.data["changes"] if c.get("field") not in hidden]
    return project


def visible_fields(viewer: Viewer | None, project: Project, form: FormDef | None) -> dict[str, Any]:
    """The project's fields without those the viewer may not read (owner, admins and internal
    callers see everything; fields the form no longer defines stay visible)."""
    if viewer is None or viewer.admin or (viewer.user_id and viewer.user_id == project.owner_id) or form is None:
        return dict(project.fields)
    out = {}
    for key, value in project.fields.items():
        f = form.field(key)
        if f is None or readable(f, set(viewer.roles)):
            out[key] = value
    return out
