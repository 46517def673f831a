"""The shared persistence plumbing every service's write RPC goes through (baobei/core/db.py,
baobei/core/event_outbox.py): request-id idempotency of ``run_once`` (replays, failures,
concurrent duplicates), the outbox rows, and SQLite's write lock taken at BEGIN. SQLite by
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

from baobei.core.db import make_engine, record_response, request_log_table, run_once, stored_response
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
