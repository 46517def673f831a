"""HTTP metrics of the edge, by route template (``/api/v1/projects/{project_id}``, never the raw
path: ids would make a series per project, and action-link tokens are credentials):

- ``baobei_http_requests_total{method, route, status}``;
- ``baobei_http_request_duration_seconds{method, route}`` (histogram);
- ``baobei_http_requests_in_flight``;
- ``baobei_http_rate_limited_total{limit}`` (bumped by :mod:`edge.ratelimit` on each 429).

Requests no route matched (web app pages served by the 404 handler, unknown paths) count under
``route="<unmatched>"``; requests the guard refused before routing (401, 403, 413, 429) under
``route="<refused>"``."""

from __future__ import annotations

import re
import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baobei.core.metrics import LATENCY_BUCKETS

REQUESTS = Counter("baobei_http_requests", "HTTP requests answered, by route template", ["method", "route", "status"])
DURATION = Histogram(
    "baobei_http_request_duration_seconds", "Time to answer an HTTP request (until the response starts)",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge("baobei_http_requests_in_flight", "HTTP requests being answered")
RATE_LIMITED = Counter("baobei_http_rate_limited", "Requests refused by a rate limit (429)", ["limit"])
UNMATCHED = "<unmatched>"
REFUSED = "<refused>"
GUARD_STATUSES = frozenset({401, 403, 413, 429})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?}")


def route_of(scope: Scope) -> str:
    """The matched route's template with the prefixes of the routers it was included with. A
    route knows its template relative to its router only: render that with the request's path
    parameters, and what precedes it in the request path is the (static) prefix."""
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return UNMATCHED
    template = str(template)
    params = scope.get("path_params") or {}
    try:
        rendered = _PARAM.sub(lambda m: str(params[m.group(1)]), template)
    except KeyError:
        return template
    path = str(scope.get("path", ""))
    if rendered and path.endswith(rendered):
        return path[: len(path) - len(rendered)] + template
    return template


class HttpMetricsMiddleware:
    """Outermost but for the security headers: counts every answer, 500s included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()
        first_byte: float | None = None

        async def send_status(message: Message) -> None:
            nonlocal status, first_byte
            if message["type"] == "http.response.start":
                status = int(message["status"])
                first_byte = time.perf_counter()
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            IN_FLIGHT.dec()
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_of(scope)
            if route == UNMATCHED and status in GUARD_STATUSES:
                route = REFUSED
            duration, requests = _series(method, route, status)
            duration.observe((first_byte or time.perf_counter()) - started)
            requests.inc()


_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The labelled histogram and counter, looked up once per (method, route, status): a bounded
    set (route templates, not paths)."""
    key = (method, route, status)
    found = _children.get(key)
    if found is None:
        found = _children[key] = (DURATION.labels(method, route), REQUESTS.labels(method, route, str(status)))
    return found
