"""The WeCom self-built app client (应用消息) against the WeCom stand-in over HTTP, with the app
token cached in a real Redis: cards to the right person, the one card update, token expiry in a
batch, rate limits, permanent errors and the 72-hour fallback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from baobei.core.app_tokens import cache_key
from services.notify.channels.base import DeliveryFailed, mask_url
from services.notify.im.base import WECOM_APP, Button, Card, CardState, ImApp, Sent, Todo
from services.notify.im.clients import factory
from services.notify.im.wecom import Ref, WeComApp, task_id_for
from tests.standins.wecom_app import WeComAppStandIn

HOUR = 3600.0


@dataclass
class Rig:
    standin: WeComAppStandIn
    app: ImApp
    client: WeComApp
    redis: redis.Redis


@pytest.fixture
def rig(redis_url: str) -> Iterator[Rig]:
    r = redis.Redis.from_url(redis_url)
    with WeComAppStandIn() as standin:
        agent, secret = standin.add_agent()
        standin.add_person("lisi", name="李四")
        standin.add_person("wangwu", name="王五")
        app = ImApp(key="wecom-app", type=WECOM_APP, app_key=standin.corp_id, app_secret=secret, agent_id=agent,
                    api_base=standin.base)
        client = WeComApp(app, r, 5.0, clock=standin.now)
        try:
            yield Rig(standin, app, client, r)
        finally:
            client.close()
            r.close()


def task_card(n: int = 1) -> Card:
    url = f"https://bb.test/auth/sso/wecom/inapp?next=/tasks/t{n}"
    return Card(title=f"待审批：项目 {n}", markdown=f"**提交人** 张三\n金额 *{n}00* 元", url=url, task_id=f"t{n}",
                buttons=(Button("同意", url + "&a=approve"), Button("驳回", url + "&a=reject")))


def test_card_goes_to_the_person_with_buttons_that_open_the_task(rig: Rig) -> None:
    card = task_card()
    sent = rig.client.send_card("lisi", card, idempotency_key="d-1")

    [message] = rig.standin.to("lisi")
    body = message.payload
    assert body["agentid"] == int(rig.app.agent_id) and body["touser"] == "lisi"
    assert body["enable_duplicate_check"] == 1 and body["duplicate_check_interval"] == 1800
    tc = message.card
    assert tc["card_type"] == "button_interaction" and tc["task_id"] == task_id_for("d-1")
    assert tc["main_title"]["title"] == "待审批：项目 1"
    assert "提交人 张三" in tc["sub_title_text"] and "**" not in tc["sub_title_text"]
    assert tc["card_action"] == {"type": 1, "url": card.url}
    assert [(b["type"], b["text"], b["url"]) for b in tc["button_list"]] == [
        (1, "同意", card.buttons[0].url), (1, "驳回", card.buttons[1].url)]
    ref = Ref.decode(sent.message_ref)
    assert ref.response_code == message.response_code and ref.msgid == message.msgid
    # Shared with the edge's sign-in: one cached token under the sign-in's key.
    key = cache_key("wecom", rig.app.api_base, rig.app.app_key, rig.app.app_secret)
    assert rig.redis.get(key) is not None
    assert rig.standin.token_fetches[rig.app.agent_id] == 1


def test_redelivery_within_the_duplicate_window_sends_no_second_card(rig: Rig) -> None:
    first = rig.client.send_card("lisi", task_card(), idempotency_key="d-1")
    again = rig.client.send_card("lisi", task_card(), idempotency_key="d-1")
    assert len(rig.standin.to("lisi")) == 1 and rig.standin.duplicates_dropped == 1
    assert Ref.decode(again.message_ref).response_code == Ref.decode(first.message_ref).response_code


def test_update_greys_the_buttons_out_once_and_a_second_close_is_taken_as_done(rig: Rig) -> None:
    card = task_card()
    sent = rig.client.send_card("lisi", card, idempotency_key="d-1")
    rig.standin.advance(5 * HOUR)
    state = CardState(status="已同意 · 王五")

    rig.client.update_card("lisi", sent, card, state)
    [message] = rig.standin.to("lisi")
    assert message.updates == [{"replace_name": "已同意 · 王五"}] and message.code_used

    # A redrive of the same close: WeCom refuses the spent code; nothing else is sent.
    rig.client.update_card("lisi", sent, card, state)
    assert rig.standin.refusals("errcode:60140") == 1
    assert len(rig.standin.messages) == 1 and message.updates == [{"replace_name": "已同意 · 王五"}]


def test_a_state_that_does_not_close_the_card_keeps_the_one_update(rig: Rig) -> None:
    card = task_card()
    sent = rig.client.send_card("lisi", card, idempotency_key="d-1")
    rig.client.update_card("lisi", sent, card, CardState(status="已转交 · 王五", closed=False))
    assert rig.standin.count("/cgi-bin/message/update_template_card") == 0
    rig.client.update_card("lisi", sent, card, CardState(status="已驳回 · 王五"))
    assert rig.standin.to("lisi")[0].updates == [{"replace_name": "已驳回 · 王五"}]


def test_after_72_hours_the_person_gets_a_follow_up_instead(rig: Rig) -> None:
    card = task_card()
    sent = rig.client.send_card("lisi", card, idempotency_key="d-1")
    rig.standin.advance(72 * HOUR + 60)

    rig.client.update_card("lisi", sent, card, CardState(status="已同意 · 王五"))

    assert rig.standin.count("/cgi-bin/message/update_template_card") == 0
    assert rig.standin.count("/cgi-bin/message/recall") == 0  # 24 h recall window long gone
    original, follow_up = rig.standin.to("lisi")
    assert not original.updates and not original.recalled
    assert follow_up.msgtype == "textcard"
    assert follow_up.payload["textcard"]["title"] == "已处理：待审批：项目 1"
    assert follow_up.payload["textcard"]["description"] == "已同意 · 王五"
    assert follow_up.payload["textcard"]["url"] == card.url


def test_a_card_without_response_code_is_recalled_within_24_hours(rig: Rig) -> None:
    card = task_card()
    sent = rig.client.send_card("lisi", card, idempotency_key="d-1")
    ref = Ref.decode(sent.message_ref)
    no_code = Sent(Ref("", ref.msgid, ref.at).encode())
    rig.standin.advance(2 * HOUR)

    rig.client.update_card("lisi", no_code, card, CardState(status="已撤回"))

    original, follow_up = rig.standin.to("lisi")
    assert original.recalled and follow_up.msgtype == "textcard"


def test_token_expiry_mid_batch_is_refreshed_once_for_two_threads(rig: Rig) -> None:
    rig.client.send_card("lisi", task_card(1), idempotency_key="d-1")
    rig.client.send_card("wangwu", task_card(2), idempotency_key="d-2")
    assert rig.standin.token_fetches[rig.app.agent_id] == 1
    rig.standin.expire_tokens()

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(user: str, n: int) -> None:
        start.wait()
        try:
            rig.client.send_card(user, task_card(n), idempotency_key=f"d-{n}")
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=send, args=("lisi", 3)), threading.Thread(target=send, args=("wangwu", 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors
    assert rig.standin.token_fetches[rig.app.agent_id] == 2  # one refresh for both
    assert rig.standin.refusals("errcode:42001") >= 1
    assert len(rig.standin.messages) == 4


def test_frequency_limit_is_retryable_after_a_minute(rig: Rig) -> None:
    rig.standin.limit(1, 60)
    rig.client.send_card("lisi", task_card(1), idempotency_key="d-1")
    with pytest.raises(DeliveryFailed) as failed:
        rig.client.send_card("lisi", task_card(2), idempotency_key="d-2")
    assert failed.value.retryable and failed.value.retry_after == 60.0
    assert "45009" in failed.value.message
    rig.standin.advance(61)
    rig.client.send_card("lisi", task_card(2), idempotency_key="d-2")
    assert len(rig.standin.to("lisi")) == 2


@pytest.mark.parametrize("errcode,retryable,retry_after", [
    (45033, True, 2.0), (-1, True, None), (60111, False, None), (40056, False, None), (301002, False, None),
])
def test_platform_errors(rig: Rig, errcode: int, retryable: bool, retry_after: float | None) -> None:
    rig.client.send_card("lisi", task_card(1), idempotency_key="d-1")  # token cached
    rig.standin.fail_next(1, mode="errcode", errcode=errcode)
    with pytest.raises(DeliveryFailed) as failed:
        rig.client.send_card("lisi", task_card(2), idempotency_key="d-2")
    assert failed.value.retryable is retryable and failed.value.retry_after == retry_after
    assert str(errcode) in failed.value.message


def test_http_failures_are_retryable(rig: Rig) -> None:
    rig.client.send_card("lisi", task_card(1), idempotency_key="d-1")
    rig.standin.fail_next(1, mode="500")
    with pytest.raises(DeliveryFailed) as failed:
        rig.client.send_card("lisi", task_card(2), idempotency_key="d-2")
    assert failed.value.retryable


def test_person_outside_the_visible_range_or_unknown_is_permanent(rig: Rig) -> None:
    rig.standin.add_person("outside", can_use_app=False)
    for user in ("outside", "nobody"):
        with pytest.raises(DeliveryFailed) as failed:
            rig.client.send_card(user, task_card(), idempotency_key=f"d-{user}")
        assert not failed.value.retryable and "81013" in failed.value.message
    assert rig.standin.messages == []


def test_invaliduser_in_an_ok_answer_is_permanent(rig: Rig) -> None:
    rig.standin.unlicensed.add("lisi")
    with pytest.raises(DeliveryFailed) as failed:
        rig.client.send_card("lisi", task_card(), idempotency_key="d-1")
    assert not failed.value.retryable and "lisi" in failed.value.message


def test_wrong_secret_is_permanent_and_the_secret_never_shows(rig: Rig) -> None:
    bad = ImApp(key="wecom-app", type=WECOM_APP, app_key=rig.app.app_key, app_secret="not-the-secret",
                agent_id=rig.app.agent_id, api_base=rig.app.api_base)
    client = WeComApp(bad, rig.redis, 5.0, clock=rig.standin.now)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            client.send_card("lisi", task_card(), idempotency_key="d-1")
    finally:
        client.close()
    assert not failed.value.retryable and "40001" in failed.value.message
    assert "not-the-secret" not in failed.value.message


def test_no_todo_api_and_the_factory_finds_the_client(rig: Rig) -> None:
    todo = Todo(title="待审批", url="https://bb.test/tasks/t1", task_id="t1")
    assert rig.client.create_todo("lisi", todo, idempotency_key="d-1") == ""
    rig.client.finish_todo("lisi", "", removed=False)
    made = factory(WECOM_APP)(rig.app, rig.redis, 5.0)
    try:
        assert isinstance(made, WeComApp)
    finally:
        made.close()
    assert rig.standin.calls == []


def test_task_id_is_stable_and_within_wecom_limits() -> None:
    assert task_id_for("abc-1") == task_id_for("abc-1") == "bb-abc-1"
    odd = task_id_for("出错 / key" + "x" * 200)
    assert len(odd) <= 128 and odd.startswith("bb-") and odd.replace("-", "").isalnum()


def test_a_second_close_after_72_hours_sends_no_second_follow_up(rig: Rig) -> None:
    card = task_card()
    sent = rig.client.send_card("lisi", card, idempotency_key="d-1")
    rig.standin.advance(80 * HOUR)
    rig.client.update_card("lisi", sent, card, CardState(status="已同意 · 王五"))
    rig.client.update_card("lisi", sent, card, CardState(status="已同意 · 王五"))
    assert len(rig.standin.to("lisi")) == 2 and rig.standin.duplicates_dropped == 1


def test_incomplete_app_is_refused_before_any_call(rig: Rig) -> None:
    bad = ImApp(key="wecom-app", type=WECOM_APP, app_key=rig.app.app_key, app_secret=rig.app.app_secret,
                agent_id="", api_base=rig.app.api_base)
    with pytest.raises(DeliveryFailed) as failed:
        WeComApp(bad, rig.redis, 5.0)
    assert not failed.value.retryable and rig.standin.calls == []


def test_the_app_secret_is_masked_in_logged_urls() -> None:
    masked = mask_url("https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww12&corpsecret=s3cr3t-value")
    assert "s3cr3t-value" not in masked and "corpsecret=s3cr****" in masked
