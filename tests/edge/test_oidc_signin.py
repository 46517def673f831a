"""Signing in with OpenID Connect against a real provider on loopback (``tests.edge.oidc_provider``:
oidc-provider-mock with PKCE enforced), through the in-process edge. Each test drives a browser by
hand: start on the edge → the provider's authorization form (the test submits the subject) →
the callback on the edge → the session cookie on ``/api/v1/me``.

Covered: landing on ``next`` (and never off-site), linking by e-mail on first sign-in and by
subject after the e-mail changed, unknown / ambiguous / departed / unverified users refused with
nobody created, a bad state (unknown, another provider's, another browser's), a replayed code
(the edge refuses the used state, the provider refuses the used code, and an old code pushed into
a fresh sign-in fails PKCE), a token issued for another client (audience), an expired ID token
(the validation clock moved; leeway honoured), the provider's own refusal, a disabled or
unknown provider, a provider that does not answer, and the error page browsers get."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge.sso import oidc_provider
from edge.sso.binding import COOKIE as BINDING_COOKIE
from tests.edge.conftest import Stack, fresh_ip
from tests.edge.oidc_provider import Provider, code_of, running_provider, s256

pytestmark = pytest.mark.asyncio(loop_scope="session")

CLIENT_ID = "baobei-test"
CLIENT_SECRET = "s3cret:with/odd&chars"


@pytest.fixture(scope="module")
def idp() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


class Browser:
    """One browser: the edge (in-process, its own cookie jar) and the provider (real HTTP)."""

    def __init__(self, stack: Stack, idp: Provider) -> None:
        self.edge = stack.client(token=None, ip=fresh_ip())
        self.idp = idp

    async def start(self, key: str, next_path: str | None = None, **headers: str) -> httpx.Response:
        params = {"next": next_path} if next_path is not None else None
        return await self.edge.get(f"/auth/sso/{key}/start", params=params, headers=headers)

    async def authorize(self, authorize_url: str, sub: str, *, deny: bool = False) -> str:
        """Submit the provider's form as the person ``sub``; the callback URL it redirects to."""
        async with httpx.AsyncClient(timeout=10) as http:
            form = {"action": "deny"} if deny else {"sub": sub}
            assert (await http.get(authorize_url)).status_code == 200  # the sign-in form
            r = await http.post(authorize_url, data=form)
        assert r.status_code == 302, r.text
        location = r.headers["location"]
        assert location.startswith("http://edge.test/auth/sso/"), location
        return location

    async def begin(self, key: str, sub: str, next_path: str | None = None) -> str:
        r = await self.start(key, next_path)
        assert r.status_code == 302, r.text
        return await self.authorize(r.headers["location"], sub)

    async def sign_in(self, key: str, sub: str, next_path: str | None = None, **headers: str) -> httpx.Response:
        return await self.edge.get(await self.begin(key, sub, next_path), headers=headers)

    async def me(self) -> httpx.Response:
        return await self.edge.get("/api/v1/me")

    async def aclose(self) -> None:
        await self.edge.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(stack: Stack, idp: Provider) -> AsyncIterator[Browser]:
    b = Browser(stack, idp)
    yield b
    await b.aclose()


