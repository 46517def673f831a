"""The shared persistence plumbing every service's write RPC goes through (baobei/core/db.py,
baobei/core/event_outbox.py): request-id idempotency of ``run_once`` (replays, failures,
concurrent duplicates) and of a batch's ``run_once_many`` (one transaction, the same keys, a
failing item on its own), the outbox rows, and SQLite's write lock taken at BEGIN. SQLite by
default, PostgreSQL with BAOBEI_TEST_PG_URL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import sqlalchemy as sa
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from baobei.core.db import make_engine, record_response, request_log_table, run_once, run_once_many, stored_response
from baobei.core.errors import ValidationFailed
from baobei.core.event_outbox import ack, claim, event_outbox_table, publish_row, publish_rows

metadata = sa.MetaData()
log_table = request_log_table(metadata)
outbox = event_outbox_table(metadata)
notices = event_outbox_table(metadata, "notice_outbox")


@pytest.fixture
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("core")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def rows(engine: Engine, table: sa.Table) -> list[tuple[str, bytes]]:
    with engine.connect() as conn:
        return [(r.event_id, bytes(r.event)) for r in conn.execute(sa.select(table).order_by(table.c.seq))]


def logged(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.request_id, r.method) for r in conn.execute(sa.select(log_table).order_by(log_table.c.request_id))]


def test_run_once_applies_once_and_answers_replays_from_the_log(engine: Engine) -> None:
    calls: list[str] = []

    def apply(session: Session) -> StringValue:
        calls.append("x")
        publish_row(session, outbox, event_id=f"e{len(calls)}", data=b"payload")
        return StringValue(value=f"answer {len(calls)}")

    def call(request_id: str, method: str = "Send") -> StringValue:
        return run_once(engine, log_table, request_id=request_id, method=method, response_type=StringValue,
                        apply=apply)

    assert call("r1").value == "answer 1"
    assert call("r1").value == "answer 1"  # a replay: the first answer, nothing applied
    assert call("r1", "Other").value == "answer 2"  # the log is keyed by method and request id
    assert calls == ["x", "x"]
    assert rows(engine, outbox) == [("e1", b"payload"), ("e2", b"payload")]
    assert logged(engine) == [("Other:r1", "Other"), ("Send:r1", "Send")]
    with Session(engine) as session:
        found = stored_response(session, log_table, method="Send", request_id="r1")
        assert found is not None and StringValue.FromString(found).value == "answer 1"
        assert stored_response(session, log_table, method="Send", request_id="r2") is None


def test_run_once_refuses_a_blank_request_id(engine: Engine) -> None:
    with pytest.raises(ValidationFailed):
        run_once(engine, log_table, request_id="  ", method="Send", response_type=StringValue,
                 apply=lambda s: StringValue())


def test_a_failed_apply_writes_nothing_and_a_retry_applies(engine: Engine) -> None:
    def failing(session: Session) -> StringValue:
        publish_row(session, outbox, event_id="lost", data=b"x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_once(engine, log_table, request_id="r1", method="Send", response_type=StringValue, apply=failing)
    assert rows(engine, outbox) == [] and logged(engine) == []

    def working(session: Session) -> StringValue:
        publish_row(session, outbox, event_id="kept", data=b"y")
        return StringValue(value="ok")

    assert run_once(engine, log_table, request_id="r1", method="Send", response_type=StringValue,
                    apply=working).value == "ok"
    assert rows(engine, outbox) == [("kept", b"y")]


def test_a_duplicate_key_without_a_winner_is_raised_and_rolls_back(engine: Engine) -> None:
    """The request's own key written inside ``apply`` (no concurrent winner to answer from)."""

    def apply(session: Session) -> StringValue:
        publish_row(session, outbox, event_id="lost", data=b"x")
        record_response(session, log_table, method="Send", request_id="r1", response=StringValue(value="inner"))
        return StringValue(value="outer")

    with pytest.raises(IntegrityError):
        run_once(engine, log_table, request_id="r1", method="Send", response_type=StringValue, apply=apply)
    assert rows(engine, outbox) == [] and logged(engine) == []


