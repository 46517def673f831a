"""gRPC server bootstrap shared by the five services: health + reflection beside the app
servicer, one ``@rpc`` decorator that binds log context, honours deadlines and turns domain
errors into rich statuses (``google.rpc.BadRequest`` field violations, ``ErrorInfo`` code)."""

from __future__ import annotations

import functools
import ipaddress
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from baobei.core import metrics, telemetry
from baobei.core.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated, ValidationFailed
from baobei.core.gc_tuning import settle_heap
from baobei.core.grpc_client import MESSAGE_SIZE_OPTIONS
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls

log = structlog.get_logger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
ERROR_DOMAIN = "baobei"

_CODES: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, code_pb2.INVALID_ARGUMENT),
    (NotFound, code_pb2.NOT_FOUND),
    (Forbidden, code_pb2.PERMISSION_DENIED),
    (Conflict, code_pb2.FAILED_PRECONDITION),
    (Unauthenticated, code_pb2.UNAUTHENTICATED),
]


MAX_VIOLATION_BYTES = 3000
MAX_MESSAGE_CHARS = 200
# A field violation's path and description as a status (or a batch item's error) carries them.
MAX_FIELD_CHARS = 200
MAX_DESCRIPTION_CHARS = 500


def locale_of(context: grpc.ServicerContext) -> str:
    meta = dict(context.invocation_metadata() or ())
    lang = str(meta.get("accept-language", "zh")).lower()
    return "en" if lang.startswith("en") else "zh"


def status_code(err: DomainError) -> int:
    """The gRPC status code (google.rpc.Code number) a domain error answers with."""
    return next((c for cls, c in _CODES if isinstance(err, cls)), code_pb2.FAILED_PRECONDITION)


def to_status(err: DomainError, locale: str) -> grpc.Status:
    code = status_code(err)
    details = []
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=err.code, domain=ERROR_DOMAIN))
    details.append(info)
    if err.violations:
        bad = error_details_pb2.BadRequest()
        for v in err.violations:
            # The details travel in a trailer, which gRPC caps (8 KiB by default): a body with a
            # thousand bad entries reports the first ones rather than failing as UNAVAILABLE.
            if bad.ByteSize() > MAX_VIOLATION_BYTES:
                break
            bad.field_violations.add(field=v.field[:MAX_FIELD_CHARS],
                                     description=v.text(locale)[:MAX_DESCRIPTION_CHARS])
        packed = any_pb2.Any()
        packed.Pack(bad)
        details.append(packed)
    message = err.text(locale)[:MAX_MESSAGE_CHARS]  # a header too (percent-encoded)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=details))


