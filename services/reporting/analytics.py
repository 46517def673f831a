"""Retrospective analytics over the read models (the store side of ``Analytics``): SQL for the
grouping and counting, Python for percentiles (portable across SQLite and PostgreSQL).

Each report returns a ``Table``: column keys, Chinese labels and kinds, rows of display strings.
Definitions (README "Reporting"):

* cycle_times — days from registration (project.created) to approval (project.approved), approval
  to close (project.closed) and registration to close: count, mean, P50, P90 per group.
* approval_steps — hours a step stayed open (opened → closed) per step name; approvers — hours from
  a step opening to each approver's decision, per approver (bottlenecks first).
* cost_distribution — recorded cost per project, summed and spread per group ("project type" =
  business line by default).
* productivity — per assignee (or team = project department): tasks done, done on time (by the end
  of their due day, Asia/Shanghai), on-time rate, throughput per week, open overdue.
* delay_reasons — tasks per stated delay reason, most frequent first.
* outcomes — closing reviews (复盘) per outcome (won / delivered / lost / cancelled) or per project
  dimension: reviewed projects, budget and recorded cost summed, cost/budget, projects with lessons.
* lessons — lessons learned counted per tag (or per outcome): reviews carrying it, share.
* conversion — registrations, submitted, approved, rejected, approval and conversion rates, and the
  collision (撞单) rate = share of registrations with at least one conflict.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from baobei.core.errors import FieldViolation, ValidationFailed
from services.reporting import domain, health
from services.reporting.store import (
    OPEN_TASK_STATUSES,
    T_ASSIGNEE,
    T_COST,
    T_DECISION,
    T_PROJECT,
    T_REVIEW,
    T_STEP,
    T_TASK,
    Scope,
    local_date,
)

PROJECT_GROUPS = {
    "business_line": "业务线",
    "region": "区域",
    "form_key": "表单",
    "period": "月份",
    "department_id": "部门",
    "owner_id": "负责人",
    "status": "状态",
}
REPORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    # report: (title, allowed group_by; the first is the default)
    "cycle_times": ("周期分析（天）", tuple(PROJECT_GROUPS)),
    "approval_steps": ("审批环节用时（小时）", ("step",)),
    "approvers": ("审批人用时（小时）", ("approver",)),
    "cost_distribution": ("成本分布", ("business_line", "form_key", "region", "department_id", "period")),
    "productivity": ("团队与个人效率", ("assignee_id", "department_id")),
    "delay_reasons": ("延期原因排名", ("reason",)),
    "conversion": ("报备转化与撞单", tuple(PROJECT_GROUPS)),
    "outcomes": ("复盘结果", ("outcome", *PROJECT_GROUPS)),
    "lessons": ("经验教训标签", ("tag", "outcome")),
}
OUTCOME_LABELS = {"won": "赢单", "delivered": "已交付", "lost": "丢单", "cancelled": "已取消"}
NONE_LABEL = "（未填）"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (like numpy's default); q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else ""


def _money(cents: int) -> str:
    return domain.format_amount(Decimal(cents) / 100)


def _stats(values: Sequence[float]) -> list[str]:
    if not values:
        return ["", "", ""]
    return [_num(sum(values) / len(values)), _num(percentile(values, 50)), _num(percentile(values, 90))]


def check(report: str, group_by: str) -> str:
    """The group_by to use (default per report); 422 with field paths for unknown values."""
    if report not in REPORTS:
        raise ValidationFailed(
            [
                FieldViolation(
                    "report", f"未知报表，可选：{'、'.join(REPORTS)}", f"unknown report; one of {', '.join(REPORTS)}"
                )
            ]
        )
    allowed = REPORTS[report][1]
    if not group_by:
        return allowed[0]
    if group_by not in allowed:
        raise ValidationFailed(
            [
                FieldViolation(
                    "group_by", f"该报表可按：{'、'.join(allowed)}", f"group_by must be one of {', '.join(allowed)}"
                )
            ]
        )
    return group_by


def _period(conn: Connection, column: Any) -> Any:
    """Month (Asia/Shanghai) of a timestamp column, as YYYY-MM text."""
    if conn.dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column, "+8 hours")


def _hours(conn: Connection, start: Any, end: Any) -> Any:
    """Hours from ``start`` to ``end`` computed by the database (no per-row datetime parsing in Python)."""
    if conn.dialect.name == "postgresql":
        return sa.extract("epoch", end - start) / 3600.0
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 24.0


def _now(now: datetime) -> Any:
    return sa.bindparam("now_at", now, type_=sa.DateTime(timezone=True))


def _group(conn: Connection, group_by: str, scope: Scope) -> Any:
    if group_by == "period":
        return _period(conn, T_PROJECT.c.created_at)
    return scope.value(group_by)  # a value withheld from the caller groups as unset


def _restrict(stmt: Any, scope: Scope, project_col: Any, *, joined: bool = False) -> Any:
    """Limit a statement over another table to the scope's projects."""
    if scope.unrestricted and not joined:
        return stmt
    return stmt.where(project_col.in_(sa.select(T_PROJECT.c.project_id).where(*scope.where())))


