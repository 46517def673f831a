"""Launch ``baobei dev`` as a child process on free ports with its own data dir: the harness of
the end-to-end tests and the benchmarks (the real stack exactly as a user starts it)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from baobei.core.settings import SERVICES

ROOT = Path(__file__).resolve().parents[1]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: the sockets stay bound until all are picked."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


@dataclass
class DevStack:
    data_dir: Path
    env: dict[str, str]
    base: str
    token: str = ""
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 240.0) -> None:
        self.output = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "dev", "--no-web", "--data-dir", str(self.data_dir)],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line.rstrip())
                # The ready message is a block (URLs, metrics, token …): it ends with this line.
                if "Ctrl-C stops everything" in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                logs = "\n".join(self.output[-40:])
                tails = "\n".join(
                    f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
                    for p in sorted((self.data_dir / "logs").glob("*.log"))
                )
                raise RuntimeError(f"baobei dev did not become ready:\n{logs}\n{tails}")
        self.token = (self.data_dir / "admin-token").read_text().strip()

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def mails(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Mails the stack's SMTP sink received, newest first (``cli.smtp_sink.list_mails``)."""
        from cli.smtp_sink import list_mails

        return list_mails(self.data_dir / "mails", limit=limit)

    def wait_for_mails(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until the sink holds at least ``count`` mails; returns them, newest first."""
        deadline = time.monotonic() + timeout
        while True:
            mails = self.mails()
            if len(mails) >= count or time.monotonic() > deadline:
                return mails
            time.sleep(0.1)

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {token or self.token}"}, timeout=30
        )


def stack_env(make_db_url: Callable[[str], str] | None = None) -> dict[str, str]:
    """Environment for a private stack: free ports everywhere; with BAOBEI_TEST_PG_URL set, one
    fresh database per service from ``make_db_url``; with BAOBEI_TEST_REDIS_URL, that Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOBEI_") or k.startswith("BAOBEI_TEST_")}
    edge, temporal, temporal_ui, smtp, *service_ports = free_ports(4 + len(SERVICES))
    env.update(
        BAOBEI_PORT=str(edge),
        BAOBEI_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal}",
        BAOBEI_TEMPORAL_UI_PORT=str(temporal_ui),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # Notifications: the stack's own SMTP sink; robots and webhook subscribers are stand-ins on
        # loopback; quick retries so failure tests finish in seconds.
        BAOBEI_SMTP_SINK_PORT=str(smtp),
        BAOBEI_WEBHOOK_ALLOW_INTERNAL="true",
        BAOBEI_DELIVERY_INITIAL_BACKOFF_SECONDS="0.2",
        BAOBEI_DELIVERY_MAX_BACKOFF_SECONDS="1",
        BAOBEI_DELIVERY_MAX_ATTEMPTS="4",
    )
    for service, port in zip(SERVICES, service_ports, strict=True):
        env[f"BAOBEI_{service.upper()}_ADDR"] = f"127.0.0.1:{port}"
    if os.environ.get("BAOBEI_TEST_PG_URL") and make_db_url is not None:
        for service in SERVICES:
            env[f"BAOBEI_{service.upper()}_DB_URL"] = make_db_url(service)
        # Many stacks share one test server: idle pools keep few connections (max_connections).
        env["BAOBEI_DB_POOL_SIZE"] = os.environ.get("BAOBEI_DB_POOL_SIZE", "2")
    if os.environ.get("BAOBEI_TEST_REDIS_URL"):
        env["BAOBEI_REDIS_URL"] = os.environ["BAOBEI_TEST_REDIS_URL"]
    return env


def launch(data_dir: Path, env: dict[str, str]) -> DevStack:
    stack = DevStack(data_dir=data_dir, env=env, base=f"http://127.0.0.1:{env['BAOBEI_PORT']}")
    stack.start()
    return stack
