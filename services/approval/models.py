"""Tables of the approval service (its own registry/metadata, migrated by Alembic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from baobei.core.db import request_log_table
from baobei.core.event_outbox import event_outbox_table


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
    # Policy-wide rules (default branch, special cases); None = defaults.
    options: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))


class ApprovalInstance(Base, table=True):
    """One submission of a project going through its approval chain."""

    __tablename__ = "approval_instance"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "attempt", name="uq_approval_instance_project_attempt"),
        sa.Index("ix_approval_instance_project_purpose", "project_id", "purpose"),
    )

    id: str = Field(primary_key=True, max_length=40)
    project_id: str = Field(max_length=100, index=True)
    # 1 for the first submission, 2 for the first resubmission, ...
    attempt: int
    policy_key: str = Field(default="", max_length=100)
    policy_version: int = 0
    # The project's form (what-if replays the latest submissions of a form).
    form_key: str = Field(
        default="", sa_column=sa.Column(sa.String(100), nullable=False, server_default="", index=True)
    )
    submitter_id: str = Field(default="", max_length=100)
    # pending | approved | rejected | returned | cancelled | superseded
    status: str = Field(max_length=20)
    created_at: datetime = _ts(nullable=False)
    decided_at: datetime | None = _ts(nullable=True)
    # Provenance: the policy version and the project/submitter facts the chain was planned from.
    inputs: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    form_hash: str = Field(default="", sa_column=sa.Column(sa.String(64), nullable=False, server_default=""))
    # Set when a resubmission changed the form: earlier approvals no longer auto-approve later steps.
    form_changed_at: datetime | None = _ts(nullable=True)
    # The step that returned the approval to the submitter (-1: none): a resubmission resumes there.
    returned_step: int = Field(default=-1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="-1"))
    # What the chain decides: registration (the project's registration) | acceptance (验收) | …
    # Instances of one purpose never supersede another's; GetInstance shows one purpose.
    purpose: str = Field(
        default="registration", sa_column=sa.Column(sa.String(20), nullable=False, server_default="registration")
    )
    # The request decided (e.g. the acceptance request id); "" for the registration.
    subject_id: str = Field(default="", sa_column=sa.Column(sa.String(64), nullable=False, server_default=""))


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
    # waiting | pending | approved | rejected | returned | skipped
    status: str = Field(max_length=20)
    opened_at: datetime | None = _ts(nullable=True)
    decided_at: datetime | None = _ts(nullable=True)
    # min_approvals, ratio, remind_at, escalation ladder, cc, blocked, self_approved.
    config: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    # Which rule selected the step and how its approvers were found.
    provenance: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))


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
    # pending | approved | rejected | closed | waiting (an approver added before must act first)
    status: str = Field(max_length=20)
    due_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(nullable=False)
    # When it became pending (None while waiting; older rows: created_at stands for it).
    opened_at: datetime | None = _ts(nullable=True)
    decided_at: datetime | None = _ts(nullable=True)
    # normal | before | after | escalated (see domain.KIND_*)
    kind: str = Field(default="normal", sa_column=sa.Column(sa.String(20), nullable=False, server_default="normal"))
    # For a "before" task: the task it holds back until it is approved.
    blocks_task_id: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))


class ApprovalDecision(Base, table=True):
    __tablename__ = "approval_decision"
    # 已办 (ListDecided): a user's own decisions, newest first.
    __table_args__ = (sa.Index("ix_approval_decision_user_id_id", "user_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(foreign_key="approval_instance.id", max_length=40, index=True)
    step_index: int
    task_id: str = Field(default="", max_length=40)
    user_id: str = Field(max_length=100)
    # One audit event per action: see domain.AUDIT_ACTIONS.
    action: str = Field(max_length=20)
    comment: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    # api | link | group_link | web | auto | system
    channel: str = Field(default="", max_length=20)
    auto: bool = False
    at: datetime = _ts(nullable=False)
    # The approver a delegate acted for (代理), empty otherwise.
    on_behalf_of: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False, server_default=""))
    # transfer / add_approver / reassign / return target.
    target_user_id: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False, server_default=""))
    # attachments, position, to_step, level, ...
    data: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))


class ApprovalCC(Base, table=True):
    """A carbon copy (抄送) of an approval to a user, with its read receipt."""

    __tablename__ = "approval_cc"
    __table_args__ = (
        sa.UniqueConstraint("instance_id", "step_index", "user_id", name="uq_approval_cc_instance_step_user"),
        sa.Index("ix_approval_cc_user", "user_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    instance_id: str = Field(foreign_key="approval_instance.id", max_length=40, index=True)
    project_id: str = Field(max_length=100)
    step_index: int
    user_id: str = Field(max_length=100)
    by_user_id: str = Field(default="", max_length=100)
    created_at: datetime = _ts(nullable=False)
    read_at: datetime | None = _ts(nullable=True)


class ApprovalDelegation(Base, table=True):
    """A user away names a delegate for a date range (one delegation per user)."""

    __tablename__ = "approval_delegation"

    user_id: str = Field(primary_key=True, max_length=100)
    delegate_id: str = Field(max_length=100, index=True)
    starts_at: datetime = _ts(nullable=False)
    ends_at: datetime = _ts(nullable=False)
    created_at: datetime = _ts(nullable=False)


class ApprovalLinkUse(Base, table=True):
    """An action link used to decide: written in the same transaction as the decision, so the
    primary key makes a link work once (a second use, even a concurrent one, fails)."""

    __tablename__ = "approval_link_use"

    link_id: str = Field(primary_key=True, max_length=100)
    task_id: str = Field(max_length=40, index=True)
    user_id: str = Field(max_length=100)
    at: datetime = _ts(nullable=False)


class ApprovalTaskClosing(Base, table=True):
    """Outbox: a task that stopped being a to-do, written in the transaction that closed it. The
    worker's relay hands each row to notify (which closes the person's IM card and 待办) and
    then marks it relayed; ``seq`` orders them and is the idempotency key of the hand-over."""

    __tablename__ = "approval_task_closing"

    seq: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(max_length=40)
    instance_id: str = Field(max_length=40)
    project_id: str = Field(max_length=100)
    approver_id: str = Field(max_length=100)
    # approved | rejected | returned | transferred | reassigned | cancelled | withdrawn | closed
    outcome: str = Field(max_length=20)
    actor_id: str = Field(max_length=100)
    created_at: datetime = _ts(nullable=False)
    # False until notify has accepted it; the relay reads the unrelayed ones in seq order.
    relayed: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false(),
                                                              index=True))


class CompanyCalendarDay(Base, table=True):
    """A company override of the statutory calendar: a company holiday or an extra workday."""

    __tablename__ = "company_calendar_day"

    day: date = Field(primary_key=True)
    # holiday | workday
    kind: str = Field(max_length=10)
    name: str = Field(default="", max_length=100)
    updated_by: str = Field(default="", max_length=100)
    updated_at: datetime = _ts(nullable=False)


metadata = Base.metadata
processed_request = request_log_table(metadata)
# Reporting events written with the change they report (baobei/core/event_outbox.py).
event_outbox = event_outbox_table(metadata)
# Approval requests written with the opening of their step (services/approval/notice_outbox.py).
notice_outbox = event_outbox_table(metadata, "notice_outbox")
