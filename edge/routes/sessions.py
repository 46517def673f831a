"""The signed-in caller (`/me`), their browser sessions, and an admin's view of a user's sessions."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from baobei.core.errors import NotFound
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, sessions
from edge.auth import ADMIN_ID
from edge.deps import AdminUser, Clients, CurrentUser
from edge.openapi_examples import (
    ADMIN_REQUIRED,
    CSRF_FAILED,
    SESSION_EXPIRED,
    UNAUTHENTICATED,
    ErrorExample,
    error_examples,
)
from edge.routes import area_router
from edge.schemas_identity import MeOut, SessionList, SessionsEnded, SignOutEverywhereIn
from edge.signin import user_out

router = area_router("sessions")
SESSION_NOT_FOUND = ErrorExample(404, "session_not_found", "会话 b27e40c95a1d3f86 不存在")


@router.get("/me", response_model=MeOut, responses=error_examples(UNAUTHENTICATED, SESSION_EXPIRED))
async def me(request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Who the caller is and how they signed in; for a browser session also its CSRF token."""
    out: dict[str, Any] = {"auth_method": user.auth_method, "session": None, "csrf_token": None}
    if user.id == ADMIN_ID and not user.token_id and not user.session_id:
        out["user"] = {"id": ADMIN_ID, "name": "admin", "department_id": None, "roles": ["admin"], "is_admin": True}
        return out
    found = (await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=user.id))).user
    out["user"] = user_out(found)
    record: sessions.SessionRecord | None = getattr(request.state, "session", None)
    if user.session_id and record is not None:
        out["session"] = record.public(clients.settings, current=True)
        out["csrf_token"] = record.csrf
    return out


async def _list(request: Request, user_id: str, current: str) -> dict[str, Any]:
    store = sessions.store_of(request)
    settings = request.app.state.settings
    return {"items": [r.public(settings, current=r.id == current) for r in await store.list_user(user_id)]}


@router.get("/me/sessions", response_model=SessionList, responses=error_examples(SESSION_EXPIRED))
async def my_sessions(request: Request, user: CurrentUser) -> dict[str, Any]:
    """The caller's signed-in browsers, newest first."""
    return await _list(request, user.id, user.session_id)


@router.delete("/me/sessions/{session_id}", status_code=204, response_class=Response, responses={
    204: {"description": "Signed out: that browser's next request is unauthenticated"},
    **error_examples(SESSION_NOT_FOUND, CSRF_FAILED)})
async def end_my_session(session_id: str, request: Request, user: CurrentUser, clients: Clients) -> Response:
    """Sign out one of the caller's browsers (404 when it is not theirs)."""
    if not await sessions.store_of(request).revoke(user.id, session_id):
        raise NotFound(f"会话 {session_id} 不存在", f"session {session_id} not found", code="session_not_found")
    await audit.record(clients, "session.revoked", actor_id=user.id, target_type="user", target_id=user.id,
                       details={"session": session_id})
    return Response(status_code=204)


@router.post("/me/sessions/revoke-all", response_model=SessionsEnded, responses=error_examples(CSRF_FAILED))
async def sign_out_everywhere(request: Request, user: CurrentUser, clients: Clients,
                              body: SignOutEverywhereIn | None = None) -> dict[str, int]:
    """Sign out everywhere: every browser session of the caller ends (this one too unless
    `keep_current`). Tokens are separate (`/me/tokens`)."""
    keep = user.session_id if body is not None and body.keep_current else ""
    ended = await sessions.store_of(request).revoke_user(user.id, keep=keep)
    await audit.record(clients, "session.revoked_all", actor_id=user.id, target_type="user", target_id=user.id,
                       details={"ended": ended})
    return {"ended": ended}


@router.get("/users/{user_id}/sessions", response_model=SessionList, responses=error_examples(ADMIN_REQUIRED))
async def user_sessions(user_id: str, request: Request, admin: AdminUser) -> dict[str, Any]:
    """A user's signed-in browsers (admin)."""
    return await _list(request, user_id, admin.session_id)


@router.delete("/users/{user_id}/sessions", response_model=SessionsEnded, responses=error_examples(ADMIN_REQUIRED))
async def end_user_sessions(user_id: str, request: Request, admin: AdminUser, clients: Clients) -> dict[str, int]:
    """Sign a user out of every browser (admin)."""
    ended = await sessions.store_of(request).revoke_user(user_id)
    await audit.record(clients, "session.revoked_all", actor_id=admin.id, target_type="user", target_id=user_id,
                       details={"ended": ended})
    return {"ended": ended}
