"""Action links and identity (issue 13, item 5), over HTTP on the in-process stack.

Personal links (``/a/<token>``): a browser signed in as someone other than the link's approver is
refused (403 ``link_not_yours``, audited, nothing decided); the approver's own session, a stale
cookie or none work as the contract says.

Group links (``/a/g/<token>``), read from the card a real notify service posts to the DingTalk
stand-in: without a session → 303 to ``/signin?next=…``; signed in as a non-approver → 403;
signed in as an approver → the page, and a POST with the session's CSRF token decides as that
user (channel ``group_link``); without the token → 403. Once per approver (410), decided
elsewhere → 409, tampered / expired / personal-as-group → 403."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio

from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from edge.app import create_app
from edge.clients import EdgeDeps
from edge.sessions import COOKIE, SessionStore
from services.notify import links
from tests.edge.conftest import Org, Stack
from tests.edge.test_action_links import action_url, assert_safe_headers, pending, still_pending, tamper
from tests.edge.test_approvals import todo_for
from tests.standins import DingTalkStandIn

pytestmark = pytest.mark.asyncio(loop_scope="session")


# ---------------------------------------------------------------- helpers


async def session_client(stack: Stack, user_id: str, app: Any = None) -> tuple[httpx.AsyncClient, str]:
    """A browser signed in as ``user_id`` (a session made directly: the password endpoint is
    another helper's) → (client with the ``bb_session`` cookie, the session's CSRF token)."""
    sid, record = await SessionStore(stack.deps.redis, stack.settings).create(user_id=user_id, method="password")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app or stack.app), base_url="http://edge.test",
                               cookies={COOKIE: sid}, timeout=60)
    return client, record.csrf


async def refusals(admin: httpx.AsyncClient, actor_id: str, reason: str) -> list[Any]:
    """The refusals of one user recorded in the audit log (each test's users are its own)."""
    r = await admin.get("/api/v1/audit-log", params={"action": "action_link.refused", "actor_id": actor_id,
                                                     "limit": "200"})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"]
            if e.get("outcome") == "failure" and (e.get("details") or {}).get("reason") == reason]


async def decisions(admin: httpx.AsyncClient, pid: str) -> list[dict[str, Any]]:
    p = (await admin.get(f"/api/v1/projects/{pid}")).json()
    return [d for s in p["approval"]["steps"] for d in s["decisions"]]


# ---------------------------------------------------------------- personal links


async def test_personal_link_refuses_another_signed_in_user(
    stack: Stack, admin: httpx.AsyncClient, org: Org
) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    other, csrf = await session_client(stack, org.user("finance"))
    async with other:
        for r in (await other.get(url), await other.head(url),
                  await other.post(url, data={"action": "approve", "csrf_token": csrf})):
            assert r.status_code == 403, r.text
            assert_safe_headers(r)
        assert "link_not_yours" in (await other.get(url)).text
        assert len(await refusals(admin, org.user("finance"), "link_not_yours")) == 4
        # the refusal comes before the task's state: a tampered token is still just invalid
        assert "link_invalid" in (await other.get(tamper(url))).text
    await still_pending(org["boss"], pid)
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "pending_approval"


async def test_personal_link_works_for_its_approver_signed_in_or_not(
    stack: Stack, admin: httpx.AsyncClient, org: Org
) -> None:
    pid = await pending(admin, org)
    url = await action_url(org["boss"], pid)
    async with stack.client(token=None) as anon:
        anon.cookies.set(COOKIE, "stale-or-forged-session-id")  # no live session: as if none
        assert (await anon.get(url)).status_code == 200
    me, _ = await session_client(stack, org.user("boss"))
    async with me:
        r = await me.get(url)
        assert r.status_code == 200 and 'name="csrf_token"' not in r.text  # the link token is the credential
        r = await me.post(url, data={"action": "approve", "comment": "本人登录"})
        assert r.status_code == 200 and "已同意" in r.text, r.text
        assert (await me.post(url, data={"action": "approve"})).status_code == 410
    [d] = await decisions(admin, pid)
    assert (d["user_id"], d["channel"], d["comment"]) == (org.user("boss"), "link", "本人登录")


# ---------------------------------------------------------------- group links


