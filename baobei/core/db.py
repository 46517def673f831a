"""Database engines (SQLite file by default, PostgreSQL by URL) and request-id idempotency."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from baobei.core import telemetry
from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.core.metrics import watch_engine

M = TypeVar("M", bound=Message)
A = TypeVar("A", bound=Message)
B = TypeVar("B", bound=Message)


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, *, pool_size: int | None = None, max_overflow: int | None = None) -> Engine:
    """The service's engine; pool sizes default to the settings (BAOBEI_DB_POOL_SIZE, _MAX_OVERFLOW)."""
    if pool_size is None or max_overflow is None:
        from baobei.core.settings import Settings

        settings = Settings()
        pool_size = settings.db_pool_size if pool_size is None else pool_size
        max_overflow = settings.db_max_overflow if max_overflow is None else max_overflow
    engine = _make_engine(normalise_url(url), pool_size=pool_size, max_overflow=max_overflow)
    watch_engine(engine)  # its pool on /metrics (baobei_db_pool_*)
    return engine


def _make_engine(url: str, *, pool_size: int, max_overflow: int) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # Take the write lock at BEGIN so read-then-write transactions serialise instead of
        # failing with "database is locked" on upgrade. The dialect's own BEGIN hook (a no-op
        # for pysqlite) runs it straight on the driver's connection: a "begin" event listener
        # running it through ``exec_driver_sql`` cost a whole statement execution per
        # transaction, and any engine listener makes every statement dispatch its events.
        # Failures are still wrapped (sqlalchemy.exc.OperationalError) by the connection.
        engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]

        # pysqlite's own transaction handling must be off for the BEGIN above to be ours.
        @event.listens_for(engine, "connect", insert=True)
        def _autocommit_off(conn: Any, _record: Any) -> None:
            conn.isolation_level = None

        telemetry.instrument_engine(engine)  # a span per statement when tracing is on
        return engine
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)
    telemetry.instrument_engine(engine)
    return engine


def _begin_immediate(dbapi_connection: Any) -> None:
    dbapi_connection.cursor().execute("BEGIN IMMEDIATE")


