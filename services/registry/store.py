"""Persistence of the registry: keyword-only functions over a ``Session`` (the caller owns the
transaction, usually ``run_once``), returning domain objects and raising DomainErrors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from baobei.core.errors import FieldViolation, Forbidden, NotFound, Unauthenticated, ValidationFailed
from services.registry import domain, forms
from services.registry.domain import (
    ConflictHit,
    Customer,
    Department,
    HistoryEntry,
    Project,
    ProjectInput,
    Status,
    User,
    Viewer,
)
from services.registry.forms import FormDef, FormField
from services.registry.models import (
    AccessTokenRow,
    DepartmentRow,
    FormVersionRow,
    ProjectHistoryRow,
    ProjectRow,
    ProjectSequenceRow,
    UserRow,
)
from services.registry.names import normalise_name

log = structlog.get_logger(__name__)
CODE_ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
TOKEN_PREFIX = "bbt_"


def utc(dt: datetime) -> datetime:
    """SQLite hands timestamps back naive; everything stored is UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


# ---------- org ----------


def _user(row: UserRow) -> User:
    return User(
        id=row.id, name=row.name, email=row.email, mobile=row.mobile, department_id=row.department_id,
        roles=tuple(row.roles or ()), region=row.region,
    )


def departments(*, session: Session) -> dict[str, Department]:
    return {
        r.id: Department(id=r.id, name=r.name, parent_id=r.parent_id, manager_id=r.manager_id)
        for r in session.exec(select(DepartmentRow)).all()
    }


def upsert_org(*, session: Session, departments_in: list[Department], users_in: list[User]) -> tuple[int, int]:
    violations = domain.validate_org(departments_in, users_in, departments(session=session))
    if violations:
        raise ValidationFailed(violations)
    for d in departments_in:
        session.merge(DepartmentRow(id=d.id, name=d.name, parent_id=d.parent_id, manager_id=d.manager_id))
    for u in users_in:
        session.merge(
            UserRow(
                id=u.id, name=u.name, email=u.email, mobile=u.mobile, department_id=u.department_id,
                roles=list(dict.fromkeys(u.roles)), region=u.region,
            )
        )
    session.flush()
    log.info("org.upserted", departments=len(departments_in), users=len(users_in))
    return len(departments_in), len(users_in)


def _user_not_found(user_id: str) -> NotFound:
    return NotFound(f"用户 {user_id} 不存在", f"user {user_id} not found", code="user_not_found")


def find_user(*, session: Session, user_id: str) -> User | None:
    row = session.get(UserRow, user_id) if user_id else None
    return _user(row) if row else None


def get_user(*, session: Session, user_id: str) -> User:
    user = find_user(session=session, user_id=user_id)
    if user is None:
        raise _user_not_found(user_id)
    return user


def list_users(*, session: Session, user_ids: list[str], role: str, department_id: str) -> list[User]:
    stmt = select(UserRow).order_by(col(UserRow.id))
    if user_ids:
        stmt = stmt.where(col(UserRow.id).in_(user_ids))
    if department_id:
        stmt = stmt.where(UserRow.department_id == department_id)
    users = [_user(r) for r in session.exec(stmt).all()]
    return [u for u in users if role in u.roles] if role else users


