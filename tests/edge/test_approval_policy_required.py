"""Submitting needs an approval policy (in-process stack): a form without one is refused with 409
`no_approval_policy` naming the form, on every path (create + submit, submit, CRM), and the refusal
changes nothing; an explicit no-approval policy approves on submit and says so. A returned project
resubmitted with a raised amount is re-planned from the start with the reason in its provenance."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_approvals import todo_for
from tests.edge.test_integrations import CRM, integrator, opportunity  # noqa: F401 - the fixture
from tests.edge.test_projects import fields_of, make_form, project

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def bare_form(admin: httpx.AsyncClient, org: Org) -> str:
    """A form nobody gave an approval policy."""
    key = f"nopol-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(
        f"/api/v1/forms/{key}",
        json={"title": "项目报备", "fields": [{"key": "phone", "label": "电话", "type": "phone", "required": True}]},
    )
    assert r.status_code == 200, r.text
    return key


def refused(r: httpx.Response, form: str) -> dict[str, Any]:
    assert r.status_code == 409, r.text
    err: dict[str, Any] = r.json()["error"]
    assert err["code"] == "no_approval_policy" and form in err["message"]
    return err


async def named(client: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/projects", params={"q": name})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_no_policy_refuses_every_submission_and_changes_nothing(
    admin: httpx.AsyncClient, org: Org, integrator: httpx.AsyncClient  # noqa: F811
) -> None:
    form = await bare_form(admin, org)
    rep = org["rep"]
    # create + submit: nothing is registered
    body = project(form)
    err = refused(await rep.post("/api/v1/projects", json={**body, "submit": True}), form)
    assert "审批策略" in err["message"]
    en = refused(await rep.post("/api/v1/projects", json={**body, "submit": True},
                                headers={"Accept-Language": "en"}), form)
    assert "approval policy" in en["message"] and en["message"].isascii()
    assert await named(admin, body["name"]) == []
    # a draft stays a draft
    r = await rep.post("/api/v1/projects", json=body)
    assert r.status_code == 201 and r.json()["status"] == "draft", r.text
    pid = r.json()["id"]
    refused(await rep.post(f"/api/v1/projects/{pid}/submit"), form)
    p = (await rep.get(f"/api/v1/projects/{pid}")).json()
    assert p["status"] == "draft" and "submitted" not in {h["event"] for h in p["history"]}
    assert (await rep.get(f"/api/v1/projects/{pid}/approval")).status_code == 404
    # the CRM webhook goes through the same rule and registers nothing
    opp = opportunity(form, owner_id=org.user("rep"))
    refused(await integrator.post(CRM, json=opp), form)
    assert await named(admin, opp["name"]) == []

    # An empty chain without saying so is still refused at PUT, with its field path.
    assert "steps" in fields_of(await admin.put(f"/api/v1/approval-policies/{form}", json={"form_key": form}))
    r = await admin.put(f"/api/v1/approval-policies/{form}",
                        json={"form_key": form, "no_approval": True,
                              "steps": [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}}]})
    assert "steps" in fields_of(r)

    # An explicit no-approval policy: the draft is approved on submit, and it is on record.
    r = await admin.put(f"/api/v1/approval-policies/{form}", json={"form_key": form, "steps": [], "no_approval": True})
    assert r.status_code == 200, r.text
    r = await rep.post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 200, r.text

    async def active() -> dict[str, Any] | None:
        got = (await rep.get(f"/api/v1/projects/{pid}")).json()
        return got if got["status"] == "active" else None

    p = await eventually(active, timeout=30)
    approved = [h for h in p["history"] if h["event"] == "approved"]
    assert approved and approved[-1]["actor"] == "system"
    approval = (await rep.get(f"/api/v1/projects/{pid}/approval")).json()
    assert approval["status"] == "approved" and approval["no_approval"] is True
    assert approval["policy_key"] == form and approval["steps"] == []
    r = await integrator.post(CRM, json=opp)
    assert r.status_code == 201 and r.json()["status"] == "pending_approval", r.text


async def test_raised_amount_after_a_return_is_replanned_from_the_start(admin: httpx.AsyncClient, org: Org) -> None:
    steps = [
        {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}},
        {"name": "总监审批", "when": "project.amount >= 500000.0",
         "approvers": {"type": "role", "role": "director", "scope": "department"}},
    ]
    form = await make_form(admin, org, steps=steps)
    rep = org["rep"]
    r = await rep.post("/api/v1/projects", json={**project(form, amount="100000"), "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    todo = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision",
                               json={"action": "return", "comment": "金额有误"})
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text
    p = (await rep.get(f"/api/v1/projects/{pid}")).json()
    r = await rep.patch(f"/api/v1/projects/{pid}", json={"version": p["version"], "amount": "900000"})
    assert r.status_code == 200, r.text
    r = await rep.post(f"/api/v1/projects/{pid}/submit")
    assert r.status_code == 200, r.text

    async def replanned() -> dict[str, Any] | None:
        got = (await rep.get(f"/api/v1/projects/{pid}/approval")).json()
        return got if got.get("replanned") and got["steps"] and got["steps"][0]["status"] == "pending" else None

    approval = await eventually(replanned, timeout=30)
    assert approval["replanned"] == "amount 100000.00 → 900000.00"
    assert [(s["name"], s["status"]) for s in approval["steps"]] == [("经理审批", "pending"), ("总监审批", "waiting")]
    assert approval["inputs"]["project"]["amount"] == "900000.00"
    # The manager decides again on the new chain, then the director the amount now requires.
    todo = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    todo = await todo_for(org["director"], pid)
    assert todo["step"] == "总监审批"


def _require_policy_calls() -> float:
    """RequirePolicy calls the (in-process) approval server answered, by its own metrics."""
    from prometheus_client import REGISTRY

    labels = {"grpc_service": "baobei.approval.v1.ApprovalService", "grpc_method": "RequirePolicy"}
    return sum(REGISTRY.get_sample_value("baobei_grpc_server_handled_total", {**labels, "grpc_code": code}) or 0.0
               for code in ("OK", "FAILED_PRECONDITION"))


async def test_a_form_seen_with_a_policy_is_not_asked_again_until_a_policy_changes(
    admin: httpx.AsyncClient, org: Org
) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    before = _require_policy_calls()
    for _ in range(3):
        r = await rep.post("/api/v1/projects", json={**project(form), "submit": True})
        assert r.status_code == 201 and r.json()["status"] == "pending_approval", r.text
    assert _require_policy_calls() == before + 1  # asked once for three submissions

    # The policy moves to another form (a PUT through this edge): the old form is asked again and
    # refused, and nothing is registered.
    other = await bare_form(admin, org)
    r = await admin.put(f"/api/v1/approval-policies/{form}", json={
        "form_key": other, "steps": [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}}]})
    assert r.status_code == 200, r.text
    body = project(form)
    refused(await rep.post("/api/v1/projects", json={**body, "submit": True}), form)
    assert await named(admin, body["name"]) == []
    # A form without a policy is asked every time: giving it one applies to the next submission.
    refused(await rep.post("/api/v1/projects", json={**body, "submit": True}), form)
    assert _require_policy_calls() == before + 3
    r = await admin.put(f"/api/v1/approval-policies/{form}-back", json={
        "form_key": form, "steps": [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}}]})
    assert r.status_code == 200, r.text
    r = await rep.post("/api/v1/projects", json={**body, "submit": True})
    assert r.status_code == 201 and r.json()["status"] == "pending_approval", r.text
