"""Signed action links over HTTP (in-process stack): the confirmation page shows what the approver
may read and never decides; POST decides through the workflow once; tampered → 403, reused → 410,
decided by other means → 409, transferred / reassigned away → 403, bad action → 422; every answer
carries the security headers and the token never reaches the logs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import pytest_asyncio
import structlog
from itsdangerous import URLSafeTimedSerializer
from structlog.testing import LogCapture

from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from edge.app import create_app
from edge.clients import EdgeDeps
from tests.edge.conftest import Org, Stack, eventually
from tests.edge.test_approvals import todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECRET_LABEL = "底价机密"


async def link_form(admin: httpx.AsyncClient, org: Org) -> str:
    key = f"link-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(f"/api/v1/forms/{key}", json={"title": "项目报备", "fields": [
        {"key": "phone", "label": "联系电话", "type": "phone", "required": True},
        {"key": "floor", "label": SECRET_LABEL, "type": "text", "read_roles": ["finance"]},
    ]})
    assert r.status_code == 200, r.text
    r = await admin.put(f"/api/v1/approval-policies/{key}", json={"form_key": key, "steps": [
        {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"},
    ]})
    assert r.status_code == 200, r.text
    return key


async def pending(admin: httpx.AsyncClient, org: Org) -> str:
    form = await link_form(admin, org)
    body = {"form_key": form, "name": f"园区{uuid.uuid4().hex[:6]}", "amount": "5000",
            "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"},
            "fields": {"phone": "13700001111", "floor": "FLOOR-4711"}, "submit": True}
    r = await org["rep"].post("/api/v1/projects", json=body)
    assert r.status_code == 201 and r.json()["status"] == "pending_approval", r.text
    return str(r.json()["id"])


async def action_url(client: httpx.AsyncClient, pid: str, *, exclude: tuple[str, ...] = ()) -> str:
    async def find() -> str | None:
        r = await client.get("/api/v1/me/notifications")
        assert r.status_code == 200, r.text
        urls = [n.get("action_url") for n in r.json()["items"] if n.get("project_id") == pid]
        return next((u for u in urls if u and u not in exclude), None)

    return str(await eventually(find))


def assert_safe_headers(r: httpx.Response) -> None:
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in r.headers["cache-control"]
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in r.headers


async def still_pending(client: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    items = (await client.get("/api/v1/me/todos")).json()["items"]
    mine = [t for t in items if t["project_id"] == pid]
    assert mine, "the task must still be pending"
    return mine[0]


def tamper(url: str) -> str:
    head, token = url.rsplit("/", 1)
    i = len(token) // 2
    flipped = "A" if token[i] != "A" else "B"
    return f"{head}/{token[:i]}{flipped}{token[i + 1:]}"


async def test_page_shows_summary_and_get_never_decides(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    token = url.rsplit("/a/", 1)[1]
    anon = stack.client(token=None)  # the token is the credential: no bearer, no cookie
    async with anon:
        for _ in range(2):
            r = await anon.get(url)
            assert r.status_code == 200, r.text
            assert_safe_headers(r)
        page = r
        r = await anon.head(url)  # a link scanner
        assert r.status_code == 200 and r.content == b""
        assert_safe_headers(r)
    html = page.text
    assert '<html lang="zh-CN">' in html
    # the form posts to the configured base URL, whatever Host the request named
    own = f"{stack.settings.public_base_url()}/a/{token}"
    assert '<form method="post"' in html and f'action="{own}"' in html
    async with stack.client(token=None, Host="evil.example") as spoofed:
        assert f'action="{own}"' in (await spoofed.get(f"/a/{token}")).text
    assert 'name="action" value="approve"' in html and 'name="action" value="reject"' in html
    assert 'name="comment"' in html
    assert "联系电话" in html and "13700001111" in html
    # read_roles: the manager holds no finance role, so the field is absent from the page
    assert SECRET_LABEL not in html and "FLOOR-4711" not in html
    assert "经理审批" in html
    # GET / HEAD changed nothing
    await still_pending(org["boss"], pid)
    project = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert project["status"] == "pending_approval"


async def test_post_decides_once_then_410(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    async with stack.client(token=None) as anon:
        r = await anon.post(url, data={"action": "approve", "comment": "链接同意"})
        assert r.status_code == 200, r.text
        assert_safe_headers(r)
        assert "已同意" in r.text
        # the decision reached the workflow before the answer
        p = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
        assert p["status"] == "active"
        decision = p["approval"]["steps"][0]["decisions"][0]
        assert decision["user_id"] == org.user("boss") and decision["action"] == "approve"
        assert decision["channel"] == "link" and decision["comment"] == "链接同意"
        for again in (anon.post(url, data={"action": "reject"}), anon.get(url)):
            r = await again
            assert r.status_code == 410, r.text
            assert_safe_headers(r)
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "active"


async def test_reject_through_link(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    async with stack.client(token=None) as anon:
        r = await anon.post(url, data={"action": "reject", "comment": "价格不合理"})
    assert r.status_code == 200 and "已驳回" in r.text, r.text
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "rejected"


async def test_tampered_and_garbage_tokens_403(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    base = stack.settings.public_base_url()
    async with stack.client(token=None) as anon:
        for bad in (tamper(url), f"{base}/a/not-a-token", f"{base}/a/{'x' * 2000}"):
            for r in (await anon.get(bad), await anon.post(bad, data={"action": "approve"})):
                assert r.status_code == 403, (bad[-20:], r.status_code, r.text[:200])
                assert_safe_headers(r)
    await still_pending(org["boss"], pid)


async def test_bad_action_422_changes_nothing(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    async with stack.client(token=None) as anon:
        for data in ({"action": "transfer"}, {}, {"action": "approve", "comment": "x" * 2001}):
            r = await anon.post(url, data=data)
            assert r.status_code == 422, r.text
            assert_safe_headers(r)
        r = await anon.post(url, json={"action": "approve"})  # not a form
        assert r.status_code == 422
        # the link still works afterwards
        assert (await anon.get(url)).status_code == 200
    await still_pending(org["boss"], pid)


async def test_decided_by_api_409(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    task = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text
    async with stack.client(token=None) as anon:
        for r in (await anon.get(url), await anon.post(url, data={"action": "reject"})):
            assert r.status_code == 409, r.text
            assert_safe_headers(r)
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "active"


async def test_after_transfer_old_link_403_new_link_works(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    old = await action_url(org["boss"], pid)
    task = await todo_for(org["boss"], pid)
    r = await org["boss"].post(
        f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "transfer", "to_user_id": org.user("finance")}
    )
    assert r.status_code == 200, r.text
    async with stack.client(token=None) as anon:
        for r in (await anon.get(old), await anon.post(old, data={"action": "approve"})):
            assert r.status_code == 403, r.text
            assert_safe_headers(r)
        new = await action_url(org["finance"], pid)
        assert new != old
        r = await anon.post(new, data={"action": "approve"})
        assert r.status_code == 200, r.text
    p = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    assert p["status"] == "active"


async def test_after_admin_reassign_old_link_403(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    old = await action_url(org["boss"], pid)
    r = await admin.post(f"/api/v1/projects/{pid}/approval/reassign", json={"to_user_id": org.user("director")})
    assert r.status_code == 200, r.text
    async with stack.client(token=None) as anon:
        r = await anon.post(old, data={"action": "approve"})
        assert r.status_code == 403, r.text
    await still_pending(org["director"], pid)


async def test_token_never_logged(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    token = url.rsplit("/", 1)[1]
    async with stack.client(token=None) as anon:
        with captured() as logs:
            await anon.get(url)
            await anon.get(tamper(url))
            await anon.post(url, data={"action": "nope"})
    assert any(e.get("event") == "http.request" for e in logs), "the access log is written"
    assert token not in repr(logs) and tamper(url).rsplit("/", 1)[1] not in repr(logs)
    assert {e.get("path") for e in logs if e.get("event") == "http.request"} == {"/a/<redacted>"}


@contextlib.contextmanager
def captured() -> Iterator[list[MutableMapping[str, Any]]]:
    """Like structlog's capture_logs, with the context variables (path, request id) merged in."""
    cap = LogCapture()
    old = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, cap])
    try:
        yield cap.entries
    finally:
        structlog.configure(**old)


