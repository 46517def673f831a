"""``store.ingest_batch`` (IngestEvents) ends with exactly the rows of the same events ingested one
call at a time, every table and column compared: whatever the batch boundaries, with ids repeated
inside a batch and redelivered across batches, events older than the state (stale), a project's
end reaching reporting before its last step opens, reassigned tasks, costs and warnings. SQLite by
default, PostgreSQL with BAOBEI_TEST_PG_URL."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from baobei.core.db import make_engine
from baobei.core.migrations import upgrade
from services.reporting import domain, events, mapping, store

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=20)  # some tasks overdue by then: warnings are raised


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def facts(n: int, status: str, **more: Any) -> dict[str, Any]:
    return {"code": f"BB-{n}", "name": f"项目{n}", "status": status, "amount": f"{n}000.50", "owner_id": "rep",
            "department_id": "d1", "region": "华东", "business_line": "IoT", "form_key": "std",
            "conflict_count": 0, **more}


def feed() -> list[domain.Event]:
    """Three projects' lives as the relays ship them: registry and approval interleaved, late and
    repeated events, tasks and costs."""
    out: list[domain.Event] = []

    def add(event_id: str, type_: str, pid: str, minutes: int, actor: str = "rep", /, **values: Any) -> None:
        out.append(domain.Event(event_id, type_, pid, at(minutes), actor, values))

    # p1: created, submitted, two steps, approved before step 1's opening arrives, then active work.
    add("p1:c", "project.created", "p1", 0, **facts(1, "draft"))
    add("p1:s", "project.submitted", "p1", 1, **facts(1, "pending_approval"))
    add("p1:o0", "approval.step_opened", "p1", 2, instance_id="i1", step_index=0, step="经理", approvers=["m1"],
        opened_at=at(2).isoformat())
    add("p1:d0", "approval.decided", "p1", 3, "m1", instance_id="i1", step_index=0, step="经理", user_id="m1",
        action="approve", channel="web", at=at(3).isoformat())
    add("p1:a", "project.approved", "p1", 5, "m2", **facts(1, "active"))
    add("p1:o1", "approval.step_opened", "p1", 4, instance_id="i1", step_index=1, step="财务", approvers=["m2"],
        opened_at=at(4).isoformat())
    add("p1:d1", "approval.decided", "p1", 5, "m2", instance_id="i1", step_index=1, step="财务", user_id="m2",
        action="approve", channel="link", at=at(5).isoformat())
    for k in range(4):
        add(f"p1:t{k}", "task.created", "p1", 10 + k, task_id=f"t{k}", project_id="p1", name=f"任务{k}",
            assignee_id=f"dev{k % 2}", status="todo", start=T0.date().isoformat(),
            due=(T0 + timedelta(days=3 + k)).date().isoformat(), estimate_hours=8.0, progress=0.0)
    add("p1:t1u", "task.updated", "p1", 30, task_id="t1", project_id="p1", assignee_id="dev0", status="done",
        done_at=at(30).isoformat(), progress=1.0)
    add("p1:t2old", "task.updated", "p1", 5, task_id="t2", project_id="p1", status="blocked")  # stale
    add("p1:cost", "cost.recorded", "p1", 40, cost_id="c1", task_id="t0", project_id="p1", kind="差旅",
        amount="300.50", at=at(40).isoformat())
    add("p1:cost2", "cost.recorded", "p1", 41, cost_id="c2", project_id="p1", amount="99999.00")
    # p2: returned at step 0, edited, resubmitted, rejected at step 1, then cancelled.
    add("p2:c", "project.created", "p2", 6, **facts(2, "draft"))
    add("p2:s", "project.submitted", "p2", 7, **facts(2, "pending_approval"))
    add("p2:o0", "approval.step_opened", "p2", 8, instance_id="i2", step_index=0, step="经理", approvers=["m1", "m3"],
        opened_at=at(8).isoformat())
    add("p2:d0", "approval.decided", "p2", 9, "m1", instance_id="i2", step_index=0, step="经理", user_id="m1",
        action="return", channel="web", at=at(9).isoformat())
    add("p2:r", "project.returned", "p2", 9, "m1", **facts(2, "returned"))
    add("p2:e", "project.edited", "p2", 11, **facts(2, "returned", name="项目2改", amount="", conflict_count=2))
    add("p2:s2", "project.submitted", "p2", 12, **facts(2, "pending_approval", name="项目2改", amount=""))
    add("p2:o1", "approval.step_opened", "p2", 13, instance_id="i3", step_index=0, step="经理", approvers=["m1"],
        opened_at=at(13).isoformat())
    add("p2:d1", "approval.decided", "p2", 14, "m1", instance_id="i3", step_index=0, step="经理", user_id="m1",
        action="reject", channel="im", at=at(14).isoformat())
    add("p2:x", "project.rejected", "p2", 14, "m1", **facts(2, "rejected", name="项目2改", amount=""))
    add("p2:old", "project.edited", "p2", 10, **facts(2, "returned", name="旧名"))  # stale: older than the state
    add("p2:k", "project.cancelled", "p2", 15, **facts(2, "cancelled", name="项目2改", amount=""))
    # p3: only its later events arrive first (no creation yet), then the creation, closed and reviewed.
    add("p3:s", "project.submitted", "p3", 21, **facts(3, "pending_approval"))
    add("p3:c", "project.created", "p3", 20, **facts(3, "draft"))
    add("p3:a", "project.approved", "p3", 22, "m1", **facts(3, "active"))
    add("p3:t", "task.created", "p3", 23, task_id="t9", project_id="p3", assignee_id="dev1", status="in_progress",
        due=(T0 + timedelta(days=2)).date().isoformat(), estimate_hours=100.0, milestone=True)
    add("p3:z", "project.closed", "p3", 60, "m1", **facts(3, "closed", comment="验收", channel="web"))
    add("p3:rv", "project.reviewed", "p3", 61, outcome="delivered", reason="按期", lessons="早冻结", tags=["需求"],
        project_id="p3")
    add("p3:rv0", "project.reviewed", "p3", 59, outcome="lost", reason="旧的", project_id="p3")  # older: ignored
    return out


def typed(e: domain.Event) -> tuple[domain.Event, events.Fact]:
    event, fact = mapping.stored_event(e)
    assert fact is not None
    return event, fact


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(store.metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*order))]
    return out


@pytest.fixture()
def new_engine(make_db_url: Callable[[str], str]) -> Iterator[Callable[[], sa.Engine]]:
    engines: list[sa.Engine] = []

    def make() -> sa.Engine:
        url = make_db_url("reporting")
        upgrade("reporting", url)
        engines.append(make_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


def test_batches_end_as_the_events_one_by_one(new_engine: Callable[[], sa.Engine]) -> None:
    sent = [typed(e) for e in feed()]
    # Redeliveries: some events again, later on.
    redelivered = [*sent, sent[0], sent[4], sent[-3], sent[9]]

    one_by_one = new_engine()
    applied = [store.ingest(one_by_one, event=e, fact=f, now=NOW) for e, f in redelivered]
    assert applied == [True] * len(sent) + [False] * 4
    expected = snapshot(one_by_one)
    assert len(expected["event_log"]) == len(sent) and expected["warning"], "the feed raises warnings"
    [review] = expected["project_review"]
    assert "delivered" in review and "lost" not in review

    whole = new_engine()
    assert store.ingest_batch(whole, redelivered, now=NOW) == len(sent)
    assert snapshot(whole) == expected

    rnd = random.Random(15)
    for _ in range(2):
        chunked, total, i = new_engine(), 0, 0
        while i < len(redelivered):
            n = rnd.randint(1, 7)
            # An id repeated inside a batch counts once, the second time as a duplicate.
            chunk = redelivered[i : i + n] + ([redelivered[i]] if n % 3 == 0 else [])
            total += store.ingest_batch(chunked, chunk, now=NOW)
            i += n
        assert total == len(sent)
        assert snapshot(chunked) == expected
    # A batch of events all seen before changes nothing.
    assert store.ingest_batch(whole, sent[:10], now=NOW + timedelta(days=1)) == 0
    assert snapshot(whole) == expected
