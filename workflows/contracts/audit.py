"""Activity of the audit log's retention (``AuditActivities``): one purge on the registry's
AuditService.
"""

from __future__ import annotations

from dataclasses import dataclass

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
AUDIT_PURGE = "audit.purge"
# Who the audit.purged events name as their actor.
RETENTION_ACTOR = "system:audit-retention"


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
