"""DingTalk (钉钉) sign-in through an enterprise internal app (企业内部应用).

* Browser / QR: ``https://login.dingtalk.com/oauth2/auth?redirect_uri&response_type=code&client_id=
  <AppKey>&scope=openid corpid&state&prompt=consent``; DingTalk redirects back with ``authCode``
  (and ``state``). ``POST https://api.dingtalk.com/v1.0/oauth2/userAccessToken`` {clientId,
  clientSecret, code, grantType: authorization_code} gives the user's token (and the chosen
  ``corpId``); ``GET /v1.0/contact/users/me`` (header ``x-acs-dingtalk-access-token``) their
  ``unionId``; ``POST https://oapi.dingtalk.com/topapi/user/getbyunionid`` their ``userid`` in the
  organisation (errcode 60121: not a member).
* In-app (免登): the page calls the JSAPI ``requestAuthCode({corpId})``; the code goes to
  ``POST https://oapi.dingtalk.com/topapi/v2/user/getuserinfo?access_token=`` {code} → userid,
  unionid, name (errcode 40078: the code does not exist / was used / expired).
* The app token: ``GET https://oapi.dingtalk.com/gettoken?appkey&appsecret`` (7200 s); errcode
  88 / 40014 / 42001 mean the token is no longer valid.
* E-mail / mobile for matching: ``POST /topapi/v2/user/get`` {userid} → ``email`` (else
  ``org_email``, as org sync maps it) / ``mobile``.

The identity link keeps the ``unionId`` (stable for the person in the organisation, and given by
both flows); org sync uses the ``userid`` as Baobei user id, so ``match_field: id`` compares that.
``api_base`` replaces both API hosts (oapi.dingtalk.com and api.dingtalk.com), ``auth_base``
login.dingtalk.com."""

from __future__ import annotations

from typing import Any

from baobei.core.app_tokens import TokenRejected, with_app_token
from edge.sso.im import (
    ImApp,
    Platform,
    PlatformUser,
    app_rejected,
    code_invalid,
    platform_error,
    user_unknown,
    with_query,
)

OAPI = "https://oapi.dingtalk.com"
API = "https://api.dingtalk.com"
LOGIN = "https://login.dingtalk.com"
TOKEN_INVALID = frozenset({88, 40014, 42001})
CODE_INVALID = 40078
NOT_MEMBER = 60121


def _errcode(body: dict[str, Any]) -> int:
    try:
        return int(body.get("errcode", -1))
    except (TypeError, ValueError):
        return -1


class DingTalk(Platform):
    type = "dingtalk"
    name = "钉钉"
    code_params = ("authCode", "code")

    def oapi(self, app: ImApp) -> str:
        return (app.config.api_base or OAPI).rstrip("/")

    def api(self, app: ImApp) -> str:
        return (app.config.api_base or API).rstrip("/")

    def authorize_url(self, app: ImApp, redirect_uri: str, state: str) -> str:
        return with_query((app.config.auth_base or LOGIN).rstrip("/") + "/oauth2/auth", {
            "redirect_uri": redirect_uri, "response_type": "code", "client_id": app.config.app_id,
            "scope": "openid corpid", "state": state, "prompt": "consent"})

    async def fetch_app_token(self, app: ImApp) -> tuple[str, int]:
        _, body = await app.http.request("GET", self.oapi(app) + "/gettoken",
                                         params={"appkey": app.config.app_id, "appsecret": app.app_secret})
        if _errcode(body) != 0 or not body.get("access_token"):
            raise app_rejected(self.name, f"errcode {body.get('errcode')}")
        return str(body["access_token"]), int(body.get("expires_in") or 7200)

    async def _topapi(self, app: ImApp, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A ``topapi`` call with the app token (refreshed once when DingTalk rejects it)."""

        async def call(token: str) -> dict[str, Any]:
            _, body = await app.http.request("POST", self.oapi(app) + path, params={"access_token": token},
                                             json=payload)
            if _errcode(body) in TOKEN_INVALID:
                raise TokenRejected()
            return body

        return await with_app_token(app.tokens, call)

    async def user_from_redirect(self, app: ImApp, code: str) -> PlatformUser:
        await app.tokens.get()  # bad app credentials show as such, not as a bad code
        status, body = await app.http.request("POST", self.api(app) + "/v1.0/oauth2/userAccessToken", json={
            "clientId": app.config.app_id, "clientSecret": app.app_secret, "code": code,
            "grantType": "authorization_code"})
        if status >= 400 or not body.get("accessToken"):
            raise code_invalid(self.name)
        corp = str(body.get("corpId") or "")
        if app.config.corp_id and corp and corp != app.config.corp_id:
            raise user_unknown(self.name)  # signed in with another organisation
        status, me = await app.http.request("GET", self.api(app) + "/v1.0/contact/users/me",
                                            headers={"x-acs-dingtalk-access-token": str(body["accessToken"])})
        union = str(me.get("unionId") or "")
        if status >= 400 or not union:
            raise platform_error(self.name, f"contact/users/me HTTP {status} {me.get('code', '')}".strip())
        found = await self._topapi(app, "/topapi/user/getbyunionid", {"unionid": union})
        if _errcode(found) == NOT_MEMBER:
            raise user_unknown(self.name)
        userid = str((found.get("result") or {}).get("userid") or "")
        if _errcode(found) != 0 or not userid:
            raise platform_error(self.name, f"getbyunionid errcode {found.get('errcode')}")
        return PlatformUser(subject=union, userid=userid, display=str(me.get("nick") or ""))

    async def user_from_inapp_code(self, app: ImApp, code: str) -> PlatformUser:
        body = await self._topapi(app, "/topapi/v2/user/getuserinfo", {"code": code})
        if _errcode(body) == CODE_INVALID:
            raise code_invalid(self.name)
        result = body.get("result") or {}
        union, userid = str(result.get("unionid") or ""), str(result.get("userid") or "")
        if _errcode(body) != 0 or not union or not userid:
            raise platform_error(self.name, f"getuserinfo errcode {body.get('errcode')}")
        return PlatformUser(subject=union, userid=userid, display=str(result.get("name") or ""))

    async def match_value(self, app: ImApp, user: PlatformUser, field: str) -> str:
        body = await self._topapi(app, "/topapi/v2/user/get", {"userid": user.userid, "language": "zh_CN"})
        if _errcode(body) == NOT_MEMBER:
            raise user_unknown(self.name)
        if _errcode(body) != 0:
            raise platform_error(self.name, f"user/get errcode {body.get('errcode')}")
        result = body.get("result") or {}
        if field == "mobile":
            return str(result.get("mobile") or "")
        return str(result.get("email") or result.get("org_email") or "")


PLATFORM = DingTalk()
