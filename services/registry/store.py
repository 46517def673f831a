"""Persistence of the registry: keyword-only functions over a ``Session`` (the caller owns the
transaction, usually ``run_once``), returning domain objects and raising DomainErrors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from baobei.core.blobs import BlobStore
from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, Unauthenticated, ValidationFailed
from services.registry import access, domain, forms, uscc
from services.registry.directory.index import index_users
from services.registry.domain import (
    ADMIN_ROLE,
    ConflictHit,
    Customer,
    Department,
    HistoryEntry,
    Project,
    ProjectInput,
    Protection,
    ProtectionInfo,
    Status,
    User,
    Viewer,
)
from services.registry.forms import FormDef, FormField, FormRule, FormSettings
from services.registry.models import (
    AccessTokenRow,
    AttachmentLinkRow,
    AttachmentRow,
    CustomerClaimRow,
    DepartmentRow,
    FormVersionRow,
    ProjectHistoryRow,
    ProjectRow,
    ProjectSequenceRow,
    UserRow,
)
from services.registry.names import block_key, normalise_name

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
        roles=tuple(row.roles or ()), region=row.region, left=bool(row.left),
    )


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
    existing = {r.id: _user(r) for r in rows}
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
    left = sorted(u.id for u in guarded.users if u.left)
    if left:
        # A departed user's tokens are revoked for good (a re-hire gets new ones).
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
    # A role search finds who may act (routing, recipients): users who left are not among them.
    return [u for u in users if role in u.roles and not u.left] if role else users


def _left_ids(session: Session) -> set[str]:
    return {str(r) for r in session.exec(select(UserRow.id).where(col(UserRow.left).is_(True))).all()}


def manager_chain(*, session: Session, user_id: str) -> list[tuple[str, str]]:
    """The user's manager chain, walking past managers who left."""
    user = get_user(session=session, user_id=user_id)
    return domain.manager_chain(user, departments(session=session), _left_ids(session))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(row: AccessTokenRow) -> access.AccessToken:
    return access.AccessToken(
        id=row.id, user_id=row.user_id, name=row.name, scopes=tuple(row.scopes or ()), created_at=utc(row.created_at),
        expires_at=utc(row.expires_at), last_used_at=utc(row.last_used_at) if row.last_used_at else None,
        revoked_at=utc(row.revoked_at) if row.revoked_at else None,
    )


def issue_token(
    *, session: Session, user_id: str, spec: access.TokenSpec, now: datetime | None = None
) -> tuple[str, access.AccessToken]:
    """A new token and its record; only the token's SHA-256 is stored."""
    if get_user(session=session, user_id=user_id).left:
        raise Conflict(f"用户 {user_id} 已离职", f"user {user_id} has left", code="user_left")
    at = now or _now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AccessTokenRow(
        token_hash=_hash(token), id=uuid.uuid4().hex, user_id=user_id, name=spec.name, scopes=list(spec.scopes),
        created_at=at, expires_at=at + timedelta(days=spec.expires_in_days),
    )
    session.add(row)
    session.flush()
    log.info("token.issued", user_id=user_id, token_id=row.id, scopes=list(spec.scopes), expires_at=row.expires_at)
    return token, _token(row)


def _refused(code: str, zh: str, en: str) -> Unauthenticated:
    return Unauthenticated(zh, en, code=code)


def authenticate(*, session: Session, token: str, now: datetime | None = None) -> tuple[User, access.AccessToken]:
    """The user and token record of a live token (not revoked, not expired, user not left).
    Records the use at most once a minute (the caller commits)."""
    at = now or _now()
    row = session.get(AccessTokenRow, _hash(token.strip())) if token.strip() else None
    user = find_user(session=session, user_id=row.user_id) if row else None
    if row is None or user is None:
        raise Unauthenticated()
    record = _token(row)
    if record.revoked_at is not None:
        log.info("token.refused_revoked", user_id=user.id, token_id=record.id)
        raise _refused("token_revoked", "令牌已撤销", "the token has been revoked")
    if record.expired(at):
        log.info("token.refused_expired", user_id=user.id, token_id=record.id)
        raise _refused("token_expired", "令牌已过期", "the token has expired")
    if user.left:
        log.info("token.refused_left", user_id=user.id)
        raise Unauthenticated("用户已离职，令牌失效", "the user has left: the token is no longer valid")
    if access.needs_touch(record.last_used_at, at):
        # Conditional, so concurrent uses within the minute write once.
        session.execute(
            sa.update(AccessTokenRow)
            .where(col(AccessTokenRow.token_hash) == row.token_hash,
                   sa.or_(col(AccessTokenRow.last_used_at).is_(None),
                          col(AccessTokenRow.last_used_at) <= at - access.TOUCH_EVERY))
            .values(last_used_at=at)
            .execution_options(synchronize_session=False)
        )
        record = replace(record, last_used_at=at)
    return user, record


def list_tokens(*, session: Session, user_id: str) -> list[access.AccessToken]:
    """The user's tokens that are not revoked (expired ones included: they show when), newest first."""
    get_user(session=session, user_id=user_id)
    rows = session.exec(
        select(AccessTokenRow)
        .where(AccessTokenRow.user_id == user_id, col(AccessTokenRow.revoked_at).is_(None))
        .order_by(col(AccessTokenRow.created_at).desc(), col(AccessTokenRow.id))
    ).all()
    return [_token(r) for r in rows]


def revoke_token(*, session: Session, user_id: str, token_id: str, now: datetime | None = None) -> access.AccessToken:
    row = session.exec(
        select(AccessTokenRow).where(AccessTokenRow.id == token_id.strip(), AccessTokenRow.user_id == user_id)
    ).first() if access.is_token_id(token_id.strip()) else None
    if row is None:
        raise NotFound(f"令牌 {token_id} 不存在", f"token {token_id} not found", code="token_not_found")
    if row.revoked_at is None:
        row.revoked_at = now or _now()
        session.add(row)
        session.flush()
        log.info("token.revoked", user_id=user_id, token_id=row.id)
    return _token(row)


# ---------- forms ----------


