"""Persistence of the tasks service: keyword-only functions over a SQLModel session/engine."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.core.errors import Conflict, FieldViolation, NotFound, ValidationFailed
from services.tasks import domain, planning, rules, templates
from services.tasks.models import (
    Baseline,
    Cost,
    DelayReason,
    Deliverable,
    Plan,
    PlanTemplate,
    RuleFire,
    Task,
    TaskDependency,
    TaskEvent,
)
from services.tasks.models import Rule as RuleRow
from services.tasks.schedule import CycleError, compute
from services.tasks.workdays import calendar

log = structlog.get_logger(__name__)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def list_tasks(engine: Engine, *, project_id: str) -> list[domain.Task]:
    """The project's tasks in creation order, each with its dependencies in the order given."""
    with Session(engine) as session:
        return load_tasks(session, project_id=project_id)


# ================================================================ plans (issue 6)

SHANGHAI = timezone(timedelta(hours=8))


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


def _to_domain(r: Task, deps: list[domain.Dependency], deliverables: int = 0) -> domain.Task:
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
        created_at=_as_utc(r.created_at),
        depends_on=tuple(deps),
        parent_id=r.parent_id,
        estimate_hours=Decimal(r.estimate_hours) if r.estimate_hours is not None else None,
        pinned=r.pinned,
        requires_deliverables=r.requires_deliverables,
        actual_start=r.actual_start,
        done_at=_as_utc(r.done_at) if r.done_at else None,
        delay_reason=r.delay_reason,
        version=r.version,
        updated_at=_as_utc(r.updated_at),
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
    return [_to_domain(r, deps.get(r.id, []), int(counts.get(r.id, 0))) for r in rows]


def _baseline(session: Session, *, project_id: str, number: int) -> dict[str, tuple[date, date]]:
    if number <= 0:
        return {}
    rows = session.exec(select(Baseline).where(Baseline.project_id == project_id, Baseline.number == number))
    return {b.task_id: (b.start, b.finish) for b in rows}


def _schedule(session: Session, *, project_id: str, tasks: list[domain.Task], today: date) -> planning.Schedule:
    plan = session.get(Plan, project_id)
    base = _baseline(session, project_id=project_id, number=plan.baseline_no if plan else 0)
    return planning.build(tasks, today=today, baseline=base)


def _check_structure(tasks: list[domain.Task], changed: domain.Task, names: dict[str, str]) -> None:
    """Plan-wide rules for ``changed`` (already merged into ``tasks``): parent exists in the plan
    and no parent loop; summary tasks carry no dependencies; no dependency cycle."""
    by_id = {t.id: t for t in tasks}
    violations: list[FieldViolation] = []
    parents = {t.parent_id for t in tasks if t.parent_id}
    if changed.parent_id:
        if changed.parent_id not in by_id or changed.parent_id == changed.id:
            violations.append(
                FieldViolation("parent_id", "上级任务不存在或不属于本项目", "parent task is not in this project")
            )
        else:
            seen, cur = {changed.id}, changed.parent_id
            while cur:
                if cur in seen:
                    violations.append(FieldViolation("parent_id", "上级任务形成循环", "parent chain forms a loop"))
                    break
                seen.add(cur)
                cur = by_id[cur].parent_id if cur in by_id else ""
            if by_id.get(changed.parent_id) and by_id[changed.parent_id].depends_on:
                violations.append(
                    FieldViolation(
                        "parent_id", "有前置依赖的任务不能作为上级任务", "a task with dependencies cannot be a parent"
                    )
                )
    if changed.id in parents and changed.depends_on:
        violations.append(
            FieldViolation("depends_on", "汇总任务不能设置依赖", "a summary task cannot have dependencies")
        )
    for i, d in enumerate(changed.depends_on):
        if d.task_id in parents:
            violations.append(
                FieldViolation(f"depends_on[{i}].task_id", "不能依赖汇总任务", "cannot depend on a summary task")
            )
    if violations:
        raise ValidationFailed(violations)
    nodes = planning.to_nodes(tasks, calendar())
    try:
        compute(nodes, project_start=0)
    except CycleError as err:
        raise ValidationFailed([domain.cycle_violation(err.cycle, names)]) from None


