"""The org directory as the registry stores it: departments and users (synced from the org
source), manager chains."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound, ValidationFailed
from services.registry import access, domain
from services.registry.directory.index import index_users
from services.registry.domain import Department, User
from services.registry.models import AccessTokenRow, DepartmentRow, UserRow
from services.registry.store.rows import now as _now
from services.registry.store.rows import user_of

log = structlog.get_logger(__name__)


def departments(*, session: Session) -> dict[str, Department]:
    return {
        r.id: Department(id=r.id, name=r.name, parent_id=r.parent_id, manager_id=r.manager_id)
        for r in session.exec(select(DepartmentRow)).all()
    }


def upsert_org(
    *, session: Session, departments_in: list[Department], users_in: list[User], actor: access.OrgActor | None = None,
    now: datetime | None = None,
) -> tuple[int, int, list[access.Refusal]]:
    """Apply what ``actor`` may (see ``access.guard_org``); the refused entries are returned."""
    ids = [u.id for u in users_in]
    rows = session.exec(select(UserRow).where(col(UserRow.id).in_(ids))).all() if ids else []
    existing = {r.id: user_of(r) for r in rows}
    known_departments = departments(session=session)
    guarded = access.guard_org(actor, departments_in, users_in, existing, known_departments)
    violations = domain.validate_org(guarded.departments, guarded.users, known_departments)
    if violations:
        raise ValidationFailed(violations)
    for d in guarded.departments:
        session.merge(DepartmentRow(id=d.id, name=d.name, parent_id=d.parent_id, manager_id=d.manager_id))
    for u in guarded.users:
        session.merge(
            UserRow(
                id=u.id, name=u.name, email=u.email, mobile=u.mobile, department_id=u.department_id,
                roles=list(dict.fromkeys(u.roles)), region=u.region, left=u.left,
            )
        )
    # People-picker search keys (pinyin, initials) are computed here, once per write.
    index_users(session=session, users=[(u.id, u.name) for u in guarded.users])
    left = domain.departed(guarded.users)
    if left:
        session.execute(
            sa.update(AccessTokenRow)
            .where(col(AccessTokenRow.user_id).in_(left), col(AccessTokenRow.revoked_at).is_(None))
            .values(revoked_at=now or _now())
            .execution_options(synchronize_session=False)
        )
    session.flush()
    log.info("org.upserted", departments=len(guarded.departments), users=len(guarded.users), left=left,
             actor=actor.user_id if actor else "", refused=[r.field for r in guarded.refused])
    return len(guarded.departments), len(guarded.users), guarded.refused


def find_user(*, session: Session, user_id: str) -> User | None:
    row = session.get(UserRow, user_id) if user_id else None
    return user_of(row) if row else None


_USER: sa.Table = UserRow.__table__  # type: ignore[attr-defined]
_READ_USER = sa.select(_USER).where(_USER.c.id == sa.bindparam("user_id"))


def read_user(*, session: Session, user_id: str) -> User | None:
    """``find_user`` through Core (a stored user: none the session holds unflushed)."""
    row = session.connection().execute(_READ_USER, {"user_id": user_id}).first() if user_id else None
    return user_of(row) if row else None  # type: ignore[arg-type]


def get_user(*, session: Session, user_id: str) -> User:
    user = find_user(session=session, user_id=user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在", f"user {user_id} not found", code="user_not_found")
    return user


def list_users(*, session: Session, user_ids: list[str], role: str, department_id: str) -> list[User]:
    stmt = select(UserRow).order_by(col(UserRow.id))
    if user_ids:
        stmt = stmt.where(col(UserRow.id).in_(user_ids))
    if department_id:
        stmt = stmt.where(UserRow.department_id == department_id)
    return domain.who_may_act([user_of(r) for r in session.exec(stmt).all()], role)


def manager_chain(*, session: Session, user_id: str) -> tuple[User, list[tuple[str, str]]]:
    """The user (as ``get_user`` reads them) and their manager chain, walking past managers who
    left."""
    user = get_user(session=session, user_id=user_id)
    left = {str(r) for r in session.exec(select(UserRow.id).where(col(UserRow.left).is_(True))).all()}
    return user, domain.manager_chain(user, departments(session=session), left)
