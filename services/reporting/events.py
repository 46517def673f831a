"""Reporting events, read into typed facts. Values arrive typed (protobuf messages, as JSON with
their field names as keys); what is checked here is meaning: required ids, known task statuses,
dates and amounts that parse, ranges. A violation names the field as ``event.<kind>.<field>``.
Pure; no grpc/database imports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed
from services.reporting.domain import TEXT_FIELDS, Event, as_utc, parse_amount

PROJECT_KINDS = (
    "project_created",
    "project_submitted",
    "project_approved",
    "project_rejected",
    "project_returned",
    "project_cancelled",
    "project_closed",
    "project_edited",
)
TASK_KINDS = ("task_created", "task_updated")
TASK_STATUSES = ("todo", "in_progress", "done", "blocked")


class _Check:
    """Collects violations while reading values of one kind."""

    def __init__(self, kind: str, values: Mapping[str, Any], prefix: str = "") -> None:
        self.prefix = prefix or f"event.{kind}"
        self.v = values
        self.violations: list[FieldViolation] = []

    def bad(self, key: str, zh: str, en: str) -> None:
        self.violations.append(FieldViolation(f"{self.prefix}.{key}", zh, en))

    def text(self, key: str, *, required: bool = False, max_len: int = 300) -> str:
        value = str(self.v.get(key) or "").strip()
        if required and not value:
            self.bad(key, f"{key} 为必填项", f"{key} is required")
        elif len(value) > max_len:
            self.bad(key, f"{key} 过长", f"{key} is too long")
            return ""
        return value

    def number(self, key: str, *, high: float) -> float:
        value = float(self.v.get(key) or 0.0)
        if not 0.0 <= value <= high:
            self.bad(key, f"{key} 超出范围", f"{key} is out of range")
            return 0.0
        return value

    def day(self, key: str) -> date | None:
        value = self.text(key, max_len=40)
        if not value:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            self.bad(key, f"{key} 必须是 ISO 日期", f"{key} must be an ISO date")
            return None

    def moment(self, key: str) -> datetime | None:
        value = self.text(key, max_len=40)
        if not value:
            return None
        try:
            return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            self.bad(key, f"{key} 必须是 ISO 时间", f"{key} must be an ISO timestamp")
            return None

    def same_project(self, event: Event) -> None:
        project_id = self.text("project_id", max_len=100)
        if project_id and project_id != event.project_id:
            self.bad("project_id", "与事件的项目不一致", "differs from the event's project_id")

    def done(self) -> None:
        if self.violations:
            raise ValidationFailed(self.violations)


def check_envelope(event: Event, kind: str | None) -> None:
    violations: list[FieldViolation] = []
    for key, zh in (("event_id", "事件编号"), ("project_id", "项目")):
        if not getattr(event, key):
            violations.append(FieldViolation(f"event.{key}", f"{zh}为必填项", f"{key} is required"))
    if event.at is None:
        violations.append(FieldViolation("event.at", "事件时间为必填项", "event time is required"))
    if not kind:
        violations.append(FieldViolation("event.kind", "事件类型为必填项", "the event kind is required"))
    if violations:
        raise ValidationFailed(violations)


def project_snapshot(kind: str, values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The project's read-model fields the event sets (an empty amount means "unknown": unset).
    ``prefix`` names the fields in violations (default ``event.<kind>``)."""
    c = _Check(kind, values, prefix)
    snapshot: dict[str, Any] = {key: c.text(key) for key in TEXT_FIELDS if key in values}
    if "conflict_count" in values:
        conflicts = int(values["conflict_count"])
        if conflicts < 0:
            c.bad("conflict_count", "撞单数必须是非负整数", "conflict_count must be a count")
        snapshot["conflict_count"] = max(conflicts, 0)
    if str(values.get("amount") or "").strip():
        try:
            snapshot["amount"] = parse_amount(values["amount"], f"{c.prefix}.amount")
        except ValidationFailed as err:
            c.violations += err.violations
    c.done()
    return snapshot


@dataclass(frozen=True)
class TaskChange:
    task_id: str
    values: dict[str, Any]


def read_task(kind: str, event: Event) -> TaskChange:
    """task.created / task.updated carry the whole task; fields left unset are left as they were."""
    p = event.payload
    c = _Check(kind, p)
    task_id = c.text("task_id", required=True, max_len=100)
    c.same_project(event)
    values: dict[str, Any] = {}
    for key, max_len in (("name", 300), ("assignee_id", 100), ("delay_reason", 300)):
        if key in p:
            values[key] = c.text(key, max_len=max_len)
    if "status" in p:
        status = c.text("status", max_len=40)
        if status and status not in TASK_STATUSES:
            c.bad("status", "任务状态无效", f"status must be one of {', '.join(TASK_STATUSES)}")
        values["status"] = status or "todo"
    for key in ("start", "due", "finish", "baseline_finish"):
        if key in p:
            values[key] = c.day(key)
    if "estimate_hours" in p:
        values["estimate_hours"] = c.number("estimate_hours", high=100000)
    if "progress" in p:
        progress = c.number("progress", high=100)
        # Either a share (0..1) or a percentage (0..100).
        values["progress"] = progress / 100 if progress > 1 else progress
    if "milestone" in p:
        values["milestone"] = bool(p["milestone"])
    if "done_at" in p:
        values["done_at"] = c.moment("done_at")
    c.done()
    if values.get("status") == "done" and "done_at" not in p:
        values["done_at"] = as_utc(event.at) if event.at else None
    return TaskChange(task_id=task_id, values=values)


