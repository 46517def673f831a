"""OpenTelemetry tracing, set up once per process (edge, each service, worker) by
:func:`setup_tracing`; off unless ``BAOBEI_OTLP_ENDPOINT`` is set (or a test hands in an exporter).

Off means off: no tracer provider, no interceptor, no middleware, no SQLAlchemy listener, so
the hot paths run as before. On, one decision is one trace: the edge's HTTP span → Temporal
update (temporalio's ``TracingInterceptor`` on the edge's client and the worker; the update
handler runs under the caller's trace, see :class:`_UpdateTracedInbound`) → workflow → activity
→ gRPC client → gRPC server → SQL statements. W3C ``traceparent`` carries it between processes.

Each hook below is a no-op when tracing is off, so call sites need no ``if``:
``grpc_server_interceptors()`` (build_server), ``traced_channel`` /
``grpc_aio_client_interceptors()`` (channels), ``instrument_engine`` (make_engine),
``temporal_interceptors()`` (every ``Client.connect``), ``asgi_middleware`` (the edge app),
``add_trace_ids`` (the structlog chain: ``trace_id``/``span_id`` on every line in a span)."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace

if TYPE_CHECKING:  # the SDK is only imported when tracing is switched on
    import grpc
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.engine import Engine
    from starlette.types import ASGIApp

    from baobei.core.settings import Settings

log = structlog.get_logger(__name__)

# The process's tracer provider while tracing is on (None: off).
_provider: TracerProvider | None = None
# Paths whose requests are not traced: probes, scrapes, static files.
UNTRACED_URLS = "/healthz,/readyz,/livez,/metrics,/assets/,/favicon"


def setup_tracing(
    settings: Settings | None = None,
    component: str = "",
    *,
    exporter: SpanExporter | None = None,
    set_global: bool = True,
) -> TracerProvider | None:
    """Switch tracing on for this process when ``settings.otlp_endpoint`` is set (OTLP/gRPC,
    batched) or ``exporter`` is given (exported synchronously: tests). Returns the provider, or
    None when tracing stays off. Call before building servers, engines, channels and clients."""
    global _provider
    endpoint = settings.otlp_endpoint if settings is not None else ""
    if exporter is None and not endpoint:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({"service.name": f"baobei-{component or 'process'}", "service.namespace": "baobei"})
    # The sampler follows OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default: parent-based, all).
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        assert settings is not None
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(
                endpoint=endpoint, insecure=settings.otlp_insecure and not endpoint.startswith("https://")
            ))
        )
    if set_global:
        trace.set_tracer_provider(provider)
    _provider = provider
    log.info("telemetry.tracing_on", component=component, endpoint=endpoint or "in-process exporter")
    return provider


def stop_tracing() -> None:
    """Flush and switch tracing off (tests; processes flush at exit on their own)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None


def tracing_enabled() -> bool:
    return _provider is not None


def tracer_provider() -> TracerProvider | None:
    return _provider


class _ChildOnlyTracer(trace.Tracer):
    """Starts spans only inside a trace: a database statement or an outgoing call with no
    request around it (a poller's tick, a migration at start) would otherwise be a trace of
    its own every second."""

    def __init__(self, inner: trace.Tracer) -> None:
        self._inner = inner

    def start_span(
        self, name: str, context: otel_context.Context | None = None, *args: Any, **kwargs: Any
    ) -> trace.Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._inner.start_span(name, context, *args, **kwargs)

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, name: str, context: otel_context.Context | None = None, *args: Any, **kwargs: Any
    ) -> Iterator[trace.Span]:
        if not trace.get_current_span(context).get_span_context().is_valid:
            yield trace.INVALID_SPAN
            return
        with self._inner.start_as_current_span(name, context, *args, **kwargs) as span:
            yield span


class _StatementTracer(_ChildOnlyTracer):
    """SQL statements inside a trace, less transaction control (SQLite's ``BEGIN IMMEDIATE``,
    savepoints): a span each would add cost and nothing to read."""

    _SKIPPED = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")

    def start_span(
        self, name: str, context: otel_context.Context | None = None, *args: Any, **kwargs: Any
    ) -> trace.Span:
        if name.upper().startswith(self._SKIPPED):
            return trace.INVALID_SPAN
        return super().start_span(name, context, *args, **kwargs)


class _ChildOnlyProvider(trace.TracerProvider):
    def __init__(self, inner: TracerProvider) -> None:
        self._inner = inner

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _ChildOnlyTracer(self._inner.get_tracer(*args, **kwargs))


def _not_probes() -> Any:
    from opentelemetry.instrumentation.grpc import filters

    return filters.negate(filters.any_of(filters.health_check(), filters.service_prefix("grpc.reflection")))


# ---------------------------------------------------------------- gRPC


