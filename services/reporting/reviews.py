"""Closing reviews (复盘) read back: what people recorded (project_review) with the facts reporting
computes from its read models at read time — final cost (recorded costs) vs budget (the project's
amount), schedule (latest actual finish vs the latest baseline finish of the tasks, the tasks
service's saved baseline), delay reasons (the tasks' stated reasons; else the late tasks) — and the
cross-project lessons search. Computed, never stored: a rebuild reproduces them from the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.reporting import domain, health
from services.reporting.store import T_PROJECT, T_REVIEW, Scope, costs_of, tasks_of

OUTCOME_LABELS = {"won": "赢单", "delivered": "已交付", "lost": "丢单", "cancelled": "已取消"}
MAX_LESSONS = 500


@dataclass(frozen=True)
class LateTask:
    task_id: str
    name: str
    baseline_finish: date
    finish: date
    slip_days: int
    delay_reason: str


@dataclass(frozen=True)
class Review:
    project_id: str
    code: str
    name: str
    status: str
    owner_id: str
    business_line: str
    region: str
    outcome: str
    reason: str
    lessons: str
    tags: tuple[str, ...]
    delay_summary: str
    delay_summary_generated: bool
    budget: Decimal | None
    cost: Decimal
    baseline_finish: date | None
    actual_finish: date | None
    delay_reasons: tuple[tuple[str, int], ...]
    late_tasks: tuple[LateTask, ...]
    tasks: int
    tasks_done: int
    reviewed_at: datetime
    reviewed_by: str
    closed_at: datetime | None

    @property
    def cost_variance(self) -> Decimal | None:
        return self.cost - self.budget if self.budget is not None else None

    @property
    def cost_ratio(self) -> float:
        return float(self.cost / self.budget) if self.budget else 0.0

    @property
    def slip_days(self) -> int:
        if self.baseline_finish is None or self.actual_finish is None:
            return 0
        return (self.actual_finish - self.baseline_finish).days


def task_finish(t: health.TaskFact) -> date | None:
    """When a task finished (its done day, Asia/Shanghai) or, open, when it is planned to."""
    if t.done and t.done_at is not None:
        return health.today_of(t.done_at)
    return t.finish or t.due


def schedule(tasks: Sequence[health.TaskFact]) -> tuple[date | None, date | None, list[LateTask]]:
    """(latest baseline finish, latest actual finish, late tasks — latest slip first)."""
    baselines = [t.baseline_finish for t in tasks if t.baseline_finish]
    finishes = [f for f in (task_finish(t) for t in tasks) if f]
    late: list[LateTask] = []
    for t in tasks:
        planned, finish = t.baseline_finish or t.due, task_finish(t)
        if planned and finish and finish > planned:
            late.append(LateTask(t.task_id, t.name, planned, finish, (finish - planned).days, t.delay_reason))
    late.sort(key=lambda x: (-x.slip_days, x.name, x.task_id))
    return (max(baselines) if baselines else None), (max(finishes) if finishes else None), late


def delay_summary(reasons: Sequence[tuple[str, int]], late: Sequence[LateTask]) -> str:
    """A one-line summary: the stated reasons with their counts; else the late tasks."""
    if not late and not reasons:
        return "无延期任务"
    head = f"延期任务 {len(late)} 个" if late else "延期任务 0 个"
    if reasons:
        return f"{head}；原因：" + "、".join(f"{r}（{n}）" for r, n in reasons)
    worst = "、".join(f"{t.name or t.task_id}（{t.slip_days} 天）" for t in late[:5])
    return f"{head}，未填写原因：{worst}" + ("等" if len(late) > 5 else "")


def get(engine: Engine, *, project_id: str) -> Review | None:
    with engine.connect() as conn:
        r = conn.execute(sa.select(T_REVIEW).where(T_REVIEW.c.project_id == project_id)).first()
        if r is None:
            return None
        p = conn.execute(sa.select(T_PROJECT).where(T_PROJECT.c.project_id == project_id)).first()
        tasks = tasks_of(conn, [project_id]).get(project_id, [])
        cost = costs_of(conn, [project_id]).get(project_id, Decimal("0"))
    baseline, actual, late = schedule(tasks)
    counts = Counter(t.delay_reason for t in tasks if t.delay_reason)
    reasons = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    written = (r.delay_summary or "").strip()
    return Review(
        project_id=project_id,
        code=p.code if p else "",
        name=p.name if p else "",
        status=p.status if p else "",
        owner_id=p.owner_id if p else "",
        business_line=p.business_line if p else "",
        region=p.region if p else "",
        outcome=r.outcome,
        reason=r.reason,
        lessons=r.lessons,
        tags=tuple(r.tags or ()),
        delay_summary=written or delay_summary(reasons, late),
        delay_summary_generated=not written,
        budget=Decimal(p.amount_cents) / 100 if p is not None and p.amount_cents is not None else None,
        cost=cost,
        baseline_finish=baseline,
        actual_finish=actual,
        delay_reasons=reasons,
        late_tasks=tuple(late),
        tasks=len(tasks),
        tasks_done=sum(1 for t in tasks if t.done),
        reviewed_at=domain.as_utc(r.reviewed_at),
        reviewed_by=r.reviewed_by,
        closed_at=domain.as_utc(p.closed_at) if p is not None and p.closed_at else None,
    )


@dataclass(frozen=True)
class Lesson:
    project_id: str
    code: str
    name: str
    business_line: str
    outcome: str
    reason: str
    lessons: str
    tags: tuple[str, ...]
    reviewed_at: datetime
    reviewed_by: str


def search(
    engine: Engine, *, scope: Scope, q: str = "", tag: str = "", outcome: str = "", business_line: str = "",
    limit: int = 100,
) -> tuple[list[Lesson], dict[str, int]]:
    """Reviews of the scope's projects that match (q: case-insensitive substring of lessons, reason,
    tags, code or name; tag: exact; outcome; business line — a withheld one matches nothing),
    newest first, at most ``limit``; and the tag counts over all matches."""
    if scope.nothing:
        return [], {}
    bl = scope.value("business_line")
    stmt = (
        sa.select(
            T_REVIEW,
            T_PROJECT.c.code,
            T_PROJECT.c.name,
            bl.label("business_line"),
        )
        .select_from(T_REVIEW.outerjoin(T_PROJECT, T_PROJECT.c.project_id == T_REVIEW.c.project_id))
        .order_by(T_REVIEW.c.reviewed_at.desc(), T_REVIEW.c.project_id)
    )
    if not scope.all_projects:
        stmt = stmt.where(T_REVIEW.c.project_id.in_(sorted(set(scope.project_ids))))
    if outcome:
        stmt = stmt.where(T_REVIEW.c.outcome == outcome)
    if business_line:
        stmt = stmt.where(bl == business_line)
    needle = q.strip().casefold()
    out: list[Lesson] = []
    tags: Counter[str] = Counter()
    with engine.connect() as conn:
        for r in conn.execute(stmt):
            row_tags = tuple(r.tags or ())
            if tag and tag not in row_tags:
                continue
            if needle:
                hay = "\n".join((r.lessons or "", r.reason or "", " ".join(row_tags), r.code or "", r.name or ""))
                if needle not in hay.casefold():
                    continue
            tags.update(row_tags)
            if len(out) < limit:
                out.append(
                    Lesson(
                        project_id=r.project_id,
                        code=r.code or "",
                        name=r.name or "",
                        business_line=r.business_line or "",
                        outcome=r.outcome,
                        reason=r.reason,
                        lessons=r.lessons,
                        tags=row_tags,
                        reviewed_at=domain.as_utc(r.reviewed_at),
                        reviewed_by=r.reviewed_by,
                    )
                )
    return out, dict(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])))
