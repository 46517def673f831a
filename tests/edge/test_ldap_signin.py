"""LDAP / Active Directory sign-in (issue 13) against a real OpenLDAP ``slapd`` (tests/ldap_server.py):
a provider configured over the API, a person added to the directory per test, the org user they
map to, and ``POST /auth/ldap/{key}/login`` as JSON and as the sign-in page's form."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from cli.tools.slapd import Directory
from edge import sessions
from edge.app import create_app
from edge.sso import ldap as ldap_route
from edge.sso import ldap_directory
from tests.conftest import free_port
from tests.edge.conftest import Stack
from tests.ldap_server import Person, add_person, directory, modify

pytestmark = pytest.mark.asyncio(loop_scope="session")

API = "/api/v1"


@pytest.fixture(scope="session")
def ldap_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    yield from directory(tmp_path_factory.mktemp("slapd"))


def browser(stack: Stack) -> httpx.AsyncClient:
    """A browser (no token, keeps cookies) at an address of its own: refused sign-ins are counted
    per client address in a Redis other tests share."""
    transport = httpx.ASGITransport(app=stack.app, client=(f"2001:db8:1d::{uuid.uuid4().hex[:4]}", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://edge.test", timeout=60)


@pytest_asyncio.fixture(loop_scope="session")
async def anon(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(stack) as client:
        yield client


def login_url(key: str) -> str:
    return f"/auth/ldap/{key}/login"


async def provider(admin: httpx.AsyncClient, d: Directory, *, enabled: bool = True,
                   secrets: dict[str, str] | None = None, **config: Any) -> str:
    """A new LDAP provider searching as the service account (overrides in ``config``)."""
    key = f"ldap-{uuid.uuid4().hex[:8]}"
    body = {"type": "ldap", "name": "公司目录", "enabled": enabled,
            "config": {"url": d.url, "bind_dn": d.bind_dn, "base_dn": d.base_dn, **config},
            "secrets": {"bind_password": d.bind_password} if secrets is None else secrets}
    r = await admin.put(f"{API}/auth-providers/{key}", json=body)
    assert r.status_code == 200, r.text
    return key


async def org_user(admin: httpx.AsyncClient, *, email: str = "", mobile: str = "") -> str:
    uid = f"lu-{uuid.uuid4().hex[:8]}"
    dept = f"ld-{uid}"
    user = {"id": uid, "name": "目录用户", "department_id": dept, "roles": ["sales"],
            **({"email": email} if email else {}), **({"mobile": mobile} if mobile else {})}
    r = await admin.put(f"{API}/org", json={"departments": [{"id": dept, "name": "目录部门"}], "users": [user]})
    assert r.status_code == 200, r.text
    return uid


async def person_and_user(admin: httpx.AsyncClient, d: Directory) -> tuple[Person, str]:
    person = add_person(d)
    return person, await org_user(admin, email=person.mail)


def error(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


async def test_sign_in_opens_a_session_keyed_on_entry_uuid(stack: Stack, admin: httpx.AsyncClient,
                                                            anon: httpx.AsyncClient, ldap_dir: Directory) -> None:
    key = await provider(admin, ldap_dir)
    person, user_id = await person_and_user(admin, ldap_dir)
    r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["id"] == user_id and body["session"]["method"] == "ldap"
    assert body["session"]["provider"] == key and body["csrf_token"]
    assert anon.cookies.get(sessions.COOKIE)
    me = await anon.get(f"{API}/me")
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == user_id and me.json()["auth_method"] == "ldap"
    links = (await admin.get(f"{API}/users/{user_id}/identities")).json()["items"]
    assert [(x["provider_key"], x["subject"], x["display"]) for x in links] == [(key, person.entry_uuid, person.uid)]


async def test_first_sign_in_links_by_mail_later_ones_by_entry_uuid(stack: Stack, admin: httpx.AsyncClient,
                                                                     ldap_dir: Directory) -> None:
    key = await provider(admin, ldap_dir)
    person, user_id = await person_and_user(admin, ldap_dir)
    async with browser(stack) as b:
        r = await b.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 200 and r.json()["user"]["id"] == user_id, r.text
    # The mail changes in the directory (and matches nobody now): the link by entryUUID holds.
    modify(ldap_dir, person.dn, mail=f"renamed-{uuid.uuid4().hex[:6]}@ldap.baobei.test")
    async with browser(stack) as b:
        r = await b.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 200 and r.json()["user"]["id"] == user_id, r.text
    # A second person given the first one's old mail is not taken for them (no duplicate links).
    other = add_person(ldap_dir, mail=person.mail)
    async with browser(stack) as b:
        r = await b.post(login_url(key), json={"login": other.uid, "password": other.password})
    assert r.status_code == 409 and error(r) == "sso_identity_conflict", r.text


async def test_match_on_mobile(stack: Stack, admin: httpx.AsyncClient, anon: httpx.AsyncClient,
                               ldap_dir: Directory) -> None:
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"
    key = await provider(admin, ldap_dir, match_field="mobile", match_attribute="mobile")
    person = add_person(ldap_dir, mobile=f"+86 {mobile[:3]}-{mobile[3:]}")
    user_id = await org_user(admin, mobile=mobile)
    r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
    assert r.status_code == 200 and r.json()["user"]["id"] == user_id, r.text


async def test_wrong_password_and_unknown_login_get_one_answer(
    stack: Stack, admin: httpx.AsyncClient, anon: httpx.AsyncClient, ldap_dir: Directory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failures: list[dict[str, Any]] = []
    real = ldap_route.sign_in_failed

    async def record(*args: Any, **kwargs: Any) -> None:
        failures.append(kwargs)
        await real(*args, **kwargs)

    monkeypatch.setattr(ldap_route, "sign_in_failed", record)
    key = await provider(admin, ldap_dir)
    person, _ = await person_and_user(admin, ldap_dir)
    wrong = await anon.post(login_url(key), json={"login": person.uid, "password": person.password + "x"})
    unknown = await anon.post(login_url(key), json={"login": f"nobody-{uuid.uuid4().hex[:6]}", "password": "x"})
    for r in (wrong, unknown):
        assert r.status_code == 401 and error(r) == "invalid_credentials", r.text
        assert r.json()["error"]["message"] == "用户名或密码错误"
        assert sessions.COOKIE not in r.cookies
    assert wrong.json() == unknown.json()
    assert [(f["reason"], f["provider"], f["method"]) for f in failures] == [
        ("wrong_password", key, "ldap"), ("unknown_login", key, "ldap")]
    assert all("password" not in str(f).lower().replace("wrong_password", "") for f in failures)
    r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password + "x"},
                        headers={"Accept-Language": "en"})
    assert r.json()["error"]["message"] == "wrong login or password"


async def test_empty_password_is_refused_before_any_bind(stack: Stack, admin: httpx.AsyncClient,
                                                         anon: httpx.AsyncClient, ldap_dir: Directory,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    key = await provider(admin, ldap_dir)
    person, _ = await person_and_user(admin, ldap_dir)

    def no_connection(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("connected to LDAP for an empty password")

    monkeypatch.setattr(ldap_directory, "_connect", no_connection)
    for body in ({"login": person.uid, "password": ""}, {"login": person.uid}, {"login": "  ", "password": "x"}):
        r = await anon.post(login_url(key), json=body)
        assert r.status_code == 401 and error(r) == "invalid_credentials", (body, r.text)
    r = await anon.post(login_url(key), json={"password": "x"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "login", r.text


async def test_the_login_cannot_rewrite_the_filter(stack: Stack, admin: httpx.AsyncClient, anon: httpx.AsyncClient,
                                                   ldap_dir: Directory) -> None:
    key = await provider(admin, ldap_dir)
    person, _ = await person_and_user(admin, ldap_dir)
    for login in ("*", "*)(uid=*", f"{person.uid})(|(uid=*", f"{person.uid[:4]}*", "\\2a", f"{person.uid}\x00"):
        r = await anon.post(login_url(key), json={"login": login, "password": person.password})
        assert r.status_code == 401 and error(r) == "invalid_credentials", (login, r.text)
    # Filter characters in a real login match literally.
    odd = add_person(ldap_dir, uid=f"o*(d)\\{uuid.uuid4().hex[:6]}")
    user_id = await org_user(admin, email=odd.mail)
    r = await anon.post(login_url(key), json={"login": odd.uid, "password": odd.password})
    assert r.status_code == 200 and r.json()["user"]["id"] == user_id, r.text


async def test_directory_person_without_org_user(stack: Stack, admin: httpx.AsyncClient, anon: httpx.AsyncClient,
                                                 ldap_dir: Directory) -> None:
    key = await provider(admin, ldap_dir)
    person = add_person(ldap_dir)
    r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
    assert r.status_code == 404 and error(r) == "sso_user_unknown", r.text
    assert sessions.COOKIE not in r.cookies


async def test_departed_org_user_is_refused(stack: Stack, admin: httpx.AsyncClient, ldap_dir: Directory) -> None:
    key = await provider(admin, ldap_dir)
    person, user_id = await person_and_user(admin, ldap_dir)
    async with browser(stack) as b:  # linked while still here
        r = await b.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 200, r.text
    await stack.deps.stubs["registry"].UpsertOrg(registry_pb2.UpsertOrgRequest(
        request_id=uuid.uuid4().hex, users=[registry_pb2.User(
            id=user_id, name="目录用户", department_id=f"ld-{user_id}", roles=["sales"], left=True)]))
    async with browser(stack) as b:
        r = await b.post(login_url(key), json={"login": person.uid, "password": person.password})
    assert r.status_code == 403 and error(r) == "user_left", r.text


async def test_unreachable_or_non_ldap_server_is_a_clear_503(stack: Stack, admin: httpx.AsyncClient,
                                                             anon: httpx.AsyncClient, ldap_dir: Directory) -> None:
    person, _ = await person_and_user(admin, ldap_dir)
    closed = f"ldap://127.0.0.1:{free_port()}"
    with _not_ldap() as garbage:
        for url in (closed, garbage):
            key = await provider(admin, ldap_dir, url=url, timeout_seconds=2)
            r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
            assert r.status_code == 503 and error(r) == "ldap_unavailable", (url, r.text)
    # Several servers: the first that answers is used.
    key = await provider(admin, ldap_dir, url=f"{closed} {ldap_dir.url}")
    r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
    assert r.status_code == 200, r.text


async def test_misconfigured_provider_is_a_clear_502(stack: Stack, admin: httpx.AsyncClient,
                                                     anon: httpx.AsyncClient, ldap_dir: Directory) -> None:
    person, _ = await person_and_user(admin, ldap_dir)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"secrets": {"bind_password": "not-the-password"}}, "ldap_bind_failed"),
        ({"secrets": {}}, "ldap_bind_failed"),  # a bind_dn without its password
        ({"base_dn": "dc=nowhere,dc=test"}, "ldap_config_invalid"),
        ({"user_filter": "((uid={login})"}, "ldap_config_invalid"),
        ({"subject_attribute": "employeeNumber"}, "ldap_config_invalid"),  # no such value on the entry
    ]
    for overrides, code in cases:
        key = await provider(admin, ldap_dir, **overrides)
        r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 502 and error(r) == code, (overrides, r.text)


async def test_anonymous_search(stack: Stack, admin: httpx.AsyncClient, anon: httpx.AsyncClient,
                                ldap_dir: Directory) -> None:
    key = await provider(admin, ldap_dir, bind_dn="", secrets={})
    person, user_id = await person_and_user(admin, ldap_dir)
    r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
    assert r.status_code == 200 and r.json()["user"]["id"] == user_id, r.text


async def test_tls_checks_the_certificate(stack: Stack, admin: httpx.AsyncClient, anon: httpx.AsyncClient,
                                          ldap_dir: Directory) -> None:
    if not (ldap_dir.ldaps_url and ldap_dir.ca_file):
        pytest.skip("the directory named by BAOBEI_TEST_LDAP_URL offers no TLS (BAOBEI_TEST_LDAP_LDAPS_URL, _CA_FILE)")
    ca = Path(ldap_dir.ca_file).read_text()
    person, user_id = await person_and_user(admin, ldap_dir)
    for config in ({"url": ldap_dir.ldaps_url, "ca_pem": ca}, {"url": ldap_dir.url, "start_tls": True, "ca_pem": ca}):
        key = await provider(admin, ldap_dir, **config)
        async with browser(stack) as b:
            r = await b.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 200 and r.json()["user"]["id"] == user_id, (config, r.text)
    # Our test CA is not among the system's: the certificate is refused, nothing is sent.
    for config in ({"url": ldap_dir.ldaps_url}, {"url": ldap_dir.url, "start_tls": True}):
        key = await provider(admin, ldap_dir, **config)
        r = await anon.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 502 and error(r) == "ldap_tls_failed", (config, r.text)


async def test_disabled_unknown_and_other_type_providers(stack: Stack, admin: httpx.AsyncClient,
                                                         anon: httpx.AsyncClient, ldap_dir: Directory) -> None:
    person, _ = await person_and_user(admin, ldap_dir)
    key = await provider(admin, ldap_dir, enabled=False)
    creds = {"login": person.uid, "password": person.password}
    r = await anon.post(login_url(key), json=creds)
    assert r.status_code == 403 and error(r) == "provider_disabled", r.text
    r = await anon.post(login_url(f"missing-{uuid.uuid4().hex[:6]}"), json=creds)
    assert r.status_code == 404 and error(r) == "provider_not_found", r.text
    oidc = f"oidc-{uuid.uuid4().hex[:6]}"
    r = await admin.put(f"{API}/auth-providers/{oidc}", json={
        "type": "oidc", "config": {"issuer": "https://sso.example.com", "client_id": "baobei"}})
    assert r.status_code == 200, r.text
    r = await anon.post(login_url(oidc), json=creds)
    assert r.status_code == 404 and error(r) == "provider_not_found", r.text


async def test_sign_in_page_form_post(stack: Stack, admin: httpx.AsyncClient, ldap_dir: Directory) -> None:
    key = await provider(admin, ldap_dir)
    person, user_id = await person_and_user(admin, ldap_dir)
    async with browser(stack) as b:
        r = await b.post(login_url(key), data={"login": person.uid, "password": person.password,
                                                     "next": "/projects?tab=mine"},
                               headers={"Origin": "http://edge.test"})
        assert r.status_code == 303 and r.headers["location"] == "/projects?tab=mine", r.text
        assert (await b.get(f"{API}/me")).json()["user"]["id"] == user_id
    async with browser(stack) as b:
        r = await b.post(login_url(key), data={"login": person.uid, "password": person.password,
                                                     "next": "//evil.example/x"})
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        r = await b.post(login_url(key), data={"login": person.uid, "password": "wrong", "next": "/x"})
        assert r.status_code == 303, r.text
        assert r.headers["location"] == f"/signin?error=invalid_credentials&provider={key}&next=%2Fx"
        r = await b.post(login_url(key), data={"login": "", "password": "x"})
        assert r.headers["location"] == f"/signin?error=validation_failed&provider={key}"
        # Posted from another site (login CSRF): refused outright.
        r = await b.post(login_url(key), data={"login": person.uid, "password": person.password},
                               headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and error(r) == "origin_mismatch", r.text
        assert sessions.COOKIE not in r.cookies


async def test_provider_settings_are_checked(admin: httpx.AsyncClient, ldap_dir: Directory) -> None:
    base = {"url": ldap_dir.url, "base_dn": ldap_dir.base_dn}
    for config, field in (({**base, "url": "http://dc.corp"}, "config.url"),
                          ({**base, "url": "ldaps://dc.corp", "start_tls": True}, "config.start_tls"),
                          ({**base, "user_filter": "(uid=fixed)"}, "config.user_filter"),
                          ({**base, "timeout_seconds": 0}, "config.timeout_seconds")):
        r = await admin.put(f"{API}/auth-providers/ldap-{uuid.uuid4().hex[:6]}", json={"type": "ldap",
                                                                                       "config": config})
        assert r.status_code == 422, r.text
        assert [d["field"] for d in r.json()["error"]["details"]] == [field], r.text
    ad = {**base, "user_filter": "(&(objectClass=user)(sAMAccountName={login}))", "subject_attribute": "objectGUID"}
    r = await admin.put(f"{API}/auth-providers/ad-{uuid.uuid4().hex[:6]}", json={"type": "ldap", "config": ad})
    assert r.status_code == 200 and r.json()["start_url"].endswith("/login"), r.text


async def test_refused_sign_ins_are_limited_per_address(stack: Stack, admin: httpx.AsyncClient,
                                                        ldap_dir: Directory) -> None:
    settings = stack.settings.model_copy(update={"rate_limit_window_seconds": 3600,
                                                 "rate_limit_login_failures": 2})
    app = create_app(settings, deps=stack.deps)
    key = await provider(admin, ldap_dir)
    person, _ = await person_and_user(admin, ldap_dir)

    def client_at(ip: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
                                 base_url="http://edge.test", timeout=60)

    ip = f"2001:db8::{uuid.uuid4().hex[:4]}"
    async with client_at(ip) as c:
        for _ in range(2):
            r = await c.post(login_url(key), json={"login": person.uid, "password": "guess"})
            assert r.status_code == 401, r.text
        r = await c.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 429 and error(r) == "rate_limited" and int(r.headers["Retry-After"]) >= 1, r.text
    async with client_at(f"2001:db8::{uuid.uuid4().hex[:4]}") as c:  # another address is not held back
        r = await c.post(login_url(key), json={"login": person.uid, "password": person.password})
        assert r.status_code == 200, r.text


class _not_ldap:
    """A TCP server that answers like a web server: what a wrong port looks like (an ldap:// URL to it)."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return f"ldap://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        self.thread.join(5)