def _form(row: FormVersionRow) -> FormDef:
    return FormDef(
        key=row.key, title=row.title, version=row.version, created_at=utc(row.created_at),
        fields=tuple(FormField.from_json(f) for f in row.fields),
        settings=FormSettings.from_json(row.settings), rules=tuple(FormRule.from_json(r) for r in row.rules or []),
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


def put_form(
    *, session: Session, key: str, title: str, fields: list[FormField], settings: FormSettings | None = None,
    rules: list[FormRule] | None = None,
) -> tuple[FormDef, bool]:
    """Store a new version when the definition differs from the latest; (form, created)."""
    settings = settings or FormSettings()
    violations = forms.validate_form(key, title, fields, settings, rules or [])
    if violations:
        raise ValidationFailed(violations)
    new = FormDef(key=key, title=title.strip(), fields=tuple(fields), settings=settings, rules=tuple(rules or []))
    if session.get_bind().dialect.name == "postgresql":
        # Serialise concurrent PUTs of one form (SQLite already holds the database write lock).
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"registry.form:{key}"})
    latest = find_form(session=session, key=key)
    if latest is not None and latest.definition() == new.definition():
        return latest, False
    version = (latest.version if latest else 0) + 1
    row = FormVersionRow(
        key=key, version=version, title=new.title, fields=[f.as_json() for f in fields], created_at=_now(),
        settings=settings.as_json(), rules=[r.as_json() for r in new.rules],
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
        external_source=row.external_source or "", external_id=row.external_id or "",
        protection=ProtectionInfo(
            state=Protection(row.protection_state or ""),
            since=utc(row.protected_since) if row.protected_since else None,
            until=utc(row.protected_until) if row.protected_until else None,
            cap=utc(row.protection_cap) if row.protection_cap else None,
            follow_ups=row.follow_ups or 0,
        ),
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


# Similar-name candidates scored per lookup (a bucket larger than this keeps its newest).
SIMILAR_CANDIDATES = 500


def _conflicts(session: Session, project_id: str, customer: Customer, project_name: str = "") -> list[ConflictHit]:
    """Live registrations colliding with ``customer``: exact USCC or normalised name through their
    indexes, plus the similar-name candidates sharing the name's blocking key."""
    norm = normalise_name(customer.name)
    match: list[sa.ColumnElement[bool]] = []
    if customer.uscc:
        match.append(col(ProjectRow.customer_uscc) == customer.uscc)
    if norm:
        match.append(col(ProjectRow.customer_name_norm) == norm)
    if not match:
        return []
    live = col(ProjectRow.status).not_in([s.value for s in domain.NOT_LIVE])
    cols = (col(ProjectRow.id), col(ProjectRow.status), col(ProjectRow.customer_uscc),
            col(ProjectRow.customer_name_norm), col(ProjectRow.name), col(ProjectRow.created_at))
    rows = list(session.execute(
        sa.select(*cols).where(sa.or_(*match)).where(col(ProjectRow.id) != project_id).where(live)
    ).all())
    if len(norm) >= 4:
        seen = {r[0] for r in rows}
        similar = session.execute(
            sa.select(*cols).where(col(ProjectRow.customer_name_key) == block_key(norm))
            .where(col(ProjectRow.id) != project_id).where(live)
            .order_by(col(ProjectRow.created_at).desc()).limit(SIMILAR_CANDIDATES)
        ).all()
        rows.extend(r for r in similar if r[0] not in seen)
    rows.sort(key=lambda r: (utc(r[5]), r[0]))
    others = [
        domain.Registration(id=r[0], status=Status(r[1]), customer_uscc=r[2], customer_name_norm=r[3], name=r[4])
        for r in rows
    ]
    return domain.find_conflicts(project_id, customer, others, project_name=project_name)


@dataclass(frozen=True)
class ConflictCheck:
    """What a registration for a customer would collide with now: (hit, code or "" when the
    viewer may not see that project), and the form's conflict policy."""

    matches: list[tuple[ConflictHit, str]]
    conflict_policy: str


def check_conflicts(
    *, session: Session, viewer: Viewer | None, form_key: str, customer: Customer, project_name: str = "",
    project_id: str = "",
) -> ConflictCheck:
    """The collisions create and submit would record (``_conflicts``, the same rules), storing
    nothing. ``project_id`` (the draft being edited) is left out. A USCC that is not a valid code
    yet (still being typed) is ignored rather than refused."""
    form = get_form(session=session, key=form_key.strip())
    code = uscc.normalise(customer.uscc) if uscc.is_valid(customer.uscc) else ""
    probe = Customer(name=customer.name.strip(), uscc=code)
    hits = _conflicts(session, project_id.strip() or "-", probe, project_name.strip())
    vis = _Visibility(session, viewer)
    matches: list[tuple[ConflictHit, str]] = []
    for hit in hits:
        row = session.get(ProjectRow, hit.project_id)
        visible = row is not None and domain.can_see(viewer, _project(row), vis.managed)
        matches.append((hit, row.code if row is not None and visible else ""))
    return ConflictCheck(matches=matches, conflict_policy=form.settings.conflict_policy or "warn")


def _refuse_blocked(form: FormDef, conflicts: list[ConflictHit]) -> None:
    err = domain.blocks(form.settings.conflict_policy, conflicts)
    if err is not None:
        err.violations = [FieldViolation("customer.name", f"{c.project_id}：{c.reason}", f"{c.project_id}: {c.reason}")
                          for c in conflicts]
        raise err


def attachment_info(*, session: Session, attachment_id: str) -> tuple[str, str, int] | None:
    row = session.get(AttachmentRow, attachment_id) if attachment_id else None
    return (row.filename, row.content_type, row.size) if row else None


def _conflicts_json(hits: list[ConflictHit]) -> list[dict[str, str]]:
    return [{"project_id": h.project_id, "reason": h.reason} for h in hits]


def find_external(*, session: Session, source: str, external_id: str) -> Project | None:
    """The project registered under an integration key, with its history (internal view)."""
    row = session.exec(
        select(ProjectRow).where(ProjectRow.external_source == source, ProjectRow.external_id == external_id)
    ).first()
    return _project(row, _history(session, row.id)) if row is not None else None


def create_project(*, session: Session, inp: ProjectInput) -> Project:
    nul = domain.control_violations(inp) + domain.external_key_violations(inp.external_source, inp.external_id)
    if nul:
        raise ValidationFailed(nul)
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
        attachment=lambda aid: attachment_info(session=session, attachment_id=aid),
    )
    if valid is None or form is None:
        raise ValidationFailed(violations)
    now = _now()
    project_id = uuid.uuid4().hex
    conflicts = _conflicts(session, project_id, valid.customer, valid.name)
    _refuse_blocked(form, conflicts)
    code = next_code(session=session, at=now)
    row = ProjectRow(
        id=project_id, code=code, status=Status.DRAFT.value, name=valid.name,
        customer_name=valid.customer.name, customer_name_norm=normalise_name(valid.customer.name),
        customer_name_key=block_key(normalise_name(valid.customer.name)),
        customer_uscc=valid.customer.uscc, customer_contact=valid.customer.contact,
        customer_phone=valid.customer.phone, amount=str(valid.amount), region=valid.region,
        business_line=valid.business_line, start_date=valid.start_date, end_date=valid.end_date,
        fields=valid.fields, form_key=form.key, form_version=form.version, owner_id=inp.owner_id,
        department_id=owner.department_id if owner else "", conflicts=_conflicts_json(conflicts), version=1,
        created_at=now, updated_at=now,
        external_source=inp.external_source or None, external_id=inp.external_id or None,
    )
    session.add(row)
    _add_history(
        session, project_id, at=now, actor=inp.owner_id, event="created",
        data={"to": Status.DRAFT.value, "conflicts": len(conflicts)},
    )
    session.flush()
    log.info("project.created", project_id=project_id, code=code, form_key=form.key, conflicts=len(conflicts),
             external_source=inp.external_source, external_id=inp.external_id)
    return _project(row, _history(session, project_id))


