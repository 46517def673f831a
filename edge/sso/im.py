"""What DingTalk, WeCom and Feishu sign-in share: the app of a provider, calls to the platform's
server API, the errors a sign-in answers with, and the four flows —

* QR / browser: ``start`` (302 to the platform's login page with a state) and ``callback``
  (code → platform user → org user → session → 303 to ``next``), reached through the dispatcher
  in :mod:`edge.sso.router`;
* in-app (免登, inside the DingTalk / WeCom / Feishu client): ``inapp`` (the app's homepage URL:
  a tiny page that asks the client's JS bridge for a code, or a redirect to the platform's in-client
  OAuth page) and ``code`` (a code the page obtained → session, JSON).

Each platform module (:mod:`edge.sso.dingtalk`, :mod:`edge.sso.wecom`, :mod:`edge.sso.feishu`)
implements :class:`Platform`: its URLs, how a code becomes a :class:`PlatformUser`, and which
answers mean "the app token expired"."""

from __future__ import annotations

import abc
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from google.protobuf import json_format
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from baobei.core.app_tokens import AppTokens, TokenRejected, cache_key
from baobei.core.errors import Conflict, DomainError, NotFound, Unauthenticated
from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge.clients import Clients
from edge.errors import UpstreamFailed
from edge.signin import open_session, safe_next, sign_in_failed
from edge.sso import binding as browser_binding
from edge.sso import state as sso_state
from edge.sso.configs import CONFIG_MODELS, ImConfig

log = structlog.get_logger(__name__)
HTTP_TIMEOUT_SECONDS = 10.0
_JSON = {"content-type": "application/json; charset=utf-8"}


# ---------------------------------------------------------------- errors


def code_invalid(name: str) -> Unauthenticated:
    return Unauthenticated(f"{name}登录码无效、已使用或已过期，请重新登录",
                           f"the {name} sign-in code is invalid, used or expired; sign in again",
                           code="sso_code_invalid")


def user_unknown(name: str) -> NotFound:
    return NotFound(f"该{name}账号不是本企业的成员，或没有对应的组织用户，请联系管理员",
                    f"this {name} account is not a member of the organisation; ask an admin",
                    code="sso_user_unknown")


def platform_error(name: str, detail: str) -> UpstreamFailed:
    return UpstreamFailed(f"{name}接口返回错误（{detail}），请稍后重试或联系管理员",
                          f"{name} API error ({detail}); retry later or ask an admin", code="sso_platform_error")


def app_rejected(name: str, detail: str) -> UpstreamFailed:
    return UpstreamFailed(f"{name}拒绝了应用凭证（{detail}），请管理员检查 AppKey/Secret 配置",
                          f"{name} rejected the app credentials ({detail}); an admin must check them",
                          code="sso_app_rejected")


def cancelled(name: str) -> Unauthenticated:
    return Unauthenticated(f"{name}授权未完成（已取消或被拒绝）", f"{name} authorisation was cancelled or refused",
                           code="sso_cancelled")


# ---------------------------------------------------------------- the app and its API


@dataclass(frozen=True)
class PlatformUser:
    """Who the platform says signed in. ``subject`` is the stable id the identity link keeps;
    ``userid`` the platform's user id in the organisation (what org sync uses as Baobei id)."""

    subject: str
    userid: str
    display: str = ""
    mobile: str | None = None  # None: not known yet (ask the user detail API)
    email: str | None = None
    ticket: str = ""  # WeCom user_ticket (snsapi_privateinfo): its detail API gives mobile / e-mail


