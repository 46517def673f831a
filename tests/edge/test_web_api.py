"""API additions for the web app (issue 14): form definitions with their conditions, 已办 (the
approvals the caller decided), the collision (撞单) check as one types, and 我的任务 (tasks
assigned to the caller across projects)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")


# ---------------------------------------------------------------- 1. forms carry their conditions


def conditional_form() -> dict[str, Any]:
    return {
        "title": "条件表单",
        "fields": [
            {"key": "bid_type", "label": "招标方式", "type": "select", "options": ["公开招标", "单一来源"]},
            {"key": "tender_no", "label": "招标编号", "type": "text",
             "required_when": "fields.bid_type == '公开招标'", "visible_when": "fields.bid_type != '单一来源'"},
            {"key": "priority", "label": "优先级", "type": "select", "options": ["高", "中"], "default": "中"},
            {"key": "proposal", "label": "方案书", "type": "attachment", "accept": [".pdf", "image/png"],
             "max_size": 2048},
            {"key": "plain", "label": "备注", "type": "text"},
        ],
        "rules": [{"expr": "fields.priority != ''", "field": "fields.priority", "message": "请选择优先级",
                   "message_en": "choose a priority"}],
        "settings": {"conflict_policy": "block", "protection_days": 30},
    }


async def test_form_definition_carries_conditions_rules_and_settings(admin: httpx.AsyncClient, org: Org) -> None:
    key = f"web-form-{org.run}"
    r = await admin.put(f"/api/v1/forms/{key}", json=conditional_form())
    assert r.status_code == 200, r.text
    r = await org["rep"].get(f"/api/v1/forms/{key}")
    assert r.status_code == 200, r.text
    form = r.json()
    fields = {f["key"]: f for f in form["fields"]}
    assert fields["tender_no"]["required_when"] == "fields.bid_type == '公开招标'"
    assert fields["tender_no"]["visible_when"] == "fields.bid_type != '单一来源'"
    assert fields["priority"]["default"] == "中"
    assert fields["proposal"]["accept"] == [".pdf", "image/png"]
    assert fields["proposal"]["max_size"] == 2048
    # unset conditions are absent, as before
    assert not {"required_when", "visible_when", "default", "accept", "max_size"} & set(fields["plain"])
    assert form["rules"] == [{"expr": "fields.priority != ''", "field": "fields.priority", "message": "请选择优先级",
                              "message_en": "choose a priority"}]
    assert form["settings"]["conflict_policy"] == "block"
    assert form["settings"]["protection_days"] == 30


async def test_form_conditions_are_in_the_openapi_document(stack: Stack) -> None:
    async with stack.client(token=None) as c:
        doc = (await c.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    props = schemas["FormFieldOut"]["properties"]
    assert {"required_when", "visible_when", "default", "accept", "max_size"} <= set(props)
    form = schemas["FormOut"]["properties"]
    assert form["rules"]["items"]["$ref"].endswith("/FormRuleOut")
    assert form["settings"]["$ref"].endswith("/FormSettingsOut")
