"""``run_once_then`` (baobei/core/db.py): two idempotent requests in one transaction, answering
exactly as ``run_once`` of the first and then of the second would — either request id seen before
answers from the log, a failure of the second leaves the first done, concurrent duplicates apply
once. SQLite by default, PostgreSQL with BAOBEI_TEST_PG_URL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from google.protobuf.wrappers_pb2 import Int64Value, StringValue
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.db import Once, make_engine, request_log_table, run_once, run_once_then
from baobei.core.errors import ValidationFailed
from baobei.core.event_outbox import event_outbox_table, publish_row

metadata = sa.MetaData()
log_table = request_log_table(metadata)
outbox = event_outbox_table(metadata)
counter = sa.Table("counter", metadata, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("n", sa.Integer, nullable=False))


@pytest.fixture
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("core")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(counter.insert().values(id=1, n=0))
    yield eng
    eng.dispose()


def events(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r.event_id for r in conn.execute(sa.select(outbox).order_by(outbox.c.seq))]


def logged(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(r.request_id for r in conn.execute(sa.select(log_table)))


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(counter.c.n)).scalar_one())


class Steps:
    """A first request that bumps the counter (and publishes) and a second that reads it: the
    second's answer shows whether it saw the first's write."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.fail_then: BaseException | None = None

    def bump(self, session: Session) -> StringValue:
        self.applied.append("first")
        bumps = self.applied.count("first")
        session.connection().execute(counter.update().values(n=counter.c.n + 1))
        publish_row(session, outbox, event_id=f"bumped-{bumps}", data=b"x")
        return StringValue(value=f"bumped {bumps}")

    def read(self, session: Session) -> Int64Value:
        self.applied.append("then")
        if self.fail_then is not None:
            raise self.fail_then
        return Int64Value(value=int(session.connection().execute(sa.select(counter.c.n)).scalar_one()))

    def call(self, engine: Engine, a: str = "a1", b: str = "b1") -> tuple[StringValue, Int64Value]:
        return run_once_then(engine, log_table, Once(a, "Bump", StringValue, self.bump),
                             Once(b, "Read", Int64Value, self.read))


def test_both_run_in_order_once_and_a_replay_answers_from_the_log(engine: Engine) -> None:
    steps = Steps()
    first = steps.call(engine)
    assert first == (StringValue(value="bumped 1"), Int64Value(value=1))  # the second saw the first's write
    assert steps.call(engine) == first
    assert steps.applied == ["first", "then"] and count(engine) == 1 and events(engine) == ["bumped-1"]
    assert logged(engine) == ["Bump:a1", "Read:b1"]
    # Each answers a later run_once of its own request id.
    assert run_once(engine, log_table, request_id="b1", method="Read", response_type=Int64Value,
                    apply=lambda s: Int64Value(value=99)).value == 1


def test_a_request_answered_before_on_its_own_is_not_run_again(engine: Engine) -> None:
    steps = Steps()
    # The first alone before (an older caller's separate call): only the second runs now.
    run_once(engine, log_table, request_id="a1", method="Bump", response_type=StringValue, apply=steps.bump)
    assert steps.call(engine) == (StringValue(value="bumped 1"), Int64Value(value=1))
    assert steps.applied == ["first", "then"] and count(engine) == 1
    # Both before: both stored answers, nothing runs.
    run_once(engine, log_table, request_id="b2", method="Read", response_type=Int64Value,
             apply=lambda s: Int64Value(value=42))
    assert steps.call(engine, "a1", "b2") == (StringValue(value="bumped 1"), Int64Value(value=42))
    # Only the second before: the first runs, the second answers from the log.
    assert steps.call(engine, "a3", "b2") == (StringValue(value="bumped 2"), Int64Value(value=42))
    assert steps.applied == ["first", "then", "first"] and count(engine) == 2
    assert logged(engine) == ["Bump:a1", "Bump:a3", "Read:b1", "Read:b2"]


def test_a_failing_second_leaves_the_first_done_and_a_retry_runs_the_second(engine: Engine) -> None:
    steps = Steps()
    steps.fail_then = RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        steps.call(engine)
    # As the two calls one after the other: the first committed (once), the second not.
    assert count(engine) == 1 and events(engine) == ["bumped-2"] and logged(engine) == ["Bump:a1"]
    steps.fail_then = None
    assert steps.call(engine) == (StringValue(value="bumped 2"), Int64Value(value=1))
    assert count(engine) == 1 and logged(engine) == ["Bump:a1", "Read:b1"]


def test_a_failing_first_writes_nothing(engine: Engine) -> None:
    def failing(session: Session) -> StringValue:
        publish_row(session, outbox, event_id="lost", data=b"x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_once_then(engine, log_table, Once("a1", "Bump", StringValue, failing),
                      Once("b1", "Read", Int64Value, Steps().read))
    assert events(engine) == [] and logged(engine) == []


@pytest.mark.parametrize("blank", ["first", "then"])
def test_a_blank_request_id_is_refused(engine: Engine, blank: str) -> None:
    steps = Steps()
    with pytest.raises(ValidationFailed):
        steps.call(engine, " " if blank == "first" else "a1", " " if blank == "then" else "b1")
    assert steps.applied == [] and logged(engine) == []


def test_concurrent_duplicates_apply_once_and_both_get_the_winners_answers(engine: Engine, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises the two transactions at BEGIN IMMEDIATE")
    both_looked_up = threading.Barrier(2, timeout=20)

    def bump_as(name: str) -> Callable[[Session], StringValue]:
        def apply(session: Session) -> StringValue:
            both_looked_up.wait()
            publish_row(session, outbox, event_id=name, data=name.encode())
            return StringValue(value=name)

        return apply

    def call(name: str) -> tuple[StringValue, Int64Value]:
        return run_once_then(engine, log_table, Once("a1", "Bump", StringValue, bump_as(name)),
                             Once("b1", "Read", Int64Value, lambda s: Int64Value(value=len(name))))

    with ThreadPoolExecutor(2) as pool:
        answers = [f.result(timeout=30) for f in [pool.submit(call, n) for n in ("a", "bb")]]
    [winner] = events(engine)
    assert answers == [(StringValue(value=winner), Int64Value(value=len(winner)))] * 2
    assert logged(engine) == ["Bump:a1", "Read:b1"]
