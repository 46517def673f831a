"""Excel / CSV import of registrations, in two phases: every row is checked first (all problems at
once; cells read leniently against the org directory, loaded in one query; already imported row
keys and the projects coded rows name looked up in bulk), then the good rows are written: the
edits of coded rows (an exported row with a 项目编号 edits that project when it differs), then the
new rows in chunks (codes, collision checks, project and history rows in bulk per chunk).
Idempotent on each row's key (``domain.imports`` decides what a row does).

A synchronous import (``import_projects``) writes the edits and every chunk in the caller's one
transaction: any failure rolls the whole import back. A background job (``store.import_jobs``)
commits the edits, then each chunk, with its progress instead, and resumes after a failure or
restart: rows whose key is already stored are skipped, edits already made read back unchanged, so
a re-run never files a row twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry import domain, excel, reporting_outbox
from services.registry.domain import Status, ValidProject, editing
from services.registry.domain import imports as rules
from services.registry.domain.cells import Directory
from services.registry.domain.import_jobs import chunks
from services.registry.domain.imports import ImportResult, ReadRow
from services.registry.forms import FormDef
from services.registry.models import ProjectHistoryRow, ProjectRow, UserRow
from services.registry.store.conflicts import IN_BATCH, ConflictIndex, NewRegistration, conflicts
from services.registry.store.forms import find_form
from services.registry.store.org import departments
from services.registry.store.projects import next_codes, row_values, update_project, validate
from services.registry.store.rows import now as _now
from services.registry.store.rows import project_of, user_of

log = structlog.get_logger(__name__)

__all__ = [
    "CHUNK_ROWS", "CheckedSheet", "ImportResult", "PlannedEdit", "ReadyRow", "RowContext", "apply_edits",
    "check_sheet", "import_projects", "write_rows",
]

# Rows written per chunk (one code upsert, one collision load, two bulk inserts).
CHUNK_ROWS = 500
# Rows checked between two progress reports.
CHECK_STEP = 500


def _in_batches(session: Session, column: Any, values: Iterable[str], *select_: Any) -> list[Any]:
    ordered = sorted(set(values))
    out: list[Any] = []
    for i in range(0, len(ordered), IN_BATCH):
        out.extend(session.execute(sa.select(*select_).where(col(column).in_(ordered[i:i + IN_BATCH]))).all())
    return out


@dataclass
class RowContext:
    """What every row of one import is read against: the form, the org directory (loaded once),
    the sheet's header text per column, the importer, and the forms of edited projects."""

    form: FormDef
    directory: Directory
    headers: dict[str, str]
    actor_id: str
    actor_is_admin: bool
    forms: dict[tuple[str, int], FormDef | None] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)  # project codes rows named so far
    # The projects coded rows name, loaded in bulk by ``load_projects`` (code → row).
    projects: dict[str, ProjectRow] = field(default_factory=dict)
    # The column readers of new rows (``rules.read_row``), made once per import.
    readers: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, form: FormDef, headers: dict[str, str], actor_id: str,
             actor_is_admin: bool) -> RowContext:
        users = [user_of(r) for r in session.exec(select(UserRow)).all()]
        directory = Directory.of(users, departments(session=session).values())
        return cls(form=form, directory=directory, headers=headers, actor_id=actor_id, actor_is_admin=actor_is_admin)

    def load_projects(self, session: Session, codes: Iterable[str]) -> None:
        """The projects these codes name, at once (the rows stay in the session for the edits)."""
        self.projects.update((r[0].code, r[0]) for r in _in_batches(session, ProjectRow.code, codes, ProjectRow))

    def project(self, session: Session, code: str) -> ProjectRow | None:
        if code not in self.projects:
            row = session.exec(select(ProjectRow).where(ProjectRow.code == code)).first()
            if row is None:
                return None
            self.projects[code] = row
        return self.projects[code]

    def form_of(self, session: Session, key: str, version: int) -> FormDef | None:
        if (key, version) not in self.forms:
            self.forms[(key, version)] = find_form(session=session, key=key, version=version)
        return self.forms[(key, version)]


