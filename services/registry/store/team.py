"""Project teams (项目团队), ownership handover (报备交接) and copying a rejected registration
into a new draft (再次发起). ``domain.team`` holds the rules."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col, select

from baobei.core.errors import Forbidden
from services.registry.domain import Customer, Project, ProjectInput, Status, Viewer
from services.registry.domain import team as rules
from services.registry.models import ProjectRow, ProjectTeamRow, UserRow
from services.registry.store.projects import create_project
from services.registry.store.rows import add_history, history, lock_project, project_not_found, project_of
from services.registry.store.rows import now as _now
from services.registry.store.visibility import Visibility

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TeamView:
    project_id: str
    owner_id: str
    members: list[ProjectTeamRow]
    names: dict[str, str]
    can_edit: bool


def _usable(value: str) -> bool:
    """An id worth looking up (PostgreSQL refuses NUL in text; longer ids exist nowhere)."""
    return bool(value) and len(value) <= 100 and "\x00" not in value


_USER: sa.Table = UserRow.__table__  # type: ignore[attr-defined]
_USER_LEFT = sa.select(_USER.c.left).where(_USER.c.id == sa.bindparam("user_id"))


def _active_user(session: Session, user_id: str) -> bool:
    """A stored user who has not left (read through Core: approval's initial team asks per member)."""
    if not _usable(user_id):
        return False
    found = session.connection().execute(_USER_LEFT, {"user_id": user_id}).first()
    return found is not None and not found[0]


def team_rows(session: Session, project_id: str) -> list[ProjectTeamRow]:
    order = {r: i for i, r in enumerate(rules.ROLES)}
    rows = list(session.exec(select(ProjectTeamRow).where(ProjectTeamRow.project_id == project_id)).all())
    return sorted(rows, key=lambda r: (order.get(r.role, 9), r.added_at, r.user_id))


def _roles(rows: list[ProjectTeamRow]) -> dict[str, str]:
    return {r.user_id: r.role for r in rows}


def _names(session: Session, user_ids: list[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(UserRow).where(col(UserRow.id).in_(user_ids))).all()
    return {r.id: r.name for r in rows}


def _view(session: Session, row: ProjectRow, actor_id: str, actor_is_admin: bool) -> TeamView:
    members = team_rows(session, row.id)
    return TeamView(
        project_id=row.id, owner_id=row.owner_id, members=members,
        names=_names(session, [m.user_id for m in members]),
        can_edit=rules.may_edit(actor_id=actor_id, actor_is_admin=actor_is_admin, owner_id=row.owner_id,
                                team=_roles(members)),
    )


def get_team(*, session: Session, project_id: str, viewer: Viewer | None) -> TeamView:
    """The team as whoever may see the project may (404 otherwise)."""
    row = session.get(ProjectRow, project_id) if _usable(project_id) else None
    if row is None:
        raise project_not_found(project_id)
    vis = Visibility(session, viewer)
    if not vis.can_see(project_of(row)):
        raise project_not_found(project_id)
    if viewer is None:
        return _view(session, row, "", True)
    return _view(session, row, viewer.user_id, viewer.admin)


def _write(session: Session, project_id: str, team: dict[str, str], actor_id: str,
           rows: list[ProjectTeamRow] | None = None) -> list[dict[str, str]]:
    """Make the stored team ``team`` (``rows``: the stored one, when just read); the changes
    (``domain.team.team_diff``)."""
    current = {r.user_id: r for r in (team_rows(session, project_id) if rows is None else rows)}
    diff = rules.team_diff({u: r.role for u, r in current.items()}, team)
    if not diff:
        return []
    now = _now()
    for uid, row in current.items():
        if uid not in team:
            session.delete(row)
        elif row.role != team[uid]:
            row.role = team[uid]
            session.add(row)
    for uid, role in team.items():
        if uid not in current:
            session.add(ProjectTeamRow(project_id=project_id, user_id=uid, role=role, added_by=actor_id, added_at=now))
    return diff


def set_team(*, session: Session, project_id: str, actor_id: str, actor_is_admin: bool,
             members: list[rules.Member]) -> tuple[TeamView, list[dict[str, str]]]:
    """Replace the whole team (owner, pm or admin); history ``team_changed`` with the changes."""
    row = lock_project(session, project_id)
    current = _roles(team_rows(session, project_id))
    rules.check_may_edit(actor_id=actor_id, actor_is_admin=actor_is_admin, owner_id=row.owner_id, team=current)
    members = [rules.Member(m.user_id.strip(), m.role.strip().lower()) for m in members]
    rules.raise_if(rules.team_violations(members, user_exists=lambda uid: _active_user(session, uid)))
    diff = _write(session, project_id, {m.user_id: m.role for m in members}, actor_id)
    if diff:
        add_history(session, project_id, at=_now(), actor=actor_id, event="team_changed", data={"team": diff})
        session.flush()
        log.info("project.team_changed", project_id=project_id, actor=actor_id, changes=len(diff))
    return _view(session, row, actor_id, actor_is_admin), diff


_TEAM: sa.Table = ProjectTeamRow.__table__  # type: ignore[attr-defined]
# Approval's team writes, built once (the lifecycle approves every project): whether the project
# has a team, and the members' rows.
_HAS_TEAM = sa.select(_TEAM.c.user_id).where(_TEAM.c.project_id == sa.bindparam("project_id")).limit(1)
_ADD_MEMBERS = _TEAM.insert()


def ensure_initial_team(session: Session, project: Project, actor_id: str) -> None:
    """At approval: the team from the form's fields (PM field, else the owner is PM), unless the
    project has a team already (a re-approval or an earlier change keeps it)."""
    conn = session.connection()
    if conn.execute(_HAS_TEAM, {"project_id": project.id}).first() is not None:
        return
    team = rules.initial_team(project.owner_id, project.fields, user_exists=lambda u: _active_user(session, u))
    # Part of the approval (its "approved" history entry): no entry of its own; later changes are
    # recorded as "team_changed".
    if not team:
        return
    now = _now()
    conn.execute(_ADD_MEMBERS, [{"project_id": project.id, "user_id": uid, "role": role, "added_by": actor_id,
                                 "added_at": now} for uid, role in team.items()])


# ---------- handover (报备交接) ----------


@dataclass(frozen=True)
class Handed:
    project_id: str
    code: str
    name: str
    from_user_id: str
    status: Status


def hand_over(*, session: Session, project_id: str, from_user_id: str, to_user_id: str, actor_id: str,
              reason: str, include_closed: bool) -> list[Handed]:
    """One project, or every project of ``from_user_id`` (live ones unless ``include_closed``), to
    ``to_user_id``: owner and department follow the new owner, a PM who was the old owner is
    replaced by the new owner; history ``handed_over`` on each."""
    to = to_user_id.strip()
    reason = reason.strip()
    if project_id:
        row = lock_project(session, project_id)
        rules.raise_if(rules.handover_violations(to_user_id=to, from_user_id=row.owner_id, reason=reason,
                                                 user_exists=lambda u: _active_user(session, u)))
        rows = [row]
    else:
        rules.raise_if(rules.handover_violations(to_user_id=to, from_user_id=from_user_id.strip(), reason=reason,
                                                 user_exists=lambda u: _active_user(session, u)))
        stmt = select(ProjectRow).where(ProjectRow.owner_id == from_user_id.strip())
        if not include_closed:
            stmt = stmt.where(col(ProjectRow.status).not_in([s.value for s in rules.FINISHED]))
        stmt = stmt.order_by(col(ProjectRow.created_at), col(ProjectRow.id)).with_for_update()
        rows = list(session.exec(stmt).all()) if _usable(from_user_id.strip()) else []
    target = session.get(UserRow, to)
    assert target is not None
    now = _now()
    out: list[Handed] = []
    for row in rows:
        old = row.owner_id
        row.owner_id = to
        row.department_id = target.department_id or row.department_id
        row.version += 1
        row.updated_at = now
        session.add(row)
        team = _roles(team_rows(session, row.id))
        if team.get(old) == rules.PM:
            team.pop(old)
            team[to] = rules.PM
            _write(session, row.id, team, actor_id)
        data = {"from_user_id": old, "to_user_id": to}
        if reason:
            data["reason"] = reason
        add_history(session, row.id, at=now, actor=actor_id, event="handed_over", data=data)
        out.append(Handed(row.id, row.code, row.name, old, Status(row.status)))
    session.flush()
    log.info("project.handed_over", count=len(out), to_user_id=to, actor=actor_id)
    return out


# ---------- 再次发起 ----------


def copy_project(*, session: Session, project_id: str, actor_id: str, actor_is_admin: bool) -> Project:
    """A rejected or cancelled project copied into a new draft owned by the same owner, filed on
    the form's latest version (same fields, customer, amount, dates); both histories note it."""
    row = session.get(ProjectRow, project_id) if _usable(project_id) else None
    if row is None:
        raise project_not_found(project_id)
    if actor_id != row.owner_id:
        raise Forbidden("只有项目所有者可以再次发起", "only the project owner may copy the registration",
                        code="not_owner")
    rules.check_copyable(Status(row.status))
    inp = ProjectInput(
        owner_id=row.owner_id, owner_is_admin=actor_is_admin, form_key=row.form_key, name=row.name,
        customer=Customer(name=row.customer_name, uscc=row.customer_uscc, contact=row.customer_contact,
                          phone=row.customer_phone),
        amount=row.amount, region=row.region, business_line=row.business_line,
        start_date=row.start_date.isoformat() if row.start_date else "",
        end_date=row.end_date.isoformat() if row.end_date else "", fields=dict(row.fields or {}),
    )
    created = create_project(session=session, inp=inp)
    now = _now()
    add_history(session, created.id, at=now, actor=actor_id, event="copied_from",
                data={"source_project_id": row.id, "source_code": row.code})
    add_history(session, row.id, at=now, actor=actor_id, event="copied_to",
                data={"project_id": created.id, "code": created.code})
    session.flush()
    log.info("project.copied", source=row.id, project_id=created.id, actor=actor_id)
    created.history = history(session, created.id)
    return created
