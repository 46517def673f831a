"""Personal notices through enterprise apps (DingTalk / WeCom / Feishu), over real gRPC: a real
registry for contacts, real Redis, real SQLite/PostgreSQL. The tests play the
NotificationDelivery workflow by calling Deliver / DeadLetter themselves (the dispatcher is off)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY

from baobei.core.grpc_client import read_failure
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.registry.v1 import identity_service_pb2 as ipb
from baobei.registry.v1 import identity_service_pb2_grpc as ipb_grpc
from services.notify.im import clients
from tests.conftest import StartService
from tests.service import im_platform
from tests.service.test_notify_delivery import Notify, failure, make_notify, rid
from tests.standins.dingtalk_app import DingTalkAppStandIn
from tests.standins.feishu_app import FeishuAppStandIn
from tests.standins.wecom_app import WeComAppStandIn

__all__ = ["make_notify"]  # shared with the robot/e-mail tests
APPROVAL = {"code": "BB-2026-000011", "name": "园区[二期](https://evil.example)", "customer": "杭州某某科技",
            "amount": "987654.32", "step": "经理审批"}


@pytest.fixture(scope="module")
def registry_addr(start_module_service: StartService) -> str:
    """The directory: alice signed in with the DingTalk provider once (her link keeps her
    DingTalk userid), bob never did; carol signed in with WeCom (the subject is her userid)."""
    from baobei.registry.v1 import registry_service_pb2 as rpb
    from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc

    registry = start_module_service("registry")
    rpb_grpc.RegistryServiceStub(registry.channel).UpsertOrg(rpb.UpsertOrgRequest(
        request_id=rid(), departments=[rpb.Department(id="hq", name="总部")],
        users=[rpb.User(id=u, name=name, department_id="hq") for u, name in
               (("alice", "Alice 王"), ("bob", "Bob"), ("carol", "Carol"), ("dave", "Dave"))]), timeout=10)
    rpb_grpc.RegistryServiceStub(registry.channel).UpsertOrg(rpb.UpsertOrgRequest(
        request_id=rid(), users=[rpb.User(id="dave", name="Dave", department_id="hq", left=True)]), timeout=10)
    identity = ipb_grpc.IdentityServiceStub(registry.channel)
    for key, type_ in (("dingtalk", "dingtalk"), ("wecom", "wecom"), ("feishu-corp", "feishu")):
        p = ipb.Provider(key=key, type=type_, name=key, enabled=True)
        identity.PutProvider(ipb.PutProviderRequest(request_id=rid(), provider=p, actor_id="root"), timeout=10)
    identity.ResolveIdentity(ipb.ResolveIdentityRequest(
        request_id=rid(), provider_key="dingtalk", subject="union-alice", match_field="id", match_value="alice",
        platform_user_id="ding-alice"), timeout=10)
    identity.ResolveIdentity(ipb.ResolveIdentityRequest(
        request_id=rid(), provider_key="wecom", subject="carol-wx", match_field="id", match_value="carol"),
        timeout=10)
    identity.ResolveIdentity(ipb.ResolveIdentityRequest(
        request_id=rid(), provider_key="feishu-corp", subject="on_union-carol", match_field="id", match_value="carol",
        platform_user_id="fs-carol"), timeout=10)
    return registry.addr


@pytest.fixture()
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[im_platform.Platform]:
    """The test platform stands in for the apps of every platform (the wiring, not the clients)."""
    fresh = im_platform.Platform(users={"ding-alice", "ding-bob", "bob", "carol-wx", "fs-carol"})
    monkeypatch.setattr(im_platform, "PLATFORM", fresh)
    for channel_type in ("dingtalk_app", "wecom_app", "feishu_app"):
        monkeypatch.setitem(clients.MODULES, channel_type, "tests.service.im_platform")
    yield fresh


def app_channel(n: Notify, key: str = "ding-app", type_: str = "dingtalk_app", **options: str) -> pb.Channel:
    p = im_platform.PLATFORM
    return n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key=key, type=type_, app_key=p.app_key, secret=p.app_secret, agent_id="3001", enabled=True,
        options=options)), timeout=10)


def approval(n: Notify, user: str = "alice", task: str = "", **kw: Any) -> tuple[pb.Notification, pb.Delivery, str]:
    task = task or f"t-{uuid.uuid4().hex[:8]}"
    sent = n.send([user], kind="approval_request", title="待审批：园区项目", action_tasks={user: task},
                  project_id="p-1", body="请尽快审批", context=APPROVAL, **kw)
    [d] = sent.deliveries
    return sent.notifications[0], d, task


def violations(call: Callable[[], Any]) -> set[str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return {v.field for v in read_failure(info.value).violations}


def close(n: Notify, task_id: str, outcome: str = "approved", *, actor: str = "李四",
          request_id: str = "") -> pb.CloseTaskResponse:
    return n.stub.CloseTask(pb.CloseTaskRequest(
        request_id=request_id or rid(), task_id=task_id, project_id="p-1", outcome=outcome, actor_id="lisi",
        actor_name=actor), timeout=10)


def sent_card(n: Notify, task_id: str, *, recipient: str = "alice", channel_key: str = "ding-app") -> str:
    """A card as the delivery path records it once the platform accepted it."""
    ident = str(uuid.uuid4())
    n.execute(
        "INSERT INTO im_message (id, channel_key, type, recipient_id, platform_user, task_id, project_id,"
        " message_ref, todo_ref, title, markdown, url, state, outcome, close_delivery_id, created_at)"
        " VALUES (:i, :k, 'dingtalk_app', :r, :u, :t, 'p-1', 'track-1', 'todo-1', '待审批', 'md', '', 'open', '',"
        " '', :at)", i=ident, k=channel_key, r=recipient, u=f"ding-{recipient}", t=task_id, at=datetime.now(UTC))
    return ident


def test_close_task_queues_one_update_per_open_card_exactly_once(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    a, b = sent_card(n, "t-1", recipient="alice"), sent_card(n, "t-1", recipient="bob")
    sent_card(n, "t-other")
    req_id = rid()
    first = close(n, "t-1", request_id=req_id)
    assert first.status == "已同意 · 李四"
    assert sorted(d.recipient_id for d in first.deliveries) == ["alice", "bob"]
    assert {(d.channel, d.target, d.status, d.kind) for d in first.deliveries} == {
        ("dingtalk_app", "ding-app", "pending", "im_card_update")}
    # A retried activity (same request id) answers the same; a redelivered close (new request id,
    # even another outcome) queues nothing more and the first outcome stays.
    assert close(n, "t-1", request_id=req_id) == first
    again = close(n, "t-1", "cancelled", actor="")
    assert (list(again.deliveries), again.status) == ([], "已同意 · 李四")
    rows = n.rows("SELECT id, state, outcome, close_delivery_id FROM im_message WHERE task_id = 't-1' ORDER BY id")
    assert {r[0] for r in rows} == {a, b}
    assert all(r[1:3] == ("closed", "approved") for r in rows)
    assert {r[3] for r in rows} == {d.id for d in first.deliveries}
    assert n.rows("SELECT count(*) FROM delivery") == [(2,)]
    assert n.rows("SELECT state FROM im_message WHERE task_id = 't-other'") == [("open",)]


def test_concurrent_closes_queue_one_update_per_card(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    cards = {sent_card(n, "t-race", recipient=u) for u in ("alice", "bob", "carol")}
    barrier = threading.Barrier(6)

    def go(i: int) -> list[str]:
        barrier.wait()
        return [d.id for d in close(n, "t-race", ("approved", "rejected")[i % 2], actor=f"审批人{i}").deliveries]

    with ThreadPoolExecutor(6) as pool:
        queued = [ids for ids in pool.map(go, range(6))]
    assert sorted(len(ids) for ids in queued) == [0, 0, 0, 0, 0, 3]
    rows = n.rows("SELECT id, state, close_delivery_id FROM im_message WHERE task_id = 't-race'")
    assert {r[0] for r in rows} == cards and {r[1] for r in rows} == {"closed"}
    assert sorted(r[2] for r in rows) == sorted(next(ids for ids in queued if ids))
    assert n.rows("SELECT count(*) FROM delivery") == [(3,)]


def test_close_task_without_cards_and_its_wording(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    out = close(n, "t-none", "transferred", actor="")
    assert (list(out.deliveries), out.status) == ([], "已转交他人")
    assert close(n, "t-sla", "closed", actor="system").status == "已由他人处理"
    for outcome, words in (("rejected", "已驳回 · 王五"), ("returned", "已退回修改 · 王五"),
                           ("withdrawn", "申请人已撤回 · 王五"), ("reassigned", "已改派他人 · 王五"),
                           ("cancelled", "已取消 · 王五"), ("closed", "已由他人处理 · 王五")):
        assert close(n, f"t-{outcome}", outcome, actor="王五").status == words


def test_close_task_validation_names_the_fields(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    with pytest.raises(grpc.RpcError) as info:
        n.stub.CloseTask(pb.CloseTaskRequest(request_id=rid(), task_id="", outcome="maybe"), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in read_failure(info.value).violations} == {"task_id", "outcome"}
    assert failure(lambda: n.stub.CloseTask(pb.CloseTaskRequest(task_id="t", outcome="approved"),
                                            timeout=10))[0] == grpc.StatusCode.INVALID_ARGUMENT


# ---- channels -----------------------------------------------------------------------------------


def test_app_channels_are_validated_and_their_secret_is_write_only(make_notify: Callable[..., Notify]) -> None:
    n = make_notify(webhook_allow_internal=False)

    def put(**kw: Any) -> pb.Channel:
        fields = {"key": "ding-app", "type": "dingtalk_app", "enabled": True, **kw}
        return n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(**fields)), timeout=10)

    assert violations(lambda: put()) == {"channel.app_key", "channel.secret", "channel.agent_id"}
    assert violations(lambda: put(app_key="k", secret="s", agent_id="12a", url="https://x.example/robot",
                                  api_base="ftp://x", options={"Bad-Key": "1", "org_synced": "yes"})) == {
        "channel.agent_id", "channel.url", "channel.api_base", "channel.options[Bad-Key]",
        "channel.options[org_synced]"}
    # The API base may not point inside the network unless stand-ins are allowed (SSRF).
    assert violations(lambda: put(app_key="k", secret="s", agent_id="1", api_base="http://127.0.0.1:9/",
                                  options={"oapi_base": "http://10.0.0.8/", "openapi_base": "https://[::1]/"})) == {
        "channel.api_base", "channel.options[oapi_base]", "channel.options[openapi_base]"}
    assert violations(lambda: put(app_key="k", secret="s", agent_id="1", options={"oapi_base": "gopher://x"})) == {
        "channel.options[oapi_base]"}
    assert violations(lambda: put(type="feishu_app", app_key="cli_a", secret="s", agent_id="1")) == {
        "channel.agent_id"}
    saved = put(app_key="dingxyz", secret="app-secret", agent_id="3001", options={"sso_provider": "ding-sso"})
    assert (saved.type, saved.app_key, saved.agent_id, saved.secret, saved.has_secret) == (
        "dingtalk_app", "dingxyz", "3001", "", True)
    assert dict(saved.options) == {"sso_provider": "ding-sso"}
    # A later PUT without the secret keeps it; another type needs its own.
    assert put(app_key="dingxyz", agent_id="3002", enabled=False).has_secret
    assert violations(lambda: put(type="wecom_app", app_key="ww1", agent_id="1000002")) == {"channel.secret"}
    [listed] = n.stub.ListChannels(pb.ListChannelsRequest(), timeout=10).channels
    assert (listed.agent_id, listed.enabled, listed.secret, listed.has_secret) == ("3002", False, "", True)
    feishu = put(key="feishu-app", type="feishu_app", app_key="cli_a", secret="s", api_base="https://open.feishu.cn/")
    assert (feishu.api_base, feishu.agent_id) == ("https://open.feishu.cn", "")


def test_preferences_offer_the_app_channels(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    n.prefs("alice", ["dingtalk_app", "email"], by_kind={"approval_request": pb.ChannelList(
        channels=["feishu_app", "wecom_app"])})
    got = n.stub.GetPreferences(pb.GetPreferencesRequest(user_id="alice"), timeout=10)
    assert list(got.channels) == ["dingtalk_app", "email"]
    assert list(got.by_kind["approval_request"].channels) == ["feishu_app", "wecom_app"]
    # No enabled app of that type: visible as skipped, never silently dropped.
    [d] = n.send(["alice"], kind="project_approved", title="项目已通过", context=APPROVAL).deliveries[:1]
    assert (d.channel, d.status, d.error) == ("dingtalk_app", "skipped", "no enabled dingtalk_app app channel")


# ---- delivery -----------------------------------------------------------------------------------


def test_an_approval_request_becomes_a_card_and_a_todo_once(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    note, d, task = approval(n)
    assert (d.channel, d.target, d.status, d.kind) == ("dingtalk_app", "ding-app", "pending", "approval_request")
    before = REGISTRY.get_sample_value("baobei_notify_delivery_attempts_total",
                                       {"channel": "dingtalk_app", "result": "ok"}) or 0
    first = n.deliver(d.id, attempt=1)
    assert (first.outcome, first.delivery.status, first.delivery.attempts) == ("delivered", "delivered", 1)
    assert n.deliver(d.id, attempt=2).outcome == "delivered"
    [card] = platform.cards.values()
    [todo] = platform.todos.values()
    url = f"https://baobei.test/auth/sso/dingtalk/inapp?next=/approvals/{task}"
    c = card["card"]
    assert (card["user"], card["key"], card["agent_id"], c.url, c.task_id) == ("ding-alice", d.id, "3001", url, task)
    assert c.title == "待审批：园区项目" and [(b.label, b.url) for b in c.buttons] == [("去审批", url)]
    # Escaped user text, no action-link token (the card is kept for its update), unique per notice.
    assert "](https://evil" not in c.markdown and "\\[二期\\]" in c.markdown and "/a/" not in c.markdown
    assert note.action_url.rsplit("/", 1)[1] not in c.markdown and f"通知编号：{note.id[:8]}" in c.markdown
    assert "经理审批" in c.markdown and "Alice 王" not in c.title
    assert (todo["user"], todo["todo"].task_id, todo["todo"].url, todo["todo"].title) == (
        "ding-alice", task, url, "待审批：园区项目")
    assert platform.calls == [("send_card", "ding-alice"), ("create_todo", "ding-alice")]
    assert n.rows("SELECT recipient_id, platform_user, task_id, message_ref, todo_ref, state FROM im_message") == [
        ("alice", "ding-alice", task, "card-1", "todo-1", "open")]
    assert n.attempts(d.id) == [(1, True)]
    after = REGISTRY.get_sample_value("baobei_notify_delivery_attempts_total",
                                      {"channel": "dingtalk_app", "result": "ok"})
    assert after == before + 1
    # Another kind: a card without a to-do, its button the project.
    [d2] = n.send(["alice"], kind="project_approved", title="项目已通过", project_id="p-1",
                  context=APPROVAL).deliveries
    assert n.deliver(d2.id).outcome == "delivered"
    assert len(platform.cards) == 2 and len(platform.todos) == 1
    assert platform.cards["card-2"]["card"].url.endswith("/inapp?next=/projects/p-1")


def test_close_task_updates_the_card_and_finishes_the_todo_exactly_once(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    assert n.deliver(d.id).outcome == "delivered"
    closed = close(n, task, actor="李四")
    [u] = closed.deliveries
    assert (u.channel, u.target, u.kind, u.recipient_id, u.status) == (
        "dingtalk_app", "ding-app", "im_card_update", "alice", "pending")
    assert list(close(n, task, "cancelled").deliveries) == []
    assert n.deliver(u.id, attempt=1).outcome == "delivered"
    assert n.deliver(u.id, attempt=2).outcome == "delivered"
    [card] = platform.cards.values()
    [todo] = platform.todos.values()
    assert (card["state"].status, card["state"].closed, card["updates"]) == ("已同意 · 李四", True, 1)
    assert (todo["done"], todo["removed"], todo["finishes"]) == (True, False, 1)
    assert n.rows("SELECT state, outcome, close_delivery_id FROM im_message") == [("closed", "approved", u.id)]
    # A transferred task's to-do is removed, not completed; a decider given by id only is named
    # from the directory.
    _, d2, task2 = approval(n)
    assert n.deliver(d2.id).outcome == "delivered"
    [u2] = n.stub.CloseTask(pb.CloseTaskRequest(request_id=rid(), task_id=task2, outcome="transferred",
                                                actor_id="bob"), timeout=10).deliveries
    assert n.deliver(u2.id).outcome == "delivered"
    assert platform.cards["card-2"]["state"].status == "已转交他人 · Bob"
    assert (platform.todos["todo-2"]["done"], platform.todos["todo-2"]["removed"]) == (False, True)


def test_a_task_closed_before_its_card_is_sent_sends_nothing(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    assert list(close(n, task, "withdrawn", actor="").deliveries) == []
    out = n.deliver(d.id)
    assert (out.outcome, out.delivery.status) == ("skipped", "skipped")
    assert f"task {task} already closed (申请人已撤回)" in out.delivery.error
    assert platform.calls == [] and n.rows("SELECT count(*) FROM im_message") == [(0,)]


def test_a_task_closed_while_its_card_is_in_flight_ends_with_the_card_closed(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    """CloseTask runs between the platform accepting the card and the delivery's commit: it sees
    no card yet, and the commit sees the closed task and queues the update itself."""
    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    closes: list[pb.CloseTaskResponse] = []
    original = im_platform.Client.create_todo

    def todo_then_close(self: im_platform.Client, user: str, todo: Any, *, idempotency_key: str) -> str:
        ref = original(self, user, todo, idempotency_key=idempotency_key)
        closes.append(close(n, task, "rejected", actor="王五"))
        return ref

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(im_platform.Client, "create_todo", todo_then_close)
        assert n.deliver(d.id).outcome == "delivered"
    assert [list(c.deliveries) for c in closes] == [[]]
    [(update_id, state)] = n.rows("SELECT close_delivery_id, state FROM im_message")
    assert state == "closed"
    [u] = n.stub.ListDeliveries(pb.ListDeliveriesRequest(status="pending"), timeout=10).deliveries
    assert (u.id, u.kind) == (update_id, "im_card_update")
    assert n.deliver(u.id).outcome == "delivered"
    [card] = platform.cards.values()
    assert (card["state"].status, card["updates"]) == ("已驳回 · 王五", 1)
    assert platform.todos["todo-1"]["done"]


def test_a_task_closed_between_the_card_and_its_todo_ends_with_the_card_closed(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    """The card went out, the to-do failed (retryable), then the task closed: the next attempt
    records the card (queueing its update) and makes no to-do for the closed task."""
    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    platform.fail_next("create_todo", retryable=True)
    assert failure(lambda: n.deliver(d.id, attempt=1))[1] == "delivery_retryable"
    assert list(close(n, task, "cancelled", actor="").deliveries) == []
    out = n.deliver(d.id, attempt=2)
    assert (out.outcome, out.delivery.status) == ("delivered", "delivered")
    [u] = n.stub.ListDeliveries(pb.ListDeliveriesRequest(status="pending"), timeout=10).deliveries
    assert u.kind == "im_card_update" and n.deliver(u.id).outcome == "delivered"
    assert [c["state"].status for c in platform.cards.values()] == ["已取消"]
    assert platform.todos == {} and platform.calls.count(("send_card", "ding-alice")) == 1


def test_quiet_hours_hold_personal_notices(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n)
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
    n.prefs("alice", ["dingtalk_app"], quiet_hours=pb.QuietHours(start=start, end=end, tz="UTC"))
    _, d, _ = approval(n)
    assert d.HasField("not_before")
    out = n.deliver(d.id)
    assert out.outcome == "rate_limited" and 0 < out.retry_after_seconds <= 3600 and platform.calls == []
    n.execute("UPDATE delivery SET not_before = :t WHERE id = :i", t=now - timedelta(seconds=5), i=d.id)
    assert n.deliver(d.id).outcome == "delivered" and len(platform.cards) == 1


def test_recipients_without_a_platform_id_are_skipped_with_the_reason(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n)
    for user in ("bob", "dave"):
        n.prefs(user, ["dingtalk_app"])
    _, d, _ = approval(n, "bob")
    out = n.deliver(d.id)
    assert (out.outcome, out.delivery.status) == ("skipped", "skipped")
    assert "no dingtalk_app user id" in out.delivery.error and "dingtalk" in out.delivery.error
    _, gone, _ = approval(n, "dave")
    assert "left the organisation" in n.deliver(gone.id).delivery.error
    # The org synced from DingTalk: Baobei ids are DingTalk userids.
    app_channel(n, org_synced="true")
    _, d2, _ = approval(n, "bob")
    assert n.deliver(d2.id).outcome == "delivered"
    assert [c["user"] for c in platform.cards.values()] == ["bob"]


def test_wecom_identity_subject_is_the_userid_and_the_sso_provider_is_configurable(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n, key="wx-app", type_="wecom_app", sso_provider="wecom")
    n.prefs("carol", ["wecom_app"])
    _, d, task = approval(n, "carol")
    assert n.deliver(d.id).outcome == "delivered"
    [card] = platform.cards.values()
    assert card["user"] == "carol-wx"
    assert card["card"].url == f"https://baobei.test/auth/sso/wecom/inapp?next=/approvals/{task}"


def test_the_sso_provider_defaults_to_the_enabled_one_of_the_platform(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    """Feishu sign-in is configured as provider "feishu-corp": the card opens its in-app page and
    the Feishu user_id kept with carol's link addresses her."""
    n = make_notify()
    n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key="fs-app", type="feishu_app", app_key=platform.app_key, secret=platform.app_secret, enabled=True)),
        timeout=10)
    n.prefs("carol", ["feishu_app"])
    _, d, task = approval(n, "carol")
    assert n.deliver(d.id).outcome == "delivered"
    [card] = platform.cards.values()
    assert card["user"] == "fs-carol"
    assert card["card"].url == f"https://baobei.test/auth/sso/feishu-corp/inapp?next=/approvals/{task}"


