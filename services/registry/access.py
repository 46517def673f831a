"""Access-token rules and the limits of a non-admin org upsert (pure: no I/O, no clock).

Tokens: a token carries scopes (the scoped routes it may call), a name, and an expiry (default
90 days). ``last_used_at`` is written at most once a minute per token, so authentication stays a
read almost always.

Org upserts by someone who is not an admin (an integrator's org sync) never touch admins (their
records, roles, departure) nor the caller's own record, never grant ``admin`` / ``integrator`` or
a role the caller does not hold, and never make the caller a manager. Such entries are skipped
and reported; the rest of the upsert applies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from baobei.core.errors import FieldViolation, Unauthenticated, ValidationFailed
from services.registry.domain import ADMIN_ROLE, Department, User

SCOPES = ("crm:write", "org:sync", "reports:read")
INTEGRATOR_ROLE = "integrator"
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 3650
MAX_NAME = 100
# last_used_at granularity: a token used many times a minute is written once.
TOUCH_EVERY = timedelta(seconds=60)
NOT_GRANTABLE = (ADMIN_ROLE, INTEGRATOR_ROLE)


@dataclass(frozen=True)
class TokenSpec:
    name: str
    scopes: tuple[str, ...]
    expires_in_days: int


@dataclass(frozen=True)
class AccessToken:
    id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def token_spec(name: str, scopes: Sequence[str], *, scopes_given: bool, expires_in_days: int) -> TokenSpec:
    """The validated request (every violation at once): no scopes given = every scope."""
    out: list[FieldViolation] = []
    name = name.strip()
    if len(name) > MAX_NAME:
        out.append(FieldViolation("name", f"不能超过 {MAX_NAME} 个字符", f"must have at most {MAX_NAME} characters"))
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        out.append(FieldViolation("name", "不能包含控制字符", "must not contain control characters"))
    chosen: list[str] = []
    for i, s in enumerate(scopes):
        scope = s.strip()
        if scope not in SCOPES:
            out.append(FieldViolation(f"scopes[{i}]", f"未知权限范围 {scope}，可选：{'、'.join(SCOPES)}",
                                      f"unknown scope {scope}; one of {', '.join(SCOPES)}"))
        elif scope not in chosen:
            chosen.append(scope)
    days = expires_in_days or DEFAULT_EXPIRY_DAYS
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        out.append(FieldViolation("expires_in_days", f"须在 1 到 {MAX_EXPIRY_DAYS} 之间",
                                  f"must be between 1 and {MAX_EXPIRY_DAYS}"))
    if out:
        raise ValidationFailed(out)
    return TokenSpec(name=name, scopes=tuple(chosen) if scopes_given else SCOPES, expires_in_days=days)


def is_token_id(value: str) -> bool:
    """Token ids are 32 lowercase hex digits (anything else is simply not found)."""
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def refusal(record: AccessToken, user: User, now: datetime) -> tuple[str, Unauthenticated] | None:
    """Why a known token may not authenticate (the log event and the error), None when it may:
    revoked, expired, or its user left."""
    if record.revoked_at is not None:
        return "token.refused_revoked", Unauthenticated("令牌已撤销", "the token has been revoked",
                                                        code="token_revoked")
    if record.expired(now):
        return "token.refused_expired", Unauthenticated("令牌已过期", "the token has expired", code="token_expired")
    if user.left:
        return "token.refused_left", Unauthenticated("用户已离职，令牌失效",
                                                     "the user has left: the token is no longer valid")
    return None


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= TOUCH_EVERY


# ---------- org upsert limits ----------


@dataclass(frozen=True)
class OrgActor:
    user_id: str
    roles: tuple[str, ...] = ()
    is_admin: bool = False

    @property
    def limited(self) -> bool:
        return bool(self.user_id) and not self.is_admin and ADMIN_ROLE not in self.roles


@dataclass(frozen=True)
class Refusal:
    field: str
    code: str
    zh: str
    en: str
    user_id: str = ""
    department_id: str = ""


@dataclass
class GuardedOrg:
    departments: list[Department]
    users: list[User]
    refused: list[Refusal]


def guard_org(
    actor: OrgActor | None,
    departments: Sequence[Department],
    users: Sequence[User],
    existing_users: Mapping[str, User],
    existing_departments: Mapping[str, Department],
) -> GuardedOrg:
    """What ``actor`` may apply of an upsert; refused users are left out, a department the actor
    would manage keeps its current manager."""
    if actor is None or not actor.limited:
        return GuardedOrg(list(departments), list(users), [])
    refused: list[Refusal] = []
    kept_users: list[User] = []
    for i, u in enumerate(users):
        why = _user_refusal(actor, u, existing_users.get(u.id))
        if why is None:
            kept_users.append(u)
        else:
            code, zh, en = why
            refused.append(Refusal(f"users[{i}]", code, zh, en, user_id=u.id))
    kept_departments: list[Department] = []
    for i, d in enumerate(departments):
        current = existing_departments.get(d.id)
        current_manager = current.manager_id if current else ""
        if d.manager_id and d.manager_id == actor.user_id and current_manager != actor.user_id:
            refused.append(Refusal(f"departments[{i}].manager_id", "self_manager",
                                   "不能通过组织同步把自己设为部门负责人", "org sync cannot make the caller a manager",
                                   department_id=d.id))
            d = replace(d, manager_id=current_manager)
        kept_departments.append(d)
    return GuardedOrg(kept_departments, kept_users, refused)


def _user_refusal(actor: OrgActor, user: User, current: User | None) -> tuple[str, str, str] | None:
    if user.id == actor.user_id:
        return "own_record", "不能修改自己的用户记录", "org sync cannot change the caller's own record"
    if current is not None and ADMIN_ROLE in current.roles:
        return "admin_untouchable", "不能修改管理员（记录、角色或离职状态）", "org sync cannot change an admin"
    granted = [r for r in user.roles if current is None or r not in current.roles]
    forbidden = [r for r in granted if r in NOT_GRANTABLE]
    if forbidden:
        return ("role_not_grantable", f"不能授予角色 {'、'.join(forbidden)}",
                f"cannot grant the role(s) {', '.join(forbidden)}")
    not_held = [r for r in granted if r not in actor.roles]
    if not_held:
        return ("role_not_held", f"不能授予自己没有的角色 {'、'.join(not_held)}",
                f"cannot grant role(s) the caller does not hold: {', '.join(not_held)}")
    return None
