"""Prometheus metrics shared by every component: the ``/metrics`` endpoint of a process, the one
gRPC server interceptor (per-RPC count, latency, status), the database pool gauges, and a safe
way to register scrape-time collectors (a service built twice in one process, as tests do,
replaces its collector instead of failing on a duplicate).

Names: ``baobei_*``; one process serves one port (``Settings.metrics_port_of``)."""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc
import structlog
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from baobei.core.settings import SERVICES

log = structlog.get_logger(__name__)

# Latency buckets (seconds) for calls that are mostly a few milliseconds, sometimes seconds.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

GRPC_HANDLED = Counter(
    "baobei_grpc_server_handled", "gRPC calls a service completed, by method and status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_SECONDS = Histogram(
    "baobei_grpc_server_handling_seconds", "Time a service took to answer a gRPC call",
    ["grpc_service", "grpc_method"], buckets=LATENCY_BUCKETS,
)
GRPC_IN_FLIGHT = Gauge("baobei_grpc_server_in_flight", "gRPC calls being handled", ["grpc_service"])


def split_method(full: str) -> tuple[str, str]:
    """``/baobei.approval.v1.ApprovalService/RecordDecision`` → (service, method)."""
    _, _, rest = full.partition("/")
    service, _, method = rest.partition("/")
    return service or "unknown", method or "unknown"


def _code_of(context: grpc.ServicerContext, failed: bool) -> str:
    code = context.code() if hasattr(context, "code") else None
    if code is None or (failed and code == grpc.StatusCode.OK):
        return "UNKNOWN" if failed else "OK"
    return str(code.name)


class MetricsInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]  # grpcio ships no type hints
    """Count and time every RPC of the server it is installed on (``build_server`` installs it)."""

    def __init__(self) -> None:
        self._series: dict[str, _Done] = {}  # per full method name, built at its first call

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        done = self._series.get(details.method)
        if done is None:
            done = self._series[details.method] = _Done(*split_method(details.method))
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, done),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, done),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # client/bidi streaming: none in our contracts

    @staticmethod
    def _unary(behaviour: Callable[..., Any], done: _Done) -> Callable[..., Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            done.in_flight.inc()
            started, failed = time.perf_counter(), True
            try:
                result = behaviour(request, context)
                failed = False
                return result
            finally:
                done(context, failed, started)

        return call

    @staticmethod
    def _stream(behaviour: Callable[..., Any], done: _Done) -> Callable[..., Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            done.in_flight.inc()
            started, failed = time.perf_counter(), True
            try:
                yield from behaviour(request, context)
                failed = False
            finally:
                done(context, failed, started)

        return call


class _Done:
    """The labelled series of one method, looked up once (``labels()`` costs more than the count)."""

    def __init__(self, service: str, method: str) -> None:
        self.service, self.method = service, method
        self.in_flight = GRPC_IN_FLIGHT.labels(service)
        self.seconds = GRPC_SECONDS.labels(service, method)
        self.handled: dict[str, Any] = {}

    def __call__(self, context: grpc.ServicerContext, failed: bool, started: float) -> None:
        self.in_flight.dec()
        self.seconds.observe(time.perf_counter() - started)
        code = _code_of(context, failed)
        counter = self.handled.get(code)
        if counter is None:
            counter = self.handled[code] = GRPC_HANDLED.labels(self.service, self.method, code)
        counter.inc()


# ---- database pools ----

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_engines_lock = threading.Lock()


def database_name(engine: Engine) -> str:
    """The label of an engine: the service whose database it is when its name says so
    (``approval.db``, ``baobei_approval``), else the SQLite file's stem or the database name."""
    name = str(engine.url.database or "memory").rsplit("/", 1)[-1].removesuffix(".db")
    owners = [s for s in SERVICES if re.search(rf"(^|[^a-z]){s}([^a-z]|$)", name)]
    return owners[0] if len(owners) == 1 else name


def watch_engine(engine: Engine) -> None:
    """Report this engine's pool (``make_engine`` calls it for every engine)."""
    with _engines_lock:
        _engines.add(engine)


class PoolCollector(Collector):
    """Connections checked out of / idle in each engine's pool, read at scrape time."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        used = GaugeMetricFamily("baobei_db_pool_checked_out", "Database connections in use", labels=["database"])
        idle = GaugeMetricFamily("baobei_db_pool_checked_in", "Idle pooled database connections", labels=["database"])
        size = GaugeMetricFamily("baobei_db_pool_size", "Configured pool size (without overflow)", labels=["database"])
        with _engines_lock:
            engines = list(_engines)
        seen: dict[str, tuple[int, int, int]] = {}
        for engine in engines:
            pool: Any = engine.pool
            name = database_name(engine)
            out = int(pool.checkedout()) if hasattr(pool, "checkedout") else 0
            inn = int(pool.checkedin()) if hasattr(pool, "checkedin") else 0
            cap = int(pool.size()) if hasattr(pool, "size") else 0
            a, b, c = seen.get(name, (0, 0, 0))
            seen[name] = (a + out, b + inn, c + cap)  # several engines on one database: their sum
        for name, (out, inn, cap) in sorted(seen.items()):
            used.add_metric([name], out)
            idle.add_metric([name], inn)
            size.add_metric([name], cap)
        yield used
        yield idle
        yield size


# ---- scrape-time collectors, replaceable ----

_collectors: dict[str, Collector] = {}
_collectors_lock = threading.Lock()


def register_collector(key: str, collector: Collector) -> None:
    """Register ``collector`` under ``key`` on the default registry, replacing one registered
    under the same key before (a service built again in the same process)."""
    with _collectors_lock:
        old = _collectors.pop(key, None)
        if old is not None:
            REGISTRY.unregister(old)
        REGISTRY.register(collector)
        _collectors[key] = collector


register_collector("db_pool", PoolCollector())


class SafeCollector(Collector):
    """Wraps a scrape-time collector: a failing query (database down) yields nothing and counts
    an error instead of breaking the whole scrape."""

    ERRORS = Counter("baobei_metrics_collect_errors", "Scrape-time collectors that failed", ["collector"])

    def __init__(self, name: str, collect: Callable[[], Iterable[Any]]) -> None:
        self.name = name
        self._collect = collect

    def collect(self) -> Iterable[Any]:
        try:
            families = list(self._collect())
        except Exception as err:  # noqa: BLE001 - a scrape must not fail for one collector
            log.warning("metrics.collect_failed", collector=self.name, error=str(err)[:200])
            self.ERRORS.labels(self.name).inc()
            return []
        return families

    def describe(self) -> Iterable[Any]:
        return []  # no query at registration time


# ---- the endpoint ----


_enabled = True


def set_enabled(on: bool) -> None:
    """The process's switch (``Settings.metrics_enabled``), set by its entry point before it
    builds servers: off means no /metrics and no instrumentation hooks."""
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def server_interceptors() -> list[grpc.ServerInterceptor]:
    """The gRPC server's metrics interceptor (none when metrics are off)."""
    return [MetricsInterceptor()] if _enabled else []


def serve_metrics(port: int, host: str, *, component: str) -> int:
    """Serve the default registry at ``http://host:port/metrics`` on a daemon thread; 0 = off.
    Returns the port (0 when off)."""
    if port <= 0 or not _enabled:
        return 0
    server, _thread = start_http_server(port, addr=host)
    bound = int(server.server_port)
    log.info("metrics.serving", component=component, url=f"http://{host}:{bound}/metrics")
    return bound
