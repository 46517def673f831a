"""变更 in the browser: the owner of an active registration proposes a raise past the policy's
finance branch on the project's 变更 tab (desktop) and sees it pending with its before/after and a
chain that now includes finance; the manager finds it among their approvals with the before/after
(phone); once both approved, the project shows the new amount and the change as approved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser import seed
from tests.browser.conftest import UI, accessible, no_raw_json, shot, wait_until


def _decide(c: httpx.Client, project_id: str) -> None:
    todo: list[dict[str, Any]] = []

    def waiting() -> bool:
        todo[:] = [t for t in c.get("/api/v1/me/todos").raise_for_status().json()["items"]
                   if t["project_id"] == project_id]
        return bool(todo)

    wait_until(waiting)
    r = c.post(f"/api/v1/approval-tasks/{todo[0]['id']}/decision", json={"action": "approve", "comment": "同意"})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def active(people: dict[str, httpx.Client]) -> Iterator[tuple[str, str]]:
    """An active registration of REP's below the finance threshold (李四 alone approved it)."""
    rep, manager = people[seed.REP.id], people[seed.MANAGER.id]
    name = f"常州智能仓储{str(int(time.time() * 1000))[-6:]}"
    r = rep.post("/api/v1/projects", json={
        "form_key": seed.FORM_KEY, "name": name, "amount": "60000", "region": "华东", "business_line": "数据中台",
        "customer": {"name": f"{name}科技有限公司"}, "fields": {"industry": "制造", "bid_type": "单一来源"},
        "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    _decide(manager, pid)
    wait_until(lambda: rep.get(f"/api/v1/projects/{pid}").json()["status"] == "active")
    yield pid, name


def settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # transitions before the screenshot and axe


def test_propose_a_raise_and_approve_it(ui: UI, people: dict[str, httpx.Client], active: tuple[str, str]) -> None:
    pid, name = active
    page = ui.page(seed.REP, size="desktop")
    page.goto(f"/projects/{pid}?tab=changes")
    page.get_by_role("heading", name="发起变更").wait_for()
    settle(page)
    accessible(page, "changes tab, empty (desktop)")
    form = page.locator(".chg-form")
    form.get_by_label("金额").fill("150000")
    form.get_by_label("变更原因").fill("客户追加二期仓储货架")
    form.get_by_role("button", name="提交变更申请").click()
    page.get_by_text("变更申请已提交，等待审批").wait_for()
    item = page.locator(".chg-item").first
    item.get_by_text("¥150,000.00").wait_for()
    text = item.inner_text()
    assert "¥60,000.00" in text and "客户追加二期仓储货架" in text
    # The raise crosses the policy's 100000 branch: finance joins the change's chain.
    assert "部门经理审批 · 李四" in text and "财务审批" in text
    assert page.get_by_role("button", name="提交变更申请").count() == 0  # one open change at a time
    settle(page)
    no_raw_json(page)
    shot(page, "change-pending")
    accessible(page, "changes tab, pending (desktop)")

    approver = ui.page(seed.MANAGER, size="phone")
    approver.goto("/approvals")
    row = approver.get_by_text(name).first
    row.wait_for()
    body = approver.locator("main").inner_text()
    assert "变更" in body and "¥60,000.00 → ¥150,000.00" in body, body[:800]
    settle(approver)
    no_raw_json(approver)
    shot(approver, "change-todo")
    accessible(approver, "approvals with a change (phone)")

    _decide(people[seed.MANAGER.id], pid)
    _decide(people[seed.FINANCE.id], pid)
    rep = people[seed.REP.id]
    wait_until(lambda: rep.get(f"/api/v1/projects/{pid}").json()["amount"] in ("150000", "150000.00"))
    page.reload()
    page.get_by_role("heading", name="发起变更").wait_for()  # a new change may follow
    item = page.locator(".chg-item").first
    item.get_by_text("已同意").first.wait_for()
    assert "¥150,000.00" in page.locator("main").inner_text()
    settle(page)
    shot(page, "change-approved")
    accessible(page, "changes tab, approved (desktop)")
