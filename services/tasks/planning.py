"""From stored tasks to a dated schedule: durations in working days, CPM on indices
(:mod:`services.tasks.schedule`), back to ISO dates, with baseline variance. Pure.

A task's duration: working days from start to due when both are set, else ``duration_days``,
else 1 (a milestone: 0). Its start: pinned → exactly ``start``; actual start once started; a done
task keeps its actual dates (done day = finish), so a late finish moves its successors; else
``start`` is "no earlier than", and a task with only a due date is placed to end on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.tasks import domain
from services.tasks.schedule import Link, Node, Plan, compute
from services.tasks.workdays import WorkCalendar, calendar


@dataclass(frozen=True)
class Row:
    task: domain.Task
    start: date
    finish: date  # inclusive (a milestone: its date)
    duration: int
    early_start: date
    early_finish: date
    late_start: date
    late_finish: date
    slack: int
    critical: bool
    progress: int
    summary: bool
    baseline_start: date | None
    baseline_finish: date | None
    variance: int  # working days forecast finish − baseline finish

    @property
    def delay_reason_missing(self) -> bool:
        return self.variance > 0 and not self.task.delay_reason and self.task.status != domain.TaskStatus.DONE


@dataclass(frozen=True)
class Schedule:
    rows: list[Row]
    start: date | None
    finish: date | None
    duration: int
    critical_path: list[str]
    plan: Plan


def duration_of(t: domain.Task, cal: WorkCalendar) -> int:
    if t.milestone:
        return 0
    if t.start and t.due:
        return max(cal.working_days(t.start, t.due), 1)
    return t.duration_days if t.duration_days > 0 else domain.DEFAULT_DURATION


def to_nodes(tasks: list[domain.Task], cal: WorkCalendar) -> list[Node]:
    nodes: list[Node] = []
    for t in tasks:
        d = duration_of(t, cal)
        not_before = fixed_start = fixed_finish = None
        # A milestone with predecessors is shown at the end of the day before its index.
        shift = 1 if d == 0 and t.depends_on else 0
        if t.start:
            not_before = cal.index_on_or_after(t.start) + shift
        elif t.due:
            not_before = cal.index_on_or_before(t.due) + 1 - d if d > 0 else cal.index_on_or_before(t.due) + shift
        if t.pinned and t.start:
            fixed_start = cal.index_on_or_after(t.start)
        if t.actual_start:
            fixed_start = cal.index_on_or_after(t.actual_start)
        if t.status == domain.TaskStatus.DONE and t.done_at is not None:
            done_day = cal.index_on_or_before(t.done_at.date())
            if fixed_start is None:
                fixed_start = min(done_day + (0 if d == 0 else 1) - d, done_day)
            fixed_finish = max(done_day + (0 if d == 0 else 1), fixed_start)
        weight = float(t.estimate_hours) if t.estimate_hours else float(max(d, 1))
        nodes.append(
            Node(
                id=t.id,
                duration=d,
                not_before=not_before,
                fixed_start=fixed_start,
                fixed_finish=fixed_finish,
                parent_id=t.parent_id,
                links=tuple(Link(x.task_id, x.type.value, x.lag_days) for x in t.depends_on if x.type is not None),
                weight=weight,
                progress=t.progress,
            )
        )
    return nodes


def _finish_day(cal: WorkCalendar, s: int, f: int) -> date:
    return cal.day(f - 1) if f > s else cal.day(max(s - 1, 0) if s > 0 else s)


def build(
    tasks: list[domain.Task],
    *,
    today: date | None = None,
    baseline: dict[str, tuple[date, date]] | None = None,
    cal: WorkCalendar | None = None,
) -> Schedule:
    """Schedule ``tasks``; raises schedule.CycleError. Plans without dates start ``today``."""
    cal = cal or calendar()
    today = today or date.today()
    starts = [t.start for t in tasks if t.start] + [t.actual_start for t in tasks if t.actual_start]
    project_start = cal.index_on_or_after(min(starts) if starts else today)
    plan = compute(to_nodes(tasks, cal), project_start=project_start, today=cal.index_on_or_before(today))
    baseline = baseline or {}
    rows: list[Row] = []
    for t in tasks:
        tm = plan.timings.get(t.id)
        if tm is None:  # a summary task without children cannot happen; be safe
            continue
        start = cal.day(tm.es)
        # A milestone sits at the end of the day its predecessors finish (the day before its index).
        finish = _finish_day(cal, tm.es, tm.ef) if (tm.ef > tm.es or t.depends_on) else start
        if tm.ef == tm.es and t.depends_on:
            start = finish
        base = baseline.get(t.id)
        variance = 0
        if base is not None:
            b = cal.index_on_or_before(base[1])
            variance = cal.index_on_or_before(finish) - b
        rows.append(
            Row(
                task=t,
                start=start,
                finish=finish,
                duration=tm.ef - tm.es,
                early_start=cal.day(tm.es),
                early_finish=_finish_day(cal, tm.es, tm.ef),
                late_start=cal.day(tm.ls),
                late_finish=_finish_day(cal, tm.ls, tm.lf),
                slack=tm.slack,
                critical=tm.critical,
                progress=tm.progress if tm.summary else t.progress,
                summary=tm.summary,
                baseline_start=base[0] if base else None,
                baseline_finish=base[1] if base else None,
                variance=variance,
            )
        )
    first = min((r.start for r in rows), default=None)
    last = max((r.finish for r in rows), default=None)
    return Schedule(
        rows=rows,
        start=first,
        finish=last,
        duration=plan.finish - plan.start,
        critical_path=plan.critical_path,
        plan=plan,
    )
