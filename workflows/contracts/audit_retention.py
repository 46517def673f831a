"""AuditRetention (id ``audit-retention``, started by the worker): applies the audit log's retention
setting once a day.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIT_RETENTION_WORKFLOW_TYPE = "AuditRetention"
AUDIT_RETENTION_WORKFLOW_ID = "audit-retention"
DAY_SECONDS = 24 * 3600


@dataclass
class RetentionInput:
    # How long to wait between purges: a day (at least a minute).
    interval_seconds: int = DAY_SECONDS
