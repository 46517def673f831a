"""Models of the web app's work lists (issue 14): 已办 (approvals the caller decided), 我的任务
(tasks assigned to the caller across projects) and the collision (撞单) check as one types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from edge.schemas import Model, OpenModel, ProjectStatus

PROJECT_EXAMPLE: Any = {"id": "7f3c2a9e4b1d4c0e8a6b5d4c3b2a1f0e", "code": "BB-2026-000042", "name": "华东智慧园区一期",
                   "status": "pending_approval"}


class ProjectBrief(Model):
    """Who, what and where of a project: only for projects the caller may see."""

    id: str
    code: str
    name: str
    status: ProjectStatus


# ---- 已办 ----


class DecidedOut(Model):
    task_id: str
    project_id: str
    project: ProjectBrief | None = Field(description="null when the caller may no longer see the project")
    step: str = Field(description="The approval step's name")
    action: Literal["approve", "reject", "return", "transfer", "add_approver"] | str
    comment: str = ""
    at: str | None = Field(description="When the caller decided (ISO 8601, UTC)")
    on_behalf_of: str | None = Field(default=None, description="The approver the caller acted for as a delegate")
    target_user_id: str | None = Field(default=None, description="transfer / add_approver: to whom")


class DecidedPage(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"task_id": "5d1e0c8b2a7f4e6d9c3b1a0f8e7d6c5b", "project_id": PROJECT_EXAMPLE["id"],
                   "project": PROJECT_EXAMPLE, "step": "部门经理审批", "action": "approve", "comment": "同意",
                   "at": "2026-12-01T08:30:00Z", "on_behalf_of": None, "target_user_id": None}],
        "next_cursor": "ZDoxMjM0",
    }]})

    items: list[DecidedOut]
    next_cursor: str | None = Field(description="null on the last page")


# ---- 我的任务 ----


class TaskDependencyOut(Model):
    task_id: str
    type: Literal["FS", "SS", "FF", "SF"] | str
    lag_days: int = 0


class AssignedTaskOut(OpenModel):
    """A task as ``GET /api/v1/tasks/{id}`` answers it, with its project."""

    id: str
    project_id: str
    name: str
    assignee_id: str | None = None
    start: str | None = Field(default=None, description="ISO date")
    due: str | None = Field(default=None, description="ISO date")
    duration_days: int = 0
    milestone: bool = False
    status: Literal["todo", "in_progress", "done", "blocked"] | str
    progress: int = 0
    depends_on: list[TaskDependencyOut] = Field(default_factory=list)
    parent_id: str | None = None
    estimate_hours: str | None = None
    pinned: bool = False
    requires_deliverables: bool = False
    actual_start: str | None = None
    done_at: str | None = None
    delay_reason: str | None = None
    deliverables: int = 0
    version: int = 1
    created_at: str | None = None
    updated_at: str | None = None
    project: ProjectBrief | None = Field(description="null when the caller may no longer see the project")


class AssignedTaskPage(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"id": "c0ffee00c0ffee00c0ffee00c0ffee00", "project_id": PROJECT_EXAMPLE["id"], "name": "现场实施",
                   "assignee_id": "zhaoliu", "start": "2026-12-01", "due": "2026-12-04", "duration_days": 3,
                   "milestone": False, "status": "in_progress", "progress": 40, "depends_on": [],
                   "parent_id": None, "estimate_hours": None, "pinned": False, "requires_deliverables": False,
                   "actual_start": "2026-12-01", "done_at": None, "delay_reason": None, "deliverables": 0,
                   "version": 2, "created_at": "2026-11-30T02:00:00Z", "updated_at": "2026-12-01T03:00:00Z",
                   "project": {**PROJECT_EXAMPLE, "status": "active"}}],
        "next_cursor": "WyIyMDI2LTEyLTA0IiwiMjAyNi0xMS0zMFQwMjowMDowMCswMDowMCIsImMwZmZlZTAwIl0",
    }]})

    items: list[AssignedTaskOut]
    next_cursor: str | None = Field(description="null on the last page")


# ---- 撞单 check ----


class ConflictCustomerIn(Model):
    name: str = Field(default="", max_length=500, description="Customer name as typed")
    uscc: str | None = Field(default=None, max_length=100, description="Ignored until it is a valid code")


class ConflictCheckIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "form_key": "standard", "customer": {"name": "杭州云栖科技有限公司", "uscc": "91330100MA2B3C4D5E"},
        "name": "华东智慧园区一期", "project_id": None,
    }]})

    form_key: str = Field(min_length=1, max_length=100)
    customer: ConflictCustomerIn = Field(default_factory=ConflictCustomerIn)
    name: str | None = Field(
        default=None, max_length=500, description="The project's name: a similar one for the same customer is noted"
    )
    project_id: str | None = Field(default=None, max_length=100, description="The draft being edited: left out")


class ConflictMatchOut(Model):
    project_id: str
    code: str = Field(description="Empty unless the caller may see that project")
    reason: str


class ConflictCheckOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "conflicts": [{"project_id": PROJECT_EXAMPLE["id"], "code": "", "reason": "客户名称相同"}],
        "conflict_policy": "warn",
    }]})

    conflicts: list[ConflictMatchOut]
    conflict_policy: Literal["warn", "block"] | str = Field(
        description="The form's policy: block means create/submit would be refused with 409 while conflicts remain"
    )
