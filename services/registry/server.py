"""Registry process: migrate, build the gRPC server, serve until SIGTERM/SIGINT."""

from __future__ import annotations

import ipaddress
import signal
import threading
from typing import Any

import grpc
import structlog

from baobei.core.db import make_engine
from baobei.core.grpc_server import build_server
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


def bind_host(addr: str) -> str:
    """Loopback/IP addresses are bound as given; a DNS name (e.g. a Kubernetes Service) means
    "listen on all interfaces"."""
    host = addr.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "0.0.0.0"
    return host


def serve(settings: Settings) -> None:
    server, port = build(
        db_url=settings.db_url(SERVICE), port=settings.port_of(SERVICE), host=bind_host(settings.addr(SERVICE))
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    log.info("service.started", service=SERVICE, port=port)
    stop.wait()
    log.info("service.stopping", service=SERVICE)
    server.stop(grace=10).wait()
    log.info("service.stopped", service=SERVICE)