def manager_chain(*, session: Session, user_id: str) -> list[tuple[str, str]]:
    user = get_user(session=session, user_id=user_id)
    return domain.manager_chain(user, departments(session=session))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, user_id: str) -> str:
    get_user(session=session, user_id=user_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(AccessTokenRow(token_hash=_hash(token), user_id=user_id, created_at=_now()))
    session.flush()
    log.info("token.issued", user_id=user_id)
    return token


def authenticate(*, session: Session, token: str) -> User:
    row = session.get(AccessTokenRow, _hash(token.strip())) if token.strip() else None
    user = find_user(session=session, user_id=row.user_id) if row else None
    if user is None:
        raise Unauthenticated()
    return user


# ---------- forms ----------


def _form(row: FormVersionRow) -> FormDef:
    return FormDef(
        key=row.key, title=row.title, version=row.version, created_at=utc(row.created_at),
        fields=tuple(FormField.from_json(f) for f in row.fields),
    )


def _form_not_found(key: str, version: int = 0) -> NotFound:
    if version:
        zh, en = f"表单 {key} 版本 {version} 不存在", f"form {key} version {version} not found"
        return NotFound(zh, en, "form_not_found")
    return NotFound(f"表单 {key} 不存在", f"form {key} not found", "form_not_found")


def find_form(*, session: Session, key: str, version: int = 0) -> FormDef | None:
    if not key:
        return None
    if version:
        row = session.get(FormVersionRow, (key, version))
    else:
        stmt = select(FormVersionRow).where(FormVersionRow.key == key).order_by(col(FormVersionRow.version).desc())
        row = session.exec(stmt.limit(1)).first()
    return _form(row) if row else None


def get_form(*, session: Session, key: str, version: int = 0) -> FormDef:
    form = find_form(session=session, key=key, version=version)
    if form is None:
        raise _form_not_found(key, version)
    return form


def put_form(*, session: Session, key: str, title: str, fields: list[FormField]) -> tuple[FormDef, bool]:
    """Store a new version when the definition differs from the latest; (form, created)."""
    violations = forms.validate_form(key, title, fields)
    if violations:
        raise ValidationFailed(violations)
    new = FormDef(key=key, title=title.strip(), fields=tuple(fields))
    if session.get_bind().dialect.name == "postgresql":
        # Serialise concurrent PUTs of one form (SQLite already holds the database write lock).
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"registry.form:{key}"})
    latest = find_form(session=session, key=key)
    if latest is not None and latest.definition() == new.definition():
        return latest, False
    version = (latest.version if latest else 0) + 1
    row = FormVersionRow(
        key=key, version=version, title=new.title, fields=[f.as_json() for f in fields], created_at=_now()
    )
    session.add(row)
    session.flush()
    log.info("form.versioned", form_key=key, version=version)
    return _form(row), True


# ---------- projects ----------


def _project_not_found(project_id: str) -> NotFound:
    return NotFound(f"项目 {project_id} 不存在", f"project {project_id} not found", code="project_not_found")


def _history(session: Session, project_id: str) -> list[HistoryEntry]:
    stmt = (
        select(ProjectHistoryRow)
        .where(ProjectHistoryRow.project_id == project_id)
        .order_by(col(ProjectHistoryRow.at), col(ProjectHistoryRow.id))
    )
    return [
        HistoryEntry(at=utc(r.at), actor=r.actor, event=r.event, data=dict(r.data or {}))
        for r in session.exec(stmt).all()
    ]


def _project(row: ProjectRow, history: list[HistoryEntry] | None = None) -> Project:
    return Project(
        id=row.id, code=row.code, status=Status(row.status), name=row.name,
        customer=Customer(
            name=row.customer_name, uscc=row.customer_uscc, contact=row.customer_contact, phone=row.customer_phone
        ),
        amount=Decimal(row.amount), region=row.region, business_line=row.business_line,
        start_date=row.start_date, end_date=row.end_date, fields=dict(row.fields or {}),
        form_key=row.form_key, form_version=row.form_version, owner_id=row.owner_id,
        department_id=row.department_id,
        conflicts=[ConflictHit(project_id=c["project_id"], reason=c["reason"]) for c in (row.conflicts or [])],
        history=history or [], version=row.version, created_at=utc(row.created_at), updated_at=utc(row.updated_at),
    )


def _add_history(
    session: Session, project_id: str, *, at: datetime, actor: str, event: str, data: dict[str, Any]
) -> None:
    session.add(ProjectHistoryRow(project_id=project_id, at=at, actor=actor, event=event, data=data))


def next_code(*, session: Session, at: datetime) -> str:
    """BB-<year>-<6-digit number>: one atomic upsert on the year's counter row (the row lock on
    PostgreSQL and the database write lock on SQLite serialise concurrent creators)."""
    year = at.astimezone(CODE_ZONE).year
    table = ProjectSequenceRow.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(table)
        .values(year=year, last_number=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last_number": table.c.last_number + 1})
        .returning(table.c.last_number)
    )
    number = session.execute(stmt).scalar_one()
    return f"BB-{year}-{number:06d}"


