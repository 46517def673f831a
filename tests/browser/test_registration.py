"""发起报备 as 张三 (REP), at desktop and phone size: the form with its conditional 招标编号, an
attachment upload, a server validation error shown at its field, the collision (撞单) warning as
the customer is typed, the approval chain preview with approver names, a draft saved and reopened
with its values, then submitted onto the project page."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from cli.devstack import DevStack
from tests.browser import seed
from tests.browser.conftest import SHOTS, UI, accessible, no_raw_json, shot

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _existing_project(stack: DevStack, customer: str) -> str:
    """A live registration of `customer` by 王五 (another user), for the collision warning."""
    with httpx.Client(base_url=stack.base, headers={"Authorization": f"Bearer {stack.token}"}, timeout=30) as admin:
        r = admin.post(f"/api/v1/users/{seed.FINANCE.id}/tokens", json={"name": "reg-test"})
        token = r.raise_for_status().json()
    with httpx.Client(base_url=stack.base, headers={"Authorization": f"Bearer {token['token']}"}, timeout=30) as c:
        r = c.post("/api/v1/projects", json={
            "form_key": seed.FORM_KEY, "name": f"{customer}一期", "customer": {"name": customer}, "amount": "50000",
            "fields": {"industry": "金融", "bid_type": "单一来源"}, "submit": True,
        })
        assert r.status_code == 201, r.text
        return str(r.json()["code"])


def _item(page: Any, field: str) -> Any:
    return page.locator(f'[data-field="{field}"]')


def _choose(page: Any, field: str, option: str) -> None:
    _item(page, field).locator(".el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text=re.compile(f"^{re.escape(option)}$")).click()


def _error_at(page: Any, field: str) -> str:
    err = _item(page, field).locator(".el-form-item__error")
    err.wait_for()
    return str(err.inner_text())


def test_new_registration_journey(ui: UI, web_stack: DevStack) -> None:
    for size in ("desktop", "phone"):
        customer = f"华东智造科技-{size}-{uuid.uuid4().hex[:4]}"
        _existing_project(web_stack, customer)
        page: Any = ui.page(seed.REP, size=size)
        page.goto("/projects/new")
        page.get_by_role("heading", name="发起报备", level=1).wait_for()
        page.get_by_label("项目名称").wait_for()
        page.get_by_text("标准项目报备").first.wait_for()  # (el-tag zooms in)
        # Conditional field hidden until 公开招标 is chosen.
        assert _item(page, "tender_no").count() == 0
        shot(page, "registration-new")
        accessible(page, "registration new")

        page.get_by_label("项目名称").fill("智慧工厂 MES 升级")
        page.get_by_label("项目金额（元）").fill("150000")
        page.get_by_label("区域").fill("华东")
        page.get_by_label("客户联系人").fill("陈经理")
        page.get_by_label("联系人手机").fill("13812345678")
        page.get_by_label("客户名称").fill(customer)
        _choose(page, "industry", "制造")
        _choose(page, "bid_type", "公开招标")
        _item(page, "tender_no").wait_for()
        assert "is-required" in (_item(page, "tender_no").get_attribute("class") or "")
        _choose(page, "bid_type", "邀请招标")
        _item(page, "tender_no").wait_for(state="detached")
        _choose(page, "bid_type", "公开招标")
        page.get_by_label("招标编号").fill("ZB-2026-001")
        page.get_by_label("投入人数").fill("6")

        # An attachment, uploaded with progress; its name listed.
        page.locator("#reg-f-proposal").set_input_files(
            files=[{"name": "技术方案.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        _item(page, "proposal").get_by_role("link", name="技术方案.pdf").wait_for()

        # The approval chain with the approvers' names: amount >= 100000 adds 财务审批.
        chain = page.get_by_test_id("chain")
        chain.get_by_text("财务审批").wait_for()
        text = chain.inner_text()
        assert "部门经理审批" in text and seed.MANAGER.name in text and seed.FINANCE.name in text, text
        # 撞单: 王五 registered this customer; 张三 may not see that project, so it is named as such.
        warn = page.get_by_test_id("conflicts")
        warn.wait_for()
        assert "可能撞单" in warn.inner_text() and "他人的报备" in warn.inner_text(), warn.inner_text()
        shot(page, "registration-filled")
        if size == "phone":  # the viewport as seen: the action bar stays above the tab bar
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "registration-viewport-phone.png"))
        accessible(page, "registration filled")

        # A server-side error at its field: the amount's storage cap is the server's to check.
        page.get_by_label("项目金额（元）").fill("99999999999999999")
        page.get_by_test_id("save-draft").click()
        assert "金额过大" in _error_at(page, "amount")
        assert page.url.endswith("/projects/new")
        no_raw_json(page)
        shot(page, "registration-server-error")
        accessible(page, "registration server error")
        page.get_by_label("项目金额（元）").fill("150000")
        _item(page, "amount").locator(".el-form-item__error").wait_for(state="detached")

        # Save a draft (a double click makes one project): the page becomes the draft's edit page;
        # a reload keeps every value.
        page.get_by_test_id("save-draft").dblclick()
        page.wait_for_url(re.compile(r"/projects/[^/]+/edit$"))
        page.get_by_text("草稿已保存").first.wait_for()
        project_id = page.url.rstrip("/").split("/")[-2]
        page.reload()
        page.get_by_role("heading", name="编辑报备", level=1).wait_for()
        page.get_by_label("招标编号").wait_for()
        assert page.get_by_label("项目名称").input_value() == "智慧工厂 MES 升级"
        assert page.get_by_label("客户名称").input_value() == customer
        assert page.get_by_label("招标编号").input_value() == "ZB-2026-001"
        assert page.get_by_label("项目金额（元）").input_value() == "150000.00"
        assert "制造" in _item(page, "industry").inner_text()
        _item(page, "proposal").get_by_role("link", name="技术方案.pdf").wait_for()
        page.get_by_test_id("chain").get_by_text(seed.FINANCE.name).wait_for()
        shot(page, "registration-edit")
        accessible(page, "registration edit")
        with httpx.Client(base_url=web_stack.base, headers={"Authorization": f"Bearer {web_stack.token}"}) as c:
            same = c.get("/api/v1/projects", params={"q": customer}).json()["items"]
        assert len([p for p in same if p["name"] == "智慧工厂 MES 升级"]) == 1, same

        # Auto-save: a change is saved a few seconds later without a click.
        page.get_by_label("业务线").fill("智能制造")
        page.get_by_text("已自动保存").wait_for()
        with httpx.Client(base_url=web_stack.base, headers={"Authorization": f"Bearer {web_stack.token}"}) as c:
            assert c.get(f"/api/v1/projects/{project_id}").json()["business_line"] == "智能制造"

        # Submit: confirm, then the project page.
        page.get_by_test_id("submit").click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        dialog.get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(rf"/projects/{re.escape(project_id)}$"))
        with httpx.Client(base_url=web_stack.base, headers={"Authorization": f"Bearer {web_stack.token}"}) as c:
            p = c.get(f"/api/v1/projects/{project_id}").json()
        assert p["status"] == "pending_approval", p["status"]
        assert p["fields"]["tender_no"] == "ZB-2026-001"
        assert p["owner_id"] == seed.REP.id
        proposal = p["fields"]["proposal"]
        assert (proposal if isinstance(proposal, list) else [proposal])[0].startswith("sha256:")


def test_edit_refuses_a_submitted_project(ui: UI, web_stack: DevStack) -> None:
    """Only drafts and returned registrations are editable: a submitted one says so."""
    with httpx.Client(base_url=web_stack.base, headers={"Authorization": f"Bearer {web_stack.token}"}, timeout=30) as a:
        token = a.post(f"/api/v1/users/{seed.REP.id}/tokens", json={"name": "reg-test"}).raise_for_status().json()
    with httpx.Client(base_url=web_stack.base, headers={"Authorization": f"Bearer {token['token']}"}, timeout=30) as c:
        r = c.post("/api/v1/projects", json={
            "form_key": seed.FORM_KEY, "name": "已提交项目", "customer": {"name": "某客户"}, "amount": "100",
            "fields": {"industry": "政府", "bid_type": "单一来源"}, "submit": True,
        })
        assert r.status_code == 201, r.text
    for size in ("desktop", "phone"):
        page: Any = ui.page(seed.REP, size=size)
        page.goto(f"/projects/{r.json()['id']}/edit")
        page.get_by_text("只有草稿或已退回的报备可以编辑").wait_for()
        assert page.get_by_test_id("submit").count() == 0
        shot(page, "registration-not-editable")
        accessible(page, "registration not editable")
