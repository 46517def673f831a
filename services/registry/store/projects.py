"""Registrations: filing, reading, submitting, status changes and edits. Codes come from a
per-year counter row; ``domain`` validates and decides the transitions."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from baobei.core.errors import FieldViolation, Forbidden, ValidationFailed
from services.registry import domain, forms
from services.registry.domain import (
    ADMIN_ROLE,
    HistoryEntry,
    Project,
    ProjectInput,
    Protection,
    Status,
    Viewer,
    editing,
)
from services.registry.domain import protection as protection_rules
from services.registry.domain.cells import Directory
from services.registry.forms import FormDef
from services.registry.models import DepartmentRow, ProjectRow, ProjectSequenceRow, UserRow
from services.registry.names import block_key, normalise_name
from services.registry.store.attachments import attachment_info
from services.registry.store.conflicts import conflicts, refuse_blocked
from services.registry.store.forms import find_form
from services.registry.store.org import find_user, read_user
from services.registry.store.protection import join_claim, leave_claim, waitlist_position, with_protection
from services.registry.store.rows import (
    PROJECTS,
    ProjectValues,
    add_history,
    conflicts_json,
    history,
    insert_history,
    lock_project,
    lock_values,
    member_of,
    project_not_found,
    project_of,
)
from services.registry.store.rows import now as _now
from services.registry.store.visibility import Visibility

log = structlog.get_logger(__name__)
CODE_ZONE = ZoneInfo("Asia/Shanghai")


def next_code(*, session: Session, at: datetime) -> str:
    """BB-<year>-<6-digit number>: one atomic upsert on the year's counter row (the row lock on
    PostgreSQL and the database write lock on SQLite serialise concurrent creators)."""
    return next_codes(session=session, at=at, count=1)[0]


def next_codes(*, session: Session, at: datetime, count: int) -> list[str]:
    """``count`` consecutive codes from one upsert (an import's chunk takes its numbers at once)."""
    if count <= 0:
        return []
    year = at.astimezone(CODE_ZONE).year
    stmt = _next_number(session.get_bind().dialect.name == "postgresql")
    last = session.connection().execute(stmt, {"year": year, "count": count}).scalar_one()
    return [f"BB-{year}-{number:06d}" for number in range(last - count + 1, last + 1)]


@functools.cache
def _next_number(postgresql: bool) -> Any:
    """The counter upsert of the dialect, built once (year and count bound)."""
    table = ProjectSequenceRow.__table__  # type: ignore[attr-defined]
    insert = pg_insert if postgresql else sqlite_insert
    return (
        insert(table)
        .values(year=sa.bindparam("year"), last_number=sa.bindparam("count"))
        .on_conflict_do_update(index_elements=["year"],
                               set_={"last_number": table.c.last_number + sa.bindparam("count")})
        .returning(table.c.last_number)
    )


_USER: sa.Table = UserRow.__table__  # type: ignore[attr-defined]
_DEPARTMENT: sa.Table = DepartmentRow.__table__  # type: ignore[attr-defined]
_USER_EXISTS = sa.select(_USER.c.id).where(_USER.c.id == sa.bindparam("id"))
_DEPARTMENT_EXISTS = sa.select(_DEPARTMENT.c.id).where(_DEPARTMENT.c.id == sa.bindparam("id"))


def _exists(session: Session, stmt: Any, key: str) -> bool:
    return session.connection().execute(stmt, {"id": key}).first() is not None


def validate(
    session: Session, inp: ProjectInput, form: FormDef | None, *, directory: Directory | None = None,
) -> tuple[domain.ValidProject | None, list[FieldViolation]]:
    """``domain.validate_project`` with its lookups answered from the database, or, for users and
    departments, from ``directory`` when given (an import loads it once: no query per row)."""
    if directory is not None:
        users, departments = directory.users, directory.departments
        return domain.validate_project(
            inp, form, user_exists=users.__contains__, department_exists=departments.__contains__,
            attachment=lambda aid: attachment_info(session=session, attachment_id=aid),
        )
    return domain.validate_project(
        inp, form,
        user_exists=lambda uid: _exists(session, _USER_EXISTS, uid),
        department_exists=lambda did: _exists(session, _DEPARTMENT_EXISTS, did),
        attachment=lambda aid: attachment_info(session=session, attachment_id=aid),
    )


def row_values(*, project_id: str, code: str, status: Status, valid: domain.ValidProject, form: FormDef,
               owner_id: str, department_id: str, hits: list[domain.ConflictHit], at: datetime,
               **extra: Any) -> dict[str, Any]:
    """A new project row's columns (CreateProject's insert, or one row of a bulk insert)."""
    norm = normalise_name(valid.customer.name)
    return dict(
        id=project_id, code=code, status=status.value, name=valid.name,
        customer_name=valid.customer.name, customer_name_norm=norm, customer_name_key=block_key(norm),
        customer_uscc=valid.customer.uscc, customer_contact=valid.customer.contact,
        customer_phone=valid.customer.phone, amount=str(valid.amount), region=valid.region,
        business_line=valid.business_line, start_date=valid.start_date, end_date=valid.end_date,
        fields=valid.fields, form_key=form.key, form_version=form.version, owner_id=owner_id,
        department_id=department_id, conflicts=conflicts_json(hits), version=1, created_at=at, updated_at=at,
        **extra,
    )


def find_external(*, session: Session, source: str, external_id: str) -> Project | None:
    """The project registered under an integration key, with its history (internal view)."""
    row = session.exec(
        select(ProjectRow).where(ProjectRow.external_source == source, ProjectRow.external_id == external_id)
    ).first()
    return project_of(row, history(session, row.id)) if row is not None else None


def create_project(*, session: Session, inp: ProjectInput) -> Project:
    nul = domain.control_violations(inp) + domain.external_key_violations(inp.external_source, inp.external_id)
    if nul:
        raise ValidationFailed(nul)
    form = find_form(session=session, key=inp.form_key.strip())
    owner = read_user(session=session, user_id=inp.owner_id)
    roles, owner_admin = domain.write_roles_of(owner, inp.owner_is_admin)
    if form is not None and not owner_admin:
        denied = forms.written_forbidden(form, inp.fields, roles)
        if denied:
            raise Forbidden("无权填写以下字段", "not allowed to set these fields", violations=denied)
    valid, violations = validate(session, inp, form)
    if valid is None or form is None:
        raise ValidationFailed(violations)
    now = _now()
    project_id = uuid.uuid4().hex
    hits = conflicts(session, project_id, valid.customer, valid.name)
    refuse_blocked(form, hits)
    code = next_code(session=session, at=now)
    values = row_values(
        project_id=project_id, code=code, status=Status.DRAFT, valid=valid, form=form, owner_id=inp.owner_id,
        department_id=owner.department_id if owner else "", hits=hits, at=now,
        external_source=inp.external_source or None, external_id=inp.external_id or None,
    )
    session.connection().execute(_CREATE, values)
    created = HistoryEntry(at=now, actor=inp.owner_id, event="created",
                           data={"to": Status.DRAFT.value, "conflicts": len(hits)})
    insert_history(session, project_id, at=created.at, actor=created.actor, event=created.event,
                   data=dict(created.data))
    log.info("project.created", project_id=project_id, code=code, form_key=form.key, conflicts=len(hits),
             external_source=inp.external_source, external_id=inp.external_id)
    # A new id: its one history entry is the one just written (not read back); the columns not
    # given are their defaults.
    return project_of(ProjectValues({**_CREATE_DEFAULTS, **values}), [created])


_CREATE = PROJECTS.insert()
# The columns a new row leaves to their defaults, as stored (``project_of`` reads them).
_CREATE_DEFAULTS: dict[str, Any] = {"claim_key": "", "protection_state": "", "follow_ups": 0}


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
            raise project_not_found(project_id)
        project_id = row.id
    else:
        row = session.get(ProjectRow, project_id) if project_id else None
    if row is None:
        raise project_not_found(project_id)
    vis = Visibility(session, viewer)
    project = project_of(row)
    if not vis.can_see(project):
        raise project_not_found(project_id)
    relations = domain.relations(vis.viewer, project, vis.managed)
    project.history = history(session, project_id)
    waitlist_position(session=session, project=project, claim_key=row.claim_key, seq=row.waitlist_seq)
    return vis.shape(project), relations


def recipient_redactions(
    *, session: Session, project_id: str, user_ids: list[str]
) -> tuple[Project, list[tuple[str, frozenset[str]]]]:
    """The project unredacted and, per recipient told about it, the paths its form withholds from
    them — what ``get_project_for`` would hide from each as an approver-like viewer (roles from
    the directory; the owner reads everything). One read for a notification's redaction."""
    row = session.get(ProjectRow, project_id) if project_id else None
    if row is None:
        raise project_not_found(project_id)
    project = project_of(row)
    out: list[tuple[str, frozenset[str]]] = []
    forms: list[FormDef | None] = []  # the project's form, read once for all recipients
    for user_id in dict.fromkeys(u for u in user_ids if u):
        if user_id == project.owner_id:
            out.append((user_id, frozenset()))
            continue
        user = find_user(session=session, user_id=user_id)
        roles = frozenset(user.roles) if user is not None else frozenset()
        viewer = Viewer(user_id=user_id, is_admin=ADMIN_ROLE in roles, roles=roles,
                        approver_project_ids=frozenset({project.id}))
        if not forms:
            forms.append(find_form(session=session, key=project.form_key, version=project.form_version))
        # Visibility(session, viewer).hidden(project) without what it reads for other questions
        # (the org tree, the viewer's teams): what is hidden depends on the roles and the form.
        out.append((user_id, frozenset(domain.hidden_paths(viewer, project, forms[0]))))
    return project, out


# The lifecycle's writes of a project row, built once (values bound per call): a submit and a
# status change update the locked row through Core, no ORM unit of work.
_SUBMITTED = (
    PROJECTS.update().where(PROJECTS.c.id == sa.bindparam("b_id"))
    .values(status=sa.bindparam("b_status"), conflicts=sa.bindparam("b_conflicts"),
            version=sa.bindparam("b_version"), updated_at=sa.bindparam("b_updated_at"))
)
_STATUS_SET = (
    PROJECTS.update().where(PROJECTS.c.id == sa.bindparam("b_id"))
    .values(status=sa.bindparam("b_status"), version=sa.bindparam("b_version"),
            updated_at=sa.bindparam("b_updated_at"))
)


def _in_line(row: ProjectValues) -> bool:
    return member_of(row).state in protection_rules.IN_LINE


def _line_columns(values: ProjectValues, row: ProjectRow) -> None:
    """After the ORM's customer-line work on ``row``: its line columns into ``values``."""
    for name in ("claim_key", "protection_state", "waitlist_seq", "protected_since", "protected_until",
                 "protection_cap"):
        values.values[name] = getattr(row, name)


def submit_project(*, session: Session, project_id: str, actor_id: str, actor_is_admin: bool) -> Project:
    row = lock_values(session, project_id)
    domain.check_owner("submit", actor_id=actor_id, actor_is_admin=actor_is_admin, owner_id=row.owner_id)
    current = Status(row.status)
    domain.check_submit(current)
    hits = conflicts(session, project_id, domain.Customer(name=row.customer_name, uscc=row.customer_uscc), row.name)
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    refuse_blocked(form, hits)
    now = _now()
    if protection_rules.joins_line(form.settings if form else None) and not _in_line(row):
        # The customer's line (rare on the hot path: forms with a protection period) stays on the
        # ORM: join_claim writes the line columns and its history entry before "submitted".
        locked = lock_project(session, project_id)
        join_claim(session, locked, now)
        session.flush()
        _line_columns(row, locked)
    values = row.values
    values.update(status=Status.PENDING_APPROVAL.value, conflicts=conflicts_json(hits), version=row.version + 1,
                  updated_at=now)
    session.connection().execute(_SUBMITTED, {"b_id": project_id, "b_status": values["status"],
                                              "b_conflicts": values["conflicts"], "b_version": values["version"],
                                              "b_updated_at": now})
    insert_history(session, project_id, at=now, actor=actor_id, event="submitted",
                   data={"from": current.value, "to": row.status, "conflicts": len(hits)})
    log.info("project.submitted", project_id=project_id, actor=actor_id, conflicts=len(hits))
    return project_of(row, history(session, project_id))


def set_project_status(
    *, session: Session, project_id: str, status: Status, actor_id: str, event: str, comment: str,
    promoted: list[tuple[str, Status]] | None = None,
) -> Project:
    """``promoted`` (out): waitlisted projects that took over the customer because this change
    released it (rejected, cancelled or closed holder)."""
    row = lock_values(session, project_id)
    current = Status(row.status)
    if not domain.check_status_change(current, status):
        log.info("project.status_unchanged", project_id=project_id, status=status.value)
        return project_of(row, history(session, project_id))
    now = _now()
    if protection_rules.leaves_line(status) and row.claim_key and _in_line(row):
        # Leaving a customer's line (and promoting the next in it) stays on the ORM.
        locked = lock_project(session, project_id)
        out = leave_claim(session, locked, Protection.RELEASED, now, actor_id)
        session.flush()
        _line_columns(row, locked)
        if promoted is not None:
            promoted.extend(out)
    values = row.values
    values.update(status=status.value, version=row.version + 1, updated_at=now)
    session.connection().execute(_STATUS_SET, {"b_id": project_id, "b_status": status.value,
                                               "b_version": values["version"], "b_updated_at": now})
    data: dict[str, Any] = {"from": current.value, "to": status.value}
    if comment:
        data["comment"] = comment
    insert_history(session, project_id, at=now, actor=actor_id, event=event or status.value, data=data)
    log.info("project.status_changed", project_id=project_id, old=current.value, new=status.value, actor=actor_id)
    return project_of(row, history(session, project_id))


def update_project(
    *, session: Session, project_id: str, actor_id: str, actor_is_admin: bool, actor_roles: set[str],
    expected_version: int, changes: dict[str, Any],
) -> Project:
    """Edit a draft or returned project (owner or admin; ``domain.editing``): the whole project is
    validated again against the form version it was filed with; history records each changed
    path with before and after."""
    row = lock_project(session, project_id)
    domain.check_owner("edit", actor_id=actor_id, actor_is_admin=actor_is_admin, owner_id=row.owner_id)
    editing.check_editable(Status(row.status), version=row.version, expected_version=expected_version)
    bad = editing.change_violations(changes)
    if bad:
        raise ValidationFailed(bad)
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    if not actor_is_admin and ADMIN_ROLE not in actor_roles:
        denied = editing.write_denied(form, dict(changes.get("fields") or {}), actor_roles)
        if denied:
            raise Forbidden("无权修改以下字段", "not allowed to change these fields", violations=denied)
    current = project_of(row)
    valid, violations = validate(session, editing.edited_input(current, changes), form)
    if valid is None:
        raise ValidationFailed(violations)
    diff = editing.diff(editing.snapshot(current), editing.snapshot(valid))
    if not diff:
        return with_protection(session, row)
    row.name, row.amount, row.region, row.business_line = valid.name, str(valid.amount), valid.region, \
        valid.business_line
    row.start_date, row.end_date, row.fields = valid.start_date, valid.end_date, valid.fields
    row.customer_name, row.customer_uscc = valid.customer.name, valid.customer.uscc
    row.customer_contact, row.customer_phone = valid.customer.contact, valid.customer.phone
    row.customer_name_norm = normalise_name(valid.customer.name)
    row.customer_name_key = block_key(row.customer_name_norm)
    hits = conflicts(session, project_id, valid.customer, valid.name)
    refuse_blocked(form, hits)
    now = _now()
    row.conflicts = conflicts_json(hits)
    row.version += 1
    row.updated_at = now
    session.add(row)
    add_history(session, project_id, at=now, actor=actor_id, event="edited",
                data={"changes": diff, "version": row.version})
    session.flush()
    log.info("project.edited", project_id=project_id, actor=actor_id, changed=[d["field"] for d in diff])
    return with_protection(session, row)
