"""Notifications, action links and integrations end to end on ``baobei dev`` (child process, real
Temporal dev server, the stack's SMTP sink, a DingTalk robot stand-in): an approval request reaches
the inbox (with an action link on the stack's base URL), the approver's mailbox and a signed
DingTalk ActionCard; the link page decides through POST; a CRM opportunity registers once and its
loss cancels the registration."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from cli.devstack import DevStack
from tests.e2e.test_lifecycle_e2e import Org, project_body, setup_org
from tests.standins.robots import DingTalkStandIn

T = TypeVar("T")


def until(check: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met in {timeout}s")
        time.sleep(0.2)


def add_contacts(stack: DevStack, org: Org, who: str, email: str, mobile: str) -> None:
    """Give a setup_org user an e-mail and a mobile (roles and department unchanged)."""
    run = org.run
    dept = f"sales-{run}" if who in ("rep", "mgr") else f"hq-{run}"
    roles = {"rep": ["sales"], "mgr": ["manager"]}.get(who, [])
    r = stack.client().put("/api/v1/org", json={"users": [
        {"id": f"{who}-{run}", "name": who, "department_id": dept, "roles": roles, "email": email, "mobile": mobile}]})
    assert r.status_code == 200, r.text


def inbox_item(client: httpx.Client, pid: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        items = client.get("/api/v1/me/notifications").json()["items"]
        return next((n for n in items if n.get("project_id") == pid and n.get("action_url")), None)

    return until(find, what="approval request in the inbox")


def test_approval_request_email_dingtalk_and_link(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    run, admin = org.run, dev_stack.client()
    mgr_mail = f"mgr-{run}@example.com"
    add_contacts(dev_stack, org, "mgr", mgr_mail, "13812345678")
    r = admin.put(f"/api/v1/users/mgr-{run}/notification-preferences",
                  json={"channels": ["email", "dingtalk"], "quiet_hours": None})
    assert r.status_code == 200 and r.json()["channels"] == ["email", "dingtalk"], r.text
    secret = "SEC" + uuid.uuid4().hex
    key = "000-e2e-notify"  # the first enabled DingTalk robot by key is the one used
    with DingTalkStandIn(secret=secret) as robot:
        r = admin.put(f"/api/v1/notification-channels/{key}",
                      json={"type": "dingtalk", "url": robot.url, "secret": secret, "enabled": True})
        assert r.status_code == 200 and r.json()["has_secret"] is True, r.text
        try:
            r = org["rep"].post("/api/v1/projects", json=project_body(org.form, run, amount="5000", submit=True))
            assert r.status_code == 201, r.text
            pid, code = r.json()["id"], r.json()["code"]
            note = inbox_item(org["mgr"], pid)
            url = note["action_url"]
            assert url.startswith(dev_stack.base + "/a/"), url
            # e-mail, through the stack's SMTP sink
            mail = until(lambda: next((m for m in dev_stack.mails() if mgr_mail in " ".join(m["envelope_to"])
                                       and (code in m["text"] or code in m["subject"])), None),
                         what="approval mail")
            assert url in mail["text"] or url in (mail["html"] or "")
            # DingTalk (signed: the stand-in verified it) posts to a group: the card names the
            # project and the approver's mobile, carries no personal link and no amount; its
            # button is the group link, which sends whoever opens it to sign in first.
            card = until(lambda: next((m for m in robot.received if code in m.text), None), what="DingTalk card")
            [(_, group)] = DingTalkStandIn.buttons(card)
            assert card.payload["msgtype"] == "actionCard" and group.startswith(dev_stack.base + "/a/g/")
            assert url not in str(card.payload) and url.rsplit("/", 1)[1] not in str(card.payload)
            assert "5000.00" not in str(card.payload)
            assert "13812345678" in card.text or "13812345678" in str(card.payload.get("at"))
        finally:
            admin.put(f"/api/v1/notification-channels/{key}",
                      json={"type": "dingtalk", "url": robot.url, "enabled": False})
    # the link page: a GET shows, never decides; the POST decides through the workflow
    with httpx.Client(timeout=30) as anon:
        to_signin = anon.get(group)
        assert to_signin.status_code == 303, to_signin.text
        assert to_signin.headers["location"].startswith(dev_stack.base + "/signin?next=%2Fa%2Fg%2F")
        page = anon.get(url)
        assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
        assert code in page.text and f'action="{url}"' in page.text
        assert org["rep"].get(f"/api/v1/projects/{pid}").json()["status"] == "pending_approval"
        done = anon.post(url, data={"action": "approve", "comment": "邮件里点的同意"})
        assert done.status_code == 200, done.text
        project = org["rep"].get(f"/api/v1/projects/{pid}").json()
        assert project["status"] == "active"
        decision = project["approval"]["steps"][0]["decisions"][0]
        assert decision["channel"] == "link" and decision["user_id"] == f"mgr-{run}"
        assert anon.post(url, data={"action": "approve"}).status_code == 410
    # the delivery log shows the e-mail delivered
    deliveries = admin.get("/api/v1/notification-deliveries", params={"project_id": pid}).json()["items"]
    assert any(d["channel"] == "email" and d["status"] == "delivered" for d in deliveries), deliveries


def test_crm_once_then_lost(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    run, admin = org.run, dev_stack.client()
    r = admin.put("/api/v1/org", json={"users": [
        {"id": f"crm-{run}", "name": "CRM", "department_id": f"hq-{run}", "roles": ["integrator"]}]})
    assert r.status_code == 200, r.text
    crm = dev_stack.client(admin.post(f"/api/v1/users/crm-{run}/tokens").json()["token"])
    body = {**project_body(org.form, run, amount="8000"), "external_id": f"OPP-{run}", "owner_id": f"rep-{run}"}
    body.pop("submit", None)
    first = crm.post("/api/v1/integrations/crm/opportunities", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "pending_approval"
    again = crm.post("/api/v1/integrations/crm/opportunities", json=body)
    assert again.status_code == 200 and again.json() == first.json(), again.text
    pid = first.json()["id"]
    assert org["rep"].get(f"/api/v1/projects/{pid}").json()["owner_id"] == f"rep-{run}"
    until(lambda: any(t["project_id"] == pid for t in org["mgr"].get("/api/v1/me/todos").json()["items"]),
          what="the manager's approval task")
    lost = crm.post(f"/api/v1/integrations/crm/opportunities/OPP-{run}/lost", json={"reason": "客户预算取消"})
    assert lost.status_code == 200, lost.text
    assert lost.json()["project_id"] == pid and lost.json()["status"] == "cancelled"
    assert org["rep"].get(f"/api/v1/projects/{pid}").json()["status"] == "cancelled"
    todos = org["mgr"].get("/api/v1/me/todos").json()["items"]
    assert all(t["project_id"] != pid for t in todos), (lost.json(), todos)
    repeat = crm.post(f"/api/v1/integrations/crm/opportunities/OPP-{run}/lost", json={})
    assert repeat.status_code == 200 and repeat.json() == lost.json()
