"""Pure rules: earned value, SPI/CPI, health levels and reasons, thresholds, warnings, weekly load,
burndown, event reading and percentiles."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from baobei.core.errors import ValidationFailed
from services.reporting import analytics, events, health
from services.reporting.domain import Event
from services.reporting.health import TaskFact, Thresholds

MON = date(2026, 11, 2)  # a Monday
WED = date(2026, 11, 4)
T = Thresholds()


def task(tid: str = "t", **kw: object) -> TaskFact:
    return TaskFact(task_id=tid, project_id="p", **kw)  # type: ignore[arg-type]


def test_planned_share_grows_over_working_days() -> None:
    t = task(start=MON, due=date(2026, 11, 6), estimate_hours=40)
    assert health.planned_share(t, date(2026, 11, 1)) == 0
    assert health.planned_share(t, WED) == pytest.approx(3 / 5)
    assert health.planned_share(t, date(2026, 11, 6)) == 1
    assert health.planned_share(task(due=WED), MON) == 0 and health.planned_share(task(), WED) == 0


def test_assess_green_amber_red_with_reasons() -> None:
    on_plan = [task(start=MON, due=date(2026, 11, 6), estimate_hours=40, progress=0.6)]
    h = health.assess(on_plan, Decimal("7200.00"), T, WED)
    assert (h.health, h.spi, h.cpi, h.reasons) == ("green", 1.0, 1.0, ())
    assert (h.planned_value, h.earned_value, h.budget) == (Decimal("7200.00"), Decimal("7200.00"), Decimal("12000.00"))
    behind = [task(start=MON, due=date(2026, 11, 6), estimate_hours=40, progress=0.54)]
    h = health.assess(behind, Decimal("0"), T, WED)
    assert h.health == "amber" and h.spi == 0.9 and h.cpi is None and h.reasons[0].startswith("进度偏差：SPI 0.90")
    over = health.assess(on_plan, Decimal("9000.00"), T, WED)
    assert over.health == "red" and over.cpi == 0.8 and over.reasons[0].startswith("成本偏差：CPI 0.80")
    assert over.forecast_cost == Decimal("15000.00")
    late = [task("a", due=MON, estimate_hours=1), task("b", due=MON, estimate_hours=1, status="done")]
    h = health.assess(late, Decimal("0"), Thresholds(spi_amber=0.1, spi_red=0.05), WED)
    assert h.overdue_tasks == 1 and h.open_tasks == 1 and h.health == "amber" and "逾期任务 1 个" in h.reasons
    assert health.assess([], Decimal("0"), T, WED).health == "green"


def test_milestone_slip() -> None:
    m = task(milestone=True, baseline_finish=MON, due=MON)
    assert health.milestone_slip(m, date(2026, 11, 9)) == 7  # still open a week later
    done = task(milestone=True, baseline_finish=MON, status="done", done_at=datetime(2026, 11, 3, 10, tzinfo=UTC))
    assert health.milestone_slip(done, date(2026, 12, 1)) == 1
    h = health.assess(
        [m],
        Decimal("0"),
        Thresholds(spi_amber=0.01, spi_red=0.001, overdue_amber=99, overdue_red=99),
        date(2026, 11, 9),
    )
    assert h.health == "red" and "里程碑延误 7 天" in h.reasons


def test_thresholds_validation_and_json_round_trip() -> None:
    with pytest.raises(ValidationFailed) as err:
        health.validate_thresholds(Thresholds(spi_amber=0.8, spi_red=0.9, hour_rate=Decimal("-1"), overdue_red=0))
    assert [v.field for v in err.value.violations] == ["settings.spi_red", "settings.overdue_red", "settings.hour_rate"]
    t = Thresholds(hour_rate=Decimal("450.50"), weekly_capacity_hours=36)
    assert Thresholds.from_json(t.as_json()) == t


def test_warnings_and_weekly_load() -> None:
    h = health.assess([task(start=MON, due=date(2026, 11, 6), estimate_hours=40)], Decimal("13000"), T, WED)
    got = health.project_warnings(project_id="p", name="园区", code="BB-1", owner_id="o", health=h, t=T, closed=False)
    assert [(w.key, w.kind, w.recipient_ids) for w in got] == [
        ("schedule:p", "schedule_deviation", ("o",)),
        ("cost:p", "cost_overrun", ("o",)),
    ]
    assert health.project_warnings(project_id="p", name="", code="", owner_id="o", health=h, t=T, closed=True) == []
    tasks = [
        task("a", start=MON, due=date(2026, 11, 6), estimate_hours=30),
        task("b", due=WED, estimate_hours=15),
        task("c", due=WED, estimate_hours=99, status="done"),
    ]
    assert health.weekly_load(tasks) == {"2026-W45": pytest.approx(45)}
    over = health.overload_warnings("u1", tasks, T, MON)
    assert [(w.key, w.recipient_ids) for w in over] == [("overload:u1:2026-W45", ("u1",))]
    assert health.overload_warnings("u1", tasks, T, date(2026, 11, 9)) == []  # a past week is not warned


def test_burndown() -> None:
    tasks = [
        task("a", start=MON, due=WED, estimate_hours=8, status="done", done_at=datetime(2026, 11, 3, 2, tzinfo=UTC)),
        task("b", start=MON, due=WED, estimate_hours=8),
    ]
    points = health.burndown(tasks, WED).points
    assert [(p.day, p.remaining_hours, p.ideal_hours) for p in points] == [
        (MON, 16, 16),
        (date(2026, 11, 3), 8, 8),
        (WED, 8, 0),
    ]
    assert health.burndown([], WED).points == ()


def ev(type_: str, **payload: object) -> Event:
    return Event(event_id="e", type=type_, project_id="p", at=datetime(2026, 11, 2, tzinfo=UTC), payload=payload)


def test_event_reading() -> None:
    change = events.read_task(
        "task_updated", ev("task.updated", task_id="t", status="done", progress=50, due="2026-11-03T00:00:00Z")
    )
    assert change.values["progress"] == 0.5 and change.values["due"] == date(2026, 11, 3)
    assert change.values["done_at"] == datetime(2026, 11, 2, tzinfo=UTC)  # defaults to the event time
    reopened = events.read_task("task_updated", ev("task.updated", task_id="t", status="todo", done_at=""))
    assert reopened.values["done_at"] is None  # "" clears
    assert events.read_cost("cost_recorded", ev("cost.recorded", cost_id="c", amount="12.34")).amount_cents == 1234
    with pytest.raises(ValidationFailed) as err:
        events.read_cost("cost_recorded", ev("cost.recorded"))
    assert [v.field for v in err.value.violations] == ["event.cost_recorded.cost_id", "event.cost_recorded.amount"]
    with pytest.raises(ValidationFailed) as err:
        events.read_decided("approval_decided", ev("approval.decided", instance_id="i", at="noon"))
    assert [v.field for v in err.value.violations] == [
        "event.approval_decided.user_id",
        "event.approval_decided.action",
        "event.approval_decided.at",
    ]


def test_percentile_and_report_checks() -> None:
    assert analytics.percentile([1, 2, 3, 4], 50) == 2.5 and analytics.percentile([5], 90) == 5
    assert analytics.check("cycle_times", "") == "business_line"
    with pytest.raises(ValidationFailed):
        analytics.check("approvers", "region")
