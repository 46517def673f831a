"""Tasks domain: pure rules for creating tasks with dependencies. No grpc/database imports."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from baobei.core.errors import Conflict, FieldViolation, Forbidden, ValidationFailed, require

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
    parent_id: str = ""
    # Decimal string, "" when not estimated.
    estimate_hours: str = ""
    # Manual dates: the scheduler keeps start/due as given instead of following predecessors.
    pinned: bool = False
    requires_deliverables: bool = False


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
    parent_id: str = ""
    estimate_hours: Decimal | None = None
    pinned: bool = False
    requires_deliverables: bool = False
    actual_start: date | None = None
    done_at: datetime | None = None
    delay_reason: str = ""
    version: int = 1
    updated_at: datetime | None = None
    deliverables: int = 0


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
    violations += _too_long(cmd.parent_id, MAX_ID, "parent_id")
    violations += check_estimate(cmd.estimate_hours, "estimate_hours")
    violations += check_lags(cmd.depends_on)
    if cmd.pinned and not start:
        violations.append(FieldViolation("start", "手动排程的任务必须填写开始日期", "a pinned task needs a start date"))
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
        parent_id=cmd.parent_id.strip(),
        estimate_hours=Decimal(cmd.estimate_hours) if cmd.estimate_hours.strip() else None,
        pinned=cmd.pinned,
        requires_deliverables=cmd.requires_deliverables,
        version=1,
        updated_at=now,
    )


# ---------------------------------------------------------------- shared checks

MAX_LAG = 365
MAX_ESTIMATE = Decimal("100000")
DEFAULT_DURATION = 1


def check_estimate(value: str, path: str) -> list[FieldViolation]:
    value = value.strip()
    if not value:
        return []
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0 or number > MAX_ESTIMATE:
        return [
            FieldViolation(path, f"{path} 必须是 0 到 {MAX_ESTIMATE} 之间的数字", f"{path} must be 0–{MAX_ESTIMATE}")
        ]
    return []


def check_lags(deps: tuple[Dependency, ...]) -> list[FieldViolation]:
    return [
        FieldViolation(
            f"depends_on[{i}].lag_days",
            f"间隔天数必须在 ±{MAX_LAG} 个工作日内",
            f"lag_days must be within ±{MAX_LAG} working days",
        )
        for i, d in enumerate(deps)
        if abs(d.lag_days) > MAX_LAG
    ]


def cycle_violation(cycle: list[str], names: dict[str, str]) -> FieldViolation:
    """A 422 naming the cycle: 任务 A → 任务 B → 任务 A."""
    label = " → ".join(f"{names.get(i, i)}({i[:8]})" for i in cycle)
    return FieldViolation("depends_on", f"依赖关系形成循环：{label}", f"dependency cycle: {label}")


# ---------------------------------------------------------------- updates


@dataclass(frozen=True)
class TaskPatch:
    """A partial update: ``None`` = leave unchanged; ``depends_on`` replaces the whole list."""

    request_id: str
    task_id: str
    actor_id: str = ""
    expected_version: int = 0
    name: str | None = None
    status: TaskStatus | None = None
    status_raw: str = ""
    progress: int | None = None
    start: str | None = None
    due: str | None = None
    duration_days: int | None = None
    assignee_id: str | None = None
    depends_on: tuple[Dependency, ...] | None = None
    delay_reason: str | None = None
    pinned: bool | None = None
    estimate_hours: str | None = None
    parent_id: str | None = None


def validate_patch(p: TaskPatch, current: Task, *, known_task_ids: Collection[str]) -> Task:
    """The task after the patch (dates, status side effects: actual start, done time, progress),
    or ValidationFailed with every violation. Checks needing the whole plan are ``structure``'s."""
    violations: list[FieldViolation] = []
    if p.status is None and p.status_raw:
        violations.append(
            FieldViolation("status", "状态必须是 todo、in_progress、done 或 blocked", "status must be a task status")
        )
    if p.name is not None:
        violations += require(p.name, "name", "任务名称", "name") + _too_long(p.name, MAX_NAME, "name")
    if p.progress is not None and not 0 <= p.progress <= 100:
        violations.append(FieldViolation("progress", "进度必须在 0 到 100 之间", "progress must be between 0 and 100"))
    if p.duration_days is not None and p.duration_days < 0:
        violations.append(FieldViolation("duration_days", "工期不能为负数", "duration_days must not be negative"))
    if p.assignee_id is not None:
        violations += _too_long(p.assignee_id, MAX_ID, "assignee_id")
    if p.estimate_hours is not None:
        violations += check_estimate(p.estimate_hours, "estimate_hours")
    start = parse_date(p.start, "start", violations) if p.start is not None else current.start
    due = parse_date(p.due, "due", violations) if p.due is not None else current.due
    if start and due and due < start:
        violations.append(FieldViolation("due", "截止日期不能早于开始日期", "due must not be before start"))
    pinned = current.pinned if p.pinned is None else p.pinned
    if pinned and not start:
        violations.append(FieldViolation("start", "手动排程的任务必须填写开始日期", "a pinned task needs a start date"))
    if p.depends_on is not None:
        probe = NewTask(request_id="-", project_id=current.project_id, name="-", depends_on=p.depends_on)
        try:
            validate_new_task(probe, known_task_ids=known_task_ids)
        except ValidationFailed as err:
            violations += err.violations
        violations += [
            FieldViolation(f"depends_on[{i}].task_id", "任务不能依赖自身", "a task cannot depend on itself")
            for i, d in enumerate(p.depends_on)
            if d.task_id.strip() == current.id
        ]
    if violations:
        raise ValidationFailed(violations)
    return replace(
        current,
        name=p.name.strip() if p.name is not None else current.name,
        assignee_id=p.assignee_id.strip() if p.assignee_id is not None else current.assignee_id,
        start=start,
        due=due,
        duration_days=p.duration_days if p.duration_days is not None else current.duration_days,
        progress=p.progress if p.progress is not None else current.progress,
        depends_on=(
            tuple(Dependency(d.task_id.strip(), d.type, d.lag_days) for d in p.depends_on)
            if p.depends_on is not None
            else current.depends_on
        ),
        delay_reason=p.delay_reason.strip() if p.delay_reason is not None else current.delay_reason,
        pinned=pinned,
        estimate_hours=(
            (Decimal(p.estimate_hours) if p.estimate_hours.strip() else None)
            if p.estimate_hours is not None
            else current.estimate_hours
        ),
        parent_id=p.parent_id.strip() if p.parent_id is not None else current.parent_id,
    )