class _Visibility:
    """Per-request cache of what a viewer may see (managed departments, form versions)."""

    def __init__(self, session: Session, viewer: Viewer | None) -> None:
        self.session, self.viewer = session, viewer
        self._forms: dict[tuple[str, int], FormDef | None] = {}
        self._core_hidden: list[tuple[str, int, set[str]]] | None = None
        self.managed: set[str] = set()
        if viewer is not None and not viewer.admin:
            self.managed = domain.managed_departments(viewer.user_id, departments(session=session))

    def readable_clause(self, path: str) -> sa.ColumnElement[bool] | None:
        """SQL: the viewer may read core ``path`` of the row (None when they may everywhere), so
        a filter or search on a value they may not read never matches (no guessing by query)."""
        if self.viewer is None or self.viewer.admin:
            return None
        if self._core_hidden is None:  # (form key, version, hidden core paths), read once per request
            roles = set(self.viewer.roles)
            self._core_hidden = [(row.key, row.version, FormSettings.from_json(row.settings).core_hidden(roles))
                                 for row in self.session.exec(select(FormVersionRow)).all()
                                 if (row.settings or {}).get("core_fields")]
        restricted: dict[str, list[int]] = {}
        for key, version, hidden in self._core_hidden:
            if path in hidden:
                restricted.setdefault(key, []).append(version)
        if not restricted:
            return None
        return sa.or_(
            col(ProjectRow.owner_id) == self.viewer.user_id,
            sa.not_(sa.or_(*(sa.and_(col(ProjectRow.form_key) == k, col(ProjectRow.form_version).in_(vs))
                             for k, vs in restricted.items()))),
        )

    def form(self, key: str, version: int) -> FormDef | None:
        if (key, version) not in self._forms:
            self._forms[(key, version)] = find_form(session=self.session, key=key, version=version)
        return self._forms[(key, version)]

    def shape(self, project: Project) -> Project:
        """The project as this viewer may read it: restricted fields and core values withheld,
        also from history (the form says what is restricted, so a cleared value stays hidden)."""
        form = self.form(project.form_key, project.form_version) if self.viewer is not None else None
        return domain.redact(project, domain.hidden_paths(self.viewer, project, form))


def get_project(*, session: Session, project_id: str, viewer: Viewer | None) -> Project:
    """A project by id, or by integration key given as "ext:<source>:<external_id>"."""
    return get_project_for(session=session, project_id=project_id, viewer=viewer)[0]


def get_project_for(*, session: Session, project_id: str, viewer: Viewer | None) -> tuple[Project, list[str]]:
    """The project as the viewer may see it, and why they may (``domain.relations``)."""
    external = domain.parse_external_ref(project_id)
    if external is not None:
        row = session.exec(
            select(ProjectRow).where(ProjectRow.external_source == external[0], ProjectRow.external_id == external[1])
        ).first()
        if row is None:
            raise _project_not_found(project_id)
        project_id = row.id
    else:
        row = session.get(ProjectRow, project_id) if project_id else None
    if row is None:
        raise _project_not_found(project_id)
    vis = _Visibility(session, viewer)
    project = _project(row)
    if not domain.can_see(viewer, project, vis.managed):
        raise _project_not_found(project_id)
    relations = domain.relations(viewer, project, vis.managed)
    project.history = _history(session, project_id)
    waitlist_position(session=session, project=project, claim_key=row.claim_key, seq=row.waitlist_seq)
    return vis.shape(project), relations


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


@dataclass(frozen=True)
class ProjectFilter:
    owner_id: str = ""
    department_id: str = ""
    region: str = ""
    business_line: str = ""
    customer: str = ""
    amount_min: str = ""
    amount_max: str = ""
    created_from: str = ""
    created_to: str = ""
    form_key: str = ""


def _readable(clause: sa.ColumnElement[bool], vis: _Visibility, path: str) -> sa.ColumnElement[bool]:
    may = vis.readable_clause(path)
    return clause if may is None else sa.and_(clause, may)


