"""Reports over the projects the caller may see: the portfolio (contract) with filters, one
project's health and burndown, retrospective analytics, early warnings, health settings and the
read-model rebuild. Every table also comes as CSV / XLSX (``?format=``) and as an SVG chart."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request, Response
from google.protobuf.timestamp_pb2 import Timestamp

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb2
from baobei.reporting_facts import registry_snapshot
from edge import audit
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router, bind_project
from edge.routes.projects import viewer_of, visible_project
from edge.routes.reports_models import (
    AnalyticsOut,
    HealthSettingsIn,
    HealthSettingsOut,
    PortfolioReportOut,
    ProjectReportOut,
    RebuildOut,
    WarningsOut,
)
from edge.routes.reports_render import (
    HEALTH_ZH,
    STATUS_ZH,
    TableData,
    burndown_chart,
    counts_chart,
    csv_response,
    svg_response,
    table_chart,
    xlsx_response,
)

router = area_router("reports")


async def _exported(clients: EdgeClients, user: Principal, report: str, format: str, rows: int, **details: Any) -> None:
    """A report table left as a file: recorded in the audit log (`export.report`)."""
    await audit.record(clients, "export.report", actor_id=user.id, target_type="report", target_id=report,
                       details={"format": format, "rows": rows, **details})
PAGE = 200
MAX_PAGES = 500
SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORTS = Literal[
    "cycle_times", "approval_steps", "approvers", "cost_distribution", "productivity", "delay_reasons", "conversion",
    "outcomes", "lessons",
]
# Which column of each analytics table a chart shows by default (index into its columns).
CHART_COLUMNS: dict[str, list[int]] = {
    "cycle_times": [2, 5, 8],
    "approval_steps": [2, 4],
    "approvers": [2, 4],
    "cost_distribution": [2],
    "productivity": [2, 3],
    "delay_reasons": [2],
    "conversion": [1, 3],
    "outcomes": [1],
    "lessons": [1],
}
FileFormat = Literal["json", "csv", "xlsx", "svg"]


# Core values the reporting read model holds per project and may have to withhold.
REPORTED_CORE = ("amount", "region", "business_line")


async def visible_scope(
    clients: Clients, user: Principal
) -> tuple[list[str] | None, list[reporting_pb2.Withheld]]:
    """None for admins (everything); otherwise the ids of the projects the caller may see, and
    per project the reported values the registry withholds from them (a form's core_fields)."""
    if user.is_admin:
        return None, []
    viewer = await viewer_of(clients, user)
    ids: list[str] = []
    withheld: list[reporting_pb2.Withheld] = []
    cursor = ""
    for _ in range(MAX_PAGES):
        page = await clients.registry.ListProjects(
            registry_pb2.ListProjectsRequest(viewer=viewer, limit=PAGE, cursor=cursor)
        )
        for p in page.items:
            ids.append(p.id)
            paths = [h for h in p.hidden if h in REPORTED_CORE]
            if paths:
                withheld.append(reporting_pb2.Withheld(project_id=p.id, paths=paths))
        cursor = page.next_cursor
        if not cursor:
            break
    return ids, withheld


async def visible_ids(clients: Clients, user: Principal) -> list[str] | None:
    """None for admins (everything); otherwise the ids of the projects the caller may see."""
    return (await visible_scope(clients, user))[0]


def _stamp(day: date) -> Timestamp | None:
    """Start of ``day`` in Asia/Shanghai; None at the ends of the calendar (0001-01-01 starts
    before year 1 in UTC, the day after 9999-12-31 does not exist): no bound there."""
    out = Timestamp()
    try:
        out.FromDatetime(datetime.combine(day, time.min, SHANGHAI).astimezone(UTC))
    except (OverflowError, ValueError):
        return None
    return out


class FilterParams:
    """Query filters shared by the portfolio and analytics; ``from``/``to`` are registration dates
    (Asia/Shanghai), ``to`` inclusive."""

    def __init__(
        self,
        department_id: Annotated[str, Query(max_length=100, description="部门")] = "",
        region: Annotated[str, Query(max_length=100, description="区域")] = "",
        business_line: Annotated[str, Query(max_length=100, description="业务线")] = "",
        owner_id: Annotated[str, Query(max_length=100, description="负责人")] = "",
        status: Annotated[str, Query(max_length=40, description="项目状态")] = "",
        form_key: Annotated[str, Query(max_length=100, description="表单")] = "",
        from_: Annotated[date | None, Query(alias="from", description="登记日期起（含）")] = None,
        to: Annotated[date | None, Query(description="登记日期止（含）")] = None,
    ) -> None:
        self.message = reporting_pb2.Filters(
            department_id=department_id,
            region=region,
            business_line=business_line,
            owner_id=owner_id,
            status=status,
            form_key=form_key,
        )
        start = _stamp(from_) if from_ else None
        end = _stamp(date.fromordinal(to.toordinal() + 1)) if to and to < date.max else None
        if start is not None:
            self.message.period_from.CopyFrom(start)
        if end is not None:
            self.message.period_to.CopyFrom(end)


Filters = Annotated[FilterParams, Depends()]


def _health_out(p: reporting_pb2.ProjectHealth) -> dict[str, Any]:
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "status": p.status,
        "amount": p.amount or None,  # blank: withheld from the caller (or never registered)
        "health": p.health,
        "reasons": list(p.reasons),
        "owner_id": p.owner_id,
        "department_id": p.department_id,
        "region": p.region,
        "business_line": p.business_line,
        "form_key": p.form_key,
        "spi": p.spi or None,
        "cpi": p.cpi or None,
        "open_tasks": p.open_tasks,
        "overdue_tasks": p.overdue_tasks,
        "milestone_slip_days": p.milestone_slip_days,
        "planned_value": p.planned_value,
        "earned_value": p.earned_value,
        "actual_cost": p.actual_cost,
        "registered_at": p.registered_at.ToDatetime(tzinfo=UTC).isoformat() if p.HasField("registered_at") else None,
    }


