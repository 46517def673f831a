"""Registrations: filing, reading, submitting, status changes and edits. Codes come from a
per-year counter row; ``domain`` validates and decides the transitions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
from services.registry.store.org import find_user
from services.registry.store.protection import join_claim, leave_claim, waitlist_position, with_protection
from services.registry.store.rows import (
    add_history,
    conflicts_json,
    history,
    lock_project,
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
    table = ProjectSequenceRow.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(table)
        .values(year=year, last_number=count)
        .on_conflict_do_update(index_elements=["year"], set_={"last_number": table.c.last_number + count})
        .returning(table.c.last_number)
    )
    last = session.execute(stmt).scalar_one()
    return [f"BB-{year}-{number:06d}" for number in range(last - count + 1, last + 1)]


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
        user_exists=lambda uid: session.get(UserRow, uid) is not None,
        department_exists=lambda did: session.get(DepartmentRow, did) is not None,
        attachment=lambda aid: attachment_info(session=session, attachment_id=aid),
    )


def new_row(*, project_id: str, code: str, status: Status, valid: domain.ValidProject, form: FormDef, owner_id: str,
            department_id: str, hits: list[domain.ConflictHit], at: datetime, **extra: Any) -> ProjectRow:
    return ProjectRow(**row_values(
        project_id=project_id, code=code, status=status, valid=valid, form=form, owner_id=owner_id,
        department_id=department_id, hits=hits, at=at, **extra,
    ))


def row_values(*, project_id: str, code: str, status: Status, valid: domain.ValidProject, form: FormDef,
               owner_id: str, department_id: str, hits: list[domain.ConflictHit], at: datetime,
               **extra: Any) -> dict[str, Any]:
    """A new project row's columns (the ORM object, or one row of a bulk insert)."""
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
    owner = find_user(session=session, user_id=inp.owner_id)
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
    row = new_row(
        project_id=project_id, code=code, status=Status.DRAFT, valid=valid, form=form, owner_id=inp.owner_id,
        department_id=owner.department_id if owner else "", hits=hits, at=now,
        external_source=inp.external_source or None, external_id=inp.external_id or None,
    )
    session.add(row)
    created = HistoryEntry(at=now, actor=inp.owner_id, event="created",
                           data={"to": Status.DRAFT.value, "conflicts": len(hits)})
    add_history(session, project_id, at=created.at, actor=created.actor, event=created.event, data=dict(created.data))
    session.flush()
    log.info("project.created", project_id=project_id, code=code, form_key=form.key, conflicts=len(hits),
             external_source=inp.external_source, external_id=inp.external_id)
    # A new id: its one history entry is the one just written (not read back).
    return project_of(row, [created])


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


def submit_project(*, session: Session, project_id: str, actor_id: str, actor_is_admin: bool) -> Project:
    row = lock_project(session, project_id)
    domain.check_owner("submit", actor_id=actor_id, actor_is_admin=actor_is_admin, owner_id=row.owner_id)
    current = Status(row.status)
    domain.check_submit(current)
    hits = conflicts(session, project_id, domain.Customer(name=row.customer_name, uscc=row.customer_uscc), row.name)
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    refuse_blocked(form, hits)
    now = _now()
    if protection_rules.joins_line(form.settings if form else None):
        join_claim(session, row, now)
    row.status = Status.PENDING_APPROVAL.value
    row.conflicts = conflicts_json(hits)
    row.version += 1
    row.updated_at = now
    session.add(row)
    add_history(session, project_id, at=now, actor=actor_id, event="submitted",
                data={"from": current.value, "to": row.status, "conflicts": len(hits)})
    session.flush()
    log.info("project.submitted", project_id=project_id, actor=actor_id, conflicts=len(hits))
    return project_of(row, history(session, project_id))


def set_project_status(
    *, session: Session, project_id: str, status: Status, actor_id: str, event: str, comment: str,
    promoted: list[tuple[str, Status]] | None = None,
) -> Project:
    """``promoted`` (out): waitlisted projects that took over the customer because this change
    released it (rejected, cancelled or closed holder)."""
    row = lock_project(session, project_id)
    current = Status(row.status)
    if not domain.check_status_change(current, status):
        log.info("project.status_unchanged", project_id=project_id, status=status.value)
        return project_of(row, history(session, project_id))
    now = _now()
    if protection_rules.leaves_line(status):
        out = leave_claim(session, row, Protection.RELEASED, now, actor_id)
        if promoted is not None:
            promoted.extend(out)
    row.status = status.value
    row.version += 1
    row.updated_at = now
    session.add(row)
    data: dict[str, Any] = {"from": current.value, "to": status.value}
    if comment:
        data["comment"] = comment
    add_history(session, project_id, at=now, actor=actor_id, event=event or status.value, data=data)
    session.flush()
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
