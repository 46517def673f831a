"""Route modules, one per area of the contract; ``api_router`` collects the ``/api/v1`` ones."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Depends, Request

from edge.idempotency import IdempotentRoute
from edge.schemas import ERROR_RESPONSES


def bind_project(request: Request, project_id: str) -> None:
    """Log context: the project this request is about."""
    request.state.project_id = project_id
    structlog.contextvars.bind_contextvars(project_id=project_id)


def area_router(tag: str) -> APIRouter:
    """A router for one area; its routes wrap handlers for Idempotency-Key and exact JSON numbers."""
    return APIRouter(tags=[tag], route_class=IdempotentRoute)


def api_router() -> APIRouter:
    from edge.deps import REPORTS_READ, scope_required
    from edge.routes import (
        approvals,
        auth_providers,
        calendar,
        comments,
        forms,
        identity,
        notifications,
        policies,
        projects,
        reports,
        sessions,
        worklists,
    )

    router = APIRouter(prefix="/api/v1", route_class=IdempotentRoute, responses=ERROR_RESPONSES)
    for module in (identity, sessions, auth_providers, forms, policies, worklists, projects, approvals, comments,
                   notifications, calendar):
        router.include_router(module.router)
    # Reports need the token scope reports:read (every token has it unless issued without it).
    router.include_router(reports.router, dependencies=[Depends(scope_required(REPORTS_READ))])
    return router
