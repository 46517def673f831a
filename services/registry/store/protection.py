"""Protection periods (保护期) and the waitlist (候补) as stored: a claim row per customer (its
holder and last waitlist number) locked while the line changes; ``domain.protection`` decides
who holds the line, who waits in which order, and when a protection starts, lapses or extends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry.domain import Project, Protection, Status, check_owner
from services.registry.domain import protection as rules
from services.registry.models import CustomerClaimRow, ProjectRow
from services.registry.store.forms import settings_of
from services.registry.store.rows import add_history, history, lock_project, member_of, project_of, utc
from services.registry.store.rows import now as _now

log = structlog.get_logger(__name__)


def _lock_claim(session: Session, key: str) -> CustomerClaimRow:
    """The customer's claim row, created if missing, locked for this transaction (SQLite: the
    database write lock taken by BEGIN IMMEDIATE)."""
    table = CustomerClaimRow.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(key=key, holder_project_id="", next_seq=0).on_conflict_do_nothing())
    return session.exec(select(CustomerClaimRow).where(CustomerClaimRow.key == key).with_for_update()).one()


def _waitlist(session: Session, key: str, *, lock: bool = False) -> list[ProjectRow]:
    stmt = (select(ProjectRow).where(ProjectRow.claim_key == key)
            .where(ProjectRow.protection_state == Protection.WAITLISTED.value))
    return list(session.exec(stmt.with_for_update() if lock else stmt).all())


def join_claim(session: Session, row: ProjectRow, now: datetime) -> None:
    """On submit: take ``row``'s place in its customer's line (``rules.join``)."""
    if member_of(row).state in rules.IN_LINE:
        return  # a resubmission keeps its place
    key = row.customer_name_norm
    claim = _lock_claim(session, key)
    row.claim_key = key
    holder_row = session.get(ProjectRow, claim.holder_project_id) if claim.holder_project_id else None
    place = rules.join(member_of(row), member_of(holder_row) if holder_row else None, claim.next_seq)
    assert place is not None
    data: dict[str, Any] = {}
    if place.seq is None:
        claim.holder_project_id = row.id
    else:
        claim.next_seq = place.seq
        data = {"behind": place.behind, "seq": place.seq}
    row.protection_state, row.waitlist_seq = place.state.value, place.seq
    session.add(claim)
    event = f"protection.{place.state.value}"
    add_history(session, row.id, at=now, actor="", event=event, data=data)
    log.info(event, project_id=row.id, claim=key, **data)


def _protect(session: Session, row: ProjectRow, at: datetime, actor: str) -> None:
    until, cap = rules.protection_window(settings_of(session, row), at)
    row.protection_state = Protection.PROTECTED.value
    row.protected_since, row.protected_until, row.protection_cap = at, until, cap
    # History is ordered by wall-clock time; ``at`` (workflow time) is what the timers use.
    add_history(session, row.id, at=_now(), actor=actor, event="protection.started",
                data={"until": until.isoformat(), "cap": cap.isoformat()})
    log.info("protection.started", project_id=row.id, until=until.isoformat())


def leave_claim(session: Session, row: ProjectRow, state: Protection, now: datetime, actor: str
                ) -> list[tuple[str, Status]]:
    """``row`` leaves its customer's line (lapsed / released); when it held the line, its
    successor (``rules.successor``) takes over. Returns the promoted project, if any."""
    if not row.claim_key or member_of(row).state not in rules.IN_LINE:
        return []
    claim = _lock_claim(session, row.claim_key)
    was_holder = claim.holder_project_id == row.id
    row.protection_state, row.waitlist_seq = state.value, None
    session.add(row)
    add_history(session, row.id, at=_now(), actor=actor, event=f"protection.{state.value}", data={})
    if not was_holder:
        return []
    waiting = {r.id: r for r in _waitlist(session, row.claim_key, lock=True)}
    nxt = rules.successor(row.id, [member_of(r) for r in waiting.values()])
    claim.holder_project_id = nxt.project_id if nxt else ""
    session.add(claim)
    if nxt is None:
        return []
    nxt_row = waiting[nxt.project_id]
    nxt_row.waitlist_seq = None
    add_history(session, nxt_row.id, at=_now(), actor=actor, event="protection.promoted", data={"after": row.id})
    if rules.promoted_state(nxt.status) is Protection.PROTECTED:
        _protect(session, nxt_row, now, actor)
    else:
        nxt_row.protection_state = Protection.HOLDER.value
    session.add(nxt_row)
    log.info("protection.promoted", project_id=nxt_row.id, after=row.id, status=nxt_row.status)
    return [(nxt_row.id, nxt.status)]


def waitlist_position(*, session: Session, project: Project, claim_key: str, seq: int | None) -> None:
    """Fill in ``project.protection``: its line's holder, and its place when waitlisted."""
    if not claim_key:
        return
    claim = session.get(CustomerClaimRow, claim_key)
    project.protection.holder_project_id = claim.holder_project_id if claim else ""
    if project.protection.state is Protection.WAITLISTED and seq is not None:
        me = rules.Member(project_id=project.id, status=project.status, state=project.protection.state, seq=seq)
        project.protection.position = rules.position(me, [member_of(r) for r in _waitlist(session, claim_key)])