class Http:
    """Calls to one platform: JSON in and out; a transport failure or a non-JSON answer is a 502."""

    def __init__(self, client: httpx.AsyncClient, name: str) -> None:
        self.client, self.name = client, name

    async def request(self, method: str, url: str, *, params: dict[str, str] | None = None,
                      json: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                      ) -> tuple[int, dict[str, Any]]:
        try:
            resp = await self.client.request(method, url, params=params, json=json,
                                             headers={**(_JSON if json is not None else {}), **(headers or {})})
        except httpx.HTTPError as err:
            log.warning("sso.platform.unreachable", platform=self.name, error=type(err).__name__)
            raise UpstreamFailed(f"无法连接{self.name}，请稍后重试", f"cannot reach {self.name}; retry later",
                                 code="sso_platform_unavailable") from err
        if resp.status_code >= 500:
            raise UpstreamFailed(f"{self.name}暂不可用（HTTP {resp.status_code}），请稍后重试",
                                 f"{self.name} is unavailable (HTTP {resp.status_code}); retry later",
                                 code="sso_platform_unavailable")
        try:
            body = resp.json()
        except ValueError:
            raise platform_error(self.name, f"HTTP {resp.status_code}") from None
        if not isinstance(body, dict):
            raise platform_error(self.name, f"HTTP {resp.status_code}")
        return resp.status_code, body


@dataclass
class ImApp:
    """A configured provider of an IM type, ready to call its platform."""

    key: str
    type: str
    config: ImConfig
    app_secret: str
    http: Http
    tokens: AppTokens = field(init=False)


class Platform(abc.ABC):
    type: str
    name: str  # Chinese name used in messages: 钉钉 / 企业微信 / 飞书
    # Callback query parameters that may carry the code (DingTalk sends authCode).
    code_params: tuple[str, ...] = ("code",)
    # In-app: True — the platform's OAuth page inside its client (``inapp_url``); False — a page
    # that asks the client's JS bridge for a code (DingTalk).
    inapp_redirect = False

    @abc.abstractmethod
    def authorize_url(self, app: ImApp, redirect_uri: str, state: str) -> str:
        """The platform's login page for a browser (QR code / account login)."""

    def inapp_url(self, app: ImApp, redirect_uri: str, state: str) -> str:
        """The platform's OAuth page inside its own client (when ``inapp_redirect``)."""
        raise NotImplementedError

    @abc.abstractmethod
    async def fetch_app_token(self, app: ImApp) -> tuple[str, int]:
        """(token, expires in seconds)."""

    @abc.abstractmethod
    async def user_from_redirect(self, app: ImApp, code: str) -> PlatformUser:
        """The user behind the code the login page redirected back with."""

    @abc.abstractmethod
    async def user_from_inapp_code(self, app: ImApp, code: str) -> PlatformUser:
        """The user behind a code the client's JS bridge gave the in-app page."""

    @abc.abstractmethod
    async def match_value(self, app: ImApp, user: PlatformUser, field: str) -> str:
        """The attribute compared with the org user's ``field`` (email / mobile) on first sign-in."""


# ---------------------------------------------------------------- loading a provider


def load_app(provider: identity_pb2.Provider, clients: Clients, http: httpx.AsyncClient, platform: Platform) -> ImApp:
    model = CONFIG_MODELS[provider.type][0]
    try:
        config = model.model_validate(json_format.MessageToDict(provider.config))
    except ValidationError as err:
        raise incomplete(provider.key) from err
    assert isinstance(config, ImConfig)
    secret = str(json_format.MessageToDict(provider.secrets).get("app_secret") or "")
    if not secret:
        raise incomplete(provider.key)
    app = ImApp(key=provider.key, type=provider.type, config=config, app_secret=secret, http=Http(http, platform.name))
    app.tokens = AppTokens(clients.redis, cache_key(provider.type, config.api_base, config.app_id, secret),
                           lambda: platform.fetch_app_token(app))
    return app


def incomplete(key: str) -> Conflict:
    return Conflict(f"登录方式 {key} 未配置完整（应用 ID / Secret），请联系管理员",
                    f"sign-in provider {key} is not fully configured (app id / secret)", code="sso_provider_incomplete")


def redirect_uri(clients: Clients, key: str) -> str:
    return f"{clients.settings.public_base_url()}/auth/sso/{key}/callback"