@dataclass(frozen=True)
class CostFact:
    cost_id: str
    task_id: str
    kind: str
    amount_cents: int
    at: datetime


def read_cost(kind: str, event: Event) -> CostFact:
    p = event.payload
    c = _Check(kind, p)
    cost_id = c.text("cost_id", required=True, max_len=100)
    c.same_project(event)
    task_id = c.text("task_id", max_len=100)
    cost_kind = c.text("kind", max_len=100)
    at = c.moment("at")
    amount_cents = 0
    if c.text("amount", required=True, max_len=40):
        try:
            amount_cents = int(parse_amount(p["amount"], f"event.{kind}.amount") * 100)
        except ValidationFailed as err:
            c.violations += err.violations
    c.done()
    assert event.at is not None
    return CostFact(
        cost_id=cost_id, task_id=task_id, kind=cost_kind or "其他", amount_cents=amount_cents, at=at or as_utc(event.at)
    )


@dataclass(frozen=True)
class StepOpened:
    instance_id: str
    step_index: int
    step: str
    approvers: tuple[str, ...]
    opened_at: datetime


def read_step_opened(kind: str, event: Event) -> StepOpened:
    p = event.payload
    c = _Check(kind, p)
    instance_id = c.text("instance_id", required=True, max_len=100)
    index = int(p.get("step_index") or 0)
    if not 0 <= index <= 1000:
        c.bad("step_index", "step_index 超出范围", "step_index is out of range")
    step = c.text("step", max_len=200)
    opened_at = c.moment("opened_at")
    c.done()
    assert event.at is not None
    return StepOpened(
        instance_id=instance_id,
        step_index=index,
        step=step,
        approvers=tuple(p.get("approvers") or ()),
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


def read_decided(kind: str, event: Event) -> Decided:
    p = event.payload
    c = _Check(kind, p)
    instance_id = c.text("instance_id", required=True, max_len=100)
    index = int(p.get("step_index") or 0)
    if not 0 <= index <= 1000:
        c.bad("step_index", "step_index 超出范围", "step_index is out of range")
    step = c.text("step", max_len=200)
    user_id = c.text("user_id", required=True, max_len=100)
    action = c.text("action", required=True, max_len=40)
    channel = c.text("channel", max_len=40)
    at = c.moment("at")
    c.done()
    assert event.at is not None
    return Decided(
        instance_id=instance_id,
        step_index=index,
        step=step,
        user_id=user_id,
        action=action,
        channel=channel or "api",
        at=at or as_utc(event.at),
    )


OUTCOMES = ("won", "delivered", "lost", "cancelled")
MAX_TAGS = 20


@dataclass(frozen=True)
class Reviewed:
    outcome: str
    reason: str
    lessons: str
    tags: tuple[str, ...]
    delay_summary: str


def read_reviewed(kind: str, event: Event) -> Reviewed:
    p = event.payload
    c = _Check(kind, p)
    c.same_project(event)
    outcome = c.text("outcome", required=True, max_len=20)
    if outcome and outcome not in OUTCOMES:
        c.bad("outcome", f"结果须为 {'、'.join(OUTCOMES)} 之一", f"outcome must be one of {', '.join(OUTCOMES)}")
    reason = c.text("reason", max_len=2000)
    lessons = c.text("lessons", max_len=20000)
    delay_summary = c.text("delay_summary", max_len=2000)
    tags: list[str] = []
    for raw in p.get("tags") or ():
        tag = str(raw).strip()
        if len(tag) > 40:
            c.bad("tags", "标签过长（最多 40 字）", "a tag is too long (at most 40 characters)")
        elif tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        c.bad("tags", f"标签最多 {MAX_TAGS} 个", f"at most {MAX_TAGS} tags")
    c.done()
    return Reviewed(outcome=outcome, reason=reason, lessons=lessons, tags=tuple(tags), delay_summary=delay_summary)


Fact = dict[str, Any] | TaskChange | CostFact | StepOpened | Decided | Reviewed


def read(kind: str, event: Event) -> Fact:
    """The typed fact of an event of ``kind`` (its payload holds the kind's values)."""
    if kind in PROJECT_KINDS:
        return project_snapshot(kind, event.payload)
    if kind in TASK_KINDS:
        return read_task(kind, event)
    if kind == "cost_recorded":
        return read_cost(kind, event)
    if kind == "approval_step_opened":
        return read_step_opened(kind, event)
    if kind == "approval_decided":
        return read_decided(kind, event)
    if kind == "project_reviewed":
        return read_reviewed(kind, event)
    raise ValueError(f"no reader for event kind {kind!r}")


# Lifecycle timestamps: the first event of each kind sets the time (a resubmission keeps the first
# submission; a re-approval after return keeps its latest approval).
LIFECYCLE_FIRST = {"project.created": "created_at", "project.submitted": "submitted_at"}
LIFECYCLE_LAST = {"project.approved": "approved_at", "project.rejected": "rejected_at", "project.closed": "closed_at"}
# Project events after which no approval step of the project is waiting any more.
ENDS_APPROVAL = ("project.approved", "project.rejected", "project.returned", "project.cancelled", "project.closed")
