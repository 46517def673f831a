"""Approvals in the browser: 李四 (manager) approves on a phone, 王五 (finance) returns on a desktop,
已办 lists the decision, bulk approve from the desktop list, transfer through the people picker,
抄送我的 with a read receipt, 我发起的, and a 409 when a task was decided meanwhile. Projects are set
up through the API as 张三 (amount >= 100000: 部门经理审批 → 财务审批)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.browser import seed
from tests.browser.conftest import UI, accessible, no_raw_json, shot, wait_until


def submit_project(rep: httpx.Client, label: str, amount: str = "260000") -> tuple[str, str]:
    """A project of 张三's, submitted; returns (id, name)."""
    name = f"{label}-{uuid.uuid4().hex[:6]}"
    body = {
        "form_key": seed.FORM_KEY, "name": name, "customer": {"name": f"{label}客户"}, "amount": amount,
        "fields": {"industry": "金融", "bid_type": "邀请招标", "summary": "核心系统升级，分两期交付。"},
        "submit": True,
    }
    r = rep.post("/api/v1/projects", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending_approval", r.text
    return r.json()["id"], name


def task_of(client: httpx.Client, project_id: str) -> str:
    found: list[str] = []

    def ready() -> bool:
        found[:] = [t["id"] for t in client.get("/api/v1/me/todos").json()["items"] if t["project_id"] == project_id]
        return bool(found)

    wait_until(ready)
    return found[0]


def project(client: httpx.Client, project_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/projects/{project_id}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def open_tab(page: Any, tab: str, text: str) -> None:
    page.goto(f"/approvals?tab={tab}" if tab != "todo" else "/approvals")
    page.get_by_role("heading", name="审批", exact=True).wait_for()
    page.get_by_role("link", name=text).first.wait_for()
    no_raw_json(page)


def test_manager_approves_on_phone_finance_returns_on_desktop(ui: UI, people: dict[str, httpx.Client]) -> None:
    rep, manager, finance = people[seed.REP.id], people[seed.MANAGER.id], people[seed.FINANCE.id]
    pid, name = submit_project(rep, "华东银行数据平台")
    task = task_of(manager, pid)

    # 李四 on a phone: the to-do as a card, the task page, approve with a comment.
    page = ui.page(seed.MANAGER, size="phone")
    open_tab(page, "todo", name)
    card = page.locator(".ap-card", has_text=name)
    card.get_by_text("张三").first.wait_for()  # names load after the card ("…" until then)
    assert "¥260,000.00" in card.inner_text() and "部门经理审批" in card.inner_text() and "张三" in card.inner_text()
    shot(page, "approvals-todo")
    accessible(page, "approvals todo (phone)")
    card.get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(rf"/approvals/{task}"))
    page.get_by_role("heading", name=name).wait_for()
    page.get_by_text("项目金额").wait_for()
    assert page.get_by_text("毛利率(%)").count() == 0  # finance-only field: not returned, not shown
    page.get_by_text("核心系统升级，分两期交付。").wait_for()
    page.get_by_role("heading", name="审批流程").wait_for()
    shot(page, "approval-task")
    accessible(page, "task page (phone)")
    page.get_by_label("审批意见").fill("客户资质良好，同意推进")
    page.get_by_role("button", name="确认同意").click()
    page.wait_for_url(re.compile(r"/approvals$"))
    page.get_by_text(f"已同意：{name}").wait_for()
    steps = project(manager, pid)["approval"]["steps"]
    assert steps[0]["status"] == "approved" and steps[0]["decisions"][0]["comment"] == "客户资质良好，同意推进"
    assert steps[1]["name"] == "财务审批" and steps[1]["status"] == "pending"

    # 王五 at a desktop: opens the task and returns it to the submitter with a comment.
    ftask = task_of(finance, pid)
    desk = ui.page(seed.FINANCE, size="desktop")
    desk.goto(f"/approvals/{ftask}")
    desk.get_by_role("heading", name=name).wait_for()
    desk.locator(".ch-decision", has_text="客户资质良好，同意推进").wait_for()  # the manager's decision in the chain
    shot(desk, "approval-task")
    accessible(desk, "task page (desktop)")
    desk.locator(".dp-actions").get_by_text("退回").click()
    desk.get_by_role("combobox", name="退回至").wait_for()
    assert "提交人（张三）" in desk.locator(".dp").inner_text()
    desk.get_by_label("审批意见").fill("请补充回款计划后重新提交")
    desk.get_by_role("button", name="确认退回").click()
    desk.wait_for_url(re.compile(r"/approvals$"))
    desk.get_by_text(f"已退回：{name}").wait_for()
    assert project(rep, pid)["status"] == "returned"

    # 已办 of 李四 lists the decision, at both sizes.
    open_tab(page, "done", name)
    card = page.locator(".ap-card", has_text=name)
    assert "同意" in card.inner_text() and "客户资质良好，同意推进" in card.inner_text()
    shot(page, "approvals-done")
    accessible(page, "approvals done (phone)")
    mdesk = ui.page(seed.MANAGER, size="desktop")
    open_tab(mdesk, "done", name)
    row = mdesk.locator(".el-table__row", has_text=name)
    assert "同意" in row.inner_text() and "已退回" in row.inner_text()
    shot(mdesk, "approvals-done")
    accessible(mdesk, "approvals done (desktop)")


def test_bulk_approve_transfer_cc_and_mine(ui: UI, people: dict[str, httpx.Client]) -> None:
    rep, manager, finance, engineer = (people[p.id] for p in (seed.REP, seed.MANAGER, seed.FINANCE, seed.ENGINEER))
    (p1, n1), (p2, n2), (p3, n3) = (submit_project(rep, label, amount) for label, amount in
                                    (("苏州制造MES", "180000"), ("杭州医院HIS", "320000"), ("南京政务云", "150000")))
    for pid in (p1, p2, p3):
        task_of(manager, pid)

    # Bulk approve two to-dos from the desktop table.
    page = ui.page(seed.MANAGER, size="desktop")
    open_tab(page, "todo", n1)
    page.get_by_role("link", name=n2).wait_for()
    row = page.locator(".el-table__row", has_text=n1)
    assert "¥180,000.00" in row.inner_text() and "部门经理审批" in row.inner_text() and "已等待" in row.inner_text()
    shot(page, "approvals-todo")
    accessible(page, "approvals todo (desktop)")
    page.locator(".el-table__row", has_text=n1).locator("label.el-checkbox").click()
    page.locator(".el-table__row", has_text=n2).locator("label.el-checkbox").click()
    page.get_by_text("已选 2 项").wait_for()
    page.get_by_role("button", name="批量同意").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("审批意见（选填，应用于全部）").fill("批量同意")
    dialog.get_by_role("button", name="确认同意").click()
    dialog.get_by_text("成功 2 项，失败 0 项").wait_for()
    assert dialog.get_by_text("已同意").count() == 2
    shot(page, "approvals-bulk")
    accessible(page, "bulk result")
    dialog.get_by_role("button", name="关闭", exact=True).click()
    page.locator(".el-table__row", has_text=n1).wait_for(state="detached")
    for pid in (p1, p2):
        assert project(manager, pid)["approval"]["steps"][1]["status"] == "pending"
        task_of(finance, pid)

    # Transfer the third to 赵六 through the people picker.
    page.get_by_role("link", name=n3).first.click()
    page.get_by_role("heading", name=n3).wait_for()
    page.locator(".dp-actions").get_by_text("转交").click()
    picker = page.get_by_role("combobox", name="转交给")
    picker.click()
    picker.fill("赵六")
    page.get_by_role("option", name=re.compile("赵六")).click()
    page.get_by_label("审批意见").fill("交付中心评估后再定")
    page.get_by_role("button", name="确认转交").click()
    page.wait_for_url(re.compile(r"/approvals$"))
    page.get_by_text(f"已转交：{n3}").wait_for()
    task_of(engineer, p3)
    assert seed.ENGINEER.id in project(manager, p3)["approval"]["steps"][0]["approvers"]

    # 抄送我的: 张三 copies the first to 赵六, who reads it on a phone.
    r = rep.post(f"/api/v1/projects/{p1}/approval/cc", json={"user_ids": [seed.ENGINEER.id], "comment": "请知悉"})
    assert r.status_code == 200, r.text
    for size in ("desktop", "phone"):
        eng = ui.page(seed.ENGINEER, size=size)
        open_tab(eng, "cc", n1)
        item = eng.locator(".ap-card" if size == "phone" else ".el-table__row", has_text=n1)
        item.get_by_text("张三").first.wait_for()  # names load after the row ("…" until then)
        assert "张三" in item.inner_text()
        if size == "desktop":
            assert "未读" in item.inner_text()
        shot(eng, "approvals-cc")
        accessible(eng, f"approvals cc ({size})")
        if size == "phone":
            item.get_by_role("button", name="标为已读").click()
            eng.get_by_text("已标为已读").wait_for()
            item.get_by_role("button", name="标为已读").wait_for(state="detached")
    ccs = [c for c in engineer.get("/api/v1/me/cc").json()["items"] if c["project_id"] == p1]
    assert ccs and ccs[0]["read_at"]

    # 我发起的: 张三's submissions with their step.
    for size in ("desktop", "phone"):
        mine = ui.page(seed.REP, size=size)
        open_tab(mine, "mine", n1)
        item = mine.locator(".ap-card" if size == "phone" else ".el-table__row", has_text=n1)
        item.get_by_text("财务审批").wait_for()
        shot(mine, "approvals-mine")
        accessible(mine, f"approvals mine ({size})")
        if size == "desktop":
            mine.get_by_role("link", name=n1).first.click()
            mine.get_by_role("heading", name=n1).wait_for()
            mine.get_by_role("button", name="催办审批人").click()
            mine.get_by_text(re.compile("已催办")).wait_for()
            # A comment with an attachment (uploaded first, then referenced by the comment).
            mine.get_by_label("评论内容").fill("已补充客户采购预算说明")
            mine.locator(".ma-file-input").set_input_files(
                files=[{"name": "预算说明.txt", "mimeType": "text/plain", "buffer": "采购预算 180000 元".encode()}]
            )
            mine.locator(".ma-files").get_by_text("预算说明.txt").wait_for()
            mine.get_by_role("button", name="发布").click()
            mine.get_by_text("评论已发布").wait_for()
            activity = mine.locator(".ch-activity")
            activity.get_by_text("已补充客户采购预算说明").wait_for()
            assert activity.get_by_role("link", name="预算说明.txt").get_attribute("href", timeout=5000).startswith(
                "/api/v1/attachments/"
            )
            approval = project(rep, p1)["approval"]
            recorded = [d for s in approval["steps"] for d in s["decisions"]] + approval["actions"]
            comments = [d for d in recorded if d["action"] == "comment"]
            assert comments and comments[-1]["data"]["attachments"][0]["name"] == "预算说明.txt"
            shot(mine, "approval-owner")
            accessible(mine, "owner view")


def test_decided_meanwhile_is_a_clear_409(ui: UI, people: dict[str, httpx.Client]) -> None:
    rep, manager = people[seed.REP.id], people[seed.MANAGER.id]
    pid, name = submit_project(rep, "宁波港口调度")
    task = task_of(manager, pid)
    page = ui.page(seed.MANAGER, size="desktop")
    page.goto(f"/approvals/{task}")
    page.get_by_role("heading", name=name).wait_for()
    # Decided elsewhere (another tab, the action link) before this click.
    r = manager.post(f"/api/v1/approval-tasks/{task}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text
    page.locator(".dp-actions").get_by_text("驳回").click()
    page.get_by_role("button", name="确认驳回").click()
    page.get_by_role("dialog").get_by_role("button", name="驳回").click()  # the confirmation
    page.locator("#main").get_by_role("alert").filter(has_text="该审批任务已处理，页面已刷新为最新状态").wait_for()
    page.get_by_text("这项审批当前不需要你处理。").wait_for()
    assert page.get_by_role("button", name="确认驳回").count() == 0
    no_raw_json(page)
    assert project(manager, pid)["approval"]["steps"][0]["status"] == "approved"
    # The same page in English.
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name=re.compile("Back to approvals")).wait_for()
    page.get_by_text("This approval does not wait for you now.").wait_for()
    page.get_by_role("heading", name="Approval chain").wait_for()
    accessible(page, "task page (English)")
