"""Response and request models of the report endpoints (for ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from edge.schemas import Model, OpenModel, PortfolioOut, ProjectHealthOut


class ProjectHealthReportOut(ProjectHealthOut):
    owner_id: str = ""
    department_id: str = ""
    region: str = ""
    business_line: str = ""
    form_key: str = ""
    spi: float | None = Field(None, description="Schedule performance index EV/PV; null without a plan yet")
    cpi: float | None = Field(None, description="Cost performance index EV/AC; null without costs yet")
    open_tasks: int = 0
    overdue_tasks: int = 0
    milestone_slip_days: int = 0
    planned_value: str = ""
    earned_value: str = ""
    actual_cost: str = ""
    registered_at: str | None = None


class ApprovalsWaitingOut(Model):
    count: int
    avg_age_hours: float
    max_age_hours: float


class PortfolioReportOut(PortfolioOut):
    projects: list[ProjectHealthReportOut]  # type: ignore[assignment]
    contracted_amount: str = Field("0", description="Sum of amounts of approved projects (active, closed)")
    project_count: int = 0
    active_tasks: int = 0
    approvals_waiting: ApprovalsWaitingOut
    by_health: dict[str, int] = Field(default_factory=dict, description="green/amber/red over the returned projects")


class TableColumnOut(Model):
    key: str
    label: str
    kind: str


class AnalyticsOut(Model):
    report: str
    title: str
    columns: list[TableColumnOut]
    rows: list[dict[str, Any]]


class TasksTableOut(Model):
    title: str
    columns: list[TableColumnOut]
    rows: list[dict[str, Any]]


class BurndownPointOut(Model):
    day: str
    remaining_hours: float
    ideal_hours: float


class ProjectReportOut(Model):
    project: ProjectHealthReportOut
    burndown: list[BurndownPointOut]
    tasks: TasksTableOut


class WarningOut(OpenModel):
    key: str
    kind: str
    project_id: str | None = None
    user_id: str | None = None
    week: str | None = None
    title: str
    body: str
    raised_at: str | None = None
    notified_at: str | None = None
    cleared_at: str | None = None


class WarningsOut(Model):
    items: list[WarningOut]


class HealthSettingsOut(Model):
    spi_amber: float
    spi_red: float
    cpi_amber: float
    cpi_red: float
    slip_amber_days: int
    slip_red_days: int
    overdue_amber: int
    overdue_red: int
    hour_rate: str
    weekly_capacity_hours: float
    cost_warning_ratio: float


class HealthSettingsIn(Model):
    spi_amber: float | None = Field(None, gt=0, le=10)
    spi_red: float | None = Field(None, gt=0, le=10)
    cpi_amber: float | None = Field(None, gt=0, le=10)
    cpi_red: float | None = Field(None, gt=0, le=10)
    slip_amber_days: int | None = Field(None, ge=1, le=3650)
    slip_red_days: int | None = Field(None, ge=1, le=3650)
    overdue_amber: int | None = Field(None, ge=1, le=100000)
    overdue_red: int | None = Field(None, ge=1, le=100000)
    hour_rate: str | None = Field(None, max_length=20, description='CNY per estimated hour, e.g. "300.00"')
    weekly_capacity_hours: float | None = Field(None, gt=0, le=168)
    cost_warning_ratio: float | None = Field(None, gt=0, le=1)


class RebuildOut(Model):
    events: int
    projects: int
    tasks: int
