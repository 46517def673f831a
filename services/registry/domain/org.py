"""The org directory as the registry keeps it: departments, users, manager chains. Pure."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from baobei.core.errors import FieldViolation

MOBILE = re.compile(r"1[3-9]\d{9}")
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class Department:
    id: str
    name: str = ""
    parent_id: str = ""
    manager_id: str = ""


@dataclass(frozen=True)
class User:
    id: str
    name: str = ""
    email: str = ""
    mobile: str = ""
    department_id: str = ""
    roles: tuple[str, ...] = ()
    region: str = ""
    # Left the organisation (org sync): kept for history, never authenticated or routed to.
    left: bool = False


def validate_org(
    departments: list[Department],
    users: list[User],
    existing_departments: Mapping[str, Department],
) -> list[FieldViolation]:
    """Violations of an org upsert: ids required and unique in the request, every parent and
    user department must exist once the upsert is applied, and parents must not form a cycle."""
    out: list[FieldViolation] = []
    merged = dict(existing_departments)
    seen: set[str] = set()
    for i, d in enumerate(departments):
        if not d.id.strip():
            out.append(FieldViolation(f"departments[{i}].id", "部门 ID 为必填项", "department id is required"))
        elif d.id in seen:
            out.append(
                FieldViolation(f"departments[{i}].id", f"部门 ID {d.id} 重复", f"duplicate department id {d.id}")
            )
        else:
            seen.add(d.id)
            merged[d.id] = d
    for i, d in enumerate(departments):
        if d.parent_id and d.parent_id not in merged:
            out.append(FieldViolation(f"departments[{i}].parent_id", f"上级部门 {d.parent_id} 不存在",
                                      f"parent department {d.parent_id} does not exist"))
    cyclic = departments_in_cycles(merged)
    for i, d in enumerate(departments):
        if d.id in cyclic and d.parent_id in merged:
            out.append(FieldViolation(f"departments[{i}].parent_id", "部门上下级关系存在循环",
                                      "department parents form a cycle"))
    seen_users: set[str] = set()
    for i, u in enumerate(users):
        if not u.id.strip():
            out.append(FieldViolation(f"users[{i}].id", "用户 ID 为必填项", "user id is required"))
        elif u.id in seen_users:
            out.append(FieldViolation(f"users[{i}].id", f"用户 ID {u.id} 重复", f"duplicate user id {u.id}"))
        seen_users.add(u.id)
        if u.department_id and u.department_id not in merged:
            out.append(FieldViolation(f"users[{i}].department_id", f"部门 {u.department_id} 不存在",
                                      f"department {u.department_id} does not exist"))
        if u.mobile and not MOBILE.fullmatch(u.mobile):
            out.append(FieldViolation(f"users[{i}].mobile", "手机号无效", "invalid mobile number"))
    return out


def departments_in_cycles(departments: Mapping[str, Department]) -> set[str]:
    """Ids of departments that lie on a parent cycle."""
    cyclic: set[str] = set()
    done: set[str] = set()
    for start in departments:
        path: list[str] = []
        on_path: set[str] = set()
        node = start
        while node in departments and node not in done:
            if node in on_path:
                cyclic.update(path[path.index(node):])
                break
            on_path.add(node)
            path.append(node)
            node = departments[node].parent_id
        done.update(path)
    return cyclic


def ancestors(department_id: str, departments: Mapping[str, Department]) -> list[Department]:
    """The department and its ancestors, nearest first (stops safely on a cycle)."""
    out: list[Department] = []
    seen: set[str] = set()
    node = department_id
    while node and node in departments and node not in seen:
        seen.add(node)
        out.append(departments[node])
        node = departments[node].parent_id
    return out


def manager_chain(
    user: User, departments: Mapping[str, Department], left: Collection[str] = frozenset()
) -> list[tuple[str, str]]:
    """(department_id, manager_id) of the user's department and its ancestors, nearest first,
    leaving out departments without a manager; a manager who left (in ``left``) counts as none,
    so the chain walks up past them."""
    return [
        (d.id, d.manager_id)
        for d in ancestors(user.department_id, departments)
        if d.manager_id and d.manager_id not in left
    ]


def managed_departments(user_id: str, departments: Mapping[str, Department]) -> set[str]:
    """Departments a user manages directly or through an ancestor department."""
    if not user_id:
        return set()
    return {
        d.id for d in departments.values()
        if any(a.manager_id == user_id for a in ancestors(d.id, departments))
    }


def who_may_act(users: list[User], role: str) -> list[User]:
    """A role search finds who may act (routing, recipients): users who left are not among them;
    without a role every user is listed."""
    return [u for u in users if role in u.roles and not u.left] if role else users


def departed(users: list[User]) -> list[str]:
    """Ids of the users an org upsert marks as left (their tokens are revoked for good)."""
    return sorted(u.id for u in users if u.left)