def _conflicts(session: Session, project_id: str, customer: Customer) -> list[ConflictHit]:
    norm = normalise_name(customer.name)
    match: list[sa.ColumnElement[bool]] = []
    if customer.uscc:
        match.append(col(ProjectRow.customer_uscc) == customer.uscc)
    if norm:
        match.append(col(ProjectRow.customer_name_norm) == norm)
    if not match:
        return []
    stmt = (
        select(ProjectRow.id, ProjectRow.status, ProjectRow.customer_uscc, ProjectRow.customer_name_norm)
        .where(sa.or_(*match))
        .where(ProjectRow.id != project_id)
        .where(col(ProjectRow.status).not_in([s.value for s in domain.NOT_LIVE]))
        .order_by(col(ProjectRow.created_at), col(ProjectRow.id))
    )
    others = [
        domain.Registration(id=r[0], status=Status(r[1]), customer_uscc=r[2], customer_name_norm=r[3])
        for r in session.execute(stmt).all()
    ]
    return domain.find_conflicts(project_id, customer, others)


def _conflicts_json(hits: list[ConflictHit]) -> list[dict[str, str]]:
    return [{"project_id": h.project_id, "reason": h.reason} for h in hits]


def create_project(*, session: Session, inp: ProjectInput) -> Project:
    form = find_form(session=session, key=inp.form_key.strip())
    owner = find_user(session=session, user_id=inp.owner_id)
    roles, owner_admin = domain.write_roles_of(owner, inp.owner_is_admin)
    if form is not None and not owner_admin:
        denied = forms.written_forbidden(form, inp.fields, roles)
        if denied:
            raise Forbidden("无权填写以下字段", "not allowed to set these fields", violations=denied)
    valid, violations = domain.validate_project(
        inp, form,
        user_exists=lambda uid: session.get(UserRow, uid) is not None,
        department_exists=lambda did: session.get(DepartmentRow, did) is not None,
    )
    if valid is None or form is None:
        raise ValidationFailed(violations)
    now = _now()
    project_id = uuid.uuid4().hex
    code = next_code(session=session, at=now)
    conflicts = _conflicts(session, project_id, valid.customer)
    row = ProjectRow(
        id=project_id, code=code, status=Status.DRAFT.value, name=valid.name,
        customer_name=valid.customer.name, customer_name_norm=normalise_name(valid.customer.name),
        customer_uscc=valid.customer.uscc, customer_contact=valid.customer.contact,
        customer_phone=valid.customer.phone, amount=str(valid.amount), region=valid.region,
        business_line=valid.business_line, start_date=valid.start_date, end_date=valid.end_date,
        fields=valid.fields, form_key=form.key, form_version=form.version, owner_id=inp.owner_id,
        department_id=owner.department_id if owner else "", conflicts=_conflicts_json(conflicts), version=1,
        created_at=now, updated_at=now,
    )
    session.add(row)
    _add_history(
        session, project_id, at=now, actor=inp.owner_id, event="created",
        data={"to": Status.DRAFT.value, "conflicts": len(conflicts)},
    )
    session.flush()
    log.info("project.created", project_id=project_id, code=code, form_key=form.key, conflicts=len(conflicts))
    return _project(row, _history(session, project_id))


class _Visibility:
    """Per-request cache of what a viewer may see (managed departments, form versions)."""

    def __init__(self, session: Session, viewer: Viewer | None) -> None:
        self.session, self.viewer = session, viewer
        self._forms: dict[tuple[str, int], FormDef | None] = {}
        self.managed: set[str] = set()
        if viewer is not None and not viewer.admin:
            self.managed = domain.managed_departments(viewer.user_id, departments(session=session))

    def form(self, key: str, version: int) -> FormDef | None:
        if (key, version) not in self._forms:
            self._forms[(key, version)] = find_form(session=self.session, key=key, version=version)
        return self._forms[(key, version)]

    def shape(self, project: Project) -> Project:
        if self.viewer is not None:
            form = self.form(project.form_key, project.form_version)
            project.fields = domain.visible_fields(self.viewer, project, form)
        return project


def get_project(*, session: Session, project_id: str, viewer: Viewer | None) -> Project:
    row = session.get(ProjectRow, project_id) if project_id else None
    if row is None:
        raise _project_not_found(project_id)
    vis = _Visibility(session, viewer)
    project = _project(row)
    if not domain.can_see(viewer, project, vis.managed):
        raise _project_not_found(project_id)
    project.history = _history(session, project_id)
    return vis.shape(project)


