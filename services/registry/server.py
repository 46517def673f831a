"""Registry process: migrate, build the gRPC server, serve until SIGTERM/SIGINT."""

from __future__ import annotations

from typing import Any

import grpc
import structlog

from baobei.core.db import make_engine
from baobei.core.grpc_server import bind_host, build_server, run_until_signalled
from baobei.core.migrations import upgrade
from baobei.core.settings import Settings
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry.models import processed_request
from services.registry.servicer import RegistryServicer

log = structlog.get_logger(__name__)
SERVICE = "registry"
FULL_NAME = "baobei.registry.v1.RegistryService"


def build(*, db_url: str, port: int = 0, host: str = "127.0.0.1", **peers: Any) -> tuple[grpc.Server, int]:
    """A migrated database and a not-yet-started server; the registry has no peers."""
    upgrade(SERVICE, db_url)
    engine = make_engine(db_url)
    servicer = RegistryServicer(engine, processed_request)
    return build_server(
        name=SERVICE,
        add_servicer=lambda server: pb_grpc.add_RegistryServiceServicer_to_server(servicer, server),
        service_full_name=FULL_NAME,
        port=port,
        host=host,
    )




def serve(settings: Settings) -> None:
    server, port = build(
        db_url=settings.db_url(SERVICE), port=settings.port_of(SERVICE), host=bind_host(settings.addr(SERVICE))
    )
    run_until_signalled(server, service=SERVICE, port=port)
