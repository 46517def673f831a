"""POST /projects/{id}/close over HTTP: only an active project closes, only by its owner or an
admin; the answer is the closed project; a repeat answers it again; the owner is notified."""

from __future__ import annotations

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_approvals import submitted, todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_close_an_active_project(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org)
    # Pending approval: not closable yet (409, nothing changes).
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"comment": "太早了"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "illegal_transition"
    todo = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text

    # Someone who can see it but does not own it may not close it.
    r = await org["boss"].post(f"/api/v1/projects/{pid}/close")
    assert r.status_code == 403, r.text

    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"comment": "验收完成"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == pid and r.json()["status"] == "closed"
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "closed"
    # A double click answers the same closed project; the owner is told once.
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close")
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text

    async def told() -> list[str] | None:
        items = (await org["rep"].get("/api/v1/me/notifications")).json()["items"]
        kinds = [n["kind"] for n in items if n.get("project_id") == pid and n["kind"] == "project_closed"]
        return kinds or None

    assert await eventually(told) == ["project_closed"]


async def test_close_unknown_or_invisible_project(org: Org) -> None:
    r = await org["rep"].post("/api/v1/projects/no-such-project/close")
    assert r.status_code == 404, r.text
