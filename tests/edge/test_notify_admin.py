"""Notification settings over HTTP (in-process stack): preferences (own and, for admins, anyone's),
templates (checked: compile and render), robot channels (secrets write-only, WeCom key masked),
webhook subscriptions (secrets masked), the delivery log and re-drive; 401 / 403 / 422."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack
from tests.edge.test_projects import fields_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

PREFS: dict[str, Any] = {
    "channels": ["email", "dingtalk"],
    "quiet_hours": {"start": "22:00", "end": "08:00", "tz": "Asia/Shanghai"},
    "by_kind": {"approval_request": ["dingtalk"], "task_overdue": []},
}


def whsec() -> str:
    return "whsec_" + base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()


ADMIN_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/notification-templates", None),
    ("PUT", "/api/v1/notification-templates/approval_request", {"title": "t", "text": "x"}),
    ("GET", "/api/v1/notification-channels", None),
    ("PUT", "/api/v1/notification-channels/dt", {"type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send"}),
    ("GET", "/api/v1/webhook-subscriptions", None),
    ("PUT", "/api/v1/webhook-subscriptions/s1", {"url": "https://x.example", "events": ["*"], "secrets": [whsec()]}),
    ("DELETE", "/api/v1/webhook-subscriptions/s1", None),
    ("GET", "/api/v1/notification-deliveries", None),
    ("POST", "/api/v1/notification-deliveries/redrive", {}),
    ("GET", "/api/v1/users/x/notification-preferences", None),
    ("PUT", "/api/v1/users/x/notification-preferences", PREFS),
]


async def test_auth_401_and_403(stack: Stack, org: Org) -> None:
    async with stack.client(token=None) as anon:
        for method, path, body in [*ADMIN_CALLS, ("GET", "/api/v1/me/notification-preferences", None)]:
            r = await anon.request(method, path, json=body)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error"]["code"] == "unauthenticated"
    for method, path, body in ADMIN_CALLS:
        r = await org["rep"].request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["code"] == "admin_required"


async def test_my_preferences_roundtrip(org: Org) -> None:
    rep = org["rep"]
    r = await rep.get("/api/v1/me/notification-preferences")
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == org.user("rep") and r.json()["quiet_hours"] is None
    r = await rep.put("/api/v1/me/notification-preferences", json=PREFS)
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": org.user("rep"), **PREFS, "available": r.json()["available"]}
    assert r.json()["available"][:3] == ["email", "dingtalk", "wecom"]
    assert (await rep.get("/api/v1/me/notification-preferences")).json() == r.json()
    # clearing quiet hours
    r = await rep.put("/api/v1/me/notification-preferences", json={"channels": ["email"], "quiet_hours": None})
    assert r.status_code == 200 and r.json()["quiet_hours"] is None and r.json()["by_kind"] == {}


async def test_preferences_validation_names_fields(org: Org) -> None:
    rep = org["rep"]
    got = fields_of(await rep.put("/api/v1/me/notification-preferences", json={
        "channels": ["email", "fax"],
        "quiet_hours": {"start": "25:00", "end": "8", "tz": "Mars/Olympus"},
        "by_kind": {"approval_request": ["sms"]},
    }))
    assert {"channels[1]", "quiet_hours.start", "quiet_hours.end", "quiet_hours.tz",
            "by_kind.approval_request[0]"} <= set(got), got
    got = fields_of(await rep.put("/api/v1/me/notification-preferences",
                                  json={"quiet_hours": {"start": "08:00", "end": "08:00"}}))
    assert set(got) == {"quiet_hours.end"}


async def test_admin_sets_user_preferences(admin: httpx.AsyncClient, org: Org) -> None:
    r = await admin.put(f"/api/v1/users/{org.user('boss')}/notification-preferences", json=PREFS)
    assert r.status_code == 200, r.text
    assert (await org["boss"].get("/api/v1/me/notification-preferences")).json()["channels"] == ["email", "dingtalk"]
    r = await admin.get(f"/api/v1/users/{org.user('boss')}/notification-preferences")
    assert r.status_code == 200 and r.json()["by_kind"] == PREFS["by_kind"]
    r = await admin.put("/api/v1/users/nobody-x/notification-preferences", json=PREFS)
    assert r.status_code == 404, r.text


async def test_templates(admin: httpx.AsyncClient) -> None:
    kind = f"k_{uuid.uuid4().hex[:6]}"
    body = {"title": "待审批：{{ name }}", "text": "{{ code }} {{ step }} {{ recipient_name }}",
            "html": "<p>{{ name }}</p><a href=\"{{ action_url }}\">打开</a>", "markdown": "### {{ title }}"}
    r = await admin.put(f"/api/v1/notification-templates/{kind}", json=body)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["kind"] == kind and first["version"] >= 1 and first["title"] == body["title"]
    r = await admin.put(f"/api/v1/notification-templates/{kind}", json={**body, "text": "v2 {{ code }}"})
    assert r.status_code == 200 and r.json()["version"] > first["version"], r.text
    items = (await admin.get("/api/v1/notification-templates")).json()["items"]
    mine = [t for t in items if t["kind"] == kind]
    assert mine and mine[0]["text"] == "v2 {{ code }}"
    # broken sources → 422 naming each field
    got = fields_of(await admin.put(f"/api/v1/notification-templates/{kind}", json={
        "title": "{{ name ", "text": "{% for x in %}", "html": "{{ 1 / 0 }}", "markdown": "ok",
    }))
    assert set(got) == {"title", "text", "html"}, got
    # the sandbox refuses unsafe attribute access
    got = fields_of(await admin.put(f"/api/v1/notification-templates/{kind}", json={
        "title": "{{ ''.__class__.__mro__ }}", "text": "x"}))
    assert set(got) == {"title"}
    got = fields_of(await admin.put(f"/api/v1/notification-templates/{kind}", json={"text": "x"}))
    assert "title" in got
    got = fields_of(await admin.put("/api/v1/notification-templates/Bad Kind!", json=body))
    assert "kind" in got


async def test_channels_mask_secrets(admin: httpx.AsyncClient) -> None:
    key = f"wc-{uuid.uuid4().hex[:6]}"
    wecom_key = uuid.uuid4().hex
    url = f"https://1.1.1.1/cgi-bin/webhook/send?key={wecom_key}"
    r = await admin.put(f"/api/v1/notification-channels/{key}", json={"type": "wecom", "url": url})
    assert r.status_code == 200, r.text
    assert wecom_key not in r.text and r.json()["type"] == "wecom" and r.json()["enabled"] is True
    dkey = f"dt-{uuid.uuid4().hex[:6]}"
    secret = "SEC" + uuid.uuid4().hex
    r = await admin.put(f"/api/v1/notification-channels/{dkey}", json={
        "type": "dingtalk", "url": "https://1.1.1.1/robot/send?access_token=abc", "secret": secret,
        "enabled": False,
    })
    assert r.status_code == 200, r.text
    assert r.json()["has_secret"] is True and r.json()["enabled"] is False and secret not in r.text
    r = await admin.get("/api/v1/notification-channels")
    assert r.status_code == 200
    assert wecom_key not in r.text and secret not in r.text
    keys = {c["key"] for c in r.json()["items"]}
    assert {key, dkey} <= keys
    got = fields_of(await admin.put(f"/api/v1/notification-channels/{key}", json={"type": "sms", "url": "ftp://x"}))
    assert {"type", "url"} <= set(got)


async def test_app_channels_are_offered_once_enabled_and_their_secret_is_write_only(
    admin: httpx.AsyncClient, org: Org,
) -> None:
    key = f"ding-app-{uuid.uuid4().hex[:6]}"
    secret = uuid.uuid4().hex
    got = fields_of(await admin.put(f"/api/v1/notification-channels/{key}", json={
        "type": "dingtalk_app", "agent_id": "x1", "options": {"org_synced": "maybe"}}))
    assert {"app_key", "secret", "agent_id", "options[org_synced]"} <= set(got), got
    got = fields_of(await admin.put(f"/api/v1/notification-channels/{key}", json={"type": "dingtalk"}))
    assert "url" in got, got
    body = {"type": "dingtalk_app", "app_key": "dingabc", "secret": secret, "agent_id": "3001",
            "options": {"sso_provider": "dingtalk"}, "enabled": False}
    r = await admin.put(f"/api/v1/notification-channels/{key}", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["type"], out["app_key"], out["agent_id"], out["has_secret"], out["options"]) == (
        "dingtalk_app", "dingabc", "3001", True, {"sso_provider": "dingtalk"})
    assert secret not in r.text and secret not in (await admin.get("/api/v1/notification-channels")).text
    rep = org["rep"]
    assert "dingtalk_app" not in (await rep.get("/api/v1/me/notification-preferences")).json()["available"]
    r = await admin.put(f"/api/v1/notification-channels/{key}", json={**body, "secret": None, "enabled": True})
    assert r.status_code == 200 and r.json()["has_secret"], r.text
    r = await rep.put("/api/v1/me/notification-preferences", json={
        "channels": ["dingtalk_app"], "by_kind": {"approval_request": ["dingtalk_app", "email"]}})
    assert r.status_code == 200, r.text
    assert r.json()["channels"] == ["dingtalk_app"] and "dingtalk_app" in r.json()["available"]
    assert "feishu_app" not in r.json()["available"]
    await admin.put(f"/api/v1/notification-channels/{key}", json={**body, "secret": None, "enabled": False})


async def test_subscriptions(admin: httpx.AsyncClient) -> None:
    sid = f"fin-{uuid.uuid4().hex[:6]}"
    a, b = whsec(), whsec()
    r = await admin.put(f"/api/v1/webhook-subscriptions/{sid}", json={
        "url": "https://1.0.0.1/hooks", "events": ["project.approved", "cost.recorded"], "secrets": [a, b],
        "description": "财务系统"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == sid and out["events"] == ["project.approved", "cost.recorded"] and len(out["secrets"]) == 2
    assert a not in r.text and b not in r.text
    listed = (await admin.get("/api/v1/webhook-subscriptions")).json()["items"]
    assert any(s["id"] == sid for s in listed) and a not in str(listed)
    got = fields_of(await admin.put(f"/api/v1/webhook-subscriptions/{sid}", json={
        "url": "https://x.example", "events": [], "secrets": [a, b, whsec()]}))
    assert {"events", "secrets"} <= set(got)
    got = fields_of(await admin.put(f"/api/v1/webhook-subscriptions/{sid}", json={
        "url": "https://x.example", "events": ["*"], "secrets": ["plain-secret"]}))
    assert "secrets" in got
    assert (await admin.delete(f"/api/v1/webhook-subscriptions/{sid}")).status_code == 204
    listed = (await admin.get("/api/v1/webhook-subscriptions")).json()["items"]
    assert all(s["id"] != sid for s in listed)


async def test_deliveries_and_redrive(admin: httpx.AsyncClient) -> None:
    r = await admin.get("/api/v1/notification-deliveries", params={"status": "dead", "limit": 10})
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["items"], list)
    assert all(d["status"] == "dead" for d in r.json()["items"])
    got = fields_of(await admin.get("/api/v1/notification-deliveries", params={"status": "lost", "limit": 0}))
    assert {"status", "limit"} <= set(got)
    r = await admin.post("/api/v1/notification-deliveries/redrive", json={"delivery_ids": []})
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["items"], list)
