"""Task rows to domain tasks and back, task events, and the plan lock every plan change takes."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound
from services.tasks import domain, planning
from services.tasks.models import Baseline, Deliverable, Plan, Task, TaskDependency, TaskEvent

SHANGHAI = timezone(timedelta(hours=8))


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def today_cn(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


def table_of(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


TASKS, DEPENDENCIES, DELIVERABLES = table_of(Task), table_of(TaskDependency), table_of(Deliverable)
PLANS, EVENTS = table_of(Plan), table_of(TaskEvent)

# Built once: a statement object keeps its compiled form's cache key (no rebuilding, coercing
# and keying per call on the hot paths).
_TASKS_OF = (
    sa.select(TASKS).where(TASKS.c.project_id == sa.bindparam("project_id"))
    .order_by(TASKS.c.created_at, TASKS.c.id)
)
_DEPENDENCIES_OF = (
    sa.select(DEPENDENCIES.c.task_id, DEPENDENCIES.c.predecessor_id, DEPENDENCIES.c.type, DEPENDENCIES.c.lag_days)
    .join(TASKS, TASKS.c.id == DEPENDENCIES.c.task_id)
    .where(TASKS.c.project_id == sa.bindparam("project_id"))
    .order_by(DEPENDENCIES.c.task_id, DEPENDENCIES.c.position)
)
_DELIVERABLE_COUNTS = (
    sa.select(DELIVERABLES.c.task_id, sa.func.count())
    .where(DELIVERABLES.c.project_id == sa.bindparam("project_id"))
    .group_by(DELIVERABLES.c.task_id)
)
_INSERT_TASK = TASKS.insert()
_INSERT_DEPENDENCY = DEPENDENCIES.insert()
_INSERT_EVENT = EVENTS.insert()


def _plan_upserts(dialect: Any) -> tuple[Any, Any]:
    """INSERT … ON CONFLICT (project_id) DO UPDATE … RETURNING, as lock_plan did in three steps
    (create at version 0 if missing, bump the version, read back): (bump, bump with a new
    baseline number). The conflict update takes the row lock like the UPDATE it replaces."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ins = insert(PLANS).values(
        project_id=sa.bindparam("project_id"), version=1, baseline_no=sa.bindparam("baseline_no"),
        budget=None, updated_at=sa.bindparam("now"),
    )
    excluded_now = ins.excluded.updated_at
    bump = ins.on_conflict_do_update(
        index_elements=[PLANS.c.project_id],
        set_={"version": PLANS.c.version + 1, "updated_at": excluded_now},
    ).returning(PLANS.c.version, PLANS.c.baseline_no)
    with_baseline = ins.on_conflict_do_update(
        index_elements=[PLANS.c.project_id],
        set_={"version": PLANS.c.version + 1, "baseline_no": PLANS.c.baseline_no + 1, "updated_at": excluded_now},
    ).returning(PLANS.c.version, PLANS.c.baseline_no)
    return bump, with_baseline


_PLAN_UPSERTS: dict[str, tuple[Any, Any]] = {}


def bump_plan(conn: Connection, *, project_id: str, now: datetime, baseline: bool = False) -> tuple[int, int]:
    """Bump the project's plan version (and with ``baseline`` its baseline number), creating the
    row on first use; returns (version, baseline number) after. The row stays locked to the end
    of the transaction (PostgreSQL; SQLite serialises on BEGIN IMMEDIATE), so plan changes apply
    one at a time and cycle checks see every committed dependency."""
    name = conn.dialect.name
    upserts = _PLAN_UPSERTS.get(name)
    if upserts is None:
        upserts = _PLAN_UPSERTS[name] = _plan_upserts(name)
    row = conn.execute(upserts[1] if baseline else upserts[0],
                       {"project_id": project_id, "now": now, "baseline_no": 1 if baseline else 0}).one()
    return int(row[0]), int(row[1])


def lock_plan(session: Session, *, project_id: str, now: datetime) -> Plan:
    """Bump the project's plan version, creating the row on first use (see bump_plan), and return
    the row as it now is."""
    bump_plan(session.connection(), project_id=project_id, now=now)
    plan = session.get(Plan, project_id, populate_existing=True)
    assert plan is not None
    return plan


def task_of(r: Any, deps: list[domain.Dependency], deliverables: int = 0) -> domain.Task:
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


def load_tasks(session: Session | Connection, *, project_id: str) -> list[domain.Task]:
    """The project's tasks in creation order, each with its dependencies in the order given and
    its number of deliverables (Core reads: no ORM objects)."""
    conn = session.connection() if isinstance(session, Session) else session
    params = {"project_id": project_id}
    rows = conn.execute(_TASKS_OF, params).all()
    if not rows:
        return []
    deps: dict[str, list[domain.Dependency]] = defaultdict(list)
    for d in conn.execute(_DEPENDENCIES_OF, params):
        deps[d.task_id].append(domain.Dependency(d.predecessor_id, domain.DependencyType(d.type), d.lag_days))
    counts = {str(task_id): int(n) for task_id, n in conn.execute(_DELIVERABLE_COUNTS, params)}
    return [task_of(r, deps.get(r.id, []), counts.get(r.id, 0)) for r in rows]


def _task_values(t: domain.Task, now: datetime) -> dict[str, Any]:
    """A new task's row, column for column as write_task(new=True) writes it."""
    return {
        "id": t.id, "project_id": t.project_id, "name": t.name, "assignee_id": t.assignee_id,
        "start": t.start, "due": t.due, "duration_days": t.duration_days, "milestone": t.milestone,
        "status": t.status.value, "progress": t.progress, "created_at": t.created_at, "updated_at": now,
        "parent_id": t.parent_id, "estimate_hours": t.estimate_hours, "pinned": t.pinned,
        "requires_deliverables": t.requires_deliverables, "actual_start": t.actual_start, "done_at": t.done_at,
        "delay_reason": t.delay_reason, "version": t.version,
    }


def _dependency_values(t: domain.Task) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for position, dep in enumerate(t.depends_on):
        assert dep.type is not None
        out.append({"task_id": t.id, "predecessor_id": dep.task_id, "type": dep.type.value,
                    "lag_days": dep.lag_days, "position": position})
    return out


def insert_new_tasks(conn: Connection, tasks: list[domain.Task], *, now: datetime) -> None:
    """Insert new tasks with their dependencies and a ``task.created`` event each: the rows
    write_task(new=True) and add_event write, in a few executemany statements. Dependencies on a
    task inserted later are written task by task as before (each task, then its links), so the
    foreign key refuses them at the same statement as it always did."""
    if not tasks:
        return
    new_ids = {t.id for t in tasks}
    seen: set[str] = set()
    ordered = True
    for t in tasks:
        seen.add(t.id)
        ordered = ordered and all(d.task_id not in new_ids or d.task_id in seen for d in t.depends_on)
    if ordered:
        conn.execute(_INSERT_TASK, [_task_values(t, now) for t in tasks])
        links = [v for t in tasks for v in _dependency_values(t)]
        if links:
            conn.execute(_INSERT_DEPENDENCY, links)
    else:
        for t in tasks:
            conn.execute(_INSERT_TASK, _task_values(t, now))
            links = _dependency_values(t)
            if links:
                conn.execute(_INSERT_DEPENDENCY, links)
    conn.execute(_INSERT_EVENT, [
        {"project_id": t.project_id, "task_id": t.id, "kind": "task.created", "from_status": "",
         "to_status": t.status.value, "payload": "{}", "at": now}
        for t in tasks
    ])


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
