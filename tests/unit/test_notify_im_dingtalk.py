"""DingTalk enterprise app client (工作通知 + 待办) against the DingTalk stand-in over loopback HTTP,
with the app-token and unionId caches in a real Redis."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from baobei.core.app_tokens import TokenRejected, cache_key
from services.notify.channels.base import DeliveryFailed
from services.notify.im import dingtalk
from services.notify.im.base import DINGTALK_APP, Button, Card, CardState, ImApp, Todo
from services.notify.im.clients import factory
from services.notify.im.dingtalk import MSG_MAX_BYTES, QPS_RETRY_AFTER, DingTalkApp, check_oapi, check_v1, message_of
from tests.standins.dingtalk_app import DingTalkAppStandIn

TASK_URL = "https://bb.example.com/auth/sso/dt/inapp?next=/tasks/t1"


@pytest.fixture
def dt() -> Iterator[DingTalkAppStandIn]:
    with DingTalkAppStandIn() as standin:
        standin.add_person("zhangsan", name="张三")
        standin.add_person("lisi", name="李四")
        yield standin


@pytest.fixture
def rds(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


Make = Callable[..., DingTalkApp]


@pytest.fixture
def make(dt: DingTalkAppStandIn, rds: redis.Redis) -> Iterator[Make]:
    """A client of a new app of the stand-in's organisation (``same=`` another worker's client of
    an app made before)."""
    made: list[DingTalkApp] = []
    apps: list[ImApp] = []

    def build(*, same: bool = False, timeout: float = 5.0, secret: str | None = None) -> DingTalkApp:
        if same:
            app = apps[-1]
        else:
            key, real_secret = dt.add_app()
            app = ImApp(key="dt", type=DINGTALK_APP, app_key=key, app_secret=real_secret if secret is None else secret,
                        agent_id=str(dt.agent_id(key)), api_base=dt.base)
            apps.append(app)
        client = factory(DINGTALK_APP)(app, rds, timeout)
        assert isinstance(client, DingTalkApp)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


def card(n: int = 1, **more: Any) -> Card:
    return Card(**{"title": f"待审批：项目{n}", "markdown": f"**客户**：甲公司{n}\n\n**金额**：100 万", "url": TASK_URL,
                   "task_id": f"t{n}", **more})


def failure(call: Callable[[], object]) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------- work notices


def test_a_card_is_an_oa_work_notice_to_the_person(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    sent = client.send_card("zhangsan", card(), idempotency_key="d1")
    [notice] = dt.notices_for("zhangsan")
    assert sent.message_ref == str(notice.task_id)
    assert notice.agent_id == int(client.app.agent_id)
    assert notice.msgtype == "oa"
    oa = notice.msg["oa"]
    assert oa["message_url"] == TASK_URL
    assert oa["pc_message_url"].startswith("dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fbb.example.com")
    assert oa["body"]["title"] == "待审批：项目1"
    assert oa["body"]["content"] == "客户：甲公司1\n\n金额：100 万"  # plain text: OA shows no markdown
    assert oa["body"]["form"][0]["value"].startswith("t1 · ")
    assert notice.status == "待处理"
    assert dt.notices_for("lisi") == []


def test_update_card_changes_the_status_bar_in_place(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    sent = client.send_card("zhangsan", card(), idempotency_key="d1")
    client.update_card("zhangsan", sent, card(), CardState("已同意 · 李四"))
    [notice] = dt.notices_for("zhangsan")
    assert notice.status == "已同意 · 李四"
    assert notice.status_history == [("已同意 · 李四", dingtalk.BG_APPROVED)]
    assert len(dt.status_updates) == 1 and len(dt.notices) == 1  # updated, not sent again


@pytest.mark.parametrize(("status", "bg"), [
    ("已同意 · 李四", dingtalk.BG_APPROVED), ("不同意 · 李四", dingtalk.BG_REJECTED),
    ("已驳回 · 李四", dingtalk.BG_REJECTED),
    ("已转交 · 王五", dingtalk.BG_CLOSED), ("已撤回", dingtalk.BG_CLOSED),
])
def test_the_status_bar_colour_follows_the_outcome(status: str, bg: str) -> None:
    assert dingtalk.status_bg(CardState(status)) == bg


def test_a_retried_delivery_is_sent_once_and_distinct_deliveries_both_show(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    first = client.send_card("zhangsan", card(), idempotency_key="d1")
    again = client.send_card("zhangsan", card(), idempotency_key="d1")
    assert again == first and dt.count(dingtalk.ASYNCSEND) == 1
    # Same card, another delivery (e.g. a reminder): DingTalk drops identical content, ours differs.
    client.send_card("zhangsan", card(), idempotency_key="d2")
    assert [n.shown for n in dt.notices_for("zhangsan", shown_only=False)] == [True, True]


def test_a_retry_after_a_lost_answer_is_dropped_by_dingtalk_not_shown_twice(dt: DingTalkAppStandIn,
                                                                           make: Make) -> None:
    client = make(timeout=0.5)
    dt.hang_seconds = 1.0
    client.union_id("zhangsan")
    dt.fail_next(1, "slow")  # DingTalk sends it, the answer never reaches us
    assert failure(lambda: client.send_card("zhangsan", card(), idempotency_key="d1")).retryable
    client.send_card("zhangsan", card(), idempotency_key="d1")
    notices = dt.notices_for("zhangsan", shown_only=False)
    assert [(n.shown, n.dropped) for n in notices] == [(True, ""), (False, "same_content")]


def test_a_notice_without_url_is_markdown_and_has_nothing_to_update(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    sent = client.send_card("zhangsan", card(url="", task_id=""), idempotency_key="d1")
    assert sent.message_ref == ""
    client.update_card("zhangsan", sent, card(), CardState("已撤回"))
    [notice] = dt.notices_for("zhangsan")
    assert notice.msgtype == "markdown" and dt.status_updates == []


def test_buttons_open_the_first_link_when_the_card_has_none() -> None:
    msg = message_of(card(url="", buttons=(Button("处理", "https://bb.example.com/x"),)), "d1")
    assert msg["oa"]["message_url"] == "https://bb.example.com/x"


def test_long_content_is_cut_to_dingtalks_2048_bytes(dt: DingTalkAppStandIn, make: Make) -> None:
    big = card(markdown="很长的说明" * 400)
    msg = message_of(big, "d1")
    assert len(json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode()) <= MSG_MAX_BYTES
    assert msg["oa"]["body"]["content"].endswith("…")
    make().send_card("zhangsan", big, idempotency_key="d1")  # the stand-in refuses more than 2048 bytes
    assert len(dt.notices_for("zhangsan")) == 1


# ---------------------------------------------------------------- to-dos


def test_a_todo_is_created_for_the_person_and_completed(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    person = dt.people["zhangsan"]
    ref = client.create_todo("zhangsan", Todo(title="审批：项目1", url=TASK_URL, task_id="t1",
                                              description="甲公司 · 100 万", due_ms=1_900_000_000_000),
                             idempotency_key="d1")
    todo = dt.todos[ref]
    assert todo.executors == [person.unionid] and todo.owner == person.unionid
    assert (todo.subject, todo.source_id, todo.due_time) == ("审批：项目1", "d1", 1_900_000_000_000)
    assert todo.detail_url == {"appUrl": TASK_URL, "pcUrl": TASK_URL}
    client.finish_todo("zhangsan", ref, removed=False)
    assert todo.done and not todo.deleted


def test_a_todo_of_a_transferred_task_is_removed_and_removing_again_is_done(dt: DingTalkAppStandIn,
                                                                           make: Make) -> None:
    client = make()
    ref = client.create_todo("zhangsan", Todo(title="审批：项目1", url=TASK_URL, task_id="t1"), idempotency_key="d1")
    client.finish_todo("zhangsan", ref, removed=True)
    assert dt.todos[ref].deleted
    client.finish_todo("zhangsan", ref, removed=True)  # "task not exist": already gone
    client.finish_todo("zhangsan", ref, removed=False)
    client.finish_todo("zhangsan", "", removed=False)  # no to-do was made


def test_a_todo_retry_after_a_lost_answer_finds_the_first_todo(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make(timeout=0.5)
    dt.hang_seconds = 1.0
    client.union_id("zhangsan")
    dt.fail_next(1, "slow")
    todo = Todo(title="审批：项目1", url=TASK_URL, task_id="t1")
    assert failure(lambda: client.create_todo("zhangsan", todo, idempotency_key="d1")).retryable
    ref = client.create_todo("zhangsan", todo, idempotency_key="d1")
    assert list(dt.todos) == [ref]
    assert dt.count("/v1.0/todo/users/{unionId}/org/tasks/query") == 1
    # A third attempt (e.g. redrive) answers from our own record of it.
    assert client.create_todo("zhangsan", todo, idempotency_key="d1") == ref
    assert dt.count("/v1.0/todo/users/{unionId}/tasks") == 2


# ---------------------------------------------------------------- tokens


def test_the_token_is_the_one_the_edge_signs_in_with(dt: DingTalkAppStandIn, make: Make, rds: redis.Redis) -> None:
    client = make()
    client.send_card("zhangsan", card(), idempotency_key="d1")
    shared = cache_key("dingtalk", dt.base, client.app.app_key, client.app.app_secret)
    assert rds.get(shared) is not None


def test_a_token_expiring_mid_batch_is_refreshed_once(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    client.send_card("zhangsan", card(1), idempotency_key="d1")
    key = client.app.app_key
    assert dt.token_fetches[key] == 1
    dt.expire_tokens()
    for n in range(2, 6):
        client.send_card("zhangsan", card(n), idempotency_key=f"d{n}")
    assert dt.token_fetches[key] == 2
    assert dt.refusals("errcode:88") == 1
    assert len(dt.notices_for("zhangsan")) == 5


def test_two_workers_at_once_fetch_one_token(dt: DingTalkAppStandIn, make: Make) -> None:
    first = make()
    second = make(same=True)
    first.send_card("zhangsan", card(1), idempotency_key="d1")
    second.union_id("lisi")
    dt.expire_tokens()
    start, errors = threading.Barrier(2), []

    def send(client: DingTalkApp, user: str, n: int) -> None:
        start.wait()
        try:
            client.send_card(user, card(n), idempotency_key=f"d{n}")
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=send, args=(first, "zhangsan", 2)),
               threading.Thread(target=send, args=(second, "lisi", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert dt.token_fetches[first.app.app_key] == 2
    assert len(dt.notices_for("zhangsan")) == 2 and len(dt.notices_for("lisi")) == 1


def test_an_expired_token_on_the_todo_api_is_refreshed_once(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    ref = client.create_todo("zhangsan", Todo(title="a", url=TASK_URL, task_id="t1"), idempotency_key="d1")
    dt.expire_tokens()
    client.finish_todo("zhangsan", ref, removed=False)
    assert dt.todos[ref].done
    assert dt.token_fetches[client.app.app_key] == 2 and dt.refusals("InvalidAuthentication") == 1


def test_wrong_app_credentials_are_permanent(make: Make) -> None:
    client = make(secret="wrong")
    err = failure(lambda: client.send_card("zhangsan", card(), idempotency_key="d1"))
    assert not err.retryable and "credentials" in err.message


# ---------------------------------------------------------------- limits and errors


def test_rate_limited_work_notices_are_retryable_after_a_wait(rds: redis.Redis) -> None:
    with DingTalkAppStandIn(api_rate_limit=2, api_rate_window=60) as limited:
        limited.add_person("zhangsan")
        key, secret = limited.add_app()
        app = ImApp(key="dt", type=DINGTALK_APP, app_key=key, app_secret=secret, agent_id=str(limited.agent_id(key)),
                    api_base=limited.base)
        client = dingtalk.client(app, rds, 5.0)
        try:
            client.send_card("zhangsan", card(1), idempotency_key="d1")
            client.send_card("zhangsan", card(2), idempotency_key="d2")
            err = failure(lambda: client.send_card("zhangsan", card(3), idempotency_key="d3"))
            assert err.retryable and err.retry_after == QPS_RETRY_AFTER and "90018" in err.message
            client.create_todo("zhangsan", Todo(title="a", url=TASK_URL, task_id="t1"), idempotency_key="d1")
            client.create_todo("zhangsan", Todo(title="b", url=TASK_URL, task_id="t2"), idempotency_key="d2")
            err = failure(lambda: client.create_todo("zhangsan", Todo(title="c", url=TASK_URL, task_id="t3"),
                                                     idempotency_key="d3"))
            assert err.retryable and err.retry_after == QPS_RETRY_AFTER and "QpsLimit" in err.message
            assert limited.throttled == 2 and len(limited.notices_for("zhangsan")) == 2
        finally:
            client.close()


def test_http_429_system_busy_and_5xx_are_retryable(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    client.union_id("zhangsan")
    dt.fail_next(1, "429")
    err = failure(lambda: client.send_card("zhangsan", card(), idempotency_key="d1"))
    assert err.retryable and err.retry_after == 1.0
    dt.fail_next(1, "errcode")  # -1 系统繁忙
    assert failure(lambda: client.send_card("zhangsan", card(), idempotency_key="d1")).retryable
    dt.fail_next(1, "500")
    assert failure(lambda: client.create_todo("zhangsan", Todo(title="a", url=TASK_URL, task_id="t1"),
                                              idempotency_key="d1")).retryable
    client.send_card("zhangsan", card(), idempotency_key="d1")
    assert len(dt.notices_for("zhangsan")) == 1


def test_a_permanent_error_for_a_user_is_not_retried(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    dt.refuse_user("lisi")
    err = failure(lambda: client.send_card("lisi", card(), idempotency_key="d1"))
    assert not err.retryable and "33012" in err.message
    err = failure(lambda: client.create_todo("lisi", Todo(title="a", url=TASK_URL, task_id="t1"), idempotency_key="d2"))
    assert not err.retryable
    assert dt.notices_for("lisi", shown_only=False) == [] and dt.todos == {}


def test_someone_outside_the_apps_visible_range_gets_nothing_as_on_dingtalk(dt: DingTalkAppStandIn,
                                                                            make: Make) -> None:
    dt.add_person("wangwu", can_use_app=False)
    make().send_card("wangwu", card(), idempotency_key="d1")  # accepted: DingTalk says nothing either
    assert dt.notices_for("wangwu") == []
    assert [n.dropped for n in dt.notices_for("wangwu", shown_only=False)] == ["not_visible"]


def test_an_unknown_user_is_permanent_and_nothing_is_sent(dt: DingTalkAppStandIn, make: Make) -> None:
    client = make()
    err = failure(lambda: client.send_card("nobody", card(), idempotency_key="d1"))
    assert not err.retryable and "60121" in err.message
    assert dt.count(dingtalk.ASYNCSEND) == 0


def test_the_unionid_is_looked_up_once_per_person(dt: DingTalkAppStandIn, make: Make, rds: redis.Redis) -> None:
    client = make()
    client.send_card("zhangsan", card(1), idempotency_key="d1")
    ref = client.create_todo("zhangsan", Todo(title="a", url=TASK_URL, task_id="t1"), idempotency_key="d1")
    make(same=True).finish_todo("zhangsan", ref, removed=False)  # another worker, same cache
    assert dt.count(dingtalk.USER_GET) == 1
    assert client.union_id("zhangsan") == dt.people["zhangsan"].unionid


# ---------------------------------------------------------------- answer mapping (DingTalk's documented codes)


def _resp(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(("body", "retryable", "retry_after"), [
    ({"errcode": -1, "errmsg": "系统繁忙"}, True, None),
    ({"errcode": 90002, "errmsg": "全局限流"}, True, QPS_RETRY_AFTER),
    ({"errcode": 90018, "errmsg": "应用限流"}, True, QPS_RETRY_AFTER),
    ({"status": 1111, "wait": 5, "source": "x5", "punish": "deny"}, True, 300.0),
    ({"errcode": 90020, "errmsg": "本月api调用量已超过限制"}, False, None),
    ({"errcode": 88, "sub_code": "60011", "sub_msg": "没有调用该接口的权限"}, False, None),
    ({"errcode": 60121, "errmsg": "找不到该用户"}, False, None),
    ({"errcode": 40035, "errmsg": "缺少参数"}, False, None),
])
def test_oapi_errcodes(body: dict[str, Any], retryable: bool, retry_after: float | None) -> None:
    err = failure(lambda: check_oapi(_resp(200, body), body, "asyncsend_v2"))
    assert (err.retryable, err.retry_after) == (retryable, retry_after)


@pytest.mark.parametrize("body", [{"errcode": 42001}, {"errcode": 40014}, {"errcode": 88, "sub_code": "42001"}])
def test_oapi_token_errcodes_ask_for_a_new_token(body: dict[str, Any]) -> None:
    with pytest.raises(TokenRejected):
        check_oapi(_resp(200, body), body, "asyncsend_v2")


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (429, "Throttling", True),
    (403, "Forbidden.AccessDenied.QpsLimitForApi", True),
    (400, "todo.taskCreate.flowControlError", True),
    (500, "todo.taskCreate.systemError", True),
    (403, "Forbidden.AccessDenied.ApiCountLimitForOrg", False),
    (403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", False),
    (400, "todo.taskCreate.paramError", False),
])
def test_v1_codes(status: int, code: str, retryable: bool) -> None:
    body = {"code": code, "message": "x"}
    assert failure(lambda: check_v1(_resp(status, body), body, "todo create")).retryable is retryable


def test_v1_invalid_authentication_asks_for_a_new_token() -> None:
    body = {"code": "InvalidAuthentication", "message": "不合法的access_token"}
    with pytest.raises(TokenRejected):
        check_v1(_resp(401, body), body, "todo create")


# ---------------------------------------------------------------- interactive cards (with a template)


def interactive(dt: DingTalkAppStandIn, rds: redis.Redis) -> DingTalkApp:
    key, secret = dt.add_app()
    template = dt.add_card_template(key)
    app = ImApp(key="dt-card", type=DINGTALK_APP, app_key=key, app_secret=secret, agent_id=str(dt.agent_id(key)),
                api_base=dt.base, options={"card_template_id": template})
    client = factory(DINGTALK_APP)(app, rds, 5.0)
    assert isinstance(client, DingTalkApp)
    return client


def test_with_a_template_the_card_is_an_interactive_card_updated_in_place(
    dt: DingTalkAppStandIn, rds: redis.Redis,
) -> None:
    client = interactive(dt, rds)
    try:
        buttons = (Button("去审批", TASK_URL),)
        sent = client.send_card("zhangsan", card(buttons=buttons), idempotency_key="d1")
        assert client.send_card("zhangsan", card(buttons=buttons), idempotency_key="d1") == sent  # a retry
        [c] = dt.cards_for("zhangsan")
        assert sent.message_ref == f"card:{c.out_track_id}" and c.robot == client.app.app_key
        assert c.params["title"] == "待审批：项目1" and c.params["button"] == "去审批"
        assert c.params["url"].startswith("dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fbb.example.com")
        assert (c.params["status"], c.params["closed"]) == ("待处理", "false")
        assert dt.notices_for("zhangsan") == []  # no OA notice as well
        client.update_card("zhangsan", sent, card(), CardState("已同意 · 李四"))
        assert (c.params["status"], c.params["closed"], c.params["title"]) == ("已同意 · 李四", "true", "待审批：项目1")
        assert c.params["status_color"] == dingtalk.BG_APPROVED and len(c.updates) == 1
        # A lost answer: the retried create is refused as a duplicate and taken as sent.
        rds.delete(*rds.keys("baobei:im:dingtalk:sent:*"))
        again = client.send_card("zhangsan", card(buttons=buttons), idempotency_key="d1")
        assert again == sent and len(dt.cards_for("zhangsan")) == 1
        # Someone DingTalk cannot reach: permanent.
        err = failure(lambda: client.send_card("nobody", card(), idempotency_key="d2"))
        assert not err.retryable
    finally:
        client.close()
