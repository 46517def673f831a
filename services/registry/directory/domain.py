"""What a viewer may see of the directory, and the department tree (pure: no I/O).

Picker fields (id, name, department, roles, left) are for every signed-in caller, integrators'
tokens included: choosing a person needs them. Contact fields (e-mail, mobile, region) are for
admins, the user themselves, and the managers of the user's department or of a department above
it — the people who need to reach them. Users who left are shown only to admins who ask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from baobei.core.errors import FieldViolation, Forbidden
from services.registry.directory.keys import name_keys
from services.registry.domain import Department, User, Viewer, managed_departments


@dataclass(frozen=True)
class DirectoryEntry:
    user: User
    department_name: str
    contact_visible: bool


@dataclass(frozen=True)
class DepartmentNode:
    department: Department
    manager_name: str
    manager_left: bool
    member_count: int
    total_count: int


class Sight:
    """One viewer's view: who they manage, whether they see contacts and departed users."""

    def __init__(self, viewer: Viewer | None, departments: Mapping[str, Department], *, include_left: bool) -> None:
        # No viewer: an internal caller, who sees everything.
        self.admin = viewer is None or viewer.admin
        if include_left and not self.admin:
            raise Forbidden("只有管理员可以查看已离职人员", "only admins may list users who left",
                            code="admin_required", violations=[FieldViolation(
                                "include_left", "需要管理员权限", "admin only")])
        self.viewer_id = viewer.user_id if viewer else ""
        self.include_left = include_left
        self.managed = set() if self.admin else managed_departments(self.viewer_id, departments)
        self.departments = departments

    def contact(self, user: User) -> bool:
        return self.admin or user.id == self.viewer_id or user.department_id in self.managed

    def entry(self, user: User) -> DirectoryEntry:
        dept = self.departments.get(user.department_id)
        visible = self.contact(user)
        shown = user if visible else User(id=user.id, name=user.name, department_id=user.department_id,
                                          roles=user.roles, left=user.left)
        return DirectoryEntry(user=shown, department_name=dept.name if dept else "", contact_visible=visible)


def descendants(department_id: str, departments: Mapping[str, Department]) -> set[str]:
    """The department and every department below it (safe on a cycle)."""
    children: dict[str, list[str]] = {}
    for d in departments.values():
        children.setdefault(d.parent_id, []).append(d.id)
    out: set[str] = set()
    todo = [department_id]
    while todo:
        node = todo.pop()
        if node in out:
            continue
        out.add(node)
        todo += children.get(node, [])
    return out


def tree(
    departments: Mapping[str, Department], direct: Mapping[str, int], managers: Mapping[str, User],
) -> tuple[list[DepartmentNode], int]:
    """Departments parents first, siblings by the pinyin of their names, with direct (``direct``:
    department id → people) and total member counts; and how many people are in no (known)
    department. A department whose parent is unknown (or lies on a cycle) is a root."""
    children: dict[str, list[Department]] = {}
    roots: list[Department] = []
    for d in departments.values():
        if d.parent_id and d.parent_id in departments and d.parent_id != d.id:
            children.setdefault(d.parent_id, []).append(d)
        else:
            roots.append(d)
    order: list[Department] = []
    seen: set[str] = set()

    def key(d: Department) -> tuple[str, str, str]:
        return name_keys(d.name).sort_key, d.name, d.id

    def walk(d: Department) -> None:
        if d.id in seen:
            return
        seen.add(d.id)
        order.append(d)
        for c in sorted(children.get(d.id, []), key=key):
            walk(c)

    for r in sorted(roots, key=key):
        walk(r)
    # Departments only reachable through a cycle: shown as roots rather than lost.
    for d in sorted(departments.values(), key=key):
        if d.id not in seen:
            walk(d)
    totals: dict[str, int] = {}
    for d in reversed(order):  # children come after their parents
        totals[d.id] = direct.get(d.id, 0) + sum(totals.get(c.id, 0) for c in children.get(d.id, []) if c.id != d.id)
    nodes = []
    for d in order:
        manager = managers.get(d.manager_id)
        nodes.append(DepartmentNode(
            department=d, manager_name=manager.name if manager else "", manager_left=bool(manager and manager.left),
            member_count=direct.get(d.id, 0), total_count=totals[d.id],
        ))
    unassigned = sum(n for dept_id, n in direct.items() if dept_id not in departments)
    return nodes, unassigned
