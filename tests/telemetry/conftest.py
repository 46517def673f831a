"""The in-process stack of the edge tests (tests/edge/conftest.py) with tracing on: one in-memory
span exporter sees the spans of the edge, the Temporal client and worker, the five services and
their databases. Module-scoped, and tracing is switched off again after the module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest_asyncio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from baobei.core import telemetry
from tests.edge.conftest import Stack, admin, org, running_stack

__all__ = ["admin", "org"]  # the edge tests' fixtures, here on the traced stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def spans() -> AsyncIterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    # Not the process-global provider: other test modules of the session stay untraced.
    telemetry.setup_tracing(None, "test", exporter=exporter, set_global=False)
    try:
        yield exporter
    finally:
        telemetry.stop_tracing()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(
    spans: InMemorySpanExporter, make_db_url: Callable[[str], str], redis_url: str
) -> AsyncIterator[Stack]:
    async with running_stack(make_db_url, redis_url, interceptors=telemetry.temporal_interceptors()) as running:
        yield running
