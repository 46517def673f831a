"""Feishu login stand-in: the authorisation page and the open-apis endpoints a sign-in calls.

Checked as Feishu checks them:
* ``GET /open-apis/authen/v1/authorize``: ``app_id`` a known app, ``redirect_uri`` exactly one of
  the app's registered redirect URLs (query ignored) → 302 ``redirect_uri?code=…&state=…`` for
  the person at the page (``scan_as``); a code the client's JSAPI gives (``jsapi_code``) is the
  same kind of code.
* ``POST /open-apis/auth/v3/app_access_token/internal`` (JSON {app_id, app_secret}) → {code 0,
  app_access_token, expire, tenant_access_token}; a wrong secret → code 10014, an unknown app 10003.
* ``POST /open-apis/authen/v1/oidc/access_token``: ``Authorization: Bearer <app_access_token>``
  (missing → HTTP 400 code 99991661, unknown 99991663, expired 99991664), JSON {grant_type:
  authorization_code, code}: the code single use, 5 minutes, issued to that app (else HTTP 400
  code 20003 — 20004 when only expired); a person outside the app's availability → 20010.
* ``GET /open-apis/authen/v1/user_info``: ``Authorization: Bearer <user_access_token>`` (else
  HTTP 401 code 99991668) → data {name, open_id, union_id, tenant_key, user_id?, email?,
  enterprise_email?, mobile?} — the optional fields only with the app's ``permissions``."""

from __future__ import annotations

import secrets
from typing import Any

from tests.standins._http import Refuse, Reply, Request
from tests.standins._login import CODE_SECONDS, LoginStandIn, Person, redirect

ALL_PERMISSIONS = frozenset({"user_id", "email", "mobile"})


def _err(status: int, code: int, msg: str) -> Refuse:
    return Refuse(f"code:{code}", Reply(status, {"code": code, "msg": msg}))


class FeishuLoginStandIn(LoginStandIn):
    default_errcode = 99991400

    def __init__(self, *, permissions: frozenset[str] = ALL_PERMISSIONS) -> None:
        super().__init__()
        self.tenant_key = secrets.token_hex(8)
        self.apps: dict[str, str] = {}
        self.redirect_uris: dict[str, set[str]] = {}
        self.permissions = permissions
        self.user_tokens: dict[str, tuple[Person, str, float]] = {}
        self.routes = {
            ("GET", "/open-apis/authen/v1/authorize"): self.authorize,
            ("POST", "/open-apis/auth/v3/app_access_token/internal"): self.app_access_token,
            ("POST", "/open-apis/authen/v1/oidc/access_token"): self.oidc_access_token,
            ("GET", "/open-apis/authen/v1/user_info"): self.user_info,
        }

    def platform_error(self, errcode: int, reason: str) -> Reply:
        return Reply(400, {"code": errcode, "msg": reason})

    def add_app(self, *redirect_uris: str) -> tuple[str, str]:
        app, secret = "cli_" + secrets.token_hex(8), secrets.token_hex(16)
        with self._lock:
            self.apps[app] = secret
            self.redirect_uris[app] = set(redirect_uris)
        return app, secret

    def jsapi_code(self, handle: str, app_id: str) -> str:
        """What ``tt.requestAuthCode({appId})`` gives the app's page inside Feishu."""
        with self._lock:
            return self.issue_code(self.people[handle], app_id, "oauth")

    def authorize(self, r: Request) -> Reply:
        q = r.query
        app = q.get("app_id", "")
        if app not in self.apps or q.get("redirect_uri", "").split("?")[0] not in self.redirect_uris[app]:
            raise Refuse("bad_authorize", Reply(400, {"code": 20029, "msg": "redirect_uri 请求不合法"}))
        person = self.person_scanning()
        if person is None:
            return Reply(200, {"page": "qr"})
        code = self.issue_code(person, app, "oauth")
        return redirect(q["redirect_uri"], {"code": code, "state": q.get("state", "")})

    def app_access_token(self, r: Request) -> Reply:
        body = self.json_body(r, _err(400, 9499, "Bad Request"))
        app, secret = str(body.get("app_id", "")), str(body.get("app_secret", ""))
        if app not in self.apps:
            raise _err(200, 10003, "invalid param")
        if not secret or self.apps[app] != secret:
            raise _err(200, 10014, "app secret invalid")
        token = self.app_token(app)
        return Reply(200, {"code": 0, "msg": "ok", "app_access_token": token.value,
                           "expire": int(token.expires_at - self.now()), "tenant_access_token": "t-" + token.value})

    def _bearer(self, r: Request) -> str:
        value = r.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else ""

    def oidc_access_token(self, r: Request) -> Reply:
        state, token = self.token_state(self._bearer(r))
        if state == "missing":
            raise _err(400, 99991661, "Missing access token for authorization")
        if state == "invalid":
            raise _err(400, 99991663, "Invalid access token for authorization")
        if state == "expired":
            raise _err(400, 99991664, "Invalid app access token, expired")
        assert token is not None
        body = self.json_body(r, _err(400, 20001, "invalid request"))
        if body.get("grant_type") != "authorization_code":
            raise _err(400, 20001, "invalid grant_type")
        raw = self.codes.get(str(body.get("code", "")))
        expired_only = (raw is not None and not raw.used and raw.app == token.app
                        and self.now() - raw.issued_at > CODE_SECONDS)
        found = self.take_code(str(body.get("code", "")), token.app, "oauth")
        if found is None:
            raise _err(400, 20004, "code expired") if expired_only else _err(400, 20003, "invalid code")
        if not found.person.can_use_app or found.person.userid is None:
            raise _err(400, 20010, "user has no app permission")
        user_token = "u-" + secrets.token_hex(16)
        self.user_tokens[user_token] = (found.person, token.app, self.now() + 6900)
        return Reply(200, {"code": 0, "msg": "success", "data": {
            "access_token": user_token, "token_type": "Bearer", "expires_in": 6900,
            "refresh_token": "ur-" + secrets.token_hex(16), "refresh_expires_in": 2592000, "scope": ""}})

    def user_info(self, r: Request) -> Reply:
        held = self.user_tokens.get(self._bearer(r))
        if held is None or held[2] <= self.now():
            raise _err(401, 99991668, "Invalid access token for authorization")
        person = held[0]
        data: dict[str, Any] = {"name": person.name, "en_name": "", "avatar_url": "",
                                "open_id": f"ou_{held[1]}_{person.unionid}", "union_id": "on_" + person.unionid,
                                "tenant_key": self.tenant_key}
        if "user_id" in self.permissions:
            data["user_id"] = person.userid
        if "email" in self.permissions:
            data["email"], data["enterprise_email"] = person.email, person.org_email
        if "mobile" in self.permissions:
            data["mobile"] = person.mobile
        return Reply(200, {"code": 0, "msg": "success", "data": data})
