"""CPM, working days, roll-ups and rules: pure tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tasks import domain, planning, rules
from services.tasks.schedule import CycleError, Link, Node, compute
from services.tasks.workdays import calendar

D, T = domain.Dependency, domain.DependencyType
NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def task(i: str, **kw: object) -> domain.Task:
    base: dict[str, object] = dict(
        id=i,
        project_id="p",
        name=i,
        assignee_id="",
        start=None,
        due=None,
        duration_days=0,
        milestone=False,
        status=domain.TaskStatus.TODO,
        progress=0,
        created_at=NOW,
    )
    base.update(kw)
    return domain.Task(**base)  # type: ignore[arg-type]


def test_mainland_calendar_holidays_and_adjusted_workdays() -> None:
    cal = calendar()
    # National Day 2026: Oct 1–7 off; Sat Oct 10 an adjusted working day.
    assert cal.working_days(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert cal.working_days(date(2026, 10, 10), date(2026, 10, 10)) == 1
    assert cal.add(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Beyond the library's data: Monday–Friday.
    assert cal.working_days(date(2027, 3, 1), date(2027, 3, 7)) == 5


@pytest.mark.parametrize(
    ("kind", "lag", "start", "finish"),
    [
        ("FS", 0, 3, 5),
        ("FS", 2, 5, 7),
        ("FS", -1, 2, 4),
        ("SS", 1, 1, 3),
        ("FF", 0, 0, 2),
        ("FF", 2, 2, 4),
        ("SF", 4, 1, 3),
    ],
)
def test_link_types_with_lag(kind: str, lag: int, start: int, finish: int) -> None:
    nodes = [Node("a", 3), Node("b", 3, links=(Link("a", kind, lag),))]
    plan = compute(nodes, project_start=0)
    b = plan.timings["b"]
    assert (b.es, b.ef - 1) == (start, finish)


def test_critical_path_slack_and_backward_pass() -> None:
    nodes = [
        Node("a", 3),
        Node("b", 5, links=(Link("a", "FS"),)),
        Node("c", 1, links=(Link("a", "SS", 1),)),
        Node("m", 0, links=(Link("b", "FS"), Link("c", "FF"))),
    ]
    plan = compute(nodes, project_start=10)
    t = plan.timings
    assert plan.finish == 18 and plan.critical_path == ["a", "b", "m"]
    assert (t["c"].es, t["c"].ls, t["c"].slack, t["c"].critical) == (11, 17, 6, False)


def test_cycle_is_named() -> None:
    nodes = [
        Node("a", 1, links=(Link("c", "FS"),)),
        Node("b", 1, links=(Link("a", "FS"),)),
        Node("c", 1, links=(Link("b", "SS"),)),
        Node("d", 1),
    ]
    with pytest.raises(CycleError) as err:
        compute(nodes, project_start=0)
    cycle = err.value.cycle
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}


def test_pinned_actual_and_done_dates_drive_successors() -> None:
    pinned = compute(
        [Node("a", 2, not_before=0), Node("b", 2, fixed_start=1, links=(Link("a", "FS"),))], project_start=0
    )
    assert pinned.timings["b"].es == 1  # manual dates win over the link
    late = compute(
        [Node("a", 2, fixed_start=0, fixed_finish=6), Node("b", 2, links=(Link("a", "FS"),))], project_start=0
    )
    assert late.timings["b"].es == 6  # finished late: the successor moved
    overdue = compute([Node("a", 2, fixed_start=0)], project_start=0, today=9)
    assert overdue.timings["a"].ef == 10  # started, unfinished, past due: forecast today


def test_summary_rolls_up_dates_and_progress() -> None:
    tasks = [
        task("p"),
        task("a", parent_id="p", start=date(2026, 12, 1), duration_days=2, progress=100),
        task("b", parent_id="p", duration_days=6, progress=0, depends_on=(D("a", T.FS, 0),)),
    ]
    s = planning.build(tasks, today=date(2026, 11, 25))
    rows = {r.task.id: r for r in s.rows}
    assert rows["p"].summary and (rows["p"].start, rows["p"].finish) == (date(2026, 12, 1), date(2026, 12, 10))
    assert rows["p"].progress == 25  # weighted by duration: 2×100 / 8


def test_baseline_variance_in_working_days() -> None:
    tasks = [task("a", start=date(2026, 12, 1), due=date(2026, 12, 7))]
    s = planning.build(tasks, today=date(2026, 11, 25), baseline={"a": (date(2026, 12, 1), date(2026, 12, 3))})
    assert s.rows[0].variance == 2 and s.rows[0].delay_reason_missing


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["FS", "SS", "FF", "SF"]), st.integers(-3, 3), st.integers(0, 9)),
        min_size=1,
        max_size=25,
    )
)
def test_every_link_is_satisfied_and_slack_non_negative(spec: list[tuple[int, str, int, int]]) -> None:
    """Random DAGs (links only to earlier nodes): forward dates meet every constraint."""
    nodes = []
    for i, (dur, kind, lag, pred) in enumerate(spec):
        links = (Link(f"n{pred % i}", kind, lag),) if i else ()
        nodes.append(Node(f"n{i}", dur, links=links))
    plan = compute(nodes, project_start=100)
    t = plan.timings
    for n in nodes:
        for link in n.links:
            p, s = t[link.predecessor], t[n.id]
            lhs, rhs = {"FS": (s.es, p.ef), "SS": (s.es, p.es), "FF": (s.ef, p.ef), "SF": (s.ef, p.es)}[link.type]
            assert lhs >= rhs + link.lag
        assert t[n.id].slack >= 0 and t[n.id].lf <= plan.finish


def test_rules_overdue_due_soon_and_budget() -> None:
    project = rules.ProjectFacts(
        id="p", owner_id="o", name="园区", budget=rules.Decimal(1000), spent=rules.Decimal(900)
    )
    tasks = [
        rules.TaskFacts(id="t", name="勘查", assignee_id="a", status="todo", milestone=False, due=date(2026, 12, 1))
    ]
    due_end = datetime(2026, 12, 2, tzinfo=rules.SHANGHAI)
    share = rules.Rule(
        key="b80", name="预算", trigger="budget_share", share="0.8", actions=(rules.Action("notify", ("owner",)),)
    )
    soon = rules.Rule(
        key="soon",
        name="即将到期",
        trigger="due_soon",
        before="2d",
        actions=(rules.Action("notify", ("assignee",)), rules.Action("escalate", levels=2)),
    )
    all_rules = [*rules.DEFAULT_RULES, share, soon]
    early = rules.evaluate(
        all_rules, project=project, tasks=tasks, events=[], now=due_end - timedelta(days=3), fired=set()
    )
    assert [f.rule_key for f in early.fires] == ["b80"] and early.next_wake == due_end - timedelta(days=2)
    at = rules.evaluate(
        all_rules, project=project, tasks=tasks, events=[], now=due_end + timedelta(hours=24), fired={"b80:p:0.8"}
    )
    # past the due date "due soon" no longer fires; the overdue rule does
    assert [f.rule_key for f in at.fires] == ["task-overdue-24h"]
    mid = rules.evaluate([soon], project=project, tasks=tasks, events=[], now=due_end - timedelta(days=1), fired=set())
    assert [(f.key, f.user_ids, f.escalate) for f in mid.fires] == [("soon:t:2026-12-01", ("a",), (("a", 2),))]
    overdue = next(f for f in at.fires if f.rule_key == "task-overdue-24h")
    assert overdue.user_ids == ("a", "o") and overdue.key == "task-overdue-24h:t:2026-12-01"
    again = rules.evaluate(
        all_rules,
        project=project,
        tasks=tasks,
        events=[],
        now=due_end + timedelta(days=9),
        fired={f.key for f in at.fires} | {"b80:p:0.8", "soon:t:2026-12-01"},
    )
    assert again.fires == [] and again.next_wake is None


def test_rule_condition_and_validation() -> None:
    r = rules.Rule(
        key="crit",
        name="关键任务阻塞",
        trigger="status_change",
        to_status="blocked",
        when="task.critical && project.amount > 100.0",
        actions=(rules.Action("notify", ("owner",)),),
    )
    rules.validate_rule(r)
    tasks = [
        rules.TaskFacts(id="t", name="x", assignee_id="", status="blocked", milestone=False, due=None, critical=True)
    ]
    ev = [rules.TaskEvent(seq=7, task_id="t", from_status="todo", to_status="blocked")]
    cheap = rules.ProjectFacts(id="p", owner_id="o", amount=rules.Decimal(50))
    rich = rules.ProjectFacts(id="p", owner_id="o", amount=rules.Decimal(500))
    assert rules.evaluate([r], project=cheap, tasks=tasks, events=ev, now=NOW, fired=set()).fires == []
    assert [f.key for f in rules.evaluate([r], project=rich, tasks=tasks, events=ev, now=NOW, fired=set()).fires] == [
        "crit:t:7"
    ]
    with pytest.raises(domain.ValidationFailed) as err:
        rules.validate_rule(
            rules.Rule(
                key="Bad Key", name="", trigger="nope", when="a ==", actions=(rules.Action("webhook", url="ftp://x"),)
            )
        )
    assert [v.field for v in err.value.violations] == [
        "key",
        "name",
        "trigger.type",
        "when",
        "actions[0].url",
        "actions[0].secret",
    ]
