"""Signing in with LDAP / Active Directory: ``POST /auth/ldap/{key}/login``.

A script or the web app posts JSON ``{login, password}`` and gets the session (cookies + body, as
every sign-in); the sign-in page posts an HTML form (``login``, ``password``, ``next``) and is
sent on with 303 — to ``next`` (a path on this site) once signed in, back to
``/signin?error=<code>&provider=<key>`` when refused. The directory check (edge/sso/ldap_directory.py)
runs in a thread; the person is then mapped to exactly one org user by the registry
(``ResolveIdentity``: linked by subject, or matched once on ``match_field``).

Guessing is limited per client IP (``rate_limit_login_failures`` refused attempts per window;
the directory's own lockout policy still applies), every refusal is audited with its reason, and a
cross-site form post is refused (login CSRF: an ``Origin`` that is not this site)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from google.protobuf import json_format
from pydantic import ConfigDict, Field, ValidationError

from baobei.core.errors import DomainError, FieldViolation, Forbidden, NotFound, ValidationFailed
from baobei.core.settings import Settings
from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from edge import json_body, ratelimit
from edge.client_address import client_ip
from edge.deps import Clients
from edge.errors import RateLimited, ServiceUnavailable, UpstreamFailed, validation_failed
from edge.openapi_examples import ErrorExample, error_examples, redirect
from edge.schemas import ERROR_RESPONSES, ErrorResponse, Model
from edge.schemas_identity import SignInResult
from edge.signin import open_session, safe_next, sign_in_failed
from edge.sso.configs import LdapConfig, LdapSecrets
from edge.sso.ldap_directory import MAX_LOGIN, LdapMisconfigured, authenticate

METHOD = "ldap"
SIGNIN_PAGE = "/signin"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_NOT_GUESSES = frozenset({"provider_not_found", "provider_disabled"})


class LdapLoginIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"login": "zhangsan", "password": "correct horse battery staple"},
        {"login": "zhangsan", "password": "correct horse battery staple",
         "next": "/projects/7c9e6679f4c84b8e9a3b2d1c0e5f4a3b"},
    ]})

    login: str = Field(min_length=1, max_length=MAX_LOGIN, examples=["zhangsan"],
                       description="uid / sAMAccountName / … as the provider's user_filter expects")
    password: str = Field(default="", max_length=1024, description="Never empty (refused before any bind)")
    next: str | None = Field(default=None, max_length=2048,
                             description="Form posts: where to go once signed in (a path on this site)")


_LOGIN_SCHEMA = LdapLoginIn.model_json_schema()
router = APIRouter(prefix="/auth", tags=["sign-in"], responses={
    **ERROR_RESPONSES,
    502: {"model": ErrorResponse, "description": "The provider is misconfigured (ldap_bind_failed, ldap_tls_failed, "
                                                 "ldap_config_invalid)"},
    503: {"model": ErrorResponse, "description": "The LDAP server cannot be reached (ldap_unavailable)"},
})


@router.post(
    "/ldap/{key}/login", response_model=SignInResult,
    responses={
        **redirect(303, "Form posts: on to `next` when signed in, else back to /signin?error=<code>&provider=<key>",
                   "`next` (a path on this site), or `/signin?error=<code>&provider=<key>` after a refusal"),
        **error_examples(
            ErrorExample(401, "invalid_credentials", "用户名或密码错误"),
            ErrorExample(404, "sso_user_unknown", "没有与该账号对应的组织用户，请联系管理员"),
            ErrorExample(403, "provider_disabled", "登录方式 corp-ldap 已停用"),
            ErrorExample(503, "ldap_unavailable", "无法连接 LDAP 服务器，请稍后重试"),
            descriptions={503: "The LDAP server cannot be reached (ldap_unavailable)"}),
    },
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": _LOGIN_SCHEMA},
        "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
    }}},
)
async def ldap_login(key: str, request: Request, response: Response, clients: Clients) -> Any:
    """Sign in with an LDAP / Active Directory account of provider `key`. 401 `invalid_credentials`
    for a wrong password and an unknown login alike; 404 `sso_user_unknown` when no org user
    matches; 403 `user_left` / `provider_disabled`; 503 `ldap_unavailable`; 502 for settings the
    admin must fix. Limited per client IP (429)."""
    form = request.headers.get("content-type", "").lower().startswith(_FORMS)
    settings: Settings = request.app.state.settings  # this edge's own (its limits, its base URL)
    _check_origin(request, settings)
    # One budget per client IP with password sign-ins: a guesser cannot switch methods for more tries.
    limit = ratelimit.Limit("login_failures", settings.rate_limit_login_failures,
                            settings.rate_limit_window_seconds)
    login, next_path = "", None
    try:
        await ratelimit.check(clients.redis, limit, client_ip(request.scope), consume=False)
        body = await _read(request, form)
        login, next_path = body.login, body.next
        target: Response = RedirectResponse(safe_next(next_path), status_code=303) if form else response
        result = await _sign_in(key, body, request, target, clients)
    except DomainError as err:
        if not isinstance(err, RateLimited | ValidationFailed):
            await sign_in_failed(request, clients, method=METHOD, reason=getattr(err, "reason", "") or err.code,
                                 login=login, provider=key)
            if _guess(err):
                with contextlib.suppress(RateLimited):  # counted; this answer stays the refusal itself
                    await ratelimit.check(clients.redis, limit, client_ip(request.scope))
        if not form:
            raise
        query = {"error": err.code, "provider": key, **({"next": safe_next(next_path)} if next_path else {})}
        return RedirectResponse(f"{SIGNIN_PAGE}?{urlencode(query)}", status_code=303)
    return target if form else result


def _guess(err: DomainError) -> bool:
    """Refusals that count against the address: credentials or a person tried, not an outage, a
    misconfiguration or a provider that is not there."""
    return not isinstance(err, ServiceUnavailable | UpstreamFailed) and err.code not in _NOT_GUESSES


async def _sign_in(key: str, body: LdapLoginIn, request: Request, response: Response,
                   clients: Clients) -> dict[str, Any]:
    config, secrets = await _provider(key, clients)
    person = await asyncio.to_thread(authenticate, config, secrets, body.login, body.password)
    resolved = await clients.identity.ResolveIdentity(identity_pb2.ResolveIdentityRequest(
        request_id=uuid.uuid4().hex, provider_key=key, subject=person.subject, match_field=config.match_field,
        match_value=person.match_value, display=body.login.strip()))
    return await open_session(request, response, clients, resolved.user, method=METHOD, provider=key)


async def _provider(key: str, clients: Clients) -> tuple[LdapConfig, LdapSecrets]:
    """The enabled LDAP provider ``key`` with its secrets; another type reads as unknown."""
    try:
        p = await clients.identity.GetProvider(identity_pb2.GetProviderRequest(key=key, with_secrets=True))
    except NotFound:
        p = None
    if p is None or p.type != METHOD:
        raise NotFound(f"LDAP 登录方式 {key} 不存在", f"LDAP sign-in provider {key} not found",
                       code="provider_not_found")
    if not p.enabled:
        raise Forbidden(f"登录方式 {key} 已停用", f"sign-in provider {key} is disabled", code="provider_disabled")
    try:
        config = LdapConfig.model_validate(json_format.MessageToDict(p.config))
        stored = json_format.MessageToDict(p.secrets)
        secrets = LdapSecrets.model_validate({k: v for k, v in stored.items() if k in LdapSecrets.model_fields})
    except ValidationError as err:  # saved under older rules: the admin must PUT it again
        raise LdapMisconfigured("ldap_config_invalid", f"LDAP 登录方式 {key} 的配置无效，请管理员重新保存",
                                f"the settings of LDAP provider {key} are invalid: save them again", str(err)) from err
    return config, secrets


async def _read(request: Request, form: bool) -> LdapLoginIn:
    """The login from a JSON body or a form post (422 naming the field otherwise)."""
    data: Any
    if form:
        data = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    else:
        try:
            data = json_body.parse(await request.body())
        except ValueError:
            problem = FieldViolation("body", "请求体须为 JSON 或表单", "the body must be JSON or a form")
            raise ValidationFailed([problem]) from None
    if not isinstance(data, dict):
        raise ValidationFailed([FieldViolation("body", "请求体须为对象", "the body must be an object")])
    try:
        return LdapLoginIn.model_validate(data)
    except ValidationError as err:
        raise validation_failed([dict(e) for e in err.errors()]) from None


def _check_origin(request: Request, settings: Settings) -> None:
    """A browser names the page a POST comes from (``Origin``); a sign-in posted from another site
    would sign the victim's browser into the attacker's account (login CSRF)."""
    origin = request.headers.get("origin", "").strip()
    if not origin:
        return  # not a browser, or one that names no origin: nothing to compare
    own = {request.headers.get("host", "").lower(), urlsplit(settings.public_base_url()).netloc.lower()}
    if urlsplit(origin).netloc.lower() not in own - {""}:
        raise Forbidden("登录请求来自其他站点", "sign-in posted from another site", code="origin_mismatch")
