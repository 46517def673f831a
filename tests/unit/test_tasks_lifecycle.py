"""Task decisions taken out of the store, tested without a database: stale versions, the status
move of a patch, done milestones without deliverables, plan structure, delay-reason lists,
deliverable records and the plan a template makes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from baobei.core.errors import Conflict, ValidationFailed
from services.tasks import domain, templates
from services.tasks.domain import Dependency, DependencyType, Task, TaskPatch, TaskStatus
from services.tasks.structure import check_structure
from services.tasks.workdays import calendar

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def task(task_id: str = "t1", **kw: object) -> Task:
    base: dict[str, object] = dict(
        id=task_id, project_id="p1", name=f"任务{task_id}", assignee_id="", start=date(2026, 12, 1), due=None,
        duration_days=2, milestone=False, status=TaskStatus.TODO, progress=0, created_at=NOW, version=3,
    )
    base.update(kw)
    return Task(**base)  # type: ignore[arg-type]


def patch(**kw: object) -> TaskPatch:
    base: dict[str, object] = {"request_id": "r", "task_id": "t1"}
    base.update(kw)
    return TaskPatch(**base)  # type: ignore[arg-type]


def fields(err: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [v.field for v in err.value.violations]


# ---------- versions and status moves ----------


def test_a_stale_version_is_refused_and_zero_skips_the_check() -> None:
    domain.check_version(0, task())
    domain.check_version(3, task())
    with pytest.raises(Conflict) as err:
        domain.check_version(2, task())
    assert err.value.code == "stale_version"


def test_done_records_start_done_time_and_full_progress() -> None:
    done = domain.patched(patch(status=TaskStatus.DONE), task(), known_task_ids=set(), now=NOW, today=TODAY)
    assert (done.status, done.progress, done.done_at, done.actual_start) == (
        TaskStatus.DONE, 100, NOW, TODAY)


def test_a_done_task_stays_at_full_progress_when_only_progress_is_patched() -> None:
    current = task(status=TaskStatus.DONE, progress=100, done_at=NOW, actual_start=TODAY)
    after = domain.patched(patch(progress=40), current, known_task_ids=set(), now=NOW, today=TODAY)
    assert (after.status, after.progress) == (TaskStatus.DONE, 100)
    reopened = domain.patched(patch(status=TaskStatus.IN_PROGRESS, progress=100), current, known_task_ids=set(),
                              now=NOW, today=TODAY)
    assert (reopened.status, reopened.progress, reopened.done_at) == (TaskStatus.IN_PROGRESS, 99, None)
    todo = domain.patched(patch(progress=40), task(), known_task_ids=set(), now=NOW, today=TODAY)
    assert (todo.status, todo.progress) == (TaskStatus.TODO, 40)


def test_a_milestone_needing_deliverables_is_done_only_with_some() -> None:
    current = task(milestone=True, requires_deliverables=True)
    done = replace(current, status=TaskStatus.DONE)
    with pytest.raises(Conflict) as err:
        domain.check_done(current, done)
    assert err.value.code == "deliverables_required"
    domain.check_done(replace(current, deliverables=1), replace(done, deliverables=1))
    domain.check_done(replace(current, requires_deliverables=False), replace(done, requires_deliverables=False))
    domain.check_done(replace(current, status=TaskStatus.DONE), done)  # already done: no new check
    domain.check_done(current, replace(current, progress=50))


# ---------- plan structure ----------


def test_parent_must_be_in_the_plan_and_not_loop() -> None:
    a, b = task("a"), task("b", parent_id="a")
    check_structure([a, b], b)
    missing = task("c", parent_id="zz")
    with pytest.raises(ValidationFailed) as err:
        check_structure([a, missing], missing)
    assert fields(err) == ["parent_id"]
    looped = replace(a, parent_id="b")
    with pytest.raises(ValidationFailed) as err:
        check_structure([looped, b], looped)
    assert fields(err) == ["parent_id"]


def test_summary_tasks_carry_no_dependencies() -> None:
    a, b = task("a"), task("b", parent_id="a")
    linked_summary = replace(a, depends_on=(Dependency("x", DependencyType.FS),))
    x = task("x")
    with pytest.raises(ValidationFailed) as err:
        check_structure([linked_summary, b, x], linked_summary)
    assert fields(err) == ["depends_on"]
    on_summary = task("y", depends_on=(Dependency("a", DependencyType.FS),))
    with pytest.raises(ValidationFailed) as err:
        check_structure([a, b, on_summary], on_summary)
    assert fields(err) == ["depends_on[0].task_id"]
    parent_with_deps = task("p", depends_on=(Dependency("x", DependencyType.FS),))
    child = task("k", parent_id="p")
    with pytest.raises(ValidationFailed) as err:
        check_structure([parent_with_deps, x, child], child)
    assert "parent_id" in fields(err)


def test_a_dependency_cycle_is_named() -> None:
    a = task("a", depends_on=(Dependency("b", DependencyType.FS),))
    b = task("b", depends_on=(Dependency("a", DependencyType.FS),))
    with pytest.raises(ValidationFailed) as err:
        check_structure([a, b], b)
    assert fields(err) == ["depends_on"]
    assert "任务a" in err.value.violations[0].zh


# ---------- delay reasons, deliverables ----------


def test_delay_reason_lists() -> None:
    assert domain.delay_reason_violations([("customer", "客户原因")]) == []
    assert [v.field for v in domain.delay_reason_violations([])] == ["reasons"]
    bad = domain.delay_reason_violations([("a", "A"), ("a", ""), (" ", "x"), ("c" * 51, "C")])
    assert [v.field for v in bad] == ["reasons[1].code", "reasons[1].label", "reasons[2].code", "reasons[3].code"]


def test_deliverable_records_need_a_name_and_a_digest() -> None:
    assert domain.deliverable_record_violations("a.pdf", "0" * 64, 10) == []
    assert len(domain.deliverable_record_violations(" ", "0" * 63, 10)) == 2
    assert len(domain.deliverable_record_violations("a.pdf", "0" * 64, -1)) == 1


# ---------- templates ----------


def test_a_template_plan_counts_offsets_in_working_days_and_keeps_links() -> None:
    specs = templates.parse({"tasks": [
        {"key": "kick", "name": "启动", "offset_days": 0},
        {"key": "design", "name": "设计", "offset_days": 3, "duration_days": 5},
        {"key": "build", "name": "实施", "depends_on": [{"key": "design", "type": "FS", "lag_days": 1}],
         "parent_key": "kick", "milestone": True, "requires_deliverables": True},
    ]})
    ids = {"kick": "id-k", "design": "id-d", "build": "id-b"}
    start = date(2026, 12, 4)  # a Friday
    plan = templates.plan_tasks(specs, ids=ids, project_id="p1", start=start, now=NOW, cal=calendar())
    assert [t.id for t in plan] == ["id-k", "id-d", "id-b"]
    assert plan[0].start == start
    assert plan[1].start == date(2026, 12, 9)  # three working days later, over the weekend
    assert plan[2].start is None and plan[2].depends_on == (Dependency("id-d", DependencyType.FS, 1),)
    assert (plan[2].parent_id, plan[2].milestone, plan[2].requires_deliverables) == ("id-k", True, True)
    assert [t.created_at for t in plan] == sorted({t.created_at for t in plan})
    assert all(t.status is TaskStatus.TODO and t.progress == 0 and t.project_id == "p1" for t in plan)
