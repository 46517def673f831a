"""Anonymous sign-in endpoints under ``/auth`` (outside ``/api/v1``, which always needs a
credential): the methods the sign-in page offers, and signing out. Each method's own endpoints
(password, OIDC, LDAP, DingTalk, WeCom, Feishu) are added to ``router`` by its module."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from baobei.core.errors import Forbidden
from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from edge import audit, sessions
from edge.deps import Clients
from edge.openapi_examples import CSRF_FAILED, RATE_LIMITED, error_examples
from edge.schemas import ERROR_RESPONSES
from edge.schemas_identity import MethodsOut
from edge.sso.configs import start_path

router = APIRouter(prefix="/auth", tags=["sign-in"], responses=ERROR_RESPONSES)


@router.get("/methods", response_model=MethodsOut, responses=error_examples(RATE_LIMITED))
async def methods(clients: Clients) -> dict[str, Any]:
    """What the sign-in page offers: local accounts and the enabled providers (no secrets)."""
    resp = await clients.identity.ListProviders(identity_pb2.ListProvidersRequest(enabled_only=True))
    return {"password": True, "providers": [
        {"key": p.key, "type": p.type, "name": p.name or p.key, "start_url": start_path(p.type, p.key)}
        for p in resp.providers]}


@router.post("/logout", status_code=204, response_class=Response, responses={
    204: {"description": "Signed out: the session ends and its cookies are cleared (`Set-Cookie`)"},
    **error_examples(CSRF_FAILED)})
async def logout(request: Request, clients: Clients) -> Response:
    """Sign this browser out (needs X-CSRF-Token, like every state change made with the cookie).
    Without a live session it just clears the cookies."""
    store = sessions.store_of(request)
    sid = request.cookies.get(sessions.COOKIE, "")
    record = await store.load(sid)
    if record is not None:
        if not sessions.csrf_ok(record, "POST", request.headers.get(sessions.CSRF_HEADER)):
            raise Forbidden("缺少或错误的 CSRF 令牌（X-CSRF-Token）", "missing or wrong CSRF token (X-CSRF-Token)",
                            code="csrf_failed")
        await store.end(sid)
        await audit.record(clients, "sign_out", actor_id=record.user_id, target_type="user",
                           target_id=record.user_id, details={"session": record.id})
    response = Response(status_code=204)
    sessions.clear_cookies(response, request, clients.settings)
    return response
