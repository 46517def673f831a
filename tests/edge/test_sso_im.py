"""DingTalk, WeCom and Feishu sign-in end to end: the real edge, registry, Redis; each platform a
stand-in HTTP server on loopback that checks what the platform checks (tests/standins/*_login.py).

The browser is the ASGI client (its cookie jar is the browser's); following the platform's login
page is a real HTTP request to the stand-in, whose 302 comes back to our callback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.edge.conftest import Stack, fresh_ip
from tests.standins._login import LoginStandIn
from tests.standins.dingtalk_login import DingTalkLoginStandIn
from tests.standins.feishu_login import FeishuLoginStandIn
from tests.standins.wecom_login import WeComLoginStandIn

ASYNC = pytest.mark.asyncio(loop_scope="session")
KINDS = ("dingtalk", "wecom", "feishu")
EDGE = "http://edge.test"
# The path of each platform's app-token endpoint and the refusal its stand-in logs for an expired token.
TOKEN_PATH = {"dingtalk": "/gettoken", "wecom": "/cgi-bin/gettoken",
              "feishu": "/open-apis/auth/v3/app_access_token/internal"}
EXPIRED = {"dingtalk": "errcode:88", "wecom": "errcode:42001", "feishu": "code:99991664"}


@pytest.fixture(scope="module")
def standins() -> Iterator[dict[str, LoginStandIn]]:
    with DingTalkLoginStandIn() as dt, WeComLoginStandIn() as wc, FeishuLoginStandIn() as fs:
        yield {"dingtalk": dt, "wecom": wc, "feishu": fs}


@dataclass
class Rig:
    """One provider of one platform, with its own app at the stand-in."""

    kind: str
    standin: Any
    key: str
    app: str  # DingTalk AppKey / WeCom AgentId / Feishu App ID
    secret: str
    run: str

    def config(self, **over: Any) -> dict[str, Any]:
        s = self.standin
        base = {"api_base": s.base, "auth_base": s.base, "match_field": "id"}
        if self.kind == "dingtalk":
            base |= {"app_id": self.app, "corp_id": s.corp_id}
        elif self.kind == "wecom":
            base |= {"app_id": s.corp_id, "agent_id": self.app}
        else:
            base |= {"app_id": self.app}
        return base | over

    async def put(self, admin: httpx.AsyncClient, *, enabled: bool = True, secret: str | None = None,
                  **over: Any) -> None:
        r = await admin.put(f"/api/v1/auth-providers/{self.key}", json={
            "type": self.kind, "name": f"{self.kind} 登录", "enabled": enabled, "config": self.config(**over),
            "secrets": {"app_secret": self.secret if secret is None else secret}})
        assert r.status_code == 200, r.text

    def person(self, handle: str, **attrs: Any) -> str:
        self.standin.add_person(handle, **attrs)
        return handle

    def inapp_code(self, handle: str) -> str:
        """A code as the app's page inside the client gets it."""
        if self.kind == "dingtalk":
            return str(self.standin.jsapi_code(handle, self.app))
        if self.kind == "feishu":
            return str(self.standin.jsapi_code(handle, self.app))
        # WeCom: the web authorisation inside the client, silently (snsapi_base)
        self.standin.scan_as = handle
        r = httpx.get(self.standin.base + "/connect/oauth2/authorize", params={
            "appid": self.standin.corp_id, "redirect_uri": f"{EDGE}/somewhere", "response_type": "code",
            "scope": "snsapi_base", "state": "x1", "agentid": self.app})
        assert r.status_code == 302, r.text
        return parse_qs(urlsplit(r.headers["location"]).query)["code"][0]

    @property
    def token_fetches(self) -> int:
        return int(self.standin.token_fetches[self.app])


def new_rig(standins: dict[str, LoginStandIn], kind: str) -> Rig:
    run = uuid.uuid4().hex[:8]
    s: Any = standins[kind]
    key = f"{kind}-{run}"
    if kind == "dingtalk":
        app, secret = s.add_app()
    elif kind == "wecom":
        app, secret = s.add_agent()
    else:
        app, secret = s.add_app(f"{EDGE}/auth/sso/{key}/callback")
    return Rig(kind, s, key, app, secret, run)


async def org_users(admin: httpx.AsyncClient, *users: dict[str, Any]) -> None:
    r = await admin.put("/api/v1/org", json={"departments": [], "users": list(users)})
    assert r.status_code == 200, r.text


