"""DingTalk login stand-in: the OAuth login page (login.dingtalk.com), the new-style API
(api.dingtalk.com) and the ``oapi`` endpoints a sign-in calls, on one loopback server.

Checked as DingTalk checks them:
* ``GET /oauth2/auth``: ``client_id`` is a known AppKey, ``response_type=code``, ``scope``
  includes ``openid``, ``prompt=consent``, ``redirect_uri`` on a registered domain (else an error
  page, HTTP 400); the person at the page (``scan_as``) → 302 ``redirect_uri?authCode=…&state=…``.
* ``POST /v1.0/oauth2/userAccessToken`` (JSON): clientId/clientSecret pair, grantType
  ``authorization_code``, the authCode single use, 5 minutes, issued to that clientId → 200
  {accessToken, refreshToken, expireIn, corpId}; else HTTP 400 {code, message}.
* ``GET /v1.0/contact/users/me``: header ``x-acs-dingtalk-access-token`` a live user token → {nick,
  unionId, openId, mobile?, stateCode}; else 401 {code: InvalidAuthentication}.
* ``GET /gettoken?appkey&appsecret`` → {errcode 0, access_token, expires_in} (the same token
  while it lives); a wrong pair → errcode 40089.
* ``POST /topapi/...?access_token=`` (JSON body): unknown token → errcode 40014, expired →
  errcode 88 with sub_code 42001; ``user/getbyunionid`` {unionid} → result.userid (60121 for
  someone outside the organisation); ``v2/user/get`` {userid} → result with mobile, email,
  org_email (60121 unknown); ``v2/user/getuserinfo`` {code} → result {userid, unionid, name, …}
  for a JSAPI code issued to this app's organisation, single use, 5 minutes (else 40078)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from tests.standins._http import Refuse, Reply, Request
from tests.standins._login import LoginStandIn, Person, redirect


def _err(errcode: int, errmsg: str, **more: Any) -> Refuse:
    return Refuse(f"errcode:{errcode}", Reply(200, {"errcode": errcode, "errmsg": errmsg, **more}))


def _bad(status: int, code: str, message: str) -> Refuse:
    return Refuse(code, Reply(status, {"requestid": secrets.token_hex(8), "code": code, "message": message}))


class DingTalkLoginStandIn(LoginStandIn):
    default_errcode = -1

    def __init__(self, *, redirect_hosts: tuple[str, ...] = ("edge.test",)) -> None:
        super().__init__()
        self.corp_id = "ding" + secrets.token_hex(8)
        self.apps: dict[str, str] = {}
        self.redirect_hosts = set(redirect_hosts)
        self.user_tokens: dict[str, tuple[Person, float]] = {}
        self.routes = {
            ("GET", "/oauth2/auth"): self.login_page,
            ("POST", "/v1.0/oauth2/userAccessToken"): self.user_access_token,
            ("GET", "/v1.0/contact/users/me"): self.users_me,
            ("GET", "/gettoken"): self.gettoken,
            ("POST", "/topapi/user/getbyunionid"): self.getbyunionid,
            ("POST", "/topapi/v2/user/get"): self.user_get,
            ("POST", "/topapi/v2/user/getuserinfo"): self.getuserinfo,
        }

    def add_app(self) -> tuple[str, str]:
        """A new internal app of the organisation: (AppKey, AppSecret)."""
        key, secret = "ding" + secrets.token_hex(8), secrets.token_hex(24)
        with self._lock:
            self.apps[key] = secret
        return key, secret

    def jsapi_code(self, handle: str, app_key: str) -> str:
        """What ``dd.requestAuthCode({corpId})`` gives the app's page for this person."""
        with self._lock:
            return self.issue_code(self.people[handle], app_key, "jsapi")

    # ---- the login page ----
    def login_page(self, r: Request) -> Reply:
        q = r.query
        page_error = Refuse("bad_authorize", Reply(400, {"error": "invalid request"}))
        if q.get("client_id") not in self.apps or q.get("response_type") != "code":
            raise page_error
        if "openid" not in q.get("scope", "").split() or q.get("prompt") != "consent":
            raise page_error
        target = urlsplit(q.get("redirect_uri", ""))
        if target.scheme not in ("http", "https") or target.hostname not in self.redirect_hosts:
            raise page_error
        person = self.person_scanning()
        if person is None:
            return Reply(200, {"page": "qr"})
        if not person.can_use_app:
            return redirect(q["redirect_uri"], {"error": "access_denied", "state": q.get("state", "")})
        code = self.issue_code(person, q["client_id"], "oauth")
        return redirect(q["redirect_uri"], {"authCode": code, "state": q.get("state", "")})

    # ---- new-style API ----
    def user_access_token(self, r: Request) -> Reply:
        body = self.json_body(r, _bad(400, "MissingParameter", "body must be JSON"))
        client, secret = str(body.get("clientId", "")), str(body.get("clientSecret", ""))
        if self.apps.get(client) != secret or not secret:
            raise _bad(400, "InvalidClientIdOrSecret", "无效的clientId或clientSecret")
        if body.get("grantType") != "authorization_code":
            raise _bad(400, "InvalidGrantType", "grantType不合法")
        found = self.take_code(str(body.get("code", "")), client, "oauth")
        if found is None:
            raise _bad(400, "InvalidAuthCode", "不合法的临时授权码")
        token = secrets.token_hex(16)
        self.user_tokens[token] = (found.person, self.now() + 7200)
        return Reply(200, {"accessToken": token, "refreshToken": secrets.token_hex(16), "expireIn": 7200,
                           "corpId": self.corp_id})

    def users_me(self, r: Request) -> Reply:
        held = self.user_tokens.get(r.headers.get("x-acs-dingtalk-access-token", ""))
        if held is None or held[1] <= self.now():
            raise _bad(401, "InvalidAuthentication", "不合法的access_token")
        person = held[0]
        out: dict[str, Any] = {"nick": person.name, "unionId": person.unionid, "openId": "open" + person.unionid,
                               "stateCode": "86"}
        if person.mobile:
            out["mobile"] = person.mobile
        return Reply(200, out)

    # ---- oapi ----
    def gettoken(self, r: Request) -> Reply:
        key, secret = r.query.get("appkey", ""), r.query.get("appsecret", "")
        if not secret or self.apps.get(key) != secret:
            raise _err(40089, "不合法的corpid或corpsecret")
        token = self.app_token(key)
        return Reply(200, {"errcode": 0, "errmsg": "ok", "access_token": token.value,
                           "expires_in": int(token.expires_at - self.now())})

    def _authorised(self, r: Request) -> dict[str, Any]:
        state, _ = self.token_state(r.query.get("access_token", ""))
        if state in ("missing", "invalid"):
            raise _err(40014, "不合法的access_token")
        if state == "expired":
            raise _err(88, "ding talk error[subcode=42001,submsg=access_token超时]", sub_code="42001",
                       sub_msg="access_token超时")
        return self.json_body(r, _err(40035, "缺少参数 json"))

    def _member(self, **match: str) -> Person | None:
        for person in self.people.values():
            if person.userid is not None and all(getattr(person, k) == v for k, v in match.items()):
                return person
        return None

    def getbyunionid(self, r: Request) -> Reply:
        body = self._authorised(r)
        person = self._member(unionid=str(body.get("unionid", "")))
        if person is None:
            raise _err(60121, "找不到该用户")
        return Reply(200, {"errcode": 0, "errmsg": "ok", "request_id": secrets.token_hex(6),
                           "result": {"contact_type": 0, "userid": person.userid}})

    def user_get(self, r: Request) -> Reply:
        body = self._authorised(r)
        person = self._member(userid=str(body.get("userid", "")))
        if person is None:
            raise _err(60121, "找不到该用户")
        return Reply(200, {"errcode": 0, "errmsg": "ok", "result": {
            "userid": person.userid, "unionid": person.unionid, "name": person.name, "mobile": person.mobile,
            "email": person.email, "org_email": person.org_email, "active": True}})

    def getuserinfo(self, r: Request) -> Reply:
        body = self._authorised(r)
        _, token = self.token_state(r.query.get("access_token", ""))
        assert token is not None
        found = self.take_code(str(body.get("code", "")), token.app, "jsapi")
        if found is None or found.person.userid is None:
            raise _err(40078, "不存在的临时授权码")
        person = found.person
        return Reply(200, {"errcode": 0, "errmsg": "ok", "result": {
            "userid": person.userid, "unionid": person.unionid, "name": person.name,
            "device_id": secrets.token_hex(8), "sys": False, "sys_level": 0, "associated_unionid": ""}})
