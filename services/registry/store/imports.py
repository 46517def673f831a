"""Excel / CSV import of registrations: every row validated (all problems at once), then stored
in one transaction; idempotent on each row's key (``domain.imports`` decides what a row does).
A row with a project code (an exported row) edits that project instead, when it differs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlmodel import Session, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry import domain, excel
from services.registry.domain import Status, ValidProject, editing
from services.registry.domain import imports as rules
from services.registry.domain.cells import Directory
from services.registry.domain.imports import ImportResult, ReadRow
from services.registry.forms import FormDef
from services.registry.models import ProjectRow, UserRow
from services.registry.store.conflicts import conflicts
from services.registry.store.forms import find_form
from services.registry.store.org import departments
from services.registry.store.projects import new_row, next_code, update_project, validate
from services.registry.store.rows import add_history, project_of, user_of
from services.registry.store.rows import now as _now

log = structlog.get_logger(__name__)

__all__ = ["ImportResult", "import_projects"]


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

    @classmethod
    def load(cls, session: Session, form: FormDef, headers: dict[str, str], actor_id: str,
             actor_is_admin: bool) -> RowContext:
        users = [user_of(r) for r in session.exec(select(UserRow)).all()]
        directory = Directory.of(users, departments(session=session).values())
        return cls(form=form, directory=directory, headers=headers, actor_id=actor_id, actor_is_admin=actor_is_admin)

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


def _row_errors(result: ImportResult, ctx: RowContext, n: int, errors: list[FieldViolation]) -> None:
    result.invalid += 1
    result.errors.extend((n, ctx.headers.get(v.field, ""), v.field, v) for v in errors)


def prepare_new_row(session: Session, ctx: RowContext, n: int, raw: dict[str, Any]
                    ) -> tuple[ReadRow, ValidProject | None, list[FieldViolation]]:
    """A row that files a project: its cells read leniently, its owner and status checked, its
    input validated against the form (a cell already refused is not refused twice)."""
    read = rules.read_row(ctx.form, ctx.directory, n, raw, ctx.headers, actor_id=ctx.actor_id)
    errors = list(read.problems)
    refused = {v.field for v in errors}
    valid, violations = validate(session, rules.read_input(ctx.form, read), ctx.form)
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
    row = session.exec(select(ProjectRow).where(ProjectRow.code == code)).first()
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
        valid, violations = validate(session, editing.edited_input(current, changes), form)
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


def import_projects(
    *, session: Session, form_key: str, actor_id: str, data: bytes, filename: str, dry_run: bool, skip_invalid: bool,
    actor_is_admin: bool = True,
) -> ImportResult:
    """Validate every row; unless ``dry_run``, store the valid ones — all-or-nothing by default
    (any bad row → 422 listing them), or skipping bad rows when ``skip_invalid``. A row whose key
    was imported before (or repeats in the sheet) counts as existing."""
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
    ctx = RowContext.load(session, form, header_of, actor_id, actor_is_admin)
    ready: list[tuple[int, str, ValidProject, str, Status]] = []
    edits: list[PlannedEdit] = []
    seen_keys: set[str] = set()
    for n, record in sheet.rows:
        raw = sheet.raw.get(n, record)
        if rules.row_code(record):
            edit = plan_edit(session, ctx, n, raw, result)
            if edit is not None:
                edits.append(edit)
            continue
        import_key = rules.row_key(form.key, record)
        if import_key in seen_keys or session.exec(
            select(ProjectRow.id).where(ProjectRow.import_key == import_key)
        ).first() is not None:
            result.existing += 1
            continue
        seen_keys.add(import_key)
        read, valid, row_errors = prepare_new_row(session, ctx, n, raw)
        result.changes.extend(read.changes)
        if row_errors or valid is None or read.status is None:
            _row_errors(result, ctx, n, row_errors)
            continue
        ready.append((n, read.owner_id, valid, import_key, read.status))
    refused = rules.refusal(result, skip_invalid=skip_invalid, dry_run=dry_run)
    if refused is not None:
        raise refused
    result.created = len(ready)
    result.updated = len(edits)
    if dry_run:
        return result
    apply_edits(session, ctx, edits, result)
    now = _now()
    for n, owner_id, valid, import_key, status in ready:
        project_id = uuid.uuid4().hex
        owner = ctx.directory.users.get(owner_id)
        hits = conflicts(session, project_id, valid.customer, valid.name)
        session.add(new_row(
            project_id=project_id, code=next_code(session=session, at=now), status=status, valid=valid, form=form,
            owner_id=owner_id, department_id=owner.department_id if owner else "", hits=hits, at=now,
            import_key=import_key,
        ))
        add_history(session, project_id, at=now, actor=actor_id, event="imported",
                    data={"to": status.value, "row": n, "conflicts": len(hits)})
        # Later rows of the same sheet see this one in their collision checks.
        session.flush()
        result.project_ids.append(project_id)
    log.info("projects.imported", form_key=form.key, created=result.created, existing=result.existing,
             updated=result.updated, unchanged=result.unchanged, invalid=result.invalid, actor=actor_id)
    return result
