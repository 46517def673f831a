"""Browser tests: the built web app on a real ``baobei dev`` (child process, free ports), driven in
Debian's Chromium by Playwright, at desktop and phone sizes. Screenshots go to
``artifacts/screenshots/<name>-<size>.png``; ``accessible(page, name)`` runs axe-core and fails on
any serious or critical violation. They run once, on the embedded defaults (not in the
PostgreSQL pass)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.devstack import DevStack, launch, stack_env
from cli.tools import chromium, web
from tests.browser import seed

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
SIZES = {"desktop": {"width": 1366, "height": 860}, "phone": {"width": 390, "height": 844}}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

if os.environ.get("BAOBEI_TEST_PG_URL"):
    # The PostgreSQL pass runs what touches storage; the browser journey runs once, on the defaults.
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    web.build()
    stack = launch(tmp_path_factory.mktemp("baobei-web"), stack_env())
    try:
        seed.seed(stack.base, stack.token)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module, not per session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, which would break every asyncio test collected after tests/browser.
    from playwright.sync_api import sync_playwright

    exe = chromium.ensure()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def people(web_stack: DevStack) -> Iterator[dict[str, httpx.Client]]:
    """An API client acting as each demo person (admin-issued personal tokens)."""
    clients: dict[str, httpx.Client] = {}
    with web_stack.client() as admin:
        for p in seed.PEOPLE:
            token = admin.post(f"/api/v1/users/{p.id}/tokens", json={"name": "browser test"}).raise_for_status()
            clients[p.id] = web_stack.client(token.json()["token"])
    try:
        yield clients
    finally:
        for c in clients.values():
            c.close()


@dataclass
class UI:
    """Opens signed-in pages; remembers what it opened so each test closes its contexts."""

    browser: Any
    base: str
    contexts: list[Any] = field(default_factory=list)

    def page(self, who: seed.Person | None = None, size: str = "desktop") -> Any:
        ctx = self.browser.new_context(viewport=SIZES[size], locale="zh-CN", base_url=self.base,
                                       is_mobile=size == "phone", has_touch=size == "phone")
        ctx.set_default_timeout(15_000)
        self.contexts.append(ctx)
        if who is not None:
            r = ctx.request.post(f"{self.base}/auth/login", data={"login": who.id, "password": seed.PASSWORD})
            assert r.ok, r.text()
        page = ctx.new_page()
        page.bb_size = size  # type: ignore[attr-defined]
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
        self.contexts.clear()


@pytest.fixture
def ui(browser: Any, web_stack: DevStack) -> Iterator[UI]:
    opened = UI(browser, web_stack.base)
    try:
        yield opened
    finally:
        opened.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as an artifact, named by page and viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}-{getattr(page, 'bb_size', 'desktop')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def accessible(page: Any, name: str = "") -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    for v in bad:
        for n in v["nodes"][:2]:
            print(v["id"], n.get("failureSummary"), n.get("html"))
    detail = "\n".join(
        f"  [{v['impact']}] {v['id']}: {v['help']} — " + "; ".join(n["target"][0] if isinstance(n["target"][0], str)
                                                                 else str(n["target"]) for n in v["nodes"][:4])
        for v in bad
    )
    assert not bad, f"accessibility violations on {name or page.url}:\n{detail}"


def no_raw_json(page: Any) -> None:
    """Nothing that looks like a JSON body is shown as text."""
    text = page.locator("body").inner_text()
    assert '{"error"' not in text and '"code":' not in text, text[:500]


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