def test_platform_errors_retry_dead_letter_and_redrive(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    # A rate limit is retryable: logged, then delivered.
    _, d, _ = approval(n)
    platform.fail_next("send_card", retryable=True, message="api freq out of limit (90018)")
    assert failure(lambda: n.deliver(d.id, attempt=1)) == (grpc.StatusCode.UNAVAILABLE, "delivery_retryable")
    assert n.deliver(d.id, attempt=2).outcome == "delivered"
    assert n.attempts(d.id) == [(1, False), (2, True)]
    # A permanent error: dead at once, visible, redriven.
    _, d2, _ = approval(n)
    platform.fail_next("send_card", retryable=False, message="no permission (60011)")
    assert failure(lambda: n.deliver(d2.id, attempt=1)) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                            "delivery_permanent")
    [dead] = n.stub.ListDeliveries(pb.ListDeliveriesRequest(status="dead", channel="dingtalk_app"),
                                   timeout=10).deliveries
    assert dead.id == d2.id and "60011" in dead.error
    assert n.stub.Redrive(pb.RedriveRequest(request_id=rid(), delivery_ids=[d2.id]), timeout=10).deliveries
    assert n.deliver(d2.id).outcome == "delivered"
    assert n.attempts(d2.id) == [(1, False), (2, True)]
    # The card went out but the to-do was refused: the card is kept (CloseTask can close it), the
    # delivery dead; a redrive creates the to-do without sending the card again.
    _, d3, task3 = approval(n)
    platform.fail_next("create_todo", retryable=False, message="todo quota exceeded")
    assert failure(lambda: n.deliver(d3.id))[1] == "delivery_permanent"
    assert n.rows("SELECT state, todo_ref FROM im_message WHERE id = :i", i=d3.id) == [("open", "")]
    n.stub.Redrive(pb.RedriveRequest(request_id=rid(), delivery_ids=[d3.id]), timeout=10)
    assert n.deliver(d3.id).outcome == "delivered"
    assert len(platform.sent_to("ding-alice")) == 3 and len(platform.todos) == 3
    assert n.rows("SELECT todo_ref FROM im_message WHERE id = :i", i=d3.id) == [("todo-3",)]
    [u] = close(n, task3).deliveries
    # A card update refused for good goes to the dead letters too.
    platform.fail_next("update_card", retryable=False, message="card expired")
    assert failure(lambda: n.deliver(u.id))[1] == "delivery_permanent"
    n.stub.Redrive(pb.RedriveRequest(request_id=rid(), delivery_ids=[u.id]), timeout=10)
    assert n.deliver(u.id).outcome == "delivered"
    assert platform.cards["card-3"]["state"].status == "已同意 · 李四"


