"""Builds and runs the notify gRPC server."""

from __future__ import annotations

from typing import Any

import grpc
import structlog

from baobei.core.db import make_engine
from baobei.core.grpc_server import build_server, listen_args, run_until_signalled
from baobei.core.migrations import upgrade
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from services.notify.servicer import NotifyServicer

SERVICE = "notify"
log = structlog.get_logger(__name__)


def build(
    *,
    db_url: str,
    port: int = 0,
    host: str = "127.0.0.1",
    tls: GrpcTls | None = None,
    health_port: int = 0,
    **peers: Any,
) -> tuple[grpc.Server, int]:
    """Migrate the database to head and return a not-yet-started server and its port."""
    upgrade(SERVICE, db_url)
    servicer = NotifyServicer(engine=make_engine(db_url))
    return build_server(
        name=SERVICE,
        add_servicer=lambda server: pb_grpc.add_NotifyServiceServicer_to_server(servicer, server),
        service_full_name=pb.DESCRIPTOR.services_by_name["NotifyService"].full_name,
        port=port,
        host=host,
        tls=tls,
        health_port=health_port,
    )


def serve(settings: Settings) -> None:
    server, port = build(
        **listen_args(settings, SERVICE),
    )
    run_until_signalled(server, service=SERVICE, port=port)