def _filter_clauses(f: ProjectFilter, vis: _Visibility) -> list[sa.ColumnElement[bool]]:
    """SQL conditions of ``f``; 422 with every bad parameter at once. A condition on a core value
    matches only rows where the viewer may read that value."""
    out: list[sa.ColumnElement[bool]] = []
    bad = [FieldViolation(name, "不能包含 NUL 字符", "must not contain NUL characters")
           for name, value in vars(f).items() if "\x00" in value]
    if bad:
        raise ValidationFailed(bad)
    for name, column in (("owner_id", ProjectRow.owner_id), ("department_id", ProjectRow.department_id),
                         ("region", ProjectRow.region), ("business_line", ProjectRow.business_line),
                         ("form_key", ProjectRow.form_key)):
        value = getattr(f, name).strip()
        if value:
            out.append(_readable(col(column) == value, vis, name))
    if f.customer.strip():
        norm = normalise_name(f.customer)
        like = sa.func.lower(col(ProjectRow.customer_name)).like(_like(f.customer.strip()), escape="\\")
        out.append(sa.or_(
            _readable(sa.or_(like, col(ProjectRow.customer_name_norm) == norm), vis, "customer.name"),
            _readable(col(ProjectRow.customer_uscc) == f.customer.strip().upper(), vis, "customer.uscc"),
        ))
    # Amounts are stored as text: compare numerically (CAST to NUMERIC works on SQLite and PostgreSQL).
    amount = sa.cast(col(ProjectRow.amount), sa.Numeric(18, 2))
    for name, op in (("amount_min", amount.__ge__), ("amount_max", amount.__le__)):
        text = getattr(f, name).strip()
        if text:
            d = forms.parse_decimal(text)
            if d is None:
                bad.append(FieldViolation(name, "金额必须是数字", "must be a decimal number"))
            else:
                out.append(_readable(op(d), vis, "amount"))
    for name in ("created_from", "created_to"):
        text = getattr(f, name).strip()
        if text:
            day = forms.parse_date(text)
            if day is None:
                bad.append(FieldViolation(name, "日期格式必须是 YYYY-MM-DD", "date must be YYYY-MM-DD"))
                continue
            # Days are calendar days in Asia/Shanghai, inclusive.
            start = datetime(day.year, day.month, day.day, tzinfo=CODE_ZONE)
            if name == "created_from":
                out.append(col(ProjectRow.created_at) >= start.astimezone(UTC))
            else:
                out.append(col(ProjectRow.created_at) < (start + timedelta(days=1)).astimezone(UTC))
    if bad:
        raise ValidationFailed(bad)
    return out


def list_projects(
    *, session: Session, viewer: Viewer | None, status: Status | None, q: str, limit: int, cursor: str,
    filters: ProjectFilter | None = None,
) -> tuple[list[Project], str]:
    """Newest first, keyset-paged on (created_at, id); next cursor "" on the last page."""
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    if "\x00" in q:
        raise ValidationFailed([FieldViolation("q", "不能包含 NUL 字符", "must not contain NUL characters")])
    vis = _Visibility(session, viewer)
    clauses = _filter_clauses(filters or ProjectFilter(), vis)
    stmt = select(ProjectRow)
    if viewer is not None and not viewer.admin:
        may: list[sa.ColumnElement[bool]] = []
        if viewer.user_id:
            may.append(col(ProjectRow.owner_id) == viewer.user_id)
        if viewer.approver_project_ids:
            may.append(col(ProjectRow.id).in_(sorted(viewer.approver_project_ids)))
        if viewer.assignee_project_ids:
            may.append(col(ProjectRow.id).in_(sorted(viewer.assignee_project_ids)))
        if vis.managed:
            may.append(col(ProjectRow.department_id).in_(sorted(vis.managed)))
        if not may:
            return [], ""
        stmt = stmt.where(sa.or_(*may))
    if status is not None:
        stmt = stmt.where(ProjectRow.status == status.value)
    for clause in clauses:
        stmt = stmt.where(clause)
    if q.strip():
        pattern = _like(q.strip())
        stmt = stmt.where(
            sa.or_(
                *(sa.func.lower(c).like(pattern, escape="\\") for c in (col(ProjectRow.code), col(ProjectRow.name))),
                _readable(sa.func.lower(col(ProjectRow.customer_name)).like(pattern, escape="\\"), vis,
                          "customer.name"),
            )
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
    conflicts = _conflicts(session, project_id, customer, row.name)
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    if form is not None:
        _refuse_blocked(form, conflicts)
    now = _now()
    if form is not None and form.settings.protection_days:
        _join_claim(session, row, now)
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
    *, session: Session, project_id: str, status: Status, actor_id: str, event: str, comment: str,
    promoted: list[tuple[str, Status]] | None = None,
) -> Project:
    """``promoted`` (out): waitlisted projects that took over the customer because this change
    released it (rejected, cancelled or closed holder)."""
    row = _lock(session, project_id)
    current = Status(row.status)
    if not domain.check_status_change(current, status):
        log.info("project.status_unchanged", project_id=project_id, status=status.value)
        return _project(row, _history(session, project_id))
    now = _now()
    if not domain.is_live(status) or status is Status.CLOSED:
        out = _leave_claim(session, row, Protection.RELEASED, now, actor_id)
        if promoted is not None:
            promoted.extend(out)
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


# ---------- protection (保护期) and waitlist (候补) ----------


def _lock_claim(session: Session, key: str) -> CustomerClaimRow:
    """The customer's claim row, created if missing, locked for this transaction (SQLite: the
    database write lock taken by BEGIN IMMEDIATE)."""
    table = CustomerClaimRow.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(key=key, holder_project_id="", next_seq=0).on_conflict_do_nothing())
    claim = session.exec(select(CustomerClaimRow).where(CustomerClaimRow.key == key).with_for_update()).one()
    return claim


def _holds(session: Session, claim: CustomerClaimRow) -> bool:
    """Whether the claim's holder still holds it (live and holder/protected)."""
    if not claim.holder_project_id:
        return False
    holder = session.get(ProjectRow, claim.holder_project_id)
    return holder is not None and domain.is_live(Status(holder.status)) and holder.protection_state in (
        Protection.HOLDER.value, Protection.PROTECTED.value)


def _join_claim(session: Session, row: ProjectRow, now: datetime) -> None:
    """On submit: the first live registration of a customer becomes its holder; later ones queue
    (候补) in the order their submissions commit."""
    if row.protection_state in (Protection.HOLDER.value, Protection.PROTECTED.value, Protection.WAITLISTED.value):
        return  # a resubmission keeps its place
    key = row.customer_name_norm
    claim = _lock_claim(session, key)
    row.claim_key = key
    if claim.holder_project_id == row.id or not _holds(session, claim):
        claim.holder_project_id = row.id
        row.protection_state, row.waitlist_seq = Protection.HOLDER.value, None
        event, data = "protection.holder", {}
    else:
        claim.next_seq += 1
        row.protection_state, row.waitlist_seq = Protection.WAITLISTED.value, claim.next_seq
        event, data = "protection.waitlisted", {"behind": claim.holder_project_id, "seq": claim.next_seq}
    session.add(claim)
    _add_history(session, row.id, at=now, actor="", event=event, data=data)
    log.info(event, project_id=row.id, claim=key, **data)


