"""The approval-completion forecast as plain functions: the narrowest history with enough
samples, conditioning on how long the open step has waited, the working calendar (a weekend is
not waiting time), a deterministic range, and the backtest beating the naive median."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from baobei.workcalendar import SHANGHAI, WorkingCalendar
from bench.forecast import generate
from services.approval.domain import forecast as fc

CALENDAR = WorkingCalendar()
add_working_seconds, working_seconds_between = CALENDAR.add_working_seconds, CALENDAR.working_seconds_between
H = 3600.0
# Friday 2026-12-04 16:00 Shanghai: two working hours are left that day.
FRIDAY = datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)
CAL = {"add_working": add_working_seconds, "working_between": working_seconds_between}


def sample(policy: str, step: str, who: str, hours: float) -> fc.StepSample:
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    return fc.StepSample(policy, step, (who,), opened, add_working_seconds(opened, hours * H), hours * H)


def test_the_same_approvers_history_is_preferred_when_it_is_big_enough() -> None:
    history = fc.History([sample("p", "经理", "fast", 1.0) for _ in range(5)]
                         + [sample("p", "经理", "slow", 10.0) for _ in range(20)])
    f = fc.forecast(history, "p", [fc.StepToRun("经理", ("fast",))], now=FRIDAY, seed="x", **CAL)
    assert f is not None and f.basis == [fc.StepBasis("经理", "approvers", 5)]
    assert f.expected_at == datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI) and f.remaining_hours == 1.0
    # Too few samples of this person: the step's history (both people) answers.
    thin = fc.History([sample("p", "经理", "fast", 1.0) for _ in range(4)]
                      + [sample("p", "经理", "slow", 10.0) for _ in range(20)])
    g = fc.forecast(thin, "p", [fc.StepToRun("经理", ("fast",))], now=FRIDAY, seed="x", **CAL)
    assert g is not None and g.basis[0].level == "step" and g.remaining_hours == 10.0
    # Nothing known about this policy's step at all: None, not a guess.
    assert fc.forecast(fc.History([]), "p", [fc.StepToRun("经理", ("fast",))], now=FRIDAY, seed="x", **CAL) is None


def test_working_calendar_and_range() -> None:
    history = fc.History([sample("p", "财务", "fin", h) for h in (2, 4, 4, 6, 8, 8, 10, 12, 14, 16)])
    f = fc.forecast(history, "p", [fc.StepToRun("财务", ("fin",))], now=FRIDAY, seed="x", **CAL)
    assert f is not None
    # P50 of 8 working hours from Friday 16:00: 2 h on Friday, 6 h on Monday (the weekend does not count).
    assert f.expected_at == datetime(2026, 12, 7, 16, 0, tzinfo=SHANGHAI)
    assert f.low_at < f.expected_at < f.high_at
    again = fc.forecast(history, "p", [fc.StepToRun("财务", ("fin",))], now=FRIDAY, seed="x", **CAL)
    assert again == f  # seeded: the same state gives the same answer


def test_an_open_step_counts_only_samples_longer_than_its_wait() -> None:
    history = fc.History([sample("p", "经理", "m", h) for h in (1, 1, 1, 1, 1, 6, 6, 6, 6, 6)])
    opened = FRIDAY - timedelta(hours=3)  # Friday 13:00: three working hours ago
    f = fc.forecast(history, "p", [fc.StepToRun("经理", ("m",), opened_at=opened)], now=FRIDAY, seed="y", **CAL)
    assert f is not None and f.remaining_hours == 3.0 and f.basis[0].samples == 5
    # Waited longer than every sample: half a working day more, said as "overdue".
    long_ago = FRIDAY - timedelta(days=14)
    g = fc.forecast(history, "p", [fc.StepToRun("经理", ("m",), opened_at=long_ago)], now=FRIDAY, seed="y", **CAL)
    assert g is not None and g.basis[0].level == "overdue" and g.remaining_hours == 4.0


def test_steps_add_up() -> None:
    history = fc.History([sample("p", "经理", "m", 2.0) for _ in range(5)] + [sample("p", "财务", "f", 3.0)
                                                                             for _ in range(5)])
    steps = [fc.StepToRun("经理", ("m",), opened_at=FRIDAY), fc.StepToRun("财务", ("f",))]
    f = fc.forecast(history, "p", steps, now=FRIDAY, seed="z", **CAL)
    assert f is not None and f.remaining_hours == 5.0 and [b.level for b in f.basis] == ["approvers", "approvers"]


def test_backtest_beats_the_naive_median_on_a_generated_history() -> None:
    history = generate(400, random.Random(3))
    score = fc.backtest(history, **CAL)
    assert score.evaluated > 300
    assert score.mae_hours < score.baseline_mae_hours
    assert 0.6 < score.coverage <= 1.0
    only = fc.backtest(history, only="standard", **CAL)
    assert 0 < only.evaluated < score.evaluated


def test_working_seconds_between_inverts_add() -> None:
    for hours in (0.5, 2, 8, 20, 100):
        end = add_working_seconds(FRIDAY, hours * H)
        assert working_seconds_between(FRIDAY, end) == hours * H
    assert working_seconds_between(FRIDAY, FRIDAY - timedelta(hours=1)) == 0.0