def request_log_table(metadata: sa.MetaData) -> sa.Table:
    """Responses of mutating RPCs keyed by request id, written in the same transaction as the
    change itself, so a retried request returns the first answer and changes nothing."""
    return sa.Table(
        "processed_request",
        metadata,
        sa.Column("request_id", sa.String(200), primary_key=True),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


_request_log: dict[sa.Table, tuple[sa.Select[bytes], sa.Insert]] = {}
_request_log_many: dict[sa.Table, sa.Select[tuple[str, bytes]]] = {}


def _request_log_statements(table: sa.Table) -> tuple[sa.Select[bytes], sa.Insert]:
    """The lookup and the insert of ``table``, built once: a statement object keeps its compiled
    form's cache key, so every mutating RPC no longer rebuilds, coerces and keys two statements."""
    found = _request_log.get(table)
    if found is None:
        found = _request_log[table] = (
            sa.select(table.c.response).where(table.c.request_id == sa.bindparam("request_key")),
            table.insert(),
        )
    return found


def _stored_many(conn: Connection, table: sa.Table, keys: list[str]) -> dict[str, bytes]:
    lookup = _request_log_many.get(table)
    if lookup is None:
        lookup = _request_log_many[table] = sa.select(table.c.request_id, table.c.response).where(
            table.c.request_id.in_(sa.bindparam("request_keys", expanding=True)))
    return {str(k): bytes(r) for k, r in conn.execute(lookup, {"request_keys": keys})}


def stored_response(session: Session, table: sa.Table, *, method: str, request_id: str) -> bytes | None:
    """The stored response of ``method`` for ``request_id`` in the request log ``table``, if any."""
    return _stored(session.connection(), table, f"{method}:{request_id}")


def record_response(session: Session, table: sa.Table, *, method: str, request_id: str, response: Message) -> None:
    """Add ``response`` to the request log in the caller's transaction: a request answered inside
    another one (an approval step opened by the decision) answers its own later retry."""
    _record(session.connection(), table, method, f"{method}:{request_id}", response)


# Both run on the session's connection: a Core statement on a plain table is neither flushed
# before nor mapped after, so ``Session.execute`` added only its dispatch to the same call.
def _stored(conn: Connection, table: sa.Table, key: str) -> bytes | None:
    lookup, _ = _request_log_statements(table)
    row = conn.execute(lookup, {"request_key": key}).first()
    return bytes(row[0]) if row else None


def _record(conn: Connection, table: sa.Table, method: str, key: str, response: Message) -> None:
    _, record = _request_log_statements(table)
    conn.execute(record, {"request_id": key, "method": method, "response": response.SerializeToString(),
                          "created_at": datetime.now(UTC)})


def run_once(
    engine: Engine,
    table: sa.Table,
    *,
    request_id: str,
    method: str,
    response_type: type[M],
    apply: Callable[[Session], M],
) -> M:
    """Run ``apply`` in one transaction unless ``request_id`` was seen; either way return the
    response of the first run. Concurrent duplicates: the loser's insert fails on the primary
    key, its transaction (with its changes) rolls back, and it returns the winner's answer."""
    if not request_id.strip():
        raise _required_request_id()
    key = f"{method}:{request_id}"
    with Session(engine) as session:
        found = _stored(session.connection(), table, key)
        if found is not None:
            return response_type.FromString(found)
        response = apply(session)
        try:
            # PostgreSQL reports the duplicate key at the INSERT (after the winner commits), SQLite
            # at COMMIT at the latest: both belong inside the try. The connection is asked for
            # again: ``apply`` may have ended the transaction it began in.
            _record(session.connection(), table, method, key, response)
            session.commit()
        except IntegrityError:
            session.rollback()
            with engine.connect() as conn:
                winner = _stored(conn, table, key)
            if winner is None:
                raise
            return response_type.FromString(winner)
        return response


@dataclass(frozen=True)
class Once(Generic[M]):
    """One request as ``run_once`` takes it (for ``run_once_then``)."""

    request_id: str
    method: str
    response_type: type[M]
    apply: Callable[[Session], M]


def run_once_then(engine: Engine, table: sa.Table, first: Once[A], then: Once[B]) -> tuple[A, B]:
    """``run_once(first)`` and then ``run_once(then)`` in one transaction, answering as those two
    calls would: a request whose id was seen answers from the log and changes nothing (either
    one: a caller that made the first call, or both, before gets those answers), the others run
    in order — ``then`` sees ``first``'s writes as a new transaction would (the session flushed and
    its ORM state expired in between) — and are recorded with their changes. When ``then`` fails,
    ``first`` is committed alone (as it was before the second call began) and the error raised.
    Concurrent duplicates: the loser rolls back and answers again from what the winner stored."""
    for once in (first, then):
        if not once.request_id.strip():
            raise _required_request_id()
    key_a, key_b = f"{first.method}:{first.request_id}", f"{then.method}:{then.request_id}"
    retried = False
    while True:
        with Session(engine) as session:
            conn = session.connection()
            found_a, found_b = _stored(conn, table, key_a), _stored(conn, table, key_b)
            a = first.response_type.FromString(found_a) if found_a is not None else first.apply(session)
            if found_b is not None:
                b = then.response_type.FromString(found_b)
            else:
                session.flush()
                session.expire_all()
                try:
                    b = then.apply(session)
                except Exception:
                    session.rollback()
                    if found_a is None:
                        run_once(engine, table, request_id=first.request_id, method=first.method,
                                 response_type=first.response_type, apply=first.apply)
                    raise
            if found_a is not None and found_b is not None:
                return a, b
            try:
                conn = session.connection()  # as in run_once: ``apply`` may have ended its transaction
                if found_a is None:
                    _record(conn, table, first.method, key_a, a)
                if found_b is None:
                    _record(conn, table, then.method, key_b, b)
                session.commit()
            except IntegrityError:
                session.rollback()
                with engine.connect() as check:
                    won = any(found is None and _stored(check, table, key) is not None
                              for key, found in ((key_a, found_a), (key_b, found_b)))
                if not won or retried:
                    raise
                retried = True
                continue  # a concurrent duplicate won: answer from its records (and run what it left)
            return a, b


def _required_request_id() -> ValidationFailed:
    return ValidationFailed([FieldViolation("request_id", "request_id 为必填项", "request_id is required")])


def run_once_many(
    engine: Engine,
    table: sa.Table,
    *,
    method: str,
    response_type: type[M],
    items: Sequence[tuple[str, Callable[[Session], M]]],
) -> list[M | Exception]:
    """``run_once`` for each ``(request_id, apply)`` of a batch, in one transaction: a request seen
    before (also as a single ``run_once`` of ``method``: the same request log keys) answers its
    first response, the others apply in order and are recorded with theirs; a request id twice in
    the batch applies once. ``apply`` must leave the transaction open (the batch commits it).

    If the batch's transaction fails after its lookup — an item's ``apply`` raised (a refusal, a
    bug), a concurrent duplicate, a deadlock — it rolls back whole and every item runs on its own
    ``run_once``: an item that fails there has its exception as its result and neither undoes nor
    stops the others. A failing lookup (the database unreachable) raises, as ``run_once`` would."""
    results: list[M | Exception | None] = [None] * len(items)
    keys: dict[int, str] = {}
    for i, (request_id, _) in enumerate(items):
        if request_id.strip():
            keys[i] = f"{method}:{request_id}"
        else:
            results[i] = _required_request_id()
    if keys:
        with Session(engine) as session:
            stored = _stored_many(session.connection(), table, sorted(set(keys.values())))
            try:
                answered: dict[str, M] = {k: response_type.FromString(v) for k, v in stored.items()}
                records: list[dict[str, Any]] = []
                for i, key in keys.items():
                    if key not in answered:
                        answered[key] = items[i][1](session)
                        records.append({"request_id": key, "method": method, "created_at": datetime.now(UTC),
                                        "response": answered[key].SerializeToString()})
                    results[i] = answered[key]
                if records:
                    session.connection().execute(_request_log_statements(table)[1], records)
                session.commit()
                failed = False
            except Exception:  # noqa: BLE001 - every item again on its own, each with its own outcome
                session.rollback()
                failed = True
        if failed:
            for i in keys:
                try:
                    results[i] = run_once(engine, table, request_id=items[i][0], method=method,
                                          response_type=response_type, apply=items[i][1])
                except Exception as err:  # noqa: BLE001 - the item's outcome, reported with it
                    results[i] = err
    done = [r for r in results if r is not None]
    assert len(done) == len(items)
    return done
