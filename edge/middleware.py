"""Request context for every HTTP call: a request id (tracing on: the request's trace id, the
client's own ``X-Request-ID`` kept in the logs as ``client_request_id``; tracing off:
``X-Request-ID`` in, or a new one; always returned as ``X-Request-ID``), the caller's locale,
structlog context, and one access log line with the status, the duration and the project id where
the route knew it. Action link tokens (``/a/<token>``) are redacted from the logged path."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baobei.core.telemetry import current_trace_id
from edge.errors import locale_from_header

log = structlog.get_logger("edge.access")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def log_path(path: str) -> str:
    """The path as logged: an action link's token is a credential and never reaches the logs."""
    return "/a/<redacted>" if path.startswith("/a/") else path


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        client_id = incoming if _GOOD_ID.match(incoming) else ""
        # One id for the client, the logs and the trace: ops paste it into the tracing UI.
        trace_id = current_trace_id()
        request_id = trace_id or client_id or uuid.uuid4().hex
        extra_ids = {"client_request_id": client_id} if trace_id and client_id else {}
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["locale"] = locale_from_header(headers.get("accept-language"))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id, method=scope["method"], path=log_path(scope["path"]), **extra_ids
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                extra = {k: state[k] for k in ("project_id",) if state.get(k)}
                principal = state.get("principal")
                if principal is not None:
                    extra["user_id"] = principal.id
                log.info("http.request", status=status, ms=round((time.perf_counter() - started) * 1000, 1), **extra)
