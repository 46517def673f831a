"""By keyboard alone: sign in (Tab, type, Enter), skip to the content, move through the menu, and
decide an approval (fill the comment, focus the button, Enter)."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlparse

from cli.devstack import DevStack
from tests.browser import seed
from tests.browser.conftest import UI, wait_until

FOCUSED = "(e => e ? (e.id || e.textContent || '').trim() : '')(document.activeElement)"


def _focused(page: Any) -> str:
    return str(page.evaluate(FOCUSED))


def test_sign_in_and_navigate_by_keyboard(ui: UI) -> None:
    page = ui.page(size="desktop")
    page.goto("/login?next=/projects")
    page.locator("#login-login").wait_for()
    for _ in range(12):  # Tab from the top of the page to the login field
        page.keyboard.press("Tab")
        if _focused(page) == "login-login":
            break
    assert _focused(page) == "login-login"
    page.keyboard.type(seed.REP.id)
    page.keyboard.press("Tab")
    assert _focused(page) == "login-password"
    page.keyboard.type(seed.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlparse(url).path == "/projects")
    # The skip link is the first stop and moves focus into <main>.
    page.keyboard.press("Tab")
    assert "跳到主要内容" in _focused(page)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The menu is reachable and follows Enter.
    link = page.locator(".bb-side").get_by_role("link", name="审批")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/approvals"))
    page.get_by_role("heading", name="审批", exact=True).wait_for()


def test_decide_an_approval_by_keyboard(ui: UI, web_stack: DevStack) -> None:
    with web_stack.client() as admin:
        rep_token = admin.post(f"/api/v1/users/{seed.REP.id}/tokens", json={"name": "kbd"}).json()["token"]
        mgr_token = admin.post(f"/api/v1/users/{seed.MANAGER.id}/tokens", json={"name": "kbd"}).json()["token"]
    name = f"键盘审批-{uuid.uuid4().hex[:4]}"
    with web_stack.client(rep_token) as rep:
        pid = rep.post("/api/v1/projects", json={
            "form_key": seed.FORM_KEY, "name": name, "customer": {"name": f"{name}客户"}, "amount": "20000",
            "fields": {"industry": "政府", "bid_type": "单一来源"}, "submit": True}).json()["id"]
    with web_stack.client(mgr_token) as mgr:
        todo: list[str] = []

        def ready() -> bool:
            todo[:] = [t["id"] for t in mgr.get("/api/v1/me/todos").json()["items"] if t["project_id"] == pid]
            return bool(todo)

        wait_until(ready)
        page = ui.page(seed.MANAGER, size="phone")
        page.goto(f"/approvals/{todo[0]}")
        page.get_by_role("heading", name=name).wait_for()
        comment = page.get_by_label("审批意见")
        comment.focus()
        page.keyboard.type("键盘操作：同意")
        page.keyboard.press("Tab")
        for _ in range(6):  # to the confirm button
            if "确认同意" in _focused(page):
                break
            page.keyboard.press("Tab")
        assert "确认同意" in _focused(page)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/approvals$"))
        wait_until(lambda: mgr.get(f"/api/v1/projects/{pid}").json()["status"] == "active")