def test_a_card_out_whose_todo_runs_out_of_retries_is_kept_with_the_dead_letter(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    platform.fail_next("create_todo", retryable=True, message="system busy (-1)")
    assert failure(lambda: n.deliver(d.id, attempt=1))[1] == "delivery_retryable"
    out = n.stub.DeadLetter(pb.DeadLetterRequest(delivery_id=d.id, error="retry budget exhausted"), timeout=10)
    assert (out.outcome, out.delivery.status) == ("dead", "dead")
    assert n.rows("SELECT state, message_ref, todo_ref FROM im_message") == [("open", "card-1", "")]
    # The task closes while the delivery is dead: the card (which is out) is closed all the same.
    [u] = close(n, task).deliveries
    assert n.deliver(u.id).outcome == "delivered"
    assert platform.cards["card-1"]["state"].status == "已同意 · 李四"
    # A redrive afterwards calls nothing: the card (out, closed) is the delivery, the task is over.
    n.stub.Redrive(pb.RedriveRequest(request_id=rid(), delivery_ids=[d.id]), timeout=10)
    calls = len(platform.calls)
    assert n.deliver(d.id).outcome == "delivered"
    assert len(platform.calls) == calls and len(platform.cards) == 1 and platform.todos == {}
    assert n.rows("SELECT count(*) FROM delivery WHERE kind = 'im_card_update'") == [(1,)]


# ---- against the DingTalk stand-in (the real DingTalk client over loopback HTTP) ------------------


@pytest.fixture()
def dingtalk() -> Iterator[DingTalkAppStandIn]:
    with DingTalkAppStandIn() as dt:
        dt.add_person("alice", userid="ding-alice", name="Alice 王")
        yield dt


def dingtalk_channel(n: Notify, dt: DingTalkAppStandIn) -> None:
    key, secret = dt.add_app()
    n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key="ding-app", type="dingtalk_app", app_key=key, secret=secret, agent_id=str(dt.agent_id(key)),
        api_base=dt.base, enabled=True)), timeout=10)


