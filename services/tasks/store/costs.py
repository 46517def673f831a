"""Costs (timesheets, expenses, purchases) recorded against a project or one of its tasks."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.tasks import domain
from services.tasks.models import Cost, Plan, Task, TaskEvent
from services.tasks.store.rows import load_tasks, today_cn

log = structlog.get_logger(__name__)


def add_cost(session: Session, *, cost: domain.NewCost, now: datetime) -> Cost:
    project_id = cost.project_id.strip()
    task = (
        session.exec(select(Task).where(Task.id == cost.task_id.strip(), Task.project_id == project_id)).first()
        if cost.task_id.strip()
        else None
    )
    # Who may record is decided before the body is judged: a refused caller learns nothing from 422s.
    domain.check_cost_recorder(cost.actor, kind=cost.kind, task_assignee=task.assignee_id if task else "")
    task_known = task is not None
    amount, at = domain.validate_cost(cost, task_known=task_known)
    row = Cost(
        id=str(uuid.uuid4()),
        project_id=project_id,
        task_id=cost.task_id.strip(),
        kind=cost.kind,
        hours=Decimal(cost.hours) if cost.kind == "timesheet" else None,
        rate=Decimal(cost.rate) if cost.kind == "timesheet" else None,
        amount=amount,
        note=cost.note.strip(),
        at=at or today_cn(now),
        actor_id=cost.actor_id,
        created_at=now,
    )
    session.add(row)
    payload = {
        "cost_id": row.id,
        "project_id": project_id,
        "task_id": row.task_id,
        "kind": row.kind,
        "amount": str(amount),
        "at": row.at.isoformat(),
    }
    session.add(
        TaskEvent(project_id=project_id, task_id=row.task_id, kind="cost.recorded", payload=json.dumps(payload), at=now)
    )
    session.flush()
    log.info("cost.recorded", project_id=project_id, cost_id=row.id, kind=row.kind, amount=str(amount))
    return row


def costs_of(engine: Engine, *, project_id: str) -> tuple[list[Cost], Plan | None, list[domain.Task]]:
    with Session(engine) as session:
        items = list(session.exec(select(Cost).where(Cost.project_id == project_id).order_by(col(Cost.created_at))))
        return items, session.get(Plan, project_id), load_tasks(session, project_id=project_id)