@dataclass
class PlannedEdit:
    row: int
    project_id: str
    version: int
    changes: dict[str, Any]


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
    ctx: RowContext
    edits: list[PlannedEdit] = field(default_factory=list)


def _row_errors(result: ImportResult, ctx: RowContext, n: int, errors: list[FieldViolation]) -> None:
    result.invalid += 1
    result.errors.extend((n, ctx.headers.get(v.field, ""), v.field, v) for v in errors)


def prepare_new_row(session: Session, ctx: RowContext, n: int, raw: dict[str, Any]
                    ) -> tuple[ReadRow, ValidProject | None, list[FieldViolation]]:
    """A row that files a project: its cells read leniently, its owner and status checked, its
    input validated against the form (a cell already refused is not refused twice)."""
    read = rules.read_row(ctx.form, ctx.directory, n, raw, ctx.headers, actor_id=ctx.actor_id, readers=ctx.readers)
    errors = list(read.problems)
    refused = {v.field for v in errors}
    valid, violations = validate(session, rules.read_input(ctx.form, read), ctx.form, directory=ctx.directory)
    errors.extend(v for v in rules.row_problems(owner_id=read.owner_id, status=read.status,
                                                owner_known=read.owner_id in ctx.directory.users)
                  + violations if v.field not in refused)
    return read, valid, errors


def plan_edit(session: Session, ctx: RowContext, n: int, raw: dict[str, Any], result: ImportResult
              ) -> PlannedEdit | None:
    """A row with a project code: the edit it makes to that project (None when it makes none or
    may not — the row's errors say why)."""
    code = rules.row_code(raw)
    if code in ctx.codes:
        _row_errors(result, ctx, n, [FieldViolation("code", f"项目编号 {code} 在表中重复",
                                                    f"project code {code} repeats")])
        return None
    ctx.codes.add(code)
    row = ctx.project(session, code)
    if row is None or row.form_key != ctx.form.key:
        why = (FieldViolation("code", f"项目编号 {code} 不存在", f"no project has the code {code}") if row is None
               else FieldViolation("code", f"项目 {code} 属于表单 {row.form_key}，不能用表单 {ctx.form.key} 导入",
                                   f"project {code} belongs to form {row.form_key}, not {ctx.form.key}"))
        _row_errors(result, ctx, n, [why])
        return None
    current = project_of(row)
    form = ctx.form_of(session, row.form_key, row.form_version) or ctx.form
    read = rules.read_row(form, ctx.directory, n, raw, ctx.headers, actor_id=ctx.actor_id, current=current)
    result.changes.extend(read.changes)
    changes, edits = rules.row_edits(form, current, read, n, ctx.headers)
    errors = read.problems + rules.edit_refusals(current, read, edits=bool(changes), actor_id=ctx.actor_id,
                                                  actor_is_admin=ctx.actor_is_admin)
    if changes and not errors:
        valid, violations = validate(session, editing.edited_input(current, changes), form, directory=ctx.directory)
        errors.extend(violations)
        # A "block" form refuses a colliding edit, as PATCH does; found here, it is the row's error.
        blocked = domain.blocks(form.settings.conflict_policy, conflicts(session, row.id, valid.customer, valid.name)) \
            if valid is not None and form.settings.conflict_policy == "block" else None
        if blocked is not None:
            errors.append(FieldViolation("customer.name", blocked.zh, blocked.en))
    if errors:
        _row_errors(result, ctx, n, errors)
        return None
    if not changes:
        result.unchanged += 1
        return None
    result.changes.extend(edits)
    return PlannedEdit(row=n, project_id=row.id, version=row.version, changes=changes)


def apply_edits(session: Session, ctx: RowContext, edits: list[PlannedEdit], result: ImportResult) -> None:
    """Make the planned edits (in the import's transaction: a refusal here undoes the import)."""
    for e in edits:
        update_project(session=session, project_id=e.project_id, actor_id=ctx.actor_id,
                       actor_is_admin=ctx.actor_is_admin, actor_roles=set(), expected_version=e.version,
                       changes=e.changes)
        result.updated_ids.append(e.project_id)


