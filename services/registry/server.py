"""Registry process: migrate, build the gRPC server, serve until SIGTERM/SIGINT."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import structlog

from baobei.core.blobs import BlobStore, S3Config, blob_store, s3_config
from baobei.core.db import make_engine
from baobei.core.grpc_server import build_server, listen_args, run_until_signalled
from baobei.core.metrics import SafeCollector, register_collector
from baobei.core.migrations import upgrade
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls
from baobei.registry.v1 import acceptance_service_pb2_grpc as acceptance_grpc
from baobei.registry.v1 import accounts_service_pb2_grpc as accounts_grpc
from baobei.registry.v1 import audit_service_pb2_grpc as audit_grpc
from baobei.registry.v1 import change_service_pb2_grpc as change_grpc
from baobei.registry.v1 import comment_service_pb2_grpc as comment_grpc
from baobei.registry.v1 import directory_service_pb2_grpc as directory_grpc
from baobei.registry.v1 import identity_service_pb2_grpc as identity_grpc
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry import metrics
from services.registry.acceptance.servicer import AcceptanceServicer
from services.registry.accounts.domain import AccountPolicy
from services.registry.accounts.servicer import AccountServicer
from services.registry.audit.servicer import AuditServicer
from services.registry.changes.servicer import ChangeServicer
from services.registry.comments.servicer import CommentServicer
from services.registry.directory.servicer import DirectoryServicer
from services.registry.identity.servicer import IdentityServicer
from services.registry.import_runner import ImportRunner
from services.registry.models import processed_request
from services.registry.sealing import reseal_at_rest, sealer_for
from services.registry.servicer import RegistryServicer

log = structlog.get_logger(__name__)
SERVICE = "registry"
FULL_NAME = "baobei.registry.v1.RegistryService"


def build(
    *,
    db_url: str,
    port: int = 0,
    host: str = "127.0.0.1",
    tls: GrpcTls | None = None,
    health_port: int = 0,
    attachments_dir: str | Path | None = None,
    attachments_s3: S3Config | None = None,
    blobs: BlobStore | None = None,
    account_policy: AccountPolicy | None = None,
    secrets_key: str = "",
    secrets_old_keys: Sequence[str] = (),
    **peers: Any,
) -> tuple[grpc.Server, int]:
    """A migrated database and a not-yet-started server; the registry has no peers. Attachments go
    to ``blobs`` if given, else to S3 when ``attachments_s3`` is set, else under ``attachments_dir``.
    Stored secrets are sealed under ``secrets_key``, else under a key generated into the database."""
    upgrade(SERVICE, db_url)
    engine = make_engine(db_url)
    sealer = sealer_for(engine, secrets_key, secrets_old_keys)
    reseal_at_rest(engine, sealer)
    store = blobs if blobs is not None else blob_store(attachments_dir=attachments_dir, s3=attachments_s3)
    runner = ImportRunner(engine)
    servicer = RegistryServicer(engine, processed_request, store, import_runner=runner)
    # Protection periods ending soon, computed from this database when /metrics is scraped.
    register_collector(SERVICE, SafeCollector(SERVICE, lambda: metrics.protection_families(engine)))

    def add_servicers(server: grpc.Server) -> None:
        # The registry owns the org directory, so identity (providers, links, accounts, audit) is
        # served by the same process over its own gRPC service.
        pb_grpc.add_RegistryServiceServicer_to_server(servicer, server)
        identity_grpc.add_IdentityServiceServicer_to_server(IdentityServicer(engine, processed_request, sealer), server)
        directory_grpc.add_DirectoryServiceServicer_to_server(DirectoryServicer(engine), server)
        audit_grpc.add_AuditServiceServicer_to_server(AuditServicer(engine), server)
        comment_grpc.add_CommentServiceServicer_to_server(CommentServicer(engine, processed_request), server)
        acceptance_grpc.add_AcceptanceServiceServicer_to_server(AcceptanceServicer(engine, processed_request), server)
        change_grpc.add_ChangeServiceServicer_to_server(ChangeServicer(engine, processed_request), server)
        accounts_grpc.add_AccountServiceServicer_to_server(AccountServicer(engine, sealer, account_policy), server)

    server, bound = build_server(
        name=SERVICE,
        add_servicer=add_servicers,
        service_full_name=FULL_NAME,
        port=port,
        host=host,
        tls=tls,
        health_port=health_port,
    )
    # Background imports: queued jobs and those a stopped process left running are taken up now;
    # the runner lives as long as the server (wait_for_termination(0) is False once it stopped).
    runner.start(until=lambda: not server.wait_for_termination(0))
    return server, bound


def account_policy(settings: Settings) -> AccountPolicy:
    return AccountPolicy(
        min_length=settings.password_min_length, max_failures=settings.login_max_failures,
        lockout_base_seconds=settings.login_lockout_seconds, lockout_max_seconds=settings.login_lockout_max_seconds,
        invite_ttl_hours=settings.invite_link_ttl_hours, reset_ttl_hours=settings.reset_link_ttl_hours,
        hash_time_cost=settings.password_hash_time_cost, hash_memory_kib=settings.password_hash_memory_kib,
        hash_parallelism=settings.password_hash_parallelism,
    )


def serve(settings: Settings) -> None:
    server, port = build(
        **listen_args(settings, SERVICE),
        attachments_dir=settings.data_dir / "attachments",
        attachments_s3=s3_config(settings),
        account_policy=account_policy(settings),
        secrets_key=settings.registry_secrets_key,
        secrets_old_keys=[k.strip() for k in settings.registry_secrets_old_keys.split(",") if k.strip()],
    )
    if settings.attachments_s3_bucket:
        log.info("attachments.store", kind="s3", bucket=settings.attachments_s3_bucket,
                 endpoint=settings.attachments_s3_endpoint_url or "aws")
    run_until_signalled(server, service=SERVICE, port=port)
