"""AcceptanceService over gRPC: thin methods around the acceptance store (opening and settling are
idempotent on the request id through the registry's request log)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import grpc
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.db import run_once
from baobei.core.grpc_server import rpc
from baobei.registry.v1 import acceptance_service_pb2 as pb
from baobei.registry.v1 import acceptance_service_pb2_grpc as pb_grpc
from services.registry import mapping
from services.registry.acceptance import store
from services.registry.acceptance.models import AcceptanceChecklistRow, AcceptanceDocumentRow, AcceptanceRequestRow


def checklist_to_pb(row: AcceptanceChecklistRow | None, business_line: str) -> pb.Checklist:
    if row is None:
        return pb.Checklist(business_line=business_line, configured=False)
    return pb.Checklist(
        business_line=row.business_line, configured=bool(row.items), version=row.version,
        updated_at=mapping.ts(row.updated_at), updated_by=row.updated_by,
        items=[pb.ChecklistItem(key=i["key"], name=i["name"], required=bool(i.get("required")),
                                needs_document=bool(i.get("needs_document"))) for i in row.items],
    )


def document_to_pb(d: AcceptanceDocumentRow) -> pb.AcceptanceDocument:
    return pb.AcceptanceDocument(
        attachment_id=d.attachment_id, filename=d.filename, content_type=d.content_type, size=d.size,
        deliverable_key=d.deliverable_key, uploaded_by=d.uploaded_by, uploaded_at=mapping.ts(d.uploaded_at),
        request_id=d.request_id,
    )


def request_to_pb(r: AcceptanceRequestRow, docs: Sequence[AcceptanceDocumentRow] = ()) -> pb.AcceptanceRequest:
    out = pb.AcceptanceRequest(
        id=r.id, project_id=r.project_id, seq=r.seq, status=r.status, business_line=r.business_line,
        deliverables=[pb.Deliverable(key=d["key"], name=d.get("name", ""), required=bool(d.get("required")),
                                     needs_document=bool(d.get("needs_document")), done=bool(d.get("done")),
                                     note=d.get("note", "")) for d in r.deliverables],
        comment=r.comment, requested_by=r.requested_by, created_at=mapping.ts(r.created_at),
        decided_by=r.decided_by, reason=r.reason, policy_key=r.policy_key,
        documents=[document_to_pb(d) for d in docs if d.request_id == r.id],
    )
    if r.decided_at is not None:
        out.decided_at.CopyFrom(mapping.ts(r.decided_at))
    return out


def _now() -> datetime:
    return datetime.now(UTC)


class AcceptanceServicer(pb_grpc.AcceptanceServiceServicer):
    def __init__(self, engine: Engine, request_log: sa.Table) -> None:
        self.engine = engine
        self.request_log = request_log

    @rpc
    def GetChecklist(self, request: pb.GetChecklistRequest, ctx: grpc.ServicerContext) -> pb.GetChecklistResponse:
        with Session(self.engine) as session:
            line = request.business_line.strip()
            return pb.GetChecklistResponse(checklist=checklist_to_pb(store.checklist(session, line), line))

    @rpc
    def PutChecklist(self, request: pb.PutChecklistRequest, ctx: grpc.ServicerContext) -> pb.PutChecklistResponse:
        items = [store.Item(key=i.key.strip(), name=i.name.strip(), required=i.required,
                            needs_document=i.needs_document) for i in request.items]
        with Session(self.engine) as session:
            row = store.put_checklist(session, business_line=request.business_line, items=items,
                                      actor_id=request.actor_id, now=_now())
            out = checklist_to_pb(row, row.business_line)
            session.commit()
        return pb.PutChecklistResponse(checklist=out)

    @rpc
    def AddDocument(self, request: pb.AddDocumentRequest, ctx: grpc.ServicerContext) -> pb.AddDocumentResponse:
        d = request.document
        with Session(self.engine) as session:
            store.project(session, request.project_id, mapping.viewer_from_pb(request), manage=True)
            row = store.add_document(session, AcceptanceDocumentRow(
                project_id=request.project_id, attachment_id=d.attachment_id, filename=d.filename,
                content_type=d.content_type, size=d.size, deliverable_key=d.deliverable_key.strip(),
                uploaded_by=d.uploaded_by, uploaded_at=_now(),
            ))
            out = document_to_pb(row)
            session.commit()
        return pb.AddDocumentResponse(document=out)

    @rpc
    def OpenRequest(self, request: pb.OpenRequestRequest, ctx: grpc.ServicerContext) -> pb.OpenRequestResponse:
        def apply(session: Session) -> pb.OpenRequestResponse:
            row = store.open_request(
                session, project_id=request.project_id, viewer=mapping.viewer_from_pb(request),
                states=[store.State(key=s.key.strip(), done=s.done, note=s.note) for s in request.deliverables],
                comment=request.comment, actor_id=request.actor_id, policy_key=request.policy_key, now=_now(),
            )
            return pb.OpenRequestResponse(request=request_to_pb(row, store.documents_of(session, row.project_id)),
                                          created=True)

        return run_once(self.engine, self.request_log, request_id=request.request_id, method="acceptance.Open",
                        response_type=pb.OpenRequestResponse, apply=apply)

    @rpc
    def SettleRequest(self, request: pb.SettleRequestRequest, ctx: grpc.ServicerContext) -> pb.SettleRequestResponse:
        def apply(session: Session) -> pb.SettleRequestResponse:
            row = store.settle(session, acceptance_id=request.acceptance_id, status=request.status,
                               actor_id=request.actor_id, reason=request.reason, now=_now())
            return pb.SettleRequestResponse(request=request_to_pb(row, store.documents_of(session, row.project_id)))

        return run_once(self.engine, self.request_log, request_id=request.request_id, method="acceptance.Settle",
                        response_type=pb.SettleRequestResponse, apply=apply)

    @rpc
    def GetAcceptance(self, request: pb.GetAcceptanceRequest, ctx: grpc.ServicerContext) -> pb.GetAcceptanceResponse:
        with Session(self.engine) as session:
            line = store.project(session, request.project_id, mapping.viewer_from_pb(request)).business_line
            docs = store.documents_of(session, request.project_id)
            return pb.GetAcceptanceResponse(
                checklist=checklist_to_pb(store.checklist(session, line), line),
                requests=[request_to_pb(r, docs) for r in store.requests_of(session, request.project_id)],
                unattached=[document_to_pb(d) for d in docs if not d.request_id],
            )
