"""The comment table, on the registry's metadata (one database, one migration chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.comments import domain
from services.registry.models import Base


def _ts() -> Any:
    return sa.DateTime(timezone=True)


class CommentRow(Base, table=True):
    __tablename__ = "project_comment"
    __table_args__ = (
        # A project's threads newest first, and a thread's replies.
        sa.Index("ix_project_comment_project", "project_id", "parent_id", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=32)
    project_id: str = Field(max_length=32)
    anchor: str = Field(max_length=120)
    author_id: str = Field(max_length=domain.MAX_ID)
    body: str = Field(default="", sa_type=sa.Text)
    mentions: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # "" for a thread's first comment (so the index also finds the threads).
    parent_id: str = Field(default="", max_length=32)
    reply_to_id: str = Field(default="", max_length=32)
    created_at: datetime = Field(sa_type=_ts())
    deleted: bool = Field(default=False)
    deleted_at: datetime | None = Field(default=None, sa_type=_ts())
    deleted_by: str = Field(default="", max_length=domain.MAX_ID)
