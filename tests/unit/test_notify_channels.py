"""Channel clients of the notify service against local stand-ins that check what DingTalk, WeCom,
Standard Webhooks receivers and SMTP servers check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import socket
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from services.notify.channels import dingtalk, webhook, wecom
from services.notify.channels.base import DeliveryFailed, EmailMessage, RobotMessage, mask_url, retry_after_of
from services.notify.channels.dingtalk import DingTalkRobot
from services.notify.channels.smtp import SmtpSender
from services.notify.channels.webhook import WebhookSender, check_target
from services.notify.channels.wecom import WeComRobot
from tests.standins import DingTalkStandIn, SmtpStandIn, WebhookSubscriber, WeComStandIn, new_secret

SECRET = "SEC" + "f" * 61
APPROVE = "https://baobei.example.com/a/tok123"
MSG = RobotMessage(
    title="审批请求：智慧园区", markdown="### 审批请求\n**智慧园区** 金额 120000", at_mobiles=("13800138000",)
)
CARD = RobotMessage(
    title="审批请求：智慧园区",
    markdown="### 审批请求\n**智慧园区** 待你审批",
    action_url=APPROVE,
    buttons=(("同意", APPROVE + "?action=approve"), ("驳回", APPROVE + "?action=reject")),
)


def failure(fn: object, *args: object) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


# ---------------------------------------------------------------- DingTalk


def test_dingtalk_sign_matches_a_known_vector() -> None:
    # Computed independently: printf '1700000000000\nSECabc123' | openssl dgst -sha256 -hmac SECabc123 -binary | base64
    raw = "N5P09a4+p1AMJIJWnIvQd2Yxw9+fu/oEBnPrjCcsLXk="
    assert dingtalk.sign("SECabc123", 1700000000000) == "N5P09a4%2Bp1AMJIJWnIvQd2Yxw9%2Bfu%2FoEBnPrjCcsLXk%3D"
    assert urllib.parse.unquote_plus(dingtalk.sign("SECabc123", 1700000000000)) == raw
    digest = hmac.new(b"SECabc123", b"1700000000000\nSECabc123", hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == raw


def test_dingtalk_signed_url_appends_timestamp_and_sign() -> None:
    url = dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECabc123", 1700000000000)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query == {
        "access_token": "abc",
        "timestamp": "1700000000000",
        "sign": "N5P09a4+p1AMJIJWnIvQd2Yxw9+fu/oEBnPrjCcsLXk=",
    }


def test_dingtalk_markdown_signed_and_mentions_mobile() -> None:
    with DingTalkStandIn(secret=SECRET) as ding:
        DingTalkRobot(ding.url, SECRET, allow_internal=True).send(MSG)
        [got] = ding.wait_for(1)
    assert got.payload["msgtype"] == "markdown"
    assert got.payload["markdown"]["title"] == MSG.title
    assert "**智慧园区**" in got.payload["markdown"]["text"]
    assert "@13800138000" in got.payload["markdown"]["text"]
    assert DingTalkStandIn.at_mobiles(got) == ["13800138000"]
    assert abs(int(got.query["timestamp"]) - time.time() * 1000) < 5000
    assert not ding.rejected


def test_dingtalk_action_card_with_approve_and_reject_buttons() -> None:
    with DingTalkStandIn(secret=SECRET) as ding:
        DingTalkRobot(ding.url, SECRET, allow_internal=True).send(CARD)
        [got] = ding.wait_for(1)
    card = got.payload["actionCard"]
    assert got.payload["msgtype"] == "actionCard"
    assert card["title"] == CARD.title and "待你审批" in card["text"]
    assert card["btnOrientation"] == "1"
    assert DingTalkStandIn.buttons(got) == [("同意", APPROVE + "?action=approve"), ("驳回", APPROVE + "?action=reject")]


def test_dingtalk_wrong_secret_is_permanent() -> None:
    with DingTalkStandIn(secret=SECRET) as ding:
        err = failure(DingTalkRobot(ding.url, "SECwrong", allow_internal=True).send, MSG)
        assert not err.retryable and "310000" in err.message
        assert [r.reason for r in ding.rejected] == ["bad_sign"]
        err = failure(DingTalkRobot(ding.url, "", allow_internal=True).send, MSG)  # unsigned
        assert not err.retryable
        assert not ding.received


def test_dingtalk_stand_in_refuses_a_stale_timestamp() -> None:
    import httpx

    with DingTalkStandIn(secret=SECRET) as ding:
        old = int(time.time() * 1000) - 3601 * 1000
        resp = httpx.post(dingtalk.signed_url(ding.url, SECRET, old), json=dingtalk.payload_of(MSG))
        assert resp.json()["errcode"] == 310000
        assert [r.reason for r in ding.rejected] == ["stale_timestamp"]


@pytest.mark.parametrize(("mode", "retry_after"), [("500", None), ("429", 1.0), ("timeout", None), ("errcode", None)])
def test_dingtalk_transient_failures_are_retryable(mode: str, retry_after: float | None) -> None:
    with DingTalkStandIn(secret=SECRET, hang_seconds=1.0) as ding:
        ding.fail_next(1, mode)
        robot = DingTalkRobot(ding.url, SECRET, timeout=0.3, allow_internal=True)
        err = failure(robot.send, MSG)
        assert err.retryable and err.retry_after == retry_after
        robot.send(MSG)  # the retry goes through
        assert len(ding.wait_for(1)) == 1


def test_dingtalk_rate_limit_130101_is_retryable_after_a_minute() -> None:
    with DingTalkStandIn(secret=SECRET, rate_limit=2) as ding:
        robot = DingTalkRobot(ding.url, SECRET, allow_internal=True)
        robot.send(MSG)
        robot.send(CARD)
        err = failure(robot.send, MSG)
        assert err.retryable and err.retry_after == 60.0 and "130101" in err.message
        assert ding.rate_limited == 1 and ding.max_in_window() == 2


# ---------------------------------------------------------------- WeCom


def test_wecom_markdown() -> None:
    with WeComStandIn() as wc:
        WeComRobot(wc.url, allow_internal=True).send(MSG)
        [got] = wc.wait_for(1)
    assert got.payload["msgtype"] == "markdown"
    assert "**智慧园区** 金额 120000" in got.payload["markdown"]["content"]


def test_wecom_template_card_shape() -> None:
    with WeComStandIn() as wc:
        WeComRobot(wc.url, allow_internal=True).send(CARD)
        [got] = wc.wait_for(1)
    card = got.payload["template_card"]
    assert got.payload["msgtype"] == "template_card"
    assert card["card_type"] == "text_notice"
    assert card["main_title"]["title"] == CARD.title
    assert card["sub_title_text"] == "审批请求\n智慧园区 待你审批"  # markdown reduced to plain text
    assert card["card_action"] == {"type": 1, "url": APPROVE}
    assert [(j["title"], j["url"]) for j in card["jump_list"]] == list(CARD.buttons)


def test_wecom_key_never_in_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with WeComStandIn() as wc:
        robot = WeComRobot(wc.url, allow_internal=True)
        robot.send(MSG)
        assert wc.key not in repr(robot)
        wrong = wc.url.replace(wc.key, "zz" + wc.key[2:])
        err = failure(WeComRobot(wrong, allow_internal=True).send, MSG)
        assert not err.retryable and "93000" in err.message
        wc.fail_next(1, "500")
        err500 = failure(robot.send, MSG)
        assert err500.retryable
        url = wc.url
    assert "HTTP Request" in caplog.text  # httpx did log the requests …
    for secret in (wc.key, "zz" + wc.key[2:]):
        assert secret not in caplog.text  # … with the key masked
        assert secret not in err.message and secret not in str(err) and secret not in err500.message
    assert f"key={wc.key[:4]}****" in err500.message
    assert wecom.mask_url(url).endswith(f"?key={wc.key[:4]}****")


def test_wecom_frequency_limit_is_retryable_and_other_errcodes_permanent() -> None:
    with WeComStandIn(rate_limit=1) as wc:
        robot = WeComRobot(wc.url, allow_internal=True)
        robot.send(MSG)
        err = failure(robot.send, MSG)
        assert err.retryable and "45009" in err.message and err.retry_after == 60.0
    with WeComStandIn() as wc:
        wc.fail_next(1, "errcode", errcode=40058)
        err = failure(WeComRobot(wc.url, allow_internal=True).send, MSG)
        assert not err.retryable


def test_wecom_markdown_is_cut_to_4096_bytes() -> None:
    long = RobotMessage(title="长", markdown="# 长消息\n" + "汉" * 3000)
    with WeComStandIn() as wc:
        WeComRobot(wc.url, allow_internal=True).send(long)
        [got] = wc.wait_for(1)
    assert len(got.payload["markdown"]["content"].encode()) <= 4096


# ---------------------------------------------------------------- Standard Webhooks

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_webhook_sign_matches_the_spec_vector_and_signs_with_each_secret() -> None:
    body = b'{"test": 2432232314}'
    assert webhook.sign([VECTOR_SECRET], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == VECTOR_SIG
    other = new_secret()
    both = webhook.sign([other, VECTOR_SECRET, ""], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert both.split(" ")[1] == VECTOR_SIG and len(both.split(" ")) == 2
    with pytest.raises(DeliveryFailed):
        webhook.sign([], "m", 1, body)


@pytest.mark.parametrize("receiver_keeps", ["new", "old"])
def test_webhook_rotation_either_secret_verifies(receiver_keeps: str) -> None:
    new, old = new_secret(), new_secret()
    with WebhookSubscriber([new if receiver_keeps == "new" else old]) as sub:
        event = {"type": "project.approved", "data": {"id": "p1"}}
        WebhookSender(allow_internal=True).send(sub.url, [new, old], "dlv_1", event)
        [got] = sub.wait_for(1)
    assert got.msg_id == "dlv_1" and got.payload == {"type": "project.approved", "data": {"id": "p1"}}
    # The reference library accepts it with either key.
    body = got.text.encode()
    for secret in (new, old):
        assert Webhook(secret).verify(body, got.headers) == got.payload
    assert len(got.headers["webhook-signature"].split(" ")) == 2


def test_webhook_wrong_secret_is_refused_permanently() -> None:
    with WebhookSubscriber() as sub:
        err = failure(WebhookSender(allow_internal=True).send, sub.url, [new_secret()], "dlv_1", {"a": 1})
        assert not err.retryable and "401" in err.message
        assert sub.rejected[0].reason.startswith("bad_signature")


def test_webhook_stale_timestamp_is_refused() -> None:
    with WebhookSubscriber() as sub:
        stale = int(time.time()) - 600
        err = failure(WebhookSender(allow_internal=True).send, sub.url, sub.secrets, "dlv_1", {"a": 1}, stale)
        assert not err.retryable and not sub.received


def test_webhook_receiver_dedupes_by_webhook_id() -> None:
    with WebhookSubscriber() as sub:
        sender = WebhookSender(allow_internal=True)
        sender.send(sub.url, sub.secrets, "dlv_1", {"n": 1})
        sender.send(sub.url, sub.secrets, "dlv_1", {"n": 1})  # a retry
        sender.send(sub.url, sub.secrets, "dlv_2", {"n": 2})
        assert sub.ids() == ["dlv_1", "dlv_2"] and sub.duplicates == 1


@pytest.mark.parametrize(
    ("mode", "retryable", "retry_after"),
    [("500", True, None), ("429", True, 7.0), ("timeout", True, None), ("400", False, None)],
)
def test_webhook_failures(mode: str, retryable: bool, retry_after: float | None) -> None:
    with WebhookSubscriber(hang_seconds=1.0) as sub:
        sub.retry_after = "7"
        sub.fail_next(1, mode)
        err = failure(WebhookSender(timeout=0.3, allow_internal=True).send, sub.url, sub.secrets, "dlv_1", {"a": 1})
        assert err.retryable is retryable and err.retry_after == retry_after


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert retry_after_of("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30.0
    assert retry_after_of("garbage") is None and retry_after_of(None) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/hook",
        "http://192.168.1.1/",
        "http://[::1]:8080/hook",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8000/hook",
        "http://api.localhost/hook",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_ssrf_refuses_internal_targets_unless_allowed(url: str) -> None:
    err = failure(lambda: check_target(url, allow_internal=False))
    assert not err.retryable and "ALLOW_INTERNAL" in err.message
    check_target(url, allow_internal=True)


def test_ssrf_allows_public_addresses_and_refuses_other_schemes() -> None:
    check_target("https://93.184.216.34/hook", allow_internal=False)
    for url in ("ftp://93.184.216.34/x", "file:///etc/passwd", "gopher://x/", "https:///nohost"):
        assert not failure(lambda u=url: check_target(u, allow_internal=True)).retryable


def test_senders_refuse_loopback_without_allow_internal() -> None:
    with WebhookSubscriber() as sub, DingTalkStandIn() as ding, WeComStandIn() as wc:
        assert not failure(WebhookSender().send, sub.url, sub.secrets, "d", {"a": 1}).retryable
        assert not failure(DingTalkRobot(ding.url).send, MSG).retryable
        err = failure(WeComRobot(wc.url).send, MSG)
        assert not err.retryable and wc.key not in err.message
        assert sub.requests == ding.requests == wc.requests == 0


def test_mask_url_masks_credentials() -> None:
    masked = mask_url("https://oapi.dingtalk.com/robot/send?access_token=abcdef123&timestamp=1&sign=xyz987")
    assert "abcdef123" not in masked and "access_token=abcd****" in masked and "sign=xyz9****" in masked


# ---------------------------------------------------------------- SMTP


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    with SmtpStandIn(hang_seconds=1.0) as s:
        yield s


def sender_for(s: SmtpStandIn, timeout: float = 5.0) -> SmtpSender:
    return SmtpSender(host=s.host, port=s.port, sender="Baobei 报备 <baobei@example.com>", timeout=timeout)


MAIL = EmailMessage(
    to="张三 <zhangsan@example.com>",
    subject="【报备】审批请求：智慧园区（BB-2026-000123）待你审批",
    text="张三，你好：\n智慧园区 待你审批。\n链接：https://baobei.example.com/a/t",
    html="<p>张三，你好：</p><p><a href=\"https://baobei.example.com/a/t\">审批</a></p>",
    message_id="dlv_42",
)


def test_smtp_multipart_zh_cn_round_trip(smtp: SmtpStandIn) -> None:
    sender_for(smtp).send(MAIL)
    [mail] = smtp.wait_for(1)
    assert mail["subject"] == MAIL.subject
    assert mail["from"] == "Baobei 报备 <baobei@example.com>"
    assert mail["to"] == MAIL.to and mail["envelope_to"] == ["zhangsan@example.com"]
    assert mail["text"].strip() == MAIL.text and mail["html"].strip() == MAIL.html
    assert mail["message_id"] == "<dlv_42@example.com>" and mail["date"]
    raw = Path(mail["file"]).read_bytes()
    assert b"multipart/alternative" in raw and "审批".encode() not in raw.split(b"\r\n\r\n", 1)[0]


def test_smtp_4xx_retryable_5xx_permanent(smtp: SmtpStandIn) -> None:
    smtp.fail_next(1, "4xx")
    assert failure(sender_for(smtp).send, MAIL).retryable
    smtp.fail_next(1, "5xx")
    err = failure(sender_for(smtp).send, MAIL)
    assert not err.retryable and "550" in err.message
    sender_for(smtp).send(MAIL)
    assert len(smtp.wait_for(1)) == 1 and smtp.duplicates == 0


def test_smtp_timeout_and_refused_connection_are_retryable(smtp: SmtpStandIn) -> None:
    smtp.fail_next(1, "timeout")
    assert failure(sender_for(smtp, timeout=0.3).send, MAIL).retryable
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert failure(SmtpSender(host="127.0.0.1", port=closed, sender="b@example.com", timeout=1).send, MAIL).retryable


def test_smtp_refuses_bad_configuration_permanently() -> None:
    assert not failure(SmtpSender(host="", port=25, sender="b@x.com").send, MAIL).retryable
    no_addr = EmailMessage(to="", subject="s", text="t")
    assert not failure(SmtpSender(host="127.0.0.1", port=25, sender="b@x.com").send, no_addr).retryable


def test_smtp_duplicate_message_ids_are_counted(smtp: SmtpStandIn) -> None:
    sender_for(smtp).send(MAIL)
    sender_for(smtp).send(MAIL)
    smtp.wait_for(2)
    assert smtp.duplicates == 1
