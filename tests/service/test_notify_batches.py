"""notify's batch RPCs over real gRPC and a real database (SQLite, or PostgreSQL with
BAOBEI_TEST_PG_URL): CloseTasks and PublishEvents apply each item exactly as CloseTask and
PublishEvent would — in one call (counted by the server's own RPC metrics), idempotent on the
same request log keys as their single-item siblings (a redelivered batch applies nothing twice),
and an item the single RPC would refuse is reported with its fields while the others apply."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY

from baobei.core.grpc_client import metadata, read_failure
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_notify_delivery import Notify, rid
from tests.service.test_notify_personal import sent_card

SERVICE = "baobei.notify.v1.NotifyService"
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]


def calls(method: str) -> float:
    """RPCs the notify servers of this process answered OK (baobei_grpc_server_handled_total)."""
    labels = {"grpc_service": SERVICE, "grpc_method": method, "grpc_code": "OK"}
    return REGISTRY.get_sample_value("baobei_grpc_server_handled_total", labels) or 0.0


class Calls:
    """How many calls of each method since it was made."""

    def __init__(self, *methods: str) -> None:
        self.before = {m: calls(m) for m in methods}

    def __call__(self) -> dict[str, float]:
        return {m: calls(m) - b for m, b in self.before.items()}


def fail_inserts(n: Notify, table: str, **where: str) -> Callable[[], None]:
    """A database failure in notify of the writes of one item (a trigger refusing the ``table``
    rows whose column has the value given); returns what removes it."""
    [(column, value)] = where.items()
    if n.db_url.startswith("sqlite"):
        n.execute(f"CREATE TRIGGER boom BEFORE INSERT ON {table} WHEN NEW.{column} = '{value}'"
                  " BEGIN SELECT RAISE(ABORT, 'boom'); END")
        return lambda: n.execute("DROP TRIGGER boom")
    n.execute(f"CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.{column} = '{value}' THEN"
              " RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
    n.execute(f"CREATE TRIGGER boom BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION boom()")
    return lambda: n.execute(f"DROP TRIGGER boom ON {table}")


@pytest.fixture()
def n(start_service: StartService) -> Notify:
    svc = start_service("notify", registry_addr="", redis_url="", settings=Settings(webhook_allow_internal=True))
    return Notify(pb_grpc.NotifyServiceStub(svc.channel), svc.db_url, addr=svc.addr)


def close_item(task_id: str, outcome: str = "approved", request_id: str = "", **kw: Any) -> pb.CloseTaskRequest:
    return pb.CloseTaskRequest(request_id=request_id or rid(), task_id=task_id, project_id="p-1", outcome=outcome,
                               actor_id="lisi", actor_name=kw.pop("actor", "李四"), **kw)


def close_tasks(n: Notify, *items: pb.CloseTaskRequest, locale: str = "zh") -> list[pb.CloseTaskResult]:
    resp = n.stub.CloseTasks(pb.CloseTasksRequest(items=items), timeout=10, metadata=metadata(locale=locale))
    return list(resp.results)


def deliveries(n: Notify) -> int:
    return int(n.rows("SELECT count(*) FROM delivery")[0][0])


def test_close_tasks_applies_each_item_once_in_one_call(n: Notify) -> None:
    a, b = sent_card(n, "t-1", recipient="alice"), sent_card(n, "t-1", recipient="bob")
    c = sent_card(n, "t-2", recipient="carol")
    sent_card(n, "t-4", recipient="dave")
    # One close of the batch was sent alone first (a relay of the older code, or a retry).
    alone = n.stub.CloseTask(close_item("t-4", "withdrawn", request_id="close-4", actor=""), timeout=10)
    items = [close_item("t-1"), close_item("t-2", "rejected", actor="王五"), close_item("t-3", "transferred", actor=""),
             close_item("t-4", "withdrawn", request_id="close-4", actor="")]
    counted = Calls("CloseTasks", "CloseTask")
    first = close_tasks(n, *items)
    assert counted() == {"CloseTasks": 1, "CloseTask": 0}
    assert [r.request_id for r in first] == [i.request_id for i in items]
    assert [r.WhichOneof("result") for r in first] == ["response"] * 4
    assert [r.response.status for r in first] == ["已同意 · 李四", "已驳回 · 王五", "已转交他人", "申请人已撤回"]
    assert [sorted(d.recipient_id for d in r.response.deliveries) for r in first] == [["alice", "bob"], ["carol"], [],
                                                                                     ["dave"]]
    assert first[3].response == alone  # answered from the request log: applied once
    assert deliveries(n) == 4
    closed = n.rows("SELECT id, outcome FROM im_message WHERE task_id IN ('t-1', 't-2')")
    assert {(r[0], r[1]) for r in closed} == {(a, "approved"), (b, "approved"), (c, "rejected")}
    # The batch again (a relay that crashed before acknowledging): the same answers, nothing new.
    assert close_tasks(n, *items) == first
    assert deliveries(n) == 4
    # Each item shares CloseTask's idempotency: a single call of a batch item answers the same.
    assert n.stub.CloseTask(items[0], timeout=10) == first[0].response
    assert deliveries(n) == 4


def test_close_tasks_reports_a_refused_item_and_applies_the_others(n: Notify) -> None:
    sent_card(n, "t-5", recipient="alice")
    sent_card(n, "t-6", recipient="bob")
    bad = pb.CloseTaskRequest(request_id=rid(), task_id="", outcome="maybe")
    items = [close_item("t-5"), bad, close_item("t-6", "cancelled", actor=""), close_item("t-7", request_id=" ")]
    results = close_tasks(n, *items, locale="en")
    assert [r.WhichOneof("result") for r in results] == ["response", "error", "response", "error"]
    assert [len(r.response.deliveries) for r in results] == [1, 0, 1, 0]
    # What CloseTask answers for the same request: INVALID_ARGUMENT naming the fields.
    with pytest.raises(grpc.RpcError) as single:
        n.stub.CloseTask(bad, timeout=10, metadata=metadata(locale="en"))
    refusal = read_failure(single.value)
    err = results[1].error
    assert (err.code, err.reason, err.message) == (INVALID_ARGUMENT, refusal.reason, refusal.message)
    assert [v.field for v in err.violations] == [v.field for v in refusal.violations] == ["task_id", "outcome"]
    assert (results[3].error.code, [v.field for v in results[3].error.violations]) == (INVALID_ARGUMENT,
                                                                                      ["request_id"])
    # Nothing of the refused items was written: two updates, no task row for them.
    assert deliveries(n) == 2
    assert sorted(r[0] for r in n.rows("SELECT task_id FROM im_task")) == ["t-5", "t-6"]
    assert n.rows("SELECT count(*) FROM processed_request") == [(2,)]


def test_a_batch_over_the_limit_is_refused_whole(n: Notify) -> None:
    items = [close_item(f"t-{i}") for i in range(501)]
    with pytest.raises(grpc.RpcError) as info:
        n.stub.CloseTasks(pb.CloseTasksRequest(items=items), timeout=10)
    f = read_failure(info.value)
    assert (f.code, [v.field for v in f.violations]) == (grpc.StatusCode.INVALID_ARGUMENT, ["items"])
    with pytest.raises(grpc.RpcError) as events:
        n.stub.PublishEvents(pb.PublishEventsRequest(items=[pb.PublishEventRequest(event_id=str(i), type="x.y")
                                                            for i in range(501)]), timeout=10)
    assert events.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert deliveries(n) == 0 and n.rows("SELECT count(*) FROM im_task") == [(0,)]
    assert list(n.stub.CloseTasks(pb.CloseTasksRequest(), timeout=10).results) == []


def test_concurrent_copies_of_a_batch_apply_it_once(n: Notify) -> None:
    """Two relays read the same rows and send the same batch at once (on PostgreSQL both may pass
    the lookup: the loser's batch rolls back and answers item by item from the winner's log)."""
    cards = {sent_card(n, f"t-r{i}", recipient=u) for i in range(5) for u in ("alice", "bob")}
    items = [close_item(f"t-r{i}", ("approved", "rejected")[i % 2]) for i in range(5)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: close_tasks(n, *items), range(4)))
    assert all(a == answers[0] for a in answers)
    assert all(r.WhichOneof("result") == "response" for r in answers[0])
    assert deliveries(n) == len(cards) == 10
    assert n.rows("SELECT count(*) FROM im_message WHERE state = 'closed'") == [(10,)]


# ---- PublishEvents --------------------------------------------------------------------------------


def subscribe(n: Notify, *events: str) -> None:
    n.stub.PutSubscription(pb.PutSubscriptionRequest(request_id=rid(), subscription=pb.Subscription(
        id="finance", url="http://127.0.0.1:9/hooks", events=list(events),
        secrets=["whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], enabled=True)), timeout=10)


def event(event_id: str, type_: str = "project.approved", project_id: str = "p-1") -> pb.PublishEventRequest:
    req = pb.PublishEventRequest(event_id=event_id, type=type_, project_id=project_id)
    req.data.update({"amount": "10.00"})
    return req


def publish(n: Notify, *items: pb.PublishEventRequest) -> list[pb.PublishEventResult]:
    return list(n.stub.PublishEvents(pb.PublishEventsRequest(items=items), timeout=10).results)


def test_publish_events_applies_each_item_once_in_one_call(n: Notify) -> None:
    subscribe(n, "project.approved", "cost.recorded")
    alone = n.stub.PublishEvent(event("e-0"), timeout=10)
    items = [event("e-1"), event("e-2", "cost.recorded"), event("e-3", "project.submitted"), event("e-0"),
             event("e-1")]
    counted = Calls("PublishEvents", "PublishEvent")
    first = publish(n, *items)
    assert counted() == {"PublishEvents": 1, "PublishEvent": 0}
    assert [r.event_id for r in first] == ["e-1", "e-2", "e-3", "e-0", "e-1"]
    assert [len(r.response.deliveries) for r in first] == [1, 1, 0, 1, 1]
    assert first[3].response == alone  # sent alone before: not published again
    assert first[4] == first[0]  # twice in one batch: published once
    hooks = n.rows("SELECT kind, target FROM delivery ORDER BY kind")
    assert hooks == [("cost.recorded", "finance"), ("project.approved", "finance"), ("project.approved", "finance")]
    assert publish(n, *items) == first  # redelivered: nothing new
    assert n.stub.PublishEvent(items[1], timeout=10) == first[1].response
    assert deliveries(n) == 3


def test_publish_events_reports_a_refused_item_and_applies_the_others(n: Notify) -> None:
    subscribe(n, "*")
    long_id = "x" * 191
    results = publish(n, event("e-1"), event("e-2", "Not A Type"), event(long_id), event("e-3", "cost.recorded"))
    assert [r.WhichOneof("result") for r in results] == ["response", "error", "error", "response"]
    assert [(r.error.code, r.error.reason, [v.field for v in r.error.violations]) for r in results[1:3]] == [
        (INVALID_ARGUMENT, "validation_failed", ["type"]), (INVALID_ARGUMENT, "validation_failed", ["event_id"])]
    assert sorted(r[0] for r in n.rows("SELECT kind FROM delivery")) == ["cost.recorded", "project.approved"]


def test_an_item_that_fails_this_time_is_reported_and_the_batch_again_applies_only_it(n: Notify) -> None:
    """A database failure of one item (here a trigger) rolls back the batch's transaction; notify
    runs each item on its own, reports that one as INTERNAL (send it again) and applies the others.
    The batch sent again publishes only what is missing."""
    subscribe(n, "*")
    restore = fail_inserts(n, "delivery", kind="cost.recorded")
    items = [event("e-1"), event("e-2", "cost.recorded"), event("e-3", "project.closed")]
    first = publish(n, *items)
    assert [r.WhichOneof("result") for r in first] == ["response", "error", "response"]
    assert (first[1].error.code, first[1].error.reason) == (grpc.StatusCode.INTERNAL.value[0], "internal")
    assert sorted(r[0] for r in n.rows("SELECT kind FROM delivery")) == ["project.approved", "project.closed"]
    restore()
    again = publish(n, *items)
    assert [r.WhichOneof("result") for r in again] == ["response"] * 3
    assert (again[0], again[2]) == (first[0], first[2])
    assert sorted(r[0] for r in n.rows("SELECT kind FROM delivery")) == [
        "cost.recorded", "project.approved", "project.closed"]
