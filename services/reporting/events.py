"""Typed reading of the non-project events (tasks, costs, approval steps): validation with field
paths, tolerant of missing optional fields. Pure; no grpc/database imports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed
from services.reporting.domain import Event, as_utc, parse_amount

TASK_EVENTS = ("task.created", "task.updated")
COST_EVENTS = ("cost.recorded",)
STEP_OPENED = "approval.step_opened"
DECIDED = "approval.decided"
# Keys never kept from any payload: form field values may be read-restricted (read_roles), and
# reporting must not become a place where they leak (exports, rebuilds).
DROPPED_PAYLOAD_KEYS = ("fields",)
TASK_STATUSES = ("todo", "in_progress", "done", "blocked")


class _Reader:
    """Collects violations while reading payload values."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.p = payload
        self.violations: list[FieldViolation] = []

    def _bad(self, key: str, zh: str, en: str) -> None:
        self.violations.append(FieldViolation(f"event.payload.{key}", zh, en))

    def text(self, key: str, *, required: bool = False, max_len: int = 300) -> str:
        value = self.p.get(key)
        if value is None or value == "":
            if required:
                self._bad(key, f"{key} 为必填项", f"{key} is required")
            return ""
        if not isinstance(value, str):
            self._bad(key, f"{key} 必须是字符串", f"{key} must be a string")
            return ""
        if len(value) > max_len:
            self._bad(key, f"{key} 过长", f"{key} is too long")
            return ""
        return value.strip()

    def number(self, key: str, *, low: float = 0.0, high: float = 1e9) -> float | None:
        value = self.p.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self._bad(key, f"{key} 必须是数字", f"{key} must be a number")
            return None
        try:
            number = float(value)
        except ValueError:
            self._bad(key, f"{key} 必须是数字", f"{key} must be a number")
            return None
        if not low <= number <= high:
            self._bad(key, f"{key} 超出范围", f"{key} is out of range")
            return None
        return number

    def day(self, key: str) -> date | None:
        value = self.p.get(key)
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            return date.fromisoformat(value[:10])
        except ValueError:
            self._bad(key, f"{key} 必须是 ISO 日期", f"{key} must be an ISO date")
            return None

    def moment(self, key: str) -> datetime | None:
        value = self.p.get(key)
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self._bad(key, f"{key} 必须是 ISO 时间", f"{key} must be an ISO timestamp")
            return None
        return as_utc(parsed)

    def flag(self, key: str) -> bool:
        value = self.p.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self._bad(key, f"{key} 必须是布尔值", f"{key} must be a boolean")
            return False
        return value

    def done(self) -> None:
        if self.violations:
            raise ValidationFailed(self.violations)


@dataclass(frozen=True)
class TaskChange:
    task_id: str
    values: dict[str, Any]


def read_task(event: Event) -> TaskChange:
    """task.created / task.updated carry the whole task; absent keys are left as they were."""
    r = _Reader(event.payload)
    task_id = r.text("task_id", required=True, max_len=100)
    project_id = r.text("project_id", max_len=100)
    if project_id and project_id != event.project_id:
        r._bad("project_id", "与事件的项目不一致", "differs from the event's project_id")
    values: dict[str, Any] = {}
    for key, max_len in (("name", 300), ("assignee_id", 100), ("delay_reason", 300)):
        if key in event.payload:
            values[key] = r.text(key, max_len=max_len)
    if "status" in event.payload:
        status = r.text("status", max_len=40)
        if status and status not in TASK_STATUSES:
            r._bad("status", "任务状态无效", f"status must be one of {', '.join(TASK_STATUSES)}")
        values["status"] = status or "todo"
    for key in ("start", "due", "finish", "baseline_finish"):
        if key in event.payload:
            values[key] = r.day(key)
    if "estimate_hours" in event.payload:
        values["estimate_hours"] = r.number("estimate_hours", high=100000) or 0.0
    if "progress" in event.payload:
        progress = r.number("progress", high=100)
        # Either a share (0..1) or a percentage (0..100).
        values["progress"] = 0.0 if progress is None else (progress / 100 if progress > 1 else progress)
    if "milestone" in event.payload:
        values["milestone"] = r.flag("milestone")
    if "done_at" in event.payload:
        values["done_at"] = r.moment("done_at")
    r.done()
    if values.get("status") == "done" and not values.get("done_at") and "done_at" not in event.payload:
        values["done_at"] = as_utc(event.at) if event.at else None
    return TaskChange(task_id=task_id, values=values)


