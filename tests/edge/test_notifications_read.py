"""The in-app inbox keeps read state: `read`/`read_at` per item, `?unread=true`, `unread_count` in
the list answer, mark one read (idempotent; someone else's → 404) and mark all read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack, eventually
from tests.edge.test_projects import make_form, project

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_mark_read_one_and_all_with_unread_count(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)  # the manager of the submitter's department (boss) approves
    for _ in range(3):
        r = await org["rep"].post("/api/v1/projects", json={**project(form), "submit": True})
        assert r.status_code == 201, r.text
    boss, rep = org["boss"], org["rep"]
    inbox = "/api/v1/me/notifications"

    async def three() -> dict[str, Any] | None:
        body: dict[str, Any] = (await boss.get(inbox)).json()
        return body if len(body["items"]) == 3 else None

    listed = await eventually(three)
    assert listed["unread_count"] == 3
    assert all(n["read"] is False and "read_at" not in n for n in listed["items"])
    first, second, third = (n["id"] for n in listed["items"])

    r = await boss.post(f"{inbox}/{first}/read")
    assert r.status_code == 200 and r.json()["id"] == first and r.json()["read"] is True, r.text
    read_at = r.json()["read_at"]
    assert read_at
    again = await boss.post(f"{inbox}/{first}/read")  # idempotent: the first read_at stays
    assert again.status_code == 200 and again.json()["read_at"] == read_at
    # someone else's, or unknown: 404 in the contract's shape, nothing changes
    for who, nid in ((rep, first), (boss, "no-such-id")):
        r = await who.post(f"{inbox}/{nid}/read")
        assert r.status_code == 404 and set(r.json()["error"]) == {"code", "message", "details"}, r.text

    body = (await boss.get(inbox)).json()
    assert body["unread_count"] == 2
    assert {n["id"]: n.get("read_at") for n in body["items"]}[first] == read_at
    unread = (await boss.get(inbox, params={"unread": "true"})).json()
    assert [n["id"] for n in unread["items"]] == [second, third] and unread["unread_count"] == 2
    page = (await boss.get(inbox, params={"unread": "true", "limit": 1})).json()
    assert [n["id"] for n in page["items"]] == [second] and page["next_cursor"]
    rest = (await boss.get(inbox, params={"unread": "true", "limit": 1, "cursor": page["next_cursor"]})).json()
    assert [n["id"] for n in rest["items"]] == [third]
    assert (await boss.get(inbox, params={"unread": "maybe"})).status_code == 422

    r = await boss.post(f"{inbox}/read-all")
    assert r.status_code == 200 and r.json() == {"marked": 2, "unread_count": 0}, r.text
    assert (await boss.post(f"{inbox}/read-all")).json() == {"marked": 0, "unread_count": 0}
    body = (await boss.get(inbox)).json()
    assert body["unread_count"] == 0 and all(n["read"] and n["read_at"] for n in body["items"])
    assert (await boss.get(inbox, params={"unread": "true"})).json()["items"] == []
    assert (await rep.post(f"{inbox}/read-all")).status_code == 200  # only the caller's own
    assert (await org["rep2"].get(inbox)).json()["unread_count"] == 0
    async with stack.client(token=None) as anonymous:
        assert (await anonymous.post(f"{inbox}/read-all")).status_code == 401
