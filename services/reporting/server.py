"""Builds and runs the reporting gRPC server (plus its warning outbox dispatcher)."""

from __future__ import annotations

from typing import Any

import grpc
import structlog

from baobei.core.db import make_engine
from baobei.core.grpc_server import build_server, listen_args, run_until_signalled
from baobei.core.migrations import upgrade
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.reporting.outbox import Dispatcher
from services.reporting.servicer import ReportingServicer

SERVICE = "reporting"
log = structlog.get_logger(__name__)


class _Server:
    """The gRPC server whose ``start`` also starts the outbox dispatcher (stopped with it)."""

    def __init__(self, server: grpc.Server, dispatcher: Dispatcher) -> None:
        self._server = server
        self._dispatcher = dispatcher

    def start(self) -> None:
        self._server.start()
        self._dispatcher.start(self._server)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def build(
    *,
    db_url: str,
    port: int = 0,
    host: str = "127.0.0.1",
    notify_addr: str = "",
    rpc_timeout: float = 10.0,
    sweep_seconds: float = 300.0,
    tls: GrpcTls | None = None,
    health_port: int = 0,
    **_peers: Any,
) -> tuple[grpc.Server, int]:
    """Migrate the database to head and return a not-yet-started server and its port. Warnings are
    delivered through notify at ``notify_addr`` (none: they are recorded and listed, not sent)."""
    upgrade(SERVICE, db_url)
    engine = make_engine(db_url)
    servicer = ReportingServicer(engine=engine)
    server, bound = build_server(
        name=SERVICE,
        add_servicer=lambda server: pb_grpc.add_ReportingServiceServicer_to_server(servicer, server),
        service_full_name=pb.DESCRIPTOR.services_by_name["ReportingService"].full_name,
        port=port,
        host=host,
        tls=tls,
        health_port=health_port,
    )
    # The dispatcher's channel to notify uses the process-wide client TLS default, like every client.
    dispatcher = Dispatcher(engine, notify_addr=notify_addr, rpc_timeout=rpc_timeout, sweep_seconds=sweep_seconds)
    return _Server(server, dispatcher), bound


def serve(settings: Settings) -> None:
    server, port = build(
        **listen_args(settings, SERVICE),
        notify_addr=settings.addr("notify"),
        rpc_timeout=settings.rpc_timeout,
    )
    run_until_signalled(server, service=SERVICE, port=port, notify=settings.addr("notify"))
