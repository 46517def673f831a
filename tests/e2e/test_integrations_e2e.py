"""Finance sync, WeCom and org sync end to end on ``baobei dev`` (child process, real Temporal
dev server; webhook subscriber and WeCom robot stand-ins on loopback):

- finance subscribers receive project.approved, cost.recorded and project.closed, each once,
  signed per Standard Webhooks (a receiver holding only the older of two rotated secrets
  verifies), after failing answers were retried; a subscriber that keeps failing is dead-lettered,
  visible, and delivered by a redrive;
- an approver who prefers WeCom gets a template card whose jump URL is the action link;
- a WeCom directory sync marking the approver as left (status 5) hands the pending approval to the
  manager above (audited on channel org_sync), refuses the leaver's token, and a repeat hands
  over nothing."""

from __future__ import annotations

import random

from cli.devstack import DevStack
from tests.e2e.test_lifecycle_e2e import project_body, setup_org, todo_for
from tests.e2e.test_notify_e2e import inbox_item, until
from tests.standins import WebhookSubscriber, WeComStandIn, new_secret


def test_finance_subscribers_get_each_event_once_signed_and_retried(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    run, admin = org.run, dev_stack.client()
    old, new = new_secret(), new_secret()
    with WebhookSubscriber(secrets=[old]) as finance, WebhookSubscriber(secrets=[old]) as flaky:
        finance.fail_next(2, "500")  # the first answers fail: retried with backoff
        flaky.fail_next(4, "500")  # as many as the stack's retry budget: dead-lettered
        for sub_id, sub, events in ((f"fin-{run}", finance, ["project.approved", "cost.recorded", "project.closed"]),
                                    (f"flaky-{run}", flaky, ["project.approved"])):
            r = admin.put(f"/api/v1/webhook-subscriptions/{sub_id}",
                          json={"url": sub.url, "events": events, "secrets": [new, old], "description": "财务系统"})
            assert r.status_code == 200, r.text
            assert old not in r.text and new not in r.text  # secrets never come back
        try:
            r = org["rep"].post("/api/v1/projects", json=project_body(org.form, run, amount="5000", submit=True))
            assert r.status_code == 201, r.text
            pid = r.json()["id"]
            todo = todo_for(org["mgr"], pid)
            r = org["mgr"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
            assert r.status_code == 200 and r.json()["status"] == "active", r.text
            r = org["rep"].post(f"/api/v1/projects/{pid}/costs", json={"kind": "expense", "amount": "1200.50",
                                                                        "note": "差旅"})
            assert r.status_code == 201, r.text
            r = org["rep"].post(f"/api/v1/projects/{pid}/close", json={"comment": "验收完成"})
            assert r.status_code == 200 and r.json()["status"] == "closed", r.text

            def mine() -> list[str]:
                return sorted(m.payload["type"] for m in finance.received if m.payload["data"].get("project_id") == pid)

            assert until(lambda: mine() if len(mine()) >= 3 else None, timeout=60, what="finance events") == [
                "cost.recorded", "project.approved", "project.closed"]
            assert finance.duplicates == 0
            closed = next(m for m in finance.received if m.payload["type"] == "project.closed")
            assert closed.payload["data"]["project_id"] == pid
            assert len(closed.headers["webhook-signature"].split()) == 2  # one per valid secret
            # The failing subscriber: dead after the budget, visible, then delivered by a redrive.
            dead = until(lambda: [d for d in admin.get("/api/v1/notification-deliveries",
                                                       params={"status": "dead", "project_id": pid}).json()["items"]
                                  if d["target"] == f"flaky-{run}"] or None, timeout=60, what="dead letter")
            assert dead[0]["attempts"] >= 4 and dead[0]["error"]
            r = admin.post("/api/v1/notification-deliveries/redrive", json={"delivery_ids": [dead[0]["id"]]})
            assert r.status_code == 200, r.text
            until(lambda: [m for m in flaky.received if m.payload["data"].get("project_id") == pid] or None,
                  timeout=60, what="redriven delivery")
            assert len([m for m in flaky.received if m.payload["data"].get("project_id") == pid]) == 1
            row = admin.get("/api/v1/notification-deliveries", params={"project_id": pid}).json()["items"]
            assert {d["status"] for d in row if d["channel"] == "webhook"} == {"delivered"}, row
        finally:
            for sub_id in (f"fin-{run}", f"flaky-{run}"):
                admin.delete(f"/api/v1/webhook-subscriptions/{sub_id}")


def test_wecom_card_and_org_sync_handover(dev_stack: DevStack) -> None:
    run = f"{random.randint(100000, 999999)}"
    admin = dev_stack.client()
    top, team = int(run) * 10 + 1, int(run) * 10 + 2
    boss, lead, rep = f"wc-boss-{run}", f"wc-lead-{run}", f"wc-rep-{run}"
    directory = {
        "department": [{"id": top, "name": "企微总部", "parentid": 0, "department_leader": [boss]},
                       {"id": team, "name": "企微销售组", "parentid": top, "department_leader": [lead]}],
        "userlist": [
            {"userid": boss, "name": "王总", "mobile": "13911110001", "department": [top], "main_department": top,
             "status": 1},
            {"userid": lead, "name": "李组长", "mobile": "+86 139-1111-0002", "department": [team],
             "main_department": team, "status": 1},
            {"userid": rep, "name": "赵销售", "mobile": "13911110003", "department": [team],
             "main_department": team, "status": 1},
        ],
    }
    r = admin.post("/api/v1/integrations/org/wecom", json=directory)
    assert r.status_code == 200, r.text
    assert (r.json()["departments"], r.json()["users"], r.json()["left"]) == (2, 3, [])
    tokens = {u: admin.post(f"/api/v1/users/{u}/tokens").json()["token"] for u in (boss, lead, rep)}
    form = f"wc-{run}"
    r = admin.put(f"/api/v1/forms/{form}", json={"title": "企微报备", "fields": [
        {"key": "phone", "label": "联系电话", "type": "phone", "required": True},
        {"key": "source", "label": "线索来源", "type": "select", "options": ["展会", "老客户", "官网"]}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/approval-policies/{form}", json={"form_key": form, "steps": [
        {"name": "组长审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/users/{lead}/notification-preferences", json={"channels": ["wecom"]})
    assert r.status_code == 200, r.text

    with WeComStandIn() as robot:
        key = "000-e2e-wecom"
        r = admin.put(f"/api/v1/notification-channels/{key}", json={"type": "wecom", "url": robot.url})
        assert r.status_code == 200 and robot.key not in r.text, r.text  # the key in the URL is masked
        try:
            rep_client, lead_client = dev_stack.client(tokens[rep]), dev_stack.client(tokens[lead])
            r = rep_client.post("/api/v1/projects", json=project_body(form, run, amount="6000", submit=True))
            assert r.status_code == 201, r.text
            pid, code = r.json()["id"], r.json()["code"]
            link = inbox_item(lead_client, pid)["action_url"]
            card = until(lambda: next((m for m in robot.received if code in m.text), None), what="WeCom message")
            # A group robot never carries the personal link (it stays in the inbox and e-mail):
            # its card's action is the group link, which asks for a sign-in first.
            assert card.payload["msgtype"] == "template_card" and link not in str(card.payload)
            assert card.payload["template_card"]["card_action"]["url"].startswith(dev_stack.base + "/a/g/")
        finally:
            admin.put(f"/api/v1/notification-channels/{key}", json={"type": "wecom", "url": robot.url,
                                                                     "enabled": False})

    # The team lead leaves (WeCom status 5): the pending approval goes to the manager above.
    directory["userlist"][1]["status"] = 5
    r = admin.post("/api/v1/integrations/org/wecom", json=directory)
    assert r.status_code == 200, r.text
    assert r.json()["left"] == [lead]
    [handover] = r.json()["handovers"]
    assert handover["user_id"] == lead and handover["to_user_id"] == boss and len(handover["task_ids"]) == 1
    assert todo_for(dev_stack.client(tokens[boss]), pid)["project_id"] == pid  # a new task, transferred
    assert dev_stack.client(tokens[lead]).get("/api/v1/me/todos").status_code == 401
    project = dev_stack.client(tokens[rep]).get(f"/api/v1/projects/{pid}").json()
    decisions = project["approval"]["steps"][0]["decisions"]
    assert any(d["action"] == "transfer" and d["user_id"] == lead and d.get("channel") == "org_sync"
               for d in decisions), decisions
    # The boss approves; a repeated sync hands over nothing.
    todo = todo_for(dev_stack.client(tokens[boss]), pid)
    r = dev_stack.client(tokens[boss]).post(f"/api/v1/approval-tasks/{todo['id']}/decision",
                                            json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    r = admin.post("/api/v1/integrations/org/wecom", json=directory)
    assert r.status_code == 200 and r.json()["handovers"] == [], r.text
