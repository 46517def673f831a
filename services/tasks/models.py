"""Tables of the tasks service (its own database; migrations in ./migrations)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from baobei.core.db import request_log_table


class Base(SQLModel, registry=registry()):
    pass


class Task(Base, table=True):
    __tablename__ = "task"
    __table_args__ = (sa.Index("ix_task_project_created", "project_id", "created_at", "id"),)

    id: str = Field(primary_key=True, max_length=36)
    project_id: str = Field(max_length=100)
    name: str = Field(max_length=300)
    assignee_id: str = Field(default="", max_length=100, index=True)
    start: date | None = Field(default=None)
    due: date | None = Field(default=None)
    duration_days: int = Field(default=0)
    milestone: bool = Field(default=False)
    # todo | in_progress | done | blocked
    status: str = Field(default="todo", max_length=20)
    progress: int = Field(default=0)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # Summary task this one belongs to ("" = top level).
    parent_id: str = Field(default="", max_length=36, index=True)
    estimate_hours: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))
    # Manual dates: the scheduler keeps start as given instead of following predecessors.
    pinned: bool = Field(default=False)
    requires_deliverables: bool = Field(default=False)
    actual_start: date | None = Field(default=None)
    done_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    delay_reason: str = Field(default="", max_length=50)
    # Optimistic concurrency: PATCH with a stale version is refused (409).
    version: int = Field(default=1)


class TaskDependency(Base, table=True):
    """``task_id`` depends on ``predecessor_id`` with a link type (FS/SS/FF/SF) and a lag."""

    __tablename__ = "task_dependency"

    task_id: str = Field(foreign_key="task.id", primary_key=True, max_length=36)
    predecessor_id: str = Field(foreign_key="task.id", primary_key=True, max_length=36, index=True)
    type: str = Field(max_length=2)
    lag_days: int = Field(default=0)
    # position in the task's depends_on list, so it reads back in the order given
    position: int = Field(default=0)


class Plan(Base, table=True):
    """One row per project with tasks: the plan's version (bumped by every change, and the row
    every change locks first, so concurrent edits of one plan serialise), its budget override,
    and the number of the latest baseline."""

    __tablename__ = "plan"

    project_id: str = Field(primary_key=True, max_length=100)
    version: int = Field(default=0)
    budget: Decimal | None = Field(default=None, sa_type=sa.Numeric(16, 2))
    baseline_no: int = Field(default=0)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Baseline(Base, table=True):
    """Saved planned dates of each task (baseline ``number`` of the project)."""

    __tablename__ = "baseline"

    project_id: str = Field(primary_key=True, max_length=100)
    number: int = Field(primary_key=True)
    task_id: str = Field(primary_key=True, max_length=36)
    start: date
    finish: date
    name: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class TaskEvent(Base, table=True):
    """Changes in order (task.created / task.updated / cost.recorded): the execution workflow
    reads them after its cursor to report them and to fire status-change rules."""

    __tablename__ = "task_event"
    __table_args__ = (sa.Index("ix_task_event_project_id", "project_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=100)
    task_id: str = Field(default="", max_length=36)
    kind: str = Field(max_length=30)
    from_status: str = Field(default="", max_length=20)
    to_status: str = Field(default="", max_length=20)
    payload: str = Field(default="{}", sa_type=sa.Text)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Cost(Base, table=True):
    __tablename__ = "cost"
    __table_args__ = (sa.Index("ix_cost_project", "project_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=36)
    project_id: str = Field(max_length=100)
    task_id: str = Field(default="", max_length=36)
    # timesheet | expense | purchase
    kind: str = Field(max_length=20)
    hours: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))
    rate: Decimal | None = Field(default=None, sa_type=sa.Numeric(16, 2))
    amount: Decimal = Field(sa_type=sa.Numeric(16, 2))
    note: str = Field(default="", max_length=500)
    at: date
    actor_id: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class CostVoucher(Base, table=True):
    """A finance system's voucher booked as a cost, once per (source, voucher_id); ``fingerprint``
    tells a repeat (same content) from a conflict (same id, other content)."""

    __tablename__ = "cost_voucher"

    source: str = Field(primary_key=True, max_length=40)
    voucher_id: str = Field(primary_key=True, max_length=64)
    cost_id: str = Field(max_length=36)
    project_id: str = Field(max_length=100, index=True)
    category: str = Field(default="", max_length=50)
    fingerprint: str = Field(max_length=64)
    actor_id: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Deliverable(Base, table=True):
    __tablename__ = "deliverable"

    id: str = Field(primary_key=True, max_length=36)
    task_id: str = Field(foreign_key="task.id", max_length=36, index=True)
    project_id: str = Field(max_length=100)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Rule(Base, table=True):
    """A rule as data (JSON body, see services/tasks/rules.py); defaults are seeded by migration."""

    __tablename__ = "rule"

    key: str = Field(primary_key=True, max_length=63)
    body: str = Field(sa_type=sa.Text)
    version: int = Field(default=1)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class RuleFire(Base, table=True):
    """Each fire once: the key names rule, subject and occasion (e.g. rule:task:due-date)."""

    __tablename__ = "rule_fire"
    __table_args__ = (sa.Index("ix_rule_fire_project", "project_id", "fired_at"),)

    key: str = Field(primary_key=True, max_length=200)
    project_id: str = Field(max_length=100)
    rule_key: str = Field(max_length=63)
    task_id: str = Field(default="", max_length=36)
    title: str = Field(default="", max_length=300)
    recipients: str = Field(default="[]", sa_type=sa.Text)
    fired_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class DelayReason(Base, table=True):
    __tablename__ = "delay_reason"

    code: str = Field(primary_key=True, max_length=50)
    label: str = Field(max_length=100)
    position: int = Field(default=0)


class PlanTemplate(Base, table=True):
    """The plan created for a business line's projects on approval (JSON list of template tasks)."""

    __tablename__ = "plan_template"

    business_line: str = Field(primary_key=True, max_length=100)
    body: str = Field(sa_type=sa.Text)
    version: int = Field(default=1)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


metadata = Base.metadata
processed_request = request_log_table(metadata)
