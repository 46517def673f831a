"""The reporting-event outbox of a service (registry, approval): a domain event written as a row
in the same transaction as the change it reports, so a rolled-back change publishes nothing and
a committed one is published at least once. The worker's relay (workflows/event_relay.py) claims
the oldest rows, ships them to ``reporting.IngestEvents`` (idempotent on the event id) and
acknowledges them, which deletes them: the table holds only what is not yet shipped.

A row holds the serialized ``baobei.reporting.v1.Event``, built with ``baobei.reporting_events``
exactly as the workflows' reporting activity built it, so reporting sees the same event.

The same shape serves other outboxes of a service under another table name (approval's
``notice_outbox``: serialized ``baobei.approval.v1.Notice`` rows the worker sends through notify,
never to reporting)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb

TABLE = "event_outbox"
MAX_CLAIM = 500


def event_outbox_table(metadata: sa.MetaData, name: str = TABLE) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("event", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def publish(session: Session, table: sa.Table, event: reporting_pb.Event) -> None:
    """Add the event to the caller's transaction (it commits or rolls back with the change)."""
    publish_row(session, table, event_id=event.event_id, data=event.SerializeToString())


def publish_row(session: Session, table: sa.Table, *, event_id: str, data: bytes) -> None:
    session.connection().execute(_insert(table), {"event_id": event_id, "event": data,
                                                  "created_at": datetime.now(UTC)})


def publish_rows(session: Session, table: sa.Table, rows: Sequence[tuple[str, bytes]]) -> None:
    """``publish_row`` of each (event id, data), in order, as one executemany."""
    if rows:
        session.connection().execute(_insert(table), [
            {"event_id": event_id, "event": data, "created_at": datetime.now(UTC)} for event_id, data in rows])


_inserts: dict[sa.Table, sa.Insert] = {}


def _insert(table: sa.Table) -> sa.Insert:
    """The insert of ``table``, built once (values are bound per call): building, coercing and
    cache-keying a new statement with its values was most of what an outbox row cost. Inline:
    nobody reads the new ``seq`` back, so none is fetched."""
    found = _inserts.get(table)
    if found is None:
        found = _inserts[table] = table.insert().inline()
    return found


def claim(engine: Engine, table: sa.Table, *, limit: int) -> list[tuple[int, bytes]]:
    """The oldest unacknowledged rows (seq, serialized event). Several relays may read the same
    rows; reporting applies each event id once."""
    size = min(max(limit, 1), MAX_CLAIM)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.seq, table.c.event).order_by(table.c.seq).limit(size)).all()
    return [(int(r.seq), bytes(r.event)) for r in rows]


def ack(engine: Engine, table: sa.Table, *, seqs: list[int]) -> int:
    """Delete shipped rows (the table stays bounded by what is in flight); how many were there."""
    if not seqs:
        return 0
    with engine.begin() as conn:
        result = conn.execute(sa.delete(table).where(table.c.seq.in_(seqs)))
        return int(result.rowcount)
