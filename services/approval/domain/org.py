"""The org directory as approver resolution sees it: users, the ``OrgDirectory`` protocol (gRPC
in ``org_client``) and an in-memory implementation for tests, tools and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OrgUser:
    id: str
    department_id: str = ""
    roles: tuple[str, ...] = ()
    region: str = ""
    # Left the organisation (org sync): never routed to.
    left: bool = False


class OrgDirectory(Protocol):
    """Read-only view of the registry's org directory. Users who left are never routed to:
    ``users_with_role`` / ``role_holders`` leave them out, and the manager chain walks past a
    manager who left (their department counts as having no manager)."""

    def get_user(self, user_id: str) -> OrgUser | None: ...

    def users_with_role(self, role: str) -> list[str]: ...

    def manager_chain(self, user_id: str) -> list[str]:
        """Managers of the user's department and its ancestors, nearest first."""
        ...


class RichDirectory(OrgDirectory, Protocol):
    """What the richer approver types need besides ``OrgDirectory``."""

    def role_holders(self, role: str) -> list[OrgUser]: ...

    def manager_links(self, user_id: str) -> list[tuple[str, str]]:
        """(department id, manager id) of the user's department and its ancestors, nearest first
        (departments without a manager included, with an empty manager); ``manager_chain`` is its
        non-empty managers."""
        ...

    def user_and_links(self, user_id: str) -> tuple[OrgUser | None, list[tuple[str, str]]]:
        """``get_user`` and ``manager_links`` of one user, read together (one registry call)."""
        ...

    def department_manager(self, department_id: str) -> str: ...


@dataclass
class InMemoryDirectory:
    """An ``OrgDirectory`` over plain dicts (tests, tools, benchmarks)."""

    users: dict[str, OrgUser] = field(default_factory=dict)
    # department id -> (parent id, manager id)
    departments: dict[str, tuple[str, str]] = field(default_factory=dict)
    _by_role: dict[str, list[OrgUser]] | None = field(default=None, repr=False)

    def get_user(self, user_id: str) -> OrgUser | None:
        return self.users.get(user_id)

    def _present(self, user_id: str) -> bool:
        user = self.users.get(user_id)
        return user is None or not user.left

    def role_holders(self, role: str) -> list[OrgUser]:
        if self._by_role is None:
            index: dict[str, list[OrgUser]] = {}
            for u in self.users.values():
                if u.left:
                    continue
                for r in u.roles:
                    index.setdefault(r, []).append(u)
            self._by_role = index
        return sorted(self._by_role.get(role, []), key=lambda u: u.id)

    def users_with_role(self, role: str) -> list[str]:
        return [u.id for u in self.role_holders(role)]

    def manager_links(self, user_id: str) -> list[tuple[str, str]]:
        user = self.users.get(user_id)
        links: list[tuple[str, str]] = []
        dept, seen = (user.department_id if user else ""), set()
        while dept and dept in self.departments and dept not in seen:
            seen.add(dept)
            parent, manager = self.departments[dept]
            links.append((dept, manager if manager and self._present(manager) else ""))
            dept = parent
        return links

    def user_and_links(self, user_id: str) -> tuple[OrgUser | None, list[tuple[str, str]]]:
        return self.users.get(user_id), self.manager_links(user_id)

    def manager_chain(self, user_id: str) -> list[str]:
        return [m for _, m in self.manager_links(user_id) if m]

    def department_manager(self, department_id: str) -> str:
        manager = self.departments.get(department_id, ("", ""))[1]
        return manager if manager and self._present(manager) else ""