def test_dingtalk_work_notice_and_todo_closed_exactly_once_after_a_decision(
    make_notify: Callable[..., Notify], dingtalk: DingTalkAppStandIn,
) -> None:
    n = make_notify()
    dingtalk_channel(n, dingtalk)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    assert n.deliver(d.id, attempt=1).outcome == "delivered"
    assert n.deliver(d.id, attempt=2).outcome == "delivered"
    [notice] = dingtalk.notices_for("ding-alice")
    assert notice.status == "待处理" and task in notice.text and "/a/" not in notice.text
    assert f"/auth/sso/dingtalk/inapp?next=/approvals/{task}" in notice.text
    [todo] = dingtalk.todos_for(dingtalk.people["alice"].unionid)
    assert not todo.done and f"next=/approvals/{task}" in json.dumps(todo.detail_url)
    # Decided in the web app: the workflow closes the task (a retried activity repeats the call).
    req = rid()
    first = close(n, task, actor="李四", request_id=req)
    assert close(n, task, actor="李四", request_id=req) == first
    assert list(close(n, task, "cancelled").deliveries) == []
    [u] = first.deliveries
    assert n.deliver(u.id, attempt=1).outcome == "delivered"
    assert n.deliver(u.id, attempt=2).outcome == "delivered"
    assert [s[1] for s in dingtalk.status_updates] == ["已同意 · 李四"]
    assert notice.status == "已同意 · 李四" and todo.done and not todo.deleted
    assert len(dingtalk.notices_for("ding-alice")) == 1 and len(dingtalk.todos) == 1


