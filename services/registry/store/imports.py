"""Excel / CSV import of registrations: every row validated (all problems at once), then stored
in one transaction; idempotent on each row's key (``domain.imports`` decides what a row does)."""

from __future__ import annotations

import uuid

import structlog
from sqlmodel import Session, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry import excel
from services.registry.domain import Status, User, ValidProject
from services.registry.domain import imports as rules
from services.registry.domain.imports import ImportResult
from services.registry.models import ProjectRow
from services.registry.store.conflicts import conflicts
from services.registry.store.forms import find_form
from services.registry.store.org import find_user
from services.registry.store.projects import new_row, next_code, validate
from services.registry.store.rows import add_history
from services.registry.store.rows import now as _now

log = structlog.get_logger(__name__)

__all__ = ["ImportResult", "import_projects"]


def import_projects(
    *, session: Session, form_key: str, actor_id: str, data: bytes, filename: str, dry_run: bool, skip_invalid: bool,
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
    ready: list[tuple[int, str, ValidProject, str, Status]] = []
    seen_keys: set[str] = set()
    users: dict[str, User | None] = {}
    for n, record in sheet.rows:
        import_key = rules.row_key(form.key, record)
        if import_key in seen_keys or session.exec(
            select(ProjectRow.id).where(ProjectRow.import_key == import_key)
        ).first() is not None:
            result.existing += 1
            continue
        seen_keys.add(import_key)
        owner_id = rules.row_owner(record, actor_id)
        if owner_id not in users:
            users[owner_id] = find_user(session=session, user_id=owner_id)
        status = rules.row_status(record)
        row_errors = rules.row_problems(owner_id=owner_id, owner_known=users[owner_id] is not None, status=status)
        values = {k[7:]: excel.field_value(form, k[7:], v) for k, v in record.items() if k.startswith("fields.")}
        valid, violations = validate(session, rules.row_input(form.key, owner_id, record, values), form)
        row_errors.extend(violations)
        if row_errors or valid is None or status is None:
            result.invalid += 1
            result.errors.extend((n, header_of.get(v.field, ""), v.field, v) for v in row_errors)
            continue
        ready.append((n, owner_id, valid, import_key, status))
    refused = rules.refusal(result, skip_invalid=skip_invalid, dry_run=dry_run)
    if refused is not None:
        raise refused
    result.created = len(ready)
    if dry_run:
        return result
    now = _now()
    for n, owner_id, valid, import_key, status in ready:
        project_id = uuid.uuid4().hex
        owner = users.get(owner_id)
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
             invalid=result.invalid, actor=actor_id)
    return result
