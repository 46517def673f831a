"""Acceptance (验收) tables, on the registry's metadata (one database, one migration chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.models import Base


def _ts() -> Any:
    return sa.DateTime(timezone=True)


class AcceptanceChecklistRow(Base, table=True):
    """The deliverables required to accept a project of one business line."""

    __tablename__ = "acceptance_checklist"

    business_line: str = Field(primary_key=True, max_length=100)
    # [{"key", "name", "required", "needs_document"}]
    items: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    version: int = 1
    updated_at: datetime = Field(sa_type=_ts())
    updated_by: str = Field(default="", max_length=100)


class AcceptanceRequestRow(Base, table=True):
    """One acceptance request of a project (at most one pending at a time)."""

    __tablename__ = "acceptance_request"
    __table_args__ = (sa.UniqueConstraint("project_id", "seq", name="uq_acceptance_request_project_seq"),)

    id: str = Field(primary_key=True, max_length=32)
    project_id: str = Field(max_length=32, index=True)
    seq: int
    # pending | accepted | rejected | cancelled
    status: str = Field(max_length=20)
    business_line: str = Field(default="", max_length=100)
    # [{"key", "name", "required", "needs_document", "done", "note"}]: the checklist as it was
    deliverables: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    comment: str = Field(default="", sa_type=sa.Text)
    requested_by: str = Field(default="", max_length=100)
    policy_key: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=_ts())
    decided_at: datetime | None = Field(default=None, sa_type=_ts())
    decided_by: str = Field(default="", max_length=100)
    reason: str = Field(default="", sa_type=sa.Text)


class AcceptanceDocumentRow(Base, table=True):
    """An uploaded document (customer sign-off, a deliverable's evidence) of a project's acceptance."""

    __tablename__ = "acceptance_document"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=32, index=True)
    attachment_id: str = Field(max_length=80)
    filename: str = Field(default="", max_length=255)
    content_type: str = Field(default="", max_length=120)
    size: int = 0
    deliverable_key: str = Field(default="", max_length=64)
    uploaded_by: str = Field(default="", max_length=100)
    uploaded_at: datetime = Field(sa_type=_ts())
    # "" until a request is opened with it.
    request_id: str = Field(default="", max_length=32)