def apply_status(task: Task, status: TaskStatus | None, *, now: datetime, today: date) -> Task:
    """Status side effects: first in-progress (or done) records the actual start; done records
    the done time and 100 %; reopening a done task clears the done time."""
    if status is None or status == task.status:
        return task
    actual_start = task.actual_start
    done_at = task.done_at
    progress = task.progress
    if status in (TaskStatus.IN_PROGRESS, TaskStatus.DONE) and actual_start is None:
        actual_start = min(task.start, today) if task.start else today
    if status == TaskStatus.DONE:
        done_at, progress = now, 100
    elif task.status == TaskStatus.DONE:
        done_at = None
        progress = min(progress, 99)
    return replace(task, status=status, actual_start=actual_start, done_at=done_at, progress=progress)


def check_version(expected_version: int, current: Task) -> None:
    """409 stale_version when the caller edited an older version (0: no check)."""
    if expected_version and expected_version != current.version:
        raise Conflict(
            f"任务已被他人修改（当前版本 {current.version}），请刷新后重试",
            f"the task was changed meanwhile (version {current.version}); reload and retry",
            code="stale_version",
        )


def patched(p: TaskPatch, current: Task, *, known_task_ids: Collection[str], now: datetime, today: date) -> Task:
    """The task after the patch and its status move; a done task stays at 100 % when only its
    progress is patched."""
    updated = apply_status(validate_patch(p, current, known_task_ids=known_task_ids), p.status, now=now, today=today)
    if p.progress is not None and p.status is None and updated.status == TaskStatus.DONE:
        updated = replace(updated, progress=100)
    return updated


