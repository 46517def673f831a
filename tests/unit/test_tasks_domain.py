from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from baobei.core.errors import Forbidden, ValidationFailed
from services.tasks import domain
from services.tasks.domain import Dependency, DependencyType, NewTask

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def cmd(**kw: object) -> NewTask:
    base: dict[str, object] = {"request_id": "r", "project_id": "p1", "name": "需求调研"}
    base.update(kw)
    return NewTask(**base)  # type: ignore[arg-type]


def violations(c: NewTask, known: set[str] | None = None) -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        domain.validate_new_task(c, known_task_ids=known or set())
    return [v.field for v in err.value.violations]


def test_minimal_task_is_valid_and_starts_todo_at_zero() -> None:
    start, due = domain.validate_new_task(cmd(), known_task_ids=set())
    assert (start, due) == (None, None)
    t = domain.new_task(cmd(name="  需求调研 "), task_id="t1", start=None, due=None, now=NOW)
    assert (t.id, t.name, t.status, t.progress, t.created_at) == ("t1", "需求调研", domain.TaskStatus.TODO, 0, NOW)


def test_project_and_name_required() -> None:
    assert violations(cmd(project_id="", name=" ")) == ["project_id", "name"]


def test_dates_are_parsed_and_due_not_before_start() -> None:
    assert domain.validate_new_task(cmd(start="2026-12-01", due="2026-12-01"), known_task_ids=()) == (
        date(2026, 12, 1), date(2026, 12, 1))
    assert violations(cmd(start="2026-12-02", due="2026-12-01")) == ["due"]


@pytest.mark.parametrize("bad", ["2026-13-01", "01/12/2026", "2026-12-1", "20261201", "2026-12-01T00:00:00"])
def test_non_iso_dates_rejected(bad: str) -> None:
    assert violations(cmd(start=bad, due=bad)) == ["start", "due"]


def test_negative_duration_rejected_zero_allowed() -> None:
    assert violations(cmd(duration_days=-1)) == ["duration_days"]
    domain.validate_new_task(cmd(duration_days=0, milestone=True), known_task_ids=())


def test_dependencies_must_exist_in_project_and_have_a_type() -> None:
    deps = (
        Dependency("a", DependencyType.FS, 2),
        Dependency("ghost", DependencyType.SS),
        Dependency("b", None),
        Dependency("", DependencyType.FF),
        Dependency("a", DependencyType.SF),
    )
    got = violations(cmd(depends_on=deps), known={"a", "b"})
    assert got == ["depends_on[1].task_id", "depends_on[2].type", "depends_on[3].task_id", "depends_on[4].task_id"]


def test_dependency_messages_in_both_locales() -> None:
    with pytest.raises(ValidationFailed) as err:
        domain.validate_new_task(cmd(depends_on=(Dependency("x", None),)), known_task_ids=set())
    unknown, untyped = err.value.violations
    assert unknown.text("en") == "task x does not exist in this project" and "不存在" in unknown.text("zh")
    assert untyped.text("en") == "type must be one of FS, SS, FF, SF"


def test_valid_dependencies_kept_in_order_with_lag() -> None:
    deps = (Dependency(" b ", DependencyType.SS, -1), Dependency("a", DependencyType.FS, 3))
    start, due = domain.validate_new_task(cmd(depends_on=deps), known_task_ids={"a", "b"})
    t = domain.new_task(cmd(depends_on=deps), task_id="t", start=start, due=due, now=NOW)
    assert t.depends_on == (Dependency("b", DependencyType.SS, -1), Dependency("a", DependencyType.FS, 3))


def test_who_may_record_costs() -> None:
    check = domain.check_cost_recorder
    check(None, kind="expense", task_assignee="")  # internal caller
    for rel in ("admin", "owner", "manager"):
        check(domain.CostActor("u", frozenset({rel})), kind="purchase", task_assignee="")
    worker = domain.CostActor("w", frozenset({"assignee"}))
    check(worker, kind="timesheet", task_assignee="w")
    for actor, kind, assignee in (
        (worker, "expense", "w"),  # hours only
        (worker, "timesheet", "someone"),  # not their task
        (worker, "timesheet", ""),  # no task
        (domain.CostActor("cc", frozenset({"approver"})), "expense", ""),
        (domain.CostActor("cc", frozenset({"approver"})), "timesheet", "other"),
        (domain.CostActor("nobody"), "timesheet", ""),
    ):
        with pytest.raises(Forbidden) as err:
            check(actor, kind=kind, task_assignee=assignee)
        assert err.value.code == "cost_not_allowed"
