"""Route matching without the linear scan over routers that cannot match.

FastAPI (0.163) keeps every ``include_router`` as one ``_IncludedRouter`` entry and matches a
request by asking each entry in turn, which scans all of its routes (and again for nested
routers); the chosen router then scans once more to dispatch. For ``/api/v1/me/todos`` that is
about 150 route checks, and for an unknown path (the web app's pages, served by the 404 handler)
every route four times over (~12% of the edge's CPU in py-spy).

:func:`index_routers` gives every included router (nested ones too, as FastAPI builds them) one
compiled pattern: the union of its routes' path patterns. A path the union does not match cannot
match any route of that router, fully or partially (a partial match is a path match with another
method), so the router answers ``Match.NONE`` at once, exactly what its scan would have answered.
Paths the union matches take FastAPI's own scan, so which route wins, 405s, redirects and the
route FastAPI leaves on the scope are unchanged. A router holding anything whose match is not a
plain path pattern (host routes, frontend route groups) keeps the plain scan."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, _EffectiveRouteContext, _IncludedRouter
from starlette import routing
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
_UNSET: Any = object()
_MEMO = "baobei.route_matches"  # scope key: this request's matches, by router


def _leaf_pattern(leaf: _EffectiveRouteContext) -> str | None:
    """The path pattern an HTTP request must match to match ``leaf`` at all; "" when the leaf
    never matches an HTTP request; None when its match is not a path pattern."""
    target: Any = leaf.starlette_route
    if target is None:
        if isinstance(leaf.original_route, APIRoute) and leaf.path_regex is not None:
            return str(leaf.path_regex.pattern)
        return None
    if isinstance(target, routing.WebSocketRoute):
        return ""
    if isinstance(target, routing.Route | routing.Mount) and target.path_regex is not None:
        return str(target.path_regex.pattern)
    return None


@dataclass(eq=False)
class IndexedIncludedRouter(_IncludedRouter):
    """An included router that refuses, with one pattern match, a path none of its routes match."""

    _index: Any = field(default=_UNSET, repr=False, compare=False)
    _index_version: int | None = field(default=None, repr=False, compare=False)
    _indexed_candidates: list[Any] = field(default_factory=list, repr=False, compare=False)
    _indexed_candidates_of: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, included: _IncludedRouter) -> IndexedIncludedRouter:
        return cls(original_router=included.original_router, include_context=included.include_context)

    def effective_candidates(self) -> list[Any]:
        # FastAPI builds nested routers as plain ``_IncludedRouter``s: index them too (once per
        # version of the candidate list, so the indexed children keep their own caches).
        candidates = super().effective_candidates()
        if candidates is not self._indexed_candidates_of:
            self._indexed_candidates = [
                IndexedIncludedRouter.of(c) if type(c) is _IncludedRouter else c for c in candidates
            ]
            self._indexed_candidates_of = candidates
        return self._indexed_candidates

    def _path_index(self) -> Any:
        """The union of the routes' patterns (None: no index), rebuilt when routes are added."""
        version = self.original_router._get_routes_version()
        if self._index is not _UNSET and version == self._index_version:
            return self._index
        patterns: list[str] = []
        index: Any = None
        for leaf in self.effective_route_contexts():
            pattern = _leaf_pattern(leaf)
            if pattern is None:
                break
            if pattern:
                patterns.append("(?:" + _NAMED_GROUP.sub("(?:", pattern) + ")")
        else:
            try:
                index = re.compile("|".join(patterns)) if patterns else re.compile(r"(?!)")
            except re.error:
                index = None
        self._index, self._index_version = index, version
        return index

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            index = self._path_index()
            if index is not None and index.match(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)

    def _match(self, scope: Scope) -> tuple[Match, Scope, Any, Any]:
        # Matching is asked once to pick this router and again to dispatch inside it (and so on
        # down): the second time, the answer of the first for the same path and method.
        if scope["type"] != "http":
            return super()._match(scope)
        key = (get_route_path(scope), scope["method"], scope.get("path_params"))
        memo: dict[int, Any] = scope.setdefault(_MEMO, {})
        found = memo.get(id(self))
        if found is not None and found[0] is self and found[1] == key:
            return found[2]  # type: ignore[no-any-return]
        result = super()._match(scope)
        memo[id(self)] = (self, key, result)
        return result


def index_routers(app: FastAPI) -> None:
    """Index the app's included routers (call after the last ``include_router``)."""
    routes = app.router.routes
    for i, route in enumerate(routes):
        if type(route) is _IncludedRouter:
            routes[i] = IndexedIncludedRouter.of(route)
