"""baobei/core/telemetry.py without a stack: off means no hooks at all; on, log lines carry the
span's ids and statements/outgoing calls outside a trace start no trace of their own."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from baobei.core import telemetry
from baobei.core.db import make_engine


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    telemetry.setup_tracing(None, "unit", exporter=spans, set_global=False)
    try:
        yield spans
    finally:
        telemetry.stop_tracing()


def test_off_by_default_means_no_hooks() -> None:
    from baobei.core.settings import Settings

    assert telemetry.setup_tracing(Settings(otlp_endpoint=""), "edge") is None
    assert not telemetry.tracing_enabled()
    assert telemetry.grpc_server_interceptors() == []
    assert telemetry.grpc_aio_client_interceptors() == []
    assert telemetry.temporal_interceptors() == []
    ch = grpc.insecure_channel("127.0.0.1:1")
    assert telemetry.traced_channel(ch) is ch
    ch.close()
    app = object()
    assert telemetry.asgi_middleware(app) is app  # type: ignore[arg-type]
    assert telemetry.add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}


def test_log_lines_carry_the_span_ids(exporter: InMemorySpanExporter) -> None:
    provider = telemetry.tracer_provider()
    assert provider is not None
    with provider.get_tracer("t").start_as_current_span("work") as span:
        event = telemetry.add_trace_ids(None, "info", {"event": "x"})
        assert telemetry.current_trace_id() == event["trace_id"]
    ctx = span.get_span_context()
    assert event["trace_id"] == format(ctx.trace_id, "032x") and len(event["trace_id"]) == 32
    assert event["span_id"] == format(ctx.span_id, "016x")
    assert "trace_id" not in telemetry.add_trace_ids(None, "info", {"event": "after"})


def test_statements_are_spans_only_inside_a_trace(exporter: InMemorySpanExporter, tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.connect() as conn:  # a poller's tick: no trace
        conn.execute(sa.text("SELECT 1"))
    assert [s.name for s in exporter.get_finished_spans()] == []
    provider = telemetry.tracer_provider()
    assert provider is not None
    with provider.get_tracer("t").start_as_current_span("rpc"):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 2"))
        with engine.begin() as conn:  # BEGIN IMMEDIATE (make_engine) is no span of its own
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    names = [s.name.split()[0] for s in exporter.get_finished_spans()]
    assert names == ["SELECT", "CREATE", "rpc"]
    engine.dispose()


def test_configured_log_lines_carry_the_trace(
    exporter: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import logging

    import structlog

    from baobei.core.logging import configure_logging

    configure_logging(fmt="json", component="unit")
    try:
        provider = telemetry.tracer_provider()
        assert provider is not None
        with provider.get_tracer("t").start_as_current_span("work") as span:
            structlog.get_logger("t").info("inside")
            logging.getLogger("stdlib").warning("stdlib inside")
        structlog.get_logger("t").info("outside")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
    trace_id = format(span.get_span_context().trace_id, "032x")
    by_event = {line["event"]: line for line in lines}
    assert by_event["inside"]["trace_id"] == trace_id and by_event["inside"]["span_id"]
    assert by_event["stdlib inside"]["trace_id"] == trace_id
    assert "trace_id" not in by_event["outside"]