def rpc(fn: F) -> F:
    """Wrap a servicer method: log context (rpc, request/project/workflow ids), deadline check,
    domain errors → status. Unexpected errors become INTERNAL and are logged with a trace."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        meta = dict(context.invocation_metadata() or ())
        fields = request.DESCRIPTOR.fields_by_name  # a mapping the descriptor already holds
        bound = {
            "rpc": fn.__name__,
            "request_id": getattr(request, "request_id", "") if "request_id" in fields else "",
            "project_id": getattr(request, "project_id", "") if "project_id" in fields else "",
            "workflow_id": meta.get("x-workflow-id", ""),
            # The caller's request id (the edge's is its trace id); within a traced call the
            # log processor puts the span's own trace_id/span_id on every line.
            "trace_id": meta.get("x-request-id", "") or uuid.uuid4().hex[:16],
        }
        started = time.perf_counter()
        # Bound for the call and reset to what was bound before (as ``bound_contextvars`` does,
        # without its copy and scan of the whole context on the way in and out).
        tokens = structlog.contextvars.bind_contextvars(**{k: v for k, v in bound.items() if v})
        try:
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before start")
            try:
                result = fn(self, request, context)
            except DomainError as err:
                log.info("rpc.refused", code=err.code, message=err.en or err.zh)
                context.abort_with_status(to_status(err, locale_of(context)))
            except Exception:
                log.exception("rpc.failed")
                raise
            log.debug("rpc.ok", ms=round((time.perf_counter() - started) * 1000, 2))
            return result
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    return wrapper  # type: ignore[return-value]


def build_server(
    *,
    name: str,
    add_servicer: Callable[[grpc.Server], None],
    service_full_name: str,
    port: int = 0,
    host: str = "127.0.0.1",
    max_workers: int = 16,
    tls: GrpcTls | None = None,
    health_port: int = 0,
) -> tuple[grpc.Server, int]:
    """A started-not-yet server with the app servicer, health and reflection; port 0 picks one.

    With ``tls`` the port is TLS only (mTLS when it has a CA), so plaintext clients are refused;
    ``health_port`` adds a plaintext server with only the health service (for kubelet probes)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name),
        options=MESSAGE_SIZE_OPTIONS,
        # Per-RPC count, latency and status (baobei.core.metrics); spans only when tracing is on.
        interceptors=[*metrics.server_interceptors(), *telemetry.grpc_server_interceptors()],
    )
    add_servicer(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for svc in ("", service_full_name):
        health_servicer.set(svc, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (service_full_name, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    if tls is None:
        bound = server.add_insecure_port(f"{host}:{port}")
    else:
        bound = server.add_secure_port(f"{host}:{port}", tls.server_credentials())
    if bound == 0:
        raise RuntimeError(f"{name}: cannot bind {host}:{port}")
    if health_port:
        probe = grpc.server(futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{name}-health"))
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, probe)
        if probe.add_insecure_port(f"{host}:{health_port}") == 0:
            raise RuntimeError(f"{name}: cannot bind health port {host}:{health_port}")
        return WithHealthServer(server, probe), bound
    return server, bound


class WithHealthServer(grpc.Server):  # type: ignore[misc]  # grpcio ships no type hints
    """The app server plus a plaintext health-only server, started and stopped together."""

    def __init__(self, main: grpc.Server, health_server: grpc.Server) -> None:
        self.main, self.health_server = main, health_server

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Any) -> None:
        self.main.add_generic_rpc_handlers(generic_rpc_handlers)

    def add_insecure_port(self, address: str) -> int:
        port: int = self.main.add_insecure_port(address)
        return port

    def add_secure_port(self, address: str, server_credentials: grpc.ServerCredentials) -> int:
        port: int = self.main.add_secure_port(address, server_credentials)
        return port

    def start(self) -> None:
        self.main.start()
        self.health_server.start()

    def stop(self, grace: float | None) -> threading.Event:
        self.health_server.stop(grace)
        stopped: threading.Event = self.main.stop(grace)
        return stopped

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(self.main.wait_for_termination(timeout))


def bind_host(addr: str) -> str:
    """Host a service listens on for its own address: an IP is bound as given; a DNS name (e.g. a
    Kubernetes Service) means all interfaces."""
    host = addr.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "0.0.0.0"
    return host


def run_until_signalled(server: grpc.Server, *, service: str, port: int, **info: Any) -> None:
    """Start ``server``, block until SIGTERM/SIGINT, then stop gracefully (in-flight RPCs finish)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    settle_heap()  # start-up is done: its heap out of the collector's way (baobei.core.gc_tuning)
    server.start()
    log.info("service.started", service=service, port=port, **info)
    stop.wait()
    log.info("service.stopping", service=service)
    server.stop(grace=10).wait()
    log.info("service.stopped", service=service)


def listen_args(settings: Settings, service: str) -> dict[str, Any]:
    """The build() arguments every service takes from the settings: its database, where it
    listens, TLS and the plaintext health port."""
    return {
        "db_url": settings.db_url(service),
        "port": settings.port_of(service),
        "host": bind_host(settings.addr(service)),
        "tls": GrpcTls.from_settings(settings),
        "health_port": settings.grpc_health_port,
    }
