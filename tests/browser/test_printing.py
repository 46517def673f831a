"""打印审批单 and 单据抬头 in the browser: the owner of a submitted project downloads its 审批单 from
the approval tab (a PDF named <code>-审批单.pdf); the settings page shows the branding an admin set
(read-only for a non-admin, who has no 系统设置 entry in the menu)."""

from __future__ import annotations

import base64
import io
import time

from PIL import Image

from cli.devstack import DevStack
from tests.browser import seed
from tests.browser.conftest import UI, accessible, no_raw_json, shot
from tests.browser.test_projects import person


def test_print_the_approval_form_and_see_the_branding(ui: UI, web_stack: DevStack) -> None:
    stamp = time.strftime("%H%M%S")
    company = f"华东某某科技集团{stamp}"
    buf = io.BytesIO()
    Image.new("RGB", (160, 48), (30, 90, 200)).save(buf, "PNG")
    with web_stack.client() as admin:
        logo = base64.b64encode(buf.getvalue()).decode()
        admin.put("/api/v1/branding", json={"company_name": company, "logo_base64": logo}).raise_for_status()
    with person(web_stack, seed.REP) as rep:
        r = rep.post("/api/v1/projects", json={
            "form_key": seed.FORM_KEY, "name": f"打印测试项目{stamp}", "amount": "50000",
            "customer": {"name": f"打印测试客户{stamp}"}, "fields": {"industry": "政府", "bid_type": "单一来源"},
            "submit": True,
        })
        assert r.status_code == 201, r.text
        project = r.json()

    page = ui.page(seed.REP)
    page.goto(f"/projects/{project['id']}?tab=approval")
    page.get_by_test_id("approval-flow").wait_for()
    button = page.get_by_test_id("print-approval-form")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"{project['code']}-审批单.pdf"
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    no_raw_json(page)

    page.goto("/admin/settings")
    section = page.get_by_test_id("branding-settings")
    section.wait_for()
    assert page.get_by_test_id("branding-name").input_value() == company
    page.get_by_test_id("branding-preview").wait_for()
    assert page.get_by_test_id("branding-save").count() == 0  # read-only for a non-admin
    assert page.get_by_role("link", name="系统设置").count() == 0
    shot(page, "admin-settings")
    accessible(page, "admin settings")
