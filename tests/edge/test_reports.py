"""Reports over HTTP on the in-process stack: the portfolio over what the caller may see, with
filters; exports (CSV, XLSX) that carry no restricted form fields and no invisible projects; SVG
charts; per-project health and burndown; analytics; warnings; settings; rebuild; bad input → 422."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from baobei import reporting_events
from baobei.reporting.v1 import reporting_service_pb2 as pb
from tests.edge.conftest import Org, Stack, eventually
from tests.policies import no_approval_policy

pytestmark = pytest.mark.asyncio(loop_scope="session")
SECRET = "机密底价-987654"


async def secret_form(admin: httpx.AsyncClient, org: Org) -> str:
    """A form with a field only finance may read, and a no-approval policy (approved on submit)."""
    key = f"rform-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(
        f"/api/v1/forms/{key}",
        json={
            "title": "项目报备",
            "fields": [{"key": "floor_price", "label": "底价", "type": "text", "read_roles": ["finance"]}],
        },
    )
    assert r.status_code == 200, r.text
    r = await admin.put(**no_approval_policy(key))
    assert r.status_code == 200, r.text
    return key


async def create(client: httpx.AsyncClient, form: str, **over: Any) -> dict[str, Any]:
    body = {
        "form_key": form,
        "name": f"智慧园区{uuid.uuid4().hex[:4]}",
        "customer": {"name": f"杭州{uuid.uuid4().hex[:6]}科技有限公司"},
        "amount": "120000.00",
        "region": "华东",
        "business_line": "物联网",
        "fields": {"floor_price": SECRET},
        "submit": True,
    }
    body.update(over)
    r = await client.post("/api/v1/projects", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def ingest(stack: Stack, event_id: str, project_id: str, type_: str, /, **values: Any) -> None:
    event = reporting_events.build(
        event_id=event_id, event_type=type_, project_id=project_id, at=datetime.now(UTC), values=values
    )
    await stack.deps.stubs["reporting"].IngestEvent(pb.IngestEventRequest(event=event))


def shanghai_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def day(offset: int) -> str:
    return (shanghai_today() + timedelta(offset)).isoformat()


async def test_portfolio_visibility_filters_exports_and_charts(
    stack: Stack, admin: httpx.AsyncClient, org: Org
) -> None:
    form = await secret_form(admin, org)
    mine = await create(org["rep"], form)
    theirs = await create(org["outsider"], form, amount="5.00", region="华南")

    async def active() -> bool:
        r = await org["rep"].get("/api/v1/reports/portfolio")
        return r.status_code == 200 and r.json()["by_status"] == {"active": 1}

    await eventually(active, timeout=10)
    body = (await org["rep"].get("/api/v1/reports/portfolio")).json()
    assert [p["id"] for p in body["projects"]] == [mine["id"]]
    assert body["total_amount"] == "120000.00" and body["contracted_amount"] == "120000.00"
    assert body["approvals_waiting"] == {"count": 0, "avg_age_hours": 0.0, "max_age_hours": 0.0}
    assert body["projects"][0]["health"] == "green" and body["projects"][0]["code"] == mine["code"]
    # Admin sees both; filters narrow it.
    r = await admin.get("/api/v1/reports/portfolio", params={"region": "华南", "owner_id": org.user("outsider")})
    assert [p["id"] for p in r.json()["projects"]] == [theirs["id"]]
    # The registration day as reporting recorded it (the workflow's clock), not the test's own clock.
    registered = datetime.fromisoformat(body["projects"][0]["registered_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    reg_day, next_day = registered.date().isoformat(), (registered.date() + timedelta(1)).isoformat()
    r = await org["rep"].get("/api/v1/reports/portfolio", params={"from": reg_day, "to": reg_day, "status": "active"})
    assert r.json()["project_count"] == 1
    r = await org["rep"].get("/api/v1/reports/portfolio", params={"from": next_day})
    assert r.json()["project_count"] == 0

    # CSV: Chinese headers, my project only, never the restricted field's value.
    r = await org["rep"].get("/api/v1/reports/portfolio", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "名称", "状态", "金额（元）"]
    assert [row[0] for row in rows[1:]] == [mine["code"]] and rows[1][2] == "执行中"
    assert SECRET not in r.text and theirs["code"] not in r.text
    # XLSX: the same table.
    r = await org["rep"].get("/api/v1/reports/portfolio", params={"format": "xlsx"})
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0][0] == "编号" and [row[0] for row in cells[1:]] == [mine["code"]]
    assert SECRET not in str(cells)
    # SVG charts with Chinese labels.
    r = await org["rep"].get("/api/v1/reports/portfolio", params={"format": "svg"})
    assert r.headers["content-type"].startswith("image/svg+xml") and "项目状态分布" in r.text and "执行中" in r.text
    r = await org["rep"].get("/api/v1/reports/portfolio", params={"format": "svg", "chart": "health"})
    assert "项目健康度" in r.text and "正常" in r.text


async def test_project_health_burndown_warnings(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    form = await secret_form(admin, org)
    p = await create(org["rep"], form)
    pid, rep = p["id"], org.user("rep")
    await ingest(
        stack,
        f"{pid}:t1",
        pid,
        "task.created",
        task_id=f"{pid}-t1",
        project_id=pid,
        name="需求调研",
        assignee_id=rep,
        status="in_progress",
        start=day(-10),
        due=day(-2),
        estimate_hours=16,
        progress=20,
        milestone=True,
        baseline_finish=day(-5),
        delay_reason="客户未确认需求",
    )
    await ingest(
        stack,
        f"{pid}:t2",
        pid,
        "task.created",
        task_id=f"{pid}-t2",
        project_id=pid,
        name="方案设计",
        assignee_id=rep,
        status="todo",
        start=day(-1),
        due=day(5),
        estimate_hours=24,
    )
    await ingest(
        stack, f"{pid}:c1", pid, "cost.recorded", cost_id=f"{pid}-c1", project_id=pid, kind="人工", amount="50000.00"
    )
    # The read model learns of the project from the lifecycle's project.created event (async).
    async def reported() -> httpx.Response | None:
        got = await org["rep"].get(f"/api/v1/reports/projects/{pid}")
        return got if got.status_code == 200 else None

    r = await eventually(reported, timeout=20)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["project"]["health"] == "red" and body["project"]["overdue_tasks"] == 1
    assert body["project"]["milestone_slip_days"] >= 3
    assert any("里程碑延误" in x for x in body["project"]["reasons"])
    assert [t["name"] for t in body["tasks"]["rows"]] == ["需求调研", "方案设计"]
    assert body["burndown"][0]["remaining_hours"] == 40
    r = await org["rep"].get(f"/api/v1/reports/projects/{pid}", params={"format": "svg"})
    assert "燃尽图" in r.text and "理想燃尽" in r.text
    r = await org["rep"].get(f"/api/v1/reports/projects/{pid}", params={"format": "csv"})
    assert "需求调研" in r.content.decode("utf-8-sig") and SECRET not in r.text
    # Invisible to someone else → 404, like the project itself.
    assert (await org["outsider"].get(f"/api/v1/reports/projects/{pid}")).status_code == 404
    # Warnings: the owner sees them; the outsider does not.
    warnings = (await org["rep"].get("/api/v1/reports/warnings")).json()["items"]
    kinds = {w["kind"] for w in warnings if w["project_id"] == pid}
    assert {"schedule_deviation", "cost_overrun"} <= kinds
    outsider = (await org["outsider"].get("/api/v1/reports/warnings")).json()["items"]
    assert all(w["project_id"] != pid for w in outsider)
    r = await org["rep"].get("/api/v1/reports/warnings", params={"format": "csv"})
    assert "进度偏差" in r.content.decode("utf-8-sig")


async def test_analytics_exports_charts_and_bad_input(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    form = await secret_form(admin, org)
    await create(org["rep"], form, region="西南")

    async def approved() -> Any:
        r = await org["rep"].get("/api/v1/reports/analytics/conversion", params={"group_by": "region"})
        assert r.status_code == 200, r.text
        return r.json() if r.json()["rows"] and r.json()["rows"][0]["approved"] == "1" else None

    body = await eventually(approved, timeout=10)
    assert body["title"] == "报备转化与撞单" and [c["label"] for c in body["columns"]][:2] == ["区域", "报备数"]
    assert body["rows"] == [
        {
            "region": "西南",
            "registered": "1",
            "submitted": "1",
            "approved": "1",
            "rejected": "0",
            "approval_rate": "100.0%",
            "conversion": "100.0%",
            "collision_rate": "0.0%",
        }
    ]
    for report in ("cycle_times", "approval_steps", "approvers", "cost_distribution", "productivity", "delay_reasons"):
        for fmt in ("json", "csv", "xlsx", "svg"):
            r = await admin.get(f"/api/v1/reports/analytics/{report}", params={"format": fmt})
            assert r.status_code == 200, (report, fmt, r.text)
    r = await org["rep"].get(
        "/api/v1/reports/analytics/conversion", params={"format": "svg", "chart": "pie", "group_by": "region"}
    )
    assert "报备转化与撞单" in r.text and "西南" in r.text
    r = await org["rep"].get(
        "/api/v1/reports/analytics/cycle_times", params={"group_by": "period", "chart": "line", "format": "svg"}
    )
    assert r.status_code == 200 and "登记→审批 平均" in r.text

    def fields(r: httpx.Response) -> set[str]:
        assert r.status_code == 422, r.text
        return {d["field"] for d in r.json()["error"]["details"]}

    assert fields(await admin.get("/api/v1/reports/analytics/nope")) == {"report"}
    assert fields(await admin.get("/api/v1/reports/analytics/approvers", params={"group_by": "region"})) == {"group_by"}
    assert fields(await admin.get("/api/v1/reports/portfolio", params={"from": "yesterday", "limit": -1})) == {
        "from",
        "limit",
    }
    assert fields(await admin.get("/api/v1/reports/portfolio", params={"format": "pdf"})) == {"format"}


async def test_settings_and_rebuild_are_admin_only(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    assert (await org["rep"].get("/api/v1/reports/settings")).status_code == 403
    assert (await org["rep"].post("/api/v1/reports/rebuild")).status_code == 403
    r = await admin.put("/api/v1/reports/settings", json={"spi_red": 5, "hour_rate": "abc"})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["error"]["details"]} >= {"settings.hour_rate"}
    before = (await admin.get("/api/v1/reports/settings")).json()
    r = await admin.put("/api/v1/reports/settings", json={"weekly_capacity_hours": 44})
    assert r.status_code == 200 and r.json() == {**before, "weekly_capacity_hours": 44.0}
    await admin.put("/api/v1/reports/settings", json={"weekly_capacity_hours": before["weekly_capacity_hours"]})
    form = await secret_form(admin, org)
    p = await create(org["rep"], form)
    # Compare this test's own (settled) projects: other tests' workflows may still be moving theirs.
    mine = {"owner_id": org.user("rep")}

    async def settled() -> Any:
        body = (await admin.get("/api/v1/reports/portfolio", params=mine)).json()
        return body if body["by_status"] == {"active": 1} else None

    portfolio = await eventually(settled, timeout=10)
    r = await admin.post("/api/v1/reports/rebuild")
    assert r.status_code == 200, r.text
    assert r.json()["projects"] >= 1 and r.json()["events"] >= 1
    again = (await admin.get("/api/v1/reports/portfolio", params=mine)).json()
    assert again["by_status"] == portfolio["by_status"] and again["total_amount"] == portfolio["total_amount"]
    assert p["id"] in {x["id"] for x in again["projects"]}


async def test_a_draft_edit_reaches_the_read_model(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    """A draft's edit is reported by the edge (no workflow step reports it): the live read model
    and a rebuild agree on its amount."""
    form = await secret_form(admin, org)
    p = await create(org["outsider"], form, submit=False, amount="1000.00")
    mine = {"owner_id": org.user("outsider")}

    async def total(want: str) -> Any:
        body = (await admin.get("/api/v1/reports/portfolio", params=mine)).json()
        return body if body["total_amount"] == want else None

    await eventually(lambda: total("1000.00"), timeout=10)
    r = await org["outsider"].patch(f"/api/v1/projects/{p['id']}", json={"version": 1, "amount": "2500"})
    assert r.status_code == 200, r.text
    live = await eventually(lambda: total("2500.00"), timeout=10)
    assert (await admin.post("/api/v1/reports/rebuild")).status_code == 200
    again = (await admin.get("/api/v1/reports/portfolio", params=mine)).json()
    assert again["total_amount"] == live["total_amount"] == "2500.00"
