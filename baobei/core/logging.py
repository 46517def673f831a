"""structlog configured once per process; stdlib loggers (grpc, temporalio, uvicorn) go through
the same renderer. Bind request/project/workflow ids with ``structlog.contextvars``; inside a span every line also
carries ``trace_id`` and ``span_id`` (baobei/core/telemetry.py).

Our own (structlog) lines take structlog's native path — a level-filtering bound logger that
renders and writes the line itself — instead of being handed to the stdlib ``logging`` machinery
(LogRecord, handler, ``ProcessorFormatter``): ~55 µs per line instead of ~140 µs, and every RPC,
activity and request writes a few (docs/performance.md, the fifth step)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from baobei.core.telemetry import add_trace_ids


class StderrLogger:
    """structlog's logger for our lines: one write of the rendered line to the current
    ``sys.stderr`` (looked up per line, as the test runner's capture replaces it)."""

    def __init__(self, name: str = "") -> None:
        self.name = name  # the ``logger`` field (structlog.stdlib.add_logger_name reads it)

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = log = msg


def _logger_factory(*args: Any) -> StderrLogger:
    return StderrLogger(str(args[0]) if args else "")


def configure_logging(*, fmt: str = "auto", level: str = "INFO", component: str = "") -> None:
    json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,  # trace_id/span_id of the current span (tracing on)
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    # JSON carries a traceback as the ``exception`` field; the console renderer prints its own.
    tracebacks: list[structlog.typing.Processor] = [structlog.processors.format_exc_info] if json else []
    numeric_level = logging.getLevelName(level.upper())
    structlog.configure(
        # The filtering bound logger drops a line below the level (every RPC's ``rpc.ok`` debug
        # line) before any processor runs.
        processors=[*shared, structlog.processors.StackInfoRenderer(), *tracebacks, renderer],
        logger_factory=_logger_factory,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "sqlalchemy.engine", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if component:
        structlog.contextvars.bind_contextvars(component=component)