PORTFOLIO_COLUMNS = (
    ("code", "编号", "text"),
    ("name", "名称", "text"),
    ("status", "状态", "text"),
    ("amount", "金额（元）", "money"),
    ("owner_id", "负责人", "text"),
    ("department_id", "部门", "text"),
    ("region", "区域", "text"),
    ("business_line", "业务线", "text"),
    ("health", "健康度", "text"),
    ("spi", "SPI", "number"),
    ("cpi", "CPI", "number"),
    ("open_tasks", "未完成任务", "number"),
    ("overdue_tasks", "逾期任务", "number"),
    ("reasons", "原因", "text"),
)


def _portfolio_table(resp: reporting_pb2.PortfolioResponse) -> TableData:
    rows = [
        (
            p.code,
            p.name,
            STATUS_ZH.get(p.status, p.status),
            p.amount,
            p.owner_id,
            p.department_id,
            p.region,
            p.business_line,
            HEALTH_ZH.get(p.health, p.health),
            f"{p.spi:.2f}" if p.spi else "",
            f"{p.cpi:.2f}" if p.cpi else "",
            str(p.open_tasks),
            str(p.overdue_tasks),
            "；".join(p.reasons),
        )
        for p in resp.projects
    ]
    return TableData(title="项目组合", columns=PORTFOLIO_COLUMNS, rows=rows, filename="portfolio")


@router.get("/reports/portfolio", response_model=PortfolioReportOut)
async def portfolio(
    user: CurrentUser,
    clients: Clients,
    filters: Filters,
    limit: Annotated[int, Query(ge=0, le=100000, description="项目列表分页大小（0 = 全部）")] = 0,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    format: Annotated[FileFormat, Query(description="json | csv | xlsx | svg")] = "json",
    chart: Annotated[
        Literal["status", "health"], Query(description="SVG：按状态（饼图）或健康度（柱状图）")
    ] = "status",
) -> Any:
    """Counts by status, registered and contracted amounts, active/overdue tasks, approvals waiting
    and their age, and per-project health, over the projects the caller may see."""
    ids, withheld = await visible_scope(clients, user)
    req = reporting_pb2.PortfolioRequest(
        all=ids is None, project_ids=ids or [], filters=filters.message, limit=limit, offset=offset,
        withheld=withheld,
    )
    resp = await clients.reporting.Portfolio(req)
    if format == "svg":
        if chart == "health":
            counts = {k: resp.by_health.get(k, 0) for k in ("green", "amber", "red")}
            return svg_response(counts_chart("项目健康度", counts, kind="bar", names=HEALTH_ZH))
        return svg_response(counts_chart("项目状态分布", dict(resp.by_status), kind="pie", names=STATUS_ZH))
    if format in ("csv", "xlsx"):
        table = _portfolio_table(resp)
        await _exported(clients, user, "portfolio", format, len(table.rows))
        return csv_response(table) if format == "csv" else xlsx_response(table)
    return {
        "by_status": dict(resp.by_status),
        "total_amount": resp.total_amount or "0",
        "contracted_amount": resp.contracted_amount or "0",
        "project_count": resp.project_count,
        "overdue_tasks": resp.overdue_tasks,
        "active_tasks": resp.active_tasks,
        "approvals_waiting": {
            "count": resp.approvals_waiting,
            "avg_age_hours": resp.approvals_waiting_avg_hours,
            "max_age_hours": resp.approvals_waiting_max_hours,
        },
        "by_health": dict(resp.by_health),
        "projects": [_health_out(p) for p in resp.projects],
    }


