"""The client address of a request, as the ASGI server saw it (behind a proxy, uvicorn's
``--proxy-headers`` / ``--forwarded-allow-ips`` make it the forwarded one)."""

from __future__ import annotations

from starlette.types import Scope


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
