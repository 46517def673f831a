"""Personal notices end to end on ``baobei dev`` (child process, real Temporal dev server) with the
DingTalk stand-in: a submission gives the approver a DingTalk work notice (or, with a card
template, an interactive card with a button) and a 待办; approving through the HTTP API the web app
uses closes both — the card says who approved, the 待办 is done — exactly once (the approval
service's task-closing outbox, the delivery worker's relay, notify's CloseTasks)."""

from __future__ import annotations

import time

import pytest

from cli.devstack import DevStack
from tests.e2e.test_lifecycle_e2e import project_body, setup_org
from tests.e2e.test_notify_e2e import until
from tests.standins.dingtalk_app import DingTalkAppStandIn


@pytest.mark.parametrize("kind", ["work_notice", "interactive_card"])
def test_dingtalk_card_and_todo_follow_the_decision(dev_stack: DevStack, kind: str) -> None:
    """``work_notice``: an OA 工作通知 whose status bar changes; ``interactive_card``: the channel
    names a card template, so a 互动卡片 with a 去审批 button that the update closes."""
    org = setup_org(dev_stack)
    run, admin = org.run, dev_stack.client()
    mgr = f"mgr-{run}"
    with DingTalkAppStandIn() as dt:
        person = dt.add_person(mgr, userid=mgr, name="李经理")
        key, secret = dt.add_app()
        options = {"org_synced": "true"}
        if kind == "interactive_card":
            options["card_template_id"] = dt.add_card_template(key)
        channel = {"type": "dingtalk_app", "app_key": key, "secret": secret, "agent_id": str(dt.agent_id(key)),
                   "api_base": dt.base, "enabled": True, "options": options}
        r = admin.put(f"/api/v1/notification-channels/dt-app-{run}", json=channel)
        assert r.status_code == 200, r.text
        try:
            r = admin.put(f"/api/v1/users/{mgr}/notification-preferences",
                          json={"channels": ["dingtalk_app"], "quiet_hours": None})
            assert r.status_code == 200 and r.json()["channels"] == ["dingtalk_app"], r.text
            r = org["rep"].post("/api/v1/projects", json=project_body(org.form, run, amount="5000", submit=True))
            assert r.status_code == 201, r.text
            pid, code = r.json()["id"], r.json()["code"]
            if kind == "work_notice":
                notice = until(lambda: next((n for n in dt.notices_for(mgr) if code in n.text), None),
                               what="DingTalk work notice")
                assert notice.status == "待处理"
            else:
                card = until(lambda: next((c for c in dt.cards_for(mgr) if code in c.params["markdown"]), None),
                             what="DingTalk interactive card")
                assert (card.params["status"], card.params["closed"], card.params["button"]) == ("待处理", "false",
                                                                                                 "去审批")
                assert "%2Fapprovals%2F" in card.params["url"] and dt.notices_for(mgr) == []
            todo = until(lambda: next(iter(dt.todos_for(person.unionid)), None), what="DingTalk 待办")
            assert not todo.done
            # The approver decides in the web app (the same API call).
            todos = org["mgr"].get("/api/v1/me/todos").json()["items"]
            task = next(t for t in todos if t["project_id"] == pid)
            r = org["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
            assert r.status_code == 200 and r.json()["status"] == "active", r.text
            if kind == "work_notice":
                until(lambda: notice.status == "已同意 · 李经理" and todo.done, what="notice and 待办 closed")
                time.sleep(3)  # a few relay and dispatcher rounds later: still exactly one update each
                assert [s[1] for s in dt.status_updates] == ["已同意 · 李经理"]
                assert len(dt.notices_for(mgr)) == 1
            else:
                until(lambda: card.params["status"] == "已同意 · 李经理" and todo.done, what="card and 待办 closed")
                time.sleep(3)
                assert card.params["closed"] == "true" and len(card.updates) == 1
                assert len(dt.cards_for(mgr)) == 1 and dt.status_updates == []
            assert len(dt.todos_for(person.unionid)) == 1
            assert not todo.deleted
            deliveries = admin.get("/api/v1/notification-deliveries", params={"project_id": pid}).json()["items"]
            kinds = sorted((d["channel"], d["kind"], d["status"]) for d in deliveries if d["channel"] == "dingtalk_app")
            assert kinds == [("dingtalk_app", "approval_request", "delivered"),
                             ("dingtalk_app", "im_card_update", "delivered")], deliveries
        finally:
            admin.put(f"/api/v1/notification-channels/dt-app-{run}", json={**channel, "enabled": False})
