"""``baobei dev --dev-oidc``: the supervisor starts the local OIDC provider as a child process
(the real ``oidc-provider-mock`` command), its registration as ``dev-oidc`` goes through the admin
API of the in-process stack, and then the SSO button works as the ready message says: an org
user's e-mail typed as ``sub`` signs in as that user."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from baobei.core.settings import Settings
from cli import dev_oidc
from cli.dev import Supervisor, free_port
from cli.main import _settings
from tests.edge.conftest import Stack, fresh_ip


@pytest.fixture(scope="module")
def dev_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    supervisor = Supervisor(Settings(data_dir=tmp_path_factory.mktemp("dev"), dev_oidc=True,
                                     dev_oidc_port=free_port()), verbose=False)
    try:
        yield supervisor.start_dev_oidc()
    finally:
        supervisor.shutdown()


def test_the_flag_and_the_variable_turn_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings(argparse.Namespace(dev_oidc=True)).dev_oidc is True
    monkeypatch.setenv("BAOBEI_DEV_OIDC", "1")
    assert Settings().dev_oidc is True
    monkeypatch.delenv("BAOBEI_DEV_OIDC")
    assert Settings().dev_oidc is False and _settings(argparse.Namespace()).dev_oidc is False


@pytest.mark.asyncio(loop_scope="session")
async def test_dev_provider_registered_and_signing_in(stack: Stack, admin: httpx.AsyncClient, dev_provider: str,
                                                      tmp_path: Path) -> None:
    path, body = dev_oidc.registration(dev_provider)
    for _ in range(2):  # registering again (a restart) changes nothing
        r = await admin.put(path, json=body)
        assert r.status_code == 200 and r.json()["enabled"] and r.json()["type"] == "oidc", r.text
    methods = (await admin.get("/auth/methods")).json()["providers"]
    listed = next(p for p in methods if p["key"] == dev_oidc.KEY)
    assert listed["start_url"] == f"/auth/sso/{dev_oidc.KEY}/start"

    run = uuid.uuid4().hex[:8]
    email = f"dev-{run}@example.com"
    r = await admin.put("/api/v1/org", json={"users": [{"id": f"dev-{run}", "name": "开发者", "email": email}]})
    assert r.status_code == 200, r.text
    async with stack.client(token=None, ip=fresh_ip()) as browser, httpx.AsyncClient(timeout=10) as http:
        r = await browser.get(listed["start_url"], params={"next": "/projects"})
        assert r.status_code == 302 and r.headers["location"].startswith(dev_provider), r.text
        form = await http.get(r.headers["location"])
        assert form.status_code == 200 and 'name="sub"' in form.text
        r = await http.post(r.headers["location"], data={"sub": email})  # what the ready message says to type
        assert r.status_code == 302, r.text
        r = await browser.get(r.headers["location"])
        assert r.status_code == 303 and r.headers["location"] == "/projects", r.text
        me = (await browser.get("/api/v1/me")).json()
    assert me["user"]["id"] == f"dev-{run}" and me["session"]["provider"] == dev_oidc.KEY

    lines = "\n".join(dev_oidc.ready_lines("http://127.0.0.1:8000", dev_provider))
    assert "http://127.0.0.1:8000/signin" in lines and "e-mail" in lines and dev_provider in lines
