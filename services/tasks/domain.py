"""Tasks domain: pure rules for creating tasks with dependencies. No grpc/database imports."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from baobei.core.errors import FieldViolation, ValidationFailed, require

MAX_ID = 100
MAX_NAME = 300


class DependencyType(StrEnum):
    """Finish-to-start, start-to-start, finish-to-finish, start-to-finish."""

    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class TaskStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Dependency:
    """``task_id`` is the predecessor; ``type`` None means the caller left it unspecified."""

    task_id: str
    type: DependencyType | None
    lag_days: int = 0


@dataclass(frozen=True)
class NewTask:
    request_id: str
    project_id: str
    name: str
    assignee_id: str = ""
    start: str = ""
    due: str = ""
    duration_days: int = 0
    milestone: bool = False
    depends_on: tuple[Dependency, ...] = ()


@dataclass(frozen=True)
class Task:
    id: str
    project_id: str
    name: str
    assignee_id: str
    start: date | None
    due: date | None
    duration_days: int
    milestone: bool
    status: TaskStatus
    progress: int
    created_at: datetime
    depends_on: tuple[Dependency, ...] = field(default_factory=tuple)


def parse_date(value: str, path: str, violations: list[FieldViolation]) -> date | None:
    """An ISO date (YYYY-MM-DD) or None for ""; a bad value appends a violation."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        violations.append(
            FieldViolation(path, f"{path} 必须是 YYYY-MM-DD 格式的日期", f"{path} must be an ISO date (YYYY-MM-DD)")
        )
        return None


def _too_long(value: str, limit: int, path: str) -> list[FieldViolation]:
    if len(value) <= limit:
        return []
    return [FieldViolation(path, f"{path} 长度不能超过 {limit}", f"{path} must be at most {limit} characters")]


def validate_new_task(cmd: NewTask, *, known_task_ids: Collection[str]) -> tuple[date | None, date | None]:
    """Check a create command; ``known_task_ids`` are the ids of tasks of the same project.
    Returns the parsed (start, due); raises ValidationFailed with every violation."""
    violations: list[FieldViolation] = []
    violations += require(cmd.request_id, "request_id", "请求编号", "request_id")
    violations += require(cmd.project_id, "project_id", "项目", "project_id")
    violations += _too_long(cmd.project_id, MAX_ID, "project_id")
    violations += require(cmd.name, "name", "任务名称", "name")
    violations += _too_long(cmd.name, MAX_NAME, "name")
    violations += _too_long(cmd.assignee_id, MAX_ID, "assignee_id")
    start = parse_date(cmd.start, "start", violations)
    due = parse_date(cmd.due, "due", violations)
    if start and due and due < start:
        violations.append(FieldViolation("due", "截止日期不能早于开始日期", "due must not be before start"))
    if cmd.duration_days < 0:
        violations.append(FieldViolation("duration_days", "工期不能为负数", "duration_days must not be negative"))
    seen: set[str] = set()
    for i, dep in enumerate(cmd.depends_on):
        path = f"depends_on[{i}]"
        task_id = dep.task_id.strip()
        if not task_id:
            violations += require(task_id, f"{path}.task_id", "前置任务", "task_id")
        elif task_id not in known_task_ids:
            violations.append(
                FieldViolation(
                    f"{path}.task_id",
                    f"前置任务 {task_id} 不存在或不属于本项目",
                    f"task {task_id} does not exist in this project",
                )
            )
        elif task_id in seen:
            violations.append(
                FieldViolation(f"{path}.task_id", f"重复依赖前置任务 {task_id}", f"duplicate dependency on {task_id}")
            )
        seen.add(task_id)
        if dep.type is None:
            violations.append(
                FieldViolation(f"{path}.type", "依赖类型必须是 FS、SS、FF 或 SF", "type must be one of FS, SS, FF, SF")
            )
    if violations:
        raise ValidationFailed(violations)
    return start, due


def new_task(cmd: NewTask, *, task_id: str, start: date | None, due: date | None, now: datetime) -> Task:
    """The task as first stored: status todo, progress 0."""
    return Task(
        id=task_id,
        project_id=cmd.project_id.strip(),
        name=cmd.name.strip(),
        assignee_id=cmd.assignee_id.strip(),
        start=start,
        due=due,
        duration_days=cmd.duration_days,
        milestone=cmd.milestone,
        status=TaskStatus.TODO,
        progress=0,
        created_at=now,
        depends_on=tuple(Dependency(d.task_id.strip(), d.type, d.lag_days) for d in cmd.depends_on),
    )
