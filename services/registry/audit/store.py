"""Persistence of the audit chain (the registry's database). Appends and purges lock the chain's
head row first, so the chain stays linear whatever runs concurrently; the caller commits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry.audit import domain
from services.registry.audit.models import AuditChainRow, AuditEventRow

HEAD_ID = 1
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
VERIFY_BATCH = 1000


def _now() -> datetime:
    return datetime.now(UTC)


def to_event(row: AuditEventRow) -> domain.Event:
    return domain.Event(seq=row.seq, at=domain.utc(row.at), action=row.action, outcome=row.outcome,
                        actor_id=row.actor_id, actor_ip=row.actor_ip, target_type=row.target_type,
                        target_id=row.target_id, details=json.loads(row.details or "{}"),
                        request_id=row.request_id, event_id=row.event_id, prev_hash=row.prev_hash, hash=row.hash)


def _head(session: Session, *, lock: bool = True) -> AuditChainRow:
    """The head row, locked for update (appends, purges) or share (verify)."""
    stmt = select(AuditChainRow).where(AuditChainRow.id == HEAD_ID).execution_options(populate_existing=True)
    row = session.exec(stmt.with_for_update(read=not lock)).first()
    if row is None:  # the migration creates it; a database built otherwise gets it here
        row = AuditChainRow(id=HEAD_ID)
        session.add(row)
        session.flush()
    return row


def _by_event_id(session: Session, event_id: str) -> AuditEventRow | None:
    return session.exec(select(AuditEventRow).where(AuditEventRow.event_id == event_id)).first()


def _append_locked(session: Session, head: AuditChainRow, draft: domain.Draft, at: datetime) -> AuditEventRow:
    ev = domain.chain(domain.ChainPoint(head.head_seq, head.head_hash), draft, at)
    row = AuditEventRow(seq=ev.seq, at=ev.at, action=ev.action, outcome=ev.outcome, actor_id=ev.actor_id,
                        actor_ip=ev.actor_ip, target_type=ev.target_type, target_id=ev.target_id,
                        details=domain.canonical_json(ev.details), request_id=ev.request_id, event_id=ev.event_id,
                        prev_hash=ev.prev_hash, hash=ev.hash)
    head.head_seq, head.head_hash = ev.seq, ev.hash
    session.add(row)
    session.add(head)
    session.flush()
    return row


def append(*, session: Session, draft: domain.Draft, at: datetime | None = None) -> tuple[AuditEventRow, bool]:
    """The event appended (True), or the one recorded before under the same event id (False)."""
    domain.check(draft)
    existing = _by_event_id(session, draft.event_id)
    if existing is not None:
        return existing, False
    head = _head(session)
    # Looked up again under the lock: a concurrent append of the same event may have won.
    existing = _by_event_id(session, draft.event_id)
    if existing is not None:
        return existing, False
    return _append_locked(session, head, draft, at or _now()), True


@dataclass(frozen=True)
class Filters:
    action: str = ""
    actor_id: str = ""
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""
    request_id: str = ""
    from_: datetime | None = None
    to: datetime | None = None


def _cursor(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise ValidationFailed([FieldViolation("cursor", "无效的分页游标", "invalid cursor")])
    return int(text)


def list_events(*, session: Session, filters: Filters, limit: int, cursor: str) -> tuple[list[AuditEventRow], str]:
    """A page of events newest first, and the cursor of the next page ("" on the last)."""
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    stmt = select(AuditEventRow)
    if filters.action:
        stmt = stmt.where(col(AuditEventRow.action).startswith(filters.action, autoescape=True))
    for column, value in ((AuditEventRow.actor_id, filters.actor_id), (AuditEventRow.target_type, filters.target_type),
                          (AuditEventRow.target_id, filters.target_id), (AuditEventRow.outcome, filters.outcome),
                          (AuditEventRow.request_id, filters.request_id)):
        if value:
            stmt = stmt.where(column == value)
    if filters.from_ is not None:
        stmt = stmt.where(AuditEventRow.at >= filters.from_)
    if filters.to is not None:
        stmt = stmt.where(AuditEventRow.at < filters.to)
    after = _cursor(cursor)
    if after is not None:
        stmt = stmt.where(AuditEventRow.seq < after)
    rows = list(session.exec(stmt.order_by(col(AuditEventRow.seq).desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, str(rows[-1].seq) if more and rows else ""


def _events_from(session: Session, after: int) -> Iterator[domain.Event]:
    """Every event after seq ``after`` in seq order, read in batches."""
    while True:
        batch = list(session.exec(select(AuditEventRow).where(AuditEventRow.seq > after)
                                  .order_by(col(AuditEventRow.seq)).limit(VERIFY_BATCH)))
        for row in batch:
            yield to_event(row)
        if len(batch) < VERIFY_BATCH:
            return
        after = batch[-1].seq
        session.expunge_all()


@dataclass(frozen=True)
class VerifyResult:
    verdict: domain.Verdict
    anchor: domain.ChainPoint
    head: domain.ChainPoint


def verify(*, session: Session) -> VerifyResult:
    """Walk the chain from the anchor to the head (appends and purges wait meanwhile), then check
    that the newest ``audit.purged`` event names the anchor the head row holds."""
    head = _head(session, lock=False)
    anchor = domain.ChainPoint(head.anchor_seq, head.anchor_hash)
    end = domain.ChainPoint(head.head_seq, head.head_hash)
    last_purge: list[domain.Event] = []

    def events() -> Iterator[domain.Event]:
        # From the start: a row put back below the anchor shows as out of order.
        for ev in _events_from(session, 0):
            if ev.action == domain.PURGED_ACTION:
                last_purge[:] = [ev]
            yield ev

    verdict = domain.walk(events(), anchor=anchor, head=end)
    if verdict.ok and anchor.seq > 0:
        named = last_purge[0].details if last_purge else {}
        if (named.get("anchor_seq"), named.get("anchor_hash")) != (anchor.seq, anchor.hash):
            verdict = domain.Verdict(False, verdict.checked, anchor.seq + 1, "anchor mismatch")
    return VerifyResult(verdict, anchor, end)


@dataclass(frozen=True)
class PurgeResult:
    purged: int
    anchor: domain.ChainPoint
    event: AuditEventRow | None


def purge(*, session: Session, event_id: str, before: datetime, at: datetime | None, actor_id: str,
          request_id: str = "") -> PurgeResult:
    """Remove the chain's prefix older than ``before`` (see the proto), move the anchor to its
    last event and record an ``audit.purged`` event naming it."""
    if not event_id.strip():
        raise ValidationFailed([FieldViolation("event_id", "event_id 为必填项", "event_id is required")])
    done = _by_event_id(session, event_id)
    head = _head(session)
    done = done or _by_event_id(session, event_id)
    if done is not None:  # a repeated purge: its first answer
        details: dict[str, Any] = json.loads(done.details)
        return PurgeResult(int(details.get("purged", 0)),
                           domain.ChainPoint(int(details.get("anchor_seq", 0)), str(details.get("anchor_hash", ""))),
                           done)
    cutoff = domain.utc(before)
    first_kept = session.exec(select(sa.func.min(AuditEventRow.seq)).where(AuditEventRow.at >= cutoff)).one()
    # Only a prefix goes: up to the first event at or after the cutoff (clocks may not be monotonic).
    last = (int(first_kept) - 1) if first_kept is not None else head.head_seq
    if last <= head.anchor_seq:
        return PurgeResult(0, domain.ChainPoint(head.anchor_seq, head.anchor_hash), None)
    boundary = session.get(AuditEventRow, last)
    if boundary is None:
        raise ValidationFailed([FieldViolation("before", "审计链已损坏，无法清理", "the audit chain is broken")])
    removed = session.execute(sa.delete(AuditEventRow).where(col(AuditEventRow.seq) <= last))
    count = int(getattr(removed, "rowcount", 0) or 0)
    head.anchor_seq, head.anchor_hash, head.purged = last, boundary.hash, head.purged + count
    draft = domain.check(domain.Draft(
        event_id=event_id, action=domain.PURGED_ACTION, actor_id=actor_id or "system", target_type="audit_log",
        details={"before": domain.iso(cutoff), "purged": count, "anchor_seq": last, "anchor_hash": boundary.hash},
        request_id=request_id,
    ))
    row = _append_locked(session, head, draft, at or _now())
    return PurgeResult(count, domain.ChainPoint(last, boundary.hash), row)
