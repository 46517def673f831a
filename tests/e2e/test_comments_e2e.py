"""Comments and @mentions end to end on ``baobei dev`` (real Temporal, the delivery worker, the
stack's SMTP sink): a mention reaches the mentioned user's chosen channels (an e-mail with the
link to the comment) exactly once for a repeated post; a user who chose in-app only for mentions
gets no e-mail; a reply notifies the author of the comment answered."""

from __future__ import annotations

import time
import uuid

from cli.devstack import DevStack
from tests.e2e.test_lifecycle_e2e import project_body, setup_org
from tests.e2e.test_notify_e2e import add_contacts, until


def test_mention_is_mailed_once_and_reply_notifies(dev_stack: DevStack) -> None:
    org = setup_org(dev_stack)
    run, admin = org.run, dev_stack.client()
    mgr_mail, ceo_mail = f"mgr-{run}@example.com", f"ceo-{run}@example.com"
    add_contacts(dev_stack, org, "mgr", mgr_mail, "13812345678")
    r = admin.put("/api/v1/org", json={"users": [
        {"id": f"ceo-{run}", "name": "赵总", "department_id": f"hq-{run}", "roles": ["ceo"], "email": ceo_mail}]})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/users/mgr-{run}/notification-preferences", json={"channels": ["email"]})
    assert r.status_code == 200, r.text
    # 赵总 (manager of the parent department: may see the project) wants mentions in-app only.
    r = admin.put(f"/api/v1/users/ceo-{run}/notification-preferences",
                  json={"channels": ["email"], "by_kind": {"mentioned": []}})
    assert r.status_code == 200, r.text

    r = org["rep"].post("/api/v1/projects", json=project_body(org.form, run, amount="5000", submit=True))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    url = f"/api/v1/projects/{pid}/comments"
    key = uuid.uuid4().hex
    body = {"body": f"@李经理 @赵总 报价已更新（{run}）", "mentions": [f"mgr-{run}", f"ceo-{run}"]}
    first = org["rep"].post(url, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = org["rep"].post(url, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    cid = first.json()["id"]

    mail = until(lambda: next((m for m in dev_stack.mails() if mgr_mail in " ".join(m["envelope_to"])
                               and "@ 了您" in m["subject"] and run in m["text"]), None), what="mention mail")
    assert mail["subject"].startswith("张三在评论中 @ 了您")
    assert f"{dev_stack.base}/projects/{pid}?comment={cid}#comment-{cid}" in mail["text"]
    assert "评论人：张三" in mail["text"]
    until(lambda: [n for n in org["ceo"].get("/api/v1/me/notifications").json()["items"]
                   if n["kind"] == "mentioned" and n.get("project_id") == pid], what="ceo's inbox item")
    time.sleep(2)  # the worker has had time to send anything else it was going to
    mails = [m for m in dev_stack.mails() if run in m["text"] and "@ 了您" in m["subject"]]
    assert [m["envelope_to"] for m in mails] == [[mgr_mail]]  # once, and not to 赵总

    r = org["mgr"].post(url, json={"body": "收到", "parent_id": cid})
    assert r.status_code == 201, r.text
    replied = until(lambda: [n for n in org["rep"].get("/api/v1/me/notifications").json()["items"]
                             if n["kind"] == "comment_replied" and n.get("project_id") == pid], what="reply notice")
    assert replied[0]["title"].startswith("mgr回复了您的评论")  # add_contacts names him "mgr"
