"""The Feishu app client (services/notify/im/feishu.py) against the Feishu stand-in over loopback
HTTP, with the app-token cache in a real Redis: cards sent once per delivery id and patched in
place, tasks created / completed / deleted, a tenant token expiring mid-batch refreshed once across
two workers, rate limits retryable with Feishu's wait, permanent errors permanent."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from services.notify.channels.base import DeliveryFailed
from services.notify.im.base import FEISHU_APP, Button, Card, CardState, ImApp, Sent, Todo
from services.notify.im.clients import factory
from services.notify.im.feishu import FeishuApp, card_json
from tests.standins.feishu_app import FeishuAppStandIn


@dataclass
class Rig:
    feishu: FeishuAppStandIn
    app: ImApp
    redis: redis.Redis

    def client(self) -> FeishuApp:
        made = factory(FEISHU_APP)(self.app, self.redis, 5.0)
        assert isinstance(made, FeishuApp)
        return made


@pytest.fixture
def rig(redis_url: str) -> Iterator[Rig]:
    with FeishuAppStandIn() as feishu:
        app_id, secret = feishu.add_app()
        feishu.add_person("li", userid="lisi", name="李四")
        feishu.add_person("out", userid="outsider", can_use_app=False)
        app = ImApp(key=f"fs-{uuid.uuid4().hex[:6]}", type=FEISHU_APP, app_key=app_id, app_secret=secret,
                    api_base=feishu.base)
        r = redis.Redis.from_url(redis_url)
        try:
            yield Rig(feishu, app, r)
        finally:
            r.close()


CARD = Card(title="待审批：智慧园区二期", markdown="**客户** 某某科技\n金额 12 万", url="https://bb.example.com/tasks/t1",
            buttons=(Button("去审批", "https://bb.example.com/tasks/t1"),), task_id="t1")


def test_card_sent_once_and_patched_in_place(rig: Rig) -> None:
    c = rig.client()
    try:
        sent = c.send_card("lisi", CARD, idempotency_key="dlv-1")
        again = c.send_card("lisi", CARD, idempotency_key="dlv-1")  # a redrive of the same delivery
        assert again == sent and len(rig.feishu.cards_to("lisi")) == 1 and rig.feishu.duplicates == 1
        [msg] = rig.feishu.cards_to("lisi")
        assert msg.card["config"]["update_multi"] is True
        assert msg.card["header"]["title"]["content"] == CARD.title
        [action] = [e for e in msg.card["elements"] if e["tag"] == "action"]
        assert action["actions"][0]["url"] == "https://bb.example.com/tasks/t1"
        c.update_card("lisi", sent, CARD, CardState("已同意 · 李四"))
        assert len(msg.patches) == 1
        texts = json.dumps(msg.card, ensure_ascii=False)
        assert "已同意 · 李四" in texts and '"action"' not in texts and msg.card["header"]["template"] == "grey"
    finally:
        c.close()


def test_card_past_fourteen_days_is_left_as_it_is(rig: Rig) -> None:
    c = rig.client()
    try:
        sent = c.send_card("lisi", CARD, idempotency_key="dlv-old")
        rig.feishu.advance(15 * 86400)
        c.update_card("lisi", sent, CARD, CardState("已驳回 · 李四"))  # no error: nothing left to update
        assert rig.feishu.refusals("code:230031") == 1
        [msg] = rig.feishu.cards_to("lisi")
        assert msg.patches == []
        with pytest.raises(DeliveryFailed) as err:  # another app's / unknown message: permanent
            c.update_card("lisi", Sent("om_unknown"), CARD, CardState("已同意"))
        assert not err.value.retryable
    finally:
        c.close()


def test_todo_created_once_completed_and_deleted(rig: Rig) -> None:
    c = rig.client()
    try:
        todo = Todo(title="审批：智慧园区二期", url="https://bb.example.com/tasks/t1", task_id="t1",
                    description="某某科技 · 12 万", due_ms=1_767_225_600_000)
        guid = c.create_todo("lisi", todo, idempotency_key="dlv-todo-1")
        assert c.create_todo("lisi", todo, idempotency_key="dlv-todo-1") == guid  # client_token dedup
        [task] = rig.feishu.tasks_of("lisi")
        assert task.body["members"] == [{"id": "lisi", "type": "user", "role": "assignee"}]
        assert task.body["origin"]["href"]["url"] == todo.url and task.body["due"]["timestamp"] == "1767225600000"
        c.finish_todo("lisi", guid, removed=False)
        assert task.completed_at != "0" and not task.deleted
        other = c.create_todo("lisi", Todo(title="另一个", url=todo.url, task_id="t2"), idempotency_key="dlv-todo-2")
        c.finish_todo("lisi", other, removed=True)
        assert rig.feishu.tasks[other].deleted
        c.finish_todo("lisi", other, removed=True)  # already gone in Feishu: done, no error
    finally:
        c.close()


def test_token_expiring_mid_batch_is_fetched_once_across_workers(rig: Rig) -> None:
    workers = [rig.client(), rig.client()]  # two notify workers sharing the Redis token cache
    try:
        workers[0].send_card("lisi", CARD, idempotency_key="warm")
        assert sum(rig.feishu.token_fetches.values()) == 1
        rig.feishu.expire_tokens()
        gate, errors = threading.Barrier(2), []

        def batch(i: int) -> None:
            gate.wait()
            try:
                for n in range(3):
                    workers[i].send_card("lisi", CARD, idempotency_key=f"batch-{i}-{n}")
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)

        threads = [threading.Thread(target=batch, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert errors == []
        assert len(rig.feishu.cards_to("lisi")) == 7
        assert sum(rig.feishu.token_fetches.values()) == 2  # one refresh for both workers
        assert rig.feishu.refusals("code:99991663") >= 1
    finally:
        for w in workers:
            w.close()


def test_rate_limit_is_retryable_with_feishus_wait(redis_url: str) -> None:
    with FeishuAppStandIn(rate_limit=2, rate_window=60.0, reset_seconds=7) as feishu:
        app_id, secret = feishu.add_app()
        feishu.add_person("li", userid="lisi")
        r = redis.Redis.from_url(redis_url)
        c = FeishuApp(ImApp(key="fs-rl", type=FEISHU_APP, app_key=app_id, app_secret=secret, api_base=feishu.base),
                      r, 5.0)
        try:
            c.send_card("lisi", CARD, idempotency_key="a")
            c.send_card("lisi", CARD, idempotency_key="b")
            with pytest.raises(DeliveryFailed) as err:
                c.send_card("lisi", CARD, idempotency_key="c")
            assert err.value.retryable and err.value.retry_after == 7.0
            assert feishu.rate_limited == 1
            feishu.fail_next(1, "500")
            with pytest.raises(DeliveryFailed) as err:
                c.create_todo("lisi", Todo(title="x", url="https://bb.example.com", task_id="t"), idempotency_key="d")
            assert err.value.retryable
        finally:
            c.close()
            r.close()


def test_permanent_errors(rig: Rig) -> None:
    c = rig.client()
    try:
        with pytest.raises(DeliveryFailed) as err:  # outside the app's availability
            c.send_card("outsider", CARD, idempotency_key="p1")
        assert not err.value.retryable and "230013" in err.value.message
        with pytest.raises(DeliveryFailed) as err:  # no such user in the tenant
            c.send_card("nobody", CARD, idempotency_key="p2")
        assert not err.value.retryable and "230001" in err.value.message
        rig.feishu.fail_next(1, "errcode", 230027)  # a permission the admin did not grant
        with pytest.raises(DeliveryFailed) as err:
            c.send_card("lisi", CARD, idempotency_key="p3")
        assert not err.value.retryable
        rig.feishu.fail_next(1, "errcode", 1470403)
        with pytest.raises(DeliveryFailed) as err:
            c.create_todo("lisi", Todo(title="x", url="https://bb.example.com", task_id="t"), idempotency_key="p4")
        assert not err.value.retryable
        assert rig.feishu.cards_to("lisi") == [] and rig.feishu.tasks_of("lisi") == []
    finally:
        c.close()


def test_wrong_secret_is_permanent(rig: Rig) -> None:
    app = ImApp(key="fs-bad", type=FEISHU_APP, app_key=rig.app.app_key, app_secret="wrong", api_base=rig.feishu.base)
    c = FeishuApp(app, rig.redis, 5.0)
    try:
        with pytest.raises(DeliveryFailed) as err:
            c.send_card("lisi", CARD, idempotency_key="w")
        assert not err.value.retryable and "10014" in err.value.message
    finally:
        c.close()


def test_card_without_buttons_gets_one_to_the_url() -> None:
    card = card_json(Card(title="通知", markdown="正文", url="https://bb.example.com/p/1"))
    assert card["card_link"] == {"url": "https://bb.example.com/p/1"}
    [action] = [e for e in card["elements"] if e["tag"] == "action"]
    assert action["actions"][0]["url"] == "https://bb.example.com/p/1"
    assert "action" not in json.dumps(card_json(Card(title="t", markdown="m")))


def test_standin_patches_only_own_shared_cards(rig: Rig) -> None:
    c = rig.client()
    app2_id, secret2 = rig.feishu.add_app()
    other = FeishuApp(ImApp(key="fs-other", type=FEISHU_APP, app_key=app2_id, app_secret=secret2,
                            api_base=rig.feishu.base), rig.redis, 5.0)
    try:
        sent = c.send_card("lisi", CARD, idempotency_key="own")
        with pytest.raises(DeliveryFailed) as err:  # another app may not patch it
            other.update_card("lisi", sent, CARD, CardState("已同意"))
        assert not err.value.retryable and "230012" in err.value.message
        # a card sent without update_multi cannot be patched (what Feishu requires of shared cards)
        token = c.tokens.get()
        plain = {"header": {"title": {"tag": "plain_text", "content": "t"}},
                 "elements": [{"tag": "div", "text": {"tag": "plain_text", "content": "x"}}]}
        r = c.http.post(rig.feishu.base + "/open-apis/im/v1/messages", params={"receive_id_type": "user_id"},
                        headers={"authorization": f"Bearer {token}"},
                        json={"receive_id": "lisi", "msg_type": "interactive", "content": json.dumps(plain)})
        assert r.json()["code"] == 0
        with pytest.raises(DeliveryFailed) as err:
            c.update_card("lisi", Sent(r.json()["data"]["message_id"]), CARD, CardState("已同意"))
        assert not err.value.retryable and "230099" in err.value.message
    finally:
        c.close()
        other.close()
