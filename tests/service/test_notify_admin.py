"""Notify over real gRPC: action links, preferences and quiet hours, templates, robot channels and
webhook subscriptions (validation, SSRF at save time, secrets never returned)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from baobei.core.db import make_engine
from baobei.core.grpc_client import read_failure
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from tests.conftest import StartService

WECOM_KEY = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
SECRET_A = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_B = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


def rid() -> str:
    return uuid.uuid4().hex


class Notify:
    def __init__(self, stub: pb_grpc.NotifyServiceStub, db_url: str) -> None:
        self.stub, self.db_url = stub, db_url

    def sql(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = make_engine(self.db_url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()


@pytest.fixture()
def make_notify(start_service: StartService) -> Callable[..., Notify]:
    def make(db_url: str = "", **overrides: Any) -> Notify:
        values: dict[str, Any] = {"base_url": "https://baobei.test/", "link_ttl_hours": 72}
        values.update(overrides)
        svc = start_service("notify", db_url=db_url, settings=Settings(**values), registry_addr="", redis_url="")
        return Notify(pb_grpc.NotifyServiceStub(svc.channel), svc.db_url)

    return make


@pytest.fixture()
def n(make_notify: Callable[..., Notify]) -> Notify:
    return make_notify()


def failure(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str, list[str]]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    f = read_failure(info.value)
    return f.code, f.reason, [v.field for v in f.violations]


def send_with_link(n: Notify, user: str = "alice", task: str = "task-1", request_id: str = "") -> pb.SendResponse:
    return n.stub.Send(pb.SendRequest(request_id=request_id or rid(), recipient_ids=[user, "cc"],
                                      kind="approval_request", title="待审批", project_id="p1",
                                      action_tasks={user: task}, action_urls={"cc": "https://x/y"}), timeout=10)


def token_of(url: str) -> str:
    assert url.startswith("https://baobei.test/a/")
    return url.rsplit("/", 1)[1]


# ---- action links -------------------------------------------------------------------------------


def test_send_mints_a_link_per_approver_that_resolves(n: Notify) -> None:
    sent = send_with_link(n, request_id="req-link")
    by_user = {x.user_id: x for x in sent.notifications}
    assert by_user["cc"].action_url == "https://x/y"
    token = token_of(by_user["alice"].action_url)
    link = n.stub.ResolveActionLink(pb.ResolveActionLinkRequest(token=token), timeout=10).link
    assert (link.task_id, link.approver_id, link.project_id, link.notification_id) == (
        "task-1", "alice", "p1", by_user["alice"].id)
    ttl = link.expires_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(hours=71) < ttl <= timedelta(hours=72)
    # a retried Send returns the same link; only one link row exists
    assert send_with_link(n, request_id="req-link") == sent
    assert n.sql("SELECT count(*) FROM action_link") == [(1,)]
    # the inbox shows the same URL
    inbox = n.stub.ListInbox(pb.ListInboxRequest(user_id="alice"), timeout=10)
    assert inbox.items[0].action_url == by_user["alice"].action_url


def test_tampered_unknown_and_expired_links_are_refused(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    sent = send_with_link(n)
    token = token_of(sent.notifications[0].action_url)

    def resolve(t: str) -> tuple[grpc.StatusCode, str, list[str]]:
        return failure(lambda: n.stub.ResolveActionLink(pb.ResolveActionLinkRequest(token=t), timeout=10))

    body, _, sig = token.rpartition(".")
    assert resolve(body + "." + sig[::-1])[:2] == (grpc.StatusCode.PERMISSION_DENIED, "link_invalid")
    assert resolve(token[:-1])[:2] == (grpc.StatusCode.PERMISSION_DENIED, "link_invalid")
    assert resolve("")[:2] == (grpc.StatusCode.PERMISSION_DENIED, "link_invalid")
    # a genuine signature (the service's generated key) over an id that was never minted
    [(key,)] = n.sql("SELECT secret FROM signing_key WHERE name = 'action_link'")
    forged = URLSafeTimedSerializer(key, salt="baobei-action-link").dumps({"l": str(uuid.uuid4())})
    assert resolve(str(forged))[:2] == (grpc.StatusCode.PERMISSION_DENIED, "link_invalid")
    # past expires_at
    n.sql("UPDATE action_link SET expires_at = :t", t=datetime.now(UTC) - timedelta(seconds=1))
    assert resolve(token)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "link_expired")

    # the generated key survives a restart: links minted before still verify
    again = make_notify(db_url=n.db_url)
    fresh = token_of(send_with_link(n, task="task-2").notifications[0].action_url)
    assert again.stub.ResolveActionLink(pb.ResolveActionLinkRequest(token=fresh), timeout=10).link.task_id == "task-2"


def test_configured_key_and_max_age(make_notify: Callable[..., Notify]) -> None:
    n = make_notify(link_signing_key="configured-key-" + "x" * 20, link_ttl_hours=1)
    token = token_of(send_with_link(n).notifications[0].action_url)
    assert n.sql("SELECT count(*) FROM signing_key") == [(0,)]
    other = make_notify(db_url=n.db_url, link_signing_key="another-key-" + "y" * 20)
    assert failure(lambda: other.stub.ResolveActionLink(pb.ResolveActionLinkRequest(token=token), timeout=10))[
        :2] == (grpc.StatusCode.PERMISSION_DENIED, "link_invalid")
    # signed two hours ago with the right key: older than max_age (1 h)
    from itsdangerous import TimestampSigner

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 7200

    [(link_id,)] = n.sql("SELECT id FROM action_link")
    n.sql("UPDATE action_link SET expires_at = :t", t=datetime.now(UTC) + timedelta(days=1))
    old = URLSafeTimedSerializer("configured-key-" + "x" * 20, salt="baobei-action-link", signer=Old).dumps(
        {"l": link_id})
    assert failure(lambda: n.stub.ResolveActionLink(pb.ResolveActionLinkRequest(token=str(old)), timeout=10))[
        :2] == (grpc.StatusCode.PERMISSION_DENIED, "link_expired")


# ---- preferences --------------------------------------------------------------------------------


def test_preferences_default_set_and_quiet_hours_push_deliveries(n: Notify) -> None:
    got = n.stub.GetPreferences(pb.GetPreferencesRequest(user_id="zoe"), timeout=10)
    assert list(got.channels) == [] and got.quiet_hours.start == "" and got.quiet_hours.tz == "Asia/Shanghai"

    now = datetime.now(UTC)
    # quiet hours that surely contain "now": from one hour ago to one hour ahead, in UTC
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
    prefs = pb.Preferences(user_id="zoe", channels=["email", "email", "wecom"],
                           quiet_hours=pb.QuietHours(start=start, end=end, tz="UTC"),
                           by_kind={"project_rejected": pb.ChannelList(channels=[])})
    saved = n.stub.SetPreferences(pb.SetPreferencesRequest(request_id=rid(), preferences=prefs), timeout=10)
    assert list(saved.channels) == ["email", "wecom"] and dict(saved.by_kind)["project_rejected"].channels == []
    assert n.stub.GetPreferences(pb.GetPreferencesRequest(user_id="zoe"), timeout=10) == saved

    sent = n.stub.Send(pb.SendRequest(request_id=rid(), recipient_ids=["zoe"], kind="project_approved",
                                      title="通过"), timeout=10)
    by_channel = {d.channel: d for d in sent.deliveries}
    assert by_channel["email"].status == "pending"
    nb = by_channel["email"].not_before.ToDatetime(tzinfo=UTC)
    assert now < nb <= now + timedelta(hours=1, minutes=1)
    assert (by_channel["wecom"].status, by_channel["wecom"].error) == ("skipped", "no enabled wecom robot channel")
    rejected = n.stub.Send(pb.SendRequest(request_id=rid(), recipient_ids=["zoe"], kind="project_rejected",
                                          title="未通过"), timeout=10)
    assert list(rejected.deliveries) == [] and len(rejected.notifications) == 1

    bad = pb.Preferences(user_id="zoe", channels=["pager"], quiet_hours=pb.QuietHours(start="9", end="08:00"))
    code, _, fields = failure(lambda: n.stub.SetPreferences(pb.SetPreferencesRequest(request_id=rid(),
                                                                                     preferences=bad), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert fields == ["preferences.channels[0]", "preferences.quiet_hours.start"]


# ---- templates ----------------------------------------------------------------------------------


def test_templates_list_builtins_and_put_validates_and_versions(n: Notify) -> None:
    listed = n.stub.ListTemplates(pb.ListTemplatesRequest(), timeout=10).templates
    kinds = {t.kind: t for t in listed}
    for kind in ("approval_request", "approval_cc", "project_approved", "project_rejected", "project_returned",
                 "protection_expiring", "protection_lapsed", "task_overdue", "early_warning", "default"):
        assert kinds[kind].builtin and kinds[kind].html and kinds[kind].markdown and kinds[kind].text

    bad = pb.Template(kind="approval_request", title="{{ title", text="ok", html="{% if %}")
    code, _, fields = failure(lambda: n.stub.PutTemplate(pb.PutTemplateRequest(request_id=rid(), template=bad),
                                                         timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == ["template.title", "template.html"]
    code, _, fields = failure(lambda: n.stub.PutTemplate(pb.PutTemplateRequest(
        request_id=rid(), template=pb.Template(kind="Bad Kind", title="t", text="t")), timeout=10))
    assert fields == ["template.kind"]

    good = pb.Template(kind="approval_request", title="【审批】{{ title }}", text="{{ body }}")
    v1 = n.stub.PutTemplate(pb.PutTemplateRequest(request_id=rid(), template=good, actor_id="admin"), timeout=10)
    assert (v1.version, v1.updated_by, v1.builtin) == (1, "admin", False) and v1.updated_at.seconds > 0
    v2 = n.stub.PutTemplate(pb.PutTemplateRequest(request_id=rid(), template=good, actor_id="root"), timeout=10)
    assert (v2.version, v2.updated_by) == (2, "root")
    mine = {t.kind: t for t in n.stub.ListTemplates(pb.ListTemplatesRequest(), timeout=10).templates}
    assert mine["approval_request"].title == "【审批】{{ title }}" and not mine["approval_request"].builtin
    assert mine["approval_cc"].builtin


# ---- channels and subscriptions -----------------------------------------------------------------


def test_channels_never_return_secrets(n: Notify) -> None:
    wecom_url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    w = n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key="wecom-main", type="wecom", url=wecom_url, enabled=True)), timeout=10)
    assert WECOM_KEY not in w.url and "key=693a" in w.url and w.secret == "" and not w.has_secret
    d = n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key="ding", type="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=abc",
        secret="SECsupersecret", enabled=True)), timeout=10)
    assert d.secret == "" and d.has_secret
    # updating without a secret keeps the stored one
    n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key="ding", type="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=abc", enabled=False)),
        timeout=10)
    listed = {c.key: c for c in n.stub.ListChannels(pb.ListChannelsRequest(), timeout=10).channels}
    assert listed["ding"].has_secret and not listed["ding"].enabled and listed["ding"].secret == ""
    assert WECOM_KEY not in str(listed) and "SECsupersecret" not in str(listed)
    assert n.sql("SELECT secret FROM robot_channel WHERE key = 'ding'") == [("SECsupersecret",)]

    code, _, fields = failure(lambda: n.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key="x", type="slack", url="ftp://nope")), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == ["channel.type", "channel.url"]


def test_internal_targets_are_refused_at_save_time_unless_allowed(make_notify: Callable[..., Notify]) -> None:
    strict = make_notify()
    for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest",
                "http://localhost/x", "http://[::1]/x"):
        sub = pb.Subscription(id="s", url=url, events=["*"], secrets=[SECRET_A], enabled=True)
        code, _, fields = failure(lambda: strict.stub.PutSubscription(pb.PutSubscriptionRequest(
            request_id=rid(), subscription=sub), timeout=10))  # noqa: B023
        assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["subscription.url"]), url
    code, _, fields = failure(lambda: strict.stub.PutChannel(pb.PutChannelRequest(request_id=rid(), channel=pb.Channel(
        key="w", type="wecom", url="http://192.168.1.2/send?key=k")), timeout=10))
    assert fields == ["channel.url"]
    relaxed = make_notify(webhook_allow_internal=True)
    ok = relaxed.stub.PutSubscription(pb.PutSubscriptionRequest(request_id=rid(), subscription=pb.Subscription(
        id="s", url="http://127.0.0.1:8080/hook", events=["*"], secrets=[SECRET_A], enabled=True)), timeout=10)
    assert ok.url == "http://127.0.0.1:8080/hook"


def test_subscriptions_mask_secrets_and_delete(make_notify: Callable[..., Notify]) -> None:
    n = make_notify(webhook_allow_internal=True)
    sub = pb.Subscription(id="finance", url="https://erp.example.com/hooks", events=["project.approved"],
                          secrets=[SECRET_B, SECRET_A], enabled=True, description="财务系统")
    saved = n.stub.PutSubscription(pb.PutSubscriptionRequest(request_id=rid(), subscription=sub), timeout=10)
    assert list(saved.secrets) == ["whsec_****b7oD", "whsec_****LaSw"]
    listed = n.stub.ListSubscriptions(pb.ListSubscriptionsRequest(), timeout=10).subscriptions
    assert [s.id for s in listed] == ["finance"] and SECRET_A not in str(listed) and SECRET_B not in str(listed)
    assert listed[0].description == "财务系统"

    code, _, fields = failure(lambda: n.stub.PutSubscription(pb.PutSubscriptionRequest(
        request_id=rid(), subscription=pb.Subscription(id="x", url="https://e.example/h", events=["*"],
                                                       secrets=[SECRET_A, SECRET_B, SECRET_A])), timeout=10))
    assert fields == ["subscription.secrets"]

    # events for it → deliveries; after delete → none
    ev = pb.PublishEventRequest(event_id="e1", type="project.approved", project_id="p1")
    assert len(n.stub.PublishEvent(ev, timeout=10).deliveries) == 1
    assert len(n.stub.PublishEvent(pb.PublishEventRequest(event_id="e2", type="cost.recorded"),
                                   timeout=10).deliveries) == 0
    n.stub.DeleteSubscription(pb.DeleteSubscriptionRequest(id="finance"), timeout=10)
    assert n.stub.ListSubscriptions(pb.ListSubscriptionsRequest(), timeout=10).subscriptions == []
    assert failure(lambda: n.stub.DeleteSubscription(pb.DeleteSubscriptionRequest(id="finance"), timeout=10))[
        0] == grpc.StatusCode.NOT_FOUND
    assert n.stub.PublishEvent(pb.PublishEventRequest(event_id="e3", type="project.approved"),
                               timeout=10).deliveries == []
    code, _, fields = failure(lambda: n.stub.PublishEvent(pb.PublishEventRequest(event_id="", type="Bad"),
                                                          timeout=10))
    assert fields == ["event_id", "type"]


def test_list_deliveries_filters_and_rejects_unknown_status(make_notify: Callable[..., Notify]) -> None:
    n = make_notify(webhook_allow_internal=True)
    n.stub.PutSubscription(pb.PutSubscriptionRequest(request_id=rid(), subscription=pb.Subscription(
        id="all", url="https://erp.example.com/h", events=["*"], secrets=[SECRET_A], enabled=True)), timeout=10)
    for i in range(3):
        n.stub.PublishEvent(pb.PublishEventRequest(event_id=f"e{i}", type="project.closed", project_id=f"p{i % 2}"),
                            timeout=10)
    everything = n.stub.ListDeliveries(pb.ListDeliveriesRequest(), timeout=10).deliveries
    assert len(everything) == 3 and {d.channel for d in everything} == {"webhook"}
    assert len(n.stub.ListDeliveries(pb.ListDeliveriesRequest(project_id="p0"), timeout=10).deliveries) == 2
    assert len(n.stub.ListDeliveries(pb.ListDeliveriesRequest(limit=1), timeout=10).deliveries) == 1
    assert n.stub.ListDeliveries(pb.ListDeliveriesRequest(status="dead"), timeout=10).deliveries == []
    assert failure(lambda: n.stub.ListDeliveries(pb.ListDeliveriesRequest(status="lost"), timeout=10))[2] == [
        "status"]
