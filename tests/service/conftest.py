"""Service tests build and stop gRPC servers per test."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _release_pooled_connections() -> Iterator[None]:
    """On PostgreSQL, a server a test built and stopped keeps its engine's pooled connections
    until it is garbage-collected; collecting after each test keeps the PostgreSQL pass far below
    the server's connection limit (peak of tests/service measured: 45 connections without, 21 with)."""
    yield
    if os.environ.get("BAOBEI_TEST_PG_URL"):
        gc.collect()
