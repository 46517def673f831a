"""Field-level read permissions on every path (issue 12 item 1): a form field with ``read_roles``
and a read-restricted core field (``core_fields``: amount, customer.phone) never leave the edge
for a viewer holding none of the roles — not in the project, its approval inputs, its history
(also once a restricted value is cleared), the list, search and filters, exports, the action-link
page, personal notifications or reports — over a submitted, an approved and a returned project.
The owner, admins and holders of the role read everything."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_action_links import action_url
from tests.edge.test_approvals import todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

AMOUNT = "7654321.09"
PHONE = "13912345678"


async def restricted_form(admin: httpx.AsyncClient, org: Org) -> str:
    """Director approves first (reads neither margin nor amount), finance second (reads both)."""
    key = f"fp-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(f"/api/v1/forms/{key}", json={
        "title": "受限报备",
        "fields": [
            {"key": "industry", "label": "行业", "type": "text"},
            {"key": "margin", "label": "毛利", "type": "text", "read_roles": ["finance"]},
            {"key": "note", "label": "底价说明", "type": "text", "read_roles": ["finance"]},
        ],
        "core_fields": {"amount": {"read_roles": ["finance"]}, "customer.phone": {"read_roles": ["finance"]}},
    })
    assert r.status_code == 200, r.text
    got = (await admin.get(f"/api/v1/forms/{key}")).json()
    assert got["core_fields"] == {"amount": {"read_roles": ["finance"]},
                                  "customer.phone": {"read_roles": ["finance"]}}
    r = await admin.put(f"/api/v1/approval-policies/{key}", json={"form_key": key, "steps": [
        {"name": "总监审批", "approvers": {"type": "user", "user_id": org.user("director")}, "mode": "any"},
        {"name": "财务审批", "approvers": {"type": "user", "user_id": org.user("finance")}, "mode": "any"},
    ]})
    assert r.status_code == 200, r.text
    return key


async def file(org: Org, form: str, tag: str) -> tuple[str, dict[str, str]]:
    """A submitted project whose restricted values are unique to it."""
    secrets = {"margin": f"MARGIN-{tag}-{org.run}", "note": f"NOTE-{tag}-{org.run}"}
    r = await org["rep"].post("/api/v1/projects", json={
        "form_key": form, "name": f"受限项目{tag}{uuid.uuid4().hex[:4]}", "amount": AMOUNT,
        "customer": {"name": f"客户{tag}{uuid.uuid4().hex[:6]}有限公司", "phone": PHONE},
        "fields": {"industry": "制造", **secrets}, "submit": True,
    })
    assert r.status_code == 201 and r.json()["status"] == "pending_approval", r.text
    return str(r.json()["id"]), secrets


async def decide(client: httpx.AsyncClient, pid: str, action: str) -> None:
    task = await todo_for(client, pid)
    r = await client.post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": action, "comment": "ok"})
    assert r.status_code == 200, r.text


def assert_withheld(text: str, secrets: list[str], who: str) -> None:
    for s in secrets:
        assert s not in text, f"{s!r} leaked to {who}"


async def test_restricted_fields_never_leave_on_any_path(admin: httpx.AsyncClient, org: Org) -> None:
    form = await restricted_form(admin, org)
    submitted, s_sub = await file(org, form, "S")
    approved, s_app = await file(org, form, "A")
    returned, s_ret = await file(org, form, "R")
    await decide(org["director"], approved, "approve")
    await decide(org["finance"], approved, "approve")
    await decide(org["director"], returned, "return")

    async def status(pid: str) -> str:
        return str((await admin.get(f"/api/v1/projects/{pid}")).json()["status"])

    assert await eventually(lambda: _is(status(approved), "active"))
    assert await eventually(lambda: _is(status(returned), "returned"))
    # The owner clears a restricted value of the returned project: history records before/after.
    p = (await org["rep"].get(f"/api/v1/projects/{returned}")).json()
    r = await org["rep"].patch(f"/api/v1/projects/{returned}", json={"version": p["version"], "fields": {"note": None}})
    assert r.status_code == 200, r.text
    assert any(c.get("before") == s_ret["note"] for h in r.json()["history"] for c in h.get("changes", []))

    projects = {submitted: s_sub, approved: s_app, returned: s_ret}
    everything = [AMOUNT, PHONE, *(v for s in projects.values() for v in s.values())]

    # ---- who may not read: the approver (director) and the department's manager (boss)
    for who in ("director", "boss"):
        client = org[who]
        for pid, secrets in projects.items():
            r = await client.get(f"/api/v1/projects/{pid}")
            assert r.status_code == 200, r.text
            body = r.json()
            assert_withheld(r.text, [AMOUNT, PHONE, *secrets.values()], f"{who} GET project")
            assert body["fields"] == {"industry": "制造"}
            assert body["amount"] is None and body["customer"]["phone"] is None
            assert body["customer"]["name"]  # not restricted
            inputs = body["approval"]["inputs"]["project"]
            assert "margin" not in inputs["fields"] and "amount" not in inputs
            assert inputs["fields"]["industry"] == "制造"
            r = await client.get(f"/api/v1/projects/{pid}/approval")
            assert r.status_code == 200, r.text
            assert_withheld(r.text, [AMOUNT, *secrets.values()], f"{who} GET approval")
        r = await client.get("/api/v1/projects", params={"q": "受限项目", "limit": 50})
        assert {i["id"] for i in r.json()["items"]} >= set(projects)
        assert_withheld(r.text, everything, f"{who} list")
        # No guessing a hidden amount through a filter.
        r = await client.get("/api/v1/projects", params={"amount_min": "7654321", "form_key": form})
        assert r.json()["items"] == [], f"{who} matched a hidden amount"
        for fmt in ("csv", "xlsx"):
            r = await client.get("/api/v1/exports/projects", params={"format": fmt, "form_key": form})
            assert r.status_code == 200, r.text
            assert_withheld(r.content.decode("utf-8", "replace") if fmt == "csv" else _xlsx_text(r.content),
                            everything, f"{who} export {fmt}")

    # ---- the approver's own channels: notifications and the action-link page
    director = org["director"]
    url = await action_url(director, submitted)
    page = await director.get(url.replace("http://edge.test", ""))
    assert page.status_code == 200, page.text
    assert_withheld(page.text, [AMOUNT, PHONE, *s_sub.values()], "director action page")
    assert "制造" in page.text
    async def director_notes() -> list[dict[str, Any]] | None:
        # The approval requests come from approval's notice outbox, sent by the relay within a poll.
        notes = (await director.get("/api/v1/me/notifications", params={"limit": 100})).json()["items"]
        mine = [n for n in notes if n.get("project_id") in projects]
        return mine if len(mine) >= 3 else None

    mine = await eventually(director_notes)
    assert_withheld(str(mine), everything, "director notifications")
    assert all("金额" not in n["body"] for n in mine)
    # Finance reads the amount in its own approval request.
    async def finance_request() -> bool:
        fin = (await org["finance"].get("/api/v1/me/notifications", params={"limit": 100})).json()["items"]
        return any(AMOUNT in n["body"] for n in fin if n.get("project_id") == approved)

    assert await eventually(finance_request)

    # ---- reports: a hidden amount is blank and summed as nothing
    async def boss_portfolio() -> dict[str, Any] | None:
        r = await org["boss"].get("/api/v1/reports/portfolio")
        body = r.json()
        return body if {p["id"] for p in body["projects"]} >= set(projects) else None

    portfolio = await eventually(boss_portfolio)
    assert_withheld(str(portfolio), [AMOUNT, "7654321"], "boss portfolio")
    assert all(p["amount"] is None for p in portfolio["projects"] if p["id"] in projects)
    r = await org["boss"].get("/api/v1/reports/portfolio", params={"format": "csv"})
    assert_withheld(r.text, [AMOUNT, "7654321"], "boss portfolio csv")
    r = await org["boss"].get(f"/api/v1/reports/projects/{approved}")
    assert r.status_code == 200 and r.json()["project"]["amount"] is None, r.text

    # ---- costs: a budget that is the registered amount is withheld with it
    r = await org["boss"].get(f"/api/v1/projects/{approved}/costs")
    assert r.status_code == 200 and r.json()["budget"] is None, r.text
    assert_withheld(r.text, [AMOUNT], "boss costs")
    r = await org["rep"].get(f"/api/v1/projects/{approved}/costs")
    assert r.json()["budget"] == AMOUNT, r.text

    # ---- who may read: finance (the role), the owner, admins
    for who, client in (("finance", org["finance"]), ("rep", org["rep"]), ("admin", admin)):
        body = (await client.get(f"/api/v1/projects/{approved}")).json()
        assert body["fields"]["margin"] == s_app["margin"], who
        assert body["amount"] == AMOUNT and body["customer"]["phone"] == PHONE, who
        assert body["approval"]["inputs"]["project"]["fields"]["margin"] == s_app["margin"], who
    for client in (org["rep"], admin):
        body = (await client.get(f"/api/v1/projects/{returned}")).json()
        changes = [c for h in body["history"] for c in h.get("changes", [])]
        assert {"field": "fields.note", "before": s_ret["note"], "after": None} in changes
    r = await org["rep"].get("/api/v1/projects", params={"amount_min": "7654321", "form_key": form})
    assert len(r.json()["items"]) == 3, r.text
    total = (await org["rep"].get("/api/v1/reports/portfolio", params={"form_key": form})).json()["total_amount"]
    assert total.startswith("22962963"), total  # the owner's sum covers all three


async def test_core_fields_are_validated_with_paths(admin: httpx.AsyncClient, org: Org) -> None:
    r = await admin.put(f"/api/v1/forms/fpbad-{org.run}", json={
        "title": "坏表单", "fields": [{"key": "a", "label": "A", "type": "text"}],
        "core_fields": {"salary": {"read_roles": ["hr"]}, "amount": {"read_roles": [" "]}},
    })
    assert r.status_code == 422, r.text
    paths = {d["field"] for d in r.json()["error"]["details"]}
    assert paths == {"core_fields.salary", "core_fields.amount.read_roles"}, r.text


async def _is(value: Any, expected: str) -> bool:
    return await value == expected


def _xlsx_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row)


async def test_read_roles_field_not_in_approval_inputs_nor_cleared_history(admin: httpx.AsyncClient, org: Org) -> None:
    """The two leaks as filed, with a plain contract form (read_roles only): the approver's
    GET project / GET approval carried the field in approval.inputs, and a cleared value stayed
    in history."""
    key = f"fpi-{org.run}"
    r = await admin.put(f"/api/v1/forms/{key}", json={"title": "报备", "fields": [
        {"key": "industry", "label": "行业", "type": "text"},
        {"key": "margin", "label": "毛利", "type": "text", "read_roles": ["finance"]},
    ]})
    assert r.status_code == 200, r.text
    r = await admin.put(f"/api/v1/approval-policies/{key}", json={"form_key": key, "steps": [
        {"name": "总监审批", "approvers": {"type": "user", "user_id": org.user("director")}, "mode": "any"}]})
    assert r.status_code == 200, r.text
    secret = f"MARGIN-{org.run}"
    r = await org["rep"].post("/api/v1/projects", json={
        "form_key": key, "name": "毛利项目", "amount": "1000", "customer": {"name": f"客户{org.run}有限公司"},
        "fields": {"industry": "制造", "margin": secret}, "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    await todo_for(org["director"], pid)
    for path in (f"/api/v1/projects/{pid}", f"/api/v1/projects/{pid}/approval"):
        r = await org["director"].get(path)
        assert r.status_code == 200 and secret not in r.text, f"{path}: {r.text}"
    await decide(org["director"], pid, "return")

    async def version() -> int | None:
        body = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
        return int(body["version"]) if body["status"] == "returned" else None

    r = await org["rep"].patch(f"/api/v1/projects/{pid}",
                               json={"version": await eventually(version), "fields": {"margin": None}})
    assert r.status_code == 200, r.text
    for who in ("director", "boss"):
        r = await org[who].get(f"/api/v1/projects/{pid}")
        assert r.status_code == 200, r.text
        assert secret not in str(r.json()["history"]), f"history leaked to {who}"
        assert secret not in r.text, f"{who}: {r.text}"
