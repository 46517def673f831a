"""Builds and runs the approval gRPC server."""

from __future__ import annotations

from typing import Any

import grpc
import structlog

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.approval.v1 import group_link_service_pb2_grpc as group_link_grpc
from baobei.core.db import make_engine
from baobei.core.grpc_server import build_server, listen_args, run_until_signalled
from baobei.core.metrics import SafeCollector, register_collector
from baobei.core.migrations import upgrade
from baobei.core.settings import DEFAULT_GRPC_PORTS, Settings
from baobei.core.tls import GrpcTls
from services.approval import metrics
from services.approval.group_link_service import GroupLinkServicer
from services.approval.org_client import GrpcOrgDirectory
from services.approval.servicer import ApprovalServicer
from services.approval.store import ApprovalStore

SERVICE = "approval"
log = structlog.get_logger(__name__)


def build(
    *,
    db_url: str,
    port: int = 0,
    host: str = "127.0.0.1",
    registry_addr: str = "",
    rpc_timeout: float = 10.0,
    tls: GrpcTls | None = None,
    health_port: int = 0,
    **_peers: Any,
) -> tuple[grpc.Server, int]:
    """Migrate the database to head and return a not-yet-started server and its port. The org
    directory is read from the registry at ``registry_addr`` (default: its standard port)."""
    upgrade(SERVICE, db_url)
    directory = GrpcOrgDirectory(
        registry_addr or f"127.0.0.1:{DEFAULT_GRPC_PORTS['registry']}", timeout=rpc_timeout
    )
    engine = make_engine(db_url)
    servicer = ApprovalServicer(store=ApprovalStore(engine), directory=directory)
    # Approvals waiting / past SLA, computed from this database when /metrics is scraped.
    register_collector(SERVICE, SafeCollector(SERVICE, lambda: metrics.waiting_families(engine)))

    def add_servicers(server: grpc.Server) -> None:
        pb_grpc.add_ApprovalServiceServicer_to_server(servicer, server)
        # Group action links: what a signed-in user may do with a link posted to a group chat.
        group_link_grpc.add_GroupLinkServiceServicer_to_server(
            GroupLinkServicer(engine=engine, directory=directory), server)

    return build_server(
        name=SERVICE,
        add_servicer=add_servicers,
        service_full_name=pb.DESCRIPTOR.services_by_name["ApprovalService"].full_name,
        port=port,
        host=host,
        tls=tls,
        health_port=health_port,
    )




def serve(settings: Settings) -> None:
    server, port = build(
        **listen_args(settings, SERVICE),
        registry_addr=settings.addr("registry"),
        rpc_timeout=settings.rpc_timeout,
    )
    run_until_signalled(server, service=SERVICE, port=port, registry=settings.addr("registry"))
