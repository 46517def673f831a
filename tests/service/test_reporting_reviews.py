"""Closing reviews (复盘) in reporting over a real gRPC channel: project.reviewed folded (latest by
event time wins), cost vs budget and schedule vs baseline computed from the read models, delay
reasons summarised, lessons search scoped to the given projects, outcome / lesson analytics, and a
rebuild that reproduces all of it from the event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_reporting_analytics import event, project, task
from tests.service.test_reporting_service import ingest

T0 = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)


@pytest.fixture()
def stub(start_service: StartService) -> pb_grpc.ReportingServiceStub:
    return pb_grpc.ReportingServiceStub(start_service("reporting").channel)


def review(stub: pb_grpc.ReportingServiceStub, pid: str, at: datetime, eid: str = "", **values: Any) -> bool:
    return ingest(stub, event(eid or f"{pid}:review:{at.isoformat()}", pid, at, "project.reviewed", **values))


def cost(stub: pb_grpc.ReportingServiceStub, pid: str, cid: str, amount: str) -> None:
    ingest(stub, event(f"cost:{cid}", pid, T0, "cost.recorded", cost_id=cid, amount=amount, kind="人工"))


def seed(stub: pb_grpc.ReportingServiceStub) -> None:
    project(stub, "p1", amount="100000.00", business_line="IoT")
    project(stub, "p2", amount="50000.00", business_line="ERP")
    project(stub, "p3", amount="80000.00", business_line="IoT")
    done = (T0 + timedelta(days=20)).isoformat()
    task(stub, "p1", "t1", at=T0, status="done", baseline_finish="2026-09-10", due="2026-09-10", done_at=done,
         delay_reason="客户原因")
    task(stub, "p1", "t2", at=T0, status="done", baseline_finish="2026-09-15", due="2026-09-15",
         done_at=(T0 + timedelta(days=10)).isoformat())
    task(stub, "p2", "t3", at=T0, status="done", baseline_finish="2026-09-05", due="2026-09-05", done_at=done)
    cost(stub, "p1", "c1", "60000.00")
    cost(stub, "p1", "c2", "55000.50")
    cost(stub, "p2", "c3", "20000.00")
    review(stub, "p1", T0 + timedelta(days=30), outcome="delivered", reason="按期验收",
           lessons="需求冻结要早，接口联调要留余量", tags=["需求", "联调"])
    review(stub, "p2", T0 + timedelta(days=30), outcome="lost", reason="价格", lessons="报价过高", tags=["报价"])
    review(stub, "p3", T0 + timedelta(days=30), outcome="won", lessons="", tags=["需求"])


def test_review_facts_are_computed_from_the_read_models(stub: pb_grpc.ReportingServiceStub) -> None:
    seed(stub)
    r = stub.GetReview(pb.GetReviewRequest(project_id="p1"), timeout=10).review
    assert (r.outcome, r.reason, list(r.tags)) == ("delivered", "按期验收", ["需求", "联调"])
    assert (r.budget, r.cost, r.cost_variance) == ("100000.00", "115000.50", "15000.50")
    assert r.cost_ratio == pytest.approx(1.1500050)
    assert (r.baseline_finish, r.actual_finish, r.slip_days) == ("2026-09-15", "2026-09-21", 6)
    assert [(x.reason, x.tasks) for x in r.delay_reasons] == [("客户原因", 1)]
    assert [(t.task_id, t.slip_days) for t in r.late_tasks] == [("t1", 11)]
    assert r.delay_summary_generated and "客户原因（1）" in r.delay_summary
    # p2's late task has no stated reason: the summary names the task.
    r2 = stub.GetReview(pb.GetReviewRequest(project_id="p2"), timeout=10).review
    assert "任务t3" in r2.delay_summary and r2.delay_summary.startswith("延期任务 1 个")
    with pytest.raises(grpc.RpcError) as err:
        stub.GetReview(pb.GetReviewRequest(project_id="nope"), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_latest_review_wins_and_a_late_older_one_changes_nothing(stub: pb_grpc.ReportingServiceStub) -> None:
    project(stub, "p1")
    review(stub, "p1", T0 + timedelta(days=2), outcome="won", lessons="新的", delay_summary="人写的总结")
    review(stub, "p1", T0 + timedelta(days=1), outcome="lost", lessons="旧的")
    r = stub.GetReview(pb.GetReviewRequest(project_id="p1"), timeout=10).review
    assert (r.outcome, r.lessons, r.delay_summary, r.delay_summary_generated) == ("won", "新的", "人写的总结", False)


def test_review_values_are_checked(stub: pb_grpc.ReportingServiceStub) -> None:
    project(stub, "p1")
    with pytest.raises(grpc.RpcError) as err:
        review(stub, "p1", T0, outcome="maybe")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_lessons_search_is_scoped_and_filtered(stub: pb_grpc.ReportingServiceStub) -> None:
    seed(stub)

    def search(**kw: Any) -> pb.SearchLessonsResponse:
        kw.setdefault("all", True)
        return stub.SearchLessons(pb.SearchLessonsRequest(**kw), timeout=10)

    assert {x.project_id for x in search().items} == {"p1", "p2", "p3"}
    assert [x.project_id for x in search(q="联调").items] == ["p1"]
    assert {x.project_id for x in search(tag="需求").items} == {"p1", "p3"}
    assert [x.project_id for x in search(outcome="lost").items] == ["p2"]
    assert {x.project_id for x in search(business_line="IoT").items} == {"p1", "p3"}
    assert dict(search().tags) == {"需求": 2, "联调": 1, "报价": 1}
    # Not in the caller's projects: not found.
    scoped = search(all=False, project_ids=["p2"], q="联调")
    assert list(scoped.items) == []
    assert search(all=False, project_ids=[]).items == []
    withheld = search(all=False, project_ids=["p1"], business_line="IoT",
                      withheld=[pb.Withheld(project_id="p1", paths=["business_line"])])
    assert list(withheld.items) == []


def table(stub: pb_grpc.ReportingServiceStub, report: str, group_by: str = "") -> list[list[str]]:
    t = stub.Analytics(pb.AnalyticsRequest(report=report, group_by=group_by, all=True), timeout=10).table
    return [list(r.values) for r in t.rows]


def test_analytics_by_outcome_and_lessons_by_tag_survive_a_rebuild(stub: pb_grpc.ReportingServiceStub) -> None:
    seed(stub)
    outcomes = table(stub, "outcomes")
    assert sorted(outcomes) == sorted([
        ["已交付", "1", "100000.00", "115000.50", "115.0%", "1"],
        ["丢单", "1", "50000.00", "20000.00", "40.0%", "1"],
        ["赢单", "1", "80000.00", "0.00", "0.0%", "0"],
    ])
    by_line = {r[0]: r for r in table(stub, "outcomes", "business_line")}
    assert by_line["IoT"][1] == "2"
    assert table(stub, "lessons") == [["需求", "2", "66.7%"], ["报价", "1", "33.3%"], ["联调", "1", "33.3%"]]
    before = {k: table(stub, *k) for k in (("outcomes", ""), ("lessons", ""), ("lessons", "outcome"))}
    review_before = stub.GetReview(pb.GetReviewRequest(project_id="p1"), timeout=10).review
    stub.Rebuild(pb.RebuildRequest(), timeout=30)
    assert {k: table(stub, *k) for k in before} == before
    assert stub.GetReview(pb.GetReviewRequest(project_id="p1"), timeout=10).review == review_before