def check_done(current: Task, updated: Task) -> None:
    """A milestone that requires deliverables becomes done only once it has some (409)."""
    becomes_done = updated.status == TaskStatus.DONE and current.status != TaskStatus.DONE
    if becomes_done and updated.requires_deliverables and current.deliverables == 0:
        raise Conflict(
            "该里程碑需要先上传交付物才能标记完成",
            "this milestone needs deliverables before it can be marked done",
            code="deliverables_required",
        )


# ---------------------------------------------------------------- delay reasons

DEFAULT_DELAY_REASONS: tuple[tuple[str, str], ...] = (
    ("customer", "客户原因"),
    ("scope_change", "需求变更"),
    ("resource", "资源不足"),
    ("supplier", "供应商延迟"),
    ("technical", "技术问题"),
    ("other", "其他"),
)


def check_delay_reason(
    reason: str, *, forecast_finish: date | None, baseline_finish: date | None, allowed: Collection[str]
) -> list[FieldViolation]:
    """A task forecast to finish after its baseline must carry one of the configured reasons."""
    if reason and reason not in allowed:
        return [
            FieldViolation(
                "delay_reason",
                f"延期原因必须是以下之一：{'、'.join(allowed)}",
                f"delay_reason must be one of {', '.join(allowed)}",
            )
        ]
    late = forecast_finish is not None and baseline_finish is not None and forecast_finish > baseline_finish
    if late and not reason:
        return [
            FieldViolation(
                "delay_reason",
                f"预计完成日期 {forecast_finish} 晚于基线 {baseline_finish}，必须填写延期原因",
                f"forecast finish {forecast_finish} is after the baseline {baseline_finish}: "
                "a delay_reason is required",
            )
        ]
    return []


def delay_reason_violations(reasons: list[tuple[str, str]]) -> list[FieldViolation]:
    """The configured list of (code, label): at least one, codes unique, both required."""
    violations: list[FieldViolation] = []
    seen: set[str] = set()
    for i, (code, label) in enumerate(reasons):
        if not code.strip() or len(code) > 50 or code in seen:
            violations.append(
                FieldViolation(f"reasons[{i}].code", "编码为必填且不能重复", "code is required and unique")
            )
        if not label.strip() or len(label) > 100:
            violations.append(FieldViolation(f"reasons[{i}].label", "名称为必填项", "label is required"))
        seen.add(code)
    if not reasons:
        violations.append(FieldViolation("reasons", "至少需要一个延期原因", "at least one reason is required"))
    return violations


# ---------------------------------------------------------------- costs

COST_KINDS = ("timesheet", "expense", "purchase")
MAX_MONEY = Decimal("1000000000000")
CENT = Decimal("0.01")


# Relations to a project (the registry's) that may record any cost on it. CC'd users and
# approvers may read costs, never record them; an assignee logs hours on their own task.
# "pm": the project team's manager (项目经理, issue 16) records costs like the owner.
COST_RECORDERS = frozenset({"admin", "owner", "manager", "pm"})


@dataclass(frozen=True)
class CostActor:
    """Who records a cost and why they may see the project (admin, owner, manager, approver, assignee)."""

    user_id: str
    relations: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NewCost:
    request_id: str
    project_id: str
    kind: str
    task_id: str = ""
    hours: str = ""
    rate: str = ""
    amount: str = ""
    note: str = ""
    at: str = ""
    actor_id: str = ""
    # None = an internal caller (no check); set by the edge for a person.
    actor: CostActor | None = None


def check_cost_recorder(actor: CostActor | None, *, kind: str, task_assignee: str) -> None:
    """Admin, owner and the manager of the project's department record any cost; the assignee of
    the cost's task records timesheets on it; anyone else (CC, approvers, other assignees) → 403."""
    if actor is None or actor.relations & COST_RECORDERS:
        return
    if kind == "timesheet" and actor.user_id and task_assignee == actor.user_id:
        return
    raise Forbidden(
        "只有项目负责人、部门经理或管理员可以记录成本；任务负责人只能为自己的任务登记工时",
        "only the project owner, the department manager or an admin may record costs; "
        "an assignee may log hours on their own task",
        code="cost_not_allowed",
    )