@dataclass
class Groups:
    """A notify service of its own (its robot channel is the DingTalk stand-in; link key known)
    behind an edge app of its own; the other services are the session stack's."""

    app: Any
    deps: EdgeDeps
    ding: DingTalkStandIn
    key: str

    @property
    def notify(self) -> Any:
        return self.deps.stubs["notify"]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://edge.test", timeout=60)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def groups(stack: Stack, make_db_url: Callable[[str], str], redis_url: str) -> AsyncIterator[Groups]:
    from services.notify.server import build

    key = "test-group-key-" + uuid.uuid4().hex
    notify_settings = Settings(link_signing_key=key, base_url=stack.settings.public_base_url(),
                               webhook_allow_internal=True)
    server, port = build(db_url=make_db_url("notify"), port=0, settings=notify_settings,
                         registry_addr=stack.settings.registry_addr, redis_url=redis_url)
    server.start()
    settings = stack.settings.model_copy(update={"notify_addr": f"127.0.0.1:{port}"})
    deps = await EdgeDeps.connect(settings, temporal_client=stack.temporal, redis_client=stack.deps.redis)
    with DingTalkStandIn(rate_limit=None) as ding:
        await deps.stubs["notify"].PutChannel(notify_pb2.PutChannelRequest(
            request_id=uuid.uuid4().hex,
            channel=notify_pb2.Channel(key=f"group-chat-{uuid.uuid4().hex[:8]}", type="dingtalk", url=ding.url,
                                       enabled=True)))
        try:
            yield Groups(app=create_app(settings, deps=deps), deps=deps, ding=ding, key=key)
        finally:
            for ch in deps.channels.values():
                await ch.close()
            server.stop(grace=None)


@dataclass
class Card:
    group: str  # the group link of the card's button
    personal: str  # the personal link of the same notification (inbox, e-mail)
    payload: dict[str, Any]

    @property
    def path(self) -> str:
        return self.group.removeprefix("http://edge.test")

    @property
    def token(self) -> str:
        return self.group.rsplit("/", 1)[1]


async def post_card(g: Groups, pid: str, approver_id: str, task_id: str) -> Card:
    """The approval request for ``task_id`` as the workflow sends it, delivered to the group robot."""
    await g.notify.SetPreferences(notify_pb2.SetPreferencesRequest(
        request_id=uuid.uuid4().hex, preferences=notify_pb2.Preferences(user_id=approver_id, channels=["dingtalk"])))
    sent = await g.notify.Send(notify_pb2.SendRequest(
        request_id=uuid.uuid4().hex, recipient_ids=[approver_id], kind="approval_request", title=f"待审批：{pid}",
        body=f"项目：{pid}\n金额：5000.00 元\n审批环节：经理审批", project_id=pid, action_tasks={approver_id: task_id}))
    [d] = sent.deliveries
    assert (await g.notify.Deliver(notify_pb2.DeliverRequest(delivery_id=d.id))).outcome == "delivered"
    m = [m for m in g.ding.received if pid in m.text][-1]
    [(label, group)] = DingTalkStandIn.buttons(m)
    personal = sent.notifications[0].action_url
    raw = json.dumps(m.payload, ensure_ascii=False)
    # The card carries the group link (a button), never the personal link, and no amount.
    assert label == "登录后审批" and group.startswith("http://edge.test/a/g/")
    assert personal not in raw and personal.rsplit("/", 1)[1] not in raw and "5000" not in raw
    return Card(group=group, personal=personal, payload=m.payload)


async def boss_card(g: Groups, org: Org, admin: httpx.AsyncClient) -> tuple[str, Card]:
    pid = await pending(admin, org)
    task = await todo_for(org["boss"], pid)
    return pid, await post_card(g, pid, org.user("boss"), task["id"])


