"""Tables of the tasks service (its own database; migrations in ./migrations)."""

from __future__ import annotations

from datetime import date, datetime

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


class TaskDependency(Base, table=True):
    """``task_id`` depends on ``predecessor_id`` with a link type (FS/SS/FF/SF) and a lag."""

    __tablename__ = "task_dependency"

    task_id: str = Field(foreign_key="task.id", primary_key=True, max_length=36)
    predecessor_id: str = Field(foreign_key="task.id", primary_key=True, max_length=36, index=True)
    type: str = Field(max_length=2)
    lag_days: int = Field(default=0)
    # position in the task's depends_on list, so it reads back in the order given
    position: int = Field(default=0)


metadata = Base.metadata
processed_request = request_log_table(metadata)
