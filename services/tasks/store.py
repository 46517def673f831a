"""Persistence of the tasks service: keyword-only functions over a SQLModel session/engine."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.tasks import domain
from services.tasks.models import Task, TaskDependency

log = structlog.get_logger(__name__)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _known_ids(session: Session, *, project_id: str, candidates: set[str]) -> set[str]:
    if not candidates or not project_id:
        return set()
    stmt = select(Task.id).where(Task.project_id == project_id, col(Task.id).in_(candidates))
    return set(session.exec(stmt))


def create_task(session: Session, *, command: domain.NewTask, now: datetime) -> domain.Task:
    """Validate against the project's existing tasks and insert the task with its dependencies.
    The caller commits (inside ``run_once``)."""
    known = _known_ids(
        session,
        project_id=command.project_id.strip(),
        candidates={d.task_id.strip() for d in command.depends_on if d.task_id.strip()},
    )
    start, due = domain.validate_new_task(command, known_task_ids=known)
    task = domain.new_task(command, task_id=str(uuid.uuid4()), start=start, due=due, now=now)
    session.add(
        Task(
            id=task.id,
            project_id=task.project_id,
            name=task.name,
            assignee_id=task.assignee_id,
            start=task.start,
            due=task.due,
            duration_days=task.duration_days,
            milestone=task.milestone,
            status=task.status.value,
            progress=task.progress,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    for position, dep in enumerate(task.depends_on):
        assert dep.type is not None  # validated above
        session.add(
            TaskDependency(
                task_id=task.id,
                predecessor_id=dep.task_id,
                type=dep.type.value,
                lag_days=dep.lag_days,
                position=position,
            )
        )
    log.info("task.created", project_id=task.project_id, task_id=task.id, dependencies=len(task.depends_on))
    return task


def list_tasks(engine: Engine, *, project_id: str) -> list[domain.Task]:
    """The project's tasks in creation order, each with its dependencies in the order given."""
    with Session(engine) as session:
        rows = list(
            session.exec(
                select(Task)
                .where(Task.project_id == project_id)
                .order_by(col(Task.created_at), col(Task.id))
            )
        )
        deps: dict[str, list[domain.Dependency]] = defaultdict(list)
        if rows:
            dep_rows = session.exec(
                select(TaskDependency)
                .join(Task, col(Task.id) == col(TaskDependency.task_id))
                .where(Task.project_id == project_id)
                .order_by(col(TaskDependency.task_id), col(TaskDependency.position))
            )
            for d in dep_rows:
                deps[d.task_id].append(domain.Dependency(d.predecessor_id, domain.DependencyType(d.type), d.lag_days))
    return [
        domain.Task(
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
            created_at=_as_utc(r.created_at),
            depends_on=tuple(deps.get(r.id, ())),
        )
        for r in rows
    ]
