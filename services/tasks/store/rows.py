"""Task rows to domain tasks and back, task events, and the plan lock every plan change takes."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound
from services.tasks import domain, planning
from services.tasks.models import Baseline, Deliverable, Plan, Task, TaskDependency, TaskEvent

SHANGHAI = timezone(timedelta(hours=8))


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def today_cn(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


def lock_plan(session: Session, *, project_id: str, now: datetime) -> Plan:
    """Bump the project's plan version, creating the row on first use. The UPDATE takes the row
    lock (PostgreSQL; SQLite serialises on BEGIN IMMEDIATE), so plan changes apply one at a time
    and cycle checks see every committed dependency."""
    if session.get(Plan, project_id) is None:
        try:
            with session.begin_nested():
                session.add(Plan(project_id=project_id, version=0, updated_at=now))
        except IntegrityError:
            pass  # a concurrent first change created it
    session.execute(
        sa.update(Plan).where(col(Plan.project_id) == project_id).values(version=Plan.version + 1, updated_at=now)
    )
    plan = session.get(Plan, project_id, populate_existing=True)
    assert plan is not None
    return plan


def task_of(r: Task, deps: list[domain.Dependency], deliverables: int = 0) -> domain.Task:
    return domain.Task(
        id=r.id,
        project_id=r.project_id,
        name=r.name,
        assignee_id=r.assignee_id,
        start=r.start,
        due=r.due,
        duration_days=r.duration_days,
        milestone=r.milestone,
        status=domain.TaskStatus(r.status),
        progress=r.progress,
        created_at=as_utc(r.created_at),
        depends_on=tuple(deps),
        parent_id=r.parent_id,
        estimate_hours=Decimal(r.estimate_hours) if r.estimate_hours is not None else None,
        pinned=r.pinned,
        requires_deliverables=r.requires_deliverables,
        actual_start=r.actual_start,
        done_at=as_utc(r.done_at) if r.done_at else None,
        delay_reason=r.delay_reason,
        version=r.version,
        updated_at=as_utc(r.updated_at),
        deliverables=deliverables,
    )


def load_tasks(session: Session, *, project_id: str) -> list[domain.Task]:
    rows = list(
        session.exec(select(Task).where(Task.project_id == project_id).order_by(col(Task.created_at), col(Task.id)))
    )
    if not rows:
        return []
    deps: dict[str, list[domain.Dependency]] = defaultdict(list)
    dep_rows = session.exec(
        select(TaskDependency)
        .join(Task, col(Task.id) == col(TaskDependency.task_id))
        .where(Task.project_id == project_id)
        .order_by(col(TaskDependency.task_id), col(TaskDependency.position))
    )
    for d in dep_rows:
        deps[d.task_id].append(domain.Dependency(d.predecessor_id, domain.DependencyType(d.type), d.lag_days))
    counts: dict[str, int] = {
        str(task_id): int(n)
        for task_id, n in session.execute(
            sa.select(col(Deliverable.task_id), sa.func.count())
            .where(col(Deliverable.project_id) == project_id)
            .group_by(col(Deliverable.task_id))
        ).all()
    }
    return [task_of(r, deps.get(r.id, []), int(counts.get(r.id, 0))) for r in rows]


TEAM_HISTORY_DAYS = 365
TEAM_HISTORY_LIMIT = 500


def team_history(session: Session, *, project_id: str, assignees: list[str], since: datetime) -> list[domain.Task]:
    """The finished tasks of ``assignees`` on other projects since ``since`` (the newest first, at
    most TEAM_HISTORY_LIMIT): what the team's velocity is learnt from when the project is young."""
    if not assignees:
        return []
    rows = session.exec(
        select(Task).where(col(Task.assignee_id).in_(assignees), Task.project_id != project_id,
                           Task.status == domain.TaskStatus.DONE.value, col(Task.done_at) >= since)
        .order_by(col(Task.done_at).desc()).limit(TEAM_HISTORY_LIMIT)
    )
    return [task_of(r, []) for r in rows]


def get_task(session: Session, *, task_id: str) -> domain.Task:
    row = session.get(Task, task_id) if task_id else None
    if row is None:
        raise NotFound("任务不存在", "task not found", code="task_not_found")
    deps = [
        domain.Dependency(d.predecessor_id, domain.DependencyType(d.type), d.lag_days)
        for d in session.exec(
            select(TaskDependency).where(TaskDependency.task_id == task_id).order_by(col(TaskDependency.position))
        )
    ]
    n = session.execute(sa.select(sa.func.count()).where(col(Deliverable.task_id) == task_id)).scalar_one()
    return task_of(row, deps, int(n))


def baseline_of(session: Session, *, project_id: str, number: int) -> dict[str, tuple[date, date]]:
    if number <= 0:
        return {}
    rows = session.exec(select(Baseline).where(Baseline.project_id == project_id, Baseline.number == number))
    return {b.task_id: (b.start, b.finish) for b in rows}


def plan_schedule(session: Session, *, project_id: str, tasks: list[domain.Task], today: date) -> planning.Schedule:
    plan = session.get(Plan, project_id)
    base = baseline_of(session, project_id=project_id, number=plan.baseline_no if plan else 0)
    return planning.build(tasks, today=today, baseline=base)


def add_event(
    session: Session,
    *,
    project_id: str,
    task: domain.Task | None,
    kind: str,
    now: datetime,
    from_status: str = "",
    payload: dict[str, Any] | None = None,
) -> None:
    session.add(
        TaskEvent(
            project_id=project_id,
            task_id=task.id if task else "",
            kind=kind,
            from_status=from_status,
            to_status=task.status.value if task else "",
            payload=json.dumps(payload or {}, ensure_ascii=False),
            at=now,
        )
    )


def write_task(session: Session, t: domain.Task, *, now: datetime, new: bool) -> None:
    row = (
        Task(id=t.id, project_id=t.project_id, created_at=t.created_at, updated_at=now, name=t.name)
        if new
        else session.get(Task, t.id)
    )
    assert row is not None
    row.name = t.name
    row.assignee_id = t.assignee_id
    row.start, row.due, row.duration_days = t.start, t.due, t.duration_days
    row.milestone, row.status, row.progress = t.milestone, t.status.value, t.progress
    row.parent_id, row.estimate_hours, row.pinned = t.parent_id, t.estimate_hours, t.pinned
    row.requires_deliverables, row.actual_start, row.done_at = t.requires_deliverables, t.actual_start, t.done_at
    row.delay_reason, row.version, row.updated_at = t.delay_reason, t.version, now
    session.add(row)
    session.flush()
    if not new:
        session.execute(sa.delete(TaskDependency).where(col(TaskDependency.task_id) == t.id))
    for position, dep in enumerate(t.depends_on):
        assert dep.type is not None
        session.add(
            TaskDependency(
                task_id=t.id, predecessor_id=dep.task_id, type=dep.type.value, lag_days=dep.lag_days, position=position
            )
        )
    session.flush()
