"""The approval engine through the HTTP API on the in-process stack (real services, Temporal dev
server, worker): each approver action, withdraw, remind, cc with receipts, comments, delegation,
admin reassign / cancel, routing rules and special cases, provenance, what-if, concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_approvals import submitted, todo_for
from tests.edge.test_projects import fields_of, make_form, project

pytestmark = pytest.mark.asyncio(loop_scope="session")

TWO_STEPS = [
    {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}},
    {"name": "财务审批", "approvers": {"type": "role", "role": "finance", "scope": "department"},
     "when": "project.amount >= 100000"},
]


async def decide(client: httpx.AsyncClient, task_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/approval-tasks/{task_id}/decision", json={"action": "approve", **body})


async def get(client: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/projects/{pid}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def no_todo(client: httpx.AsyncClient, pid: str) -> None:
    r = await client.get("/api/v1/me/todos")
    assert all(t["project_id"] != pid for t in r.json()["items"])


async def extra_users(admin: httpx.AsyncClient, org: Org, role: str, names: list[str]) -> dict[str, httpx.AsyncClient]:
    """More users in the test's department holding a role of their own (roles are shared across
    tests in one session), with tokens."""
    body = {"users": [{"id": f"{n}-{org.run}", "name": n, "department_id": org.dept, "roles": [role]} for n in names]}
    assert (await admin.put("/api/v1/org", json=body)).status_code == 200
    out = {}
    for n in names:
        r = await admin.post(f"/api/v1/users/{n}-{org.run}/tokens")
        out[n] = httpx.AsyncClient(transport=org["rep"]._transport, base_url="http://edge.test", timeout=60,
                                   headers={"Authorization": f"Bearer {r.json()['token']}"})
    return out


# ---------------------------------------------------------------- return / resubmit


async def test_return_to_submitter_then_resubmit_resumes_at_the_returning_step(
    admin: httpx.AsyncClient, org: Org
) -> None:
    _, pid = await submitted(admin, org, steps=TWO_STEPS)
    todo = await todo_for(org["boss"], pid)
    assert (await decide(org["boss"], todo["id"])).json()["status"] == "pending_approval"
    todo = await todo_for(org["finance"], pid)
    r = await decide(org["finance"], todo["id"], action="return", comment="请补充合同附件")
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text
    p = await get(org["rep"], pid)
    assert p["status"] == "returned"
    assert [s["status"] for s in p["approval"]["steps"]] == ["approved", "returned"]
    await no_todo(org["finance"], pid)

    r = await org["rep"].post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 200, r.text
    # Resumes at 财务审批: the manager is not asked again.
    todo = await todo_for(org["finance"], pid)
    assert todo["step"] == "财务审批"
    await no_todo(org["boss"], pid)
    assert (await decide(org["finance"], todo["id"])).json()["status"] == "active"
    p = await get(org["rep"], pid)
    actions = [d["action"] for s in p["approval"]["steps"] for d in s["decisions"]]
    assert actions == ["approve", "return", "resubmit", "approve"]


async def test_return_to_an_earlier_step(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, steps=TWO_STEPS)
    await decide(org["boss"], (await todo_for(org["boss"], pid))["id"])
    todo = await todo_for(org["finance"], pid)
    r = await decide(org["finance"], todo["id"], action="return", to_step=0)
    assert r.json()["status"] == "pending_approval"
    again = await todo_for(org["boss"], pid)
    assert again["step"] == "经理审批"
    # A return to a later (or the same) step is refused.
    await decide(org["boss"], again["id"])
    todo = await todo_for(org["finance"], pid)
    assert set(fields_of(await decide(org["finance"], todo["id"], action="return", to_step=1))) == {"to_step"}
    assert (await decide(org["finance"], todo["id"])).json()["status"] == "active"


# ---------------------------------------------------------------- transfer / add-sign


async def test_transfer_and_add_approver_before_and_after(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, steps=TWO_STEPS[:1])
    todo = await todo_for(org["boss"], pid)
    r = await decide(org["boss"], todo["id"], action="transfer", to_user_id=org.user("director"), comment="请总监处理")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    await no_todo(org["boss"], pid)
    todo = await todo_for(org["director"], pid)
    # 前加签: finance first, then back to the director.
    r = await decide(org["director"], todo["id"], action="add_approver", to_user_id=org.user("finance"),
                     position="before")
    assert r.status_code == 200, r.text
    await no_todo(org["director"], pid)
    fin = await todo_for(org["finance"], pid)
    assert (await decide(org["finance"], fin["id"])).json()["status"] == "pending_approval"
    todo = await todo_for(org["director"], pid)  # back to the director
    # 后加签: the director approves, and boss must approve after.
    r = await decide(org["director"], todo["id"], action="add_approver", to_user_id=org.user("boss"), position="after")
    assert r.json()["status"] == "pending_approval"
    last = await todo_for(org["boss"], pid)
    assert (await decide(org["boss"], last["id"])).json()["status"] == "active"
    p = await get(org["rep"], pid)
    decisions = [(d["user_id"], d["action"], d.get("target_user_id")) for d in p["approval"]["steps"][0]["decisions"]]
    assert decisions == [
        (org.user("boss"), "transfer", org.user("director")),
        (org.user("director"), "add_approver", org.user("finance")),
        (org.user("finance"), "approve", None),
        (org.user("director"), "add_approver", org.user("boss")),
        (org.user("boss"), "approve", None),
    ]


# ---------------------------------------------------------------- withdraw / remind / cc / comment


async def test_withdraw_while_pending(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount=100)
    todo = await todo_for(org["boss"], pid)
    assert (await org["boss"].post(f"/api/v1/projects/{pid}/withdraw")).status_code == 403
    r = await org["rep"].post(f"/api/v1/projects/{pid}/withdraw", json={"comment": "客户暂缓"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert r.json()["approval"]["status"] == "cancelled"
    await no_todo(org["boss"], pid)
    r = await decide(org["boss"], todo["id"])
    assert r.status_code == 409, r.text
    assert (await org["rep"].post(f"/api/v1/projects/{pid}/withdraw")).status_code == 409
    history = [h["event"] for h in (await get(org["rep"], pid))["history"]]
    assert "withdrawn" in history


async def test_remind_cc_with_receipt_and_comment(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount=100)
    await todo_for(org["boss"], pid)
    r = await org["rep"].post(f"/api/v1/projects/{pid}/remind", json={"comment": "客户在等"})
    assert r.status_code == 200 and r.json()["reminded"] == [org.user("boss")], r.text
    assert (await org["rep"].post(f"/api/v1/projects/{pid}/remind")).status_code == 409  # too soon

    async def reminded() -> bool:
        r = await org["boss"].get("/api/v1/me/notifications")
        return any(n["kind"] == "approval_remind" and n.get("project_id") == pid for n in r.json()["items"])

    await eventually(reminded)

    r = await org["boss"].post(f"/api/v1/projects/{pid}/approval/cc", json={"user_ids": [org.user("director")]})
    assert r.status_code == 200 and r.json()["user_ids"] == [org.user("director")], r.text
    ghost = await org["boss"].post(f"/api/v1/projects/{pid}/approval/cc", json={"user_ids": ["ghost"]})
    assert ghost.status_code == 422
    copies = (await org["director"].get("/api/v1/me/cc")).json()["items"]
    [copy] = [c for c in copies if c["project_id"] == pid]
    assert copy["read_at"] is None
    assert (await get(org["director"], pid))["id"] == pid  # a copied user may read the project
    r = await org["director"].post(f"/api/v1/cc/{copy['id']}/read")
    assert r.status_code == 200 and r.json()["read_at"], r.text
    assert (await org["rep"].post(f"/api/v1/cc/{copy['id']}/read")).status_code == 404

    r = await org["rep"].post(
        f"/api/v1/projects/{pid}/approval/comments",
        json={"comment": "补充报价单", "attachments": [{"name": "报价单.pdf", "url": "https://files.example/q.pdf"}]},
    )
    assert r.status_code == 201, r.text
    detail = (await org["rep"].get(f"/api/v1/projects/{pid}/approval")).json()
    [cc] = detail["cc"]
    assert cc["user_id"] == org.user("director") and cc["read_at"]
    step_actions = [(d["action"], d["user_id"]) for d in detail["steps"][0]["decisions"]]
    assert step_actions == [("remind", org.user("rep")), ("cc", org.user("boss")), ("comment", org.user("rep"))]
    comment = detail["steps"][0]["decisions"][-1]
    assert comment["data"]["attachments"] == [{"name": "报价单.pdf", "url": "https://files.example/q.pdf"}]
    assert comment["channel"] == "api" and comment["at"]


# ---------------------------------------------------------------- delegation


async def test_delegate_decides_recorded_as_acting_for(admin: httpx.AsyncClient, org: Org) -> None:
    now = dt.datetime.now(dt.UTC)
    r = await org["boss"].put("/api/v1/me/delegation", json={
        "delegate_id": org.user("rep2"), "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=3)).isoformat(),
    })
    assert r.status_code == 200 and r.json()["delegate_id"] == org.user("rep2"), r.text
    bad = await org["boss"].put("/api/v1/me/delegation", json={
        "delegate_id": org.user("rep2"), "starts_at": now.isoformat(), "ends_at": now.isoformat()})
    assert set(fields_of(bad)) == {"ends_at"}
    try:
        _, pid = await submitted(admin, org, amount=100)
        todo = await todo_for(org["rep2"], pid)
        assert todo["on_behalf_of"] == org.user("boss")
        r = await decide(org["rep2"], todo["id"], comment="代经理审批")
        assert r.json()["status"] == "active", r.text
        [d] = (await get(org["rep"], pid))["approval"]["steps"][0]["decisions"]
        assert (d["user_id"], d["on_behalf_of"]) == (org.user("rep2"), org.user("boss"))
    finally:
        assert (await org["boss"].delete("/api/v1/me/delegation")).status_code == 204
    assert (await org["boss"].get("/api/v1/me/delegation")).json()["delegate_id"] is None


# ---------------------------------------------------------------- admin


async def test_admin_reassign_and_cancel(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount=100)
    await todo_for(org["boss"], pid)
    body = {"to_user_id": org.user("director"), "comment": "经理休假"}
    assert (await org["rep"].post(f"/api/v1/projects/{pid}/approval/reassign", json=body)).status_code == 403
    r = await admin.post(f"/api/v1/projects/{pid}/approval/reassign", json=body)
    assert r.status_code == 200 and r.json()["approvers"] == [org.user("director")], r.text
    await no_todo(org["boss"], pid)
    await todo_for(org["director"], pid)
    assert (await org["rep"].post(f"/api/v1/projects/{pid}/approval/cancel")).status_code == 403
    r = await admin.post(f"/api/v1/projects/{pid}/approval/cancel", json={"comment": "重复报备"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    await no_todo(org["director"], pid)
    p = await get(admin, pid)
    assert [a["action"] for a in p["approval"]["actions"]] == ["cancel"]
    assert "reassign" in [d["action"] for d in p["approval"]["steps"][0]["decisions"]]


# ---------------------------------------------------------------- routing and modes


async def test_ratio_mode_two_of_three(admin: httpx.AsyncClient, org: Org) -> None:
    role = f"reviewer-{org.run}"
    users = await extra_users(admin, org, role, ["r1", "r2", "r3"])
    try:
        steps = [{"name": "评审组（3 取 2）", "approvers": {"type": "role", "role": role}, "mode": "ratio",
                  "min_approvals": 2}]
        _, pid = await submitted(admin, org, steps=steps)
        t1, t2 = await todo_for(users["r1"], pid), await todo_for(users["r2"], pid)
        assert (await decide(users["r1"], t1["id"], action="reject")).json()["status"] == "pending_approval"
        assert (await decide(users["r2"], t2["id"])).json()["status"] == "pending_approval"
        t3 = await todo_for(users["r3"], pid)
        assert (await decide(users["r3"], t3["id"])).json()["status"] == "active"
    finally:
        for c in users.values():
            await c.aclose()


async def test_concurrent_decisions_on_an_any_step_take_effect_once(admin: httpx.AsyncClient, org: Org) -> None:
    role = f"duo-{org.run}"
    users = await extra_users(admin, org, role, ["a1", "a2"])
    try:
        _, pid = await submitted(admin, org, steps=[{"name": "或签", "approvers": {"type": "role", "role": role}}])
        t1, t2 = await todo_for(users["a1"], pid), await todo_for(users["a2"], pid)
        r1, r2 = await asyncio.gather(decide(users["a1"], t1["id"]), decide(users["a2"], t2["id"], action="reject"))
        codes = sorted([r1.status_code, r2.status_code])
        assert codes == [200, 409], (r1.text, r2.text)
        winner = r1 if r1.status_code == 200 else r2
        p = await get(org["rep"], pid)
        assert p["status"] == winner.json()["status"] in ("active", "rejected")
        assert len(p["approval"]["steps"][0]["decisions"]) == 1
    finally:
        for c in users.values():
            await c.aclose()


async def test_policy_rules_special_cases_provenance_and_what_if(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    key = f"p-{uuid.uuid4().hex[:6]}"
    url = f"/api/v1/approval-policies/{key}"
    # Refused at PUT: bad CEL, unknown role and user, empty chain — all at once, with paths.
    r = await admin.put(url, json={"form_key": form, "steps": [
        {"name": "x", "when": "project.amount >", "approvers": {"type": "role", "role": f"nobody-{org.run}"}},
        {"name": "y", "approvers": {"type": "user", "user_id": "ghost"}},
    ]})
    assert set(fields_of(r)) == {"steps[0].when", "steps[0].approvers.role", "steps[1].approvers.user_id"}
    assert "steps" in fields_of(await admin.put(url, json={"form_key": form, "steps": []}))

    policy = {
        "form_key": form,
        "steps": [
            {"name": "撞单复核", "when": "project.conflict_count > 0 || size(project.conflicts) > 0",
             "approvers": {"type": "user", "user_id": org.user("director")}},
            {"name": "大额", "when": "project.amount >= 1000000.0",
             "approvers": {"type": "managers_chain", "level": 2}, "mode": "sequential", "sla": "8wh",
             "remind_at": 0.5, "on_timeout": "escalate",
             "escalate_to": {"type": "user", "user_id": org.user("director")},
             "escalation": [{"after": "16wh", "action": "approve"}]},
        ],
        "default_steps": [{"name": "默认经理审批", "approvers": {"type": "manager_of_submitter"}}],
        "on_no_approver": "admin",
        "approval_admin": org.user("director"),
        "on_submitter_is_approver": "skip_to_manager",
    }
    r = await admin.put(url, json=policy)
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    sim = await org["rep"].post(f"{url}/simulate", json=project(form, amount="500"))
    [step] = sim.json()["steps"]
    assert (step["name"], step["approvers"], step["why"]["branch"]) == ("默认经理审批", [org.user("boss")],
                                                                        "default_steps")
    sim = await org["rep"].post(f"{url}/simulate", json=project(form, amount="2000000"))
    [big] = sim.json()["steps"]
    assert big["approvers"] == [org.user("boss")]  # the chain has one manager above the rep's department
    assert big["why"]["rule"] == "steps[1]" and big["why"]["when"] == "project.amount >= 1000000.0"

    # A real submission: provenance on the project page.
    r = await org["rep"].post("/api/v1/projects", json={**project(form, amount="2000000"), "submit": True})
    pid = r.json()["id"]

    async def planned() -> dict[str, Any] | None:
        p = await get(org["rep"], pid)
        return p if p["approval"]["steps"] and p["approval"]["steps"][0]["status"] == "pending" else None

    p = await eventually(planned)
    assert p["approval"]["policy_version"] == 1
    assert p["approval"]["inputs"]["project"]["amount"] == "2000000.00"
    assert p["approval"]["steps"][0]["why"]["rule"] == "steps[1]"
    assert p["approval"]["steps"][0]["due_at"]  # working-hour SLA deadline

    # What-if: a draft that sends big deals to the director instead.
    draft = {**policy, "steps": [{"name": "大额", "when": "project.amount >= 1000000.0",
                                  "approvers": {"type": "user", "user_id": org.user("director")}}]}
    r = await admin.post(f"{url}/what-if", json={**draft, "limit": 50})
    assert r.status_code == 200, r.text
    item = next(i for i in r.json()["items"] if i["project_id"] == pid)
    assert item["approvers_changed"] == [
        {"step": "大额", "before": [org.user("boss")], "after": [org.user("director")]}
    ]
    assert (await org["rep"].post(f"{url}/what-if", json=draft)).status_code == 403
