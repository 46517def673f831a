"""Project health, early-warning conditions, resource load and burndown: pure rules over task and
cost facts. No grpc/database imports.

Earned value, with hours turned into money by ``Thresholds.hour_rate``:

* BAC (budget at completion) = Σ estimate_hours × rate.
* PV (planned value at ``today``) = Σ estimate × planned share, the planned share growing linearly
  over the task's working days from ``start`` to ``due`` (1 once ``due`` is past).
* EV (earned value) = Σ estimate × progress (a done task counts in full).
* AC (actual cost) = Σ recorded costs.  SPI = EV / PV, CPI = EV / AC; EAC = BAC / CPI.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from baobei.core.errors import FieldViolation, ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
DONE = "done"
DEFAULT_ESTIMATE_HOURS = 8.0  # a task without an estimate weighs one working day
GREEN, AMBER, RED = "green", "amber", "red"


@dataclass(frozen=True)
class Thresholds:
    spi_amber: float = 0.95
    spi_red: float = 0.85
    cpi_amber: float = 0.95
    cpi_red: float = 0.85
    slip_amber_days: int = 1
    slip_red_days: int = 5
    overdue_amber: int = 1
    overdue_red: int = 3
    hour_rate: Decimal = Decimal("300.00")
    weekly_capacity_hours: float = 40.0
    cost_warning_ratio: float = 0.9

    def as_json(self) -> dict[str, Any]:
        return {f.name: str(v) if isinstance(v := getattr(self, f.name), Decimal) else v for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Thresholds:
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                values[key] = Decimal(str(value)) if key == "hour_rate" else value
        return replace(cls(), **values)


def validate_thresholds(t: Thresholds) -> Thresholds:
    """Every violation at once, with the setting's name as the field path."""
    v: list[FieldViolation] = []

    def bad(key: str, zh: str, en: str) -> None:
        v.append(FieldViolation(f"settings.{key}", zh, en))

    for kind in ("spi", "cpi"):
        amber, red = getattr(t, f"{kind}_amber"), getattr(t, f"{kind}_red")
        if not 0 < red <= amber <= 10:
            bad(
                f"{kind}_red",
                f"{kind.upper()} 阈值须满足 0 < 红 ≤ 黄 ≤ 10",
                f"need 0 < {kind}_red <= {kind}_amber <= 10",
            )
    for kind in ("slip", "overdue"):
        suffix = "_days" if kind == "slip" else ""
        amber, red = getattr(t, f"{kind}_amber{suffix}"), getattr(t, f"{kind}_red{suffix}")
        if not 0 < amber <= red:
            bad(f"{kind}_red{suffix}", "须满足 0 < 黄 ≤ 红", f"need 0 < {kind}_amber <= {kind}_red")
    rate = t.hour_rate
    # adjusted() first: quantize of "1e999999" does not fit the context and raises.
    if not rate.is_finite() or rate <= 0 or rate.adjusted() > 9 or rate != rate.quantize(Decimal("0.01")):
        bad("hour_rate", "小时费率须为正数，最多两位小数", "hour_rate must be positive with at most 2 decimals")
    if not 0 < t.weekly_capacity_hours <= 168:
        bad("weekly_capacity_hours", "每周产能须在 0 到 168 小时之间", "weekly capacity must be in (0, 168]")
    if not 0 < t.cost_warning_ratio <= 1:
        bad("cost_warning_ratio", "成本预警比例须在 0 到 1 之间", "cost_warning_ratio must be in (0, 1]")
    if v:
        raise ValidationFailed(v)
    return t


@dataclass(frozen=True)
class TaskFact:
    task_id: str
    project_id: str
    name: str = ""
    assignee_id: str = ""
    status: str = "todo"
    start: date | None = None
    due: date | None = None
    finish: date | None = None
    baseline_finish: date | None = None
    estimate_hours: float = 0.0
    progress: float = 0.0
    milestone: bool = False
    delay_reason: str = ""
    done_at: datetime | None = None

    @property
    def weight(self) -> float:
        return self.estimate_hours if self.estimate_hours > 0 else DEFAULT_ESTIMATE_HOURS

    @property
    def done(self) -> bool:
        return self.status == DONE


@dataclass(frozen=True)
class Health:
    health: str = GREEN
    reasons: tuple[str, ...] = ()
    spi: float | None = None
    cpi: float | None = None
    planned_value: Decimal = Decimal("0.00")
    earned_value: Decimal = Decimal("0.00")
    actual_cost: Decimal = Decimal("0.00")
    budget: Decimal = Decimal("0.00")
    open_tasks: int = 0
    overdue_tasks: int = 0
    milestone_slip_days: int = 0

    @property
    def forecast_cost(self) -> Decimal | None:
        """EAC = BAC / CPI, when a CPI exists."""
        if not self.cpi:
            return None
        return (self.budget / Decimal(str(self.cpi))).quantize(Decimal("0.01"))


