"""Plan templates per business line (pure): a list of template tasks with keys, working-day
offsets from the plan start, durations, parents and dependencies by key. Applying one on approval
creates the plan with its dependencies and relative offsets intact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed
from services.tasks import domain
from services.tasks.schedule import CycleError, Link, Node, compute
from services.tasks.workdays import WorkCalendar

MAX_TASKS = 500


@dataclass(frozen=True)
class TemplateLink:
    key: str
    type: str
    lag_days: int = 0


@dataclass(frozen=True)
class TemplateTask:
    key: str
    name: str
    offset_days: int = 0
    duration_days: int = 1
    milestone: bool = False
    parent_key: str = ""
    requires_deliverables: bool = False
    depends_on: tuple[TemplateLink, ...] = ()


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if value is None:
        return default
    raise ValueError(value)


def parse(body: dict[str, Any]) -> list[TemplateTask]:
    out: list[TemplateTask] = []
    for t in body.get("tasks") or []:
        out.append(
            TemplateTask(
                key=str(t.get("key", "")),
                name=str(t.get("name", "")),
                offset_days=_int(t.get("offset_days"), 0),
                duration_days=_int(t.get("duration_days"), 1),
                milestone=bool(t.get("milestone", False)),
                parent_key=str(t.get("parent_key", "") or ""),
                requires_deliverables=bool(t.get("requires_deliverables", False)),
                depends_on=tuple(
                    TemplateLink(str(d.get("key", "")), str(d.get("type", "FS")), _int(d.get("lag_days"), 0))
                    for d in t.get("depends_on") or []
                ),
            )
        )
    return out


def validate(body: dict[str, Any]) -> None:
    v: list[FieldViolation] = []
    raw = body.get("tasks")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed([FieldViolation("tasks", "模板至少需要一个任务", "a template needs at least one task")])
    if len(raw) > MAX_TASKS:
        raise ValidationFailed([FieldViolation("tasks", f"模板最多 {MAX_TASKS} 个任务", f"at most {MAX_TASKS} tasks")])
    for i, t in enumerate(raw):
        if not isinstance(t, dict):
            v.append(FieldViolation(f"tasks[{i}]", "必须是 JSON 对象", "must be an object"))
            continue
        for name in ("offset_days", "duration_days"):
            try:
                n = _int(t.get(name), 0)
                if name == "duration_days" and n < 0:
                    raise ValueError(n)
            except ValueError:
                v.append(FieldViolation(f"tasks[{i}].{name}", "必须是非负整数", "must be a non-negative integer"))
        for j, d in enumerate(t.get("depends_on") or []):
            if not isinstance(d, dict):
                v.append(FieldViolation(f"tasks[{i}].depends_on[{j}]", "必须是 JSON 对象", "must be an object"))
    if v:
        raise ValidationFailed(v)
    specs = parse(body)
    keys = [s.key for s in specs]
    parents = {s.parent_key for s in specs if s.parent_key}
    for i, s in enumerate(specs):
        if not s.key or keys.count(s.key) > 1:
            v.append(FieldViolation(f"tasks[{i}].key", "key 为必填且不能重复", "key is required and unique"))
        if not s.name.strip() or len(s.name) > 300:
            v.append(FieldViolation(f"tasks[{i}].name", "任务名称为必填项", "name is required"))
        if s.parent_key and (s.parent_key not in keys or s.parent_key == s.key):
            v.append(
                FieldViolation(f"tasks[{i}].parent_key", "上级任务不在模板中", "parent_key is not in the template")
            )
        if s.key in parents and s.depends_on:
            v.append(
                FieldViolation(f"tasks[{i}].depends_on", "汇总任务不能设置依赖", "a summary task has no dependencies")
            )
        for j, d in enumerate(s.depends_on):
            if d.key not in keys or d.key in parents:
                v.append(FieldViolation(f"tasks[{i}].depends_on[{j}].key", "前置任务不在模板中", "unknown task key"))
            if d.type not in ("FS", "SS", "FF", "SF"):
                v.append(
                    FieldViolation(
                        f"tasks[{i}].depends_on[{j}].type",
                        "依赖类型必须是 FS、SS、FF 或 SF",
                        "type must be FS, SS, FF or SF",
                    )
                )
    if v:
        raise ValidationFailed(v)
    nodes = [
        Node(
            id=s.key,
            duration=s.duration_days,
            parent_id=s.parent_key,
            links=tuple(Link(d.key, d.type, d.lag_days) for d in s.depends_on),
        )
        for s in specs
    ]
    try:
        compute(nodes, project_start=0)
    except CycleError as err:
        raise ValidationFailed(
            [
                FieldViolation(
                    "tasks", f"依赖关系形成循环：{' → '.join(err.cycle)}", f"dependency cycle: {' → '.join(err.cycle)}"
                )
            ]
        ) from None


def plan_tasks(
    specs: list[TemplateTask], *, ids: dict[str, str], project_id: str, start: date, now: datetime, cal: WorkCalendar
) -> list[domain.Task]:
    """The plan a template makes: offsets become start dates counted in working days from
    ``start`` (tasks with dependencies are scheduled from them); creation times keep the
    template's order."""
    return [
        domain.Task(
            id=ids[s.key],
            project_id=project_id,
            name=s.name,
            assignee_id="",
            start=cal.add(start, s.offset_days) if not s.depends_on else None,
            due=None,
            duration_days=s.duration_days,
            milestone=s.milestone,
            status=domain.TaskStatus.TODO,
            progress=0,
            created_at=now + timedelta(microseconds=i),
            depends_on=tuple(
                domain.Dependency(ids[d.key], domain.DependencyType(d.type), d.lag_days) for d in s.depends_on
            ),
            parent_id=ids.get(s.parent_key, "") if s.parent_key else "",
            requires_deliverables=s.requires_deliverables,
            updated_at=now,
        )
        for i, s in enumerate(specs)
    ]
