"""The audit log's retention activity: one Purge RPC on the registry's AuditService."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf import timestamp_pb2
from temporalio import activity

from baobei.registry.v1 import audit_service_pb2 as apb
from baobei.registry.v1.audit_service_pb2_grpc import AuditServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.audit import AUDIT_PURGE, RETENTION_ACTOR, PurgeInput, PurgeOutcome


def retention_cutoff(now: datetime, days: int) -> datetime | None:
    """Events before this instant go; None when they are kept forever (``days`` <= 0)."""
    if days <= 0:
        return None
    at = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return at - timedelta(days=days)


def _ts(at: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(at)
    return t


class AuditActivities:
    def __init__(self, audit: AuditServiceStub, *, retention_days: int, timeout: float = 10.0) -> None:
        self._audit = audit
        self._days = retention_days
        self._timeout = timeout

    @activity.defn(name=AUDIT_PURGE)
    async def purge(self, inp: PurgeInput) -> PurgeOutcome:
        """Remove the events older than the retention setting, counted back from ``inp.now``."""
        now = datetime.fromisoformat(inp.now)
        before = retention_cutoff(now, self._days)
        if before is None:
            return PurgeOutcome()
        resp = await call(self._audit.Purge, apb.PurgeAuditRequest(
            event_id=inp.event_id, before=_ts(before), at=_ts(now), actor_id=RETENTION_ACTOR, request_id=inp.event_id,
        ), timeout=self._timeout * 6)  # one DELETE of a year's oldest day can take a while
        activity_logger().info("audit.purged", purged=resp.purged, before=before.isoformat(), anchor=resp.anchor.seq)
        return PurgeOutcome(purged=resp.purged, anchor_seq=resp.anchor.seq, before=before.isoformat())
