"""The notify store's hot paths in-process on a migrated database (SQLite, or PostgreSQL with
BAOBEI_TEST_PG_URL): the rows a send and a task close write (Core statements, no ORM unit of
work), the statements they need, and the outbox's claim (an idle outbox costs one query)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.notify import domain, im_store, outbox, personal, store

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture()
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("notify")


class Statements:
    """The SQL statements an engine runs (transaction control left out)."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            self.seen.append(" ".join(statement.split()))

    def take(self) -> list[str]:
        out, self.seen = self.seen, []
        return out


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def payload_of(engine: Engine, delivery_id: str) -> dict[str, Any]:
    [(payload,)] = rows(engine, f"SELECT payload FROM delivery WHERE id = '{delivery_id}'")
    return payload if isinstance(payload, dict) else dict(json.loads(payload))


def set_prefs(engine: Engine, user_id: str, *channels: str, quiet: tuple[str, str] = ("", "")) -> None:
    with Session(engine) as session:
        store.set_preferences(session, prefs=domain.Preferences(
            user_id=user_id, channels=channels, quiet_hours=domain.QuietHours(*quiet)), now=NOW)
        session.commit()


def send(engine: Engine, command: domain.SendCommand) -> tuple[list[domain.Notification], list[domain.DeliveryView],
                                                                 store.LinkMinter]:
    minter = store.LinkMinter(ttl=timedelta(hours=72))
    with Session(engine) as session:
        planned, views = store.add_notifications(session, command=command, now=NOW, links=minter)
        session.commit()
    return planned, views, minter


def test_send_writes_the_notifications_links_log_and_deliveries(engine: Engine) -> None:
    set_prefs(engine, "alice", "email", "dingtalk")  # no dingtalk robot: recorded as skipped
    set_prefs(engine, "bob", "email", quiet=("09:00", "18:00"))  # inside quiet hours: held
    cmd = domain.SendCommand(request_id="r1", recipient_ids=("alice", "bob", "carol", "alice"),
                             kind="approval_request", title="待审批：园区", body="编号：P-1", project_id=" p-1 ",
                             action_tasks={"alice": "task-1"}, context={"code": "P-1"})
    planned, views, minter = send(engine, cmd)
    assert [n.user_id for n in planned] == ["alice", "bob", "carol"]
    ids = {n.user_id: n.id for n in planned}
    got = rows(engine, "SELECT id, user_id, kind, title, body, project_id, action_url, read, read_at, task_id"
                       " FROM notification ORDER BY user_id")
    assert got == [(ids[u], u, "approval_request", "待审批：园区", "编号：P-1", "p-1", "", False, None, task)
                   for u, task in (("alice", "task-1"), ("bob", ""), ("carol", ""))]
    [link] = rows(engine, "SELECT id, task_id, approver_id, project_id, notification_id FROM action_link")
    assert link[1:] == ("task-1", "alice", "p-1", ids["alice"])
    assert minter.minted == {ids["alice"]: (link[0], NOW)} and minter.written == set(ids.values())
    assert sorted(rows(engine, "SELECT notification_id, channel, status, attempts, error FROM delivery_log")) == \
        sorted((i, "inapp", "delivered", 1, "") for i in ids.values())
    held = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 18:00 in Asia/Shanghai
    assert [(v.recipient_id, v.channel, v.status, v.error, v.not_before) for v in views] == [
        ("alice", "email", "pending", "", None),
        ("alice", "dingtalk", "skipped", "no enabled dingtalk robot channel", None),
        ("bob", "email", "pending", "", held),
    ]
    stored = {r[0]: r[1:] for r in rows(
        engine, "SELECT id, notification_id, recipient_id, channel, target, status, attempts, error, project_id,"
                " kind, digest_id, batch_id FROM delivery")}
    assert stored == {v.id: (ids[v.recipient_id], v.recipient_id, v.channel, "", v.status, 0, v.error, "p-1",
                             "approval_request", "", None) for v in views}
    assert all(v.updated_at == NOW and v.attempts == 0 and v.digest_id == "" for v in views)
    ctx = payload_of(engine, views[0].id)["context"]
    assert ctx == {"code": "P-1", "title": "待审批：园区", "body": "编号：P-1", "action_url": "", "project_id": "p-1",
                   "kind": "approval_request", "recipient_id": "alice", "task_id": "task-1"}


