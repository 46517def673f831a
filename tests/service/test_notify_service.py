from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from baobei.core.db import make_engine
from baobei.core.grpc_client import metadata, read_failure
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from tests.conftest import StartService


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("notify")


@pytest.fixture()
def stub(db_url: str, start_service: StartService) -> pb_grpc.NotifyServiceStub:
    return pb_grpc.NotifyServiceStub(start_service("notify", db_url=db_url).channel)


def send(stub: pb_grpc.NotifyServiceStub, request_id: str, recipients: list[str], *, kind: str = "approval_request",
         title: str = "请审批项目", **kw: Any) -> pb.SendResponse:
    req = pb.SendRequest(request_id=request_id, recipient_ids=recipients, kind=kind, title=title, **kw)
    return stub.Send(req, timeout=10, metadata=metadata())


def rows(db_url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_send_creates_one_notification_per_distinct_recipient(stub: pb_grpc.NotifyServiceStub, db_url: str) -> None:
    resp = send(stub, "req-1", ["alice", "bob", "alice"], body="项目 P-1 待审批", project_id="p1",
                action_urls={"bob": "http://edge/a/tok-bob"})
    got = {n.user_id: n for n in resp.notifications}
    assert sorted(got) == ["alice", "bob"]
    assert got["bob"].action_url == "http://edge/a/tok-bob" and got["alice"].action_url == ""
    assert got["alice"].title == "请审批项目" and got["alice"].body == "项目 P-1 待审批"
    assert got["alice"].project_id == "p1" and got["alice"].kind == "approval_request" and not got["alice"].read
    assert got["alice"].id != got["bob"].id and got["alice"].created_at.seconds > 0

    inbox = stub.ListInbox(pb.ListInboxRequest(user_id="bob"), timeout=10)
    assert [n.id for n in inbox.items] == [got["bob"].id] and inbox.next_cursor == ""
    assert inbox.items[0].action_url == "http://edge/a/tok-bob"

    log = rows(db_url, "SELECT notification_id, channel, status, attempts FROM delivery_log ORDER BY notification_id")
    assert sorted(log) == sorted((n.id, "inapp", "delivered", 1) for n in resp.notifications)


def test_retried_send_delivers_once(stub: pb_grpc.NotifyServiceStub, db_url: str) -> None:
    first = send(stub, "req-retry", ["carol"])
    again = send(stub, "req-retry", ["carol"])
    assert again == first
    assert len(stub.ListInbox(pb.ListInboxRequest(user_id="carol"), timeout=10).items) == 1
    assert rows(db_url, "SELECT count(*) FROM delivery_log") == [(1,)]


def test_concurrent_duplicate_sends_deliver_once(stub: pb_grpc.NotifyServiceStub, db_url: str) -> None:
    barrier = threading.Barrier(8)

    def go(_: int) -> pb.SendResponse:
        barrier.wait()
        return send(stub, "req-race", ["dave", "erin"])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(go, range(8)))
    assert all(a == answers[0] for a in answers)
    for user in ("dave", "erin"):
        assert len(stub.ListInbox(pb.ListInboxRequest(user_id=user), timeout=10).items) == 1
    assert rows(db_url, "SELECT count(*) FROM notification") == [(2,)]
    assert rows(db_url, "SELECT count(*) FROM delivery_log") == [(2,)]


def test_invalid_send_reports_field_violations_in_both_locales(stub: pb_grpc.NotifyServiceStub) -> None:
    req = pb.SendRequest(request_id="req-bad", recipient_ids=[], kind="", title="")
    with pytest.raises(grpc.RpcError) as err:
        stub.Send(req, timeout=10, metadata=metadata(locale="en"))
    failure = read_failure(err.value)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.reason == "validation_failed"
    assert [v.field for v in failure.violations] == ["recipient_ids", "kind", "title"]
    assert failure.violations[0].zh == "at least one recipient is required"
    with pytest.raises(grpc.RpcError) as err:
        stub.Send(req, timeout=10, metadata=metadata(locale="zh"))
    assert read_failure(err.value).violations[0].zh == "至少需要一个接收人"

    # a refused request is not remembered: fixing it under the same request id works
    ok = stub.Send(pb.SendRequest(request_id="req-bad", recipient_ids=["x"], kind="k", title="t"), timeout=10)
    assert len(ok.notifications) == 1


