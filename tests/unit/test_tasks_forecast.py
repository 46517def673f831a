"""The project-finish forecast as plain functions: velocity from finished tasks (the project's,
else the team's), the unfinished rest re-planned through CPM with stretched durations."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.tasks import domain, forecast
from services.tasks.workdays import calendar
from tests.unit.test_tasks_schedule import task

D, T = domain.Dependency, domain.DependencyType
DONE = domain.TaskStatus.DONE
CAL = calendar()
# Monday 2026-11-30; the plan: a (done, took 4 of 2 planned days) → b (2 days) → c (3 days).
TODAY = date(2026, 11, 30)


def done(i: str, planned: int, started: date, finished: date, **kw: object) -> domain.Task:
    return task(i, duration_days=planned, status=DONE, progress=100, actual_start=started,
                done_at=datetime.combine(finished, datetime.min.time(), UTC), **kw)


def test_velocity_from_the_project_else_the_team() -> None:
    # Three finished tasks, each planned 2 working days, each took 4: factor 2.
    mine = [done(f"d{i}", 2, date(2026, 11, 2 + 7 * i), date(2026, 11, 5 + 7 * i)) for i in range(3)]
    v = forecast.velocity(mine, [], CAL)
    assert (v.factor, v.samples, v.basis) == (2.0, 3, "project")
    # Two of the project's own are too few: the team's other tasks join (planned 2, took 2).
    team = [done(f"t{i}", 2, date(2026, 10, 12 + 7 * i), date(2026, 10, 13 + 7 * i)) for i in range(2)]
    v = forecast.velocity(mine[:2], team, CAL)
    assert (v.factor, v.samples, v.basis) == (1.5, 4, "team")
    assert forecast.velocity([], [], CAL) == forecast.Velocity(1.0, 0, "none")
    # Clamped: a wildly slow single sample cannot promise a fourfold delay.
    slow = [done("s", 1, date(2026, 11, 2), date(2026, 11, 27))]
    assert forecast.velocity(slow, [], CAL).factor == forecast.MAX_FACTOR


def test_the_rest_is_stretched_along_the_critical_path() -> None:
    history = [done(f"d{i}", 2, date(2026, 11, 2 + 7 * i), date(2026, 11, 5 + 7 * i)) for i in range(3)]
    b = task("b", duration_days=2, start=TODAY)
    c = task("c", duration_days=3, depends_on=(D("b", T.FS),))
    f = forecast.forecast_finish([*history, b, c], [], today=TODAY, cal=CAL)
    # As planned: b Mon–Tue, c Wed–Fri (2026-12-04). At factor 2: b 4 days, c 6 days → 10 working
    # days from Monday: Friday 2026-12-11.
    assert f.planned_finish == date(2026, 12, 4)
    assert f.finish == date(2026, 12, 11)
    assert f.slip_days == 5 and f.velocity.factor == 2.0


def test_no_history_means_the_plan() -> None:
    b = task("b", duration_days=2, start=TODAY)
    f = forecast.forecast_finish([b], [], today=TODAY, cal=CAL)
    assert f.finish == f.planned_finish == date(2026, 12, 1) and f.slip_days == 0
    assert f.velocity.basis == "none"