def test_dingtalk_permanent_refusal_goes_to_dead_letters_and_redrive_delivers(
    make_notify: Callable[..., Notify], dingtalk: DingTalkAppStandIn,
) -> None:
    n = make_notify()
    dingtalk_channel(n, dingtalk)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    dingtalk.refuse_user("ding-alice", 60121, "找不到该用户")
    code, reason = failure(lambda: n.deliver(d.id, attempt=1))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "delivery_permanent")
    [dead] = n.stub.ListDeliveries(pb.ListDeliveriesRequest(status="dead", channel="dingtalk_app"),
                                   timeout=10).deliveries
    assert dead.id == d.id and dead.error and dingtalk.notices_for("ding-alice") == []
    assert n.stub.DeadLetter(pb.DeadLetterRequest(delivery_id=d.id, error="x"), timeout=10).outcome == "dead"
    # The admin fixes it (the person joins the app's range), then redrives.
    dingtalk.refused.pop("ding-alice")
    redriven = n.stub.Redrive(pb.RedriveRequest(request_id=rid(), delivery_ids=[d.id]), timeout=10).deliveries
    assert [(x.id, x.status) for x in redriven] == [(d.id, "pending")]
    assert n.deliver(d.id).outcome == "delivered"
    assert len(dingtalk.notices_for("ding-alice")) == 1
    assert [ok for _, ok in n.attempts(d.id)] == [False, True]
    # The card update of a closed task goes through the same paths: a token expired mid-way is
    # refreshed once, a permanent refusal dead-letters the update, a redrive finishes it.
    [u] = close(n, task, "transferred", actor="").deliveries
    dingtalk.expire_tokens()
    dingtalk.refuse_user("ding-alice", 60121, "找不到该用户")
    assert failure(lambda: n.deliver(u.id))[1] == "delivery_permanent"
    dingtalk.refused.pop("ding-alice")
    n.stub.Redrive(pb.RedriveRequest(request_id=rid(), delivery_ids=[u.id]), timeout=10)
    assert n.deliver(u.id).outcome == "delivered"
    [notice] = dingtalk.notices_for("ding-alice")
    [todo] = dingtalk.todos_for(dingtalk.people["alice"].unionid)
    assert notice.status == "已转交他人" and todo.deleted


