"""Connections the edge holds for its lifetime (gRPC channels and stubs, the Temporal client,
Redis) and the per-request view of them that adds deadlines and metadata (locale, request id)
to every call and turns a failed call into the ``DomainError`` the service raised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2_grpc
from temporalio.client import Client as TemporalClient

from baobei.approval.v1 import approval_service_pb2_grpc as approval_grpc
from baobei.approval.v1 import group_link_service_pb2_grpc as approval_group_link_grpc
from baobei.core import telemetry
from baobei.core.grpc_client import aio_channel, metadata
from baobei.core.settings import SERVICES, Settings
from baobei.core.tls import GrpcTls
from baobei.notify.v1 import group_link_service_pb2_grpc as notify_group_link_grpc
from baobei.notify.v1 import notify_service_pb2_grpc as notify_grpc
from baobei.registry.v1 import acceptance_service_pb2_grpc as acceptance_grpc
from baobei.registry.v1 import accounts_service_pb2_grpc as accounts_grpc
from baobei.registry.v1 import audit_service_pb2_grpc as audit_grpc
from baobei.registry.v1 import change_service_pb2_grpc as change_grpc
from baobei.registry.v1 import comment_service_pb2_grpc as comment_grpc
from baobei.registry.v1 import directory_service_pb2_grpc as directory_grpc
from baobei.registry.v1 import identity_service_pb2_grpc as identity_grpc
from baobei.registry.v1 import registry_service_pb2_grpc as registry_grpc
from baobei.reporting.v1 import reporting_service_pb2_grpc as reporting_grpc
from baobei.tasks.v1 import tasks_service_pb2_grpc as tasks_grpc
from edge.errors import ServiceUnavailable, from_rpc_error
from edge.policy_presence import PolicyPresence
from workflows.contracts.data_converter import DATA_CONVERTER

_STUBS: dict[str, Callable[[grpc.aio.Channel], Any]] = {
    "registry": registry_grpc.RegistryServiceStub,
    "approval": approval_grpc.ApprovalServiceStub,
    "tasks": tasks_grpc.TasksServiceStub,
    "reporting": reporting_grpc.ReportingServiceStub,
    "notify": notify_grpc.NotifyServiceStub,
}
# Further gRPC services served by one of the five processes: name -> (process, stub).
_SIDE_STUBS: dict[str, tuple[str, Callable[[grpc.aio.Channel], Any]]] = {
    "identity": ("registry", identity_grpc.IdentityServiceStub),
    "group_link_tokens": ("notify", notify_group_link_grpc.GroupLinkServiceStub),
    "group_link_rules": ("approval", approval_group_link_grpc.GroupLinkServiceStub),
    "directory": ("registry", directory_grpc.DirectoryServiceStub),
    "audit": ("registry", audit_grpc.AuditServiceStub),
    "accounts": ("registry", accounts_grpc.AccountServiceStub),
    "comments": ("registry", comment_grpc.CommentServiceStub),
    "acceptance": ("registry", acceptance_grpc.AcceptanceServiceStub),
    "change": ("registry", change_grpc.ChangeServiceStub),
}


@dataclass
class EdgeDeps:
    """Process-wide connections. Build with :meth:`connect` inside the running event loop."""

    settings: Settings
    channels: dict[str, grpc.aio.Channel]
    stubs: dict[str, Any]
    health: dict[str, health_pb2_grpc.HealthStub]
    redis: aioredis.Redis
    temporal_client: TemporalClient | None = None
    owns_temporal: bool = True
    # Forms lately seen to have an approval policy (the check before each submission).
    policies: PolicyPresence = field(default_factory=PolicyPresence)
    _temporal_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    async def connect(
        cls,
        settings: Settings,
        *,
        temporal_client: TemporalClient | None = None,
        redis_client: aioredis.Redis | None = None,
    ) -> EdgeDeps:
        tls = GrpcTls.from_settings(settings)
        channels = {svc: aio_channel(settings.addr(svc), tls=tls) for svc in SERVICES}
        return cls(
            settings=settings,
            channels=channels,
            stubs={svc: _STUBS[svc](ch) for svc, ch in channels.items()}
            | {name: make(channels[svc]) for name, (svc, make) in _SIDE_STUBS.items()},
            health={svc: health_pb2_grpc.HealthStub(ch) for svc, ch in channels.items()},
            redis=redis_client or aioredis.from_url(settings.redis_url, decode_responses=True),
            temporal_client=temporal_client,
            owns_temporal=temporal_client is None,
        )

    async def temporal(self) -> TemporalClient:
        """The Temporal client, connected on first use (the edge starts even when Temporal is
        not up yet; calls then answer 503 and /healthz says so)."""
        if self.temporal_client is not None:
            return self.temporal_client
        async with self._temporal_lock:
            if self.temporal_client is None:
                try:
                    self.temporal_client = await TemporalClient.connect(
                        self.settings.temporal_address, namespace=self.settings.temporal_namespace,
                        interceptors=telemetry.temporal_interceptors(), data_converter=DATA_CONVERTER,
                    )
                except Exception as err:  # connection refused, timeout, ...
                    raise ServiceUnavailable(
                        "工作流引擎暂不可用", "the workflow engine is unavailable", code="temporal_unavailable"
                    ) from err
            return self.temporal_client

    async def close(self) -> None:
        for ch in self.channels.values():
            await ch.close()
        await self.redis.aclose()


class BoundStub:
    """``await clients.registry.GetProject(req)``: the stub's method with the request's deadline
    and metadata; a refused call raises the service's ``DomainError``."""

    def __init__(self, stub: Any, md: list[tuple[str, str]], timeout: float) -> None:
        self._stub, self._md, self._timeout = stub, md, timeout

    def __getattr__(self, name: str) -> Callable[[Any], Awaitable[Any]]:
        method = getattr(self._stub, name)

        async def call(request: Any) -> Any:
            try:
                return await method(request, metadata=self._md, timeout=self._timeout)
            except grpc.RpcError as err:
                raise from_rpc_error(err) from err

        call.__name__ = name
        return call