async def provider(admin: httpx.AsyncClient, idp: Provider, *, enabled: bool = True, secret: str = CLIENT_SECRET,
                   **config: Any) -> str:
    key = f"oidc-{uuid.uuid4().hex[:8]}"
    body = {"type": "oidc", "name": "测试 SSO", "enabled": enabled,
            "config": {"issuer": idp.issuer, "client_id": CLIENT_ID, **config},
            "secrets": {"client_secret": secret} if secret else {}}
    r = await admin.put(f"/api/v1/auth-providers/{key}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["callback_url"] == f"http://edge.test/auth/sso/{key}/callback"
    return key


async def org_users(admin: httpx.AsyncClient, *users: dict[str, Any]) -> None:
    r = await admin.put("/api/v1/org", json={"departments": [], "users": list(users)})
    assert r.status_code == 200, r.text


def person(run: str, name: str = "ann", **extra: Any) -> dict[str, Any]:
    return {"id": f"{name}-{run}", "name": name, "email": f"{name}-{run}@example.com", **extra}


def error_of(r: httpx.Response) -> dict[str, Any]:
    return dict(r.json()["error"])


# ------------------------------------------------------------------ happy paths


async def test_sign_in_lands_on_next_with_a_session(stack: Stack, admin: httpx.AsyncClient, idp: Provider,
                                                    browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ANN-{run}@example.com", name="Ann")  # e-mail compared case-insensitively

    r = await browser.start(key, "/projects/42?tab=approval#top")
    assert r.status_code == 302, r.text
    authorize = urlsplit(r.headers["location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert f"{authorize.scheme}://{authorize.netloc}" == idp.issuer
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == f"http://edge.test/auth/sso/{key}/callback"
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
    assert "openid" in query["scope"].split()
    assert BINDING_COOKIE in browser.edge.cookies

    r = await browser.edge.get(await browser.authorize(r.headers["location"], f"sub-{run}"))
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/projects/42?tab=approval#top"
    # The token request carried the PKCE verifier of that challenge and the client's credentials.
    sent = idp.checks.token_requests[-1]
    assert s256(sent["form"]["code_verifier"]) == query["code_challenge"]
    assert sent["authorization"].startswith("Basic ") and "client_secret" not in sent["form"]

    me = await browser.me()
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user"]["id"] == f"ann-{run}" and body["auth_method"] == "oidc"
    assert body["session"]["method"] == "oidc" and body["session"]["provider"] == key
    links = (await admin.get(f"/api/v1/users/ann-{run}/identities")).json()["items"]
    assert [(x["provider_key"], x["subject"]) for x in links] == [(key, f"{idp.issuer}|sub-{run}")]


async def test_linked_by_email_first_then_by_subject_after_the_email_changed(
        stack: Stack, admin: httpx.AsyncClient, idp: Provider) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run), person(run, "bob"))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    first = Browser(stack, idp)
    try:
        assert (await first.sign_in(key, f"sub-{run}")).status_code == 303
        assert (await first.me()).json()["user"]["id"] == f"ann-{run}"
    finally:
        await first.aclose()
    # Ann's address at the provider changes, even to one of another org user: the link by
    # subject holds, nobody is re-matched.
    idp.set_user(f"sub-{run}", email=f"bob-{run}@example.com")
    second = Browser(stack, idp)
    try:
        r = await second.sign_in(key, f"sub-{run}")
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        assert (await second.me()).json()["user"]["id"] == f"ann-{run}"
    finally:
        await second.aclose()
    links = (await admin.get(f"/api/v1/users/ann-{run}/identities")).json()["items"]
    assert len(links) == 1 and links[0]["last_sign_in_at"]
    assert (await admin.get(f"/api/v1/users/bob-{run}/identities")).json()["items"] == []


async def test_client_secret_post_and_public_clients(admin: httpx.AsyncClient, idp: Provider,
                                                                browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp, token_auth_method="client_secret_post")
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    assert (await browser.sign_in(key, f"sub-{run}")).status_code == 303
    sent = idp.checks.token_requests[-1]
    assert sent["form"]["client_id"] == CLIENT_ID and sent["form"]["client_secret"] == CLIENT_SECRET
    assert not sent["authorization"]
    # Without a secret the edge is a public client: only its id, PKCE proves the rest. This mock
    # (Authlib's code grant without the PKCE extension) takes no public clients: its refusal is a
    # 502 naming the provider's error, as any token endpoint refusal other than a bad code.
    key = await provider(admin, idp, secret="")
    r = await browser.sign_in(key, f"sub-{run}")
    assert r.status_code == 502 and error_of(r)["code"] == "sso_token_failed", r.text
    assert "invalid_client" in error_of(r)["message"]
    sent = idp.checks.token_requests[-1]
    assert sent["form"]["client_id"] == CLIENT_ID and "client_secret" not in sent["form"]
    assert not sent["authorization"] and sent["form"]["code_verifier"]


# ------------------------------------------------------------------ who may not sign in


async def test_unknown_person_is_refused_and_nobody_is_created(stack: Stack, admin: httpx.AsyncClient, idp: Provider,
                                                               browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    key = await provider(admin, idp)
    idp.set_user(f"stranger-{run}", email=f"stranger-{run}@example.com")
    before = len((await stack.deps.stubs["registry"].ListUsers(registry_pb2.ListUsersRequest())).users)
    r = await browser.sign_in(key, f"stranger-{run}")
    assert r.status_code == 403 and error_of(r)["code"] == "sso_user_unknown", r.text
    assert "bb_session" not in r.headers.get("set-cookie", "")
    assert (await browser.me()).status_code == 401
    after = (await stack.deps.stubs["registry"].ListUsers(registry_pb2.ListUsersRequest())).users
    assert len(after) == before and not [u for u in after if run in u.id]


async def test_two_users_with_the_email_are_ambiguous(admin: httpx.AsyncClient, idp: Provider,
                                                      browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    shared = f"team-{run}@example.com"
    await org_users(admin, person(run, email=shared), person(run, "bob", email=shared))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=shared)
    r = await browser.sign_in(key, f"sub-{run}")
    assert r.status_code == 409 and error_of(r)["code"] == "sso_user_ambiguous", r.text


async def test_departed_user_is_refused(stack: Stack, admin: httpx.AsyncClient, idp: Provider) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    before = Browser(stack, idp)
    try:
        assert (await before.sign_in(key, f"sub-{run}")).status_code == 303  # linked
    finally:
        await before.aclose()
    await stack.deps.stubs["registry"].UpsertOrg(registry_pb2.UpsertOrgRequest(
        request_id=uuid.uuid4().hex, users=[registry_pb2.User(id=f"ann-{run}", name="ann", left=True)]))
    after = Browser(stack, idp)
    try:
        r = await after.sign_in(key, f"sub-{run}")
        assert r.status_code == 403 and error_of(r)["code"] == "user_left", r.text
        assert (await after.me()).status_code == 401
    finally:
        await after.aclose()


async def test_unverified_email_claims_nobody(admin: httpx.AsyncClient, idp: Provider, browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com", email_verified=False)
    r = await browser.sign_in(key, f"sub-{run}")
    assert r.status_code == 403 and error_of(r)["code"] == "sso_email_unverified", r.text


async def test_missing_match_claim_is_asked_of_userinfo_then_refused(admin: httpx.AsyncClient, idp: Provider,
                                                                     browser: Browser) -> None:
    """The ID token lacks the claim: the userinfo endpoint is asked (with the access token, its
    sub checked), and without it either the sign-in is refused naming the claim."""
    run = uuid.uuid4().hex[:8]
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"  # the stack is shared: a number no other test uses
    await org_users(admin, person(run, mobile=mobile))
    key = await provider(admin, idp, match_field="mobile", match_claim="phone_number")  # no "phone" scope
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com", phone_number=mobile)
    seen = len(idp.checks.paths)
    r = await browser.sign_in(key, f"sub-{run}")
    assert r.status_code == 403 and error_of(r)["code"] == "sso_claim_missing", r.text
    assert idp.checks.paths[seen:][-1] == "/userinfo"
    assert error_of(r)["details"][0]["field"] == "id_token.phone_number"
    # With the scope granted the provider sends it, and the user is found by mobile.
    key = await provider(admin, idp, match_field="mobile", match_claim="phone_number",
                         scopes=["openid", "phone"])
    r = await browser.sign_in(key, f"sub-{run}")
    assert r.status_code == 303, r.text
    assert (await browser.me()).json()["user"]["id"] == f"ann-{run}"


# ------------------------------------------------------------------ state, code, token


async def test_bad_state_is_refused(stack: Stack, admin: httpx.AsyncClient, idp: Provider, browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    other_key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    callback = await browser.begin(key, f"sub-{run}", "/after")
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    async def refused(url: str, why: str, client: httpx.AsyncClient | None = None) -> None:
        r = await (client or browser.edge).get(url)
        assert r.status_code == 400, r.text
        assert error_of(r)["code"] == "sso_state_invalid" and error_of(r)["details"][0]["field"] == f"state.{why}"

    await refused(f"/auth/sso/{key}/callback?code={query['code']}&state=forged-{run}", "unknown")
    await refused(f"/auth/sso/{key}/callback?code={query['code']}", "unknown")
    await refused(f"/auth/sso/{other_key}/callback?{parts.query}", "provider")
    # Another browser (no binding cookie, or its own) cannot use this state …
    async with stack.client(token=None, ip=fresh_ip()) as thief:
        await refused(callback, "browser", thief)
        assert (await thief.get(f"/auth/sso/{key}/start")).status_code == 302  # the thief's own binding
        await refused(callback, "browser", thief)
    # … and did not spend it: the browser that started the sign-in still finishes it.
    r = await browser.edge.get(callback)
    assert r.status_code == 303 and r.headers["location"] == "/after", r.text


async def test_replayed_code_is_refused(admin: httpx.AsyncClient, idp: Provider, browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    callback = await browser.begin(key, f"sub-{run}")
    # The callback twice at once (a double click): one sign-in, one refusal.
    first, second = await asyncio.gather(browser.edge.get(callback), browser.edge.get(callback))
    assert sorted([first.status_code, second.status_code]) == [303, 400], (first.text, second.text)
    used = idp.checks.token_requests[-1]

    # The same callback again (same browser): its state was used.
    r = await browser.edge.get(callback)
    assert r.status_code == 400 and error_of(r)["code"] == "sso_state_invalid", r.text
    # The provider refuses the code too: the edge's exact token request, sent again.
    async with httpx.AsyncClient(timeout=10) as http:
        again = await http.post(f"{idp.issuer}/oauth2/token", data=used["form"],
                                headers={"Authorization": used["authorization"]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    # The used code pushed into a fresh sign-in of this browser (a valid state): refused at the
    # token endpoint (used code; and its PKCE challenge was another sign-in's).
    fresh = await browser.begin(key, f"sub-{run}")
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    r = await browser.edge.get(f"/auth/sso/{key}/callback", params={"code": code_of(callback), "state": state})
    assert r.status_code == 400 and error_of(r)["code"] == "sso_code_invalid", r.text


async def test_token_for_another_client_is_refused(admin: httpx.AsyncClient, idp: Provider, browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    idp.checks.issue_for = "another-app"
    try:
        r = await browser.sign_in(key, f"sub-{run}")
    finally:
        idp.checks.issue_for = ""
    assert r.status_code == 403, r.text
    assert error_of(r)["code"] == "sso_id_token_invalid" and error_of(r)["details"][0]["field"] == "id_token.aud"
    assert (await browser.me()).status_code == 401


async def test_expired_id_token_is_refused(admin: httpx.AsyncClient, idp: Provider, browser: Browser,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's tokens live 1 h; the edge allows 60 s of clock skew (config default). The
    validation clock is moved past expiry + skew (refused), then just inside the skew (accepted)."""
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    real = time.time
    monkeypatch.setattr(oidc_provider, "now", lambda: real() + 3600 + 60 + 30)
    r = await browser.sign_in(key, f"sub-{run}")
    assert r.status_code == 403, r.text
    assert error_of(r)["code"] == "sso_id_token_invalid" and error_of(r)["details"][0]["field"] == "id_token.exp"
    monkeypatch.setattr(oidc_provider, "now", lambda: real() + 3600 + 60 - 30)
    assert (await browser.sign_in(key, f"sub-{run}")).status_code == 303


# ------------------------------------------------------------------ provider and request problems


async def test_next_never_leaves_the_site(admin: httpx.AsyncClient, idp: Provider, browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    await org_users(admin, person(run))
    key = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        r = await browser.sign_in(key, f"sub-{run}", target)
        assert r.status_code == 303 and r.headers["location"] == "/", (target, r.text)


async def test_provider_refusal_is_shown(admin: httpx.AsyncClient, idp: Provider, browser: Browser) -> None:
    key = await provider(admin, idp)
    r = await browser.start(key, "/x")
    callback = await browser.authorize(r.headers["location"], "", deny=True)
    # The mock leaves the state out of its error redirect: the refusal is shown all the same,
    # without the provider's free text.
    assert "error=access_denied" in callback and "state=" not in callback
    page = await browser.edge.get(callback, headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "登录失败" in page.text and "sso_denied" in page.text and "resource owner" not in page.text
    assert page.headers["cache-control"] == "no-store"
    # A provider that returns the state (as RFC 6749 asks): its description is shown (escaped),
    # the way back leads to the sign-in page with the same `next`, and the sign-in is spent.
    r = await browser.start(key, "/x")
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    params = {"error": "access_denied", "error_description": "用户取消了 <b>授权</b>", "state": state}
    page = await browser.edge.get(f"/auth/sso/{key}/callback", params=params, headers={"Accept": "text/html"})
    assert page.status_code == 403 and "用户取消了 &lt;b&gt;授权&lt;/b&gt;" in page.text, page.text
    assert 'href="/signin?next=/x"' in page.text
    r = await browser.edge.get(f"/auth/sso/{key}/callback", params={"code": "x", "state": state})
    assert r.status_code == 400 and error_of(r)["code"] == "sso_state_invalid", r.text
    # Another error from the provider is its failure (502); the same words without a valid state
    # could be anyone's link: a bad request (400).
    r = await browser.start(key)
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    r = await browser.edge.get(f"/auth/sso/{key}/callback", params={"error": "server_error", "state": state})
    assert r.status_code == 502 and error_of(r)["code"] == "sso_provider_error", r.text
    r = await browser.edge.get(f"/auth/sso/{key}/callback", params={"error": "server_error"})
    assert r.status_code == 400 and error_of(r)["code"] == "sso_provider_error", r.text


async def test_disabled_unknown_and_non_oidc_providers(admin: httpx.AsyncClient, idp: Provider,
                                                       browser: Browser) -> None:
    run = uuid.uuid4().hex[:8]
    key = await provider(admin, idp, enabled=False)
    r = await browser.start(key)
    # A disabled provider is as unknown to a sign-in page as a missing one (edge.sso.router).
    assert r.status_code == 404 and error_of(r)["code"] == "provider_not_found", r.text
    r = await browser.start(f"none-{run}")
    assert r.status_code == 404 and error_of(r)["code"] == "provider_not_found", r.text
    r = await admin.put(f"/api/v1/auth-providers/ldap-{run}", json={
        "type": "ldap", "config": {"url": "ldap://127.0.0.1:1", "base_dn": "dc=example"}})
    assert r.status_code == 200, r.text
    assert (await browser.start(f"ldap-{run}")).status_code == 404
    # Disabled between start and callback: refused at the callback.
    await org_users(admin, person(run))
    live = await provider(admin, idp)
    idp.set_user(f"sub-{run}", email=f"ann-{run}@example.com")
    callback = await browser.begin(live, f"sub-{run}")
    current = (await admin.get(f"/api/v1/auth-providers/{live}")).json()
    r = await admin.put(f"/api/v1/auth-providers/{live}", json={
        "type": "oidc", "enabled": False, "config": current["config"]})
    assert r.status_code == 200, r.text
    r = await browser.edge.get(callback)
    # A disabled provider is as unknown to a sign-in page as a missing one (edge.sso.router).
    assert r.status_code == 404 and error_of(r)["code"] == "provider_not_found", r.text


async def test_provider_that_does_not_answer(admin: httpx.AsyncClient, browser: Browser) -> None:
    from cli.dev import free_port

    r = await admin.put(f"/api/v1/auth-providers/down-{uuid.uuid4().hex[:8]}", json={
        "type": "oidc", "config": {"issuer": f"http://127.0.0.1:{free_port()}", "client_id": CLIENT_ID}})
    assert r.status_code == 200, r.text
    r = await browser.start(r.json()["key"])
    assert r.status_code == 502 and error_of(r)["code"] == "sso_provider_unavailable", r.text


async def test_issuer_must_be_https_off_loopback(admin: httpx.AsyncClient) -> None:
    r = await admin.put(f"/api/v1/auth-providers/plain-{uuid.uuid4().hex[:8]}", json={
        "type": "oidc", "config": {"issuer": "http://sso.example.com/realms/x", "client_id": CLIENT_ID}})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "config.issuer", r.text
