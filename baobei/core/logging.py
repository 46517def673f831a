"""structlog configured once per process; stdlib loggers (grpc, temporalio, uvicorn) go through
the same renderer. Bind request/project/workflow ids with ``structlog.contextvars``; inside a span every line also
carries ``trace_id`` and ``span_id`` (baobei/core/telemetry.py)."""

from __future__ import annotations

import logging
import sys

import structlog

from baobei.core.telemetry import add_trace_ids


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
    structlog.configure(
        # filter_by_level first: a line below the level (every RPC's ``rpc.ok`` debug line) is
        # dropped before the processors stamp and bind it, not after by the stdlib logger.
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
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