def check_sheet(
    *, session: Session, form_key: str, actor_id: str, data: bytes, filename: str, actor_is_admin: bool = True,
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
    ctx = RowContext.load(session, form, header_of, actor_id, actor_is_admin)
    # What each row is before any look-up (a project code, else a row key); then what they name,
    # looked up at once.
    codes = {n: rules.row_code(record) for n, record in sheet.rows}
    keys = {n: rules.row_key(form.key, record) for n, record in sheet.rows if not codes[n]}
    ctx.load_projects(session, (c for c in codes.values() if c))
    stored_keys = {r[0] for r in _in_batches(session, ProjectRow.import_key, keys.values(),
                                            col(ProjectRow.import_key))}
    ready: list[ReadyRow] = []
    edits: list[PlannedEdit] = []
    seen_keys: set[str] = set()
    for i, (n, record) in enumerate(sheet.rows, start=1):
        if progress is not None and i % CHECK_STEP == 0:
            progress(i, result)
        raw = sheet.raw.get(n, record)
        if codes[n]:
            edit = plan_edit(session, ctx, n, raw, result)
            if edit is not None:
                edits.append(edit)
            continue
        import_key = keys[n]
        if import_key in seen_keys or import_key in stored_keys:
            result.existing += 1
            continue
        seen_keys.add(import_key)
        read, valid, row_errors = prepare_new_row(session, ctx, n, raw)
        result.changes.extend(read.changes)
        if row_errors or valid is None or read.status is None:
            _row_errors(result, ctx, n, row_errors)
            continue
        ready.append(ReadyRow(row=n, owner_id=read.owner_id, valid=valid, import_key=import_key, status=read.status))
    if progress is not None:
        progress(len(sheet.rows), result)
    return CheckedSheet(form=form, result=result, ready=ready, ctx=ctx, edits=edits)


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
    users = checked.ctx.directory.users
    projects: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for r, code, new, hits in zip(rows, codes, news, collisions, strict=True):
        owner = users.get(r.owner_id)
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
    # Their lifecycle workflows (started when the import is done) no longer report it.
    reporting_outbox.imported_created(session, projects, [len(hits) for hits in collisions])
    return [p["id"] for p in projects]


def import_projects(
    *, session: Session, form_key: str, actor_id: str, data: bytes, filename: str, dry_run: bool, skip_invalid: bool,
    actor_is_admin: bool = True,
) -> ImportResult:
    """Validate every row; unless ``dry_run``, store the valid ones — all-or-nothing by default
    (any bad row → 422 listing them), or skipping bad rows when ``skip_invalid``. A row whose key
    was imported before (or repeats in the sheet) counts as existing. The edits and every chunk
    are written in the caller's transaction (nothing is stored unless it commits)."""
    checked = check_sheet(session=session, form_key=form_key, actor_id=actor_id, data=data, filename=filename,
                          actor_is_admin=actor_is_admin)
    result = checked.result
    result.dry_run = dry_run
    refused = rules.refusal(result, skip_invalid=skip_invalid, dry_run=dry_run)
    if refused is not None:
        raise refused
    result.created = len(checked.ready)
    result.updated = len(checked.edits)
    if dry_run:
        return result
    # Edits first: the new rows' collision checks then see the edited projects as they now are.
    apply_edits(session, checked.ctx, checked.edits, result)
    now = _now()
    index = ConflictIndex(session)
    for chunk in chunks(checked.ready, CHUNK_ROWS):
        result.project_ids.extend(write_rows(session, checked, chunk, index, actor_id=actor_id, at=now))
    log.info("projects.imported", form_key=checked.form.key, created=result.created, existing=result.existing,
             updated=result.updated, unchanged=result.unchanged, invalid=result.invalid, actor=actor_id)
    return result