def test_send_reads_the_robots_only_when_a_preference_routes_to_one(engine: Engine) -> None:
    set_prefs(engine, "alice", "email")
    statements = Statements(engine)
    send(engine, domain.SendCommand(request_id="r1", recipient_ids=("alice",), kind="k", title="t"))
    assert not [s for s in statements.take() if "robot_channel" in s]
    with Session(engine) as session:
        store.put_channel(session, ch=domain.RobotChannel(key="ding-1", type="dingtalk", url="https://x/"), now=NOW)
        session.commit()
    set_prefs(engine, "bob", "dingtalk")
    statements.take()
    _, views, _ = send(engine, domain.SendCommand(request_id="r2", recipient_ids=("alice", "bob"), kind="k",
                                                  title="t"))
    assert len([s for s in statements.take() if "robot_channel" in s]) == 1
    assert [(v.recipient_id, v.channel, v.target, v.status) for v in views] == [
        ("alice", "email", "", "pending"), ("bob", "dingtalk", "ding-1", "pending")]


def test_account_email_goes_by_email_whatever_the_preferences(engine: Engine) -> None:
    set_prefs(engine, "alice", "dingtalk")
    statements = Statements(engine)
    _, views, _ = send(engine, domain.SendCommand(
        request_id="r1", recipient_ids=("alice",), kind="account_invite", title="邀请", account_email=True,
        context={"setup_url": "https://edge/setup/tok"}))
    assert [(v.channel, v.status) for v in views] == [("email", "pending")]
    assert not [s for s in statements.take() if "preference" in s or "robot_channel" in s]
    ctx = payload_of(engine, views[0].id)["context"]
    assert ctx["action_url"] == "https://edge/setup/tok" and "setup_url" not in ctx


def close(engine: Engine, task_id: str, outcome: str, *, project_id: str = "p-1", actor: str = "李四",
          at: datetime = NOW) -> tuple[str, list[domain.DeliveryView]]:
    with Session(engine) as session:
        out = im_store.close_task(session, cmd=personal.CloseTask(
            request_id="x", task_id=task_id, outcome=outcome, project_id=project_id, actor_id="u-" + actor,
            actor_name=actor), now=at)
        session.commit()
    return out


def task_row(engine: Engine, task_id: str) -> tuple[Any, ...]:
    [row] = rows(engine, f"SELECT outcome, actor_id, actor_name, project_id, closed_at IS NOT NULL, updated_at"
                         f" FROM im_task WHERE task_id = '{task_id}'")
    return row


def test_the_first_close_of_a_task_wins_and_later_ones_only_touch_it(engine: Engine) -> None:
    assert close(engine, "t-1", "approved") == ("已同意 · 李四", [])
    first = task_row(engine, "t-1")
    assert first[:5] == ("approved", "u-李四", "李四", "p-1", True)
    later = NOW + timedelta(minutes=5)
    assert close(engine, "t-1", "rejected", project_id="p-2", actor="王五", at=later) == ("已同意 · 李四", [])
    again = task_row(engine, "t-1")
    assert again[:5] == first[:5] and again[5] != first[5]


def test_a_close_of_a_task_a_card_opened_keeps_its_project(engine: Engine) -> None:
    with Session(engine) as session:  # a card's commit created the open task row
        im_store._lock_task(session, task_id="t-2", project_id="p-card", now=NOW)
        session.commit()
    assert close(engine, "t-2", "returned", project_id="p-cmd", actor="system")[0] == "已退回修改"
    assert task_row(engine, "t-2")[:5] == ("returned", "u-system", "system", "p-card", True)


