"""Excel / CSV import of registrations, in two phases: every row is checked first (all problems at
once; forms, owners, referenced users and departments and already imported row keys looked up in
bulk), then the good rows are written in chunks (codes, collision checks, project and history rows
in bulk per chunk). Idempotent on each row's key (``domain.imports`` decides what a row does).

A synchronous import (``import_projects``) writes every chunk in the caller's one transaction:
any failure rolls the whole import back, as before. A background job (``store.import_jobs``)
commits each chunk with its progress instead, and resumes after a failure or restart: rows whose
key is already stored are skipped, so a re-run never files a row twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry import excel
from services.registry.domain import Status, User, ValidProject
from services.registry.domain import imports as rules
from services.registry.domain.import_jobs import chunks
from services.registry.domain.imports import ImportResult
from services.registry.forms import FormDef
from services.registry.models import DepartmentRow, ProjectHistoryRow, ProjectRow, UserRow
from services.registry.store.conflicts import IN_BATCH, ConflictIndex, NewRegistration
from services.registry.store.forms import find_form
from services.registry.store.org import find_user
from services.registry.store.projects import next_codes, row_values, validate
from services.registry.store.rows import now as _now

log = structlog.get_logger(__name__)

__all__ = ["CHUNK_ROWS", "CheckedSheet", "ImportResult", "ReadyRow", "check_sheet", "import_projects", "write_rows"]

# Rows written per chunk (one code upsert, one collision load, two bulk inserts).
CHUNK_ROWS = 500
# Rows checked between two progress reports.
CHECK_STEP = 500


@dataclass(frozen=True)
class ReadyRow:
    """A checked row, ready to be stored."""

    row: int
    owner_id: str
    valid: ValidProject
    import_key: str
    status: Status


@dataclass
class CheckedSheet:
    form: FormDef
    result: ImportResult
    ready: list[ReadyRow]
    users: dict[str, User | None]
    # Rows loaded in bulk: held so the session's identity map keeps answering look-ups from memory.
    held: list[Any] = field(default_factory=list)


def _in_batches(session: Session, column: Any, values: Iterable[str], *select: Any) -> list[Any]:
    ordered = sorted(set(values))
    out: list[Any] = []
    for i in range(0, len(ordered), IN_BATCH):
        out.extend(session.execute(sa.select(*select).where(col(column).in_(ordered[i:i + IN_BATCH]))).all())
    return out


def _referenced(keys: frozenset[str], values: dict[str, Any]) -> Iterable[str]:
    """The ids a row's values of these fields name (a user or department field, one or a list)."""
    for key in keys & values.keys():
        value = values[key]
        yield from (str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, ""))


def check_sheet(
    *, session: Session, form_key: str, actor_id: str, data: bytes, filename: str,
    progress: Callable[[int, ImportResult], None] | None = None,
) -> CheckedSheet:
    """Read and check every row. ``progress(rows_checked, result so far)`` is called as it goes."""
    form = find_form(session=session, key=form_key.strip())
    if form is None:
        raise ValidationFailed(
            [FieldViolation("form_key", f"表单 {form_key} 不存在", f"form {form_key} does not exist")]
        )
    # Nothing is written yet: end the transaction, so the database's write lock (taken at BEGIN on
    # SQLite) is not held while a big sheet is parsed.
    session.commit()
    sheet, problems = excel.read_sheet(data, filename, form)
    if sheet is None:
        raise ValidationFailed(problems)
    header_of = {key: sheet.headers[i] for i, key in enumerate(sheet.columns) if key}
    result = ImportResult(rows=len(sheet.rows))
    # What each row is, before any look-up; then everything the rows name, looked up at once.
    parsed = []
    for n, record in sheet.rows:
        values = {k[7:]: excel.field_value(form, k[7:], v) for k, v in record.items() if k.startswith("fields.")}
        parsed.append((n, record, rules.row_key(form.key, record), rules.row_owner(record, actor_id), values))
    stored_keys = {r[0] for r in _in_batches(session, ProjectRow.import_key, (p[2] for p in parsed),
                                            col(ProjectRow.import_key))}
    user_fields = frozenset(f.key for f in form.fields if f.type == "user")
    department_fields = frozenset(f.key for f in form.fields if f.type == "department")
    user_ids = {p[3] for p in parsed} | {u for p in parsed for u in _referenced(user_fields, p[4])}
    held: list[Any] = [r[0] for r in _in_batches(session, UserRow.id, user_ids, UserRow)]
    held += [r[0] for r in _in_batches(session, DepartmentRow.id,
                                       (d for p in parsed for d in _referenced(department_fields, p[4])),
                                       DepartmentRow)]
    ready: list[ReadyRow] = []
    seen_keys: set[str] = set()
    users: dict[str, User | None] = {}
    for i, (n, record, import_key, owner_id, values) in enumerate(parsed, start=1):
        if progress is not None and i % CHECK_STEP == 0:
            progress(i, result)
        if import_key in seen_keys or import_key in stored_keys:
            result.existing += 1
            continue
        seen_keys.add(import_key)
        if owner_id not in users:
            users[owner_id] = find_user(session=session, user_id=owner_id)
        status = rules.row_status(record)
        row_errors = rules.row_problems(owner_id=owner_id, owner_known=users[owner_id] is not None, status=status)
        valid, violations = validate(session, rules.row_input(form.key, owner_id, record, values), form)
        row_errors.extend(violations)
        if row_errors or valid is None or status is None:
            result.invalid += 1
            result.errors.extend((n, header_of.get(v.field, ""), v.field, v) for v in row_errors)
            continue
        ready.append(ReadyRow(row=n, owner_id=owner_id, valid=valid, import_key=import_key, status=status))
    if progress is not None:
        progress(len(parsed), result)
    return CheckedSheet(form=form, result=result, ready=ready, users=users, held=held)