def _form_settings(session: Session, row: ProjectRow) -> FormSettings:
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    return form.settings if form else FormSettings()


def _protect(session: Session, row: ProjectRow, at: datetime, actor: str) -> None:
    settings = _form_settings(session, row)
    until, cap = domain.protection_window(settings, at)
    row.protection_state = Protection.PROTECTED.value
    row.protected_since, row.protected_until, row.protection_cap = at, until, cap
    # History is ordered by wall-clock time; ``at`` (workflow time) is what the timers use.
    _add_history(session, row.id, at=_now(), actor=actor, event="protection.started",
                 data={"until": until.isoformat(), "cap": cap.isoformat()})
    log.info("protection.started", project_id=row.id, until=until.isoformat())


def _leave_claim(
    session: Session, row: ProjectRow, state: Protection, now: datetime, actor: str
) -> list[tuple[str, Status]]:
    """``row`` leaves its customer's line (lapsed / released); when it was the holder, the first
    waitlisted live registration takes over (protected at once when already active)."""
    if not row.claim_key or row.protection_state not in (
        Protection.HOLDER.value, Protection.PROTECTED.value, Protection.WAITLISTED.value
    ):
        return []
    claim = _lock_claim(session, row.claim_key)
    was_holder = claim.holder_project_id == row.id
    row.protection_state, row.waitlist_seq = state.value, None
    session.add(row)
    _add_history(session, row.id, at=_now(), actor=actor, event=f"protection.{state.value}", data={})
    if not was_holder:
        return []
    nxt = session.exec(
        select(ProjectRow).where(ProjectRow.claim_key == row.claim_key)
        .where(ProjectRow.protection_state == Protection.WAITLISTED.value)
        .where(col(ProjectRow.status).not_in([s.value for s in domain.NOT_LIVE]))
        .where(ProjectRow.id != row.id)
        .order_by(col(ProjectRow.waitlist_seq)).limit(1).with_for_update()
    ).first()
    claim.holder_project_id = nxt.id if nxt else ""
    session.add(claim)
    if nxt is None:
        return []
    nxt.waitlist_seq = None
    _add_history(session, nxt.id, at=_now(), actor=actor, event="protection.promoted", data={"after": row.id})
    if Status(nxt.status) is Status.ACTIVE:
        _protect(session, nxt, now, actor)
    else:
        nxt.protection_state = Protection.HOLDER.value
    session.add(nxt)
    log.info("protection.promoted", project_id=nxt.id, after=row.id, status=nxt.status)
    return [(nxt.id, Status(nxt.status))]


def waitlist_position(*, session: Session, project: Project, claim_key: str, seq: int | None) -> None:
    """Fill in ``project.protection`` position (1-based among live waitlisted) and holder."""
    if not claim_key:
        return
    claim = session.get(CustomerClaimRow, claim_key)
    project.protection.holder_project_id = claim.holder_project_id if claim else ""
    if project.protection.state is Protection.WAITLISTED and seq is not None:
        ahead = session.execute(
            select(sa.func.count()).select_from(ProjectRow).where(ProjectRow.claim_key == claim_key)
            .where(ProjectRow.protection_state == Protection.WAITLISTED.value)
            .where(col(ProjectRow.status).not_in([s.value for s in domain.NOT_LIVE]))
            .where(col(ProjectRow.waitlist_seq) < seq)
        ).scalar_one()
        project.protection.position = int(ahead) + 1


@dataclass
class ProtectionState:
    project: Project
    remind_at: datetime | None
    promoted: list[tuple[str, Status]]


def _protection_state(session: Session, row: ProjectRow, promoted: list[tuple[str, Status]]) -> ProtectionState:
    project = _project(row)
    waitlist_position(session=session, project=project, claim_key=row.claim_key, seq=row.waitlist_seq)
    settings = _form_settings(session, row)
    until = project.protection.until
    remind = domain.remind_at(settings, until) if until and project.protection.state is Protection.PROTECTED else None
    return ProtectionState(project=project, remind_at=remind, promoted=promoted)


def start_protection(*, session: Session, project_id: str, at: datetime) -> ProtectionState:
    """On approval: the holder's protection starts now; a waitlisted project keeps waiting; a form
    without protection or a project outside any line gets none. Repeats change nothing."""
    row = _lock(session, project_id)
    if Status(row.status) is Status.ACTIVE and row.protection_state == Protection.HOLDER.value:
        _protect(session, row, at, "")
        session.add(row)
        session.flush()
    return _protection_state(session, row, [])


def expire_protection(*, session: Session, project_id: str, at: datetime) -> ProtectionState:
    """Timer fired: lapse the protection when ``at`` is not before its end (a follow-up may have
    moved the end later: then nothing changes) and promote the next waitlisted registration."""
    row = _lock(session, project_id)
    promoted: list[tuple[str, Status]] = []
    until = utc(row.protected_until) if row.protected_until else None
    if row.protection_state == Protection.PROTECTED.value and until is not None and utc(at) >= until:
        promoted = _leave_claim(session, row, Protection.LAPSED, at, "")
        row.updated_at = _now()
        session.add(row)
        session.flush()
        log.info("protection.lapsed", project_id=project_id, promoted=[p for p, _ in promoted])
    return _protection_state(session, row, promoted)


