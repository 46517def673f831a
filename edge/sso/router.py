"""The redirect sign-in endpoints every SSO type shares — ``GET /auth/sso/{key}/start`` and
``GET /auth/sso/{key}/callback`` — dispatched by the provider's type to that type's flow.

A flow is anything with ``start(request, clients, provider, next_path)`` and
``callback(request, clients, provider)`` answering a Response; register it in ``FLOWS``."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Query, Request, Response

from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from edge import ratelimit
from edge.client_address import client_ip
from edge.clients import Clients as EdgeClients
from edge.deps import Clients
from edge.openapi_examples import PROVIDER_NOT_FOUND, RATE_LIMITED, ErrorExample, error_examples, redirect
from edge.signin import safe_next
from edge.sso.im_routes import IM_FLOWS
from edge.sso.oidc import OIDC_FLOWS
from edge.sso.providers import SSO_ERRORS, enabled_provider


class SsoFlow(Protocol):
    async def start(self, request: Request, clients: EdgeClients, provider: identity_pb2.Provider,
                    next_path: str) -> Response: ...

    async def callback(self, request: Request, clients: EdgeClients, provider: identity_pb2.Provider) -> Response: ...


FLOWS: dict[str, SsoFlow] = {**OIDC_FLOWS, **IM_FLOWS}

router = APIRouter(prefix="/auth", tags=["sign-in"], responses=SSO_ERRORS)


@router.get("/sso/{key}/start", status_code=302, response_class=Response, responses={
    **redirect(302, "To the provider's login page", "The provider's authorization URL (client_id, redirect_uri, "
               "state; OIDC also nonce and the PKCE code_challenge)"),
    **error_examples(PROVIDER_NOT_FOUND, RATE_LIMITED, ErrorExample(
        502, "sso_provider_unavailable", "登录服务暂不可用（discovery），请稍后重试"), descriptions={
        502: "The provider failed (a page for browsers that ask for text/html, as every refusal here)"})})
async def start(key: str, request: Request, clients: Clients,
                next_: Annotated[str, Query(alias="next", max_length=2000)] = "/") -> Response:
    """Start signing in with a redirect provider (OIDC, DingTalk, WeCom, Feishu): 302 to its login
    page. ``next`` (a path on this site) is where the user lands afterwards."""
    settings = clients.settings
    # Each start holds a pending sign-in in Redis: a flood from one address is refused.
    starts = ratelimit.Limit("sso_starts", settings.rate_limit_sso_starts, settings.rate_limit_window_seconds)
    await ratelimit.check(clients.redis, starts, client_ip(request.scope))
    provider = await enabled_provider(clients, key, FLOWS)
    return await FLOWS[provider.type].start(request, clients, provider, safe_next(next_))


@router.get("/sso/{key}/callback", status_code=303, response_class=Response, responses={
    **redirect(303, "Signed in (session cookies set): to `next`", "The `next` given at the start (a path on this "
               "site)"),
    **error_examples(
        ErrorExample(400, "sso_state_invalid", "登录请求无效或已使用（请在同一浏览器中重新登录）",
                     (("state.unknown", "登录请求无效或已使用（请在同一浏览器中重新登录）"),)),
        ErrorExample(403, "sso_user_unknown", "没有与该账号对应的组织用户，请联系管理员"),
        ErrorExample(403, "sso_state_invalid", "登录请求已失效或不是从本浏览器发起的，请重新登录"),
        descriptions={400: "OIDC: a state that is unknown, used, expired or from another browser (a page for "
                           "browsers that ask for text/html, as every refusal here)",
                      403: "No org user for this person, the user left, or (DingTalk, WeCom, Feishu) a bad state"})})
async def callback(key: str, request: Request, clients: Clients) -> Response:
    """Where the provider sends the browser back (``code``/``authCode`` and ``state``): signs in
    and 303 to ``next``. Register ``<base_url>/auth/sso/<key>/callback`` with the provider."""
    provider = await enabled_provider(clients, key, FLOWS)
    return await FLOWS[provider.type].callback(request, clients, provider)