def browser(stack: Stack) -> httpx.AsyncClient:
    return stack.client(token=None, ip=fresh_ip())


async def scan(rig: Rig, browser: httpx.AsyncClient, handle: str, next_path: str = "/projects/123") -> str:
    """Start signing in, check where the browser is sent, and return the callback URL the
    platform's login page redirects to once ``handle`` scanned the QR code."""
    r = await browser.get(f"/auth/sso/{rig.key}/start", params={"next": next_path})
    assert r.status_code == 302, r.text
    login = urlsplit(r.headers["location"])
    q = {k: v[0] for k, v in parse_qs(login.query).items()}
    assert f"{login.scheme}://{login.netloc}" == rig.standin.base
    assert q["redirect_uri"] == f"{EDGE}/auth/sso/{rig.key}/callback"
    assert q["state"].isalnum() and len(q["state"]) >= 32
    if rig.kind == "dingtalk":
        assert login.path == "/oauth2/auth"
        assert (q["client_id"], q["response_type"], q["scope"], q["prompt"]) == (
            rig.app, "code", "openid corpid", "consent")
    elif rig.kind == "wecom":
        assert login.path == "/wwlogin/sso/login"
        assert (q["login_type"], q["appid"], q["agentid"]) == ("CorpApp", rig.standin.corp_id, rig.app)
    else:
        assert login.path == "/open-apis/authen/v1/authorize"
        assert q["app_id"] == rig.app
    cookie = r.headers["set-cookie"]
    assert "bb_sso=" in cookie and "HttpOnly" in cookie and "Path=/auth/sso/" in cookie
    rig.standin.scan_as = handle
    async with httpx.AsyncClient() as platform:
        page = await platform.get(r.headers["location"])
    assert page.status_code == 302, page.text
    back = page.headers["location"]
    assert back.startswith(f"{EDGE}/auth/sso/{rig.key}/callback?")
    return back


async def me(browser: httpx.AsyncClient) -> dict[str, Any]:
    r = await browser.get("/api/v1/me")
    assert r.status_code == 200, r.text
    return dict(r.json())


def error_code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


# ---------------------------------------------------------------- the QR flow


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_qr_sign_in_lands_on_the_page_opened(stack: Stack, admin: httpx.AsyncClient,
                                                   standins: dict[str, LoginStandIn], kind: str) -> None:
    rig = new_rig(standins, kind)
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "扫码用户"})
    rig.person(uid, name="扫码用户")
    async with browser(stack) as b:
        callback = await scan(rig, b, uid, "/projects/123?tab=tasks")
        r = await b.get(callback)
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/projects/123?tab=tasks"
        who = await me(b)
        assert who["user"]["id"] == uid and who["auth_method"] == kind
        assert who["session"]["provider"] == rig.key
        # the callback is single use: the same URL again is refused
        again = await b.get(callback)
        assert again.status_code == 403 and error_code(again) == "sso_state_invalid"
    links = (await admin.get(f"/api/v1/users/{uid}/identities")).json()["items"]
    assert [link["provider_key"] for link in links] == [rig.key]