def with_protection(session: Session, row: ProjectRow) -> Project:
    """The project with its history and its place in its customer's line."""
    project = project_of(row, history(session, row.id))
    waitlist_position(session=session, project=project, claim_key=row.claim_key, seq=row.waitlist_seq)
    return project


@dataclass
class ProtectionState:
    project: Project
    remind_at: datetime | None
    promoted: list[tuple[str, Status]]


def _state(session: Session, row: ProjectRow, promoted: list[tuple[str, Status]]) -> ProtectionState:
    project = project_of(row)
    waitlist_position(session=session, project=project, claim_key=row.claim_key, seq=row.waitlist_seq)
    p = project.protection
    return ProtectionState(project=project, remind_at=rules.reminder(settings_of(session, row), p.state, p.until),
                           promoted=promoted)


def start_protection(*, session: Session, project_id: str, at: datetime) -> ProtectionState:
    """On approval: the holder's protection starts now (``rules.starts``). Repeats change nothing."""
    row = lock_project(session, project_id)
    if rules.starts(Status(row.status), Protection(row.protection_state or "")):
        _protect(session, row, at, "")
        session.add(row)
        session.flush()
    return _state(session, row, [])


def expire_protection(*, session: Session, project_id: str, at: datetime) -> ProtectionState:
    """Timer fired: lapse the protection when due (``rules.lapses``) and promote the successor."""
    row = lock_project(session, project_id)
    promoted: list[tuple[str, Status]] = []
    until = utc(row.protected_until) if row.protected_until else None
    if rules.lapses(Protection(row.protection_state or ""), until, utc(at)):
        promoted = leave_claim(session, row, Protection.LAPSED, at, "")
        row.updated_at = _now()
        session.add(row)
        session.flush()
        log.info("protection.lapsed", project_id=project_id, promoted=[p for p, _ in promoted])
    return _state(session, row, promoted)


def record_follow_up(*, session: Session, project_id: str, actor_id: str, actor_is_admin: bool, note: str) -> Project:
    """A follow-up note; a running protection is extended (``rules.extended_until``)."""
    row = lock_project(session, project_id)
    check_owner("follow_up", actor_id=actor_id, actor_is_admin=actor_is_admin, owner_id=row.owner_id)
    if not note.strip():
        raise ValidationFailed([FieldViolation("note", "跟进内容为必填项", "note is required")])
    now = _now()
    data: dict[str, Any] = {"note": note.strip()[:2000]}
    until = utc(row.protected_until) if row.protected_until else None
    cap = utc(row.protection_cap) if row.protection_cap else None
    if until is not None and cap is not None and rules.extensible(Protection(row.protection_state or ""), until, cap):
        after = rules.extended_until(settings_of(session, row), until, cap, now)
        row.protected_until = after
        data.update({"until_before": until.isoformat(), "until": after.isoformat()})
    row.follow_ups = (row.follow_ups or 0) + 1
    row.version += 1
    row.updated_at = now
    session.add(row)
    add_history(session, project_id, at=now, actor=actor_id, event="follow_up", data=data)
    session.flush()
    log.info("project.follow_up", project_id=project_id, actor=actor_id, until=data.get("until"))
    return with_protection(session, row)