@dataclass(frozen=True)
class CostFact:
    cost_id: str
    task_id: str
    kind: str
    amount_cents: int
    at: datetime


def read_cost(event: Event) -> CostFact:
    r = _Reader(event.payload)
    cost_id = r.text("cost_id", required=True, max_len=100)
    task_id = r.text("task_id", max_len=100)
    kind = r.text("kind", max_len=100)
    at = r.moment("at")
    amount: Decimal | None = None
    if event.payload.get("amount") is None:
        r._bad("amount", "金额为必填项", "amount is required")
    else:
        try:
            amount = parse_amount(event.payload["amount"])
        except ValidationFailed as err:
            r.violations += err.violations
    r.done()
    assert amount is not None and event.at is not None
    return CostFact(
        cost_id=cost_id, task_id=task_id, kind=kind or "其他", amount_cents=int(amount * 100), at=at or as_utc(event.at)
    )


@dataclass(frozen=True)
class StepOpened:
    instance_id: str
    step_index: int
    step: str
    approvers: tuple[str, ...]
    opened_at: datetime


def read_step_opened(event: Event) -> StepOpened:
    r = _Reader(event.payload)
    instance_id = r.text("instance_id", required=True, max_len=100)
    index = r.number("step_index", high=1000)
    if index is None and "step_index" not in r.p:
        r._bad("step_index", "step_index 为必填项", "step_index is required")
    step = r.text("step", max_len=200)
    approvers = r.p.get("approvers") or []
    if not isinstance(approvers, list) or not all(isinstance(a, str) for a in approvers):
        r._bad("approvers", "approvers 必须是字符串列表", "approvers must be a list of strings")
        approvers = []
    opened_at = r.moment("opened_at")
    r.done()
    assert event.at is not None
    return StepOpened(
        instance_id=instance_id,
        step_index=int(index or 0),
        step=step,
        approvers=tuple(approvers),
        opened_at=opened_at or as_utc(event.at),
    )


@dataclass(frozen=True)
class Decided:
    instance_id: str
    step_index: int
    step: str
    user_id: str
    action: str
    channel: str
    at: datetime


def read_decided(event: Event) -> Decided:
    r = _Reader(event.payload)
    instance_id = r.text("instance_id", required=True, max_len=100)
    index = r.number("step_index", high=1000)
    step = r.text("step", max_len=200)
    user_id = r.text("user_id", required=True, max_len=100)
    action = r.text("action", required=True, max_len=40)
    channel = r.text("channel", max_len=40)
    at = r.moment("at")
    r.done()
    assert event.at is not None
    return Decided(
        instance_id=instance_id,
        step_index=int(index or 0),
        step=step,
        user_id=user_id,
        action=action,
        channel=channel or "api",
        at=at or as_utc(event.at),
    )


def stored_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as kept in the event log: without form field values."""
    return {k: v for k, v in payload.items() if k not in DROPPED_PAYLOAD_KEYS}


# Lifecycle timestamps: the first event of each kind sets the time (a resubmission keeps the first
# submission; a re-approval after return keeps its latest approval).
LIFECYCLE_FIRST = {"project.created": "created_at", "project.submitted": "submitted_at"}
LIFECYCLE_LAST = {"project.approved": "approved_at", "project.rejected": "rejected_at", "project.closed": "closed_at"}
# Project events after which no approval step of the project is waiting any more.
ENDS_APPROVAL = ("project.approved", "project.rejected", "project.returned", "project.cancelled", "project.closed")


def utc_now() -> datetime:
    return datetime.now(UTC)