def run(engine: Engine, *, report: str, group_by: str, scope: Scope, now: datetime) -> Table:
    group_by = check(report, group_by)
    title = REPORTS[report][0]
    if scope.nothing:
        return Table(title=title, columns=(), rows=())
    with engine.connect() as conn:
        table: Table = globals()[f"_{report}"](conn, group_by, scope, now)
    return Table(title=title, columns=table.columns, rows=table.rows)


def _label(value: Any) -> str:
    return str(value) if value not in (None, "") else NONE_LABEL


def _cycle_times(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    c = T_PROJECT.c
    stmt = sa.select(
        _group(conn, group_by, scope).label("g"),
        _hours(conn, c.created_at, c.approved_at),
        _hours(conn, c.approved_at, c.closed_at),
        _hours(conn, c.created_at, c.closed_at),
    ).where(*scope.where())
    groups: dict[str, list[list[float]]] = defaultdict(lambda: [[], [], []])
    counts: dict[str, int] = defaultdict(int)
    for g, *spans in conn.execute(stmt):
        key = _label(g)
        counts[key] += 1
        for i, hours in enumerate(spans):
            if hours is not None and hours >= 0:
                groups[key][i].append(float(hours) / 24)
    columns = [Column(group_by, PROJECT_GROUPS.get(group_by, group_by)), Column("projects", "项目数", "number")]
    for span in ("登记→审批", "审批→关闭", "登记→关闭"):
        columns += [
            Column(f"{span}_avg", f"{span} 平均", "days"),
            Column(f"{span}_p50", f"{span} P50", "days"),
            Column(f"{span}_p90", f"{span} P90", "days"),
        ]
    rows = []
    for key in sorted(counts):
        spans = groups[key]
        rows.append((key, str(counts[key]), *_stats(spans[0]), *_stats(spans[1]), *_stats(spans[2])))
    return Table("", tuple(columns), tuple(rows))


def _pg_stats(value: Any, cond: Any = None) -> list[Any]:
    """count, mean, P50, P90 of ``value`` (NULLs ignored; optionally only where ``cond``), computed by
    PostgreSQL: percentile_cont interpolates linearly like ``percentile``."""

    def agg(fn: Any) -> Any:
        return fn if cond is None else fn.filter(cond)

    return [
        agg(sa.func.count(value)),
        agg(sa.func.avg(value)),
        agg(sa.func.percentile_cont(0.5).within_group(value)),
        agg(sa.func.percentile_cont(0.9).within_group(value)),
    ]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _approval_steps(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    s = T_STEP.c
    hours_ = _hours(conn, s.opened_at, sa.func.coalesce(s.closed_at, _now(now)))
    columns = (
        Column("step", "审批环节"),
        Column("decided", "已完成", "number"),
        Column("avg", "平均用时", "hours"),
        Column("p50", "P50", "hours"),
        Column("p90", "P90", "hours"),
        Column("waiting", "等待中", "number"),
        Column("waiting_max", "最长等待", "hours"),
    )
    if conn.dialect.name == "postgresql":
        # Aggregated in the database: a few rows per step name instead of every step to Python.
        h = sa.func.greatest(sa.cast(sa.func.coalesce(hours_, 0), sa.Float), 0.0)
        is_open = s.closed_at.is_(None)
        stmt = sa.select(
            s.step,
            *_pg_stats(h, s.closed_at.is_not(None)),
            sa.func.count().filter(is_open),
            sa.func.max(h).filter(is_open),
        ).group_by(s.step)
        found = list(conn.execute(_restrict(stmt, scope, s.project_id)))
        found.sort(key=lambda r: -(float(r[4]) if r[1] else 0))
        return Table(
            "",
            columns,
            tuple(
                (
                    _label(step),
                    str(n),
                    _num(_float(avg)),
                    _num(_float(p50)),
                    _num(_float(p90)),
                    str(n_open),
                    _num(_float(mx)),
                )
                for step, n, avg, p50, p90, n_open, mx in found
            ),
        )
    stmt = _restrict(sa.select(s.step, s.closed_at.is_(None), hours_), scope, s.project_id)
    done: dict[str, list[float]] = defaultdict(list)
    waiting: dict[str, list[float]] = defaultdict(list)
    for step, is_open, hours in conn.execute(stmt):
        (waiting if is_open else done)[_label(step)].append(max(float(hours or 0), 0.0))
    keys = sorted(set(done) | set(waiting), key=lambda k: -(percentile(done[k], 90) if done[k] else 0))
    rows = tuple(
        (k, str(len(done[k])), *_stats(done[k]), str(len(waiting[k])), _num(max(waiting[k], default=None)))
        for k in keys
    )
    return Table("", columns, rows)


def _approvers(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    d, s = T_DECISION.c, T_STEP.c
    columns = (
        Column("approver", "审批人"),
        Column("decisions", "决定数", "number"),
        Column("avg", "平均用时", "hours"),
        Column("p50", "P50", "hours"),
        Column("p90", "P90", "hours"),
        Column("rejected", "驳回/退回", "number"),
    )
    step_of = sa.and_(s.instance_id == d.instance_id, s.step_index == d.step_index)
    if conn.dialect.name == "postgresql":
        # Aggregated in the database: one row per approver instead of every decision to Python.
        h = sa.func.greatest(sa.cast(_hours(conn, s.opened_at, d.at), sa.Float), 0.0)
        stmt = sa.select(
            d.user_id,
            sa.func.count(),
            *_pg_stats(h)[1:],
            sa.func.count().filter(d.action.in_(("reject", "return"))),
        ).join(T_STEP, step_of, isouter=True)
        found = list(conn.execute(_restrict(stmt, scope, d.project_id).group_by(d.user_id)))
        found.sort(key=lambda r: (-(_float(r[2]) or 0), r[0]))
        return Table(
            "",
            columns,
            tuple(
                (user, str(n), _num(_float(avg)), _num(_float(p50)), _num(_float(p90)), str(n_rej))
                for user, n, avg, p50, p90, n_rej in found
            ),
        )
    stmt = sa.select(d.user_id, d.action, _hours(conn, s.opened_at, d.at)).join(T_STEP, step_of, isouter=True)
    stmt = _restrict(stmt, scope, d.project_id)
    hours: dict[str, list[float]] = defaultdict(list)
    actions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for user, action, waited in conn.execute(stmt):
        actions[user][action] += 1
        if waited is not None:
            hours[user].append(max(float(waited), 0.0))
    keys = sorted(actions, key=lambda k: (-(sum(hours[k]) / len(hours[k]) if hours[k] else 0), k))
    rows = tuple(
        (k, str(sum(actions[k].values())), *_stats(hours[k]), str(actions[k]["reject"] + actions[k]["return"]))
        for k in keys
    )
    return Table("", columns, rows)


def _cost_distribution(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    per_project = (
        sa.select(T_COST.c.project_id.label("pid"), sa.func.sum(T_COST.c.amount_cents).label("cents"))
        .group_by(T_COST.c.project_id)
        .subquery()
    )
    g = _group(conn, group_by, scope)
    stmt = (
        sa.select(g.label("g"), per_project.c.cents)
        .select_from(T_PROJECT.join(per_project, per_project.c.pid == T_PROJECT.c.project_id))
        .where(*scope.where())
    )
    values: dict[str, list[int]] = defaultdict(list)
    for key, cents in conn.execute(stmt):
        values[_label(key)].append(int(cents or 0))
    columns = (
        Column(group_by, PROJECT_GROUPS.get(group_by, group_by)),
        Column("projects", "有成本项目数", "number"),
        Column("total", "成本合计（元）", "money"),
        Column("avg", "平均每项目（元）", "money"),
        Column("p50", "P50（元）", "money"),
        Column("p90", "P90（元）", "money"),
        Column("share", "占比", "percent"),
    )
    grand = sum(sum(v) for v in values.values())
    rows = []
    for key in sorted(values, key=lambda k: -sum(values[k])):
        v = values[key]
        rows.append(
            (
                key,
                str(len(v)),
                _money(sum(v)),
                _money(round(sum(v) / len(v))),
                _money(round(percentile(v, 50))),
                _money(round(percentile(v, 90))),
                _pct(sum(v), grand),
            )
        )
    return Table("", columns, tuple(rows))


def _productivity_rows(conn: Connection, group_by: str, scope: Scope, today: Any) -> list[tuple[Any, ...]]:
    """(group, tasks, done, on_time, overdue, first_done_at, last_done_at) per group."""
    t = T_TASK.c
    overdue = sa.and_(t.status.in_(OPEN_TASK_STATUSES), t.due.is_not(None), t.due < today)
    if group_by == "assignee_id" and scope.unrestricted:
        # The counts come from the per-assignee summary kept at ingest; only "overdue", which moves
        # with the clock, is counted here (an index-only range scan of open tasks due before today).
        user_: sa.ColumnElement[Any] = t.assignee_id
        if conn.dialect.name == "sqlite":
            # Else SQLite walks the (assignee_id, status) index to skip the GROUP BY sort, fetching
            # every task; the covering (status, due, assignee_id) range plus a small sort is far cheaper.
            user_ = user_ + ""
        late: dict[str, int] = {
            user: int(n)
            for user, n in conn.execute(
                sa.select(user_, sa.func.count()).where(t.status.in_(OPEN_TASK_STATUSES), t.due < today).group_by(user_)
            )
        }
        a = T_ASSIGNEE.c
        summary = sa.select(a.assignee_id, a.tasks, a.done, a.on_time, a.first_done_at, a.last_done_at)
        return [
            (user, n, n_done, n_on_time, late.get(user, 0), first, last)
            for user, n, n_done, n_on_time, first, last in conn.execute(summary.where(a.tasks > 0))
        ]
    done, on_time = (
        sa.func.sum(sa.case((t.status == "done", 1), else_=0)),
        sa.func.sum(
            sa.case(
                (
                    sa.and_(
                        t.status == "done",
                        t.due.is_not(None),
                        t.done_at.is_not(None),
                        local_date(conn.dialect.name, t.done_at) <= t.due,
                    ),
                    1,
                ),
                else_=0,
            )
        ),
    )
    g: sa.ColumnElement[Any] = t.assignee_id if group_by == "assignee_id" else T_PROJECT.c.department_id
    if conn.dialect.name == "sqlite" and group_by == "assignee_id":
        # Otherwise SQLite walks the (assignee_id, status) index and fetches every task row from it at
        # random: a full scan plus a sort is several times faster for an aggregate over all tasks.
        g = g + ""
    stmt = sa.select(
        g.label("g"),
        sa.func.count(),
        done,
        on_time,
        sa.func.sum(sa.case((overdue, 1), else_=0)),
        sa.func.min(t.done_at),
        sa.func.max(t.done_at),
    )
    if group_by == "department_id":
        stmt = stmt.select_from(T_TASK.join(T_PROJECT, T_PROJECT.c.project_id == t.project_id)).where(*scope.where())
    else:
        stmt = _restrict(stmt.select_from(T_TASK), scope, t.project_id)
    return [tuple(r) for r in conn.execute(stmt.group_by(g))]


def _productivity(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    columns = (
        Column(group_by, "负责人" if group_by == "assignee_id" else "团队（部门）"),
        Column("tasks", "任务数", "number"),
        Column("done", "已完成", "number"),
        Column("on_time", "按时完成", "number"),
        Column("on_time_rate", "按时率", "percent"),
        Column("per_week", "周吞吐（个/周）", "number"),
        Column("overdue", "逾期未完成", "number"),
    )
    today = health.today_of(now)
    rows = []
    for key, n, n_done, n_on_time, n_overdue, first, last in _productivity_rows(conn, group_by, scope, today):
        n_done, n_on_time = int(n_done or 0), int(n_on_time or 0)
        weeks = 1.0
        if first and last:
            first_dt = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
            last_dt = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
            weeks = max((last_dt - first_dt) / timedelta(weeks=1), 1.0)
        rows.append(
            (
                _label(key),
                str(n),
                str(n_done),
                str(n_on_time),
                _pct(n_on_time, n_done),
                _num(n_done / weeks, 2),
                str(int(n_overdue or 0)),
            )
        )
    rows.sort(key=lambda r: (-int(r[2]), r[0]))
    return Table("", columns, tuple(rows))


def _delay_reasons(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    t = T_TASK.c
    n = sa.func.count().label("n")
    stmt = _restrict(sa.select(t.delay_reason, n).where(t.delay_reason != ""), scope, t.project_id)
    counts = list(conn.execute(stmt.group_by(t.delay_reason).order_by(n.desc(), t.delay_reason)))
    total = sum(int(c) for _, c in counts)
    columns = (
        Column("rank", "排名", "number"),
        Column("reason", "延期原因"),
        Column("tasks", "任务数", "number"),
        Column("share", "占比", "percent"),
    )
    rows = tuple((str(i + 1), reason, str(int(c)), _pct(int(c), total)) for i, (reason, c) in enumerate(counts))
    return Table("", columns, rows)


def _conversion(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    c = T_PROJECT.c

    def count_if(cond: Any) -> Any:
        return sa.func.sum(sa.case((cond, 1), else_=0))

    g = _group(conn, group_by, scope)
    stmt = (
        sa.select(
            g.label("g"),
            sa.func.count(),
            count_if(c.submitted_at.is_not(None)),
            count_if(c.approved_at.is_not(None)),
            count_if(c.rejected_at.is_not(None)),
            count_if(c.conflict_count > 0),
        )
        .where(*scope.where())
        .group_by(g)
    )
    columns = (
        Column(group_by, PROJECT_GROUPS.get(group_by, group_by)),
        Column("registered", "报备数", "number"),
        Column("submitted", "已提交", "number"),
        Column("approved", "已通过", "number"),
        Column("rejected", "已驳回", "number"),
        Column("approval_rate", "审批通过率", "percent"),
        Column("conversion", "转化率", "percent"),
        Column("collision_rate", "撞单率", "percent"),
    )
    rows = []
    for key, n, sub, app, rej, col_ in conn.execute(stmt):
        n, sub, app, rej, col_ = (int(x or 0) for x in (n, sub, app, rej, col_))
        rows.append(
            (_label(key), str(n), str(sub), str(app), str(rej), _pct(app, app + rej), _pct(app, n), _pct(col_, n))
        )
    rows.sort(key=lambda r: r[0])
    return Table("", columns, tuple(rows))


def _outcomes(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    per_project = (
        sa.select(T_COST.c.project_id.label("pid"), sa.func.sum(T_COST.c.amount_cents).label("cents"))
        .group_by(T_COST.c.project_id)
        .subquery()
    )
    g = T_REVIEW.c.outcome if group_by == "outcome" else _group(conn, group_by, scope)
    budget = scope.value("amount", "amount_cents")
    stmt = (
        sa.select(
            g.label("g"),
            sa.func.count(),
            sa.func.sum(budget),
            sa.func.sum(sa.case((budget.is_not(None), sa.func.coalesce(per_project.c.cents, 0)), else_=0)),
            sa.func.sum(sa.func.coalesce(per_project.c.cents, 0)),
            sa.func.sum(sa.case((T_REVIEW.c.lessons != "", 1), else_=0)),
        )
        .select_from(
            T_REVIEW.join(T_PROJECT, T_PROJECT.c.project_id == T_REVIEW.c.project_id).outerjoin(
                per_project, per_project.c.pid == T_REVIEW.c.project_id
            )
        )
        .where(*scope.where())
        .group_by(g)
    )
    label = "结果" if group_by == "outcome" else PROJECT_GROUPS.get(group_by, group_by)
    columns = (
        Column(group_by, label),
        Column("projects", "复盘项目数", "number"),
        Column("budget", "预算合计（元）", "money"),
        Column("cost", "成本合计（元）", "money"),
        Column("cost_ratio", "成本/预算", "percent"),
        Column("with_lessons", "有经验教训", "number"),
    )
    rows = []
    for key, n, budget_cents, budgeted_cost, cost_cents, lessons in conn.execute(stmt):
        b, bc, c = int(budget_cents or 0), int(budgeted_cost or 0), int(cost_cents or 0)
        shown = OUTCOME_LABELS.get(str(key), _label(key)) if group_by == "outcome" else _label(key)
        rows.append((shown, str(int(n or 0)), _money(b), _money(c), _pct(bc, b), str(int(lessons or 0))))
    rows.sort(key=lambda r: (-int(r[1]), r[0]))
    return Table("", columns, tuple(rows))


def _lessons(conn: Connection, group_by: str, scope: Scope, now: datetime) -> Table:
    stmt = _restrict(sa.select(T_REVIEW.c.outcome, T_REVIEW.c.tags), scope, T_REVIEW.c.project_id)
    counts: dict[str, int] = defaultdict(int)
    reviews = 0
    for outcome, tags in conn.execute(stmt):
        reviews += 1
        if group_by == "outcome":
            counts[OUTCOME_LABELS.get(outcome, _label(outcome))] += 1
        else:
            for tag in tags or ():
                counts[str(tag)] += 1
    columns = (
        Column(group_by, "标签" if group_by == "tag" else "结果"),
        Column("reviews", "复盘数", "number"),
        Column("share", "占复盘", "percent"),
    )
    rows = tuple((k, str(n), _pct(n, reviews)) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Table("", columns, rows)
