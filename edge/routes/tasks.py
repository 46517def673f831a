"""Tasks and schedule: plans of active projects (create / patch tasks, schedule with CPM and the
Gantt SVG, baselines, costs and budget, deliverables, plan templates, delay reasons).

Writes go straight to the tasks service (one service, one transaction, 422s with field paths);
then the project's execution workflow is signalled (signal-with-start) so it reports the change
and re-arms its rule timers. A lost signal only delays that until the next change: the workflow
reads the service's event log, not the signal's payload."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import quote

import structlog
from fastapi import File, Form, Header, Query, Request, UploadFile
from fastapi.responses import Response
from google.protobuf import struct_pb2
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import RPCError
from temporalio.common import WorkflowIDConflictPolicy

from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, ValidationFailed
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.tasks.v1 import tasks_service_pb2 as pb
from edge import mapping
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.downloads import DOWNLOAD_RESPONSES, file_response
from edge.routes import area_router, bind_project
from edge.routes.projects import visible_project, visible_project_with_relations
from workflows.contracts.execution import (
    EXECUTION_SIGNAL_CHANGED,
    EXECUTION_WORKFLOW_TYPE,
    ExecutionInput,
    TasksChanged,
    execution_workflow_id,
)
from workflows.contracts.search_attributes import project_start_options

router = area_router("tasks")
log = structlog.get_logger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the tasks service checks type and size; the edge reads no more
_DEP = {
    "FS": pb.DEPENDENCY_TYPE_FS,
    "SS": pb.DEPENDENCY_TYPE_SS,
    "FF": pb.DEPENDENCY_TYPE_FF,
    "SF": pb.DEPENDENCY_TYPE_SF,
}
_DEP_NAME = {v: k for k, v in _DEP.items()}
SYSTEM_VIEWER = registry_pb2.Viewer(user_id="system", is_admin=True)
GANTT_FORMATS = ("svg", "pdf")  # what can be drawn; BAOBEI_GANTT_FORMATS picks which are offered


# ---------------------------------------------------------------- schemas


class DependencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_id: str = Field(max_length=100)
    type: Literal["FS", "SS", "FF", "SF"] = "FS"
    lag_days: int = Field(default=0, ge=-365, le=365, description="Working days; negative = lead")


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=300)
    assignee_id: str | None = Field(default=None, max_length=100)
    start: str | None = Field(default=None, description="ISO date")
    due: str | None = Field(default=None, description="ISO date (inclusive)")
    duration_days: int | None = Field(default=None, ge=0, le=10000, description="Working days")
    milestone: bool = False
    depends_on: list[DependencyIn] = Field(default_factory=list, max_length=200)
    parent_id: str | None = Field(default=None, max_length=100, description="Summary task this task rolls up into")
    estimate_hours: float | str | None = None
    pinned: bool = Field(default=False, description="Manual dates: keep start instead of following predecessors")
    requires_deliverables: bool = Field(default=False, description="A milestone that needs files before done")


class TaskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["todo", "in_progress", "done", "blocked"] | None = None
    progress: int | None = Field(default=None, ge=0, le=100)
    name: str | None = Field(default=None, max_length=300)
    start: str | None = None
    due: str | None = None
    duration_days: int | None = Field(default=None, ge=0, le=10000)
    assignee_id: str | None = Field(default=None, max_length=100)
    depends_on: list[DependencyIn] | None = Field(default=None, max_length=200)
    delay_reason: str | None = Field(default=None, max_length=50)
    pinned: bool | None = None
    estimate_hours: float | str | None = None
    parent_id: str | None = Field(default=None, max_length=100)
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Expected task version: a stale one → 409"
    )


class BaselineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)


class CostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["timesheet", "expense", "purchase"]
    task_id: str | None = Field(default=None, max_length=100)
    hours: float | str | None = None
    rate: float | str | None = None
    amount: float | str | None = None
    note: str = Field(default="", max_length=500)
    at: str | None = Field(default=None, description="ISO date; default today")


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budget: float | str | None = Field(description="null = use the registered amount")


class DelayReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=50)
    label: str = Field(max_length=100)


class DelayReasonsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reasons: list[DelayReasonIn] = Field(max_length=100)


class TemplateDependencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=100)
    type: Literal["FS", "SS", "FF", "SF"] = "FS"
    lag_days: int = Field(default=0, ge=-365, le=365)


class TemplateTaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=100)
    name: str = Field(max_length=300)
    offset_days: int = Field(default=0, ge=0, le=10000, description="Working days from the plan start")
    duration_days: int = Field(default=1, ge=0, le=10000)
    milestone: bool = False
    parent_key: str | None = Field(default=None, max_length=100)
    requires_deliverables: bool = False
    depends_on: list[TemplateDependencyIn] = Field(default_factory=list)


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tasks: list[TemplateTaskIn] = Field(max_length=500)


# ---------------------------------------------------------------- helpers


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _request_id(user: Principal, key: str | None) -> str:
    return f"{user.id}:{key}" if key else uuid.uuid4().hex


IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Repeats return the first response (24 h)")]


def _deps(items: list[DependencyIn]) -> list[pb.Dependency]:
    return [pb.Dependency(task_id=d.task_id, type=_DEP[d.type], lag_days=d.lag_days) for d in items]


def task_out(t: pb.Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "project_id": t.project_id,
        "name": t.name,
        "assignee_id": t.assignee_id or None,
        "start": t.start or None,
        "due": t.due or None,
        "duration_days": t.duration_days,
        "milestone": t.milestone,
        "status": mapping_status(t.status),
        "progress": t.progress,
        "depends_on": [
            {"task_id": d.task_id, "type": _DEP_NAME.get(d.type, "FS"), "lag_days": d.lag_days} for d in t.depends_on
        ],
        "parent_id": t.parent_id or None,
        "estimate_hours": t.estimate_hours or None,
        "pinned": t.pinned,
        "requires_deliverables": t.requires_deliverables,
        "actual_start": t.actual_start or None,
        "done_at": mapping.ts(t.done_at) if t.HasField("done_at") else None,
        "delay_reason": t.delay_reason or None,
        "deliverables": t.deliverables,
        "version": t.version,
        "created_at": mapping.ts(t.created_at),
        "updated_at": mapping.ts(t.updated_at) if t.HasField("updated_at") else None,
    }


def mapping_status(value: int) -> str:
    return pb.TaskStatus.Name(value).removeprefix("TASK_STATUS_").lower()


async def _owned_project(clients: EdgeClients, user: Principal, project_id: str) -> registry_pb2.Project:
    """Visible (404) and owned by the caller, managed by them as the team's PM (项目经理), or an
    admin (403 otherwise)."""
    project, relations = await visible_project_with_relations(clients, user, project_id)
    if not user.is_admin and project.owner_id != user.id and "pm" not in relations:
        raise Forbidden(
            "只有项目负责人、项目经理或管理员可以修改计划",
            "only the project owner, its pm or an admin may change the plan",
            code="not_project_owner",
        )
    return project


async def notify_assigned(
    clients: EdgeClients, project: registry_pb2.Project, task: pb.Task, actor_id: str, before: str = ""
) -> None:
    """``task_assigned`` to a task's new assignee (not when they assigned it to themselves, nor when
    the assignee did not change): once per assignment, keyed by the task's version."""
    assignee = task.assignee_id
    if not assignee or assignee in (before, actor_id):
        return
    context = struct_pb2.Struct()
    context.update({"code": project.code, "name": project.name, "task_name": task.name,
                    "task_due": task.due or "", "assigned_by": actor_id})
    url = f"{clients.settings.public_base_url()}/projects/{quote(project.id)}?task={quote(task.id)}"
    try:
        await clients.notify.Send(notify_pb2.SendRequest(
            request_id=f"task_assigned:{task.id}:{assignee}:{task.version}", recipient_ids=[assignee],
            kind="task_assigned", project_id=project.id, action_urls={assignee: url}, context=context,
        ))
    except Exception as err:  # noqa: BLE001 - the assignment is committed; a lost notice must not fail it
        log.warning("task.assigned_notify_failed", task_id=task.id, error=str(err))


