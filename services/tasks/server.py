"""Builds and runs the tasks gRPC server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import structlog

from baobei.core.blobs import BlobStore, S3Config, blob_store, s3_config
from baobei.core.db import make_engine
from baobei.core.grpc_server import build_server, listen_args, run_until_signalled
from baobei.core.migrations import upgrade
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from services.tasks.calendar_client import CalendarSource
from services.tasks.servicer import TasksServicer

SERVICE = "tasks"
log = structlog.get_logger(__name__)


def build(
    *,
    db_url: str,
    port: int = 0,
    host: str = "127.0.0.1",
    tls: GrpcTls | None = None,
    health_port: int = 0,
    files_dir: str | Path | None = None,
    files_s3: S3Config | None = None,
    blobs: BlobStore | None = None,
    approval_addr: str = "",
    **peers: Any,
) -> tuple[grpc.Server, int]:
    """Migrate the database to head and return a not-yet-started server and its port. Deliverable
    bytes go to ``blobs`` if given, else to S3 when ``files_s3`` is set, else under ``files_dir``.
    Execution rules count working time on the company calendar read from the approval service at
    ``approval_addr`` (none: the statutory calendar alone)."""
    upgrade(SERVICE, db_url)
    store = blobs if blobs is not None else blob_store(root=files_dir, s3=files_s3)
    servicer = TasksServicer(engine=make_engine(db_url), blobs=store, calendar=CalendarSource(approval_addr))
    return build_server(
        name=SERVICE,
        add_servicer=lambda server: pb_grpc.add_TasksServiceServicer_to_server(servicer, server),
        service_full_name=pb.DESCRIPTOR.services_by_name["TasksService"].full_name,
        port=port,
        host=host,
        tls=tls,
        health_port=health_port,
    )


def serve(settings: Settings) -> None:
    # <data-dir>/files is where the edge used to keep deliverables (same layout): older ones stay
    # downloadable where the data dir is shared (baobei dev).
    server, port = build(
        **listen_args(settings, SERVICE),
        files_dir=settings.data_dir / "files",
        files_s3=s3_config(settings, prefix=settings.deliverables_s3_prefix),
        approval_addr=settings.addr("approval"),
    )
    run_until_signalled(server, service=SERVICE, port=port)