def test_a_close_queues_one_update_per_open_card(engine: Engine) -> None:
    with engine.begin() as conn:
        for i, (task, state) in enumerate((("t-3", "open"), ("t-3", "open"), ("t-3", "closed"), ("t-4", "open"))):
            conn.execute(sa.text(
                "INSERT INTO im_message (id, channel_key, type, recipient_id, platform_user, task_id, project_id,"
                " message_ref, todo_ref, title, markdown, url, state, outcome, close_delivery_id, created_at)"
                " VALUES (:i, 'app', 'dingtalk_app', :r, 'pu', :t, :p, '', '', '', '', '', :s, '', '', :at)"),
                {"i": f"m{i}", "r": f"user{i}", "t": task, "p": "" if i == 1 else "p-card", "s": state,
                 "at": NOW + timedelta(seconds=i)})
    status, queued = close(engine, "t-3", "approved")
    assert [(d.id, d.recipient_id, d.channel, d.target, d.status, d.project_id, d.kind) for d in queued] == [
        (im_store.update_delivery_id("m0"), "user0", "dingtalk_app", "app", "pending", "p-card", "im_card_update"),
        (im_store.update_delivery_id("m1"), "user1", "dingtalk_app", "app", "pending", "p-1", "im_card_update"),
    ]
    assert rows(engine, "SELECT id, state, outcome, close_delivery_id FROM im_message ORDER BY id") == [
        ("m0", "closed", "approved", queued[0].id), ("m1", "closed", "approved", queued[1].id),
        ("m2", "closed", "", ""), ("m3", "open", "", "")]
    assert payload_of(engine, queued[0].id) == {
        "im_message_id": "m0", "task_id": "t-3", "outcome": "approved", "status": status, "actor_id": "u-李四",
        "actor_name": "李四", "removed": personal.todo_removed("approved")}
    assert close(engine, "t-3", "rejected") == (status, [])
    assert rows(engine, "SELECT count(*) FROM delivery") == [(2,)]


def pending(engine: Engine, n: int) -> list[str]:
    ids = [f"d{i:04d}" for i in range(n)]
    with engine.begin() as conn:
        conn.execute(store.Delivery.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": i, "channel": "email", "status": "pending", "payload": {}, "created_at": NOW + timedelta(seconds=k),
             "updated_at": NOW} for k, i in enumerate(ids)])
    return ids


def test_an_idle_outbox_costs_one_query(engine: Engine) -> None:
    statements = Statements(engine)
    assert outbox.claim(engine, batch_size=10, max_batches=5) == []
    assert len(statements.take()) == 1
    pending(engine, 3)
    [batch] = outbox.claim(engine, batch_size=10, max_batches=5)
    statements.take()
    assert store.mark_dispatched(engine, batch_id=batch.batch_id, now=NOW) == 3
    statements.take()
    assert outbox.claim(engine, batch_size=10, max_batches=5) == []  # only dispatched rows
    assert len(statements.take()) == 1


def test_claim_batches_every_pending_row_once_in_creation_order(engine: Engine) -> None:
    ids = pending(engine, 25)
    batches = outbox.claim(engine, batch_size=10, max_batches=20)
    assert sorted(len(b.deliveries) for b in batches) == [5, 10, 10]
    assert sorted(i for b in batches for i, _ in b.deliveries) == ids
    for b in batches:
        got = [i for i, _ in b.deliveries]
        assert got == sorted(got) and all(nb is None for _, nb in b.deliveries)
    # until marked, the batches are answered again (and nothing new is claimed)
    assert {b.batch_id for b in outbox.claim(engine, batch_size=10, max_batches=20)} == {b.batch_id for b in batches}
    assert len(outbox.claim(engine, batch_size=10, max_batches=2)) == 2
    for b in batches:
        assert store.mark_dispatched(engine, batch_id=b.batch_id, now=NOW) == len(b.deliveries)
    assert outbox.claim(engine, batch_size=10, max_batches=20) == []
    assert not store.has_unclaimed(engine)
