"""The edge serves the built web app: index.html for history-mode routes (no-cache, the app's CSP),
hashed assets as immutable files, a clear page when the app is not built, and nothing outside
web/dist (no path traversal). The full app in Chromium: tests/browser."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from baobei.core.settings import Settings
from edge.app import create_app


def _client(dist: Path) -> httpx.AsyncClient:
    app = create_app(Settings(admin_token="web-app-test", web_dist=str(dist)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge.test")


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("nope")
    return tmp_path


async def test_history_routes_get_index_html(dist: Path) -> None:
    async with _client(dist) as c:
        for path in ("/", "/projects/p-1", "/approvals?tab=done", "/my-tasks/t-9"):
            r = await c.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-type"].startswith("text/html")
            assert "id=app" in r.text
            assert r.headers["cache-control"] == "no-cache"
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp


async def test_assets_are_immutable_and_confined(dist: Path) -> None:
    async with _client(dist) as c:
        r = await c.get("/assets/index-abc123.js")
        assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
        assert "javascript" in r.headers["content-type"]
        assert (await c.get("/assets/missing.js")).status_code == 404
        for bad in ("/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
            r = await c.get(bad)  # normalised by the client or refused: never the file outside dist
            assert "nope" not in r.text, bad


async def test_reserved_prefixes_and_other_methods_stay_json(dist: Path) -> None:
    async with _client(dist) as c:
        r = await c.get("/auth/nowhere")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await c.post("/projects/p-1")
        assert r.status_code in (404, 405) and r.json()["error"]["code"]


async def test_not_built_says_how_to_build(tmp_path: Path) -> None:
    async with _client(tmp_path / "missing") as c:
        r = await c.get("/projects")
        assert r.status_code == 503 and "./bb web build" in r.text