@pytest_asyncio.fixture(loop_scope="session")
async def short_lived(
    stack: Stack, make_db_url: Callable[[str], str]
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, str]]:
    """A notify service whose links live 0 hours and whose key we know, behind its own edge app
    (the other services are the session stack's)."""
    from services.notify.server import build

    key = "test-link-key-" + uuid.uuid4().hex
    notify_settings = Settings(link_signing_key=key, link_ttl_hours=0, base_url=stack.settings.public_base_url())
    server, port = build(db_url=make_db_url("notify"), port=0, settings=notify_settings, registry_addr="",
                         redis_url="")
    server.start()
    settings = stack.settings.model_copy(update={"notify_addr": f"127.0.0.1:{port}"})
    deps = await EdgeDeps.connect(settings, temporal_client=stack.temporal, redis_client=stack.deps.redis)
    app = create_app(settings, deps=deps)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge.test") as c:
            yield c, deps.stubs["notify"], key
    finally:
        for ch in deps.channels.values():
            await ch.close()
        server.stop(grace=None)


async def test_expired_and_forged_links_403(
    short_lived: tuple[httpx.AsyncClient, Any, str], admin: httpx.AsyncClient, org: Org
) -> None:
    client, notify, key = short_lived
    pid = await pending(admin, org)
    task = await todo_for(org["boss"], pid)
    sent = await notify.Send(notify_pb2.SendRequest(
        request_id=uuid.uuid4().hex, recipient_ids=[org.user("boss")], kind="approval_request", title="待审批",
        project_id=pid, action_tasks={org.user("boss"): task["id"]}))
    url = sent.notifications[0].action_url
    assert "/a/" in url
    await asyncio.sleep(1.2)  # past the (zero) lifetime
    for r in (await client.get(url), await client.post(url, data={"action": "approve"})):
        assert r.status_code == 403, r.text
        assert_safe_headers(r)
        assert "link_expired" in r.text
    # a genuine signature over an unknown link id is still refused
    forged = URLSafeTimedSerializer(key, salt="baobei-action-link").dumps({"l": "no-such-link"})
    r = await client.get(f"/a/{forged}")
    assert r.status_code == 403 and "link_invalid" in r.text
    await still_pending(org["boss"], pid)
