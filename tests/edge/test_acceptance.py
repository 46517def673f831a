"""Acceptance (验收) over HTTP: a business line's checklist makes `/close` answer 409
`acceptance_required`; an acceptance request missing a required deliverable (or its document) is
refused with 422 naming it; documents are checked for type and key; the request runs its own
approval chain (policy `acceptance:<business line>`), rejected → the project stays active with the
reason, then a new request accepted → closed. The project's `approval` stays the registration's."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_projects import fields_of, make_form, project

pytestmark = pytest.mark.asyncio(loop_scope="session")
PDF = ("客户签字验收单.pdf", b"%PDF-1.4 signed", "application/pdf")


async def acceptance_todo(client: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        items = (await client.get("/api/v1/me/todos")).json()["items"]
        return next((t for t in items if t["project_id"] == pid and t["purpose"] == "acceptance"), None)

    return dict(await eventually(find))


async def active_project(admin: httpx.AsyncClient, org: Org, business_line: str) -> tuple[str, str]:
    form = await make_form(admin, org)
    r = await admin.put(f"/api/v1/approval-policies/acceptance:{business_line}", json={
        "form_key": form,
        "steps": [{"name": "验收审批", "approvers": {"type": "user", "user_id": org.user("director")}, "mode": "any"}],
    })
    assert r.status_code == 200, r.text
    r = await org["rep"].post("/api/v1/projects",
                              json={**project(form, business_line=business_line), "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    async def todo() -> dict[str, Any] | None:
        items = (await org["boss"].get("/api/v1/me/todos")).json()["items"]
        return next((t for t in items if t["project_id"] == pid), None)

    task = await eventually(todo)
    assert task["purpose"] == "registration"
    r = await org["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return form, pid


async def upload(client: httpx.AsyncClient, pid: str, key: str = "", file: tuple[str, bytes, str] = PDF
                 ) -> httpx.Response:
    name, data, ctype = file
    return await client.post(f"/api/v1/projects/{pid}/acceptance/documents",
                             files={"file": (name, io.BytesIO(data), ctype)}, data={"deliverable_key": key})


async def test_acceptance_gate_rejected_then_accepted(admin: httpx.AsyncClient, org: Org) -> None:
    line = f"bl-{uuid.uuid4().hex[:8]}"
    r = await admin.put(f"/api/v1/acceptance/checklists/{line}", json={"items": [
        {"key": "report", "name": "实施报告", "required": True},
        {"key": "signoff", "name": "客户签字验收单", "required": True, "needs_document": True},
        {"key": "training", "name": "用户培训", "required": False},
    ]})
    assert r.status_code == 200, r.text
    assert r.json()["configured"] is True and [i["key"] for i in r.json()["items"]] == ["report", "signoff",
                                                                                        "training"]
    r = await org["rep"].get(f"/api/v1/acceptance/checklists/{line}")
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    r = await org["rep"].put(f"/api/v1/acceptance/checklists/{line}", json={"items": []})
    assert r.status_code == 403, r.text
    r = await admin.put(f"/api/v1/acceptance/checklists/{line}", json={"items": [{"key": "bad key", "name": ""}]})
    assert r.status_code == 422 and "items[0].key" in fields_of(r), r.text

    form, pid = await active_project(admin, org, line)
    got = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    # The acceptance policy names the same form but does not decide its registrations.
    assert (got["approval"]["policy_key"], got["approval"]["status"]) == (form, "approved")

    # The gate: this business line closes through acceptance only.
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close")
    assert r.status_code == 409 and r.json()["error"]["code"] == "acceptance_required", r.text
    assert "验收" in r.json()["error"]["message"]

    # A required deliverable missing → 422 naming it; nothing is opened.
    r = await org["rep"].post(f"/api/v1/projects/{pid}/acceptance",
                              json={"deliverables": [{"key": "report", "done": True}]})
    assert set(fields_of(r)) == {"deliverables.signoff"}, r.text
    assert "客户签字验收单" in fields_of(r)["deliverables.signoff"]
    # Done but without its document → 422 on documents.signoff; an unknown key → deliverables[i].key.
    done = [{"key": "report", "done": True}, {"key": "signoff", "done": True, "note": "已签字"}]
    r = await org["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done})
    assert set(fields_of(r)) == {"documents.signoff"}, r.text
    r = await org["rep"].post(f"/api/v1/projects/{pid}/acceptance",
                              json={"deliverables": [*done, {"key": "nope", "done": True}]})
    assert set(fields_of(r)) == {"deliverables[2].key", "documents.signoff"}, r.text
    assert (await org["rep"].get(f"/api/v1/projects/{pid}/acceptance")).json()["history"] == []

    # Documents: type, key and size checked (422 naming the field); only the owner or an admin uploads.
    r = await upload(org["rep"], pid, "signoff", ("notes.txt", b"plain", "text/plain"))
    assert set(fields_of(r)) == {"file"}, r.text
    r = await upload(org["rep"], pid, "nope")
    assert set(fields_of(r)) == {"deliverable_key"}, r.text
    r = await upload(org["boss"], pid, "signoff")
    assert r.status_code == 403, r.text
    r = await upload(org["rep"], pid, "signoff")
    assert r.status_code == 201 and r.json()["deliverable_key"] == "signoff", r.text
    attachment = r.json()["attachment_id"]

    r = await org["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done, "comment": "已交付"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["required"] is True and body["current"]["status"] == "pending"
    assert [d["attachment_id"] for d in body["current"]["documents"]] == [attachment]
    assert body["current"]["policy_key"] == f"acceptance:{line}"
    # One pending request at a time.
    r = await org["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done})
    assert r.status_code == 409 and r.json()["error"]["code"] == "acceptance_pending", r.text

    # The approver (who can now see the project) downloads the sign-off and rejects.
    task = await acceptance_todo(org["director"], pid)
    r = await org["director"].get(f"/api/v1/attachments/{attachment}/content")
    assert r.status_code == 200 and r.content == PDF[1], r.text
    r = await org["director"].post(f"/api/v1/approval-tasks/{task['id']}/decision",
                                   json={"action": "reject", "comment": "签字页缺少公章"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    view = (await org["rep"].get(f"/api/v1/projects/{pid}/acceptance")).json()
    current = view["current"]
    assert (current["status"], current["reason"], current["decided_by"]) == (
        "rejected", "签字页缺少公章", org.user("director"))
    assert current["approval"]["status"] == "rejected"
    assert current["approval"]["steps"][0]["decisions"][0]["action"] == "reject"
    got = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert got["status"] == "active" and got["approval"]["policy_key"] == form

    async def told() -> bool:
        items = (await org["rep"].get("/api/v1/me/notifications")).json()["items"]
        return any(n["kind"] == "acceptance_rejected" and n.get("project_id") == pid for n in items)

    assert await eventually(told)

    # A new request (with a new sign-off) accepted → the project is closed.
    r = await upload(org["rep"], pid, "signoff", ("验收单-盖章.png", b"\x89PNG stamped", "image/png"))
    assert r.status_code == 201, r.text
    r = await org["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": done})
    assert r.status_code == 201 and r.json()["current"]["seq"] == 2, r.text
    task = await acceptance_todo(org["director"], pid)
    r = await org["director"].post(f"/api/v1/approval-tasks/{task['id']}/decision",
                                   json={"action": "approve", "comment": "同意验收"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    view = (await org["rep"].get(f"/api/v1/projects/{pid}/acceptance")).json()
    assert [h["status"] for h in view["history"]] == ["accepted", "rejected"]
    assert view["project_status"] == "closed"
    got = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert got["status"] == "closed" and got["approval"]["policy_key"] == form


async def test_acceptance_needs_an_active_project_and_a_policy(admin: httpx.AsyncClient, org: Org) -> None:
    line = f"bl-{uuid.uuid4().hex[:8]}"
    form = await make_form(admin, org)
    r = await org["rep"].post("/api/v1/projects", json={**project(form, business_line=line), "submit": True})
    pid = r.json()["id"]
    # No acceptance policy for this line (nor a global one is assumed): 409 naming what is missing
    # — unless another test configured the global `acceptance` policy, then the project's status
    # (pending approval) refuses it.
    r = await org["rep"].post(f"/api/v1/projects/{pid}/acceptance", json={"deliverables": []})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] in ("acceptance_policy_missing", "illegal_transition")
    r = await org["outsider"].get(f"/api/v1/projects/{pid}/acceptance")
    assert r.status_code == 404, r.text
    r = await org["rep"].get(f"/api/v1/projects/{pid}/acceptance")
    assert r.status_code == 200 and r.json()["required"] is False and r.json()["current"] is None, r.text
