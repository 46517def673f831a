"""Plans: schedules and baselines, the budget, delay reasons, and plan templates per business line."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.errors import FieldViolation, NotFound, ValidationFailed
from services.tasks import domain, forecast, planning, templates
from services.tasks.models import Baseline, DelayReason, Plan, PlanTemplate
from services.tasks.store.rows import (
    TEAM_HISTORY_DAYS,
    baseline_of,
    bump_plan,
    insert_new_tasks,
    load_tasks,
    lock_plan,
    table_of,
    team_history,
    today_cn,
)
from services.tasks.store.tasks import delay_reason_codes
from services.tasks.workdays import calendar

log = structlog.get_logger(__name__)
PLAN_TEMPLATES = table_of(PlanTemplate)


def schedule_of(
    engine: Engine, *, project_id: str, today: date, with_forecast: bool = True
) -> tuple[planning.Schedule, Plan | None, forecast.FinishForecast | None]:
    """The CPM schedule, the plan row, and the finish forecast at the team's velocity (None for
    a plan that is empty or already done, or when not asked for)."""
    with Session(engine) as session:
        tasks = load_tasks(session, project_id=project_id)
        plan = session.get(Plan, project_id)
        base = baseline_of(session, project_id=project_id, number=plan.baseline_no if plan else 0)
        open_tasks = with_forecast and any(t.status != domain.TaskStatus.DONE for t in tasks)
        team: list[domain.Task] = []
        if open_tasks:
            since = datetime.combine(today - timedelta(days=TEAM_HISTORY_DAYS), time(0), UTC)
            team = team_history(session, project_id=project_id, since=since,
                                assignees=sorted({t.assignee_id for t in tasks if t.assignee_id}))
    schedule = planning.build(tasks, today=today, baseline=base)
    finish = forecast.forecast_finish(tasks, team, today=today, cal=calendar()) if open_tasks else None
    return schedule, plan, finish


_INSERT_BASELINE = table_of(Baseline).insert()
_TEMPLATE_OF = (
    sa.select(PLAN_TEMPLATES.c.body, PLAN_TEMPLATES.c.version)
    .where(PLAN_TEMPLATES.c.business_line == sa.bindparam("business_line"))
)


def save_baseline(session: Session, *, project_id: str, name: str, now: datetime) -> tuple[int, int]:
    """Save the planned dates of every task as the project's next baseline (under the plan lock,
    which the same statement takes: version and baseline number bumped together)."""
    conn = session.connection()
    _, number = bump_plan(conn, project_id=project_id, now=now, baseline=True)
    tasks = load_tasks(conn, project_id=project_id)
    schedule = planning.build(tasks, today=today_cn(now))
    if schedule.rows:
        conn.execute(_INSERT_BASELINE, [
            {"project_id": project_id, "number": number, "task_id": r.task.id, "start": r.start,
             "finish": r.finish, "name": name[:200], "created_at": now}
            for r in schedule.rows
        ])
    log.info("plan.baseline_saved", project_id=project_id, number=number, tasks=len(schedule.rows))
    return number, len(schedule.rows)


def set_budget(session: Session, *, project_id: str, budget: Decimal | None, now: datetime) -> Plan:
    plan = lock_plan(session, project_id=project_id, now=now)
    plan.budget = budget
    session.add(plan)
    session.flush()
    return plan


def put_delay_reasons(session: Session, *, reasons: list[tuple[str, str]]) -> list[tuple[str, str]]:
    violations = domain.delay_reason_violations(reasons)
    if violations:
        raise ValidationFailed(violations)
    session.execute(sa.delete(DelayReason))
    for i, (code, label) in enumerate(reasons):
        session.add(DelayReason(code=code.strip(), label=label.strip(), position=i))
    session.flush()
    return delay_reason_codes(session)


def put_template(session: Session, *, business_line: str, body: dict[str, Any], now: datetime) -> PlanTemplate:
    templates.validate(body)
    if not business_line.strip() or len(business_line) > 100:
        raise ValidationFailed([FieldViolation("business_line", "业务线为必填项", "business_line is required")])
    row = session.get(PlanTemplate, business_line)
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    if row is None:
        row = PlanTemplate(business_line=business_line, body=text, version=1, updated_at=now)
    elif row.body != text:
        row.body, row.version, row.updated_at = text, row.version + 1, now
    session.add(row)
    session.flush()
    return row


def get_template(session: Session, *, business_line: str) -> PlanTemplate:
    row = session.get(PlanTemplate, business_line)
    if row is None:
        raise NotFound("该业务线没有计划模板", "no plan template for this business line", code="template_not_found")
    return row


def apply_template(
    session: Session, *, project_id: str, business_line: str, start: date, now: datetime, request_id: str
) -> tuple[int, int]:
    """Create the template's tasks with their dependencies; offsets become start dates counted in
    working days from ``start``. No template for the business line → nothing (0 tasks)."""
    conn = session.connection()
    row = conn.execute(_TEMPLATE_OF, {"business_line": business_line}).first() if business_line else None
    if row is None:
        return 0, 0
    version = int(row.version)
    bump_plan(conn, project_id=project_id, now=now)
    specs = templates.parse(json.loads(row.body))
    ids = {s.key: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{request_id}:{s.key}")) for s in specs}
    created = templates.plan_tasks(specs, ids=ids, project_id=project_id, start=start, now=now, cal=calendar())
    insert_new_tasks(conn, created, now=now)
    log.info(
        "plan.template_applied",
        project_id=project_id,
        business_line=business_line,
        tasks=len(created),
        template_version=version,
    )
    return len(created), version
