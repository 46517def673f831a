"""Finance vouchers booked as costs over real gRPC: once per (source, voucher_id), per-row
answers, concurrent posts of the same voucher book it once, each booking reported as a cost."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import grpc
import pytest

from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_tasks_service import count


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("tasks")


@pytest.fixture()
def stub(db_url: str, start_service: StartService) -> pb_grpc.TasksServiceStub:
    return pb_grpc.TasksServiceStub(start_service("tasks", db_url=db_url).channel)


def voucher(row: int, vid: str, **kw: str) -> pb.Voucher:
    values = {"project_id": "p1", "amount": "100.00", "category": "差旅费", "occurred_on": "2026-03-05",
              "description": "差旅"} | kw
    return pb.Voucher(row=row, voucher_id=vid, **values)


def book(stub: pb_grpc.TasksServiceStub, *vouchers: pb.Voucher, source: str = "kd") -> list[pb.VoucherResult]:
    req = pb.ImportVouchersRequest(source=source, vouchers=vouchers, actor_id="integrator")
    return list(stub.ImportVouchers(req, timeout=10).results)


def test_once_per_voucher_with_row_answers(stub: pb_grpc.TasksServiceStub, db_url: str) -> None:
    got = book(stub, voucher(0, "V1"), voucher(1, "V2", amount="0.10"), voucher(2, "V3", amount="1.001"),
               voucher(3, "V4", occurred_on="2026-3-5"), voucher(4, "V5", currency="usd"), voucher(5, "V1"))
    assert [(r.row, r.status) for r in got] == [(0, "applied"), (1, "applied"), (2, "error"), (3, "error"),
                                                  (4, "error"), (5, "duplicate")]
    assert [(p.field, p.code) for p in got[2].problems] == [("amount", "invalid_voucher")]
    assert [p.field for p in got[3].problems] == ["occurred_on"] and [p.field for p in got[4].problems] == ["currency"]
    assert got[5].cost_id == got[0].cost_id
    costs = stub.GetCosts(pb.GetCostsRequest(project_id="p1", project_amount="1000"), timeout=10)
    assert costs.actual == "100.10" and dict(costs.by_kind) == {"finance": "100.10"}
    assert {c.note for c in costs.items} == {"凭证 V1｜差旅费：差旅", "凭证 V2｜差旅费：差旅"}
    # Same id, other content: a conflict, nothing changes; another source may reuse the id.
    again = book(stub, voucher(0, "V1", amount="200.00"), voucher(1, "V2", amount="0.10"))
    assert [(r.status, [p.code for p in r.problems]) for r in again] == [("error", ["voucher_conflict"]),
                                                                          ("duplicate", [])]
    assert book(stub, voucher(0, "V1"), source="yonyou")[0].status == "applied"
    assert count(db_url, "cost") == 3 and count(db_url, "cost_voucher") == 3
    # Each booking is reported as a cost (the execution loop forwards these events).
    req = pb.EvaluateRulesRequest(project_id="p1", owner_id="owner", project_amount="1000")
    req.now.FromDatetime(datetime(2026, 3, 6, tzinfo=UTC))
    events = [e for e in stub.EvaluateRules(req, timeout=10).events if e.kind == "cost.recorded"]
    assert len(events) == 3 and {e.payload["kind"] for e in events} == {"finance"}


def test_concurrent_posts_book_once(stub: pb_grpc.TasksServiceStub, db_url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: book(stub, voucher(0, "C1"))[0].status, range(8)))
    assert answers.count("applied") == 1 and set(answers) <= {"applied", "duplicate"}
    assert count(db_url, "cost") == 1


def test_bad_requests(stub: pb_grpc.TasksServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as info:
        book(stub, voucher(0, "X"), source="")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as info:
        book(stub, *[voucher(i, f"X{i}") for i in range(1001)])
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
