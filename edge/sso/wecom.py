"""WeCom (企业微信) sign-in through a self-built app (自建应用).

* Browser / QR: ``https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=
  <CorpID>&agentid=<AgentId>&redirect_uri&state`` (企业微信授权登录); WeCom redirects back with
  ``code`` and ``state`` (no code: the user refused).
* In-app (inside the WeCom client): the platform's web authorisation, ``https://open.weixin.qq.com/
  connect/oauth2/authorize?appid=<CorpID>&redirect_uri&response_type=code&scope&state&agentid
  #wechat_redirect`` — silent with ``snsapi_base``; ``snsapi_privateinfo`` (asked when matching by
  e-mail / mobile) also yields a ``user_ticket`` for the member's contact details.
* Both codes: ``GET https://qyapi.weixin.qq.com/cgi-bin/auth/getuserinfo?access_token&code`` →
  ``userid`` (a member) or ``openid`` (not a member); errcode 40029: invalid code (used, expired
  after 5 minutes, or issued to another app).
* The app token: ``GET /cgi-bin/gettoken?corpid&corpsecret`` (7200 s); errcode 40014 / 42001 /
  41001 mean the token is no longer valid.
* E-mail / mobile for matching: ``POST /cgi-bin/auth/getuserdetail`` {user_ticket} when WeCom gave
  a ticket, else ``GET /cgi-bin/user/get?userid`` → ``email`` (else ``biz_mail``, as org sync maps
  it) / ``mobile`` (apps created after 2022-06 get these only through the ticket: prefer
  ``match_field: id``).

The identity link keeps the ``userid`` (WeCom's stable member id in the corp, the Baobei user id
after org sync). ``auth_base`` replaces both login hosts, ``api_base`` qyapi.weixin.qq.com."""

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

API = "https://qyapi.weixin.qq.com"
QR_LOGIN = "https://login.work.weixin.qq.com"
WEB_AUTH = "https://open.weixin.qq.com"
TOKEN_INVALID = frozenset({40014, 41001, 42001})
CODE_INVALID = 40029
NOT_MEMBER = frozenset({60111, 46004})


def _errcode(body: dict[str, Any]) -> int:
    try:
        return int(body.get("errcode", -1))
    except (TypeError, ValueError):
        return -1


class WeCom(Platform):
    type = "wecom"
    name = "企业微信"
    inapp_redirect = True

    def api(self, app: ImApp) -> str:
        return (app.config.api_base or API).rstrip("/")

    def authorize_url(self, app: ImApp, redirect_uri: str, state: str) -> str:
        return with_query((app.config.auth_base or QR_LOGIN).rstrip("/") + "/wwlogin/sso/login", {
            "login_type": "CorpApp", "appid": app.config.app_id, "agentid": app.config.agent_id,
            "redirect_uri": redirect_uri, "state": state})

    def inapp_url(self, app: ImApp, redirect_uri: str, state: str) -> str:
        scope = "snsapi_base" if app.config.match_field == "id" else "snsapi_privateinfo"
        return with_query((app.config.auth_base or WEB_AUTH).rstrip("/") + "/connect/oauth2/authorize", {
            "appid": app.config.app_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope,
            "state": state, "agentid": app.config.agent_id}) + "#wechat_redirect"

    async def fetch_app_token(self, app: ImApp) -> tuple[str, int]:
        _, body = await app.http.request("GET", self.api(app) + "/cgi-bin/gettoken",
                                         params={"corpid": app.config.app_id, "corpsecret": app.app_secret})
        if _errcode(body) != 0 or not body.get("access_token"):
            raise app_rejected(self.name, f"errcode {body.get('errcode')}")
        return str(body["access_token"]), int(body.get("expires_in") or 7200)

    async def _call(self, app: ImApp, method: str, path: str, *, params: dict[str, str] | None = None,
                    json: dict[str, Any] | None = None) -> dict[str, Any]:
        async def call(token: str) -> dict[str, Any]:
            _, body = await app.http.request(method, self.api(app) + path,
                                             params={"access_token": token, **(params or {})}, json=json)
            if _errcode(body) in TOKEN_INVALID:
                raise TokenRejected()
            return body

        return await with_app_token(app.tokens, call)

    async def user_from_redirect(self, app: ImApp, code: str) -> PlatformUser:
        body = await self._call(app, "GET", "/cgi-bin/auth/getuserinfo", params={"code": code})
        if _errcode(body) == CODE_INVALID:
            raise code_invalid(self.name)
        if _errcode(body) != 0:
            raise platform_error(self.name, f"getuserinfo errcode {body.get('errcode')}")
        userid = str(body.get("userid") or body.get("UserId") or "")
        if not userid:
            raise user_unknown(self.name)  # openid / external_userid: not a member of the corp
        return PlatformUser(subject=userid, userid=userid, display=userid, ticket=str(body.get("user_ticket") or ""))

    async def user_from_inapp_code(self, app: ImApp, code: str) -> PlatformUser:
        return await self.user_from_redirect(app, code)

    async def match_value(self, app: ImApp, user: PlatformUser, field: str) -> str:
        if user.ticket:
            body = await self._call(app, "POST", "/cgi-bin/auth/getuserdetail", json={"user_ticket": user.ticket})
        else:
            body = await self._call(app, "GET", "/cgi-bin/user/get", params={"userid": user.userid})
        if _errcode(body) in NOT_MEMBER:
            raise user_unknown(self.name)
        if _errcode(body) != 0:
            raise platform_error(self.name, f"user detail errcode {body.get('errcode')}")
        if field == "mobile":
            return str(body.get("mobile") or "")
        return str(body.get("email") or body.get("biz_mail") or "")


PLATFORM = WeCom()