@dataclass
class Clients:
    """What a route handler talks to, bound to one request."""

    deps: EdgeDeps
    locale: str
    request_id: str
    # The caller's address, as the audit log records it.
    ip: str = ""
    # Redis values the request guard read with its first round trip (auth cache entries), by key.
    prefetched: dict[str, tuple[Any, Any]] | None = None

    def _bound(self, svc: str, timeout: float | None = None) -> BoundStub:
        md = metadata(locale=self.locale, request_id=self.request_id)
        return BoundStub(self.deps.stubs[svc], md, timeout or self.deps.settings.rpc_timeout)

    def batch(self, svc: str) -> BoundStub:
        """The service's stub with the batch deadline (``batch_rpc_timeout``), for admin operations
        whose work grows with the data (a rebuild), not the request."""
        return self._bound(svc, self.deps.settings.batch_rpc_timeout)

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def registry(self) -> BoundStub:
        return self._bound("registry")

    @property
    def approval(self) -> BoundStub:
        return self._bound("approval")

    @property
    def tasks(self) -> BoundStub:
        return self._bound("tasks")

    @property
    def reporting(self) -> BoundStub:
        return self._bound("reporting")

    @property
    def notify(self) -> BoundStub:
        return self._bound("notify")

    @property
    def identity(self) -> BoundStub:
        """Sign-in providers and identity links (served by the registry process)."""
        return self._bound("identity")

    @property
    def group_link_tokens(self) -> BoundStub:
        """Group action link tokens (served by the notify process, which holds the signing key)."""
        return self._bound("group_link_tokens")

    @property
    def group_link_rules(self) -> BoundStub:
        """What a signed-in user may do with a group action link (served by the approval process)."""
        return self._bound("group_link_rules")

    @property
    def directory(self) -> BoundStub:
        """The org directory for people pickers and the admin's token list (registry process)."""
        return self._bound("directory")

    @property
    def comments(self) -> BoundStub:
        """Comment threads with @mentions on projects (served by the registry process)."""
        return self._bound("comments")

    @property
    def acceptance(self) -> BoundStub:
        """Acceptance (验收) checklists, requests and documents (served by the registry process)."""
        return self._bound("acceptance")

    @property
    def change(self) -> BoundStub:
        """Change requests (变更) of active projects (served by the registry process)."""
        return self._bound("change")

    @property
    def audit(self) -> BoundStub:
        """The audit log (served by the registry process)."""
        return self._bound("audit")

    @property
    def accounts(self) -> BoundStub:
        """Local accounts: passwords, lockout, TOTP, setup links (served by the registry process)."""
        return self._bound("accounts")

    @property
    def redis(self) -> aioredis.Redis:
        return self.deps.redis

    async def temporal(self) -> TemporalClient:
        return await self.deps.temporal()
