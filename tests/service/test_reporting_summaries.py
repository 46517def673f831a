"""The per-assignee task summary that productivity reads: kept in the transaction of each task event,
it must equal a from-scratch computation over task_view after shuffled (out-of-order) and redelivered
events, and after a rebuild from the event log (also when the summary rows were lost)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from baobei.core.db import make_engine
from baobei.core.migrations import upgrade
from services.reporting import analytics, domain, mapping, store

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def events() -> list[domain.Event]:
    """Projects, then tasks with several versions each: reassignments, done on time and late
    (around the Shanghai day boundary), reopened, unassigned."""
    out = [
        domain.Event(
            f"p{i}:created", "project.created", f"p{i}", T0, payload={"name": f"项目{i}", "department_id": "d1"}
        )
        for i in (1, 2)
    ]
    rnd = random.Random(5)
    for k in range(24):
        pid, tid = f"p{1 + k % 2}", f"t{k}"
        due = (T0 + timedelta(days=k % 7)).date()
        versions: list[dict[str, Any]] = [
            {"assignee_id": f"a{k % 4}", "status": "todo", "due": due.isoformat(), "estimate_hours": 8},
            {"assignee_id": f"a{(k + 1) % 4}" if k % 3 == 0 else f"a{k % 4}", "status": "in_progress"},
        ]
        if k % 2 == 0:
            # 15:30 UTC is 23:30 in Shanghai on the due day (on time); 16:30 UTC is the next day (late).
            hour = 15 if k % 4 == 0 else 16
            done_at = datetime.combine(due, datetime.min.time(), UTC) + timedelta(hours=hour, minutes=30)
            versions.append({"status": "done", "done_at": done_at.isoformat()})
        if k % 6 == 0:
            versions.append({"status": "in_progress", "assignee_id": ""})  # reopened, unassigned
        if k % 5 == 0:
            versions.append({"assignee_id": f"a{rnd.randrange(4)}"})
        whole: dict[str, Any] = {}
        for v, change in enumerate(versions):
            # Task events carry the whole task (README), so the newest one alone decides its state.
            whole = payload = {**whole, **change}
            type_ = "task.created" if v == 0 else "task.updated"
            at = T0 + timedelta(hours=k, minutes=v)
            out.append(
                domain.Event(f"{tid}:{v}", type_, pid, at, payload={"task_id": tid, "project_id": pid, **payload})
            )
    return out


def ingest(engine: sa.Engine, e: domain.Event) -> bool:
    """Ingest an event written as its kind's values (as the event log keeps them)."""
    typed, fact = mapping.stored_event(e)
    assert fact is not None
    return store.ingest(engine, event=typed, fact=fact, now=T0)


def utc(value: Any) -> datetime | None:
    if value is None:
        return None
    return domain.as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def summary(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(store.T_ASSIGNEE).where(store.T_ASSIGNEE.c.tasks > 0))
        return {r.assignee_id: (r.tasks, r.done, r.on_time, utc(r.first_done_at), utc(r.last_done_at)) for r in rows}


def from_scratch(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    """The same figures computed in Python from task_view (no SQL aggregates)."""
    acc: dict[str, list[Any]] = {}
    with engine.connect() as conn:
        for t in conn.execute(sa.select(store.T_TASK)):
            a = acc.setdefault(t.assignee_id, [0, 0, 0, None, None])
            done_at = utc(t.done_at)
            a[0] += 1
            if t.status == "done":
                a[1] += 1
                if t.due is not None and done_at is not None and done_at.astimezone(SHANGHAI).date() <= t.due:
                    a[2] += 1
            if done_at is not None:
                a[3] = done_at if a[3] is None else min(a[3], done_at)
                a[4] = done_at if a[4] is None else max(a[4], done_at)
    return {k: tuple(v) for k, v in acc.items()}


def productivity(engine: sa.Engine, scope: store.Scope) -> analytics.Table:
    return analytics.run(engine, report="productivity", group_by="assignee_id", scope=scope, now=T0 + timedelta(days=3))


def test_summaries_equal_a_from_scratch_computation(make_db_url: Callable[[str], str]) -> None:
    url = make_db_url("reporting")
    upgrade("reporting", url)
    engine = make_engine(url)
    try:
        evs = events()
        shuffled = evs[:2] + random.Random(11).sample(evs[2:], len(evs) - 2)
        applied = [ingest(engine, e) for e in shuffled]
        # Redelivery (at-least-once): every task event again, in another order; nothing changes.
        applied += [ingest(engine, e) for e in reversed(shuffled[2:])]
        assert applied.count(True) == len(evs)
        expected = from_scratch(engine)
        assert {"a0", "a1", "a2", "a3", ""} <= set(expected)
        assert any(v[2] for v in expected.values()) and any(v[1] > v[2] for v in expected.values())
        assert summary(engine) == expected
        # The report read from the summary equals the one computed over the tasks (restricted scope).
        whole = productivity(engine, store.Scope(all_projects=True))
        restricted = productivity(engine, store.Scope(all_projects=False, project_ids=("p1", "p2")))
        assert whole == restricted and len(whole.rows) == len(expected)

        # In-order ingestion into a fresh database gives the same summary (order does not matter).
        url2 = make_db_url("reporting")
        upgrade("reporting", url2)
        engine2 = make_engine(url2)
        try:
            for e in sorted(evs, key=lambda e: e.at or T0):
                ingest(engine2, e)
            assert summary(engine2) == expected
        finally:
            engine2.dispose()

        # A rebuild recomputes the summary from the event log, even when its rows were lost.
        with engine.begin() as conn:
            conn.execute(store.T_ASSIGNEE.delete())
            conn.execute(store.T_ASSIGNEE.insert().values(assignee_id="ghost", tasks=3, done=1, on_time=1))
        store.rebuild(engine, projects=[], now=T0, read=mapping.stored_event)
        assert summary(engine) == from_scratch(engine) == expected
        assert productivity(engine, store.Scope(all_projects=True)) == whole
    finally:
        engine.dispose()
