"""Signing in with OpenID Connect (Keycloak, Authing, Azure AD, …): authorization code flow with
PKCE (S256), state and nonce, against any provider an admin configured at run time
(``edge.sso.configs.OidcConfig`` under ``PUT /api/v1/auth-providers/<key>``).

``GET /auth/sso/<key>/start?next=/path`` keeps a pending login (``edge.sso.pending``) and sends the
browser to the provider. ``GET /auth/sso/<key>/callback?code&state`` takes the pending login back
(once, in the same browser), exchanges the code, validates the ID token, finds the org user by
the provider's stable subject (linked on first sign-in by ``match_claim`` → ``match_field``, so an
e-mail change later keeps the same user and never creates one) and opens the session, landing on
``next``. Every refusal is audited and shown as a page (browsers) or the JSON error shape."""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import Query, Request
from google.protobuf import json_format
from pydantic import ValidationError
from redis.exceptions import RedisError
from starlette.responses import RedirectResponse, Response

from baobei.core.errors import DomainError, NotFound
from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from edge.clients import Clients as EdgeClients
from edge.deps import Clients
from edge.errors import RateLimited, ServiceUnavailable
from edge.signin import open_session, safe_next, sign_in_failed
from edge.sso import binding as browser_binding
from edge.sso import oidc_provider, pending
from edge.sso.configs import OidcConfig
from edge.sso.errors import SsoError, error_response

log = structlog.get_logger(__name__)
METHOD = "oidc"
MAX_NEXT = 2000
_NO_STORE = {"Cache-Control": "no-store"}


def callback_url(clients: EdgeClients, key: str) -> str:
    """The redirect URI an admin registers at the provider (also shown by the providers API)."""
    return f"{clients.settings.public_base_url()}/auth/sso/{key}/callback"


async def _provider(clients: EdgeClients, key: str, *, with_secrets: bool) -> tuple[OidcConfig, str]:
    try:
        p = await clients.identity.GetProvider(identity_pb2.GetProviderRequest(key=key, with_secrets=with_secrets))
    except NotFound as err:
        raise SsoError(404, "provider_not_found", f"登录方式 {key} 不存在",
                       f"sign-in provider {key} not found") from err
    if p.type != METHOD:
        raise SsoError(404, "provider_not_found", f"登录方式 {key} 不是 OIDC", f"sign-in provider {key} is not OIDC")
    if not p.enabled:
        raise SsoError(409, "provider_disabled", f"登录方式 {p.name or key} 已停用",
                       f"sign-in provider {key} is disabled")
    try:
        config = OidcConfig.model_validate(json_format.MessageToDict(p.config))
    except ValidationError as err:
        log.warning("oidc.config_invalid", provider=key, errors=str(err)[:300])
        raise SsoError(502, "provider_misconfigured", f"登录方式 {key} 的配置无效，请联系管理员",
                       f"sign-in provider {key} is misconfigured; ask an admin") from err
    secret = str(json_format.MessageToDict(p.secrets).get("client_secret", "")) if with_secrets else ""
    return config, secret


def _scopes(config: OidcConfig) -> str:
    return " ".join(dict.fromkeys(["openid", *config.scopes]))


async def start(key: str, request: Request, clients: Clients,
                next_path: Annotated[str, Query(alias="next", description="Where to land after signing in")] = "/",
                ) -> Response:
    """Start signing in with an OIDC provider: 302 to its sign-in page (state, nonce, PKCE S256).
    `next` must be a path on this site (anything else lands on `/`)."""
    land = safe_next(next_path if len(next_path) <= MAX_NEXT else "/")
    try:
        settings = clients.settings
        config, _ = await _provider(clients, key, with_secrets=False)
        async with oidc_provider.http_client(settings.oidc_http_timeout) as http:
            md = await oidc_provider.metadata(clients.redis, http, config.issuer, settings.oidc_metadata_ttl_seconds)
        binding = browser_binding.browser_value(request)
        state, login = await pending.begin(clients.redis, provider=key, next_path=land,
                                           redirect_uri=callback_url(clients, key), binding=binding)
    except RedisError:
        return error_response(request, ServiceUnavailable(), next_path=land)
    except (SsoError, DomainError) as err:
        if not isinstance(err, RateLimited):  # a flood of starts is not a flood of audit events
            await _refused(request, clients, key, err)
        return error_response(request, err, next_path=land)
    url = prepare_grant_uri(
        md.authorization_endpoint, client_id=config.client_id, response_type="code", redirect_uri=login.redirect_uri,
        scope=_scopes(config), state=state, nonce=login.nonce,
        code_challenge=create_s256_code_challenge(login.verifier), code_challenge_method="S256",
    )
    response = RedirectResponse(url, status_code=302, headers=_NO_STORE)
    browser_binding.bind(response, request, binding)
    return response