# ---------------------------------------------------------------- in-app (免登)


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_inapp_code_signs_in_and_a_replayed_code_is_refused(
        stack: Stack, admin: httpx.AsyncClient, standins: dict[str, LoginStandIn], kind: str) -> None:
    rig = new_rig(standins, kind)
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "工作台用户"})
    rig.person(uid)
    code = rig.inapp_code(uid)
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": code, "next": "/projects/9"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["user"]["id"] == uid and body["next"] == "/projects/9" and body["csrf_token"]
        assert (await me(b))["user"]["id"] == uid
    async with browser(stack) as other:
        replay = await other.post(f"/auth/sso/{rig.key}/code", json={"code": code})
        assert replay.status_code == 401 and error_code(replay) == "sso_code_invalid"
        assert (await other.get("/api/v1/me")).status_code == 401


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_workbench_homepage_lands_on_next(stack: Stack, admin: httpx.AsyncClient,
                                                standins: dict[str, LoginStandIn], kind: str) -> None:
    """The app's homepage URL in the workbench, ``/auth/sso/<key>/inapp?next=…``."""
    rig = new_rig(standins, kind)
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "工作台用户"})
    rig.person(uid)
    async with browser(stack) as b:
        r = await b.get(f"/auth/sso/{rig.key}/inapp", params={"next": "/projects/42"})
        if kind == "dingtalk":
            # a page asking the DingTalk client's JS bridge for a code, then posting it
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
            csp = r.headers["content-security-policy"]
            nonce = csp.split("'nonce-")[1].split("'")[0]
            assert f'<script nonce="{nonce}">' in r.text and "script-src 'nonce-" in csp
            assert 'data-next="/projects/42"' in r.text and f'data-corp-id="{rig.standin.corp_id}"' in r.text
            assert f'data-code-url="/auth/sso/{rig.key}/code"' in r.text
            assert "requestAuthCode" in r.text and "<script src" not in r.text  # no CDN
            code = rig.inapp_code(uid)
            r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": code, "next": "/projects/42"})
            assert r.status_code == 200 and r.json()["next"] == "/projects/42"
        else:
            # the platform's own OAuth page inside its client, back through the callback
            assert r.status_code == 302, r.text
            target = urlsplit(r.headers["location"])
            q = parse_qs(target.query)
            if kind == "wecom":
                assert target.path == "/connect/oauth2/authorize" and target.fragment == "wechat_redirect"
                assert q["scope"] == ["snsapi_base"] and q["agentid"] == [rig.app]
            else:
                assert target.path == "/open-apis/authen/v1/authorize"
            rig.standin.scan_as = uid
            async with httpx.AsyncClient() as platform:
                page = await platform.get(r.headers["location"].split("#")[0])
            assert page.status_code == 302, page.text
            r = await b.get(page.headers["location"])
            assert r.status_code == 303 and r.headers["location"] == "/projects/42"
        assert (await me(b))["user"]["id"] == uid


@ASYNC
async def test_dingtalk_inapp_page_allows_the_configured_jsapi_script(
        stack: Stack, admin: httpx.AsyncClient, standins: dict[str, LoginStandIn]) -> None:
    rig = new_rig(standins, "dingtalk")
    await rig.put(admin, jsapi_url="https://static.example.com/dingtalk/dingtalk.open.js")
    async with browser(stack) as b:
        r = await b.get(f"/auth/sso/{rig.key}/inapp", params={"next": '/p?a="><script>'})
    assert r.status_code == 200
    assert '<script src="https://static.example.com/dingtalk/dingtalk.open.js">' in r.text
    assert "https://static.example.com" in r.headers["content-security-policy"]
    assert '"><script>' not in r.text  # next is escaped in the attribute


# ---------------------------------------------------------------- state, next, codes


@ASYNC
async def test_bad_state_is_refused(stack: Stack, admin: httpx.AsyncClient,
                                    standins: dict[str, LoginStandIn]) -> None:
    rig = new_rig(standins, "dingtalk")
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "状态"})
    rig.person(uid)
    async with browser(stack) as b, browser(stack) as victim:
        callback = await scan(rig, b, uid)
        forged = callback.replace("state=", "state=0")
        r = await b.get(forged)
        assert r.status_code == 403 and error_code(r) == "sso_state_invalid"
        # a callback URL opened in another browser (login CSRF) is refused
        r = await victim.get(callback)
        assert r.status_code == 403 and error_code(r) == "sso_state_invalid"
        assert (await victim.get("/api/v1/me")).status_code == 401
        # the state of another provider is refused too
        other = new_rig(standins, "dingtalk")
        await other.put(admin)
        r = await b.get(callback.replace(f"/auth/sso/{rig.key}/", f"/auth/sso/{other.key}/"))
        assert r.status_code == 403 and error_code(r) == "sso_state_invalid"


@ASYNC
async def test_open_redirects_are_refused(stack: Stack, admin: httpx.AsyncClient,
                                          standins: dict[str, LoginStandIn]) -> None:
    rig = new_rig(standins, "wecom")
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "跳转"})
    rig.person(uid)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        async with browser(stack) as b:
            r = await b.get(await scan(rig, b, uid, evil))
            assert r.status_code == 303 and r.headers["location"] == "/"
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(uid), "next": "//evil.example"})
        assert r.status_code == 200 and r.json()["next"] == "/"