def _require_active(project: registry_pb2.Project) -> None:
    status = mapping.status_name(project.status)
    if status != "active":
        raise Conflict(
            f"项目当前状态（{status}）不能维护任务计划", f"project is {status}, not active", code="project_not_active"
        )


async def _check_assignee(clients: EdgeClients, assignee_id: str | None) -> None:
    if not assignee_id:
        return
    try:
        await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=assignee_id))
    except NotFound:
        raise ValidationFailed(
            [FieldViolation("assignee_id", f"用户 {assignee_id} 不存在", f"unknown user {assignee_id}")]
        ) from None


async def notify_execution(clients: EdgeClients, project: registry_pb2.Project, reason: str) -> None:
    """Wake the project's execution workflow (start it if none runs). Best effort: the change is
    committed already, and the workflow catches up from the event log at its next wake-up."""
    try:
        if project.hidden:  # the caller's copy lacks values the workflow plans with: read them whole
            project = (await clients.registry.GetProject(
                registry_pb2.GetProjectRequest(project_id=project.id, viewer=SYSTEM_VIEWER))).project
        client = await clients.temporal()
        await client.start_workflow(
            EXECUTION_WORKFLOW_TYPE,
            ExecutionInput(
                project_id=project.id,
                owner_id=project.owner_id,
                name=project.name,
                business_line=project.business_line,
                amount=project.amount or "0",
                start=project.start_date,
                # Whoever starts the workflow first (this edge or the lifecycle on approval) applies
                # the template; its request id makes that happen once.
                apply_template=True,
            ),
            id=execution_workflow_id(project.id),
            task_queue=clients.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            **project_start_options(EXECUTION_WORKFLOW_TYPE, project.code, project.name),
            start_signal=EXECUTION_SIGNAL_CHANGED,
            start_signal_args=[TasksChanged(reason=reason)],
        )
    except (RPCError, Exception) as err:  # noqa: BLE001 - Temporal down must not fail a committed change
        log.warning("execution.signal_failed", project_id=project.id, error=str(err))


