"""``create_app(settings, deps=...)``: the FastAPI application of the public contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from baobei.core import telemetry
from baobei.core.settings import Settings
from edge import web_app
from edge.clients import EdgeDeps
from edge.docs import install_docs
from edge.errors import install_error_handlers
from edge.guard import RequestGuard
from edge.metrics import HttpMetricsMiddleware
from edge.middleware import RequestContextMiddleware
from edge.routes import acceptance as acceptance_routes
from edge.routes import accounts as accounts_routes
from edge.routes import action_links, api_router, health, totp_page
from edge.routes import audit_log as audit_log_routes
from edge.routes import changes as change_routes
from edge.routes import closure as closure_routes
from edge.routes import directory as directory_routes
from edge.routes import finance as finance_routes
from edge.routes import group_links as group_link_routes
from edge.routes import integrations as integrations_routes
from edge.routes import notify_admin as notify_admin_routes
from edge.routes import password_signin as password_routes
from edge.routes import printing as printing_routes
from edge.routes import reviews as review_routes
from edge.routes import rules as rules_routes
from edge.routes import signin as signin_routes
from edge.routes import tasks as tasks_routes
from edge.routes import team as team_routes
from edge.routes.registry_io import registry_router
from edge.routing import index_routers
from edge.schemas import ERROR_RESPONSES
from edge.security_headers import SecurityHeadersMiddleware
from edge.sso import im_routes as sso_im_routes
from edge.sso import ldap as ldap_signin
from edge.sso import router as sso_router

DESCRIPTION = """Baobei (报备): customer-project registration and approval.

Every `/api/v1` call needs a credential: `Authorization: Bearer <token>` (integrators, scripts),
or the browser session cookie `bb_session` set by a sign-in under `/auth` (then state-changing
requests also carry `X-CSRF-Token`). Errors are
`{"error": {"code", "message", "details": [{"field", "message"}]}}`; messages are Chinese by
default and English with `Accept-Language: en`. POST requests accept an `Idempotency-Key`
header (24 h): a repeat returns the first response. Bodies are capped (413) and calls are
rate-limited (429 with `Retry-After`)."""


class BaobeiAPI(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, so that even the 500 page of Starlette's ServerErrorMiddleware carries them;
        # inside them the request's server span (tracing on), current for everything below.
        return SecurityHeadersMiddleware(telemetry.asgi_middleware(super().build_middleware_stack()))


def create_app(settings: Settings, *, deps: EdgeDeps | None = None) -> FastAPI:
    """The app. With ``deps`` given (tests, an embedding launcher) the caller owns the
    connections; otherwise they are opened at startup and closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.deps is not None:
            yield
            return
        app.state.deps = await EdgeDeps.connect(settings)
        try:
            yield
        finally:
            opened, app.state.deps = app.state.deps, None
            await opened.close()

    app = BaobeiAPI(
        title="Baobei API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.deps = deps
    install_error_handlers(app)
    install_docs(app)
    app.include_router(health.router)
    app.include_router(api_router())
    app.include_router(directory_routes.router, prefix="/api/v1", responses=ERROR_RESPONSES)  # pickers (issue 13)
    for area in (tasks_routes.router, rules_routes.router):  # tasks, schedule, rules (issue 6)
        app.include_router(area, prefix="/api/v1", responses=ERROR_RESPONSES)
    # Notification settings and integrations (issue 5); action link pages live outside /api/v1.
    for area in (notify_admin_routes.router, integrations_routes.router, finance_routes.router, closure_routes.router,
                 team_routes.router,
                 acceptance_routes.router, change_routes.router):  # 验收, 变更 (issue 16)
        app.include_router(area, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(audit_log_routes.router, prefix="/api/v1", responses=ERROR_RESPONSES)  # issue 13
    app.include_router(printing_routes.router, prefix="/api/v1", responses=ERROR_RESPONSES)  # 审批单 (issue 16)
    app.include_router(review_routes.router, prefix="/api/v1", responses=ERROR_RESPONSES)  # 复盘 (issue 16)
    app.include_router(action_links.router)
    app.include_router(group_link_routes.router)  # /a/g/<token>: group links, signed-in approvers only
    app.include_router(signin_routes.router)  # anonymous sign-in endpoints under /auth
    app.include_router(ldap_signin.router)  # POST /auth/ldap/{key}/login (issue 13)
    app.include_router(sso_router.router)  # /auth/sso/{key}/start|callback (OIDC, DingTalk, WeCom, Feishu)
    app.include_router(sso_im_routes.router)  # /auth/sso/{key}/code|inapp (DingTalk, WeCom, Feishu in-app)
    # Local accounts: password, TOTP, links, settings under /api/v1; password sign-in under /auth and its pages.
    app.include_router(accounts_routes.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    for router in (*password_routes.routers, totp_page.router):
        app.include_router(router)
    app.include_router(registry_router())
    app.include_router(web_app.router)  # /assets of the web app; its pages come from the 404 handler
    index_routers(app)  # after the last include: routers refuse paths none of their routes match at once
    # Outermost last: request context (id, locale, access log), then the guard (auth, rate
    # limits, body caps) before any route reads a body.
    app.add_middleware(RequestGuard)
    app.add_middleware(RequestContextMiddleware)
    if settings.metrics_enabled:
        app.add_middleware(HttpMetricsMiddleware)  # requests by route template, latency, in flight
    return app