@ASYNC
@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
async def test_codes_expire_and_are_bound_to_their_app(stack: Stack, admin: httpx.AsyncClient,
                                                       standins: dict[str, LoginStandIn], kind: str) -> None:
    rig, other = new_rig(standins, kind), new_rig(standins, kind)
    await rig.put(admin)
    await other.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "过期"})
    rig.person(uid)
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{other.key}/code", json={"code": rig.inapp_code(uid)})
        assert r.status_code == 401 and error_code(r) == "sso_code_invalid"
        code = rig.inapp_code(uid)
        rig.standin.advance(301)
        try:
            r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": code})
        finally:
            rig.standin.advance(-301)
        assert r.status_code == 401 and error_code(r) == "sso_code_invalid"
        assert (await b.get("/api/v1/me")).status_code == 401


@ASYNC
async def test_code_endpoint_takes_json_only(stack: Stack, admin: httpx.AsyncClient,
                                             standins: dict[str, LoginStandIn]) -> None:
    """A cross-site form or a no-CORS fetch (text/plain, or no content type) cannot post a code."""
    rig = new_rig(standins, "dingtalk")
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "表单"})
    rig.person(uid)
    code = rig.inapp_code(uid)
    async with browser(stack) as b:
        for headers in ({"content-type": "text/plain"}, {}):
            r = await b.post(f"/auth/sso/{rig.key}/code", content=f'{{"code": "{code}"}}', headers=headers)
            assert r.status_code == 422, r.text
        assert (await b.get("/api/v1/me")).status_code == 401
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": code})
        assert r.status_code == 200, r.text  # the code was never sent to DingTalk before


# ---------------------------------------------------------------- app tokens


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_expired_app_token_is_refreshed_once(stack: Stack, admin: httpx.AsyncClient,
                                                   standins: dict[str, LoginStandIn], kind: str) -> None:
    rig = new_rig(standins, kind)
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "令牌"})
    rig.person(uid)
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(uid)})
        assert r.status_code == 200, r.text
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(uid)})
        assert r.status_code == 200, r.text
    assert rig.token_fetches == 1  # cached in Redis
    refused = rig.standin.refusals(EXPIRED[kind])
    rig.standin.expire_tokens()
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(uid)})
        assert r.status_code == 200, r.text
    assert rig.token_fetches == 2
    assert rig.standin.refusals(EXPIRED[kind]) == refused + 1


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_concurrent_sign_ins_fetch_one_app_token(stack: Stack, admin: httpx.AsyncClient,
                                                       standins: dict[str, LoginStandIn], kind: str) -> None:
    rig = new_rig(standins, kind)
    await rig.put(admin)
    users = [f"im-{rig.run}-{i}" for i in range(6)]
    await org_users(admin, *({"id": u, "name": "并发"} for u in users))
    codes = []
    for u in users:
        rig.person(u)
        codes.append(rig.inapp_code(u))

    async def sign_in(code: str) -> int:
        async with browser(stack) as b:
            return (await b.post(f"/auth/sso/{rig.key}/code", json={"code": code})).status_code

    assert await asyncio.gather(*(sign_in(c) for c in codes)) == [200] * len(codes)
    assert rig.token_fetches == 1


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_wrong_app_secret_is_reported_as_such(stack: Stack, admin: httpx.AsyncClient,
                                                    standins: dict[str, LoginStandIn], kind: str) -> None:
    rig = new_rig(standins, kind)
    await rig.put(admin, secret="not-the-secret")
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "密钥"})
    rig.person(uid)
    async with browser(stack) as b:
        r = await b.get(await scan(rig, b, uid))
    assert r.status_code == 502 and error_code(r) == "sso_app_rejected"


@ASYNC
async def test_unreachable_platform_is_a_502(stack: Stack, admin: httpx.AsyncClient,
                                             standins: dict[str, LoginStandIn]) -> None:
    rig = new_rig(standins, "feishu")
    await rig.put(admin, api_base="http://127.0.0.1:9")
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": "abc"})
    assert r.status_code == 502 and error_code(r) == "sso_platform_unavailable"


# ---------------------------------------------------------------- who may sign in


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_unknown_platform_user_is_refused(stack: Stack, admin: httpx.AsyncClient,
                                                standins: dict[str, LoginStandIn], kind: str) -> None:
    rig = new_rig(standins, kind)
    await rig.put(admin)
    stranger = rig.person(f"nobody-{rig.run}")  # a member of the platform org, not of Baobei
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(stranger)})
        assert r.status_code == 404 and error_code(r) == "sso_user_unknown"
        assert (await b.get("/api/v1/me")).status_code == 401
    if kind != "feishu":  # someone outside the platform org (DingTalk unionId / WeCom openid only)
        outsider = rig.person(f"outsider-{rig.run}", member=False)
        async with browser(stack) as b:
            r = await b.get(await scan(rig, b, outsider))
            assert r.status_code == 404 and error_code(r) == "sso_user_unknown"