def test_a_response_recorded_inside_another_request_answers_its_retry(engine: Engine) -> None:
    def apply(session: Session) -> StringValue:
        record_response(session, log_table, method="OpenStep", request_id="inner", response=StringValue(value="in"))
        return StringValue(value="out")

    run_once(engine, log_table, request_id="outer", method="Decide", response_type=StringValue, apply=apply)
    replay = run_once(engine, log_table, request_id="inner", method="OpenStep", response_type=StringValue,
                      apply=lambda s: StringValue(value="again"))
    assert replay.value == "in"


def test_concurrent_duplicates_apply_once_and_both_get_the_winners_answer(engine: Engine, db_url: str) -> None:
    """Both pass the lookup before either records (possible on PostgreSQL only: SQLite's
    BEGIN IMMEDIATE serialises them at the lookup); the loser's insert fails on the key, its
    changes roll back and it answers with the winner's response."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises the two transactions at BEGIN IMMEDIATE")
    both_looked_up = threading.Barrier(2, timeout=20)

    def apply_as(name: str) -> Callable[[Session], StringValue]:
        def apply(session: Session) -> StringValue:
            both_looked_up.wait()
            publish_row(session, outbox, event_id=name, data=name.encode())
            return StringValue(value=name)

        return apply

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_once, engine, log_table, request_id="r1", method="Send",
                               response_type=StringValue, apply=apply_as(name)) for name in ("a", "b")]
        answers = [f.result(timeout=30).value for f in futures]
    [(winner, _)] = rows(engine, outbox)
    assert answers == [winner, winner]
    assert logged(engine) == [("Send:r1", "Send")]


def publishing(name: str, calls: list[str] | None = None) -> Callable[[Session], StringValue]:
    def apply(session: Session) -> StringValue:
        if calls is not None:
            calls.append(name)
        publish_row(session, outbox, event_id=name, data=name.encode())
        return StringValue(value=f"answer {name}")

    return apply


def commits(engine: Engine) -> list[int]:
    seen: list[int] = []
    sa.event.listen(engine, "commit", lambda _conn: seen.append(1))
    return seen


def test_run_once_many_applies_a_batch_in_one_transaction_on_the_same_keys(engine: Engine) -> None:
    calls: list[str] = []
    single = run_once(engine, log_table, request_id="r0", method="Send", response_type=StringValue,
                      apply=publishing("e0", calls))
    committed = commits(engine)
    items = [("r1", publishing("e1", calls)), ("r0", publishing("e0-again", calls)), ("  ", publishing("blank")),
             ("r2", publishing("e2", calls)), ("r1", publishing("e1-again", calls))]
    first = run_once_many(engine, log_table, method="Send", response_type=StringValue, items=items)
    assert len(committed) == 1  # the whole batch, one transaction
    # r0 answers its single call's response; r1 twice in the batch applies once; a blank id is
    # refused on its own.
    assert [r.value if isinstance(r, StringValue) else type(r) for r in first] == [
        "answer e1", single.value, ValidationFailed, "answer e2", "answer e1"]
    assert calls == ["e0", "e1", "e2"]
    assert [e for e, _ in rows(engine, outbox)] == ["e0", "e1", "e2"]
    assert logged(engine) == [("Send:r0", "Send"), ("Send:r1", "Send"), ("Send:r2", "Send")]
    # The batch again (a redelivery): the first answers, nothing applied; a single call of an item
    # answers the batch's answer.
    again = run_once_many(engine, log_table, method="Send", response_type=StringValue, items=items)
    assert [type(r) for r in again] == [type(r) for r in first]
    assert [r for r in again if isinstance(r, StringValue)] == [r for r in first if isinstance(r, StringValue)]
    assert run_once(engine, log_table, request_id="r2", method="Send", response_type=StringValue,
                    apply=publishing("e2-single", calls)).value == "answer e2"
    assert calls == ["e0", "e1", "e2"]


def test_run_once_many_runs_each_item_alone_when_one_fails(engine: Engine) -> None:
    """An item's apply raising rolls the batch back; each item then runs on its own: the failing
    one has its exception as its result and wrote nothing, the others applied once."""
    calls: list[str] = []

    def failing(session: Session) -> StringValue:
        calls.append("bad")
        publish_row(session, outbox, event_id="lost", data=b"x")
        raise RuntimeError("boom")

    results = run_once_many(engine, log_table, method="Send", response_type=StringValue, items=[
        ("r1", publishing("e1", calls)), ("r2", failing), ("r3", publishing("e3", calls))])
    assert isinstance(results[1], RuntimeError)
    assert [r.value for r in (results[0], results[2]) if isinstance(r, StringValue)] == ["answer e1", "answer e3"]
    # The batch's attempt (rolled back), then each alone.
    assert calls == ["e1", "bad", "e1", "bad", "e3"]
    assert [e for e, _ in rows(engine, outbox)] == ["e1", "e3"]
    assert logged(engine) == [("Send:r1", "Send"), ("Send:r3", "Send")]


def test_run_once_many_beside_a_concurrent_single_call_applies_it_once(engine: Engine, db_url: str) -> None:
    """A batch item and a single call of the same request pass their lookups together (PostgreSQL
    only, as above): the batch's record fails on the key, it rolls back and runs each item alone,
    and the item answers with the single call's response."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises the two transactions at BEGIN IMMEDIATE")
    both_looked_up = threading.Barrier(2, timeout=20)

    def waiting(name: str) -> Callable[[Session], StringValue]:
        def apply(session: Session) -> StringValue:
            both_looked_up.wait()
            return publishing(name)(session)

        return apply

    with ThreadPoolExecutor(2) as pool:
        single = pool.submit(run_once, engine, log_table, request_id="r1", method="Send",
                             response_type=StringValue, apply=waiting("single"))
        batch = pool.submit(run_once_many, engine, log_table, method="Send", response_type=StringValue,
                            items=[("r0", publishing("e0")), ("r1", waiting("batch"))])
        winner = single.result(timeout=30).value
        answers = batch.result(timeout=30)
    published = [e for e, _ in rows(engine, outbox)]
    assert sorted(published) == sorted(["e0", winner.removeprefix("answer ")])
    assert [a.value for a in answers if isinstance(a, StringValue)] == ["answer e0", winner]
    assert logged(engine) == [("Send:r0", "Send"), ("Send:r1", "Send")]


