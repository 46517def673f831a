"""What the store's modules share: the idempotency keys of mutating methods and the request log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from baobei.core import db
from services.approval.models import processed_request

M_PUT_POLICY, M_PLAN_CHAIN, M_OPEN_STEP, M_RECORD_DECISION = "PutPolicy", "PlanChain", "OpenStep", "RecordDecision"
M_FIRE_TIMER, M_RESUME, M_CANCEL, M_REASSIGN, M_ACTION, M_DELEGATION = (
    "FireTimer",
    "ResumeInstance",
    "CancelInstance",
    "ReassignStep",
    "RecordAction",
    "SetDelegation",
)


def now_utc() -> datetime:
    return datetime.now(UTC)


def stored_response(session: Session, method: str, request_id: str) -> bytes | None:
    """The response of a request already processed. Checked again after the instance lock is
    held: a duplicate that waited for the lock answers what the first run answered."""
    return db.stored_response(session, processed_request, method=method, request_id=request_id)