async def test_group_link_without_a_session_asks_to_sign_in(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    pid, card = await boss_card(groups, org, admin)
    expected = f"{stack.settings.public_base_url()}/signin?next={quote(card.path, safe='')}"
    async with groups.client() as anon:
        anon.headers["Authorization"] = org["boss"].headers["Authorization"]  # a bearer token proves nothing here
        for r in (await anon.get(card.group), await anon.head(card.group),
                  await anon.post(card.group, data={"action": "approve"})):
            assert r.status_code == 303, r.text
            assert r.headers["location"] == expected
            assert r.headers["referrer-policy"] == "no-referrer" and "set-cookie" not in r.headers
        anon.cookies.set(COOKIE, "expired-session")
        assert (await anon.get(card.group)).status_code == 303
    await still_pending(org["boss"], pid)


async def test_group_link_refuses_a_signed_in_non_approver(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    pid, card = await boss_card(groups, org, admin)
    other, csrf = await session_client(stack, org.user("finance"), groups.app)
    async with other:
        for r in (await other.get(card.group), await other.head(card.group),
                  await other.post(card.group, data={"action": "approve", "csrf_token": csrf})):
            assert r.status_code == 403, r.text
            assert_safe_headers(r)
        assert "link_not_yours" in (await other.get(card.group)).text
        refused = await refusals(admin, org.user("finance"), "link_not_yours")
        assert refused and all(e["details"]["link"] == "group" for e in refused)
        # the personal link of the same notification is refused to them too
        assert (await other.get(card.personal.replace("http://edge.test", ""))).status_code == 403
    await still_pending(org["boss"], pid)


async def test_group_link_decides_as_the_signed_in_approver_with_the_csrf_token(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    pid, card = await boss_card(groups, org, admin)
    me, csrf = await session_client(stack, org.user("boss"), groups.app)
    async with me:
        r = await me.get(card.group)
        assert r.status_code == 200, r.text
        assert_safe_headers(r)
        html = r.text
        assert f'<input type="hidden" name="csrf_token" value="{csrf}">' in html
        assert f'action="{card.group}"' in html and "部门经理" in html and "联系电话" in html
        assert (await me.head(card.group)).status_code == 200
        for data in ({"action": "approve"}, {"action": "approve", "csrf_token": "forged"}):
            r = await me.post(card.group, data=data)
            assert r.status_code == 403 and "csrf_failed" in r.text, r.text
        assert len(await refusals(admin, org.user("boss"), "csrf_failed")) == 2
        await still_pending(org["boss"], pid)
        r = await me.post(card.group, data={"action": "approve", "comment": "群里登录后同意", "csrf_token": csrf})
        assert r.status_code == 200 and "已同意" in r.text, r.text
        assert_safe_headers(r)
        # once per approver: the same approver again → 410
        assert (await me.get(card.group)).status_code == 410
        assert (await me.post(card.group, data={"action": "approve", "csrf_token": csrf})).status_code == 410
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "active"
    [d] = await decisions(admin, pid)
    assert (d["user_id"], d["action"], d["channel"], d["comment"]) == (
        org.user("boss"), "approve", "group_link", "群里登录后同意")
    assert d["on_behalf_of"] is None
    # the approver's personal link for the same task: decided by other means
    async with groups.client() as anon:
        assert (await anon.get(card.personal)).status_code == 409


async def test_group_link_after_a_decision_elsewhere_is_409(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    pid, card = await boss_card(groups, org, admin)
    task = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "reject"})
    assert r.status_code == 200, r.text
    me, csrf = await session_client(stack, org.user("boss"), groups.app)
    async with me:
        for r in (await me.get(card.group), await me.post(card.group, data={"action": "approve", "csrf_token": csrf})):
            assert r.status_code == 409 and "already_decided" in r.text, r.text
    assert (await org["rep"].get(f"/api/v1/projects/{pid}")).json()["status"] == "rejected"


async def test_group_link_follows_a_transfer(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    """The link names the request, not a person: after a transfer the new approver can use it and
    the one who handed it on is refused, like with a personal link."""
    pid, card = await boss_card(groups, org, admin)
    task = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision",
                               json={"action": "transfer", "to_user_id": org.user("director")})
    assert r.status_code == 200, r.text
    boss, boss_csrf = await session_client(stack, org.user("boss"), groups.app)
    director, csrf = await session_client(stack, org.user("director"), groups.app)
    async with boss, director:
        assert (await boss.post(card.group, data={"action": "approve", "csrf_token": boss_csrf})).status_code == 403
        r = await director.post(card.group, data={"action": "approve", "csrf_token": csrf})
        assert r.status_code == 200, r.text
    assert [(d["user_id"], d["action"], d["channel"]) for d in await decisions(admin, pid)] == [
        (org.user("boss"), "transfer", "api"), (org.user("director"), "approve", "group_link")]


async def test_group_link_in_an_all_step_works_once_per_approver(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    role = f"rv{org.run}"
    reviewers = [f"rv1-{org.run}", f"rv2-{org.run}"]
    r = await admin.put("/api/v1/org", json={"departments": [], "users": [
        {"id": u, "name": f"会签人{i}", "department_id": org.dept, "roles": [role]} for i, u in enumerate(reviewers)]})
    assert r.status_code == 200, r.text
    form = f"all-{org.run}"
    r = await admin.put(f"/api/v1/forms/{form}", json={"title": "会签", "fields": [
        {"key": "note", "label": "备注", "type": "text"}]})
    assert r.status_code == 200, r.text
    r = await admin.put(f"/api/v1/approval-policies/{form}", json={"form_key": form, "steps": [
        {"name": "会签", "approvers": {"type": "role", "role": role}, "mode": "all"}]})
    assert r.status_code == 200, r.text
    r = await org["rep"].post("/api/v1/projects", json={
        "form_key": form, "name": f"会签{uuid.uuid4().hex[:6]}", "amount": "5000", "fields": {}, "submit": True,
        "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"}})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    r = await admin.post(f"/api/v1/users/{reviewers[0]}/tokens")
    assert r.status_code == 201, r.text
    async with stack.client(r.json()["token"]) as reviewer:
        first = await todo_for(reviewer, pid)
    card = await post_card(groups, pid, reviewers[0], first["id"])  # one card, reviewer 1's request
    one, csrf1 = await session_client(stack, reviewers[0], groups.app)
    two, csrf2 = await session_client(stack, reviewers[1], groups.app)
    outsider, csrf3 = await session_client(stack, org.user("finance"), groups.app)
    async with one, two, outsider:
        r = await one.post(card.group, data={"action": "approve", "csrf_token": csrf1})
        assert r.status_code == 200 and "审批中" in r.text, r.text  # the step waits for reviewer 2
        assert (await one.get(card.group)).status_code == 410
        assert (await outsider.get(card.group)).status_code == 403
        assert (await two.get(card.group)).status_code == 200  # the same card works for reviewer 2
        r = await two.post(card.group, data={"action": "approve", "csrf_token": csrf2})
        assert r.status_code == 200 and "已生效" in r.text, r.text
        assert (await two.post(card.group, data={"action": "approve", "csrf_token": csrf2})).status_code == 410
    assert sorted((d["user_id"], d["channel"]) for d in await decisions(admin, pid)) == [
        (reviewers[0], "group_link"), (reviewers[1], "group_link")]


async def test_group_link_tampered_expired_or_personal_is_403(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    pid, card = await boss_card(groups, org, admin)
    genuine, payload = links.serializer(groups.key, group=True).loads_unsafe(card.token)
    assert genuine and list(payload) == ["g"]  # the link id only: no approver, no task
    # the same link signed 73 hours ago (measured on the clock this test runs under): expired
    old = links.token_for(groups.key, payload["g"], datetime.now(UTC) - timedelta(hours=73), group=True)
    personal_token = card.personal.rsplit("/", 1)[1]
    me, csrf = await session_client(stack, org.user("boss"), groups.app)
    async with me, groups.client() as anon:
        for client in (me, anon):
            for token, code in ((tamper(card.group).rsplit("/", 1)[1], "link_invalid"), (old, "link_expired"),
                                (personal_token, "link_invalid"), ("x" * 1200, "link_invalid")):
                for r in (await client.get(f"/a/g/{token}"),
                          await client.post(f"/a/g/{token}", data={"action": "approve", "csrf_token": csrf})):
                    assert r.status_code == 403 and code in r.text, (token, r.text)
                    assert_safe_headers(r)
        # a group token is no personal token either
        assert (await anon.get(f"/a/{card.token}")).status_code == 403
    await still_pending(org["boss"], pid)


async def test_group_link_for_a_delegate_and_after_a_reopened_step(
    stack: Stack, groups: Groups, admin: httpx.AsyncClient, org: Org
) -> None:
    """A delegate may use the card as their to-do list allows (recorded on behalf of the approver);
    once the step is returned and opened again, the old card's opening is over (409) and the new
    request's card works."""
    now = datetime.now(UTC)
    r = await org["boss"].put("/api/v1/me/delegation", json={
        "delegate_id": org.user("rep2"), "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat()})
    assert r.status_code == 200, r.text
    try:
        pid, card = await boss_card(groups, org, admin)
        task = await todo_for(org["boss"], pid)
        r = await org["boss"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "return"})
        assert r.status_code == 200 and r.json()["status"] == "returned", r.text
        assert (await org["rep"].post(f"/api/v1/projects/{pid}/submit")).status_code == 200
        again = await todo_for(org["boss"], pid)
        assert again["id"] != task["id"]
        fresh = await post_card(groups, pid, org.user("boss"), again["id"])
        boss, csrf = await session_client(stack, org.user("boss"), groups.app)
        delegate, dcsrf = await session_client(stack, org.user("rep2"), groups.app)
        async with boss, delegate:
            assert (await boss.get(card.group)).status_code == 409  # the returned opening
            assert (await delegate.get(card.group)).status_code == 403  # no part in that opening
            r = await delegate.post(fresh.group, data={"action": "approve", "csrf_token": dcsrf, "comment": "代批"})
            assert r.status_code == 200 and "已生效" in r.text, r.text
            assert (await boss.get(fresh.group)).status_code == 409  # decided by their delegate
    finally:
        assert (await org["boss"].delete("/api/v1/me/delegation")).status_code == 204
    last = (await decisions(admin, pid))[-1]
    assert (last["user_id"], last["on_behalf_of"], last["channel"]) == (
        org.user("rep2"), org.user("boss"), "group_link")
