"""ChangeService over gRPC: thin methods around the change store (opening and settling are
idempotent on the request id through the registry's request log)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import sqlalchemy as sa
from google.protobuf import struct_pb2
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.db import run_once
from baobei.core.errors import NotFound
from baobei.core.grpc_server import rpc
from baobei.registry.v1 import change_service_pb2 as pb
from baobei.registry.v1 import change_service_pb2_grpc as pb_grpc
from services.registry import mapping
from services.registry.changes import store
from services.registry.changes.models import ChangeRequestRow


def _value(v: Any) -> struct_pb2.Value:
    out = struct_pb2.Value()
    if v is None:
        out.null_value = struct_pb2.NULL_VALUE
    else:
        s = struct_pb2.Struct()
        s.update({"v": v})
        out.CopyFrom(s.fields["v"])
    return out


def change_to_pb(r: ChangeRequestRow, hidden: set[str] | None = None) -> pb.ChangeRequest:
    changes = struct_pb2.Struct()
    asked = dict(r.changes or {})
    if hidden:  # what was asked for, without the values the viewer may not read
        asked = {k: v for k, v in asked.items() if k == "fields" or k not in hidden}
        if isinstance(asked.get("fields"), dict):
            asked["fields"] = {k: v for k, v in asked["fields"].items() if f"fields.{k}" not in hidden}
    changes.update(asked)
    out = pb.ChangeRequest(
        id=r.id, project_id=r.project_id, seq=r.seq, status=r.status, changes=changes,
        diff=[pb.ChangeDiff(field=d["field"], before=_value(d.get("before")), after=_value(d.get("after")))
              for d in r.diff if d["field"] not in (hidden or set())],
        reason=r.reason, reset_baseline=r.reset_baseline, requested_by=r.requested_by,
        created_at=mapping.ts(r.created_at), decided_by=r.decided_by, outcome_reason=r.outcome_reason,
        after_amount=r.after_amount, applied_version=r.applied_version,
    )
    if r.decided_at is not None:
        out.decided_at.CopyFrom(mapping.ts(r.decided_at))
    return out


def _now() -> datetime:
    return datetime.now(UTC)


class ChangeServicer(pb_grpc.ChangeServiceServicer):
    def __init__(self, engine: Engine, request_log: sa.Table) -> None:
        self.engine = engine
        self.request_log = request_log

    @rpc
    def OpenChange(self, request: pb.OpenChangeRequest, ctx: grpc.ServicerContext) -> pb.ChangeResponse:
        changes = mapping.struct_to_dict(request.changes)

        viewer = mapping.viewer_from_pb(request)

        def apply(session: Session) -> pb.ChangeResponse:
            hidden, relations = store.access(session, request.project_id, viewer)
            row = store.open_change(
                session, project_id=request.project_id, actor_id=request.actor_id,
                actor_is_admin=request.actor_is_admin, actor_roles=set(request.actor_roles), changes=changes,
                reason=request.reason, reset_baseline=request.reset_baseline, now=_now(), relations=relations,
            )
            return pb.ChangeResponse(change=change_to_pb(row, hidden))

        return run_once(self.engine, self.request_log, request_id=request.request_id, method="change.Open",
                        response_type=pb.ChangeResponse, apply=apply)

    @rpc
    def SettleChange(self, request: pb.SettleChangeRequest, ctx: grpc.ServicerContext) -> pb.ChangeResponse:
        def apply(session: Session) -> pb.ChangeResponse:
            row = store.settle(session, change_id=request.change_id, status=request.status,
                               actor_id=request.actor_id, reason=request.reason, now=_now())
            return pb.ChangeResponse(change=change_to_pb(row))

        return run_once(self.engine, self.request_log, request_id=request.request_id, method="change.Settle",
                        response_type=pb.ChangeResponse, apply=apply)

    @rpc
    def GetChange(self, request: pb.GetChangeRequest, ctx: grpc.ServicerContext) -> pb.ChangeResponse:
        with Session(self.engine) as session:
            row = store.get(session, request.change_id)
            try:
                hidden = store.seen_by(session, row.project_id, mapping.viewer_from_pb(request))
            except NotFound:
                raise store.change_not_found(request.change_id) from None  # not visible: as if unknown
            return pb.ChangeResponse(change=change_to_pb(row, hidden))

    @rpc
    def ListChanges(self, request: pb.ListChangesRequest, ctx: grpc.ServicerContext) -> pb.ListChangesResponse:
        with Session(self.engine) as session:
            hidden = store.seen_by(session, request.project_id, mapping.viewer_from_pb(request))
            return pb.ListChangesResponse(changes=[change_to_pb(r, hidden)
                                                   for r in store.requests_of(session, request.project_id)])