def today_of(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def workdays(start: date, end: date) -> list[date]:
    """Mon–Fri days in [start, end] (holidays are not modelled here: a plan's share is relative)."""
    if end < start:
        return []
    return [start + timedelta(d) for d in range((end - start).days + 1) if (start + timedelta(d)).weekday() < 5]


def planned_share(task: TaskFact, today: date) -> float:
    """Share of the task planned to be done by the end of ``today``."""
    if task.due is None:
        return 0.0
    if today >= task.due:
        return 1.0
    start = task.start or task.due
    if today < start:
        return 0.0
    days = workdays(start, task.due) or [task.due]
    elapsed = sum(1 for d in days if d <= today)
    return elapsed / len(days)


def earned_share(task: TaskFact) -> float:
    return 1.0 if task.done else min(max(task.progress, 0.0), 1.0)


def milestone_slip(task: TaskFact, today: date) -> int:
    """Days a milestone's (forecast) finish lies after its baseline; 0 without a baseline."""
    if not task.milestone or task.baseline_finish is None:
        return 0
    if task.done:
        forecast = task.done_at.astimezone(SHANGHAI).date() if task.done_at else (task.finish or task.due)
    else:
        forecast = task.finish or task.due or task.baseline_finish
        forecast = max(forecast, today) if today > forecast else forecast
    return max(((forecast or task.baseline_finish) - task.baseline_finish).days, 0)


def is_overdue(task: TaskFact, today: date) -> bool:
    return not task.done and task.due is not None and task.due < today


def _money(hours: float, rate: Decimal) -> Decimal:
    return (Decimal(str(round(hours, 4))) * rate).quantize(Decimal("0.01"))


def assess(tasks: Sequence[TaskFact], actual_cost: Decimal, t: Thresholds, today: date) -> Health:
    """Green / amber / red with the reasons (Chinese), from SPI, CPI, milestone slippage and overdue tasks."""
    if not tasks and actual_cost == 0:
        return Health()
    bac_h = sum(x.weight for x in tasks)
    pv_h = sum(x.weight * planned_share(x, today) for x in tasks)
    ev_h = sum(x.weight * earned_share(x) for x in tasks)
    pv, ev, budget = _money(pv_h, t.hour_rate), _money(ev_h, t.hour_rate), _money(bac_h, t.hour_rate)
    spi = round(ev_h / pv_h, 3) if pv_h > 0 else None
    cpi = round(float(ev / actual_cost), 3) if actual_cost > 0 else None
    overdue = sum(1 for x in tasks if is_overdue(x, today))
    slip = max((milestone_slip(x, today) for x in tasks), default=0)
    level = GREEN
    reasons: list[str] = []

    def flag(red: bool, amber: bool, text: str) -> None:
        nonlocal level
        if red:
            level = RED
        elif amber and level == GREEN:
            level = AMBER
        if red or amber:
            reasons.append(text)

    if spi is not None:
        flag(spi < t.spi_red, spi < t.spi_amber, f"进度偏差：SPI {spi:.2f}（计划值 {pv} 元，挣值 {ev} 元）")
    if cpi is not None:
        flag(cpi < t.cpi_red, cpi < t.cpi_amber, f"成本偏差：CPI {cpi:.2f}（实际成本 {actual_cost} 元，挣值 {ev} 元）")
    flag(slip >= t.slip_red_days, slip >= t.slip_amber_days, f"里程碑延误 {slip} 天")
    flag(overdue >= t.overdue_red, overdue >= t.overdue_amber, f"逾期任务 {overdue} 个")
    return Health(
        health=level,
        reasons=tuple(reasons),
        spi=spi,
        cpi=cpi,
        planned_value=pv,
        earned_value=ev,
        actual_cost=actual_cost.quantize(Decimal("0.01")),
        budget=budget,
        open_tasks=sum(1 for x in tasks if not x.done),
        overdue_tasks=overdue,
        milestone_slip_days=slip,
    )


# ---------------------------------------------------------------- early warnings


@dataclass(frozen=True)
class WarningCondition:
    """A condition that holds now. ``key`` identifies it for good: it is raised (and notified) once."""

    key: str
    kind: str
    title: str
    body: str
    recipient_ids: tuple[str, ...]
    project_id: str = ""
    user_id: str = ""
    week: str = ""


def project_warnings(
    *, project_id: str, name: str, code: str, owner_id: str, health: Health, t: Thresholds, closed: bool
) -> list[WarningCondition]:
    """Schedule deviation (SPI below the amber threshold) and cost about to overrun (actual cost at
    ``cost_warning_ratio`` of the budget before the work is earned, or the forecast EAC above it)."""
    if closed:
        return []
    label = f"{code} {name}".strip() or project_id
    recipients = (owner_id,) if owner_id else ()
    out: list[WarningCondition] = []
    if health.spi is not None and health.spi < t.spi_amber:
        out.append(
            WarningCondition(
                key=f"schedule:{project_id}",
                kind="schedule_deviation",
                title=f"进度预警：{label}",
                body=f"SPI {health.spi:.2f} 低于 {t.spi_amber:.2f}；计划值 {health.planned_value} 元，"
                f"挣值 {health.earned_value} 元。",
                recipient_ids=recipients,
                project_id=project_id,
            )
        )
    eac = health.forecast_cost
    budget = health.budget
    near = (
        budget > 0
        and health.actual_cost >= budget * Decimal(str(t.cost_warning_ratio))
        and (health.earned_value < health.actual_cost)
    )
    if budget > 0 and (near or (eac is not None and eac > budget)):
        out.append(
            WarningCondition(
                key=f"cost:{project_id}",
                kind="cost_overrun",
                title=f"成本预警：{label}",
                body=f"实际成本 {health.actual_cost} 元，预算 {budget} 元"
                + (f"，预计完工成本 {eac} 元" if eac is not None else "")
                + "。",
                recipient_ids=recipients,
                project_id=project_id,
            )
        )
    return out


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_load(tasks: Iterable[TaskFact]) -> dict[str, float]:
    """Hours per ISO week of one person's open tasks, each estimate spread evenly over its working
    days (a task with only a due date lands on that day)."""
    load: dict[str, float] = defaultdict(float)
    for x in tasks:
        if x.done or x.estimate_hours <= 0 or x.due is None:
            continue
        remaining = x.estimate_hours * (1 - earned_share(x))
        days = workdays(x.start or x.due, x.due) or [x.due]
        for d in days:
            load[iso_week(d)] += remaining / len(days)
    return dict(load)


def overload_warnings(user_id: str, tasks: Iterable[TaskFact], t: Thresholds, today: date) -> list[WarningCondition]:
    """A person loaded over capacity in a week (this week or later)."""
    current = iso_week(today)
    return [
        WarningCondition(
            key=f"overload:{user_id}:{week}",
            kind="over_capacity",
            title=f"负荷预警：{user_id} 在 {week} 排期 {hours:.1f} 小时",
            body=f"{user_id} 在 {week} 的任务估算合计 {hours:.1f} 小时，"
            f"超过每周产能 {t.weekly_capacity_hours:g} 小时。",
            recipient_ids=(user_id,),
            user_id=user_id,
            week=week,
        )
        for week, hours in sorted(weekly_load(tasks).items())
        if week >= current and hours > t.weekly_capacity_hours + 1e-9
    ]


# ---------------------------------------------------------------- burndown


@dataclass(frozen=True)
class BurnPoint:
    day: date
    remaining_hours: float
    ideal_hours: float | None = None


@dataclass(frozen=True)
class Burndown:
    points: tuple[BurnPoint, ...] = field(default_factory=tuple)


def burndown(tasks: Sequence[TaskFact], today: date, max_days: int = 366) -> Burndown:
    """Remaining estimated hours per day (tasks leave the line when done) beside the ideal straight
    line from the earliest start to the latest due date."""
    dated = [x for x in tasks if x.start or x.due]
    if not dated:
        return Burndown()
    first = min(d for x in dated if (d := x.start or x.due) is not None)
    last = max(d for x in dated if (d := x.due or x.start) is not None)
    end = min(max(last, today), first + timedelta(max_days))
    total = sum(x.weight for x in tasks)
    span = max((last - first).days, 1)
    done_on = {
        x.task_id: (x.done_at.astimezone(SHANGHAI).date() if x.done_at else (x.finish or today))
        for x in tasks
        if x.done
    }
    points = []
    for i in range((end - first).days + 1):
        day = first + timedelta(i)
        remaining = total - sum(x.weight for x in tasks if x.task_id in done_on and done_on[x.task_id] <= day)
        ideal = max(total * (1 - (day - first).days / span), 0.0) if day <= last else 0.0
        points.append(BurnPoint(day=day, remaining_hours=round(remaining, 2), ideal_hours=round(ideal, 2)))
    return Burndown(points=tuple(points))