async def _task_and_project(
    clients: EdgeClients, user: Principal, task_id: str
) -> tuple[pb.Task, registry_pb2.Project]:
    task = (await clients.tasks.GetTask(pb.GetTaskRequest(task_id=task_id))).task
    if user.is_admin or (task.assignee_id and task.assignee_id == user.id):
        project = (
            await clients.registry.GetProject(
                registry_pb2.GetProjectRequest(project_id=task.project_id, viewer=SYSTEM_VIEWER)
            )
        ).project
        return task, project
    project = await _owned_project(clients, user, task.project_id)
    return task, project


# ---------------------------------------------------------------- tasks


@router.post("/projects/{project_id}/tasks", status_code=201)
async def create_task(
    project_id: str, body: TaskCreate, request: Request, user: CurrentUser, clients: Clients, key: IdemKey = None
) -> dict[str, Any]:
    """Add a task to an active project's plan (owner or admin). Unknown dependency → 422."""
    bind_project(request, project_id)
    project = await _owned_project(clients, user, project_id)
    _require_active(project)
    await _check_assignee(clients, body.assignee_id)
    resp = await clients.tasks.CreateTask(
        pb.CreateTaskRequest(
            request_id=_request_id(user, key),
            project_id=project.id,
            name=body.name,
            assignee_id=_text(body.assignee_id),
            start=_text(body.start),
            due=_text(body.due),
            duration_days=body.duration_days or 0,
            milestone=body.milestone,
            depends_on=_deps(body.depends_on),
            parent_id=_text(body.parent_id),
            estimate_hours=_text(body.estimate_hours),
            pinned=body.pinned,
            requires_deliverables=body.requires_deliverables,
            actor_id=user.id,
        )
    )
    await notify_execution(clients, project, "task.created")
    await notify_assigned(clients, project, resp.task, user.id)
    return task_out(resp.task)