@ASYNC
async def test_feishu_user_outside_the_app_availability(stack: Stack, admin: httpx.AsyncClient,
                                                        standins: dict[str, LoginStandIn]) -> None:
    rig = new_rig(standins, "feishu")
    await rig.put(admin)
    uid = rig.person(f"im-{rig.run}", can_use_app=False)
    await org_users(admin, {"id": uid, "name": "不可用"})
    async with browser(stack) as b:
        r = await b.get(await scan(rig, b, uid))
    assert r.status_code == 403 and error_code(r) == "sso_app_not_available"


@ASYNC
async def test_wecom_refused_authorisation(stack: Stack, admin: httpx.AsyncClient,
                                           standins: dict[str, LoginStandIn]) -> None:
    """Someone outside the app's visible range: WeCom comes back without a code."""
    rig = new_rig(standins, "wecom")
    await rig.put(admin)
    uid = rig.person(f"im-{rig.run}", can_use_app=False)
    await org_users(admin, {"id": uid, "name": "不可见"})
    async with browser(stack) as b:
        r = await b.get(await scan(rig, b, uid))
    assert r.status_code == 401 and error_code(r) == "sso_cancelled"


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_departed_user_is_refused(stack: Stack, admin: httpx.AsyncClient,
                                        standins: dict[str, LoginStandIn], kind: str) -> None:
    rig = new_rig(standins, kind)
    await rig.put(admin)
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "离职"})
    rig.person(uid)
    async with browser(stack) as b:  # linked by a first sign-in
        assert (await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(uid)})).status_code == 200
    r = await admin.post("/api/v1/integrations/org/dingtalk",
                         json={"departments": [], "users": [], "resigned_userids": [uid]})
    assert r.status_code == 200 and uid in r.json()["left"], r.text
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(uid)})
        assert r.status_code == 403 and error_code(r) == "user_left"
        assert (await b.get("/api/v1/me")).status_code == 401


@ASYNC
async def test_disabled_or_unknown_provider(stack: Stack, admin: httpx.AsyncClient,
                                            standins: dict[str, LoginStandIn]) -> None:
    rig = new_rig(standins, "dingtalk")
    await rig.put(admin, enabled=False)
    async with browser(stack) as b:
        for key in (rig.key, f"missing-{rig.run}"):
            r = await b.get(f"/auth/sso/{key}/start")
            assert r.status_code == 404 and error_code(r) == "provider_not_found"
            r = await b.post(f"/auth/sso/{key}/code", json={"code": "x"})
            assert r.status_code == 404


# ---------------------------------------------------------------- matching the org user


@ASYNC
@pytest.mark.parametrize("kind", KINDS)
async def test_match_by_mobile_then_by_the_link(stack: Stack, admin: httpx.AsyncClient,
                                                standins: dict[str, LoginStandIn], kind: str) -> None:
    """Baobei ids differ from the platform's userids (no org sync): the first sign-in matches by
    mobile (normalised), the link keeps the person afterwards even when the mobile changes."""
    rig = new_rig(standins, kind)
    await rig.put(admin, match_field="mobile")
    uid, mobile = f"bb-{rig.run}", "139" + str(uuid.uuid4().int)[:8]
    await org_users(admin, {"id": uid, "name": "手机匹配", "mobile": mobile})
    person = rig.standin.add_person(f"plat-{rig.run}", mobile=f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}")
    async with browser(stack) as b:
        r = await b.get(await scan(rig, b, person.handle))
        assert r.status_code == 303, r.text
        assert (await me(b))["user"]["id"] == uid
    person.mobile = "13000000000"
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(person.handle)})
        assert r.status_code == 200 and r.json()["user"]["id"] == uid, r.text
    links = (await admin.get(f"/api/v1/users/{uid}/identities")).json()["items"]
    subject = {"dingtalk": person.unionid, "wecom": person.userid, "feishu": "on_" + person.unionid}[kind]
    assert [(link["provider_key"], link["subject"]) for link in links] == [(rig.key, subject)]
    # The platform's userid is kept with the link: personal notices are addressed to it.
    assert [link["platform_user_id"] for link in links] == [person.userid]


