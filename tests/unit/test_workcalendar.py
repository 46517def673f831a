"""The shared working calendar (statutory + company overrides) as approval SLAs and execution
rules use it. Fixed dates only: late November 2026 (Thu 26, Fri 27, Sat 28, Sun 29, Mon 30)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from baobei.core.errors import ValidationFailed
from baobei.workcalendar import STATUTORY, Override, WorkingCalendar, validate_overrides
from services.approval.domain import step_timers
from services.tasks import rules

SH = ZoneInfo("Asia/Shanghai")
THU, FRI, SAT, SUN, MON = (date(2026, 11, d) for d in (26, 27, 28, 29, 30))
TUE = date(2026, 12, 1)


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def test_overrides_win_over_the_statutory_calendar() -> None:
    cal = WorkingCalendar([Override(MON, "holiday", "司庆"), Override(SAT, "workday", "补班")])
    assert STATUTORY.is_workday(MON) and not cal.is_workday(MON)
    assert not STATUTORY.is_workday(SAT) and cal.is_workday(SAT)
    # 国庆 stays statutory where nothing overrides it.
    assert not cal.is_workday(date(2026, 10, 2)) and cal.is_workday(date(2026, 10, 10))


def test_a_company_holiday_moves_an_sla_due() -> None:
    opened = at(THU, 9)
    due, timers = step_timers(opened_at=opened, sla="16wh", on_timeout="escalate", escalate_to=["boss"],
                              remind_at=0.5, escalation=[])
    assert due == at(FRI, 18)
    cal = WorkingCalendar([Override(FRI, "holiday", "公司年会")])
    due, timers = step_timers(opened_at=opened, sla="16wh", on_timeout="escalate", escalate_to=["boss"],
                              remind_at=0.5, escalation=[{"after": "24wh", "action": "escalate", "to": ["ceo"]}],
                              cal=cal)
    assert due == at(MON, 18)  # Friday off, the weekend too
    assert [(t.action, t.at) for t in timers] == [
        ("remind", at(THU, 18)),  # 8 of the 16 working hours
        ("escalate", at(MON, 18)),
        ("escalate", at(TUE, 18)),
    ]


def test_an_extra_workday_saturday_counts() -> None:
    friday_evening = at(FRI, 18)
    assert STATUTORY.add_duration(friday_evening, "8wh") == at(MON, 18)
    cal = WorkingCalendar([Override(SAT, "workday", "补班")])
    assert cal.add_duration(friday_evening, "8wh") == at(SAT, 18)
    assert cal.add_duration(friday_evening, "1wd") == at(SAT, 18)
    # Natural units ignore the calendar.
    assert cal.add_duration(friday_evening, "1d") == at(SAT, 18)


def overdue_eval(now: datetime, cal: WorkingCalendar = STATUTORY, due: date = FRI) -> rules.Evaluation:
    task = rules.TaskFacts(id="t1", name="现场勘查", assignee_id="alice", status="todo", milestone=False, due=due)
    return rules.evaluate(rules.DEFAULT_RULES, project=rules.ProjectFacts(id="p1", owner_id="owner"), tasks=[task],
                          events=[], now=now, fired=set(), calendar=cal)


def test_an_overdue_24h_rule_does_not_fire_over_a_weekend() -> None:
    # Due Friday: the due day ends Saturday 00:00; 24 h of working days later is Tuesday 00:00.
    for now in (at(SAT, 1), at(SUN, 12), at(MON, 23, 59)):
        ev = overdue_eval(now)
        assert ev.fires == [] and ev.next_wake == at(TUE), now
    fired = overdue_eval(at(TUE))
    assert [f.key for f in fired.fires] == [f"task-overdue-24h:t1:{FRI.isoformat()}"]
    # On weekdays nothing changes: due Monday fires Wednesday 00:00, 24 h after the due day ended.
    assert overdue_eval(at(MON, 12), due=MON).next_wake == at(date(2026, 12, 2))


def test_overdue_counts_on_the_company_calendar() -> None:
    holiday_monday = WorkingCalendar([Override(MON, "holiday", "调休")])
    assert overdue_eval(at(TUE, 12), holiday_monday).fires == []
    assert overdue_eval(at(TUE, 12), holiday_monday).next_wake == at(date(2026, 12, 2))
    working_saturday = WorkingCalendar([Override(SAT, "workday", "补班")])
    # Saturday's 24 h count: it fires as Monday begins (the next working day), not on Tuesday.
    assert overdue_eval(at(SUN, 12), working_saturday).next_wake == at(MON)
    assert [f.rule_key for f in overdue_eval(at(MON), working_saturday).fires] == ["task-overdue-24h"]
    assert overdue_eval(at(MON)).fires == []


def test_a_calendar_provider_is_asked_only_for_an_offset_to_count_and_once() -> None:
    """``evaluate`` takes a zero-argument provider: not called when no rule has working time to
    count (no due date, done, already fired, a zero offset, disabled, other triggers), called once
    for any number of tasks that do, and what it raises passes through."""
    asked: list[int] = []

    def provider() -> WorkingCalendar:
        asked.append(1)
        return WorkingCalendar([Override(MON, "holiday", "调休")])

    project = rules.ProjectFacts(id="p1", owner_id="owner")

    def task(tid: str, due: date | None, status: str = "todo") -> rules.TaskFacts:
        return rules.TaskFacts(id=tid, name=tid, assignee_id="alice", status=status, milestone=False, due=due)

    def run(rule_list: list[rules.Rule], tasks: list[rules.TaskFacts], fired: frozenset[str] = frozenset(),
            now: datetime | None = None) -> rules.Evaluation:
        return rules.evaluate(rule_list, project=project, tasks=tasks, events=[], now=now or at(SUN, 12),
                              fired=set(fired), calendar=provider)

    overdue = list(rules.DEFAULT_RULES)
    at_due = rules.Rule(key="at-due", name="到期", trigger="overdue", after="0h",
                        actions=(rules.Action(type="notify", to=("assignee",)),))
    soon = rules.Rule(key="soon", name="即将到期", trigger="due_soon", before="24h", actions=at_due.actions)
    off = rules.Rule(key="off", name="停用", trigger="overdue", after="24h", enabled=False, actions=at_due.actions)
    assert run(overdue, []).next_wake is None
    assert run(overdue, [task("nodue", None), task("done", FRI, status="done")]).next_wake is None
    assert run(overdue, [task("t1", FRI)], fired=frozenset({f"task-overdue-24h:t1:{FRI.isoformat()}"})).fires == []
    assert run([at_due, off], [task("t1", FRI)]).fires[0].key == f"at-due:t1:{FRI.isoformat()}"
    assert run([soon], [task("t1", FRI)]).fires == []  # already past due: nothing to count
    assert asked == []
    ev = run([*overdue, soon], [task("t1", FRI), task("t2", FRI), task("t3", MON)], now=at(FRI, 12))
    assert asked == [1]  # once for the whole evaluation
    # Monday off: t3's 24 h before its due day ends are Friday's (due soon now), and every
    # "overdue 24h" counts on past it to Wednesday.
    assert sorted(f.key for f in ev.fires) == [f"soon:{t}:{d.isoformat()}" for t, d in
                                               (("t1", FRI), ("t2", FRI), ("t3", MON))]
    assert ev.next_wake == at(date(2026, 12, 2))
    assert run(overdue, [task("t1", FRI)]).next_wake == at(date(2026, 12, 2))  # Monday off: Wednesday
    assert asked == [1, 1]  # read afresh by the next evaluation

    def down() -> WorkingCalendar:
        raise ConnectionError("approval down")

    assert rules.evaluate(overdue, project=project, tasks=[task("nodue", None)], events=[], now=at(SUN, 12),
                          fired=set(), calendar=down).fires == []
    with pytest.raises(ConnectionError):
        rules.evaluate(overdue, project=project, tasks=[task("t1", FRI)], events=[], now=at(SUN, 12), fired=set(),
                       calendar=down)


def test_due_soon_counts_back_over_days_off() -> None:
    rule = rules.Rule(key="soon", name="即将到期", trigger="due_soon", before="24h",
                      actions=(rules.Action(type="notify", to=("assignee",)),))
    task = rules.TaskFacts(id="t1", name="交付", assignee_id="alice", status="todo", milestone=False, due=MON)
    project = rules.ProjectFacts(id="p1", owner_id="owner")
    ev = rules.evaluate([rule], project=project, tasks=[task], events=[], now=at(THU), fired=set())
    assert ev.next_wake == at(MON)  # the 24 h before Monday's end are Monday's own
    rule2 = rules.Rule(key="soon2", name="即将到期", trigger="due_soon", before="48h", actions=rule.actions)
    ev = rules.evaluate([rule2], project=project, tasks=[task], events=[], now=at(THU), fired=set())
    assert ev.next_wake == at(FRI)  # Monday and Friday: the weekend does not count


def test_shift_is_exact_within_working_days() -> None:
    assert STATUTORY.shift_working_hours(at(TUE, 10), timedelta(hours=30)) == at(date(2026, 12, 2), 16)
    assert STATUTORY.shift_working_hours(at(MON, 6), timedelta(hours=-10)) == at(FRI, 20)
    assert STATUTORY.shift_working_hours(at(SAT, 6), timedelta(hours=1)) == at(MON, 1)


def test_validation_names_the_field() -> None:
    ok = validate_overrides([{"date": "2026-11-30", "kind": "holiday", "name": "司庆"},
                             {"date": "2026-11-28", "kind": "workday"}])
    assert [o.day for o in ok] == [SAT, MON]
    with pytest.raises(ValidationFailed) as info:
        validate_overrides([
            {"date": "2026-11-30", "kind": "holiday"},
            {"date": "2026-02-30", "kind": "holiday"},
            {"date": "30/11/2026", "kind": "workday"},
            {"date": "2026-11-30", "kind": "off"},
            {"date": 20261130, "kind": "holiday", "name": "x" * 101},
        ])
    fields = sorted({v.field for v in info.value.violations})
    assert fields == ["overrides[1].date", "overrides[2].date", "overrides[3].date", "overrides[3].kind",
                      "overrides[4].date", "overrides[4].name"]