def _decimal(value: str, path: str, violations: list[FieldViolation], *, limit: Decimal = MAX_MONEY) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0 or number > limit:
        violations.append(FieldViolation(path, f"{path} 必须是非负数字", f"{path} must be a non-negative number"))
        return None
    return number


def validate_cost(c: NewCost, *, task_known: bool) -> tuple[Decimal, date | None]:
    """The exact amount (hours × rate for a timesheet) and the date of the entry."""
    violations: list[FieldViolation] = []
    violations += require(c.project_id, "project_id", "项目", "project_id")
    if c.kind not in COST_KINDS:
        violations.append(
            FieldViolation(
                "kind", "类型必须是 timesheet、expense 或 purchase", "kind must be timesheet, expense or purchase"
            )
        )
    if c.task_id.strip() and not task_known:
        violations.append(
            FieldViolation(
                "task_id", f"任务 {c.task_id} 不存在或不属于本项目", f"task {c.task_id} is not in this project"
            )
        )
    violations += _too_long(c.note, 500, "note")
    at = parse_date(c.at, "at", violations)
    amount: Decimal | None = None
    if c.kind == "timesheet":
        for path, value in (("hours", c.hours), ("rate", c.rate)):
            if not value.strip():
                violations.append(FieldViolation(path, f"工时记录必须填写 {path}", f"a timesheet entry needs {path}"))
        hours = _decimal(c.hours, "hours", violations, limit=Decimal(10000)) if c.hours.strip() else None
        rate = _decimal(c.rate, "rate", violations) if c.rate.strip() else None
        if hours is not None and rate is not None:
            amount = hours * rate
    elif c.kind in COST_KINDS:
        if not c.amount.strip():
            violations.append(FieldViolation("amount", "金额为必填项", "amount is required"))
        else:
            amount = _decimal(c.amount, "amount", violations)
    if violations or amount is None:
        raise ValidationFailed(violations or [FieldViolation("amount", "金额无效", "invalid amount")])
    return amount.quantize(CENT), at


# ---------------------------------------------------------------- deliverables

MAX_DELIVERABLE_BYTES = 20 * 1024 * 1024
DELIVERABLE_TYPES = frozenset({
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})


def deliverable_type(content_type: str) -> str:
    """The bare MIME type (parameters dropped, lower case)."""
    return content_type.split(";")[0].strip().lower()


def check_deliverable(filename: str, content_type: str, data: bytes) -> None:
    """Every problem of an upload at once, on the path ``file``."""
    violations: list[FieldViolation] = []
    ctype = deliverable_type(content_type)
    if ctype not in DELIVERABLE_TYPES:
        shown_zh, shown_en = ctype or "未知", ctype or "unknown"
        violations.append(FieldViolation("file", f"不支持的文件类型：{shown_zh}", f"file type not allowed: {shown_en}"))
    if not data:
        violations.append(FieldViolation("file", "文件为空", "file is empty"))
    elif len(data) > MAX_DELIVERABLE_BYTES:
        violations.append(FieldViolation("file", "文件不能超过 20 MB", "file must be at most 20 MB"))
    if not filename.strip() or len(filename) > 255:
        violations.append(FieldViolation("file", "文件名无效", "invalid file name"))
    if violations:
        raise ValidationFailed(violations)


def deliverable_record_violations(filename: str, sha256: str, size: int) -> list[FieldViolation]:
    """A file already in the blob store, as recorded against a task: a name and its digest."""
    violations: list[FieldViolation] = []
    if not filename.strip() or len(filename) > 255:
        violations.append(FieldViolation("file", "文件名无效", "invalid file name"))
    if len(sha256) != 64 or size < 0:
        violations.append(FieldViolation("file", "文件摘要无效", "invalid file digest"))
    return violations
