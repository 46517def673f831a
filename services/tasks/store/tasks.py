"""Tasks: creating and patching them under the plan lock, and 我的任务 (a user's tasks across
projects, keyset-paged)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import replace
from datetime import date, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.tasks import domain
from services.tasks.models import DelayReason, Task
from services.tasks.store.rows import (
    add_event,
    as_utc,
    get_task,
    load_tasks,
    lock_plan,
    plan_schedule,
    today_cn,
    write_task,
)
from services.tasks.structure import check_structure

log = structlog.get_logger(__name__)
ASSIGNEE_STATUSES = ("todo", "in_progress", "done", "blocked")
OPEN = "open"  # every status but done


def list_tasks(engine: Engine, *, project_id: str) -> list[domain.Task]:
    """The project's tasks in creation order, each with its dependencies in the order given."""
    with Session(engine) as session:
        return load_tasks(session, project_id=project_id)


def create_planned_task(session: Session, *, command: domain.NewTask, now: datetime) -> domain.Task:
    """Create with the plan-wide checks (parent, summary links) under the plan lock."""
    project_id = command.project_id.strip()
    if project_id:
        lock_plan(session, project_id=project_id, now=now)
    tasks = load_tasks(session, project_id=project_id) if project_id else []
    known = {t.id for t in tasks}
    start, due = domain.validate_new_task(command, known_task_ids=known)
    task = domain.new_task(command, task_id=str(uuid.uuid4()), start=start, due=due, now=now)
    check_structure(tasks + [task], task)
    write_task(session, task, now=now, new=True)
    add_event(session, project_id=project_id, task=task, kind="task.created", now=now)
    log.info("task.created", project_id=project_id, task_id=task.id, dependencies=len(task.depends_on))
    return task


def delay_reason_codes(session: Session) -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in session.exec(select(DelayReason).order_by(col(DelayReason.position)))]


def update_task(session: Session, *, patch: domain.TaskPatch, now: datetime) -> tuple[domain.Task, str]:
    """Apply a patch under the plan lock: version check (409), field rules, plan structure and
    cycles (422), deliverables before a milestone is done (409), delay reason vs baseline (422)."""
    current = get_task(session, task_id=patch.task_id.strip())
    lock_plan(session, project_id=current.project_id, now=now)
    current = get_task(session, task_id=current.id)  # re-read under the lock
    domain.check_version(patch.expected_version, current)
    tasks = load_tasks(session, project_id=current.project_id)
    today = today_cn(now)
    updated = domain.patched(patch, current, known_task_ids={t.id for t in tasks}, now=now, today=today)
    merged = [updated if t.id == updated.id else t for t in tasks]
    check_structure(merged, updated)
    domain.check_done(current, updated)
    schedule = plan_schedule(session, project_id=current.project_id, tasks=merged, today=today)
    row = next((r for r in schedule.rows if r.task.id == updated.id), None)
    # A done task is not late any more: only the reason's code is checked.
    late = row is not None and updated.status != domain.TaskStatus.DONE
    violations = domain.check_delay_reason(
        updated.delay_reason, forecast_finish=row.finish if late and row else None,
        baseline_finish=row.baseline_finish if late and row else None,
        allowed=[c for c, _ in delay_reason_codes(session)],
    )
    if violations:
        raise ValidationFailed(violations)
    updated = replace(updated, version=current.version + 1, updated_at=now)
    write_task(session, updated, now=now, new=False)
    add_event(
        session,
        project_id=updated.project_id,
        task=updated,
        kind="task.updated",
        now=now,
        from_status=current.status.value,
    )
    log.info(
        "task.updated",
        project_id=updated.project_id,
        task_id=updated.id,
        version=updated.version,
        status=updated.status.value,
    )
    return updated, current.status.value


def assignee_projects(engine: Engine, *, user_id: str) -> list[str]:
    """Projects where the user is assigned a task."""
    stmt = sa.select(Task.project_id).where(col(Task.assignee_id) == user_id).distinct()  # type: ignore[call-overload]
    with Session(engine) as session:
        return sorted(str(r[0]) for r in session.execute(stmt).all())


def encode_assignee_cursor(row: Task) -> str:
    raw = json.dumps([row.due.isoformat() if row.due else "", as_utc(row.created_at).isoformat(), row.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_assignee_cursor(cursor: str) -> tuple[date | None, datetime, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due_text, created_text, task_id = raw
        if not all(isinstance(v, str) for v in raw) or not task_id:
            raise ValueError(raw)
        due = date.fromisoformat(due_text) if due_text else None
        return due, as_utc(datetime.fromisoformat(created_text)), task_id
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as err:
        raise ValidationFailed([FieldViolation("cursor", "分页游标无效", "invalid cursor")]) from err


def assignee_tasks(
    engine: Engine, *, user_id: str, status: str, limit: int, cursor: str
) -> tuple[list[domain.Task], str]:
    """我的任务: tasks assigned to ``user_id`` across projects, by due date (none last), then
    creation; keyset-paged (the next cursor is "" on the last page)."""
    stmt = select(Task).where(col(Task.assignee_id) == user_id)
    if status == OPEN:
        stmt = stmt.where(col(Task.status) != "done")
    elif status:
        stmt = stmt.where(col(Task.status) == status)
    if cursor:
        due, created, last_id = decode_assignee_cursor(cursor)
        after_created = sa.or_(
            col(Task.created_at) > created, sa.and_(col(Task.created_at) == created, col(Task.id) > last_id)
        )
        if due is None:
            stmt = stmt.where(col(Task.due).is_(None), after_created)
        else:
            stmt = stmt.where(sa.or_(
                col(Task.due).is_(None),
                col(Task.due) > due,
                sa.and_(col(Task.due) == due, after_created),
            ))
    stmt = stmt.order_by(col(Task.due).is_(None), col(Task.due), col(Task.created_at), col(Task.id)).limit(limit + 1)
    with Session(engine) as session:
        rows = list(session.exec(stmt).all())
        page = rows[:limit]
        tasks = [get_task(session, task_id=r.id) for r in page]
    return tasks, encode_assignee_cursor(page[-1]) if len(rows) > limit and page else ""
