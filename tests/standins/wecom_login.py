"""WeCom login stand-in: the QR login page (login.work.weixin.qq.com), the in-client web
authorisation page (open.weixin.qq.com) and the qyapi endpoints a sign-in calls.

Checked as WeCom checks them:
* ``GET /wwlogin/sso/login``: ``login_type=CorpApp``, ``appid`` the CorpID, ``agentid`` an app of
  the corp, ``redirect_uri`` on the app's trusted domain, ``state`` letters/digits ≤ 128 bytes →
  302 ``redirect_uri?code=…&state=…`` for the person at the page (``scan_as``); a person outside
  the app's visible range gets ``redirect_uri?state=…`` (no code).
* ``GET /connect/oauth2/authorize``: the same, plus ``response_type=code`` and ``scope``
  snsapi_base | snsapi_privateinfo (the latter needs ``agentid`` and yields a user_ticket).
* ``GET /cgi-bin/gettoken?corpid&corpsecret``: errcode 40013 (corpid), 40001 (secret) → else the
  agent's token, the same while it lives.
* Calls with ``access_token``: missing 41001, unknown 40014, expired 42001.
  ``auth/getuserinfo?code`` → {userid, user_ticket?} for a member, {openid} for an outsider;
  40029 for a code that is unknown, used, older than 5 minutes or issued to another agent.
  ``POST auth/getuserdetail`` {user_ticket} (30 minutes, same agent; else 40129) → mobile, email,
  biz_mail. ``user/get?userid`` → the member (60111 unknown); with ``hide_contacts`` (apps
  created after 2022-06) without mobile and email."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from tests.standins._http import Refuse, Reply, Request
from tests.standins._login import LoginStandIn, Person, redirect


def _err(errcode: int, errmsg: str) -> Refuse:
    return Refuse(f"errcode:{errcode}", Reply(200, {"errcode": errcode, "errmsg": errmsg}))


class WeComLoginStandIn(LoginStandIn):
    default_errcode = -1

    def __init__(self, *, trusted_hosts: tuple[str, ...] = ("edge.test",), hide_contacts: bool = False) -> None:
        super().__init__()
        self.corp_id = "ww" + secrets.token_hex(8)
        self.agents: dict[str, str] = {}
        self.trusted_hosts = set(trusted_hosts)
        self.hide_contacts = hide_contacts
        self.tickets: dict[str, tuple[Person, str, float]] = {}
        self.routes = {
            ("GET", "/wwlogin/sso/login"): self.qr_login,
            ("GET", "/connect/oauth2/authorize"): self.web_authorize,
            ("GET", "/cgi-bin/gettoken"): self.gettoken,
            ("GET", "/cgi-bin/auth/getuserinfo"): self.getuserinfo,
            ("POST", "/cgi-bin/auth/getuserdetail"): self.getuserdetail,
            ("GET", "/cgi-bin/user/get"): self.user_get,
        }

    def add_agent(self) -> tuple[str, str]:
        """A new self-built app of the corp: (AgentId, Secret)."""
        agent, secret = str(1000000 + len(self.agents) + 1), secrets.token_hex(21)
        with self._lock:
            self.agents[agent] = secret
        return agent, secret

    # ---- login pages ----
    def _check_page(self, q: dict[str, str], agent_required: bool = True) -> None:
        page_error = Refuse("bad_authorize", Reply(400, {"error": "该链接无法访问"}))
        if q.get("appid") != self.corp_id:
            raise page_error
        if (agent_required or q.get("agentid")) and q.get("agentid") not in self.agents:
            raise page_error
        target = urlsplit(q.get("redirect_uri", ""))
        if target.scheme not in ("http", "https") or target.hostname not in self.trusted_hosts:
            raise page_error
        state = q.get("state", "")
        if len(state.encode()) > 128 or (state and not state.isalnum()):
            raise page_error

    def _answer(self, q: dict[str, str], agent: str, **extra: Any) -> Reply:
        person = self.person_scanning()
        if person is None:
            return Reply(200, {"page": "qr"})
        if not person.can_use_app:
            return redirect(q["redirect_uri"], {"state": q.get("state", "")})
        code = self.issue_code(person, agent, "web", **extra)
        return redirect(q["redirect_uri"], {"code": code, "state": q.get("state", "")})

    def qr_login(self, r: Request) -> Reply:
        if r.query.get("login_type") != "CorpApp":
            raise Refuse("bad_login_type", Reply(400, {"error": "login_type"}))
        self._check_page(r.query)
        return self._answer(r.query, r.query["agentid"])

    def web_authorize(self, r: Request) -> Reply:
        q = r.query
        scope = q.get("scope")
        if q.get("response_type") != "code" or scope not in ("snsapi_base", "snsapi_privateinfo"):
            raise Refuse("bad_authorize", Reply(400, {"error": "scope"}))
        self._check_page(q, agent_required=scope == "snsapi_privateinfo")
        return self._answer(q, q.get("agentid", ""), private=scope == "snsapi_privateinfo")

    # ---- qyapi ----
    def gettoken(self, r: Request) -> Reply:
        if r.query.get("corpid") != self.corp_id:
            raise _err(40013, "invalid corpid")
        secret = r.query.get("corpsecret", "")
        agent = next((a for a, s in self.agents.items() if s == secret), None)
        if agent is None or not secret:
            raise _err(40001, "invalid credential")
        token = self.app_token(agent)
        return Reply(200, {"errcode": 0, "errmsg": "ok", "access_token": token.value,
                           "expires_in": int(token.expires_at - self.now())})

    def _agent(self, r: Request) -> str:
        state, token = self.token_state(r.query.get("access_token", ""))
        if state == "missing":
            raise _err(41001, "access_token missing")
        if state == "invalid":
            raise _err(40014, "invalid access_token")
        if state == "expired":
            raise _err(42001, "access_token expired")
        assert token is not None
        return token.app

    def getuserinfo(self, r: Request) -> Reply:
        agent = self._agent(r)
        code = r.query.get("code", "")
        found = self.take_code(code, agent, "web")
        if found is None:
            raise _err(40029, "invalid code")
        person = found.person
        if person.userid is None:
            return Reply(200, {"errcode": 0, "errmsg": "ok", "openid": "o" + person.unionid})
        out: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "userid": person.userid}
        if found.extra.get("private"):
            ticket = secrets.token_hex(16)
            self.tickets[ticket] = (person, agent, self.now() + 1800)
            out["user_ticket"] = ticket
            out["expires_in"] = 1800
        return Reply(200, out)

    def getuserdetail(self, r: Request) -> Reply:
        agent = self._agent(r)
        body = self.json_body(r, _err(40058, "invalid json"))
        held = self.tickets.get(str(body.get("user_ticket", "")))
        if held is None or held[1] != agent or held[2] <= self.now():
            raise _err(40129, "invalid user_ticket")
        person = held[0]
        return Reply(200, {"errcode": 0, "errmsg": "ok", "userid": person.userid, "gender": "0",
                           "mobile": person.mobile, "email": person.email, "biz_mail": person.org_email})

    def user_get(self, r: Request) -> Reply:
        self._agent(r)
        userid = r.query.get("userid", "")
        person = next((p for p in self.people.values() if p.userid and p.userid == userid), None)
        if person is None:
            raise _err(60111, "invalid userid")
        out: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "userid": person.userid, "name": person.name,
                               "status": 1}
        if not self.hide_contacts:
            out.update(mobile=person.mobile, email=person.email, biz_mail=person.org_email)
        return Reply(200, out)