def with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}"


# ---------------------------------------------------------------- the flows


class ImFlow:
    """The sign-in flows of one platform (shared by every provider of its type)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def _client(self) -> httpx.AsyncClient:
        # Redirects are never followed: the platform APIs answer directly.
        return httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)

    async def start(self, request: Request, clients: Clients, provider: identity_pb2.Provider,
                    next_path: str) -> Response:
        async with self._client() as http:
            app = load_app(provider, clients, http, self.platform)
            response = RedirectResponse("/", status_code=302)
            state = await sso_state.issue(request, response, provider=provider.key, next_path=next_path)
            response.headers["location"] = self.platform.authorize_url(app, redirect_uri(clients, app.key), state)
            return response

    async def inapp(self, request: Request, clients: Clients, provider: identity_pb2.Provider,
                    next_path: str) -> Response | ImApp:
        """A redirect to the platform's in-client OAuth page, or the app when the caller is to
        render the JS-bridge page."""
        async with self._client() as http:
            app = load_app(provider, clients, http, self.platform)
            if not self.platform.inapp_redirect:
                return app
            response = RedirectResponse("/", status_code=302)
            state = await sso_state.issue(request, response, provider=provider.key, next_path=next_path)
            response.headers["location"] = self.platform.inapp_url(app, redirect_uri(clients, app.key), state)
            return response

    async def callback(self, request: Request, clients: Clients, provider: identity_pb2.Provider) -> Response:
        query = request.query_params
        try:
            saved = await sso_state.consume(request, provider=provider.key, state=query.get("state", ""))
            code = next((query[p] for p in self.platform.code_params if query.get(p)), "")
            if not code:
                raise cancelled(self.platform.name)
            async with self._client() as http:
                app = load_app(provider, clients, http, self.platform)
                user = await self._guarded(self.platform.user_from_redirect(app, code))
                response: Response = RedirectResponse(safe_next(saved.next), status_code=303)
                await self._finish(request, response, clients, app, user)
        except DomainError as err:
            await sign_in_failed(request, clients, method=provider.type, reason=err.code, provider=provider.key)
            raise
        browser_binding.forget(response, request)
        return response

    async def code(self, request: Request, response: Response, clients: Clients,
                   provider: identity_pb2.Provider, code: str, next_path: str) -> dict[str, Any]:
        try:
            async with self._client() as http:
                app = load_app(provider, clients, http, self.platform)
                user = await self._guarded(self.platform.user_from_inapp_code(app, code))
                body = await self._finish(request, response, clients, app, user)
        except DomainError as err:
            await sign_in_failed(request, clients, method=provider.type, reason=err.code, provider=provider.key)
            raise
        return {**body, "next": safe_next(next_path)}

    async def _guarded(self, call: Any) -> PlatformUser:
        try:
            user: PlatformUser = await call
        except TokenRejected:
            # Rejected again right after a refresh: the app lacks the permission or is broken.
            raise platform_error(self.platform.name, "app access token rejected twice") from None
        return user

    async def _finish(self, request: Request, response: Response, clients: Clients, app: ImApp,
                      user: PlatformUser) -> dict[str, Any]:
        match = app.config.match_field
        if match == "id":
            value = user.userid
        else:
            try:
                value = await self.platform.match_value(app, user, match)
            except TokenRejected:
                raise platform_error(self.platform.name, "app access token rejected twice") from None
        if not value:
            # The app may lack the permission to read it; a user linked before still signs in.
            log.warning("sso.match_value.missing", provider=app.key, field=match)
        resolved = await clients.identity.ResolveIdentity(identity_pb2.ResolveIdentityRequest(
            request_id=uuid.uuid4().hex, provider_key=app.key, subject=user.subject, match_field=match,
            match_value=value, display=(user.display or user.userid)[:320], platform_user_id=user.userid))
        found: registry_pb2.User = resolved.user
        return await open_session(request, response, clients, found, method=app.type, provider=app.key)
