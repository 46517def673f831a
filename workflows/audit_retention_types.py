"""Names and payloads of the audit log's retention workflow, importable without the workflow code
(the worker starts it, the activity computes the cutoff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

AUDIT_RETENTION_WORKFLOW_TYPE = "AuditRetention"
AUDIT_RETENTION_WORKFLOW_ID = "audit-retention"
AUDIT_PURGE = "audit.purge"
# Who the audit.purged events name as their actor.
RETENTION_ACTOR = "system:audit-retention"
DAY_SECONDS = 24 * 3600


@dataclass
class RetentionInput:
    # How long to wait between purges: a day (at least a minute).
    interval_seconds: int = DAY_SECONDS


@dataclass
class PurgeInput:
    # The workflow's time (ISO 8601): the cutoff is computed from it, never from a wall clock.
    now: str
    # Idempotency key of this purge (workflow id + run id): a retried activity purges once.
    event_id: str


@dataclass
class PurgeOutcome:
    purged: int = 0
    anchor_seq: int = 0
    # The cutoff applied (ISO 8601); "" when the log is kept forever.
    before: str = ""


def retention_cutoff(now: datetime, days: int) -> datetime | None:
    """Events before this instant go; None when they are kept forever (``days`` <= 0)."""
    if days <= 0:
        return None
    at = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return at - timedelta(days=days)
