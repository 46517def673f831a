"""gRPC surface of the reporting service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from sqlalchemy.engine import Engine

from baobei.core.grpc_server import rpc
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.reporting import domain, mapping, store


class ReportingServicer(pb_grpc.ReportingServiceServicer):
    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    @rpc
    def IngestEvent(self, request: pb.IngestEventRequest, context: grpc.ServicerContext) -> pb.IngestEventResponse:
        event = mapping.event(request.event)
        applied = store.ingest(self.engine, event=event, now=datetime.now(UTC))
        return pb.IngestEventResponse(applied=applied)

    @rpc
    def Portfolio(self, request: pb.PortfolioRequest, context: grpc.ServicerContext) -> pb.PortfolioResponse:
        views = store.project_views(
            self.engine, all_projects=request.all, project_ids=[p.strip() for p in request.project_ids if p.strip()]
        )
        return mapping.portfolio(domain.portfolio(views))
