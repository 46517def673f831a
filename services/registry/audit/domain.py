"""Plain rules of the audit log (no transport, no storage): what an event is, its canonical
serialisation, the hash chain over it, and walking a chain to find where it breaks.

An event's hash is ``SHA-256(canonical(event))`` where the canonical form is compact JSON with
sorted keys (UTF-8, no ASCII escaping) of every field except the hash itself, the previous event's
hash included; timestamps are UTC with microseconds (``2026-12-01T08:00:00.000000Z``) and
``details`` is the parsed object, so the form does not depend on how a database stores text or
time. Changing any field of an event, or removing or reordering events, breaks the chain there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed

GENESIS = "0" * 64
OUTCOMES = ("success", "failure")
PURGED_ACTION = "audit.purged"
# Column sizes (models.py) and the largest details object accepted.
MAX_ACTION, MAX_ID, MAX_IP, MAX_TYPE, MAX_REQUEST_ID = 100, 200, 64, 64, 200
MAX_DETAILS_BYTES = 32 * 1024


@dataclass(frozen=True)
class Event:
    """One event as chained: every field but ``hash`` goes into the hash."""

    seq: int
    at: datetime
    action: str
    outcome: str
    actor_id: str
    actor_ip: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    request_id: str
    event_id: str
    prev_hash: str
    hash: str = ""


@dataclass(frozen=True)
class Verdict:
    """What a walk over the chain found."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""


@dataclass
class ChainPoint:
    seq: int = 0
    hash: str = GENESIS


@dataclass
class Draft:
    """An event as asked for, before it has a place in the chain."""

    event_id: str
    action: str
    actor_id: str
    outcome: str = "success"
    actor_ip: str = ""
    target_type: str = ""
    target_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""


def utc(at: datetime) -> datetime:
    """``at`` as an aware UTC datetime (a naive one, as SQLite gives back, is UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def iso(at: datetime) -> str:
    return utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical(event: Event) -> bytes:
    """The bytes the hash is taken over (see the module docstring)."""
    return canonical_json({
        "seq": event.seq,
        "at": iso(event.at),
        "action": event.action,
        "outcome": event.outcome,
        "actor_id": event.actor_id,
        "actor_ip": event.actor_ip,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
        "request_id": event.request_id,
        "event_id": event.event_id,
        "prev_hash": event.prev_hash,
    }).encode()


def compute_hash(event: Event) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def chain(prev: ChainPoint, draft: Draft, at: datetime) -> Event:
    """The event ``draft`` becomes when appended after ``prev``."""
    unsealed = Event(seq=prev.seq + 1, at=utc(at), action=draft.action, outcome=draft.outcome,
                     actor_id=draft.actor_id, actor_ip=draft.actor_ip, target_type=draft.target_type,
                     target_id=draft.target_id, details=draft.details, request_id=draft.request_id,
                     event_id=draft.event_id, prev_hash=prev.hash)
    return Event(**{**unsealed.__dict__, "hash": compute_hash(unsealed)})


def walk(events: Iterable[Event], *, anchor: ChainPoint, head: ChainPoint) -> Verdict:
    """Check ``events`` (in seq order) as the chain from ``anchor`` up to ``head``: consecutive seqs,
    each linked to the previous hash, each hash right, ending at the head. The first event that
    does not hold is reported (for a missing one: its seq)."""
    prev, checked = anchor, 0
    for ev in events:
        expected = prev.seq + 1
        if ev.seq != expected:
            return Verdict(False, checked, expected, "missing event" if ev.seq > expected else "out of order")
        if ev.prev_hash != prev.hash:
            return Verdict(False, checked, ev.seq, "broken link")
        checked += 1
        actual = compute_hash(ev)
        if actual != ev.hash:
            return Verdict(False, checked, ev.seq, "hash mismatch")
        prev = ChainPoint(ev.seq, ev.hash)
    if prev.seq < head.seq:
        return Verdict(False, checked, prev.seq + 1, "missing event")
    if prev.seq > head.seq:
        return Verdict(False, checked, head.seq + 1, "event after the head")
    if prev.hash != head.hash:
        return Verdict(False, checked, head.seq, "head mismatch")
    return Verdict(True, checked)


def _violation(name: str, zh: str, en: str) -> FieldViolation:
    return FieldViolation(name, zh, en)


def parse_details(text: str) -> dict[str, Any]:
    """``details_json`` as an object ({} when empty); 422 on anything else or when too large."""
    if not text.strip():
        return {}
    if len(text.encode()) > MAX_DETAILS_BYTES:
        raise ValidationFailed([_violation("details_json", f"详情超过 {MAX_DETAILS_BYTES // 1024} KiB",
                                           f"details larger than {MAX_DETAILS_BYTES // 1024} KiB")])
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed([_violation("details_json", "详情必须是 JSON 对象", "details must be a JSON object")])
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity have no canonical JSON form


def check(draft: Draft) -> Draft:
    """The draft with its outcome defaulted; 422 naming each bad field."""
    problems = []
    if not draft.event_id.strip() or len(draft.event_id) > MAX_ID:
        problems.append(_violation("event_id", "event_id 为必填项（最长 200）", "event_id is required (at most 200)"))
    if not draft.action.strip() or len(draft.action) > MAX_ACTION:
        problems.append(_violation("action", "action 为必填项（最长 100）", "action is required (at most 100)"))
    if not draft.actor_id.strip():
        problems.append(_violation("actor_id", "actor_id 为必填项", "actor_id is required"))
    outcome = draft.outcome or "success"
    if outcome not in OUTCOMES:
        problems.append(_violation("outcome", "outcome 必须是 success 或 failure",
                                   "outcome must be success or failure"))
    for name, limit in (("actor_id", MAX_ID), ("actor_ip", MAX_IP), ("target_type", MAX_TYPE),
                        ("target_id", MAX_ID), ("request_id", MAX_REQUEST_ID)):
        if len(getattr(draft, name)) > limit:
            problems.append(_violation(name, f"{name} 最长 {limit} 个字符", f"{name}: at most {limit} characters"))
    if problems:
        raise ValidationFailed(problems)
    draft.outcome = outcome
    return draft