def test_outbox_rows_keep_their_order_and_are_claimed_and_acked(engine: Engine) -> None:
    with Session(engine) as session:
        publish_row(session, notices, event_id="n1", data=b"1")
        publish_rows(session, notices, [("n2", b"2"), ("n3", b"3")])
        publish_rows(session, notices, [])
        session.commit()
    assert rows(engine, notices) == [("n1", b"1"), ("n2", b"2"), ("n3", b"3")]
    with engine.connect() as conn:
        stamps = conn.execute(sa.select(notices.c.created_at)).scalars().all()
    assert all(isinstance(s, datetime) for s in stamps)
    claimed = claim(engine, notices, limit=2)
    assert [data for _, data in claimed] == [b"1", b"2"]
    assert ack(engine, notices, seqs=[seq for seq, _ in claimed]) == 2
    assert rows(engine, notices) == [("n3", b"3")]
    with Session(engine) as session:  # rolled back with its transaction
        publish_rows(session, notices, [("n4", b"4")])
    assert rows(engine, notices) == [("n3", b"3")]


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path: object) -> None:
    """Every transaction (a read-then-write one above all) holds SQLite's write lock from its
    BEGIN, so another writer waits (or, with no busy timeout, fails) until it ends."""
    path = f"{tmp_path}/lock.db"
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with engine.connect() as conn:
            conn.execute(sa.select(log_table.c.request_id)).all()  # only a read so far
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released when the transaction ended
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
            with pytest.raises(OperationalError, match="locked"):  # wrapped as every driver error
                conn.execute(sa.select(log_table.c.request_id)).all()
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()
