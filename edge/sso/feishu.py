"""Feishu (飞书) sign-in through a custom app (企业自建应用) with web app (网页应用) ability.

* Browser / QR and in-app alike: ``https://open.feishu.cn/open-apis/authen/v1/authorize?app_id&
  redirect_uri&state`` (the 登录预授权码 page; inside the Feishu client it passes without asking);
  Feishu redirects back with ``code`` and ``state``. A page may also get a code from the client's
  JSAPI (``tt.requestAuthCode({appId})``) and post it to ``/auth/sso/<key>/code``.
* The code: ``POST /open-apis/authen/v1/oidc/access_token`` (``Authorization: Bearer
  <app_access_token>``, {grant_type: authorization_code, code}) → the user's token; codes are
  single use and live 5 minutes (errors 20001–20099: invalid, expired, used, another app's;
  20010: the user may not use the app). ``GET /open-apis/authen/v1/user_info`` (the user's token)
  → ``union_id``, ``open_id``, ``user_id``, ``name``, ``email`` / ``enterprise_email``, ``mobile``
  (user_id, e-mail and mobile only with the matching permissions).
* The app token: ``POST /open-apis/auth/v3/app_access_token/internal`` {app_id, app_secret}
  (7200 s); codes 99991661 / 99991663 / 99991664 mean the token is missing or no longer valid.

The identity link keeps the ``union_id`` (stable for the person across the tenant's apps);
``match_field: id`` compares the tenant ``user_id``. ``api_base`` / ``auth_base`` replace
open.feishu.cn (e.g. ``https://open.larksuite.com`` for Lark)."""

from __future__ import annotations

from typing import Any

from baobei.core.app_tokens import TokenRejected, with_app_token
from baobei.core.errors import Forbidden
from edge.sso.im import ImApp, Platform, PlatformUser, app_rejected, code_invalid, platform_error, with_query

OPEN = "https://open.feishu.cn"
TOKEN_INVALID = frozenset({99991661, 99991663, 99991664})
NO_APP_ACCESS = 20010


def _code(body: dict[str, Any]) -> int:
    try:
        return int(body.get("code", -1))
    except (TypeError, ValueError):
        return -1


class Feishu(Platform):
    type = "feishu"
    name = "飞书"
    inapp_redirect = True

    def api(self, app: ImApp) -> str:
        return (app.config.api_base or OPEN).rstrip("/")

    def authorize_url(self, app: ImApp, redirect_uri: str, state: str) -> str:
        return with_query((app.config.auth_base or OPEN).rstrip("/") + "/open-apis/authen/v1/authorize", {
            "app_id": app.config.app_id, "redirect_uri": redirect_uri, "state": state})

    def inapp_url(self, app: ImApp, redirect_uri: str, state: str) -> str:
        return self.authorize_url(app, redirect_uri, state)

    async def fetch_app_token(self, app: ImApp) -> tuple[str, int]:
        _, body = await app.http.request("POST", self.api(app) + "/open-apis/auth/v3/app_access_token/internal",
                                         json={"app_id": app.config.app_id, "app_secret": app.app_secret})
        if _code(body) != 0 or not body.get("app_access_token"):
            raise app_rejected(self.name, f"code {body.get('code')}")
        return str(body["app_access_token"]), int(body.get("expire") or 7200)

    async def user_from_redirect(self, app: ImApp, code: str) -> PlatformUser:
        async def exchange(token: str) -> dict[str, Any]:
            _, body = await app.http.request("POST", self.api(app) + "/open-apis/authen/v1/oidc/access_token",
                                             headers={"authorization": f"Bearer {token}"},
                                             json={"grant_type": "authorization_code", "code": code})
            if _code(body) in TOKEN_INVALID:
                raise TokenRejected()
            return body

        body = await with_app_token(app.tokens, exchange)
        if _code(body) == NO_APP_ACCESS:
            raise Forbidden("你没有使用该飞书应用的权限（应用可用范围），请联系管理员",
                            "you may not use this Feishu app (its availability); ask an admin",
                            code="sso_app_not_available")
        if 20000 < _code(body) < 20100:
            raise code_invalid(self.name)
        user_token = str((body.get("data") or {}).get("access_token") or "")
        if _code(body) != 0 or not user_token:
            raise platform_error(self.name, f"oidc/access_token code {body.get('code')}")
        status, info = await app.http.request("GET", self.api(app) + "/open-apis/authen/v1/user_info",
                                              headers={"authorization": f"Bearer {user_token}"})
        data = info.get("data") or {}
        union = str(data.get("union_id") or "")
        if _code(info) != 0 or not union:
            raise platform_error(self.name, f"user_info code {info.get('code')} HTTP {status}")
        return PlatformUser(subject=union, userid=str(data.get("user_id") or ""), display=str(data.get("name") or ""),
                            mobile=str(data.get("mobile") or ""),
                            email=str(data.get("email") or data.get("enterprise_email") or ""))

    async def user_from_inapp_code(self, app: ImApp, code: str) -> PlatformUser:
        return await self.user_from_redirect(app, code)

    async def match_value(self, app: ImApp, user: PlatformUser, field: str) -> str:
        return (user.mobile if field == "mobile" else user.email) or ""


PLATFORM = Feishu()