def write_rows(
    session: Session, checked: CheckedSheet, rows: Sequence[ReadyRow], index: ConflictIndex, *, actor_id: str,
    at: datetime,
) -> list[str]:
    """Store ``rows`` (one chunk) in bulk; the new project ids in row order. Collisions are found
    against the database and the rows stored before, earlier rows of this chunk included."""
    if not rows:
        return []
    codes = next_codes(session=session, at=at, count=len(rows))
    news = [NewRegistration(project_id=uuid.uuid4().hex, status=r.status, customer=r.valid.customer,
                            name=r.valid.name) for r in rows]
    # Later rows of the same sheet see the earlier ones in their collision checks.
    collisions = index.register(news, at)
    projects: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for r, code, new, hits in zip(rows, codes, news, collisions, strict=True):
        owner = checked.users.get(r.owner_id)
        projects.append(row_values(
            project_id=new.project_id, code=code, status=r.status, valid=r.valid, form=checked.form,
            owner_id=r.owner_id, department_id=owner.department_id if owner else "", hits=hits, at=at,
            import_key=r.import_key,
        ))
        history.append({"project_id": new.project_id, "at": at, "actor": actor_id, "event": "imported",
                        "data": {"to": r.status.value, "row": r.row, "conflicts": len(hits)}})
    # Core executemany: no ORM objects for rows nobody reads back here.
    connection = session.connection()
    connection.execute(ProjectRow.__table__.insert(), projects)  # type: ignore[attr-defined]
    connection.execute(ProjectHistoryRow.__table__.insert(), history)  # type: ignore[attr-defined]
    return [p["id"] for p in projects]


def import_projects(
    *, session: Session, form_key: str, actor_id: str, data: bytes, filename: str, dry_run: bool, skip_invalid: bool,
) -> ImportResult:
    """Validate every row; unless ``dry_run``, store the valid ones — all-or-nothing by default
    (any bad row → 422 listing them), or skipping bad rows when ``skip_invalid``. A row whose key
    was imported before (or repeats in the sheet) counts as existing. Every chunk is written in
    the caller's transaction (nothing is stored unless it commits)."""
    checked = check_sheet(session=session, form_key=form_key, actor_id=actor_id, data=data, filename=filename)
    result = checked.result
    result.dry_run = dry_run
    refused = rules.refusal(result, skip_invalid=skip_invalid, dry_run=dry_run)
    if refused is not None:
        raise refused
    result.created = len(checked.ready)
    if dry_run:
        return result
    now = _now()
    index = ConflictIndex(session)
    for chunk in chunks(checked.ready, CHUNK_ROWS):
        result.project_ids.extend(write_rows(session, checked, chunk, index, actor_id=actor_id, at=now))
    log.info("projects.imported", form_key=checked.form.key, created=result.created, existing=result.existing,
             invalid=result.invalid, actor=actor_id)
    return result