async def callback(key: str, request: Request, clients: Clients, code: str = "", state: str = "", error: str = "",
                   error_description: str = "") -> Response:
    """Where the provider sends the browser back: the sign-in is checked and the session opened
    (303 to the `next` given at start)."""
    land = "/"
    context: dict[str, str] = {}
    try:
        login = await pending.take(clients.redis, request, state=state, provider=key)
        if isinstance(login, str):
            if error:
                # The provider's refusal, from one that omits the state on errors (RFC 6749 wants
                # it; oidc-provider-mock leaves it out): shown, but not its free text, and as a
                # bad request rather than a provider failure: without our state it could come
                # from anyone.
                raise _provider_error(error, "", attributed=False)
            log.info("oidc.state_refused", provider=key, why=login)
            raise SsoError(400, "sso_state_invalid", "登录请求无效或已使用（请在同一浏览器中重新登录）",
                           "this sign-in is unknown, used or expired, or was started in another browser; sign in again",
                           field=f"state.{login}")
        land = login.next
        if error:
            raise _provider_error(error, error_description, attributed=True)
        if not code:
            raise SsoError(400, "sso_code_invalid", "缺少授权码", "the authorization code is missing")
        response = RedirectResponse(land, status_code=303, headers=_NO_STORE)
        await _finish(request, response, clients, key, login, code, context)
        return response
    except RedisError:
        return error_response(request, ServiceUnavailable(), next_path=land)
    except (SsoError, DomainError) as err:
        await _refused(request, clients, key, err, **context)
        return error_response(request, err, next_path=land)


class OidcFlow:
    """The OIDC flow behind the shared ``/auth/sso/{key}/start|callback`` (``edge.sso.router``)."""

    async def start(self, request: Request, clients: EdgeClients, provider: identity_pb2.Provider,
                    next_path: str) -> Response:
        return await start(provider.key, request, clients, next_path)

    async def callback(self, request: Request, clients: EdgeClients, provider: identity_pb2.Provider) -> Response:
        q = request.query_params
        return await callback(provider.key, request, clients, code=q.get("code", ""), state=q.get("state", ""),
                              error=q.get("error", ""), error_description=q.get("error_description", ""))


OIDC_FLOWS = {METHOD: OidcFlow()}


def _provider_error(error: str, description: str, *, attributed: bool) -> SsoError:
    """The provider's own refusal, passed on in words (its text is shown escaped, and shortened):
    the person said no (403), or the provider failed (502; 400 when nothing proves it came from
    the provider)."""
    error = "".join(c for c in error[:60] if c.isascii() and (c.isalnum() or c in "_.-")) or "error"
    said = f"{error}{': ' + description[:200] if description else ''}"
    if error == "access_denied":
        return SsoError(403, "sso_denied", f"登录服务拒绝了登录或您取消了授权（{said}）",
                        f"the provider denied the sign-in or you cancelled it ({said})")
    return SsoError(502 if attributed else 400, "sso_provider_error", f"登录服务返回错误：{said}",
                    f"the provider returned an error: {said}")


async def _finish(request: Request, response: Response, clients: EdgeClients, key: str, login: pending.PendingLogin,
                  code: str, context: dict[str, str]) -> None:
    settings = clients.settings
    ttl = settings.oidc_metadata_ttl_seconds
    config, secret = await _provider(clients, key, with_secrets=True)
    async with oidc_provider.http_client(settings.oidc_http_timeout) as http:
        md = await oidc_provider.metadata(clients.redis, http, config.issuer, ttl)
        tokens = await oidc_provider.exchange_code(http, md, config, secret, code=code, verifier=login.verifier,
                                                   redirect_uri=login.redirect_uri)
        access_token = str(tokens.get("access_token") or "")
        claims = await oidc_provider.validate_id_token(clients.redis, http, md, config, id_token=tokens["id_token"],
                                                       nonce=login.nonce, access_token=access_token, ttl=ttl)
        if config.match_claim not in claims and config.userinfo and md.userinfo_endpoint and access_token:
            extra = await oidc_provider.userinfo(http, md, access_token, claims["sub"])
            claims = {**extra, **claims}
    display = str(claims.get("email") or claims.get("preferred_username") or claims.get("name") or claims["sub"])
    context["login"] = display
    # The subject is qualified by the issuer: a provider key pointed at another issuer later
    # cannot reach users linked at the first one through a colliding sub.
    subject = f"{md.issuer}|{claims['sub']}"
    if len(subject) > oidc_provider.MAX_SUBJECT:
        raise oidc_provider.token_invalid("sub", "用户标识过长", "the subject is too long")
    value = claims.get(config.match_claim)
    match_value = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    # An address the provider says it never verified must not claim an org user's account.
    unverified = config.match_claim == "email" and claims.get("email_verified") is False
    try:
        resolved = await clients.identity.ResolveIdentity(identity_pb2.ResolveIdentityRequest(
            request_id=uuid.uuid4().hex, provider_key=key, subject=subject, match_field=config.match_field,
            match_value="" if unverified else match_value, display=display))
    except NotFound as err:
        if err.code == "sso_user_unknown" and unverified:
            raise SsoError(403, "sso_email_unverified", "该账号的邮箱未经登录服务验证，无法据此匹配用户",
                           "the provider has not verified this account's e-mail; it cannot identify a user") from err
        if err.code == "sso_user_unknown" and not match_value:
            raise SsoError(403, "sso_claim_missing", f"登录服务未提供 {config.match_claim}，无法匹配用户，请联系管理员",
                           f"the provider sent no {config.match_claim} claim to match a user by; ask an admin",
                           field=f"id_token.{config.match_claim}") from err
        raise
    context["user_id"] = resolved.user.id
    await open_session(request, response, clients, resolved.user, method=METHOD, provider=key)
    log.info("oidc.signed_in", provider=key, user_id=resolved.user.id, linked_now=resolved.linked_now)


async def _refused(request: Request, clients: EdgeClients, key: str, err: SsoError | DomainError, *,
                   login: str = "", user_id: str = "") -> None:
    reason = err.code + (f":{err.field}" if isinstance(err, SsoError) and err.field else "")
    await sign_in_failed(request, clients, method=METHOD, reason=reason, login=login, provider=key, user_id=user_id)