def test_inbox_is_newest_first_with_keyset_paging(stub: pb_grpc.NotifyServiceStub) -> None:
    sent = [send(stub, f"req-page-{i}", ["frank", "other"], title=f"通知 {i}") for i in range(7)]
    mine = [next(n for n in s.notifications if n.user_id == "frank") for s in sent]
    expected = [n.id for n in reversed(mine)]

    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = stub.ListInbox(pb.ListInboxRequest(user_id="frank", limit=3, cursor=cursor), timeout=10)
        pages += 1
        assert len(page.items) <= 3
        seen += [n.id for n in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == expected
    assert pages == 3
    assert [n.title for n in stub.ListInbox(pb.ListInboxRequest(user_id="frank"), timeout=10).items][:2] == [
        "通知 6", "通知 5"]

    # an exactly full last page still ends with an empty cursor
    exact = stub.ListInbox(pb.ListInboxRequest(user_id="frank", limit=7), timeout=10)
    assert len(exact.items) == 7 and exact.next_cursor == ""
    assert stub.ListInbox(pb.ListInboxRequest(user_id="nobody"), timeout=10).items == []


def test_inbox_limit_defaults_to_50_and_caps_at_200(stub: pb_grpc.NotifyServiceStub) -> None:
    recipients = ["grace"]
    for i in range(205):
        send(stub, f"req-many-{i}", recipients)
    first = stub.ListInbox(pb.ListInboxRequest(user_id="grace"), timeout=10)
    assert len(first.items) == 50 and first.next_cursor
    capped = stub.ListInbox(pb.ListInboxRequest(user_id="grace", limit=1000), timeout=10)
    assert len(capped.items) == 200 and capped.next_cursor
    rest = stub.ListInbox(pb.ListInboxRequest(user_id="grace", limit=1000, cursor=capped.next_cursor), timeout=10)
    assert len(rest.items) == 5 and rest.next_cursor == ""


def test_inbox_rejects_bad_cursor_and_missing_user(stub: pb_grpc.NotifyServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.ListInbox(pb.ListInboxRequest(user_id="u", cursor="garbage!"), timeout=10)
    assert [v.field for v in read_failure(err.value).violations] == ["cursor"]
    with pytest.raises(grpc.RpcError) as err:
        stub.ListInbox(pb.ListInboxRequest(user_id=""), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in read_failure(err.value).violations] == ["user_id"]


def test_inbox_read_state_unread_filter_and_count(stub: pb_grpc.NotifyServiceStub) -> None:
    sent = [send(stub, f"req-read-{i}", ["hana", "ivan"], title=f"第{i}条").notifications for i in range(3)]
    hana = [next(n for n in batch if n.user_id == "hana") for batch in sent]
    ivan = next(n for n in sent[0] if n.user_id == "ivan")
    inbox = stub.ListInbox(pb.ListInboxRequest(user_id="hana"), timeout=10)
    assert inbox.unread_count == 3 and not any(n.read or n.HasField("read_at") for n in inbox.items)

    first = stub.MarkRead(pb.MarkReadRequest(user_id="hana", notification_id=hana[0].id), timeout=10)
    assert first.notification.read and first.notification.HasField("read_at") and first.unread_count == 2
    again = stub.MarkRead(pb.MarkReadRequest(user_id="hana", notification_id=hana[0].id), timeout=10)
    assert again.notification.read_at == first.notification.read_at and again.unread_count == 2  # idempotent
    # someone else's notification is as unknown as a missing one, and stays unread
    for user_id, nid in (("hana", ivan.id), ("hana", "nope")):
        with pytest.raises(grpc.RpcError) as err:
            stub.MarkRead(pb.MarkReadRequest(user_id=user_id, notification_id=nid), timeout=10)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert stub.ListInbox(pb.ListInboxRequest(user_id="ivan"), timeout=10).unread_count == 3

    unread = stub.ListInbox(pb.ListInboxRequest(user_id="hana", unread_only=True), timeout=10)
    assert {n.id for n in unread.items} == {hana[1].id, hana[2].id} and unread.unread_count == 2
    page = stub.ListInbox(pb.ListInboxRequest(user_id="hana", unread_only=True, limit=1), timeout=10)
    rest = stub.ListInbox(
        pb.ListInboxRequest(user_id="hana", unread_only=True, limit=1, cursor=page.next_cursor), timeout=10
    )
    assert [n.id for n in [*page.items, *rest.items]] == [n.id for n in unread.items] and page.unread_count == 2

    done = stub.MarkAllRead(pb.MarkAllReadRequest(user_id="hana"), timeout=10)
    assert (done.marked, done.unread_count) == (2, 0)
    assert stub.MarkAllRead(pb.MarkAllReadRequest(user_id="hana"), timeout=10).marked == 0
    after = stub.ListInbox(pb.ListInboxRequest(user_id="hana"), timeout=10)
    assert after.unread_count == 0 and all(n.read for n in after.items)
    assert next(n for n in after.items if n.id == hana[0].id).read_at == first.notification.read_at
    assert stub.ListInbox(pb.ListInboxRequest(user_id="hana", unread_only=True), timeout=10).items == []
    assert stub.ListInbox(pb.ListInboxRequest(user_id="ivan"), timeout=10).unread_count == 3
    with pytest.raises(grpc.RpcError) as err:
        stub.MarkAllRead(pb.MarkAllReadRequest(user_id=" "), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_an_approval_request_keeps_its_task(stub: pb_grpc.NotifyServiceStub) -> None:
    resp = send(stub, "req-task", ["alice", "bob"], project_id="p1", action_tasks={"bob": "task-bob"})
    got = {n.user_id: n for n in resp.notifications}
    assert got["bob"].task_id == "task-bob" and got["alice"].task_id == ""
    inbox = stub.ListInbox(pb.ListInboxRequest(user_id="bob"), timeout=10)
    assert [n.task_id for n in inbox.items] == ["task-bob"]
    assert stub.ListInbox(pb.ListInboxRequest(user_id="alice"), timeout=10).items[0].task_id == ""
