"""The whole journey in the browser, as the people of the demo org live it on ``baobei dev``:

张三 signs in and files a project with a conditional field and an attachment, sees the collision
(撞单) warning, submits; 李四 approves on a phone; 王五 returns it at a desk; 张三 edits and resubmits;
the chain finishes; the project is active and 张三 plans it (Gantt); 赵六 logs hours on his task;
李四 sees the project on the dashboard. Every page is screenshotted at its size and checked by
axe-core; nothing here is done over the API except reading back what the screens did (and one
existing registration by someone else, for the collision)."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlparse

import httpx

from tests.browser import seed
from tests.browser.conftest import UI, accessible, no_raw_json, shot, wait_until

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _field(page: Any, key: str) -> Any:
    return page.locator(f'[data-field="{key}"]')


def _choose(page: Any, key: str, option: str) -> None:
    _field(page, key).locator(".el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text=re.compile(f"^{re.escape(option)}$")).click()


def _todo(client: httpx.Client, project_id: str) -> str:
    found: list[str] = []

    def ready() -> bool:
        found[:] = [t["id"] for t in client.get("/api/v1/me/todos").json()["items"] if t["project_id"] == project_id]
        return bool(found)

    wait_until(ready, 30)
    return found[0]


def _status(client: httpx.Client, project_id: str) -> str:
    return str(client.get(f"/api/v1/projects/{project_id}").json()["status"])


def _look(page: Any, name: str) -> None:
    no_raw_json(page)
    shot(page, f"journey-{name}")
    accessible(page, f"journey {name}")


def test_the_whole_journey(ui: UI, people: dict[str, httpx.Client]) -> None:
    rep_api, manager_api, finance_api = people[seed.REP.id], people[seed.MANAGER.id], people[seed.FINANCE.id]
    tag = uuid.uuid4().hex[:4]
    customer = f"宁波港口集团-{tag}"
    # Someone else registered this customer already: 张三 will be warned as he types it.
    earlier = finance_api.post("/api/v1/projects", json={
        "form_key": seed.FORM_KEY, "name": f"{customer}一期", "customer": {"name": customer}, "amount": "30000",
        "fields": {"industry": "制造", "bid_type": "单一来源"}, "submit": True})
    assert earlier.status_code == 201, earlier.text

    # 1. 张三 signs in through the sign-in page and lands on 发起报备, which he asked for.
    rep = ui.page(size="desktop")
    rep.goto("/projects/new")
    rep.wait_for_url(re.compile(r"/login\?next="))
    rep.get_by_label("账号").fill(seed.REP.email)
    rep.get_by_label("密码", exact=True).fill(seed.PASSWORD)
    rep.get_by_role("button", name="登录").click()
    rep.wait_for_url(lambda url: urlparse(url).path == "/projects/new")
    rep.get_by_role("heading", name="发起报备", level=1).wait_for()

    # 2. He files the project: 公开招标 reveals the required 招标编号; a proposal PDF is attached.
    name = f"宁波港智慧码头-{tag}"
    rep.get_by_label("项目名称").fill(name)
    rep.get_by_label("项目金额（元）").fill("420000")
    rep.get_by_label("区域").fill("华东")
    rep.get_by_label("客户名称").fill(customer)
    _choose(rep, "industry", "制造")
    assert _field(rep, "tender_no").count() == 0
    _choose(rep, "bid_type", "公开招标")
    rep.get_by_label("招标编号").fill(f"NB-{tag}")
    rep.get_by_label("毛利率(%)").fill("28.5")
    rep.locator("#reg-f-proposal").set_input_files(
        files=[{"name": "码头方案.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    _field(rep, "proposal").get_by_role("link", name="码头方案.pdf").wait_for()
    # The collision warning and the chain he is about to start.
    rep.get_by_test_id("conflicts").wait_for()
    assert "可能撞单" in rep.get_by_test_id("conflicts").inner_text()
    rep.get_by_test_id("chain").get_by_text(seed.FINANCE.name).wait_for()
    _look(rep, "1-file")
    rep.get_by_test_id("submit").click()
    rep.get_by_role("dialog").get_by_role("button", name="提交").click()
    rep.wait_for_url(re.compile(r"/projects/(?!new$)[^/]+$"))
    project_id = rep.url.rstrip("/").rsplit("/", 1)[1]
    rep.get_by_role("heading", name=name).wait_for()
    assert _status(rep_api, project_id) == "pending_approval"
    _look(rep, "2-submitted")

    # 3. 李四 approves on his phone, from his to-do list.
    manager = ui.page(seed.MANAGER, size="phone")
    _todo(manager_api, project_id)
    manager.goto("/approvals")
    card = manager.locator(".ap-card", has_text=name)
    card.wait_for()
    _look(manager, "3-manager-todos")
    card.get_by_role("link", name=name).click()
    manager.get_by_role("heading", name=name).wait_for()
    assert manager.get_by_text("毛利率(%)").count() == 0 and "28.5" not in manager.locator("main").inner_text()
    _look(manager, "4-manager-task")
    manager.get_by_label("审批意见").fill("同意，注意回款节点")
    manager.get_by_role("button", name="确认同意").click()
    manager.wait_for_url(re.compile(r"/approvals$"))

    # 4. 王五 (finance) returns it to 张三 at his desk.
    finance = ui.page(seed.FINANCE, size="desktop")
    finance.goto(f"/approvals/{_todo(finance_api, project_id)}")
    finance.get_by_role("heading", name=name).wait_for()
    finance.get_by_text("28.5").first.wait_for()  # finance reads the restricted margin
    _look(finance, "5-finance-task")
    finance.locator(".dp-actions").get_by_text("退回").click()
    finance.get_by_label("审批意见").fill("毛利率偏低，请补充成本测算后重新提交")
    finance.get_by_role("button", name="确认退回").click()
    finance.wait_for_url(re.compile(r"/approvals$"))
    wait_until(lambda: _status(rep_api, project_id) == "returned")

    # 5. 张三 edits the returned registration and resubmits it.
    rep.goto(f"/projects/{project_id}")
    rep.get_by_role("link", name="编辑").click()
    rep.wait_for_url(re.compile(rf"/projects/{project_id}/edit$"))
    rep.get_by_label("招标编号").wait_for()
    rep.get_by_label("毛利率(%)").fill("32")
    rep.get_by_label("项目概述").fill("已补充成本测算：硬件外采降低 8%。")
    _look(rep, "6-edit-returned")
    rep.get_by_test_id("submit").click()
    rep.get_by_role("dialog").get_by_role("button", name="提交").click()
    rep.wait_for_url(re.compile(rf"/projects/{project_id}$"))
    wait_until(lambda: _status(rep_api, project_id) == "pending_approval")

    # 6. The chain finishes: whoever has it now (a resubmission resumes where it was returned)
    # approves in the browser, until the project is active.
    pages = {seed.MANAGER.id: (manager, manager_api), seed.FINANCE.id: (finance, finance_api)}
    for _ in range(3):
        if _status(rep_api, project_id) == "active":
            break
        wait_until(lambda: _status(rep_api, project_id) == "active" or any(
            t["project_id"] == project_id for c in (manager_api, finance_api)
            for t in c.get("/api/v1/me/todos").json()["items"]), 30)
        for page, api_client in pages.values():
            waiting = [t["id"] for t in api_client.get("/api/v1/me/todos").json()["items"]
                       if t["project_id"] == project_id]
            if waiting:
                page.goto(f"/approvals/{waiting[0]}")
                page.get_by_role("heading", name=name).wait_for()
                page.get_by_label("审批意见").fill("同意")
                page.get_by_role("button", name="确认同意").click()
                page.wait_for_url(re.compile(r"/approvals$"))
                break
    wait_until(lambda: _status(rep_api, project_id) == "active", 30)

    # 7. Active: 张三 plans it on the 执行 tab; the Gantt shows the plan.
    rep.goto(f"/projects/{project_id}?tab=execution")
    rep.get_by_role("button", name="新增任务").click()
    dialog = rep.get_by_role("dialog")
    dialog.get_by_label("任务名称").fill("码头设备联调")
    dialog.get_by_label("工期（工作日）").fill("5")
    dialog.locator("#nt-assignee").click()
    rep.keyboard.type(seed.ENGINEER.name)
    rep.get_by_role("option", name=re.compile(seed.ENGINEER.name)).click()
    dialog.get_by_role("button", name="保存").click()
    rep.get_by_text("任务已添加").wait_for()
    rep.locator(".task-table").get_by_text("码头设备联调").wait_for()
    rep.get_by_test_id("gantt").locator("svg, canvas").first.wait_for()
    _look(rep, "7-execution")

    # 8. 赵六 logs hours on his task from 我的任务 (phone).
    engineer = ui.page(seed.ENGINEER, size="phone")
    engineer.goto("/my-tasks")
    engineer.get_by_role("link", name="码头设备联调").first.click()
    engineer.get_by_role("heading", name="码头设备联调", level=1).wait_for()
    engineer.get_by_label("工时（小时）").fill("4")
    engineer.get_by_label("费率（元/小时）").fill("300")
    engineer.get_by_label("说明", exact=True).fill(f"现场联调 {tag}")
    engineer.get_by_role("button", name="登记", exact=True).click()
    engineer.locator(".wk-entries li", has_text=f"现场联调 {tag}").wait_for()
    _look(engineer, "8-hours")
    costs = rep_api.get(f"/api/v1/projects/{project_id}/costs").json()
    assert any(f"现场联调 {tag}" in str(e) for e in costs.get("items", costs.get("entries", [costs]))), costs

    # 9. 李四 sees the project, active, on the dashboard (the read model catches up in moments).
    board = ui.page(seed.MANAGER, size="desktop")

    def on_board() -> bool:
        board.goto("/dashboard")
        board.get_by_role("heading", name="数据看板", level=1).wait_for()
        board.wait_for_load_state("networkidle")
        return board.get_by_role("link", name=name).count() > 0

    wait_until(on_board, 40)
    _look(board, "9-dashboard")
