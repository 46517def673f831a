"""Personal notices through enterprise apps (DingTalk / WeCom / Feishu), over real gRPC: a real
registry for contacts, real Redis, real SQLite/PostgreSQL. The tests play the
NotificationDelivery workflow by calling Deliver / DeadLetter themselves (the dispatcher is off)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import pytest

from baobei.core.grpc_client import read_failure
from baobei.notify.v1 import notify_service_pb2 as pb
from tests.service.test_notify_delivery import Notify, failure, make_notify, registry_addr, rid

__all__ = ["make_notify", "registry_addr"]  # fixtures shared with the robot/e-mail tests


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


def test_close_task_without_cards_and_its_wording(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    out = close(n, "t-none", "transferred", actor="")
    assert (list(out.deliveries), out.status) == ([], "已转交他人")
    for outcome, words in (("rejected", "已驳回 · 王五"), ("returned", "已退回修改 · 王五"),
                           ("withdrawn", "申请人已撤回 · 王五"), ("reassigned", "已改派他人 · 王五"),
                           ("cancelled", "已取消 · 王五")):
        assert close(n, f"t-{outcome}", outcome, actor="王五").status == words


def test_close_task_validation_names_the_fields(make_notify: Callable[..., Notify]) -> None:
    n = make_notify()
    with pytest.raises(grpc.RpcError) as info:
        n.stub.CloseTask(pb.CloseTaskRequest(request_id=rid(), task_id="", outcome="maybe"), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in read_failure(info.value).violations} == {"task_id", "outcome"}
    assert failure(lambda: n.stub.CloseTask(pb.CloseTaskRequest(task_id="t", outcome="approved"),
                                            timeout=10))[0] == grpc.StatusCode.INVALID_ARGUMENT
