"""Audit tables, on the registry's metadata (one database, one migration chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.audit import domain
from services.registry.models import Base


def _ts() -> Any:
    return sa.DateTime(timezone=True)


class AuditEventRow(Base, table=True):
    """One event of the chain. Rows are only ever inserted (and, by retention, deleted oldest
    first): the service has no statement that updates one."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_at", "at"),
        sa.Index("ix_audit_event_action", "action"),
        sa.Index("ix_audit_event_actor", "actor_id"),
        sa.Index("ix_audit_event_target", "target_type", "target_id"),
    )

    seq: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_type=_ts())
    action: str = Field(max_length=domain.MAX_ACTION)
    outcome: str = Field(max_length=10)
    actor_id: str = Field(max_length=domain.MAX_ID)
    actor_ip: str = Field(default="", max_length=domain.MAX_IP)
    target_type: str = Field(default="", max_length=domain.MAX_TYPE)
    target_id: str = Field(default="", max_length=domain.MAX_ID)
    # Canonical JSON text of the details object (kept as text: no database re-encodes it).
    details: str = Field(default="{}", sa_type=sa.Text)
    request_id: str = Field(default="", max_length=domain.MAX_REQUEST_ID)
    event_id: str = Field(max_length=domain.MAX_ID, sa_column_kwargs={"unique": True})
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainRow(Base, table=True):
    """The chain's single head row (id 1): the last event appended, and the anchor the remaining
    chain starts from after retention. Every append and purge locks it first, so appends are
    linear under concurrency on SQLite (BEGIN IMMEDIATE) and PostgreSQL (SELECT … FOR UPDATE)."""

    __tablename__ = "audit_chain"

    id: int = Field(primary_key=True)
    head_seq: int = Field(default=0, sa_type=sa.BigInteger)
    head_hash: str = Field(default=domain.GENESIS, max_length=64)
    anchor_seq: int = Field(default=0, sa_type=sa.BigInteger)
    anchor_hash: str = Field(default=domain.GENESIS, max_length=64)
    purged: int = Field(default=0, sa_type=sa.BigInteger)
