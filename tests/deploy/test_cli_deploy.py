"""CLI pieces the manifests rely on: migrations from several init containers at once (one at a
time per database on PostgreSQL), and the worker's heartbeat file read by its liveness probe."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cli import main as cli
from tests.deploy.test_multiprocess import _pg_admin_url


@pytest.fixture
def fresh_pg_db() -> Iterator[str]:
    admin = _pg_admin_url()
    name = f"bbk8s_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0] if admin.count("/") > 2 else admin.rstrip("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_concurrent_migrations_of_one_database_all_succeed(fresh_pg_db: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOBEI_")}
    env.update(BAOBEI_REGISTRY_DB_URL=fresh_pg_db, BAOBEI_DATA_DIR=str(tmp_path), BAOBEI_LOG_FORMAT="console")
    procs = [
        subprocess.Popen([sys.executable, "-m", "cli.main", "migrate", "registry"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    with psycopg.connect(fresh_pg_db) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


async def test_worker_heartbeat_is_touched_while_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "HEARTBEAT_EVERY", 0.05)
    path = tmp_path / "data" / "worker.heartbeat"
    seen: list[float] = []

    async def main() -> None:
        for _ in range(4):
            await asyncio.sleep(0.06)
            seen.append(path.stat().st_mtime_ns)

    await cli._with_heartbeat(main(), path)
    assert len(set(seen)) >= 2  # refreshed while the worker ran
    before = path.stat().st_mtime_ns
    await asyncio.sleep(0.15)
    assert path.stat().st_mtime_ns == before  # and no longer once it stopped
    assert time.time() - path.stat().st_mtime < 5
