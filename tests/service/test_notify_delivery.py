"""Notify delivery over real gRPC: a real registry for contacts, real Redis for delivery keys and
the robot rate limit, real SQLite/PostgreSQL, and the stand-in SMTP / DingTalk / WeCom / webhook
receivers. The tests play the NotificationDelivery workflow by calling Deliver / DeliverDigest /
DeadLetter themselves (the dispatcher is off)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import struct_pb2

from baobei.core.db import make_engine
from baobei.core.grpc_client import metadata, read_failure
from baobei.core.settings import Settings
from baobei.notify.v1 import group_link_service_pb2 as gpb
from baobei.notify.v1 import group_link_service_pb2_grpc as gpb_grpc
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from tests.conftest import StartService
from tests.standins import DingTalkStandIn, SmtpStandIn, WebhookSubscriber, WeComStandIn, new_secret

# The robot rate window in these tests (60 s in production): long enough that a burst of sends on
# a loaded machine still falls inside one window, short enough to wait out.
WINDOW = 5.0


def rid() -> str:
    return uuid.uuid4().hex


@pytest.fixture(scope="module")
def registry_addr(start_module_service: StartService) -> str:
    registry = start_module_service("registry")
    # the directory the notify service resolves recipients from
    rpb_grpc.RegistryServiceStub(registry.channel).UpsertOrg(
        rpb.UpsertOrgRequest(
            request_id=rid(),
            departments=[rpb.Department(id="hq", name="总部")],
            users=[
                rpb.User(id="alice", name="Alice 王", email="alice@example.com", mobile="13800000001",
                         department_id="hq"),
                rpb.User(id="bob", name="Bob", department_id="hq"),
                *[rpb.User(id=f"u{i}", name=f"用户{i}", email=f"u{i}@example.com", mobile=f"1390000{i:04d}",
                           department_id="hq") for i in range(12)],
            ],
        ),
        timeout=10,
    )
    return registry.addr


class Notify:
    def __init__(self, stub: pb_grpc.NotifyServiceStub, db_url: str,
                 groups: gpb_grpc.GroupLinkServiceStub | None = None, addr: str = "") -> None:
        self.stub = stub
        self.addr = addr  # host:port, for async clients (the worker's outbox readers)
        self.db_url = db_url
        self.groups = groups  # the notify process's GroupLinkService (group tokens of robot cards)

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = make_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def execute(self, sql: str, **params: Any) -> None:
        engine = make_engine(self.db_url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(sql), params)
        finally:
            engine.dispose()

    def prefs(self, user: str, channels: list[str], **kw: Any) -> None:
        self.stub.SetPreferences(
            pb.SetPreferencesRequest(request_id=rid(), preferences=pb.Preferences(user_id=user, channels=channels,
                                                                                  **kw)),
            timeout=10,
        )

    def send(self, recipients: list[str], *, kind: str = "project_approved", title: str = "项目已通过",
             request_id: str = "", context: dict[str, Any] | None = None, **kw: Any) -> pb.SendResponse:
        ctx = struct_pb2.Struct()
        ctx.update(context or {})
        req = pb.SendRequest(request_id=request_id or rid(), recipient_ids=recipients, kind=kind, title=title,
                             context=ctx, **kw)
        return self.stub.Send(req, timeout=10, metadata=metadata())

    def deliver(self, delivery_id: str, attempt: int = 0) -> pb.DeliverResponse:
        return self.stub.Deliver(pb.DeliverRequest(delivery_id=delivery_id, attempt=attempt), timeout=20)

    def digest(self, delivery_id: str) -> pb.DeliverResponse:
        return self.stub.DeliverDigest(pb.DeliverRequest(delivery_id=delivery_id), timeout=20)

    def robot(self, kind: str, url: str, secret: str = "", *, show_amount: bool = False) -> str:
        key = f"{kind}-{uuid.uuid4().hex[:8]}"
        self.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
            key=key, type=kind, url=url, secret=secret, enabled=True, show_amount=show_amount)), timeout=10)
        return key

    def attempts(self, delivery_id: str) -> list[tuple[int, bool]]:
        return [(int(a), bool(ok)) for a, ok in self.rows(
            "SELECT attempt, ok FROM delivery_attempt WHERE delivery_id = :d ORDER BY id", d=delivery_id)]


@pytest.fixture()
def make_notify(
    make_db_url: Callable[[str], str], redis_url: str, registry_addr: str, start_service: StartService
) -> Callable[..., Notify]:
    def make(*, redis: bool = True, **overrides: Any) -> Notify:
        values: dict[str, Any] = {"base_url": "https://baobei.test", "webhook_allow_internal": True,
                                  "robot_rate_per_minute": 20, "delivery_http_timeout": 3.0, "smtp_timeout": 3.0}
        values.update(overrides)
        svc = start_service("notify", settings=Settings(**values), registry_addr=registry_addr,
                            redis_url=redis_url if redis else "", rate_window_seconds=WINDOW)
        return Notify(pb_grpc.NotifyServiceStub(svc.channel), svc.db_url, gpb_grpc.GroupLinkServiceStub(svc.channel),
                      addr=svc.addr)

    return make


@contextmanager
def mail_notify(make_notify: Callable[..., Notify], **kw: Any) -> Iterator[tuple[Notify, SmtpStandIn]]:
    with SmtpStandIn() as smtp:
        yield make_notify(smtp_host=smtp.host, smtp_port=smtp.port, **kw), smtp


def failure(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    f = read_failure(info.value)
    return f.code, f.reason


# ---- e-mail -------------------------------------------------------------------------------------


def test_email_is_rendered_from_the_template_and_delivered_once(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("alice", ["email"])
        sent = n.send(["alice", "u1"], kind="approval_request", title="待审批：园区项目", body="请尽快审批",
                      project_id="p1", action_tasks={"alice": "task-1"},
                      context={"code": "P-001", "customer": "示例<客户>"})
        [d] = sent.deliveries  # u1 has no preferences: in-app only
        assert (d.channel, d.status, d.recipient_id, d.project_id, d.kind) == (
            "email", "pending", "alice", "p1", "approval_request")
        alice = next(x for x in sent.notifications if x.user_id == "alice")
        assert d.notification_id == alice.id

        first = n.deliver(d.id, attempt=1)
        again = n.deliver(d.id, attempt=2)
        assert (first.outcome, again.outcome) == ("delivered", "delivered")
        assert first.delivery.status == "delivered" and first.delivery.attempts == 1
        assert again.delivery.attempts == 1 and again.delivery.target == "alice@example.com"
        [mail] = smtp.wait_for(1)
        time.sleep(0.2)
        assert len(smtp.received) == 1 and smtp.duplicates == 0
        assert mail["subject"] == "待审批：园区项目" and mail["to"] == "alice@example.com"
        assert d.id in mail["message_id"]
        assert "Alice 王，您好" in mail["text"] and "项目编号：P-001" in mail["text"]
        assert alice.action_url in mail["text"] and alice.action_url.startswith("https://baobei.test/a/")
        assert "示例&lt;客户&gt;" in mail["html"] and f'href="{alice.action_url}"' in mail["html"]
        assert n.attempts(d.id) == [(1, True)]
        listed = n.stub.ListDeliveries(pb.ListDeliveriesRequest(notification_id=alice.id), timeout=10).deliveries
        assert [(x.id, x.status) for x in listed] == [(d.id, "delivered")]


def test_a_kind_and_facts_are_worded_by_notify_in_the_inbox_and_the_mail(make_notify: Callable[..., Notify]) -> None:
    """Workflows send a kind and a context only (services/notify/wording.py words them)."""
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("alice", ["email"])
        facts = {"code": "BB-2026-000007", "name": "临港智慧园区", "customer": "上海某某科技", "amount": "1200000.00",
                 "comment": "材料齐全"}
        sent = n.send(["alice"], kind="project_approved", title="", project_id="p7", context=facts)
        [note] = sent.notifications
        assert note.title == "项目已通过审批：临港智慧园区"
        assert note.body.splitlines() == ["编号：BB-2026-000007", "名称：临港智慧园区", "客户：上海某某科技",
                                          "金额：1200000.00 元", "意见：材料齐全"]
        [d] = sent.deliveries
        assert n.deliver(d.id, attempt=1).outcome == "delivered"
        [mail] = smtp.wait_for(1)
        assert mail["subject"] == "项目已通过审批：临港智慧园区" and "您提交的项目已审批通过" in mail["text"]
        # A kind notify has no words for still needs a title from its sender.
        code, _ = failure(lambda: n.send(["alice"], kind="rule.custom", title=""))
        assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_concurrent_delivers_send_one_mail(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("u2", ["email"])
        [d] = n.send(["u2"]).deliveries
        barrier = threading.Barrier(8)

        def go(i: int) -> str:
            barrier.wait()
            try:
                return n.deliver(d.id, attempt=i).outcome
            except grpc.RpcError as err:
                assert err.code() == grpc.StatusCode.UNAVAILABLE  # another attempt holds the key
                return "busy"

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(go, range(8)))
        assert "delivered" in outcomes and set(outcomes) <= {"delivered", "busy"}
        assert n.deliver(d.id).outcome == "delivered"
        smtp.wait_for(1)
        time.sleep(0.3)
        assert len(smtp.received) == 1
        assert [ok for _, ok in n.attempts(d.id)] == [True]


def test_retryable_failure_is_unavailable_then_succeeds(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("u3", ["email"])
        [d] = n.send(["u3"]).deliveries
        smtp.fail_next(1, "4xx")
        assert failure(lambda: n.deliver(d.id, attempt=1)) == (grpc.StatusCode.UNAVAILABLE, "delivery_retryable")
        [row] = n.stub.ListDeliveries(pb.ListDeliveriesRequest(notification_id=d.notification_id),
                                      timeout=10).deliveries
        assert row.status == "pending" and row.attempts == 1 and "451" in row.error
        assert n.deliver(d.id, attempt=2).outcome == "delivered"
        assert n.attempts(d.id) == [(1, False), (2, True)]
        assert len(smtp.wait_for(1)) == 1


def test_permanent_failure_is_dead_at_once_and_redrive_delivers(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("u4", ["email"])
        [d] = n.send(["u4"], project_id="p-dead").deliveries
        smtp.fail_next(1, "5xx")
        code, reason = failure(lambda: n.deliver(d.id, attempt=1))
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "delivery_permanent")
        dead = n.stub.ListDeliveries(pb.ListDeliveriesRequest(status="dead", project_id="p-dead"),
                                     timeout=10).deliveries
        assert [x.id for x in dead] == [d.id] and dead[0].error
        # the workflow's DeadLetter afterwards changes nothing; Deliver on a dead letter sends nothing
        assert n.stub.DeadLetter(pb.DeadLetterRequest(delivery_id=d.id, error="x"), timeout=10).outcome == "dead"
        assert n.deliver(d.id).outcome == "dead"
        assert smtp.received == []

        req = pb.RedriveRequest(request_id=rid(), delivery_ids=[d.id])
        redriven = n.stub.Redrive(req, timeout=10)
        assert [(x.id, x.status) for x in redriven.deliveries] == [(d.id, "pending")]
        assert n.stub.Redrive(req, timeout=10) == redriven  # idempotent on request_id
        assert n.deliver(d.id).outcome == "delivered"
        assert len(smtp.wait_for(1)) == 1
        assert n.attempts(d.id) == [(1, False), (2, True)]


def test_dead_letter_past_the_budget_and_redrive_of_all(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("u5", ["email"])
        n.prefs("u6", ["email"])
        d5, d6 = n.send(["u5", "u6"]).deliveries
        assert n.deliver(d6.id).outcome == "delivered"
        out = n.stub.DeadLetter(pb.DeadLetterRequest(delivery_id=d5.id, error="timed out 6 times"), timeout=10)
        assert (out.outcome, out.delivery.status, out.delivery.error) == ("dead", "dead", "timed out 6 times")
        # a delivered one is never dead-lettered
        assert n.stub.DeadLetter(pb.DeadLetterRequest(delivery_id=d6.id, error="late"), timeout=10).outcome == (
            "delivered")
        redriven = n.stub.Redrive(pb.RedriveRequest(request_id=rid()), timeout=10)
        assert [x.id for x in redriven.deliveries] == [d5.id]
        assert n.deliver(d5.id).outcome == "delivered"
        assert len(smtp.wait_for(2)) == 2


def test_email_skipped_with_reason(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("bob", ["email"])
        n.prefs("ghost", ["email"])
        for d in n.send(["bob", "ghost"]).deliveries:
            out = n.deliver(d.id)
            assert (out.outcome, out.delivery.status) == ("skipped", "skipped")
            assert "no e-mail address" in out.delivery.error
        assert smtp.received == []
    off = make_notify(smtp_host="")
    off.prefs("alice", ["email"])
    [d] = off.send(["alice"]).deliveries
    out = off.deliver(d.id)
    assert out.outcome == "skipped" and "not configured" in out.delivery.error


def test_deliver_needs_redis_and_a_known_delivery(make_notify: Callable[..., Notify]) -> None:
    n = make_notify(redis=False)
    assert failure(lambda: n.deliver("x"))[0] == grpc.StatusCode.UNAVAILABLE
    m = make_notify()
    assert failure(lambda: m.deliver(str(uuid.uuid4())))[0] == grpc.StatusCode.NOT_FOUND


# ---- robots -------------------------------------------------------------------------------------


APPROVAL_CONTEXT = {"code": "BB-2026-000009", "name": "园区项目", "customer": "杭州某某科技有限公司",
                    "amount": "987654.32", "step": "经理审批"}
APPROVAL_BODY = ("编号：BB-2026-000009\n名称：园区项目\n客户：杭州某某科技有限公司\n"
                 "金额：987654.32 元\n审批环节：经理审批")


def test_dingtalk_approval_request_in_a_group_carries_the_group_link_only_and_no_amount(
    make_notify: Callable[..., Notify],
) -> None:
    """A robot posts into a group chat: whoever reads it must not decide as the approver, so the
    personal link stays in the personal channels; the card's button is the group link (sign in
    first, approvers of the step only); the amount is hidden by default."""
    n = make_notify()
    with DingTalkStandIn(secret="SECtest123") as ding:
        key = n.robot("dingtalk", ding.url, "SECtest123")
        n.prefs("alice", ["dingtalk"])
        sent = n.send(["alice"], kind="approval_request", title="待审批：园区项目", action_tasks={"alice": "t-9"},
                      project_id="p-9", body=APPROVAL_BODY, context=APPROVAL_CONTEXT)
        [d] = sent.deliveries
        assert (d.channel, d.target) == ("dingtalk", key)
        url = sent.notifications[0].action_url
        assert "/a/" in url  # the in-app notification keeps its personal link (contract)
        assert n.deliver(d.id).outcome == "delivered"
        [m] = ding.wait_for(1)
        raw = json.dumps(m.payload, ensure_ascii=False)
        assert m.payload["msgtype"] == "actionCard" and ding.rejected == []
        [(label, group)] = DingTalkStandIn.buttons(m)
        assert label == "登录后审批" and group.startswith("https://baobei.test/a/g/")
        assert url not in raw and url.rsplit("/", 1)[1] not in raw and raw.count("/a/") == 1
        assert group not in m.payload["actionCard"]["text"]  # the button only, not in the text
        assert "987654" not in raw and "金额" not in raw
        assert "待审批：园区项目" in m.text and "经理审批" in m.text and "登录" in m.text
        # The group token resolves to the request (task, project) and names no approver; it is
        # no personal token, and the personal token is no group token.
        groups = n.groups
        assert groups is not None
        gl = groups.ResolveGroupLink(gpb.ResolveGroupLinkRequest(token=group.rsplit("/", 1)[1]), timeout=10).link
        assert (gl.task_id, gl.project_id) == ("t-9", "p-9") and not hasattr(gl, "approver_id")
        assert failure(lambda: n.stub.ResolveActionLink(pb.ResolveActionLinkRequest(
            token=group.rsplit("/", 1)[1]), timeout=10)) == (grpc.StatusCode.PERMISSION_DENIED, "link_invalid")
        assert failure(lambda: groups.ResolveGroupLink(gpb.ResolveGroupLinkRequest(
            token=url.rsplit("/", 1)[1]), timeout=10)) == (grpc.StatusCode.PERMISSION_DENIED, "link_invalid")
        assert n.deliver(d.id).outcome == "delivered"
        time.sleep(0.2)
        assert len(ding.received) == 1


def test_wecom_group_card_carries_the_group_link_and_shows_the_amount_only_when_allowed(
    make_notify: Callable[..., Notify],
) -> None:
    n = make_notify()
    with WeComStandIn() as hidden, WeComStandIn() as shown:
        n.robot("wecom", hidden.url)
        n.prefs("alice", ["wecom"])
        sent = n.send(["alice"], kind="approval_request", title="待审批：园区项目", action_tasks={"alice": "t-1"},
                      body=APPROVAL_BODY, context=APPROVAL_CONTEXT)
        assert n.deliver(sent.deliveries[0].id).outcome == "delivered"
        [m] = hidden.wait_for(1)
        raw = json.dumps(m.payload, ensure_ascii=False)
        card = m.payload["template_card"]
        group = card["card_action"]["url"]
        assert m.payload["msgtype"] == "template_card" and hidden.rejected == []
        assert group.startswith("https://baobei.test/a/g/") and card["jump_list"] == [
            {"type": 1, "title": "登录后审批", "url": group}]
        assert sent.notifications[0].action_url not in raw and raw.count("/a/") == 2  # card action + button
        assert "987654" not in raw and "园区项目" in raw and "\\" not in card["sub_title_text"]
        # The admin allows amounts on a robot (the first enabled robot of a type by key is used).
        n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
            key="0-wecom-amounts", type="wecom", url=shown.url, enabled=True, show_amount=True)), timeout=10)
        assert [c.show_amount for c in n.stub.ListChannels(pb.ListChannelsRequest(), timeout=10).channels
                if c.key == "0-wecom-amounts"] == [True]
        again = n.send(["alice"], kind="approval_request", title="待审批：园区项目", action_tasks={"alice": "t-2"},
                       body=APPROVAL_BODY, context=APPROVAL_CONTEXT)
        assert n.deliver(again.deliveries[0].id).outcome == "delivered"
        [m2] = shown.wait_for(1)
        raw2 = json.dumps(m2.payload, ensure_ascii=False)
        assert "987654.32" in raw2 and again.notifications[0].action_url not in raw2
        assert m2.payload["template_card"]["card_action"]["url"] not in (group, "")  # its own request's link


def test_other_robot_messages_carry_no_link(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    with DingTalkStandIn() as ding:
        n.robot("dingtalk", ding.url)
        n.prefs("alice", ["dingtalk"])
        [d] = n.send(["alice"], kind="project_approved", title="项目已通过", context=APPROVAL_CONTEXT).deliveries
        assert n.deliver(d.id).outcome == "delivered"
        [m] = ding.wait_for(1)
        assert m.payload["msgtype"] == "markdown" and "/a/" not in json.dumps(m.payload)


def test_robot_markdown_escapes_user_text(make_notify: Callable[..., Notify]) -> None:
    """A project name, customer or comment cannot add links or markup to a group card."""
    n = make_notify()
    evil = {"name": "[点我领奖](https://evil.example/x) <font color=red>急</font>",
            "customer": "**客户**\n### 假标题", "comment": "同意\n- [钓鱼](http://evil.example)", "code": "P-1"}
    with DingTalkStandIn() as ding, WeComStandIn() as wecom:
        n.robot("dingtalk", ding.url)
        n.robot("wecom", wecom.url)
        n.prefs("alice", ["dingtalk", "wecom"])
        sent = n.send(["alice"], kind="project_approved", title="项目已通过", context=evil)
        for d in sent.deliveries:
            assert n.deliver(d.id).outcome == "delivered"
        [dm], [wm] = ding.wait_for(1), wecom.wait_for(1)
        for text in (dm.payload["markdown"]["text"], wm.payload["markdown"]["content"]):
            assert "](https://evil" not in text and "](http://evil" not in text and "://evil" not in text
            assert re.search(r"(?<!\\)<font", text) is None and "\n### 假标题" not in text and "**客户**" not in text
            assert "\\[点我领奖\\]" in text and "\\<font" in text and "\n\\- \\[钓鱼\\]" in text


def test_wecom_markdown_mentions_and_disabled_robot_skips(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    with WeComStandIn() as wecom:
        key = n.robot("wecom", wecom.url)
        n.prefs("alice", ["wecom"])
        [d] = n.send(["alice"], title="项目已通过").deliveries
        assert n.deliver(d.id).outcome == "delivered"
        [m] = wecom.wait_for(1)
        assert "项目已通过" in m.text and wecom.rejected == []
        n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
            key=key, type="wecom", url=wecom.url, enabled=False)), timeout=10)
        [d2] = n.send(["alice"], title="再一次").deliveries
        assert (d2.status, d2.error) == ("skipped", "no enabled wecom robot channel")


def test_robot_rate_limit_turns_a_burst_into_a_digest(make_notify: Callable[..., Notify]) -> None:
    rate = 3
    n = make_notify(robot_rate_per_minute=rate)
    users = [f"u{i}" for i in range(10)]
    with WeComStandIn(rate_limit=None) as wecom:
        n.robot("wecom", wecom.url)
        for u in users:
            n.prefs(u, ["wecom"])
        deliveries = [d for i, u in enumerate(users) for d in n.send([u], title=f"预警 {i}", kind="early_warning")
                      .deliveries]
        assert len(deliveries) == 10
        results = [n.deliver(d.id) for d in deliveries]
        delivered = [r for r in results if r.outcome == "delivered"]
        limited = [r for r in results if r.outcome == "rate_limited"]
        assert len(delivered) == rate and len(limited) == 10 - rate
        assert all(0 < r.retry_after_seconds <= WINDOW + 0.1 for r in limited)
        assert all(r.delivery.status == "digest_waiting" for r in limited)
        # Deliver again while waiting for the digest: still rate limited, nothing sent
        assert n.deliver(limited[0].delivery.id).outcome == "rate_limited"

        # each waiting delivery's workflow sleeps retry_after, then asks for the digest
        time.sleep(max(r.retry_after_seconds for r in limited))
        outcomes = [n.digest(r.delivery.id) for r in limited]
        assert {o.outcome for o in outcomes} == {"delivered"}
        digest_ids = {o.delivery.digest_id for o in outcomes}
        assert len(digest_ids) == 1 and "" not in digest_ids
        assert {o.delivery.status for o in outcomes} == {"digested"}

        msgs = wecom.wait_for(rate + 1)
        time.sleep(0.2)
        assert len(wecom.received) == rate + 1 and wecom.duplicates == 0
        [digest] = wecom.containing(f"您有 {10 - rate} 条新通知")
        assert all(f"预警 {i}" in digest.text for i in range(rate, 10))
        # The stand-in times arrivals, the limiter times sends: allow their jitter.
        assert wecom.max_in_window(WINDOW - 0.25) <= rate
        assert len(msgs) == rate + 1
        # the whole log: every delivery delivered or digested exactly once
        statuses = n.rows("SELECT status, count(*) FROM delivery GROUP BY status ORDER BY status")
        assert statuses == [("delivered", rate), ("digested", 10 - rate)]


def test_digest_waits_for_a_free_slot(make_notify: Callable[..., Notify]) -> None:
    n = make_notify(robot_rate_per_minute=1)
    with WeComStandIn(rate_limit=None) as wecom:
        n.robot("wecom", wecom.url)
        n.prefs("u7", ["wecom"])
        d1, d2 = (n.send(["u7"], title=f"通知{i}").deliveries[0] for i in range(2))
        assert n.deliver(d1.id).outcome == "delivered"
        limited = n.deliver(d2.id)
        assert limited.outcome == "rate_limited"
        again = n.digest(d2.id)  # too early: still no slot
        assert again.outcome == "rate_limited" and again.retry_after_seconds > 0
        time.sleep(again.retry_after_seconds)
        assert n.digest(d2.id).outcome == "delivered"
        assert len(wecom.wait_for(2)) == 2


# ---- webhooks -----------------------------------------------------------------------------------


def test_publish_event_is_idempotent_and_webhooks_are_signed_and_delivered_once(
    make_notify: Callable[..., Notify],
) -> None:
    n = make_notify()
    old, new = new_secret(), new_secret()
    with WebhookSubscriber(secrets=[old]) as hook, WebhookSubscriber() as other:
        # rotation: the subscription holds the new and the old secret; this receiver knows only the old
        n.stub.PutSubscription(pb.PutSubscriptionRequest(request_id=rid(), subscription=pb.Subscription(
            id="finance", url=hook.url, events=["project.approved", "cost.recorded"], secrets=[new, old],
            enabled=True)), timeout=10)
        n.stub.PutSubscription(pb.PutSubscriptionRequest(request_id=rid(), subscription=pb.Subscription(
            id="other", url=other.url, events=["project.closed"], secrets=other.secrets, enabled=True)), timeout=10)
        data = struct_pb2.Struct()
        data.update({"amount": "1200.50", "code": "P-7"})
        req = pb.PublishEventRequest(event_id="ev-1", type="cost.recorded", project_id="p7", data=data)
        first = n.stub.PublishEvent(req, timeout=10)
        assert n.stub.PublishEvent(req, timeout=10) == first
        [d] = first.deliveries
        assert (d.channel, d.target, d.status, d.notification_id, d.kind) == (
            "webhook", "finance", "pending", "", "cost.recorded")
        assert n.rows("SELECT count(*) FROM delivery") == [(1,)]

        hook.fail_next(1, "500")
        assert failure(lambda: n.deliver(d.id, attempt=1))[0] == grpc.StatusCode.UNAVAILABLE
        assert n.deliver(d.id, attempt=2).outcome == "delivered"
        assert n.deliver(d.id, attempt=3).outcome == "delivered"
        [m] = hook.wait_for(1)
        time.sleep(0.2)
        assert hook.ids() == [d.id] and hook.requests == 2
        assert m.payload["type"] == "cost.recorded" and m.payload["timestamp"].endswith("Z")
        assert m.payload["data"] == {"amount": "1200.50", "code": "P-7", "event_id": "ev-1", "project_id": "p7"}
        assert other.received == []


def test_an_owned_webhook_is_one_delivery_of_the_one_sender(make_notify: Callable[..., Notify]) -> None:
    """A rule's webhook (SendWebhook): an owned subscription, one delivery per event and URL however
    often it is sent, signed with the secret the owner gives now, never reached by PublishEvent."""
    n = make_notify()
    with WebhookSubscriber() as hook:
        data = struct_pb2.Struct()
        data.update({"key": "done-hook:t1:1", "rule": "done-hook", "task_id": "t1"})

        def send(request_secrets: list[str]) -> pb.SendWebhookResponse:
            return n.stub.SendWebhook(pb.SendWebhookRequest(
                event_id="done-hook:t1:1", type="rule.fired", project_id="p9", data=data, url=hook.url,
                secrets=request_secrets, owner="rule:done-hook"), timeout=10)

        first = send(hook.secrets)
        again = send(hook.secrets)
        assert again.delivery.id == first.delivery.id and again.subscription_id == first.subscription_id
        assert first.subscription_id.startswith("owned.") and first.delivery.target == first.subscription_id
        assert (first.delivery.channel, first.delivery.status, first.delivery.kind) == ("webhook", "pending",
                                                                                      "rule.fired")
        assert n.rows("SELECT count(*) FROM delivery") == [(1,)]
        # The longest event id still fits the request log (PostgreSQL checks lengths).
        long = n.stub.SendWebhook(pb.SendWebhookRequest(event_id="k" * 190, type="rule.fired", url=hook.url,
                                                        secrets=hook.secrets, owner="rule:done-hook"), timeout=10)
        assert long.delivery.id != first.delivery.id
        n.execute("DELETE FROM delivery WHERE id = :i", i=long.delivery.id)
        # Listed with the subscriptions (its secret masked), but published events never go to it.
        listed = {s.id: s for s in n.stub.ListSubscriptions(pb.ListSubscriptionsRequest(), timeout=10).subscriptions}
        assert listed[first.subscription_id].url == hook.url and "rule:done-hook" in listed[
            first.subscription_id].description
        wildcard = pb.PublishEventRequest(event_id="ev-x", type="rule.fired", project_id="p9")
        assert list(n.stub.PublishEvent(wildcard, timeout=10).deliveries) == []
        assert n.deliver(first.delivery.id, attempt=1).outcome == "delivered"
        [m] = hook.wait_for(1)
        assert hook.ids() == [first.delivery.id]
        assert m.payload["type"] == "rule.fired" and m.payload["data"]["rule"] == "done-hook"
        # Bad input names its fields and changes nothing.
        with pytest.raises(grpc.RpcError) as info:
            n.stub.SendWebhook(pb.SendWebhookRequest(event_id="e2", type="rule.fired", url="ftp://x",
                                                     secrets=["nope"], owner=""), timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = {v.field for v in read_failure(info.value).violations}
        assert {"url", "secrets[0]", "owner"} <= fields, fields
        assert n.rows("SELECT count(*) FROM delivery") == [(1,)]


def test_webhook_to_a_deleted_subscription_is_skipped_and_ssrf_refused(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    with WebhookSubscriber() as hook:
        n.stub.PutSubscription(pb.PutSubscriptionRequest(request_id=rid(), subscription=pb.Subscription(
            id="gone", url=hook.url, events=["*"], secrets=hook.secrets, enabled=True)), timeout=10)
        [d] = n.stub.PublishEvent(pb.PublishEventRequest(event_id=rid(), type="project.closed"),
                                  timeout=10).deliveries
        n.stub.DeleteSubscription(pb.DeleteSubscriptionRequest(id="gone"), timeout=10)
        out = n.deliver(d.id)
        assert out.outcome == "skipped" and "deleted" in out.delivery.error
    # stored while internal targets were allowed, delivered by a process that forbids them
    strict = make_notify(webhook_allow_internal=False)
    strict.execute(
        "INSERT INTO webhook_subscription (id, url, events, secrets, enabled, description, created_at, updated_at)"
        " VALUES ('local', 'http://127.0.0.1:9/hooks', '[\"*\"]', :s, true, '', '2026-01-01', '2026-01-01')",
        s=f'["{new_secret()}"]',
    )
    [d] = strict.stub.PublishEvent(pb.PublishEventRequest(event_id=rid(), type="project.closed"),
                                   timeout=10).deliveries
    assert failure(lambda: strict.deliver(d.id)) == (grpc.StatusCode.FAILED_PRECONDITION, "delivery_permanent")


def test_quiet_hours_hold_a_delivery_until_they_end(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        now = datetime.now(UTC)
        start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
        n.prefs("u8", ["email"], quiet_hours=pb.QuietHours(start=start, end=end, tz="UTC"))
        [d] = n.send(["u8"]).deliveries
        out = n.deliver(d.id)
        assert out.outcome == "rate_limited" and 0 < out.retry_after_seconds <= 3600
        assert out.delivery.status == "pending" and out.delivery.attempts == 0
        # the quiet hours are over (here: the row's not_before moved into the past)
        n.execute("UPDATE delivery SET not_before = :t WHERE id = :i", t=now - timedelta(seconds=5), i=d.id)
        assert n.digest(d.id).outcome == "delivered"
        assert len(smtp.wait_for(1)) == 1


# ---- action-link secrets ------------------------------------------------------------------------


def stored_text(n: Notify) -> str:
    """Every row of every table of the notify database, as text (blobs decoded loosely)."""
    engine = make_engine(n.db_url)
    try:
        out: list[str] = []
        with engine.connect() as conn:
            for table in sa.inspect(engine).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    out.extend(bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview)) else str(v)
                               for v in row)
        return "\n".join(out)
    finally:
        engine.dispose()


def test_action_link_tokens_are_stored_nowhere(make_notify: Callable[..., Notify]) -> None:
    with mail_notify(make_notify) as (n, smtp):
        n.prefs("alice", ["email"])
        sent = n.send(["alice"], kind="approval_request", title="待审批", request_id="send-secret",
                      project_id="p9", action_tasks={"alice": "task-9"})
        url = sent.notifications[0].action_url
        token = url.rsplit("/a/", 1)[1]
        assert url.startswith("https://baobei.test/a/") and len(token) > 20
        inbox = n.stub.ListInbox(pb.ListInboxRequest(user_id="alice"), timeout=10).items
        assert [x.action_url for x in inbox] == [url]  # derived again, the same
        assert n.send(["alice"], kind="approval_request", title="待审批", request_id="send-secret",
                      project_id="p9", action_tasks={"alice": "task-9"}).notifications[0].action_url == url
        n.deliver(sent.deliveries[0].id, attempt=1)
        [mail] = smtp.wait_for(1)
        assert url in mail["text"]
        link = n.stub.ResolveActionLink(pb.ResolveActionLinkRequest(token=token), timeout=10).link
        assert (link.task_id, link.approver_id) == ("task-9", "alice")
        # Not in the notification, the delivery payload, the request log, nor anywhere else.
        assert token not in stored_text(n)
