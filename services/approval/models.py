"""Tables of the approval service (its own registry/metadata, migrated by Alembic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from baobei.core.db import request_log_table


class Base(SQLModel, registry=registry()):
    pass


def _ts(**kw: Any) -> Any:
    return Field(sa_column=sa.Column(sa.DateTime(timezone=True), **kw))


class PolicyVersion(Base, table=True):
    """One version of an approval policy; ``id`` orders changes across keys."""

    __tablename__ = "policy_version"
    __table_args__ = (sa.UniqueConstraint("key", "version", name="uq_policy_version_key_version"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, index=True)
    version: int
    form_key: str = Field(max_length=100, index=True)
    steps: list[dict[str, Any]] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = _ts(nullable=False)


class ApprovalInstance(Base, table=True):
    """One submission of a project going through its approval chain."""

    __tablename__ = "approval_instance"
    __table_args__ = (sa.UniqueConstraint("project_id", "attempt", name="uq_approval_instance_project_attempt"),)

    id: str = Field(primary_key=True, max_length=40)
    project_id: str = Field(max_length=100, index=True)
    # 1 for the first submission, 2 for the first resubmission, ...
    attempt: int
    policy_key: str = Field(default="", max_length=100)
    policy_version: int = 0
    submitter_id: str = Field(default="", max_length=100)
    # pending | approved | rejected
    status: str = Field(max_length=20)
    created_at: datetime = _ts(nullable=False)
    decided_at: datetime | None = _ts(nullable=True)


class ApprovalStep(Base, table=True):
    __tablename__ = "approval_step"
    __table_args__ = (sa.UniqueConstraint("instance_id", "step_index", name="uq_approval_step_instance_index"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(foreign_key="approval_instance.id", max_length=40, index=True)
    step_index: int
    name: str = Field(max_length=200)
    mode: str = Field(max_length=10)
    approvers: list[str] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    sla: str = Field(default="", max_length=20)
    sla_seconds: int = 0
    on_timeout: str = Field(default="", max_length=20)
    escalate_to: list[str] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # waiting | pending | approved | rejected | skipped
    status: str = Field(max_length=20)
    opened_at: datetime | None = _ts(nullable=True)
    decided_at: datetime | None = _ts(nullable=True)


class ApprovalTask(Base, table=True):
    """One approver's piece of one step."""

    __tablename__ = "approval_task"
    __table_args__ = (sa.Index("ix_approval_task_approver_status", "approver_id", "status"),)

    id: str = Field(primary_key=True, max_length=40)
    instance_id: str = Field(foreign_key="approval_instance.id", max_length=40, index=True)
    project_id: str = Field(max_length=100, index=True)
    step_index: int
    step_name: str = Field(max_length=200)
    approver_id: str = Field(max_length=100)
    # pending | approved | rejected | closed
    status: str = Field(max_length=20)
    due_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(nullable=False)
    decided_at: datetime | None = _ts(nullable=True)


class ApprovalDecision(Base, table=True):
    __tablename__ = "approval_decision"

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(foreign_key="approval_instance.id", max_length=40, index=True)
    step_index: int
    task_id: str = Field(default="", max_length=40)
    user_id: str = Field(max_length=100)
    # approve | reject
    action: str = Field(max_length=20)
    comment: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    # api | link | web | auto
    channel: str = Field(default="", max_length=20)
    auto: bool = False
    at: datetime = _ts(nullable=False)


metadata = Base.metadata
processed_request = request_log_table(metadata)