def test_a_commit_lost_after_the_platform_accepted_is_repaired_without_sending_again(
    make_notify: Callable[..., Notify], platform: im_platform.Platform,
) -> None:
    """The database write after the send fails (a crash's stand-in): the next attempt finds the
    delivery key marked delivered and records the card from what Redis kept."""
    from services.notify import im_store

    n = make_notify()
    app_channel(n)
    n.prefs("alice", ["dingtalk_app"])
    _, d, task = approval(n)
    real = im_store.record_sent

    def lost(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("database went away")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(im_store, "record_sent", lost)
        with pytest.raises(grpc.RpcError):
            n.deliver(d.id, attempt=1)
    assert im_store.record_sent is real
    assert n.rows("SELECT status FROM delivery WHERE id = :i", i=d.id) == [("pending",)]
    out = n.deliver(d.id, attempt=2)
    assert (out.outcome, out.delivery.status) == ("delivered", "delivered")
    assert len(platform.cards) == 1 and len(platform.todos) == 1
    assert n.rows("SELECT platform_user, task_id, message_ref, todo_ref, state FROM im_message") == [
        ("ding-alice", task, "card-1", "todo-1", "open")]
    [u] = close(n, task).deliveries
    assert n.deliver(u.id).outcome == "delivered" and platform.cards["card-1"]["updates"] == 1


def test_wecom_and_feishu_cards_sent_and_closed_through_their_clients(make_notify: Callable[..., Notify]) -> None:
    """Carol signed in with WeCom (subject = her userid) and Feishu (the link keeps her user_id)."""
    n = make_notify()
    with WeComAppStandIn() as wc, FeishuAppStandIn() as fs:
        wc.add_person("carol", userid="carol-wx", name="Carol")
        fs.add_person("carol", userid="fs-carol", name="Carol")
        agent, wc_secret = wc.add_agent()
        fs_id, fs_secret = fs.add_app()
        for channel in (pb.Channel(key="wx-app", type="wecom_app", app_key=wc.corp_id, secret=wc_secret,
                                   agent_id=agent, api_base=wc.base, enabled=True),
                        pb.Channel(key="fs-app", type="feishu_app", app_key=fs_id, secret=fs_secret,
                                   api_base=fs.base, enabled=True)):
            n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=channel), timeout=10)
        n.prefs("carol", ["wecom_app", "feishu_app"])
        task = "t-wx-fs"
        deliveries = n.send(["carol"], kind="approval_request", title="待审批：园区项目", action_tasks={"carol": task},
                            project_id="p-1", context=APPROVAL).deliveries
        assert sorted(x.channel for x in deliveries) == ["feishu_app", "wecom_app"]
        for x in deliveries:
            assert n.deliver(x.id).outcome == "delivered", x.channel
        [wmsg] = wc.to("carol-wx")
        assert f"/auth/sso/wecom/inapp?next=/approvals/{task}" in json.dumps(wmsg.payload)
        [fmsg] = fs.cards_to("fs-carol")
        assert f"/auth/sso/feishu-corp/inapp?next=/approvals/{task}" in json.dumps(fmsg.card, ensure_ascii=False)
        [ftask] = fs.tasks_of("fs-carol")
        assert n.rows("SELECT type, todo_ref FROM im_message ORDER BY type") == [
            ("feishu_app", ftask.guid), ("wecom_app", "")]
        updates = close(n, task, actor="李四").deliveries
        assert sorted(u.channel for u in updates) == ["feishu_app", "wecom_app"]
        for u in updates:
            assert n.deliver(u.id).outcome == "delivered", u.channel
            assert n.deliver(u.id).outcome == "delivered"
        assert len(wmsg.updates) == 1 and "已同意 · 李四" in json.dumps(wmsg.updates, ensure_ascii=False)
        assert len(fmsg.patches) == 1 and "已同意 · 李四" in json.dumps(fmsg.patches, ensure_ascii=False)
        assert ftask.completed_at != "0" and not ftask.deleted
