"""Tables of the reporting service (its own database; migrations in ./migrations)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from baobei.core.db import request_log_table


class Money(sa.types.TypeDecorator[Decimal]):
    """Exact money: NUMERIC(18, 2) on PostgreSQL; on SQLite, whose NUMERIC affinity would turn
    the value into a binary float, a fixed-point string. Python side is always Decimal."""

    impl = sa.Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(24))
        return dialect.type_descriptor(sa.Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value).quantize(Decimal("0.01"))
        return f"{exact:f}" if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


class Base(SQLModel, registry=registry()):
    pass


class ProjectView(Base, table=True):
    """Read model of a project, upserted from events."""

    __tablename__ = "project_view"

    project_id: str = Field(primary_key=True, max_length=100)
    code: str = Field(default="", max_length=100, index=True)
    name: str = Field(default="", max_length=300)
    status: str = Field(default="", max_length=40, index=True)
    amount: Decimal | None = Field(default=None, sa_type=Money)
    owner_id: str = Field(default="", max_length=100, index=True)
    department_id: str = Field(default="", max_length=100, index=True)
    region: str = Field(default="", max_length=100)
    business_line: str = Field(default="", max_length=100)
    last_event_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # {field: ISO time of the event that last wrote it}: the out-of-order rule per field.
    field_at: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    # Exact amount in cents, for SQL sums that stay exact on SQLite too.
    amount_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    form_key: str = Field(default="", max_length=100)
    conflict_count: int = Field(default=0)
    # Lifecycle times (first occurrence) for cycle-time analytics.
    created_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True), index=True)
    submitted_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    approved_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    rejected_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class ProcessedEvent(Base, table=True):
    """Event ids already ingested (at-least-once delivery → exactly-once effect)."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=200)
    processed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class EventLog(Base, table=True):
    """Append-only log of every distinct event, for analytics and rebuilding read models."""

    __tablename__ = "event_log"
    __table_args__ = (sa.Index("ix_event_log_project_at", "project_id", "at"),)

    event_id: str = Field(primary_key=True, max_length=200)
    type: str = Field(max_length=100, index=True)
    project_id: str = Field(max_length=100)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    actor_id: str = Field(default="", max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    received_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class TaskView(Base, table=True):
    """Read model of a task (task.created / task.updated carry the whole task)."""

    __tablename__ = "task_view"
    __table_args__ = (
        sa.Index("ix_task_view_project", "project_id", "status"),
        sa.Index("ix_task_view_assignee", "assignee_id", "status"),
        sa.Index("ix_task_view_status_due", "status", "due"),
        # Covering index for "open and overdue, per assignee" (productivity): no table lookups.
        sa.Index("ix_task_view_status_due_assignee", "status", "due", "assignee_id"),
    )

    task_id: str = Field(primary_key=True, max_length=100)
    project_id: str = Field(max_length=100)
    name: str = Field(default="", max_length=300)
    assignee_id: str = Field(default="", max_length=100)
    status: str = Field(default="todo", max_length=40)
    start: date | None = Field(default=None)
    due: date | None = Field(default=None)
    finish: date | None = Field(default=None)
    baseline_finish: date | None = Field(default=None)
    estimate_hours: float = Field(default=0.0)
    # 0..1
    progress: float = Field(default=0.0)
    milestone: bool = Field(default=False)
    delay_reason: str = Field(default="", max_length=300)
    done_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    created_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_event_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class AssigneeTaskSummary(Base, table=True):
    """Per-assignee task counts for productivity, kept in the transaction of every task event (the
    affected assignees' rows are recomputed from task_view under a row lock) and by rebuilds.
    Time-dependent figures (overdue) are not kept here: they move with the clock."""

    __tablename__ = "assignee_task_summary"

    assignee_id: str = Field(primary_key=True, max_length=100)
    tasks: int = Field(default=0)
    done: int = Field(default=0)
    # Done by the end of their due day (Asia/Shanghai).
    on_time: int = Field(default=0)
    # min / max of done_at over the assignee's tasks (any status), for throughput per week.
    first_done_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_done_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class CostEntry(Base, table=True):
    """One recorded cost (cost.recorded), amount in exact cents."""

    __tablename__ = "cost_entry"

    cost_id: str = Field(primary_key=True, max_length=100)
    project_id: str = Field(max_length=100, index=True)
    task_id: str = Field(default="", max_length=100)
    kind: str = Field(default="", max_length=100)
    amount_cents: int = Field(sa_type=sa.BigInteger)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ApprovalStepView(Base, table=True):
    """One opened approval step; closed when decided (or superseded by the next step / project outcome)."""

    __tablename__ = "approval_step_view"
    __table_args__ = (sa.Index("ix_approval_step_open", "closed_at", "project_id"),)

    instance_id: str = Field(primary_key=True, max_length=100)
    step_index: int = Field(primary_key=True)
    project_id: str = Field(max_length=100, index=True)
    step: str = Field(default="", max_length=200)
    approvers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    opened_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    outcome: str = Field(default="", max_length=40)


class ApprovalDecisionView(Base, table=True):
    """One approver's decision (approval.decided)."""

    __tablename__ = "approval_decision_view"
    __table_args__ = (sa.Index("ix_approval_decision_step", "instance_id", "step_index"),)

    event_id: str = Field(primary_key=True, max_length=200)
    instance_id: str = Field(max_length=100)
    step_index: int = Field(default=0)
    project_id: str = Field(max_length=100, index=True)
    step: str = Field(default="", max_length=200)
    user_id: str = Field(default="", max_length=100, index=True)
    action: str = Field(default="", max_length=40)
    channel: str = Field(default="", max_length=40)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class WarningRecord(Base, table=True):
    """An early warning, one row per condition key (raised once); notified_at is the outbox mark."""

    __tablename__ = "warning"
    __table_args__ = (sa.Index("ix_warning_outbox", "notified_at"),)

    key: str = Field(primary_key=True, max_length=250)
    kind: str = Field(max_length=40)
    project_id: str = Field(default="", max_length=100, index=True)
    user_id: str = Field(default="", max_length=100, index=True)
    week: str = Field(default="", max_length=10)
    title: str = Field(default="", max_length=300)
    body: str = Field(default="", max_length=2000)
    recipient_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    raised_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    notified_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    cleared_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class EventForward(Base, table=True):
    """Finance sync outbox: an ingested project.approved / project.closed / cost.recorded event,
    written in the ingest transaction and handed to notify.PublishEvents by the outbox thread
    (``sent_at`` is the mark). The event id is the key, so an event is forwarded once."""

    __tablename__ = "event_forward"
    __table_args__ = (sa.Index("ix_event_forward_outbox", "sent_at", "created_at"),)

    event_id: str = Field(primary_key=True, max_length=200)
    type: str = Field(max_length=100)
    project_id: str = Field(default="", max_length=100)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class ProjectReview(Base, table=True):
    """A project's closing review (复盘) as people recorded it (project.reviewed, the latest by event
    time wins). Cost and schedule facts are not stored: they are computed from the read models
    when the review is read, so a rebuild reproduces it from the event log alone."""

    __tablename__ = "project_review"

    project_id: str = Field(primary_key=True, max_length=100)
    # won | delivered | lost | cancelled
    outcome: str = Field(default="", max_length=20, index=True)
    reason: str = Field(default="", max_length=2000)
    lessons: str = Field(default="", sa_type=sa.Text)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    delay_summary: str = Field(default="", max_length=2000)
    reviewed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    reviewed_by: str = Field(default="", max_length=100)
    event_id: str = Field(default="", max_length=200)


class ReportSetting(Base, table=True):
    """Configurable settings (health thresholds) as JSON per key."""

    __tablename__ = "report_setting"

    key: str = Field(primary_key=True, max_length=100)
    value: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


metadata = Base.metadata
# Not used by IngestEvent (idempotent on event_id via processed_event); kept so future mutating
# RPCs (snapshots, exports) share the request-id convention.
processed_request = request_log_table(metadata)
