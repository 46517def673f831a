"""Project team (项目团队) and ownership handover (报备交接) rules. Pure: no I/O.

A team has at most one project manager (``pm``), any number of ``member`` s and ``observer`` s.
Every team member sees the project (field read permissions still apply); the PM edits the plan
like the owner; observers only read. The team is set when the project is approved (the form's
PM field when it has one, else the owner becomes PM) and changed later by the owner, the PM or an
admin."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from baobei.core.errors import Conflict, FieldViolation, Forbidden, ValidationFailed
from services.registry.domain.status import Status

PM, MEMBER, OBSERVER = "pm", "member", "observer"
ROLES = (PM, MEMBER, OBSERVER)
MAX_MEMBERS = 200
# Form field keys naming the project manager (a ``user`` field), first match wins.
PM_FIELD_KEYS = ("pm_id", "project_manager", "pm", "project_manager_id")
# A form's team template: fields with these keys (user or text/multiselect of user ids).
MEMBER_FIELD_KEYS = ("team_members", "members")
OBSERVER_FIELD_KEYS = ("observers", "team_observers")
# Copying (再次发起) is for registrations that ended without approval.
COPYABLE = (Status.REJECTED, Status.CANCELLED)
# Handover of all a user's projects leaves finished ones alone unless asked.
FINISHED = (Status.CLOSED, Status.REJECTED, Status.CANCELLED)
MAX_REASON = 500


@dataclass(frozen=True)
class Member:
    user_id: str
    role: str


def team_violations(members: Sequence[Member], *, user_exists: Callable[[str], bool]) -> list[FieldViolation]:
    """Every problem of a whole-team request at once: unknown/departed users, unknown roles,
    duplicates, more than one PM, too many members."""
    out: list[FieldViolation] = []
    if len(members) > MAX_MEMBERS:
        out.append(FieldViolation("members", f"团队成员不能超过 {MAX_MEMBERS} 人",
                                  f"a team has at most {MAX_MEMBERS} members"))
    seen: set[str] = set()
    pms = 0
    for i, m in enumerate(members):
        uid = m.user_id.strip()
        if not uid:
            out.append(FieldViolation(f"members[{i}].user_id", "用户为必填项", "user_id is required"))
        elif uid in seen:
            out.append(FieldViolation(f"members[{i}].user_id", f"用户 {uid} 重复", f"user {uid} is listed twice"))
        elif not user_exists(uid):
            out.append(FieldViolation(f"members[{i}].user_id", f"用户 {uid} 不存在或已离职",
                                      f"unknown or departed user {uid}"))
        seen.add(uid)
        if m.role not in ROLES:
            out.append(FieldViolation(f"members[{i}].role", f"角色须为 {'、'.join(ROLES)} 之一",
                                      f"role must be one of {', '.join(ROLES)}"))
        elif m.role == PM:
            pms += 1
            if pms > 1:
                out.append(FieldViolation(f"members[{i}].role", "项目经理只能有一位", "a team has at most one pm"))
    return out


def check_may_edit(*, actor_id: str, actor_is_admin: bool, owner_id: str, team: Mapping[str, str]) -> None:
    """Owner, PM or admin; else Forbidden."""
    if actor_is_admin or (actor_id and (actor_id == owner_id or team.get(actor_id) == PM)):
        return
    raise Forbidden("只有项目所有者、项目经理或管理员可以修改团队",
                    "only the project owner, its pm or an admin may change the team", code="not_team_editor")


def may_edit(*, actor_id: str, actor_is_admin: bool, owner_id: str, team: Mapping[str, str]) -> bool:
    try:
        check_may_edit(actor_id=actor_id, actor_is_admin=actor_is_admin, owner_id=owner_id, team=team)
    except Forbidden:
        return False
    return True


def team_diff(before: Mapping[str, str], after: Mapping[str, str]) -> list[dict[str, str]]:
    """History entries: added / removed / role changed, by user id (sorted: stable)."""
    out: list[dict[str, str]] = []
    for uid in sorted(set(before) | set(after)):
        old, new = before.get(uid), after.get(uid)
        if old == new:
            continue
        if old is None and new is not None:
            out.append({"user_id": uid, "change": "added", "role": new})
        elif new is None and old is not None:
            out.append({"user_id": uid, "change": "removed", "role": old})
        elif old is not None and new is not None:
            out.append({"user_id": uid, "change": "role", "from": old, "role": new})
    return out


def _user_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, str | int) and str(v).strip()]
    return []


def initial_team(owner_id: str, fields: Mapping[str, Any], *, user_exists: Callable[[str], bool]) -> dict[str, str]:
    """The team set at approval: the PM from the form's PM field (``pm_id``/``project_manager``),
    members and observers from ``team_members`` / ``observers`` fields; the owner is PM when the
    form names none (an unknown user named is left out)."""
    team: dict[str, str] = {}
    pm = ""
    for key in PM_FIELD_KEYS:
        ids = [u for u in _user_ids(fields.get(key)) if user_exists(u)]
        if ids:
            pm = ids[0]
            break
    team[pm or owner_id] = PM
    for keys, role in ((MEMBER_FIELD_KEYS, MEMBER), (OBSERVER_FIELD_KEYS, OBSERVER)):
        for key in keys:
            for uid in _user_ids(fields.get(key)):
                if uid not in team and user_exists(uid):
                    team[uid] = role
    if owner_id and owner_id not in team and pm:
        team[owner_id] = MEMBER
    return team


def handover_violations(*, to_user_id: str, from_user_id: str | None, reason: str,
                        user_exists: Callable[[str], bool]) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    to = to_user_id.strip()
    if not to:
        out.append(FieldViolation("to_user_id", "接收人为必填项", "to_user_id is required"))
    elif not user_exists(to):
        out.append(FieldViolation("to_user_id", f"用户 {to} 不存在或已离职", f"unknown or departed user {to}"))
    elif from_user_id is not None and to == from_user_id:
        out.append(FieldViolation("to_user_id", "接收人不能是原负责人", "to_user_id is the current owner"))
    if len(reason) > MAX_REASON:
        out.append(FieldViolation("reason", f"原因不能超过 {MAX_REASON} 个字符",
                                  f"reason must have at most {MAX_REASON} characters"))
    return out


def check_copyable(status: Status) -> None:
    if status not in COPYABLE:
        raise Conflict(f"只有已驳回或已撤回的项目可以再次发起（当前：{status.value}）",
                       f"only a rejected or cancelled project can be copied (it is {status.value})",
                       code="illegal_transition")


def raise_if(violations: list[FieldViolation]) -> None:
    if violations:
        raise ValidationFailed(violations)
