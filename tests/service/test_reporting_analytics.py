"""Reporting over a real gRPC channel, fed the events of tasks, costs and approvals: portfolio
figures and filters, health, early warnings delivered once through a real notify service,
analytics tables, settings, validation, and rebuilding from the event log + registry snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from baobei import reporting_events
from baobei.core.grpc_client import channel, read_failure
from baobei.notify.v1 import notify_service_pb2 as notify_pb
from baobei.notify.v1 import notify_service_pb2_grpc as notify_grpc
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.reporting import health, store
from services.reporting.server import build
from tests.service.test_reporting_service import ingest

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
TODAY = health.today_of(datetime.now(UTC))


@pytest.fixture()
def env(make_db_url: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    notify_server, notify_port = __import__("services.notify.server", fromlist=["build"]).build(
        db_url=make_db_url("notify"), port=0
    )
    notify_server.start()
    db_url = make_db_url("reporting")
    server, port = build(db_url=db_url, port=0, notify_addr=f"127.0.0.1:{notify_port}")
    server.start()
    ch, nch = channel(f"127.0.0.1:{port}"), channel(f"127.0.0.1:{notify_port}")
    try:
        yield {
            "stub": pb_grpc.ReportingServiceStub(ch),
            "notify": notify_grpc.NotifyServiceStub(nch),
            "db_url": db_url,
        }
    finally:
        ch.close()
        nch.close()
        server.stop(None).wait()
        notify_server.stop(None).wait()


def event(
    event_id: str, project_id: str, when: datetime, type_: str = "project.submitted", /, **values: Any
) -> pb.Event:
    return reporting_events.build(
        event_id=event_id, event_type=type_, project_id=project_id, at=when, actor_id="u", values=values
    )


def stamp(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def project(stub: pb_grpc.ReportingServiceStub, pid: str, *, at: datetime = T0, **fields: Any) -> None:
    base = {
        "code": f"BB-{pid}",
        "name": f"项目{pid}",
        "status": "draft",
        "amount": "100000.00",
        "owner_id": "rep1",
        "department_id": "d1",
        "region": "华东",
        "business_line": "IoT",
    }
    assert ingest(stub, event(f"{pid}:created", pid, at, "project.created", **{**base, **fields}))


def task(stub: pb_grpc.ReportingServiceStub, pid: str, tid: str, *, at: datetime, eid: str = "", **fields: Any) -> bool:
    payload = {"task_id": tid, "project_id": pid, "name": f"任务{tid}", "status": "todo", **fields}
    return ingest(stub, event(eid or f"{tid}:{at.isoformat()}", pid, at, "task.updated", **payload))


def d(days: int) -> str:
    return (TODAY + timedelta(days)).isoformat()


def seed(stub: pb_grpc.ReportingServiceStub) -> None:
    """p1: approved after two steps, late work and high cost; p2: waiting for approval."""
    project(stub, "p1")
    ingest(stub, event("p1:sub", "p1", T0 + timedelta(hours=1), "project.submitted", status="pending_approval"))
    ingest(
        stub,
        event(
            "p1:o0",
            "p1",
            T0 + timedelta(hours=1),
            "approval.step_opened",
            instance_id="i1",
            step_index=0,
            step="经理审批",
            approvers=["boss"],
            opened_at=(T0 + timedelta(hours=1)).isoformat(),
        ),
    )
    ingest(
        stub,
        event(
            "p1:d0",
            "p1",
            T0 + timedelta(hours=5),
            "approval.decided",
            instance_id="i1",
            step_index=0,
            step="经理审批",
            user_id="boss",
            action="approve",
            at=(T0 + timedelta(hours=5)).isoformat(),
            channel="api",
        ),
    )
    ingest(
        stub,
        event(
            "p1:o1",
            "p1",
            T0 + timedelta(hours=5),
            "approval.step_opened",
            instance_id="i1",
            step_index=1,
            step="财务审批",
            approvers=["fin"],
        ),
    )
    ingest(
        stub,
        event(
            "p1:d1",
            "p1",
            T0 + timedelta(hours=29),
            "approval.decided",
            instance_id="i1",
            step_index=1,
            step="财务审批",
            user_id="fin",
            action="approve",
        ),
    )
    ingest(stub, event("p1:ok", "p1", T0 + timedelta(hours=29), "project.approved", status="active"))
    project(
        stub,
        "p2",
        department_id="d2",
        region="华南",
        business_line="数据",
        amount="50000.00",
        owner_id="rep2",
        conflict_count=1,
    )
    ingest(stub, event("p2:sub", "p2", T0 + timedelta(hours=2), "project.submitted", status="pending_approval"))
    ingest(
        stub,
        event(
            "p2:o0",
            "p2",
            T0 + timedelta(hours=2),
            "approval.step_opened",
            instance_id="i2",
            step_index=0,
            step="经理审批",
            approvers=["boss"],
        ),
    )
    now = datetime.now(UTC)
    # t1 runs from 3 days ago to 3 days ahead with 0% done; t2 was due yesterday (overdue).
    task(stub, "p1", "t1", at=now, start=d(-3), due=d(3), estimate_hours=16, assignee_id="a1", progress=0)
    task(
        stub,
        "p1",
        "t2",
        at=now,
        start=d(-4),
        due=d(-1),
        estimate_hours=8,
        assignee_id="a2",
        progress=10,
        delay_reason="客户延迟提供资料",
    )
    # a1 also carries 50 h today: over a 40 h week.
    task(stub, "p1", "t3", at=now, start=d(0), due=d(0), estimate_hours=50, assignee_id="a1")
    # A done task, finished on time, and one done late.
    task(
        stub,
        "p1",
        "t4",
        at=now,
        status="done",
        due=d(-2),
        estimate_hours=4,
        assignee_id="a2",
        done_at=(now - timedelta(days=3)).isoformat(),
    )
    task(
        stub,
        "p1",
        "t5",
        at=now,
        status="done",
        due=d(-6),
        estimate_hours=4,
        assignee_id="a2",
        done_at=(now - timedelta(days=2)).isoformat(),
        delay_reason="客户延迟提供资料",
    )
    assert ingest(
        stub,
        event(
            "c1",
            "p1",
            now,
            "cost.recorded",
            cost_id="c1",
            project_id="p1",
            kind="人工",
            amount="20000.00",
            at=now.isoformat(),
        ),
    )


def test_portfolio_figures_and_filters(env: dict[str, Any]) -> None:
    stub = env["stub"]
    seed(stub)
    now = datetime.now(UTC)
    p = stub.Portfolio(pb.PortfolioRequest(all=True, now=stamp(now)), timeout=10)
    assert dict(p.by_status) == {"active": 1, "pending_approval": 1}
    assert (p.total_amount, p.contracted_amount, p.project_count) == ("150000.00", "100000.00", 2)
    assert (p.active_tasks, p.overdue_tasks) == (3, 1)
    assert p.approvals_waiting == 1  # p2's open step; p1's steps were closed by its approval
    assert p.approvals_waiting_max_hours >= (now - T0).total_seconds() / 3600 - 3
    by_id = {x.id: x for x in p.projects}
    p1 = by_id["p1"]
    assert p1.health == "red" and p1.overdue_tasks == 1 and p1.open_tasks == 3
    assert 0 < p1.spi < 0.85 and 0 < p1.cpi < 0.85
    assert any("进度偏差" in r for r in p1.reasons) and any("成本偏差" in r for r in p1.reasons)
    assert any("逾期任务 1 个" in r for r in p1.reasons)
    assert p1.actual_cost == "20000.00" and p1.region == "华东"
    assert by_id["p2"].health == "green" and list(by_id["p2"].reasons) == []
    assert dict(p.by_health) == {"red": 1, "green": 1}

    # Filters: by department, region, status, owner, period; a page of projects with full totals.
    def filtered(**kw: Any) -> pb.PortfolioResponse:
        return stub.Portfolio(pb.PortfolioRequest(all=True, filters=pb.Filters(**kw)), timeout=10)

    assert [x.id for x in filtered(department_id="d2").projects] == ["p2"]
    assert filtered(region="华东").total_amount == "100000.00"
    assert filtered(status="pending_approval").approvals_waiting == 1
    assert filtered(owner_id="rep1").overdue_tasks == 1 and filtered(owner_id="rep2").overdue_tasks == 0
    assert filtered(period_from=stamp(T0 + timedelta(days=1))).project_count == 0
    assert filtered(period_from=stamp(T0), period_to=stamp(T0 + timedelta(days=1))).project_count == 2
    page = stub.Portfolio(pb.PortfolioRequest(all=True, limit=1), timeout=10)
    assert len(page.projects) == 1 and page.project_count == 2
    # Visibility: only the ids passed in count.
    only = stub.Portfolio(pb.PortfolioRequest(project_ids=["p2"]), timeout=10)
    assert (only.total_amount, only.overdue_tasks, [x.id for x in only.projects]) == ("50000.00", 0, ["p2"])


def test_project_report_has_burndown_and_tasks(env: dict[str, Any]) -> None:
    stub = env["stub"]
    seed(stub)
    r = stub.ProjectReport(pb.ProjectReportRequest(project_id="p1"), timeout=10)
    assert r.health.id == "p1" and r.health.health == "red"
    assert [c.label for c in r.tasks.columns][:3] == ["任务", "负责人", "状态"]
    assert len(r.tasks.rows) == 5
    assert r.burndown and r.burndown[0].remaining_hours == pytest.approx(16 + 8 + 50 + 4 + 4)
    assert r.burndown[-1].remaining_hours == pytest.approx(16 + 8 + 50)  # t4, t5 done
    with pytest.raises(grpc.RpcError) as err:
        stub.ProjectReport(pb.ProjectReportRequest(project_id="nope"), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def inbox(env: dict[str, Any], user: str) -> list[notify_pb.Notification]:
    resp = env["notify"].ListInbox(notify_pb.ListInboxRequest(user_id=user, limit=100), timeout=10)
    return [n for n in resp.items if n.kind == "early_warning"]


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_early_warnings_are_raised_and_notified_once(env: dict[str, Any]) -> None:
    stub = env["stub"]
    seed(stub)
    keys = {w.key: w for w in stub.ListWarnings(pb.ListWarningsRequest(all=True), timeout=10).warnings}
    week = health.iso_week(TODAY)
    assert {"schedule:p1", "cost:p1", f"overload:a1:{week}"} <= set(keys)
    assert keys["schedule:p1"].kind == "schedule_deviation" and list(keys["schedule:p1"].recipient_ids) == ["rep1"]
    assert keys[f"overload:a1:{week}"].kind == "over_capacity" and "超过每周产能" in keys[f"overload:a1:{week}"].body
    # Delivered through notify by the outbox dispatcher …
    wait_for(lambda: len(inbox(env, "rep1")) == 2 and len(inbox(env, "a1")) == 1)
    assert {n.title for n in inbox(env, "rep1")} == {"进度预警：BB-p1 项目p1", "成本预警：BB-p1 项目p1"}
    # … once: re-evaluating, redelivering an event and another event that keeps the condition change nothing.
    stub.EvaluateWarnings(pb.EvaluateWarningsRequest(), timeout=10)
    now = datetime.now(UTC)
    assert not ingest(stub, event("c1", "p1", now, "cost.recorded", cost_id="c1", amount="20000.00"))
    ingest(stub, event("c2", "p1", now, "cost.recorded", cost_id="c2", kind="差旅", amount="100.00"))
    time.sleep(1.2)  # two dispatcher rounds
    assert len(inbox(env, "rep1")) == 2 and len(inbox(env, "a1")) == 1
    assert all(w.HasField("notified_at") for w in stub.ListWarnings(pb.ListWarningsRequest(all=True)).warnings)
    # Visibility of the list: by project ids, and a person sees their own load warnings.
    assert {w.key for w in stub.ListWarnings(pb.ListWarningsRequest(project_ids=["p2"])).warnings} == set()
    assert [w.key for w in stub.ListWarnings(pb.ListWarningsRequest(user_id="a1")).warnings] == [f"overload:a1:{week}"]
    # The condition clears when the work is done; the warning stays in history (include_cleared).
    for tid in ("t1", "t3"):
        task(
            stub, "p1", tid, at=now + timedelta(seconds=1), status="done", assignee_id="a1", due=d(0), estimate_hours=16
        )
    assert f"overload:a1:{week}" not in {w.key for w in stub.ListWarnings(pb.ListWarningsRequest(all=True)).warnings}
    history = stub.ListWarnings(pb.ListWarningsRequest(all=True, include_cleared=True)).warnings
    assert any(w.key == f"overload:a1:{week}" and w.HasField("cleared_at") for w in history)


def table(stub: pb_grpc.ReportingServiceStub, report: str, group_by: str = "", **kw: Any) -> dict[str, dict[str, str]]:
    t = stub.Analytics(pb.AnalyticsRequest(report=report, group_by=group_by, all=True, **kw), timeout=10).table
    keys = [c.key for c in t.columns]
    return {
        r.values[0] if report != "delay_reasons" else r.values[1]: dict(zip(keys, r.values, strict=True))
        for r in t.rows
    }


def test_analytics_tables(env: dict[str, Any]) -> None:
    stub = env["stub"]
    seed(stub)
    cycle = table(stub, "cycle_times", "business_line")
    assert cycle["IoT"]["projects"] == "1" and cycle["IoT"]["登记→审批_avg"] == "1.2"  # 29 h
    assert cycle["数据"]["登记→审批_avg"] == ""
    assert set(table(stub, "cycle_times", "period")) == {"2026-11"}
    steps = table(stub, "approval_steps")
    assert steps["经理审批"]["decided"] == "1" and steps["经理审批"]["avg"] == "4.0"
    assert steps["经理审批"]["waiting"] == "1"  # p2's
    assert steps["财务审批"]["avg"] == "24.0"
    approvers = table(stub, "approvers")
    assert list(approvers) == ["fin", "boss"]  # slowest first
    assert approvers["fin"]["avg"] == "24.0" and approvers["boss"]["decisions"] == "1"
    cost = table(stub, "cost_distribution")
    assert cost["IoT"]["total"] == "20000.00" and cost["IoT"]["share"] == "100.0%"
    prod = table(stub, "productivity")
    assert prod["a2"]["done"] == "2" and prod["a2"]["on_time"] == "1" and prod["a2"]["on_time_rate"] == "50.0%"
    assert prod["a2"]["overdue"] == "1"
    team = table(stub, "productivity", "department_id")
    assert team["d1"]["tasks"] == "5"
    reasons = table(stub, "delay_reasons")
    assert reasons["客户延迟提供资料"]["tasks"] == "2" and reasons["客户延迟提供资料"]["rank"] == "1"
    conv = table(stub, "conversion", "region")
    assert conv["华东"]["approved"] == "1" and conv["华东"]["conversion"] == "100.0%"
    assert conv["华南"]["collision_rate"] == "100.0%" and conv["华南"]["approved"] == "0"
    # Scope: only the given projects.
    only = stub.Analytics(pb.AnalyticsRequest(report="conversion", project_ids=["p2"]), timeout=10).table
    assert [r.values[0] for r in only.rows] == ["数据"]
    with pytest.raises(grpc.RpcError) as err:
        stub.Analytics(pb.AnalyticsRequest(report="nope", all=True), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        stub.Analytics(pb.AnalyticsRequest(report="approvers", group_by="region", all=True), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_bad_events_are_refused_with_paths_and_change_nothing(env: dict[str, Any]) -> None:
    stub = env["stub"]
    project(stub, "p1")
    bad = event(
        "bad1",
        "p1",
        T0,
        "task.updated",
        task_id="t1",
        project_id="other",
        status="later",
        due="tomorrow",
        estimate_hours=-1,
    )
    with pytest.raises(grpc.RpcError) as err:
        ingest(stub, bad)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in read_failure(err.value).violations] == [
        f"event.task_updated.{k}" for k in ("project_id", "status", "due", "estimate_hours")
    ]
    with pytest.raises(grpc.RpcError):
        ingest(stub, event("bad2", "p1", T0, "cost.recorded", cost_id="c1", amount="1.005"))
    assert stub.Portfolio(pb.PortfolioRequest(all=True)).active_tasks == 0
    # The same event id, corrected, applies: the refused one left no trace.
    assert task(stub, "p1", "t1", at=T0, eid="bad1", due="2026-11-03")
    assert stub.Portfolio(pb.PortfolioRequest(all=True)).active_tasks == 1


def test_out_of_order_task_events_keep_the_newest(env: dict[str, Any]) -> None:
    stub = env["stub"]
    task(stub, "p1", "t1", at=T0 + timedelta(hours=2), status="done", eid="new")
    task(stub, "p1", "t1", at=T0, status="todo", eid="old")
    assert stub.Portfolio(pb.PortfolioRequest(all=True)).active_tasks == 0


def test_settings_change_health(env: dict[str, Any]) -> None:
    stub = env["stub"]
    seed(stub)
    default = stub.GetHealthSettings(pb.GetHealthSettingsRequest()).settings
    assert (default.spi_red, default.hour_rate, default.weekly_capacity_hours) == (0.85, "300.00", 40.0)
    with pytest.raises(grpc.RpcError) as err:
        stub.SetHealthSettings(pb.SetHealthSettingsRequest(settings=pb.HealthSettings(spi_red=2.0, hour_rate="x")))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Lenient thresholds and an hour rate that covers the cost: p1 is amber only for its overdue task.
    saved = stub.SetHealthSettings(
        pb.SetHealthSettingsRequest(
            settings=pb.HealthSettings(spi_amber=0.01, spi_red=0.001, cpi_amber=0.01, cpi_red=0.001, hour_rate="5000")
        )
    ).settings
    assert saved.hour_rate == "5000" and saved.overdue_red == 3  # untouched values kept
    p1 = next(x for x in stub.Portfolio(pb.PortfolioRequest(all=True)).projects if x.id == "p1")
    assert p1.health == "amber" and list(p1.reasons) == ["逾期任务 1 个"]


def test_rebuild_recomputes_from_event_log_and_registry(env: dict[str, Any]) -> None:
    stub = env["stub"]
    seed(stub)
    ingest(stub, event("p1:f", "p1", T0, "project.submitted", name="项目p1"))
    before = stub.Portfolio(pb.PortfolioRequest(all=True), timeout=10)
    tables = {
        r: stub.Analytics(pb.AnalyticsRequest(report=r, project_ids=["p1", "p2"]), timeout=10).table
        for r in ("cycle_times", "approval_steps", "approvers", "conversion", "productivity", "delay_reasons")
    }
    # The registry says p1 is now closed and renamed; p3 exists there but no event ever reached us.
    snapshots = [
        pb.ProjectSnapshot(
            id="p1",
            facts=pb.ProjectFacts(
                code="BB-p1",
                name="项目一（改名）",
                status="closed",
                amount="100000.00",
                owner_id="rep1",
                department_id="d1",
                region="华东",
                business_line="IoT",
            ),
            created_at=stamp(T0),
            updated_at=stamp(datetime.now(UTC) + timedelta(seconds=5)),
        ),
        pb.ProjectSnapshot(
            id="p3",
            facts=pb.ProjectFacts(code="BB-p3", name="漏掉的项目", status="draft", amount="1.00"),
            created_at=stamp(T0),
            updated_at=stamp(T0),
        ),
    ]
    result = stub.Rebuild(pb.RebuildRequest(projects=snapshots), timeout=30)
    assert result.projects == 2 and result.tasks == 5 and result.events >= 15
    after = stub.Portfolio(pb.PortfolioRequest(all=True), timeout=10)
    assert dict(after.by_status) == {"closed": 1, "pending_approval": 1, "draft": 1}
    assert after.total_amount == "150001.00" and after.overdue_tasks == before.overdue_tasks
    assert next(x for x in after.projects if x.id == "p1").name == "项目一（改名）"
    for r, t in tables.items():
        again = stub.Analytics(pb.AnalyticsRequest(report=r, project_ids=["p1", "p2"]), timeout=10).table
        if r != "approval_steps":  # p1's open-step ages move with the clock
            assert again == t, r
    # Form field values never reach reporting's storage (they may be read-restricted).
    logged = store.event_log(store_engine(env), project_id="p1")
    assert all("fields" not in e["payload"] for e in logged)


def store_engine(env: dict[str, Any]) -> Any:
    from baobei.core.db import make_engine

    return make_engine(env["db_url"])
