"""The shell: sign-in lands on the page asked for, the web app is served under / with history
fallback while the API keeps its JSON 404s, language switch, and no CDN."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import httpx

from cli.devstack import DevStack
from tests.browser import seed
from tests.browser.conftest import UI, accessible, no_raw_json, shot


def test_sign_in_lands_on_the_page_asked_for(ui: UI) -> None:
    for size in ("desktop", "phone"):
        page = ui.page(size=size)
        page.goto("/notifications?x=1")
        page.wait_for_url(re.compile(r"/login\?next=%2Fnotifications|/login\?next=/notifications"))
        page.get_by_label("账号").fill(seed.REP.id)
        page.get_by_label("密码", exact=True).fill("wrong-password-123")
        page.get_by_role("button", name="登录").click()
        page.get_by_role("alert").wait_for()
        assert "账号或密码错误" in page.get_by_role("alert").inner_text()
        no_raw_json(page)
        shot(page, "signin")
        accessible(page, "sign-in")
        page.get_by_label("密码", exact=True).fill(seed.PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: urlparse(url).path == "/notifications" and urlparse(url).query == "x=1")


def test_history_fallback_and_api_404(ui: UI) -> None:
    base = ui.base
    with httpx.Client(base_url=base) as c:
        page = c.get("/projects/some-id/whatever")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
        api = c.get("/api/v1/nope")
        assert api.status_code in (401, 404) and api.json()["error"]["code"]
        assert c.post("/projects").status_code in (404, 405)
        html = page.text
        assert "http://" not in html and "https://" not in html  # no CDN: every asset is ours
        asset = next(part.split('"')[0] for part in html.split('src="')[1:])
        a = c.get(asset)
        assert a.status_code == 200 and "immutable" in a.headers["cache-control"]


def test_language_switch_and_shell(ui: UI) -> None:
    page: Any = ui.page(seed.REP)
    page.goto("/")
    page.get_by_role("navigation").first.wait_for()
    assert page.get_by_role("link", name="工作台").first.is_visible()
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Workbench").first.wait_for()
    page.get_by_role("button", name="中文").click()
    page.get_by_role("link", name="工作台").first.wait_for()
    accessible(page, "home")


def test_demo_data_loads_again_without_harm(ui: UI, web_stack: DevStack) -> None:
    """``baobei dev --demo`` seeds on every start: a second load keeps everyone's password."""
    seed.seed(ui.base, web_stack.token)
    page = ui.page(seed.MANAGER, size="phone")
    page.goto("/")
    page.locator("main h1").wait_for()