@router.get("/reports/projects/{project_id}", response_model=ProjectReportOut)
async def project_report(
    project_id: str,
    request: Request,
    user: CurrentUser,
    clients: Clients,
    format: Annotated[FileFormat, Query(description="json | csv | xlsx（任务表）| svg（燃尽图）")] = "json",
) -> Any:
    """One project's health with reasons, earned-value figures, tasks and burndown (404 when the
    caller cannot see the project)."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    resp = await clients.reporting.ProjectReport(reporting_pb2.ProjectReportRequest(project_id=project_id))
    for path in REPORTED_CORE:  # withheld from this caller by the form (the registry said so)
        if path in project.hidden:
            resp.health.ClearField(path)
    title = f"{resp.health.code} {resp.health.name}".strip()
    if format == "svg":
        return svg_response(burndown_chart(f"燃尽图：{title}", list(resp.burndown)))
    if format in ("csv", "xlsx"):
        table = _table_data(resp.tasks, filename=f"project-{resp.health.code or project_id}-tasks")
        await _exported(clients, user, "project", format, len(table.rows), project_id=project_id)
        return csv_response(table) if format == "csv" else xlsx_response(table)
    return {
        "project": _health_out(resp.health),
        "burndown": [
            {"day": p.day, "remaining_hours": p.remaining_hours, "ideal_hours": p.ideal_hours} for p in resp.burndown
        ],
        "tasks": _table_data(resp.tasks, filename="").as_json(),
    }


def _table_data(t: reporting_pb2.Table, *, filename: str) -> TableData:
    return TableData(
        title=t.title,
        columns=[(c.key, c.label, c.kind) for c in t.columns],
        rows=[list(r.values) for r in t.rows],
        filename=filename,
    )


@router.get("/reports/analytics/{report}", response_model=AnalyticsOut)
async def analytics(
    report: REPORTS,
    user: CurrentUser,
    clients: Clients,
    filters: Filters,
    group_by: Annotated[str, Query(max_length=40, description="分组维度，见 README")] = "",
    format: Annotated[FileFormat, Query(description="json | csv | xlsx | svg")] = "json",
    chart: Annotated[Literal["bar", "line", "pie"], Query(description="SVG 图表类型")] = "bar",
) -> Any:
    """Retrospective analytics over the caller's projects (see README "Reporting" for definitions)."""
    ids, withheld = await visible_scope(clients, user)
    resp = await clients.reporting.Analytics(
        reporting_pb2.AnalyticsRequest(
            report=report, group_by=group_by, all=ids is None, project_ids=ids or [], filters=filters.message,
            withheld=withheld,
        )
    )
    table = _table_data(resp.table, filename=f"analytics-{report}")
    if format == "svg":
        cols = CHART_COLUMNS[report][:1] if chart == "pie" else CHART_COLUMNS[report]
        label_col = 1 if report == "delay_reasons" else 0
        return svg_response(table_chart(table, kind=chart, label_col=label_col, value_cols=cols))
    if format in ("csv", "xlsx"):
        await _exported(clients, user, f"analytics.{report}", format, len(table.rows), group_by=group_by)
        return csv_response(table) if format == "csv" else xlsx_response(table)
    return {"report": report, **table.as_json()}


def _warning_out(w: reporting_pb2.Warning) -> dict[str, Any]:
    def at(name: str) -> str | None:
        return getattr(w, name).ToDatetime(tzinfo=UTC).isoformat() if w.HasField(name) else None

    return {
        "key": w.key,
        "kind": w.kind,
        "project_id": w.project_id or None,
        "user_id": w.user_id or None,
        "week": w.week or None,
        "title": w.title,
        "body": w.body,
        "raised_at": at("raised_at"),
        "notified_at": at("notified_at"),
        "cleared_at": at("cleared_at"),
    }


