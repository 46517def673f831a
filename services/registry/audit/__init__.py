"""The audit log in the registry process (``AuditService``): append-only, hash-chained events of
security and configuration changes, with retention that keeps the remaining chain verifiable."""
