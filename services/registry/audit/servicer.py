"""AuditService over gRPC: thin methods around the audit store."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from google.protobuf import timestamp_pb2
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.core.grpc_server import rpc
from baobei.registry.v1 import audit_service_pb2 as pb
from baobei.registry.v1 import audit_service_pb2_grpc as pb_grpc
from services.registry import mapping
from services.registry.audit import domain, store
from services.registry.audit.models import AuditEventRow


def event_to_pb(row: AuditEventRow) -> pb.AuditEvent:
    return pb.AuditEvent(seq=row.seq, at=mapping.ts(domain.utc(row.at)), action=row.action, outcome=row.outcome,
                         actor_id=row.actor_id, actor_ip=row.actor_ip, target_type=row.target_type,
                         target_id=row.target_id, details_json=row.details, request_id=row.request_id,
                         event_id=row.event_id, prev_hash=row.prev_hash, hash=row.hash)


def _point(p: domain.ChainPoint) -> pb.ChainPoint:
    return pb.ChainPoint(seq=p.seq, hash=p.hash)


def _when(msg: object, name: str) -> datetime | None:
    if not msg.HasField(name):  # type: ignore[attr-defined]
        return None
    value: timestamp_pb2.Timestamp = getattr(msg, name)
    return value.ToDatetime(tzinfo=UTC)


class AuditServicer(pb_grpc.AuditServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @rpc
    def Append(self, request: pb.AppendAuditRequest, ctx: grpc.ServicerContext) -> pb.AppendAuditResponse:
        draft = domain.Draft(
            event_id=request.event_id, action=request.action, actor_id=request.actor_id, outcome=request.outcome,
            actor_ip=request.actor_ip, target_type=request.target_type, target_id=request.target_id,
            details=domain.parse_details(request.details_json), request_id=request.request_id,
        )
        with Session(self.engine) as session:
            row, created = store.append(session=session, draft=draft, at=_when(request, "at"))
            out = pb.AppendAuditResponse(event=event_to_pb(row), created=created)
            session.commit()
        return out

    @rpc
    def List(self, request: pb.ListAuditRequest, ctx: grpc.ServicerContext) -> pb.ListAuditResponse:
        filters = store.Filters(action=request.action, actor_id=request.actor_id, target_type=request.target_type,
                                target_id=request.target_id, outcome=request.outcome, request_id=request.request_id,
                                from_=_when(request, "from"), to=_when(request, "to"))
        with Session(self.engine) as session:
            rows, cursor = store.list_events(session=session, filters=filters, limit=request.limit,
                                             cursor=request.cursor)
            return pb.ListAuditResponse(events=[event_to_pb(r) for r in rows], next_cursor=cursor)

    @rpc
    def Verify(self, request: pb.VerifyAuditRequest, ctx: grpc.ServicerContext) -> pb.VerifyAuditResponse:
        with Session(self.engine) as session:
            result = store.verify(session=session)
        v = result.verdict
        return pb.VerifyAuditResponse(ok=v.ok, checked=v.checked, first_broken_seq=v.first_broken_seq or 0,
                                      anchor=_point(result.anchor), head=_point(result.head), reason=v.reason)

    @rpc
    def Purge(self, request: pb.PurgeAuditRequest, ctx: grpc.ServicerContext) -> pb.PurgeAuditResponse:
        before = _when(request, "before")
        if before is None:
            raise ValidationFailed([FieldViolation("before", "before 为必填项", "before is required")])
        with Session(self.engine) as session:
            result = store.purge(session=session, event_id=request.event_id, before=before, at=_when(request, "at"),
                                 actor_id=request.actor_id, request_id=request.request_id)
            out = pb.PurgeAuditResponse(purged=result.purged, anchor=_point(result.anchor))
            if result.event is not None:
                out.event.CopyFrom(event_to_pb(result.event))
            session.commit()
        return out