def _event(
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


def _write_task(session: Session, t: domain.Task, *, now: datetime, new: bool) -> None:
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


def create_planned_task(session: Session, *, command: domain.NewTask, now: datetime) -> domain.Task:
    """Create with the plan-wide checks (parent, summary links) under the plan lock."""
    project_id = command.project_id.strip()
    if project_id:
        lock_plan(session, project_id=project_id, now=now)
    tasks = load_tasks(session, project_id=project_id) if project_id else []
    known = {t.id for t in tasks}
    start, due = domain.validate_new_task(command, known_task_ids=known)
    task = domain.new_task(command, task_id=str(uuid.uuid4()), start=start, due=due, now=now)
    _check_structure(tasks + [task], task, {t.id: t.name for t in tasks + [task]})
    _write_task(session, task, now=now, new=True)
    _event(session, project_id=project_id, task=task, kind="task.created", now=now)
    log.info("task.created", project_id=project_id, task_id=task.id, dependencies=len(task.depends_on))
    return task


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
    return _to_domain(row, deps, int(n))


def delay_reason_codes(session: Session) -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in session.exec(select(DelayReason).order_by(col(DelayReason.position)))]


def update_task(session: Session, *, patch: domain.TaskPatch, now: datetime) -> tuple[domain.Task, str]:
    """Apply a patch under the plan lock: version check (409), field rules, plan structure and
    cycles (422), deliverables before a milestone is done (409), delay reason vs baseline (422)."""
    current = get_task(session, task_id=patch.task_id.strip())
    lock_plan(session, project_id=current.project_id, now=now)
    current = get_task(session, task_id=current.id)  # re-read under the lock
    if patch.expected_version and patch.expected_version != current.version:
        raise Conflict(
            f"任务已被他人修改（当前版本 {current.version}），请刷新后重试",
            f"the task was changed meanwhile (version {current.version}); reload and retry",
            code="stale_version",
        )
    tasks = load_tasks(session, project_id=current.project_id)
    known = {t.id for t in tasks}
    updated = domain.validate_patch(patch, current, known_task_ids=known)
    today = today_cn(now)
    updated = domain.apply_status(updated, patch.status, now=now, today=today)
    if patch.progress is not None and patch.status is None and updated.status == domain.TaskStatus.DONE:
        updated = replace(updated, progress=100)
    merged = [updated if t.id == updated.id else t for t in tasks]
    _check_structure(merged, updated, {t.id: t.name for t in merged})
    becomes_done = updated.status == domain.TaskStatus.DONE and current.status != domain.TaskStatus.DONE
    if becomes_done and updated.requires_deliverables and current.deliverables == 0:
        raise Conflict(
            "该里程碑需要先上传交付物才能标记完成",
            "this milestone needs deliverables before it can be marked done",
            code="deliverables_required",
        )
    schedule = _schedule(session, project_id=current.project_id, tasks=merged, today=today)
    row = next((r for r in schedule.rows if r.task.id == updated.id), None)
    reasons = [c for c, _ in delay_reason_codes(session)]
    if row is not None and updated.status != domain.TaskStatus.DONE:
        violations = domain.check_delay_reason(
            updated.delay_reason, forecast_finish=row.finish, baseline_finish=row.baseline_finish, allowed=reasons
        )
    else:
        violations = domain.check_delay_reason(
            updated.delay_reason, forecast_finish=None, baseline_finish=None, allowed=reasons
        )
    if violations:
        raise ValidationFailed(violations)
    updated = replace(updated, version=current.version + 1, updated_at=now)
    _write_task(session, updated, now=now, new=False)
    _event(
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


def schedule_of(engine: Engine, *, project_id: str, today: date) -> tuple[planning.Schedule, Plan | None]:
    with Session(engine) as session:
        tasks = load_tasks(session, project_id=project_id)
        plan = session.get(Plan, project_id)
        base = _baseline(session, project_id=project_id, number=plan.baseline_no if plan else 0)
    return planning.build(tasks, today=today, baseline=base), plan


def save_baseline(session: Session, *, project_id: str, name: str, now: datetime) -> tuple[int, int]:
    plan = lock_plan(session, project_id=project_id, now=now)
    tasks = load_tasks(session, project_id=project_id)
    schedule = planning.build(tasks, today=today_cn(now))
    number = plan.baseline_no + 1
    for r in schedule.rows:
        session.add(
            Baseline(
                project_id=project_id,
                number=number,
                task_id=r.task.id,
                start=r.start,
                finish=r.finish,
                name=name[:200],
                created_at=now,
            )
        )
    plan.baseline_no = number
    session.add(plan)
    session.flush()
    log.info("plan.baseline_saved", project_id=project_id, number=number, tasks=len(schedule.rows))
    return number, len(schedule.rows)


# ---------------------------------------------------------------- costs


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


def assignee_projects(engine: Engine, *, user_id: str) -> list[str]:
    """Projects where the user is assigned a task."""
    stmt = sa.select(Task.project_id).where(col(Task.assignee_id) == user_id).distinct()  # type: ignore[call-overload]
    with Session(engine) as session:
        return sorted(str(r[0]) for r in session.execute(stmt).all())


ASSIGNEE_STATUSES = ("todo", "in_progress", "done", "blocked")
OPEN = "open"  # every status but done


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encode_assignee_cursor(row: Task) -> str:
    raw = json.dumps([row.due.isoformat() if row.due else "", _utc(row.created_at).isoformat(), row.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_assignee_cursor(cursor: str) -> tuple[date | None, datetime, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due_text, created_text, task_id = raw
        if not all(isinstance(v, str) for v in raw) or not task_id:
            raise ValueError(raw)
        return (date.fromisoformat(due_text) if due_text else None), _utc(datetime.fromisoformat(created_text)), task_id
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


def costs_of(engine: Engine, *, project_id: str) -> tuple[list[Cost], Plan | None, list[domain.Task]]:
    with Session(engine) as session:
        items = list(session.exec(select(Cost).where(Cost.project_id == project_id).order_by(col(Cost.created_at))))
        return items, session.get(Plan, project_id), load_tasks(session, project_id=project_id)


def set_budget(session: Session, *, project_id: str, budget: Decimal | None, now: datetime) -> Plan:
    plan = lock_plan(session, project_id=project_id, now=now)
    plan.budget = budget
    session.add(plan)
    session.flush()
    return plan


# ---------------------------------------------------------------- deliverables


def add_deliverable(
    session: Session,
    *,
    task_id: str,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    uploaded_by: str,
    now: datetime,
) -> Deliverable:
    """Record a file already in the blob store (``sha256`` names its bytes)."""
    task = get_task(session, task_id=task_id)
    violations: list[FieldViolation] = []
    if not filename.strip() or len(filename) > 255:
        violations.append(FieldViolation("file", "文件名无效", "invalid file name"))
    if len(sha256) != 64 or size < 0:
        violations.append(FieldViolation("file", "文件摘要无效", "invalid file digest"))
    if violations:
        raise ValidationFailed(violations)
    row = Deliverable(
        id=str(uuid.uuid4()),
        task_id=task.id,
        project_id=task.project_id,
        filename=filename.strip(),
        content_type=content_type[:100],
        size=size,
        sha256=sha256,
        uploaded_by=uploaded_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    log.info("task.deliverable_added", project_id=task.project_id, task_id=task.id, sha256=sha256, size=size)
    return row


def get_deliverable(engine: Engine, *, deliverable_id: str) -> Deliverable:
    with Session(engine) as session:
        row = session.get(Deliverable, deliverable_id) if deliverable_id else None
        if row is None:
            raise NotFound(f"交付物不存在：{deliverable_id}", f"no such deliverable: {deliverable_id}",
                           code="deliverable_not_found")
        return row


def deliverables_of(engine: Engine, *, task_id: str) -> list[Deliverable]:
    with Session(engine) as session:
        get_task(session, task_id=task_id)
        return list(
            session.exec(
                select(Deliverable).where(Deliverable.task_id == task_id).order_by(col(Deliverable.created_at))
            )
        )


# ---------------------------------------------------------------- rules, reasons, templates


def put_rule(session: Session, *, rule: rules.Rule, body: dict[str, Any], now: datetime) -> RuleRow:
    rules.validate_rule(rule)
    row = session.get(RuleRow, rule.key)
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    if row is None:
        row = RuleRow(key=rule.key, body=text, version=1, updated_at=now)
    elif row.body != text:
        row.body, row.version, row.updated_at = text, row.version + 1, now
    session.add(row)
    session.flush()
    return row


def list_rules(session: Session) -> list[RuleRow]:
    return list(session.exec(select(RuleRow).order_by(col(RuleRow.key))))


def put_delay_reasons(session: Session, *, reasons: list[tuple[str, str]]) -> list[tuple[str, str]]:
    violations: list[FieldViolation] = []
    seen: set[str] = set()
    for i, (code, label) in enumerate(reasons):
        if not code.strip() or len(code) > 50 or code in seen:
            violations.append(
                FieldViolation(f"reasons[{i}].code", "编码为必填且不能重复", "code is required and unique")
            )
        if not label.strip() or len(label) > 100:
            violations.append(FieldViolation(f"reasons[{i}].label", "名称为必填项", "label is required"))
        seen.add(code)
    if not reasons:
        violations.append(FieldViolation("reasons", "至少需要一个延期原因", "at least one reason is required"))
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
    row = session.get(PlanTemplate, business_line) if business_line else None
    if row is None:
        return 0, 0
    lock_plan(session, project_id=project_id, now=now)
    cal = calendar()
    specs = templates.parse(json.loads(row.body))
    ids = {s.key: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{request_id}:{s.key}")) for s in specs}
    created: list[domain.Task] = []
    for s in specs:
        t = domain.Task(
            id=ids[s.key],
            project_id=project_id,
            name=s.name,
            assignee_id="",
            start=cal.add(start, s.offset_days) if not s.depends_on else None,
            due=None,
            duration_days=s.duration_days,
            milestone=s.milestone,
            status=domain.TaskStatus.TODO,
            progress=0,
            created_at=now + timedelta(microseconds=len(created)),
            depends_on=tuple(
                domain.Dependency(ids[d.key], domain.DependencyType(d.type), d.lag_days) for d in s.depends_on
            ),
            parent_id=ids.get(s.parent_key, "") if s.parent_key else "",
            requires_deliverables=s.requires_deliverables,
            updated_at=now,
        )
        created.append(t)
    for t in created:
        _write_task(session, t, now=now, new=True)
        _event(session, project_id=project_id, task=t, kind="task.created", now=now)
    log.info(
        "plan.template_applied",
        project_id=project_id,
        business_line=business_line,
        tasks=len(created),
        template_version=row.version,
    )
    return len(created), row.version


# ---------------------------------------------------------------- rule evaluation


def _levels(value: Any) -> int:
    """JSON numbers arrive as floats through protobuf Struct; anything else is invalid (0)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
        return 0
    return int(value)


def parse_rule(key: str, body: dict[str, Any], version: int = 1) -> rules.Rule:
    trigger = body.get("trigger") or {}
    if not isinstance(trigger, dict):
        trigger = {}
    actions = []
    for a in body.get("actions") or []:
        if isinstance(a, dict):
            to = a.get("to") or []
            actions.append(
                rules.Action(
                    type=str(a.get("type", "")),
                    to=tuple(str(x) for x in (to if isinstance(to, list) else [to])),
                    levels=_levels(a.get("levels", 1)),
                    url=str(a.get("url", "")),
                    secret=str(a.get("secret", "") or ""),
                )
            )
    return rules.Rule(
        key=key,
        name=str(body.get("name", "")),
        trigger=str(trigger.get("type", "")),
        after=str(trigger.get("after", "") or ""),
        before=str(trigger.get("before", "") or ""),
        to_status=str(trigger.get("to", "") or ""),
        share=str(trigger.get("share", "") or ""),
        when=str(body.get("when", "") or ""),
        actions=tuple(actions),
        enabled=bool(body.get("enabled", True)),
        version=version,
    )


@dataclass
class EvalResult:
    evaluation: rules.Evaluation
    events: list[TaskEvent]
    last_seq: int


def evaluate_rules(
    engine: Engine, *, project: rules.ProjectFacts, now: datetime, after_seq: int, limit: int = 200
) -> EvalResult:
    with Session(engine) as session:
        tasks = load_tasks(session, project_id=project.id)
        plan = session.get(Plan, project.id)
        events = list(
            session.exec(
                select(TaskEvent)
                .where(TaskEvent.project_id == project.id, col(TaskEvent.id) > after_seq)
                .order_by(col(TaskEvent.id))
                .limit(limit)
            )
        )
        fired = set(session.exec(select(RuleFire.key).where(RuleFire.project_id == project.id)))
        rule_list = [parse_rule(r.key, json.loads(r.body), r.version) for r in list_rules(session)]
        spent = session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(Cost.amount), 0)).where(col(Cost.project_id) == project.id)
        ).scalar_one()
    budget = plan.budget if plan and plan.budget is not None else project.amount
    schedule = planning.build(tasks, today=today_cn(now))
    by_row = {r.task.id: r for r in schedule.rows}
    downstream: dict[str, list[str]] = defaultdict(list)
    for t in tasks:
        for d in t.depends_on:
            if t.assignee_id:
                downstream[d.task_id].append(t.assignee_id)
    facts = [
        rules.TaskFacts(
            id=t.id,
            name=t.name,
            assignee_id=t.assignee_id,
            status=t.status.value,
            milestone=t.milestone,
            due=t.due or (by_row[t.id].finish if t.id in by_row and t.milestone else None),
            progress=t.progress,
            critical=by_row[t.id].critical if t.id in by_row else False,
            slack_days=by_row[t.id].slack if t.id in by_row else 0,
            downstream_assignees=tuple(dict.fromkeys(downstream.get(t.id, []))),
        )
        for t in tasks
    ]
    status_events = [
        rules.TaskEvent(seq=int(e.id or 0), task_id=e.task_id, from_status=e.from_status, to_status=e.to_status)
        for e in events
        if e.kind == "task.updated" and e.from_status != e.to_status
    ]
    facts_project = replace(project, budget=Decimal(budget or 0), spent=Decimal(spent))
    evaluation = rules.evaluate(
        rule_list, project=facts_project, tasks=facts, events=status_events, now=now, fired=fired
    )
    last = int(events[-1].id or after_seq) if events else after_seq
    return EvalResult(evaluation=evaluation, events=events, last_seq=last)


def record_fire(session: Session, *, fire: RuleFire) -> bool:
    """Record a fire once; a second record of the same key changes nothing."""
    if session.get(RuleFire, fire.key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(fire)
    except IntegrityError:
        return False
    log.info("rule.fired", project_id=fire.project_id, rule=fire.rule_key, task_id=fire.task_id, key=fire.key)
    return True


def fires_of(engine: Engine, *, project_id: str) -> list[RuleFire]:
    with Session(engine) as session:
        return list(
            session.exec(select(RuleFire).where(RuleFire.project_id == project_id).order_by(col(RuleFire.fired_at)))
        )