def encode_cursor(created_at: datetime, project_id: str) -> str:
    raw = json.dumps([utc(created_at).isoformat(), project_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, project_id = json.loads(raw)
        return utc(datetime.fromisoformat(at)), str(project_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as err:
        raise ValidationFailed([FieldViolation("cursor", "分页游标无效", "invalid cursor")]) from err


def _like(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_projects(
    *, session: Session, viewer: Viewer | None, status: Status | None, q: str, limit: int, cursor: str
) -> tuple[list[Project], str]:
    """Newest first, keyset-paged on (created_at, id); next cursor "" on the last page."""
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    vis = _Visibility(session, viewer)
    stmt = select(ProjectRow)
    if viewer is not None and not viewer.admin:
        may: list[sa.ColumnElement[bool]] = []
        if viewer.user_id:
            may.append(col(ProjectRow.owner_id) == viewer.user_id)
        if viewer.approver_project_ids:
            may.append(col(ProjectRow.id).in_(sorted(viewer.approver_project_ids)))
        if vis.managed:
            may.append(col(ProjectRow.department_id).in_(sorted(vis.managed)))
        if not may:
            return [], ""
        stmt = stmt.where(sa.or_(*may))
    if status is not None:
        stmt = stmt.where(ProjectRow.status == status.value)
    if q.strip():
        pattern = _like(q.strip())
        stmt = stmt.where(
            sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in (
                col(ProjectRow.code), col(ProjectRow.name), col(ProjectRow.customer_name)
            )))
        )
    if cursor:
        at, last_id = decode_cursor(cursor)
        stmt = stmt.where(
            sa.or_(
                col(ProjectRow.created_at) < at,
                sa.and_(col(ProjectRow.created_at) == at, col(ProjectRow.id) < last_id),
            )
        )
    stmt = stmt.order_by(col(ProjectRow.created_at).desc(), col(ProjectRow.id).desc()).limit(limit + 1)
    rows = list(session.exec(stmt).all())
    page = [vis.shape(_project(r)) for r in rows[:limit]]
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else ""
    return page, next_cursor


def _lock(session: Session, project_id: str) -> ProjectRow:
    row = session.exec(select(ProjectRow).where(ProjectRow.id == project_id).with_for_update()).first()
    if row is None:
        raise _project_not_found(project_id)
    return row


def submit_project(*, session: Session, project_id: str, actor_id: str, actor_is_admin: bool) -> Project:
    row = _lock(session, project_id)
    if not actor_is_admin and actor_id != row.owner_id:
        raise Forbidden("只有项目所有者可以提交", "only the project owner may submit it", code="not_owner")
    current = Status(row.status)
    domain.check_submit(current)
    customer = Customer(name=row.customer_name, uscc=row.customer_uscc)
    conflicts = _conflicts(session, project_id, customer)
    now = _now()
    row.status = Status.PENDING_APPROVAL.value
    row.conflicts = _conflicts_json(conflicts)
    row.version += 1
    row.updated_at = now
    session.add(row)
    _add_history(
        session, project_id, at=now, actor=actor_id, event="submitted",
        data={"from": current.value, "to": row.status, "conflicts": len(conflicts)},
    )
    session.flush()
    log.info("project.submitted", project_id=project_id, actor=actor_id, conflicts=len(conflicts))
    return _project(row, _history(session, project_id))


def set_project_status(
    *, session: Session, project_id: str, status: Status, actor_id: str, event: str, comment: str
) -> Project:
    row = _lock(session, project_id)
    current = Status(row.status)
    if not domain.check_status_change(current, status):
        log.info("project.status_unchanged", project_id=project_id, status=status.value)
        return _project(row, _history(session, project_id))
    now = _now()
    row.status = status.value
    row.version += 1
    row.updated_at = now
    session.add(row)
    data: dict[str, Any] = {"from": current.value, "to": status.value}
    if comment:
        data["comment"] = comment
    _add_history(session, project_id, at=now, actor=actor_id, event=event or status.value, data=data)
    session.flush()
    log.info("project.status_changed", project_id=project_id, old=current.value, new=status.value, actor=actor_id)
    return _project(row, _history(session, project_id))