def record_follow_up(*, session: Session, project_id: str, actor_id: str, actor_is_admin: bool, note: str) -> Project:
    row = _lock(session, project_id)
    if not actor_is_admin and actor_id != row.owner_id:
        raise Forbidden("只有项目所有者可以记录跟进", "only the project owner may record follow-ups", code="not_owner")
    if not note.strip():
        raise ValidationFailed([FieldViolation("note", "跟进内容为必填项", "note is required")])
    now = _now()
    data: dict[str, Any] = {"note": note.strip()[:2000]}
    if row.protection_state == Protection.PROTECTED.value and row.protected_until and row.protection_cap:
        settings = _form_settings(session, row)
        before = utc(row.protected_until)
        after = domain.extended_until(settings, before, utc(row.protection_cap), now)
        row.protected_until = after
        data.update({"until_before": before.isoformat(), "until": after.isoformat()})
    row.follow_ups = (row.follow_ups or 0) + 1
    row.version += 1
    row.updated_at = now
    session.add(row)
    _add_history(session, project_id, at=now, actor=actor_id, event="follow_up", data=data)
    session.flush()
    log.info("project.follow_up", project_id=project_id, actor=actor_id, until=data.get("until"))
    return _with_protection(session, row)


def _with_protection(session: Session, row: ProjectRow) -> Project:
    project = _project(row, _history(session, row.id))
    waitlist_position(session=session, project=project, claim_key=row.claim_key, seq=row.waitlist_seq)
    return project


# ---------- editing ----------

EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
_CORE_KEYS = ("name", "amount", "region", "business_line", "start_date", "end_date")
_CUSTOMER_KEYS = ("name", "uscc", "contact", "phone")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _snapshot(row: ProjectRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": row.name, "amount": row.amount, "region": row.region, "business_line": row.business_line,
        "start_date": row.start_date.isoformat() if row.start_date else "",
        "end_date": row.end_date.isoformat() if row.end_date else "",
    }
    out.update({f"customer.{k}": v for k, v in (("name", row.customer_name), ("uscc", row.customer_uscc),
                                                  ("contact", row.customer_contact), ("phone", row.customer_phone))})
    out.update({f"fields.{k}": v for k, v in (row.fields or {}).items()})
    return out


