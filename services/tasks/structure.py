"""Plan-wide structure rules for a changed task (pure): its parent is in the plan without a loop,
summary tasks carry no dependencies, and the dependencies form no cycle."""

from __future__ import annotations

from baobei.core.errors import FieldViolation, ValidationFailed
from services.tasks import domain, planning
from services.tasks.schedule import CycleError, compute
from services.tasks.workdays import calendar


def check_structure(tasks: list[domain.Task], changed: domain.Task) -> None:
    """ValidationFailed unless ``changed`` (already merged into ``tasks``) keeps the plan sound."""
    names = {t.id: t.name for t in tasks}
    by_id = {t.id: t for t in tasks}
    violations: list[FieldViolation] = []
    parents = {t.parent_id for t in tasks if t.parent_id}
    if changed.parent_id:
        if changed.parent_id not in by_id or changed.parent_id == changed.id:
            violations.append(
                FieldViolation("parent_id", "上级任务不存在或不属于本项目", "parent task is not in this project")
            )
        else:
            seen, cur = {changed.id}, changed.parent_id
            while cur:
                if cur in seen:
                    violations.append(FieldViolation("parent_id", "上级任务形成循环", "parent chain forms a loop"))
                    break
                seen.add(cur)
                cur = by_id[cur].parent_id if cur in by_id else ""
            if by_id.get(changed.parent_id) and by_id[changed.parent_id].depends_on:
                violations.append(
                    FieldViolation(
                        "parent_id", "有前置依赖的任务不能作为上级任务", "a task with dependencies cannot be a parent"
                    )
                )
    if changed.id in parents and changed.depends_on:
        violations.append(
            FieldViolation("depends_on", "汇总任务不能设置依赖", "a summary task cannot have dependencies")
        )
    for i, d in enumerate(changed.depends_on):
        if d.task_id in parents:
            violations.append(
                FieldViolation(f"depends_on[{i}].task_id", "不能依赖汇总任务", "cannot depend on a summary task")
            )
    if violations:
        raise ValidationFailed(violations)
    try:
        compute(planning.to_nodes(tasks, calendar()), project_start=0)
    except CycleError as err:
        raise ValidationFailed([domain.cycle_violation(err.cycle, names)]) from None