@ASYNC
async def test_match_by_id_uses_the_platform_userid(stack: Stack, admin: httpx.AsyncClient,
                                                    standins: dict[str, LoginStandIn]) -> None:
    """org sync made the DingTalk userid the Baobei id: a mobile of someone else does not matter."""
    rig = new_rig(standins, "dingtalk")
    await rig.put(admin)  # match_field id
    uid = f"im-{rig.run}"
    await org_users(admin, {"id": uid, "name": "按编号"}, {"id": f"other-{rig.run}", "name": "别人",
                                                          "mobile": "13711112222"})
    rig.person(uid, mobile="13711112222")
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(uid)})
    assert r.status_code == 200 and r.json()["user"]["id"] == uid


@ASYNC
async def test_match_by_email_falls_back_to_the_org_email(stack: Stack, admin: httpx.AsyncClient,
                                                          standins: dict[str, LoginStandIn]) -> None:
    rig = new_rig(standins, "dingtalk")
    await rig.put(admin, match_field="email")
    uid = f"bb-{rig.run}"
    await org_users(admin, {"id": uid, "name": "邮箱", "email": f"Staff.{rig.run}@Example.com"})
    person = rig.standin.add_person(f"plat-{rig.run}", org_email=f"staff.{rig.run}@example.com")
    async with browser(stack) as b:
        r = await b.post(f"/auth/sso/{rig.key}/code", json={"code": rig.inapp_code(person.handle)})
    assert r.status_code == 200 and r.json()["user"]["id"] == uid, r.text


@ASYNC
async def test_wecom_mobile_through_the_user_ticket(stack: Stack, admin: httpx.AsyncClient,
                                                    standins: dict[str, LoginStandIn]) -> None:
    """Apps created after 2022-06 read no mobile from user/get: in the client, snsapi_privateinfo
    gives a user_ticket whose detail carries it."""
    rig = new_rig(standins, "wecom")
    await rig.put(admin, match_field="mobile")
    uid, mobile = f"bb-{rig.run}", "136" + str(uuid.uuid4().int)[:8]
    await org_users(admin, {"id": uid, "name": "票据", "mobile": mobile})
    person = rig.standin.add_person(f"plat-{rig.run}", mobile=mobile)
    standin: Any = rig.standin
    standin.hide_contacts = True
    try:
        async with browser(stack) as b:
            r = await b.get(f"/auth/sso/{rig.key}/inapp", params={"next": "/todo"})
            assert parse_qs(urlsplit(r.headers["location"]).query)["scope"] == ["snsapi_privateinfo"]
            standin.scan_as = person.handle
            async with httpx.AsyncClient() as platform:
                page = await platform.get(r.headers["location"].split("#")[0])
            r = await b.get(page.headers["location"])
            assert r.status_code == 303 and r.headers["location"] == "/todo", r.text
            assert (await me(b))["user"]["id"] == uid
        assert standin.count("/cgi-bin/auth/getuserdetail") >= 1
    finally:
        standin.hide_contacts = False


# ---------------------------------------------------------------- configuration


@ASYNC
async def test_provider_config_is_checked_per_platform(stack: Stack, admin: httpx.AsyncClient) -> None:
    r = await admin.put("/api/v1/auth-providers/wecom-bad", json={
        "type": "wecom", "config": {"app_id": "ww1"}, "secrets": {"app_secret": "s"}})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["error"]["details"]} == {"config.agent_id"}
    r = await admin.put("/api/v1/auth-providers/dt-bad", json={
        "type": "dingtalk", "config": {"app_id": "ding1", "api_base": "ftp://x", "match_field": "name"}})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["error"]["details"]} == {"config.api_base", "config.match_field"}
    r = await admin.put("/api/v1/auth-providers/dt-good", json={"type": "dingtalk", "config": {"app_id": "ding1"}})
    assert r.status_code == 200 and r.json()["config"]["match_field"] == "id"
    assert r.json()["callback_url"] == f"{EDGE}/auth/sso/dt-good/callback"
    # without the app secret nobody can sign in: said plainly, before any redirect
    async with browser(stack) as b:
        r = await b.get("/auth/sso/dt-good/start")
    assert r.status_code == 409 and error_code(r) == "sso_provider_incomplete"