def grpc_server_interceptors() -> list[Any]:
    """The server span of each RPC (health checks and reflection left out)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import server_interceptor

    return [server_interceptor(tracer_provider=_provider, filter_=_not_probes())]  # type: ignore[no-untyped-call]


def traced_channel(channel: grpc.Channel) -> grpc.Channel:
    """A sync channel (service to service) with client spans; the channel itself when off."""
    if _provider is None:
        return channel
    from opentelemetry.instrumentation.grpc import client_interceptor
    from opentelemetry.instrumentation.grpc.grpcext import intercept_channel

    interceptor = client_interceptor(  # type: ignore[no-untyped-call]
        tracer_provider=_ChildOnlyProvider(_provider), filter_=_not_probes()
    )
    traced: grpc.Channel = intercept_channel(channel, interceptor)  # type: ignore[no-untyped-call]
    return traced


def grpc_aio_client_interceptors() -> list[Any]:
    """For ``grpc.aio`` channels (edge, worker activities, dispatcher)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    interceptors: list[Any] = aio_client_interceptors(  # type: ignore[no-untyped-call]
        tracer_provider=_ChildOnlyProvider(_provider), filter_=_not_probes()
    )
    return interceptors


# ---------------------------------------------------------------- database


def instrument_engine(engine: Engine) -> None:
    """A span per SQL statement run inside a trace (none outside one, none for BEGIN …)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import NoOpMeter

    tracer = _StatementTracer(_provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__))
    # Connection-pool metrics are Prometheus's job (baobei metrics), not the tracer's.
    usage = NoOpMeter("baobei").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine, usage)  # type: ignore[no-untyped-call]


# ---------------------------------------------------------------- Temporal


def temporal_interceptors() -> list[Any]:
    """Interceptors for ``Client.connect``: client spans for starts/updates/signals and, since a
    worker inherits its client's interceptors, workflow and activity spans."""
    if _provider is None:
        return []
    return [_tracing_interceptor(_provider.get_tracer("baobei.temporal"))]


def _tracing_interceptor(tracer: trace.Tracer) -> Any:
    from temporalio.contrib.opentelemetry import TracingInterceptor

    class BaobeiTracingInterceptor(TracingInterceptor):
        def workflow_interceptor_class(self, input: Any) -> Any:
            super().workflow_interceptor_class(input)  # registers the span extern function
            return _update_traced_inbound()

    return BaobeiTracingInterceptor(tracer)


_inbound_class: Any = None


def _update_traced_inbound() -> Any:
    """temporalio's workflow interceptor, except that an update (a decision, a withdrawal …)
    runs under the trace of the request that sent it rather than the one that started the
    workflow weeks earlier: the update's activities belong to the caller's trace."""
    global _inbound_class
    if _inbound_class is not None:
        return _inbound_class
    import temporalio.worker
    from opentelemetry.trace import SpanKind
    from temporalio.contrib.opentelemetry import TracingWorkflowInboundInterceptor
    from temporalio.contrib.opentelemetry._context import attached_context

    class _UpdateTracedInbound(TracingWorkflowInboundInterceptor):
        def _caller_context(self, headers: Any) -> otel_context.Context | None:
            header = headers.get(self.header_key)
            if not header:
                return None
            carrier = self.payload_converter.from_payloads([header])[0]
            return self._set_on_context(self.text_map_propagator.extract(carrier))

        def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
            caller = self._caller_context(input.headers)
            if caller is None:
                return super().handle_update_validator(input)
            with attached_context(caller):
                self._completed_span(f"ValidateUpdate:{input.update}", kind=SpanKind.SERVER)
                self.next.handle_update_validator(input)

        async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
            caller = self._caller_context(input.headers)
            if caller is None:
                return await super().handle_update_handler(input)
            with attached_context(caller):
                self._completed_span(f"HandleUpdate:{input.update}", kind=SpanKind.SERVER)
                return await self.next.handle_update_handler(input)

    _inbound_class = _UpdateTracedInbound
    return _inbound_class


# ---------------------------------------------------------------- HTTP edge


def asgi_middleware(app: ASGIApp) -> ASGIApp:
    """The edge's server span around everything (named ``METHOD /route/{template}``)."""
    if _provider is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.instrumentation.fastapi import _get_default_span_details
    from opentelemetry.metrics import NoOpMeterProvider

    wrapped: ASGIApp = OpenTelemetryMiddleware(
        app,
        excluded_urls=UNTRACED_URLS,
        default_span_details=_get_default_span_details,
        tracer_provider=_provider,
        meter_provider=NoOpMeterProvider(),  # HTTP metrics are Prometheus's job
        exclude_spans=["receive", "send"],
    )
    return wrapped


def current_trace_id() -> str:
    """The current trace id (32 hex digits), or "" outside a trace."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


# ---------------------------------------------------------------- logs


def add_trace_ids(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's ``trace_id`` and ``span_id``."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    return event

