"""Change request (变更) table, on the registry's metadata (one database, one migration chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.models import Base


def _ts() -> Any:
    return sa.DateTime(timezone=True)


class ChangeRequestRow(Base, table=True):
    """One change request of an active project (at most one pending at a time)."""

    __tablename__ = "change_request"
    __table_args__ = (sa.UniqueConstraint("project_id", "seq", name="uq_change_request_project_seq"),)

    id: str = Field(primary_key=True, max_length=32)
    project_id: str = Field(max_length=32, index=True)
    seq: int
    # pending | approved | rejected | withdrawn | cancelled
    status: str = Field(max_length=20)
    # {"amount"?, "start_date"?, "end_date"?, "fields"?: {...}} as asked for
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # [{"field", "before", "after"}] against the project when it was proposed
    diff: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    reason: str = Field(default="", sa_type=sa.Text)
    reset_baseline: bool = False
    requested_by: str = Field(default="", max_length=100)
    # The project version the change was proposed against, and applied as.
    base_version: int = 0
    applied_version: int = 0
    after_amount: str = Field(default="", max_length=40)
    created_at: datetime = Field(sa_type=_ts())
    decided_at: datetime | None = Field(default=None, sa_type=_ts())
    decided_by: str = Field(default="", max_length=100)
    outcome_reason: str = Field(default="", sa_type=sa.Text)