@router.get("/projects/{project_id}/tasks")
async def list_tasks(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    resp = await clients.tasks.ListTasks(pb.ListTasksRequest(project_id=project.id))
    return {"items": [task_out(t) for t in resp.tasks]}


@router.get("/tasks/{task_id}")
async def get_task(task_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Readable by the assignee, an admin, or whoever may see the project (else 404)."""
    task = (await clients.tasks.GetTask(pb.GetTaskRequest(task_id=task_id))).task
    if not (user.is_admin or (task.assignee_id and task.assignee_id == user.id)):
        await visible_project(clients, user, task.project_id)
    return task_out(task)


@router.patch("/tasks/{task_id}")
async def patch_task(
    task_id: str, body: TaskPatch, request: Request, user: CurrentUser, clients: Clients, key: IdemKey = None
) -> dict[str, Any]:
    """Update a task (owner, assignee or admin). `depends_on` replaces the dependencies; a stale
    `version` → 409; a forecast past the baseline needs a `delay_reason` (422)."""
    task, project = await _task_and_project(clients, user, task_id)
    bind_project(request, project.id)
    _require_active(project)
    if body.assignee_id:
        await _check_assignee(clients, body.assignee_id)
    fields = body.model_fields_set
    req = pb.UpdateTaskRequest(
        request_id=_request_id(user, key),
        task_id=task.id,
        actor_id=user.id,
        expected_version=body.version or 0,
        replace_depends_on=body.depends_on is not None,
        depends_on=_deps(body.depends_on or []),
    )
    for name in ("status", "name", "start", "due", "assignee_id", "delay_reason", "parent_id"):
        if name in fields:
            setattr(req, name, _text(getattr(body, name)))
    if "estimate_hours" in fields:
        req.estimate_hours = _text(body.estimate_hours)
    for name in ("progress", "duration_days", "pinned"):
        if name in fields and getattr(body, name) is not None:
            setattr(req, name, getattr(body, name))
    resp = await clients.tasks.UpdateTask(req)
    await notify_execution(clients, project, "task.updated")
    if "assignee_id" in fields:
        await notify_assigned(clients, project, resp.task, user.id, before=task.assignee_id)
    return task_out(resp.task)


# ---------------------------------------------------------------- schedule


@router.get("/projects/{project_id}/schedule", response_model=None)
async def get_schedule(
    project_id: str,
    request: Request,
    user: CurrentUser,
    clients: Clients,
    format: Annotated[str, Query(description="json, or a Gantt chart: svg or pdf (BAOBEI_GANTT_FORMATS)")] = "json",
    today: Annotated[str | None, Query(description="ISO date for the today line / forecasts")] = None,
) -> dict[str, Any] | Response:
    """CPM schedule: early/late dates, total slack and critical flag per task (working days of the
    mainland calendar), baseline variance; `?format=svg` / `?format=pdf` → Gantt chart (the formats
    offered are a setting; another → 422 on `format`). `forecast` (null when nothing is left to do):
    `finish` when the unfinished tasks are re-planned through the same CPM at the team's observed
    velocity (`velocity` = actual ÷ planned working days of finished tasks, the project's own, else
    with the same people's other projects: `basis` project | team | none, `samples`), against
    `planned_finish`, and `slip_days` between them."""
    bind_project(request, project_id)
    offered = gantt_formats(clients.settings.gantt_formats)
    if format != "json" and format not in offered:
        listed = ["json", *offered]
        zh, en = f"格式必须是 {'、'.join(listed)} 之一", f"format must be one of {', '.join(listed)}"
        raise ValidationFailed([FieldViolation("format", zh, en)])
    project = await visible_project(clients, user, project_id)
    title = f"{project.code} {project.name}".strip()
    resp = await clients.tasks.GetSchedule(
        pb.GetScheduleRequest(
            project_id=project.id, today=today or "", format=format if format in ("svg", "pdf") else "", title=title
        )
    )
    if format == "svg":
        return Response(resp.svg, media_type="image/svg+xml; charset=utf-8")
    if format == "pdf":
        name = f"{project.code or project.id}-gantt.pdf"
        return Response(
            resp.pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f"inline; filename=\"{_ascii_name(name)}\"; filename*=UTF-8''{quote(name)}"
            },
        )
    return {
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "start": t.start or None,
                "finish": t.finish or None,
                "critical": t.critical,
                "slack_days": t.slack_days,
                "status": t.status,
                "parent_id": t.parent_id or None,
                "summary": t.summary,
                "milestone": t.milestone,
                "duration_days": t.duration_days,
                "progress": t.progress,
                "assignee_id": t.assignee_id or None,
                "due": t.due or None,
                "early_start": t.early_start,
                "early_finish": t.early_finish,
                "late_start": t.late_start,
                "late_finish": t.late_finish,
                "baseline_start": t.baseline_start or None,
                "baseline_finish": t.baseline_finish or None,
                "finish_variance_days": t.finish_variance_days if t.baseline_finish else None,
                "delay_reason": t.delay_reason or None,
                "delay_reason_missing": t.delay_reason_missing,
                "depends_on": [
                    {"task_id": d.task_id, "type": _DEP_NAME.get(d.type, "FS"), "lag_days": d.lag_days}
                    for d in t.depends_on
                ],
                "version": t.version,
            }
            for t in resp.tasks
        ],
        "start": resp.start or None,
        "finish": resp.finish or None,
        "duration_days": resp.duration_days,
        "critical_path": list(resp.critical_path),
        "baseline": {"number": resp.baseline_number, "finish": resp.baseline_finish or None}
        if resp.baseline_number
        else None,
        "plan_version": resp.plan_version,
        "forecast": {
            "finish": resp.forecast.finish or None,
            "planned_finish": resp.forecast.planned_finish or None,
            "slip_days": resp.forecast.slip_days,
            "velocity": round(resp.forecast.velocity, 2),
            "samples": resp.forecast.samples,
            "basis": resp.forecast.basis,
        } if resp.HasField("forecast") else None,
    }


def gantt_formats(setting: str) -> list[str]:
    """The Gantt formats the setting offers, of those there are (svg, pdf); PNG would need a rasteriser."""
    return [f for f in dict.fromkeys(p.strip().lower() for p in setting.split(",")) if f in GANTT_FORMATS]


def _ascii_name(name: str) -> str:
    return "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name)


@router.post("/projects/{project_id}/baselines", status_code=201)
async def save_baseline(
    project_id: str, body: BaselineIn, request: Request, user: CurrentUser, clients: Clients, key: IdemKey = None
) -> dict[str, Any]:
    """Save the current schedule as a new baseline (owner or admin)."""
    bind_project(request, project_id)
    project = await _owned_project(clients, user, project_id)
    resp = await clients.tasks.SaveBaseline(
        pb.SaveBaselineRequest(request_id=_request_id(user, key), project_id=project.id, name=body.name)
    )
    return {"number": resp.number, "tasks": resp.tasks}


# ---------------------------------------------------------------- costs


@router.post("/projects/{project_id}/costs", status_code=201)
async def add_cost(
    project_id: str, body: CostIn, request: Request, user: CurrentUser, clients: Clients, key: IdemKey = None
) -> dict[str, Any]:
    """Record a cost: a timesheet (hours × rate), an expense or a purchase. The owner, the manager
    of the project's department or an admin records any cost; a task's assignee logs timesheets on
    their own task; others who see the project (CC, approvers) get 403 `cost_not_allowed`."""
    bind_project(request, project_id)
    project, relations = await visible_project_with_relations(clients, user, project_id)
    _require_active(project)
    resp = await clients.tasks.AddCost(
        pb.AddCostRequest(
            request_id=_request_id(user, key),
            project_id=project.id,
            task_id=_text(body.task_id),
            kind=body.kind,
            hours=_text(body.hours),
            rate=_text(body.rate),
            amount=_text(body.amount),
            note=body.note,
            at=_text(body.at),
            actor_id=user.id,
            actor=pb.Actor(user_id=user.id, relations=relations),
        )
    )
    await notify_execution(clients, project, "cost.recorded")
    return _cost_out(resp.cost)


def _cost_out(c: pb.CostEntry) -> dict[str, Any]:
    return {
        "id": c.id,
        "task_id": c.task_id or None,
        "kind": c.kind,
        "hours": c.hours or None,
        "rate": c.rate or None,
        "amount": c.amount,
        "note": c.note,
        "at": c.at,
        "actor_id": c.actor_id,
    }


@router.get("/projects/{project_id}/costs")
async def get_costs(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Actual vs budget per project and per task (budget = the registered amount unless set)."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    r = await clients.tasks.GetCosts(pb.GetCostsRequest(project_id=project.id, project_amount=project.amount or "0"))
    # A budget that is the registered amount is withheld from a caller who may not read the amount.
    withheld = "amount" in project.hidden and not r.budget_overridden
    return {
        "budget": None if withheld else r.budget,
        "actual": r.actual,
        "remaining": None if withheld else r.remaining,
        "consumed_share": None if withheld else r.consumed_share or None,
        "budget_overridden": r.budget_overridden,
        "by_kind": dict(r.by_kind),
        "by_task": [
            {"task_id": t.task_id, "name": t.name, "actual": t.actual, "estimate_hours": t.estimate_hours or None}
            for t in r.by_task
        ],
        "items": [_cost_out(c) for c in r.items],
    }


@router.put("/projects/{project_id}/budget")
async def set_budget(
    project_id: str, body: BudgetIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Set a budget separate from the registered amount (owner or admin); null clears it."""
    bind_project(request, project_id)
    project = await _owned_project(clients, user, project_id)
    r = await clients.tasks.SetBudget(
        pb.SetBudgetRequest(request_id=uuid.uuid4().hex, project_id=project.id, budget=_text(body.budget))
    )
    return {"budget": r.budget or None}


# ---------------------------------------------------------------- deliverables


@router.post("/tasks/{task_id}/deliverables", status_code=201)
async def upload_deliverable(
    task_id: str,
    user: CurrentUser,
    clients: Clients,
    file: Annotated[UploadFile, File()],
    note: Annotated[str, Form(max_length=200)] = "",
) -> dict[str, Any]:
    """Attach a file (≤ 20 MB; PDF, Office, images, text, zip) to a task. The tasks service checks
    and stores it (content-addressed, files or S3); the edge keeps nothing."""
    task, project = await _task_and_project(clients, user, task_id)
    _require_active(project)
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed([FieldViolation("file", "文件不能超过 20 MB", "file must be at most 20 MB")])
    resp = await clients.tasks.AddDeliverable(
        pb.AddDeliverableRequest(
            request_id=uuid.uuid4().hex,
            task_id=task.id,
            filename=(file.filename or "file")[:255],
            content_type=file.content_type or "",
            data=data,
            uploaded_by=user.id,
        )
    )
    return _deliverable_out(resp.deliverable)


def _deliverable_out(d: pb.Deliverable) -> dict[str, Any]:
    return {
        "id": d.id,
        "task_id": d.task_id,
        "filename": d.filename,
        "content_type": d.content_type,
        "size": d.size,
        "sha256": d.sha256,
        "uploaded_by": d.uploaded_by,
        "created_at": mapping.ts(d.created_at),
        "content_url": f"/api/v1/deliverables/{d.id}/content",
    }


@router.get("/tasks/{task_id}/deliverables")
async def list_deliverables(task_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The task's files: for its assignee, an admin, or whoever may see the project (else 404)."""
    task = (await clients.tasks.GetTask(pb.GetTaskRequest(task_id=task_id))).task
    if not (user.is_admin or (task.assignee_id and task.assignee_id == user.id)):
        await visible_project(clients, user, task.project_id)
    resp = await clients.tasks.ListDeliverables(pb.ListDeliverablesRequest(task_id=task.id))
    return {"items": [_deliverable_out(d) for d in resp.deliverables]}


@router.get("/deliverables/{deliverable_id}/content", response_class=Response, responses=DOWNLOAD_RESPONSES)
async def download_deliverable(deliverable_id: str, request: Request, user: CurrentUser, clients: Clients) -> Response:
    """Download a deliverable, for whoever may see its project (404 otherwise, as for an unknown id)."""
    meta = (await clients.tasks.GetDeliverable(pb.GetDeliverableRequest(deliverable_id=deliverable_id))).deliverable
    bind_project(request, meta.project_id)
    try:
        await visible_project(clients, user, meta.project_id)
    except NotFound:
        raise NotFound(
            f"交付物不存在：{deliverable_id}", f"no such deliverable: {deliverable_id}", code="deliverable_not_found"
        ) from None
    resp = await clients.tasks.GetDeliverable(pb.GetDeliverableRequest(deliverable_id=meta.id, with_content=True))
    d = resp.deliverable
    return file_response(resp.data, filename=d.filename, content_type=d.content_type)


# ---------------------------------------------------------------- templates, delay reasons


@router.put("/plan-templates/{business_line}")
async def put_template(business_line: str, body: TemplateIn, user: AdminUser, clients: Clients) -> dict[str, Any]:
    """The plan created for a business line's projects when they are approved (admin)."""
    data = body.model_dump(exclude_none=True)
    resp = await clients.tasks.PutTemplate(
        pb.PutTemplateRequest(
            request_id=uuid.uuid4().hex, business_line=business_line, body=mapping.dict_to_struct(data)
        )
    )
    return {"business_line": resp.business_line, "version": resp.version, "tasks": resp.tasks}


@router.get("/plan-templates/{business_line}")
async def get_template(business_line: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    resp = await clients.tasks.GetTemplate(pb.GetTemplateRequest(business_line=business_line))
    return {"business_line": resp.business_line, "version": resp.version, **mapping.struct_to_dict(resp.body)}


@router.put("/delay-reasons")
async def put_delay_reasons(body: DelayReasonsIn, user: AdminUser, clients: Clients) -> dict[str, Any]:
    """The structured delay reasons a late task must carry one of (admin)."""
    resp = await clients.tasks.PutDelayReasons(
        pb.PutDelayReasonsRequest(
            request_id=uuid.uuid4().hex, reasons=[pb.DelayReason(code=r.code, label=r.label) for r in body.reasons]
        )
    )
    return {"reasons": [{"code": r.code, "label": r.label} for r in resp.reasons]}


@router.get("/delay-reasons")
async def list_delay_reasons(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    resp = await clients.tasks.ListDelayReasons(pb.ListDelayReasonsRequest())
    return {"reasons": [{"code": r.code, "label": r.label} for r in resp.reasons]}
