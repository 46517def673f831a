"""edge.routing: indexed included routers resolve every request exactly as FastAPI's plain scan
does (the route, its path parameters, full/partial matches), and the app's answers on matched,
405, redirected and unmatched paths are unchanged. No stack: the app without its connections."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import _IncludedRouter
from starlette.routing import BaseRoute, Match

from baobei.core.settings import Settings
from edge import app as app_module
from edge.app import create_app
from edge.metrics import route_of
from edge.routing import IndexedIncludedRouter


def _plain_app() -> Any:
    original = app_module.index_routers
    app_module.index_routers = lambda app: None
    try:
        return create_app(Settings())
    finally:
        app_module.index_routers = original


@pytest.fixture(scope="module")
def apps() -> tuple[Any, Any]:
    """The app as FastAPI routes it, and as the edge does (indexed)."""
    return _plain_app(), create_app(Settings())


def _name(endpoint: Any) -> str:
    """An endpoint by module and qualified name (apps built twice have distinct closures)."""
    return f"{getattr(endpoint, '__module__', '')}.{getattr(endpoint, '__qualname__', repr(endpoint))}"


def _resolve(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[Any, ...]:
    """What the router would dispatch to: (match, route's template, endpoint, path params) of the
    first full match, else of the first partial one, following included routers down."""
    partial = None
    for route in routes:
        if isinstance(route, _IncludedRouter):
            match, child_scope, leaf, context = route._match(dict(scope))
            while isinstance(leaf, _IncludedRouter):
                match, child_scope, leaf, context = leaf._match(dict(scope))
            found = (match, getattr(context or leaf, "path_format", None),
                     _name(getattr(context or leaf, "endpoint", None)), child_scope.get("path_params"))
        else:
            match, child_scope = route.matches(dict(scope))
            found = (match, getattr(route, "path_format", None), _name(getattr(route, "endpoint", None)),
                     child_scope.get("path_params"))
        if match == Match.FULL:
            return found
        if match == Match.PARTIAL and partial is None:
            partial = found
    return partial or (Match.NONE,)


def _templates(app: Any) -> list[str]:
    found: set[str] = set()
    for route in app.router.routes:
        leaves = route.effective_route_contexts() if isinstance(route, _IncludedRouter) else [route]
        for leaf in leaves:
            target = getattr(leaf, "starlette_route", None) or leaf
            if getattr(target, "path_format", None):
                found.add(str(target.path_format))
    return sorted(found)


def _paths(app: Any) -> list[str]:
    """Every route rendered with sample parameters, with and without a trailing slash, one
    segment longer, and paths no route has."""
    paths: set[str] = {"/", "/api/nope", "/api/v1", "/api/v1/", "/nope/deeper", "/assets/app.js", "/a/some-token",
                       "/docs", "/openapi.json", "/auth/sso/x/start", "/metrics"}
    for template in _templates(app):
        rendered = re.sub(r"{[^}]+}", "x1", template)
        paths |= {rendered, rendered.rstrip("/") + "/", rendered + "/extra"}
    return sorted(paths)


def test_every_app_route_is_indexed(apps: tuple[Any, Any]) -> None:
    included = [r for r in apps[1].router.routes if isinstance(r, _IncludedRouter)]
    assert included and all(isinstance(r, IndexedIncludedRouter) for r in included)
    assert all(r._path_index() is not None for r in included)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_resolution_matches_fastapis_scan(method: str, apps: tuple[Any, Any]) -> None:
    plain, indexed = apps
    paths = _paths(plain)
    assert len(paths) > 200
    for path in paths:
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        assert _resolve(indexed.router.routes, scope) == _resolve(plain.router.routes, scope), (method, path)


def test_routes_added_after_indexing_are_found() -> None:
    from fastapi import APIRouter

    app = create_app(Settings())
    included = next(r for r in app.router.routes if isinstance(r, IndexedIncludedRouter)
                    and r.include_context.prefix == "/api/v1")
    scope = {"type": "http", "path": "/api/v1/late-route-for-test", "method": "GET", "root_path": ""}
    assert included.matches(dict(scope))[0] == Match.NONE
    late = APIRouter()

    @late.get("/late-route-for-test")
    async def late_route() -> dict[str, str]:
        return {}

    included.original_router.include_router(late)
    assert included.matches(dict(scope))[0] == Match.FULL


async def _answers(app: Any, method: str, path: str) -> tuple[int, dict[str, str], bytes, str]:
    seen: dict[str, Any] = {}

    async def capture(scope: Any, receive: Any, send: Any) -> None:
        seen["scope"] = scope
        await app(scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=capture), base_url="http://edge.test") as client:
        r = await client.request(method, path, follow_redirects=False)
    headers = {k: v for k, v in r.headers.items() if k not in ("x-request-id", "date")}
    return r.status_code, headers, r.content, route_of(seen["scope"])


@pytest.mark.asyncio
async def test_answers_are_unchanged(apps: tuple[Any, Any]) -> None:
    """Status, headers (security headers included), body and the metrics' route label, on
    matched, unmatched (the web app's 404 handler), 405 and trailing-slash paths."""
    plain, indexed = apps
    for method, path in [("GET", "/healthz"), ("GET", "/nope"), ("GET", "/api/nope"), ("GET", "/projects/x1"),
                         ("POST", "/healthz"), ("GET", "/healthz/"), ("GET", "/assets/none.js"),
                         ("GET", "/openapi.json"), ("DELETE", "/auth/sso/x/start"), ("GET", "/a/token-x")]:
        assert await _answers(indexed, method, path) == await _answers(plain, method, path), (method, path)
