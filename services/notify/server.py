"""Builds and runs the notify gRPC server. The delivery worker's dispatcher claims pending
deliveries through the outbox RPCs (see ``services.notify.outbox``): this service starts nothing
in Temporal and holds no client of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import structlog

from baobei.core.db import make_engine
from baobei.core.grpc_server import build_server, listen_args, run_until_signalled
from baobei.core.metrics import SafeCollector, register_collector
from baobei.core.migrations import upgrade
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls
from baobei.notify.v1 import group_link_service_pb2_grpc as group_link_grpc
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from services.notify import metrics, store
from services.notify.contacts import Contacts, NoDirectory, RegistryContacts
from services.notify.deliver import Deliverer, Senders
from services.notify.group_link_service import GroupLinkServicer
from services.notify.guards import Guards, connect
from services.notify.link_urls import LinkUrls
from services.notify.servicer import NotifyConfig, NotifyServicer

SERVICE = "notify"
log = structlog.get_logger(__name__)


class _Server:
    """The gRPC server whose stop also closes the clients (registry, Redis, database)."""

    def __init__(self, server: grpc.Server, closers: list[Any]) -> None:
        self._server = server
        self._closers = closers

    def start(self) -> None:
        self._server.start()

    def stop(self, grace: float | None) -> Any:
        done = self._server.stop(grace)
        for close in self._closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - best effort at shutdown
                log.warning("notify.close_failed")
        self._closers = []
        return done

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def senders_from(settings: Settings) -> Senders:
    from services.notify.channels.dingtalk import DingTalkRobot
    from services.notify.channels.smtp import SmtpSender
    from services.notify.channels.webhook import WebhookSender
    from services.notify.channels.wecom import WeComRobot

    timeout = settings.delivery_http_timeout
    internal = settings.webhook_allow_internal

    def email() -> SmtpSender:
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
            timeout=settings.smtp_timeout,
        )

    def robot(ch: Any) -> DingTalkRobot | WeComRobot:
        if ch.type == "dingtalk":
            return DingTalkRobot(ch.url, ch.secret, timeout=timeout, allow_internal=internal)
        return WeComRobot(ch.url, timeout=timeout, allow_internal=internal)

    return Senders(
        email=email if settings.smtp_host else None,
        robot=robot,
        webhook=lambda: WebhookSender(timeout=timeout, allow_internal=internal),
    )


def build(
    *,
    db_url: str,
    port: int = 0,
    host: str = "127.0.0.1",
    tls: GrpcTls | None = None,
    health_port: int = 0,
    settings: Settings | None = None,
    registry_addr: str | None = None,
    redis_url: str | None = None,
    rate_window_seconds: float = 60.0,
    **_peers: Any,
) -> tuple[grpc.Server, int]:
    """Migrate the database to head and return a not-yet-started server and its port.

    ``settings`` (default: read from the environment) gives the link key and lifetime, base URL,
    SMTP and robot rate. ``registry_addr`` / ``redis_url`` override the settings' (``""`` = none:
    no contacts / no Deliver)."""
    settings = settings or Settings()
    upgrade(SERVICE, db_url)
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    config = NotifyConfig(
        link_key=settings.link_signing_key or store.signing_key(engine, now=now),
        base_url=settings.public_base_url(),
        link_ttl=timedelta(hours=settings.link_ttl_hours),
        allow_internal=settings.webhook_allow_internal,
    )
    closers: list[Any] = [engine.dispose]
    contacts: Contacts = NoDirectory()
    reg = settings.addr("registry") if registry_addr is None else registry_addr
    if reg:
        registry = RegistryContacts(reg, timeout=settings.rpc_timeout)
        closers.append(registry.close)
        contacts = registry
    deliverer: Deliverer | None = None
    r_url = settings.redis_url if redis_url is None else redis_url
    if r_url:
        client = connect(r_url)
        closers.append(client.close)
        guards = Guards(client, rate_per_window=settings.robot_rate_per_minute, window_seconds=rate_window_seconds)
        deliverer = Deliverer(
            engine,
            guards=guards,
            contacts=contacts,
            senders=senders_from(settings),
            send_timeout=max(settings.delivery_http_timeout, settings.smtp_timeout),
            link_urls=LinkUrls(config.link_key, config.base_url),
            base_url=config.base_url,
            allow_internal=settings.webhook_allow_internal,
            im_timeout=settings.delivery_http_timeout,
        )
    servicer = NotifyServicer(engine=engine, config=config, deliverer=deliverer)
    # Open deliveries and dead letters, computed from this database when /metrics is scraped.
    register_collector(SERVICE, SafeCollector(SERVICE, lambda: metrics.open_families(engine)))

    def add_servicers(server: grpc.Server) -> None:
        pb_grpc.add_NotifyServiceServicer_to_server(servicer, server)
        # The group tokens of robot cards (/a/g/<token>), signed with the same key.
        group_link_grpc.add_GroupLinkServiceServicer_to_server(GroupLinkServicer(engine=engine, config=config), server)

    server, bound = build_server(
        name=SERVICE,
        add_servicer=add_servicers,
        service_full_name=pb.DESCRIPTOR.services_by_name["NotifyService"].full_name,
        port=port,
        host=host,
        tls=tls,
        health_port=health_port,
    )
    return _Server(server, closers), bound


def serve(settings: Settings) -> None:
    server, port = build(**listen_args(settings, SERVICE), settings=settings)
    run_until_signalled(
        server,
        service=SERVICE,
        port=port,
        redis=bool(settings.redis_url),
        smtp=bool(settings.smtp_host),
    )
