"""When will an active project really finish? The CPM schedule with what is left stretched by the
team's observed velocity. Pure.

Velocity = working days the team actually took ÷ working days planned, over finished tasks
(not milestones, not summaries) that have an actual start and a finish: the project's own first;
with fewer than ``MIN_SAMPLES`` of them, the same people's finished tasks on other projects too
(``basis``: ``project`` / ``team``; ``none`` when there is nothing to learn from, then the factor
is 1). Summed, so long tasks weigh more than short ones, and clamped to
[``MIN_FACTOR``, ``MAX_FACTOR``] so one odd task cannot promise the impossible.

The forecast re-plans every unfinished task with its duration × factor (rounded up; a task
already started keeps its actual start) through the same CPM as the schedule: dependencies and
the critical path decide how the stretch adds up, and finished tasks keep their dates."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from services.tasks import domain, planning
from services.tasks.workdays import WorkCalendar

MIN_SAMPLES = 3
MIN_FACTOR, MAX_FACTOR = 0.5, 3.0


@dataclass(frozen=True)
class Velocity:
    factor: float
    samples: int
    # project | team | none
    basis: str


@dataclass(frozen=True)
class FinishForecast:
    finish: date | None
    # The schedule's finish as planned (durations as entered).
    planned_finish: date | None
    # Working days the forecast lies after the planned finish (negative: earlier).
    slip_days: int
    velocity: Velocity


def _measured(tasks: Iterable[domain.Task], cal: WorkCalendar) -> list[tuple[int, int]]:
    """(planned, actual) working days of finished leaf tasks."""
    parents = {t.parent_id for t in tasks if t.parent_id}
    out = []
    for t in tasks:
        if (t.status != domain.TaskStatus.DONE or t.milestone or t.id in parents or t.actual_start is None
                or t.done_at is None):
            continue
        planned = planning.duration_of(t, cal)
        actual = max(cal.working_days(t.actual_start, t.done_at.date()), 1)
        if planned > 0:
            out.append((planned, actual))
    return out


def velocity(project: Sequence[domain.Task], team: Sequence[domain.Task], cal: WorkCalendar) -> Velocity:
    """The factor from the project's finished tasks, else with the team's other finished tasks."""
    pairs, basis = _measured(project, cal), "project"
    if len(pairs) < MIN_SAMPLES:
        pairs, basis = pairs + _measured(team, cal), "team"
    if not pairs:
        return Velocity(1.0, 0, "none")
    factor = sum(a for _, a in pairs) / sum(p for p, _ in pairs)
    return Velocity(round(min(max(factor, MIN_FACTOR), MAX_FACTOR), 2), len(pairs), basis)


def _stretched(t: domain.Task, factor: float, cal: WorkCalendar) -> domain.Task:
    if t.status == domain.TaskStatus.DONE or t.milestone:
        return t
    longer = max(1, math.ceil(planning.duration_of(t, cal) * factor - 1e-9))
    # The start stays a "not before" (an actual start stays fixed); the due date no longer bounds
    # the stretched task: that is the point of the forecast.
    return replace(t, due=None, duration_days=longer)


def forecast_finish(
    tasks: Sequence[domain.Task], team: Sequence[domain.Task], *, today: date, cal: WorkCalendar,
) -> FinishForecast:
    v = velocity(tasks, team, cal)
    planned = planning.build(list(tasks), today=today, cal=cal).finish
    finish = planning.build([_stretched(t, v.factor, cal) for t in tasks], today=today, cal=cal).finish
    slip = 0
    if finish is not None and planned is not None:
        slip = cal.index_on_or_before(finish) - cal.index_on_or_before(planned)
    return FinishForecast(finish=finish, planned_finish=planned, slip_days=slip, velocity=v)