@router.get("/reports/warnings", response_model=WarningsOut)
async def warnings(
    user: CurrentUser,
    clients: Clients,
    include_cleared: Annotated[bool, Query(description="也列出已解除的预警")] = False,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Any:
    """Early warnings on the caller's projects, plus over-capacity warnings about the caller."""
    ids = await visible_ids(clients, user)
    resp = await clients.reporting.ListWarnings(
        reporting_pb2.ListWarningsRequest(
            all=ids is None, project_ids=ids or [], user_id=user.id, include_cleared=include_cleared
        )
    )
    items = [_warning_out(w) for w in resp.warnings]
    if format in ("csv", "xlsx"):
        kinds = {"schedule_deviation": "进度偏差", "cost_overrun": "成本超支", "over_capacity": "负荷超限"}
        table = TableData(
            title="预警",
            columns=[
                ("kind", "类型", "text"),
                ("title", "标题", "text"),
                ("body", "内容", "text"),
                ("raised_at", "发出时间", "text"),
                ("cleared_at", "解除时间", "text"),
            ],
            rows=[
                (kinds.get(i["kind"], i["kind"]), i["title"], i["body"], i["raised_at"], i["cleared_at"] or "")
                for i in items
            ],
            filename="warnings",
        )
        await _exported(clients, user, "warnings", format, len(table.rows))
        return csv_response(table) if format == "csv" else xlsx_response(table)
    return {"items": items}


def _settings_out(s: reporting_pb2.HealthSettings) -> dict[str, Any]:
    return {
        "spi_amber": s.spi_amber,
        "spi_red": s.spi_red,
        "cpi_amber": s.cpi_amber,
        "cpi_red": s.cpi_red,
        "slip_amber_days": s.slip_amber_days,
        "slip_red_days": s.slip_red_days,
        "overdue_amber": s.overdue_amber,
        "overdue_red": s.overdue_red,
        "hour_rate": s.hour_rate,
        "weekly_capacity_hours": s.weekly_capacity_hours,
        "cost_warning_ratio": s.cost_warning_ratio,
    }


@router.get("/reports/settings", response_model=HealthSettingsOut)
async def get_settings(user: AdminUser, clients: Clients) -> dict[str, Any]:
    """Health thresholds and early-warning parameters (admin)."""
    resp = await clients.reporting.GetHealthSettings(reporting_pb2.GetHealthSettingsRequest())
    return _settings_out(resp.settings)


@router.put("/reports/settings", response_model=HealthSettingsOut)
async def put_settings(body: HealthSettingsIn, user: AdminUser, clients: Clients) -> dict[str, Any]:
    """Change thresholds (admin); keys left out keep their value."""
    values = body.model_dump(exclude_none=True)
    resp = await clients.reporting.SetHealthSettings(
        reporting_pb2.SetHealthSettingsRequest(settings=reporting_pb2.HealthSettings(**values))
    )
    return _settings_out(resp.settings)


async def registry_snapshots(clients: Any) -> list[reporting_pb2.ProjectSnapshot]:
    """Every project from the registry (as admin), as reporting snapshots."""
    viewer = registry_pb2.Viewer(user_id="reporting-rebuild", is_admin=True)
    out: list[reporting_pb2.ProjectSnapshot] = []
    cursor = ""
    while True:
        page = await clients.registry.ListProjects(
            registry_pb2.ListProjectsRequest(viewer=viewer, limit=PAGE, cursor=cursor)
        )
        out.extend(registry_snapshot(p) for p in page.items)
        cursor = page.next_cursor
        if not cursor:
            return out


@router.post("/reports/rebuild", response_model=RebuildOut)
async def rebuild(user: AdminUser, clients: Clients) -> dict[str, Any]:
    """Recompute the read models from the stored event log and the registry's projects (admin)."""
    projects = await registry_snapshots(clients)
    resp = await clients.batch("reporting").Rebuild(reporting_pb2.RebuildRequest(projects=projects))
    return {"events": resp.events, "projects": resp.projects, "tasks": resp.tasks}


__all__ = ["router", "registry_snapshots", "Response"]
