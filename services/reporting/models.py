"""Tables of the reporting service (its own database; migrations in ./migrations)."""

from __future__ import annotations

from datetime import datetime
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


metadata = Base.metadata
# Not used by IngestEvent (idempotent on event_id via processed_event); kept so future mutating
# RPCs (snapshots, exports) share the request-id convention.
processed_request = request_log_table(metadata)