def update_project(
    *, session: Session, project_id: str, actor_id: str, actor_is_admin: bool, actor_roles: set[str],
    expected_version: int, changes: dict[str, Any],
) -> Project:
    """Edit a draft or returned project (owner or admin). ``expected_version`` must be the current
    version (else 409 stale_version); the whole project is validated again against the form
    version it was filed with; history records each changed path with before and after."""
    row = _lock(session, project_id)
    if not actor_is_admin and actor_id != row.owner_id:
        raise Forbidden("只有项目所有者可以修改", "only the project owner may edit it", code="not_owner")
    if expected_version != row.version:
        raise domain.Conflict(
            f"项目已被修改（当前版本 {row.version}），请刷新后重试",
            f"the project was changed meanwhile (current version {row.version}); reload and retry",
            code="stale_version",
        )
    if Status(row.status) not in EDITABLE:
        raise domain.Conflict("只有草稿或退回的项目可以修改", "only draft or returned projects can be edited",
                              code="not_editable")
    unknown = [k for k in changes if k not in (*_CORE_KEYS, "customer", "fields")]
    bad_shape = [k for k in ("customer", "fields") if k in changes and not isinstance(changes[k], dict | None)]
    if unknown or bad_shape:
        raise ValidationFailed([FieldViolation(k, f"不能修改 {k}", f"{k} cannot be changed") for k in unknown]
                               + [FieldViolation(k, "必须是对象", "must be an object") for k in bad_shape])
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    field_changes = dict(changes.get("fields") or {})
    if form is not None and not actor_is_admin and ADMIN_ROLE not in actor_roles:
        denied = forms.written_forbidden(form, {k: v for k, v in field_changes.items() if v is not None}, actor_roles)
        cleared = [k for k, v in field_changes.items() if v is None and (f := form.field(k)) is not None
                   and f.write_roles and not actor_roles.intersection(f.write_roles)]
        denied += [FieldViolation(f"fields.{k}", f"无权修改字段 {k}", f"not allowed to change field {k}")
                   for k in cleared]
        if denied:
            raise Forbidden("无权修改以下字段", "not allowed to change these fields", violations=denied)
    customer = {"name": row.customer_name, "uscc": row.customer_uscc, "contact": row.customer_contact,
                "phone": row.customer_phone}
    customer.update({k: _text(v) for k, v in (changes.get("customer") or {}).items() if k in _CUSTOMER_KEYS})
    values = dict(row.fields or {})
    for k, v in field_changes.items():
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v
    core = _snapshot(row)
    core.update({k: _text(changes[k]) for k in _CORE_KEYS if k in changes})
    inp = ProjectInput(
        owner_id=row.owner_id, form_key=row.form_key, name=core["name"], customer=Customer(**customer),
        amount=core["amount"], region=core["region"], business_line=core["business_line"],
        start_date=core["start_date"], end_date=core["end_date"], fields=values,
    )
    valid, violations = domain.validate_project(
        inp, form,
        user_exists=lambda uid: session.get(UserRow, uid) is not None,
        department_exists=lambda did: session.get(DepartmentRow, did) is not None,
        attachment=lambda aid: attachment_info(session=session, attachment_id=aid),
    )
    if valid is None:
        raise ValidationFailed(violations)
    before = _snapshot(row)
    row.name, row.amount, row.region, row.business_line = valid.name, str(valid.amount), valid.region, \
        valid.business_line
    row.start_date, row.end_date, row.fields = valid.start_date, valid.end_date, valid.fields
    row.customer_name, row.customer_uscc = valid.customer.name, valid.customer.uscc
    row.customer_contact, row.customer_phone = valid.customer.contact, valid.customer.phone
    row.customer_name_norm = normalise_name(valid.customer.name)
    row.customer_name_key = block_key(row.customer_name_norm)
    after = _snapshot(row)
    diff = [{"field": k, "before": before.get(k), "after": after.get(k)}
            for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    if not diff:
        return _with_protection(session, row)
    conflicts = _conflicts(session, project_id, valid.customer, valid.name)
    if form is not None:
        _refuse_blocked(form, conflicts)
    now = _now()
    row.conflicts = _conflicts_json(conflicts)
    row.version += 1
    row.updated_at = now
    session.add(row)
    _add_history(session, project_id, at=now, actor=actor_id, event="edited",
                 data={"changes": diff, "version": row.version})
    session.flush()
    log.info("project.edited", project_id=project_id, actor=actor_id, changed=[d["field"] for d in diff])
    return _with_protection(session, row)


# ---------- attachments ----------

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ALLOWED_TYPES = (
    "application/pdf", "image/", "text/plain", "text/csv", "application/zip",
    "application/msword", "application/vnd.openxmlformats-officedocument.", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
)


def save_attachment(
    *, session: Session, blobs: BlobStore, filename: str, content_type: str, data: bytes, uploader_id: str
) -> AttachmentRow:
    """Content-addressed: the id is the SHA-256 of the bytes (``sha256:<hex>``, the blob store's
    key), so the same file uploaded twice is stored once. ``blobs`` is the blob store
    (``baobei.core.blobs``: files or S3)."""
    problems = []
    ctype = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not data:
        problems.append(FieldViolation("file", "文件为空", "the file is empty"))
    if len(data) > MAX_ATTACHMENT_BYTES:
        problems.append(FieldViolation("file", f"文件超过 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB",
                                       f"the file exceeds {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB"))
    if not any(ctype == t or (t.endswith(("/", ".")) and ctype.startswith(t)) for t in ALLOWED_TYPES):
        problems.append(FieldViolation("file", f"不支持的文件类型 {ctype}", f"unsupported file type {ctype}"))
    if problems:
        raise ValidationFailed(problems)
    att_id = blobs.put(data)
    row = session.get(AttachmentRow, att_id)
    if row is None:
        row = AttachmentRow(id=att_id, filename=(filename or "file")[:300], content_type=ctype, size=len(data),
                            uploader_id=uploader_id, created_at=_now())
        session.add(row)
        session.flush()
        log.info("attachment.stored", attachment_id=att_id, size=len(data), uploader=uploader_id)
    return row


# Projects examined for a reference to one attachment (content addressed: the same file may be in many).
ATTACHMENT_REFERENCE_SCAN = 200


def _references(value: Any, attachment_id: str) -> bool:
    if isinstance(value, list):
        return attachment_id in value
    return bool(value == attachment_id)


def get_attachment(*, session: Session, attachment_id: str, viewer: Viewer | None) -> AttachmentRow:
    """The attachment if the viewer may have it: internal callers and admins, its uploader, or a
    viewer who sees a project holding its id in a field they may read. Else NotFound, as for an
    unknown id (nothing says whether the file exists)."""
    row = session.get(AttachmentRow, attachment_id) if attachment_id else None
    if row is None:
        raise _attachment_not_found(attachment_id)
    if viewer is None or viewer.admin or (viewer.user_id and row.uploader_id == viewer.user_id):
        return row
    # The id is a SHA-256: a LIKE over the JSON text finds the candidates, the visibility and
    # read-permission rules of each project decide.
    digest = attachment_id.removeprefix("sha256:")
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise _attachment_not_found(attachment_id)
    vis = _Visibility(session, viewer)
    # Attachments of approval comments and decisions: whoever sees the project (owner, managers,
    # approvers, CC'd users) sees them.
    linked = session.exec(
        select(ProjectRow)
        .join(AttachmentLinkRow, col(AttachmentLinkRow.project_id) == col(ProjectRow.id))
        .where(col(AttachmentLinkRow.attachment_id) == attachment_id)
        .limit(ATTACHMENT_REFERENCE_SCAN)
    )
    if any(domain.can_see(viewer, _project(p), vis.managed) for p in linked):
        return row
    stmt = (
        select(ProjectRow)
        .where(sa.cast(ProjectRow.fields, sa.Text).like(f"%{digest}%"))
        .limit(ATTACHMENT_REFERENCE_SCAN)
    )
    for project_row in session.exec(stmt):
        project = _project(project_row)
        if not domain.can_see(viewer, project, vis.managed):
            continue
        shaped = vis.shape(project)
        if any(_references(v, attachment_id) for v in shaped.fields.values()):
            return row
    raise _attachment_not_found(attachment_id)


ATTACHMENT_LINK_KINDS = ("comment", "decision")


def link_attachments(
    *, session: Session, project_id: str, attachment_ids: list[str], viewer: Viewer | None, kind: str, now: datetime
) -> list[str]:
    """Record that the attachments are referenced on the project's approval (``kind`` comment or
    decision), so whoever may see the project may download them. The viewer must see the project
    (else NotFound), and each attachment must be one they may read or one the project's owner
    uploaded (an approver may point at the owner's file): any other (or an unknown id) is a
    validation error on ``attachments[<i>].url``, and nothing is linked. "" entries are external
    links, skipped. Linking again changes nothing."""
    if kind not in ATTACHMENT_LINK_KINDS:
        raise ValidationFailed([FieldViolation("kind", "须为 comment 或 decision", "must be comment or decision")])
    project_row = session.get(ProjectRow, project_id) if project_id else None
    vis = _Visibility(session, viewer)
    if project_row is None or not domain.can_see(viewer, _project(project_row), vis.managed):
        raise _project_not_found(project_id)
    problems: list[FieldViolation] = []
    linked: list[str] = []
    for i, raw in enumerate(attachment_ids):
        aid = raw.strip()
        if not aid:
            continue
        try:
            get_attachment(session=session, attachment_id=aid, viewer=viewer)
        except NotFound:
            found = session.get(AttachmentRow, aid)
            if found is not None and found.uploader_id and found.uploader_id == project_row.owner_id:
                if aid not in linked:
                    linked.append(aid)
                continue
            problems.append(FieldViolation(f"attachments[{i}].url", f"附件不存在或无权使用：{aid}",
                                           f"no such attachment, or not yours to share: {aid}"))
            continue
        if aid not in linked:
            linked.append(aid)
    if problems:
        raise ValidationFailed(problems)
    table = AttachmentLinkRow.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    actor = viewer.user_id if viewer is not None else ""
    for aid in linked:
        session.execute(
            insert(table)
            .values(attachment_id=aid, project_id=project_id, kind=kind, linked_by=actor, created_at=now)
            .on_conflict_do_nothing()
        )
    if linked:
        log.info("attachment.linked", project_id=project_id, attachments=len(linked), kind=kind, actor=actor)
    return linked


def _attachment_not_found(attachment_id: str) -> NotFound:
    return NotFound(f"附件不存在：{attachment_id}", f"no such attachment: {attachment_id}", code="attachment_not_found")


# ---------- Excel / CSV import ----------

IMPORT_STATUSES = {Status.DRAFT, Status.ACTIVE, Status.CLOSED}
STATUS_LABELS = {"草稿": Status.DRAFT, "进行中": Status.ACTIVE, "已生效": Status.ACTIVE, "已关闭": Status.CLOSED}


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    existing: int = 0
    invalid: int = 0
    errors: list[tuple[int, str, str, FieldViolation]] = field(default_factory=list)  # (row, column, path, v)
    project_ids: list[str] = field(default_factory=list)
    dry_run: bool = False


def _row_key(form_key: str, record: dict[str, Any]) -> str:
    key = str(record.get("row_key") or "").strip()
    if key:
        return f"{form_key}:{key}"[:200]
    # Without a key column the row's content is its key (re-importing the same sheet is a no-op).
    body = json.dumps({k: v for k, v in sorted(record.items())}, ensure_ascii=False, default=str)
    return f"{form_key}:#{hashlib.sha256(body.encode()).hexdigest()[:40]}"


def import_projects(
    *, session: Session, form_key: str, actor_id: str, data: bytes, filename: str, dry_run: bool, skip_invalid: bool,
) -> ImportResult:
    """Validate every row (all problems of all rows at once); unless ``dry_run``, store the valid
    ones — all-or-nothing by default (any bad row → 422 listing them), or skipping bad rows when
    ``skip_invalid``. Idempotent on the row key (a ``行键`` column, else the row's content)."""
    from services.registry import excel

    form = find_form(session=session, key=form_key.strip())
    if form is None:
        raise ValidationFailed(
            [FieldViolation("form_key", f"表单 {form_key} 不存在", f"form {form_key} does not exist")]
        )
    sheet, problems = excel.read_sheet(data, filename, form)
    if sheet is None:
        raise ValidationFailed(problems)
    header_of = {key: sheet.headers[i] for i, key in enumerate(sheet.columns) if key}
    result = ImportResult(rows=len(sheet.rows), dry_run=dry_run)
    ready: list[tuple[int, str, domain.ValidProject, str, Status]] = []
    seen_keys: set[str] = set()
    users: dict[str, User | None] = {}
    for n, record in sheet.rows:
        import_key = _row_key(form.key, record)
        if import_key in seen_keys or session.exec(
            select(ProjectRow.id).where(ProjectRow.import_key == import_key)
        ).first() is not None:
            result.existing += 1
            continue
        seen_keys.add(import_key)
        row_errors: list[FieldViolation] = []
        owner_id = str(record.get("owner_id") or actor_id).strip()
        if owner_id not in users:
            users[owner_id] = find_user(session=session, user_id=owner_id)
        if users[owner_id] is None:
            row_errors.append(FieldViolation("owner_id", f"用户 {owner_id} 不存在", f"unknown user {owner_id}"))
        status_text = str(record.get("status") or "active").strip()
        status = STATUS_LABELS.get(status_text) or next((s for s in Status if s.value == status_text.lower()), None)
        if status not in IMPORT_STATUSES:
            row_errors.append(FieldViolation("status", "状态只能是 draft、active 或 closed",
                                             "status must be draft, active or closed"))
        values = {k[7:]: excel.field_value(form, k[7:], v) for k, v in record.items() if k.startswith("fields.")}
        inp = ProjectInput(
            owner_id=owner_id, form_key=form.key, name=_text(record.get("name")),
            customer=Customer(name=_text(record.get("customer.name")), uscc=_text(record.get("customer.uscc")),
                              contact=_text(record.get("customer.contact")), phone=_text(record.get("customer.phone"))),
            amount=_text(record.get("amount")), region=_text(record.get("region")),
            business_line=_text(record.get("business_line")), start_date=_text(record.get("start_date")),
            end_date=_text(record.get("end_date")), fields={k: v for k, v in values.items() if v is not None},
        )
        valid, violations = domain.validate_project(
            inp, form,
            user_exists=lambda uid: session.get(UserRow, uid) is not None,
            department_exists=lambda did: session.get(DepartmentRow, did) is not None,
            attachment=lambda aid: attachment_info(session=session, attachment_id=aid),
        )
        row_errors.extend(violations)
        if row_errors or valid is None or status is None:
            result.invalid += 1
            for v in row_errors:
                result.errors.append((n, header_of.get(v.field, ""), v.field, v))
            continue
        ready.append((n, owner_id, valid, import_key, status))
    if result.errors and not skip_invalid and not dry_run:
        raise ValidationFailed(
            [FieldViolation(f"rows[{n}].{path}", f"第 {n} 行 {col_name or path}：{v.zh}",
                            f"row {n} {col_name or path}: {v.en or v.zh}")
             for n, col_name, path, v in result.errors],
            zh="导入数据有误，未导入任何行", en="the sheet has bad rows; nothing was imported",
        )
    if dry_run:
        result.created = len(ready)
        return result
    now = _now()
    for n, owner_id, valid, import_key, status in ready:
        project_id = uuid.uuid4().hex
        owner = users.get(owner_id)
        conflicts = _conflicts(session, project_id, valid.customer, valid.name)
        norm = normalise_name(valid.customer.name)
        session.add(ProjectRow(
            id=project_id, code=next_code(session=session, at=now), status=status.value, name=valid.name,
            customer_name=valid.customer.name, customer_name_norm=norm, customer_name_key=block_key(norm),
            customer_uscc=valid.customer.uscc, customer_contact=valid.customer.contact,
            customer_phone=valid.customer.phone, amount=str(valid.amount), region=valid.region,
            business_line=valid.business_line, start_date=valid.start_date, end_date=valid.end_date,
            fields=valid.fields, form_key=form.key, form_version=form.version, owner_id=owner_id,
            department_id=owner.department_id if owner else "", conflicts=_conflicts_json(conflicts), version=1,
            created_at=now, updated_at=now, import_key=import_key,
        ))
        _add_history(session, project_id, at=now, actor=actor_id, event="imported",
                     data={"to": status.value, "row": n, "conflicts": len(conflicts)})
        # Later rows of the same sheet see this one in their collision checks.
        session.flush()
        result.project_ids.append(project_id)
    result.created = len(ready)
    log.info("projects.imported", form_key=form.key, created=result.created, existing=result.existing,
             invalid=result.invalid, actor=actor_id)
    return result
