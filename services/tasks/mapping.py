"""The only place where tasks protobuf messages meet domain objects."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from baobei.tasks.v1 import tasks_service_pb2 as pb
from services.tasks import domain, forecast, models, planning, rules

_DEP_FROM_PB = {
    pb.DEPENDENCY_TYPE_FS: domain.DependencyType.FS,
    pb.DEPENDENCY_TYPE_SS: domain.DependencyType.SS,
    pb.DEPENDENCY_TYPE_FF: domain.DependencyType.FF,
    pb.DEPENDENCY_TYPE_SF: domain.DependencyType.SF,
}
_DEP_TO_PB = {v: k for k, v in _DEP_FROM_PB.items()}
_STATUS_TO_PB = {
    domain.TaskStatus.TODO: pb.TASK_STATUS_TODO,
    domain.TaskStatus.IN_PROGRESS: pb.TASK_STATUS_IN_PROGRESS,
    domain.TaskStatus.DONE: pb.TASK_STATUS_DONE,
    domain.TaskStatus.BLOCKED: pb.TASK_STATUS_BLOCKED,
}


def new_task(request: pb.CreateTaskRequest) -> domain.NewTask:
    return domain.NewTask(
        request_id=request.request_id,
        project_id=request.project_id,
        name=request.name,
        assignee_id=request.assignee_id,
        start=request.start,
        due=request.due,
        duration_days=request.duration_days,
        milestone=request.milestone,
        # UNSPECIFIED and unknown enum numbers both map to None (a validation error)
        depends_on=tuple(
            domain.Dependency(task_id=d.task_id, type=_DEP_FROM_PB.get(d.type), lag_days=d.lag_days)
            for d in request.depends_on
        ),
    )


def _timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def task(t: domain.Task) -> pb.Task:
    return pb.Task(
        id=t.id,
        project_id=t.project_id,
        name=t.name,
        assignee_id=t.assignee_id,
        start=t.start.isoformat() if t.start else "",
        due=t.due.isoformat() if t.due else "",
        duration_days=t.duration_days,
        milestone=t.milestone,
        status=_STATUS_TO_PB[t.status],
        progress=t.progress,
        depends_on=[
            pb.Dependency(task_id=d.task_id, type=_DEP_TO_PB[d.type], lag_days=d.lag_days)
            for d in t.depends_on
            if d.type is not None
        ],
        created_at=_timestamp(t.created_at),
    )


def create_response(t: domain.Task) -> pb.CreateTaskResponse:
    return pb.CreateTaskResponse(task=full_task(t))


def list_response(tasks: list[domain.Task]) -> pb.ListTasksResponse:
    return pb.ListTasksResponse(tasks=[full_task(t) for t in tasks])


# ---------------------------------------------------------------- issue 6 shapes


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(data)
    return s


def plain(s: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(s)


def full_task(t: domain.Task) -> pb.Task:
    out = task(t)
    out.parent_id = t.parent_id
    out.estimate_hours = str(t.estimate_hours) if t.estimate_hours is not None else ""
    out.pinned = t.pinned
    out.requires_deliverables = t.requires_deliverables
    out.actual_start = t.actual_start.isoformat() if t.actual_start else ""
    if t.done_at:
        out.done_at.CopyFrom(_timestamp(t.done_at))
    out.delay_reason = t.delay_reason
    out.version = t.version
    if t.updated_at:
        out.updated_at.CopyFrom(_timestamp(t.updated_at))
    out.deliverables = t.deliverables
    return out


def new_task_full(request: pb.CreateTaskRequest) -> domain.NewTask:
    return replace(
        new_task(request),
        parent_id=request.parent_id,
        estimate_hours=request.estimate_hours,
        pinned=request.pinned,
        requires_deliverables=request.requires_deliverables,
    )


def task_patch(r: pb.UpdateTaskRequest) -> domain.TaskPatch:
    status_raw = r.status if r.HasField("status") else ""
    status = None
    if status_raw:
        try:
            status = domain.TaskStatus(status_raw)
        except ValueError:
            status = None
    return domain.TaskPatch(
        request_id=r.request_id,
        task_id=r.task_id,
        actor_id=r.actor_id,
        expected_version=r.expected_version,
        name=r.name if r.HasField("name") else None,
        status=status,
        status_raw=status_raw,
        progress=r.progress if r.HasField("progress") else None,
        start=r.start if r.HasField("start") else None,
        due=r.due if r.HasField("due") else None,
        duration_days=r.duration_days if r.HasField("duration_days") else None,
        assignee_id=r.assignee_id if r.HasField("assignee_id") else None,
        depends_on=(
            tuple(
                domain.Dependency(task_id=d.task_id, type=_DEP_FROM_PB.get(d.type), lag_days=d.lag_days)
                for d in r.depends_on
            )
            if r.replace_depends_on
            else None
        ),
        delay_reason=r.delay_reason if r.HasField("delay_reason") else None,
        pinned=r.pinned if r.HasField("pinned") else None,
        estimate_hours=r.estimate_hours if r.HasField("estimate_hours") else None,
        parent_id=r.parent_id if r.HasField("parent_id") else None,
    )


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def schedule_response(
    s: planning.Schedule, *, baseline_number: int, plan_version: int, svg: str
) -> pb.GetScheduleResponse:
    rows = [
        pb.ScheduledTask(
            id=r.task.id,
            name=r.task.name,
            start=_iso(r.start),
            finish=_iso(r.finish),
            critical=r.critical,
            slack_days=r.slack,
            status=r.task.status.value,
            parent_id=r.task.parent_id,
            milestone=r.task.milestone,
            duration_days=r.duration,
            progress=r.progress,
            assignee_id=r.task.assignee_id,
            early_start=_iso(r.early_start),
            early_finish=_iso(r.early_finish),
            late_start=_iso(r.late_start),
            late_finish=_iso(r.late_finish),
            baseline_start=_iso(r.baseline_start),
            baseline_finish=_iso(r.baseline_finish),
            finish_variance_days=r.variance,
            delay_reason=r.task.delay_reason,
            delay_reason_missing=r.delay_reason_missing,
            summary=r.summary,
            depends_on=[
                pb.Dependency(task_id=d.task_id, type=_DEP_TO_PB[d.type], lag_days=d.lag_days)
                for d in r.task.depends_on
                if d.type is not None
            ],
            version=r.task.version,
            due=_iso(r.task.due),
        )
        for r in s.rows
    ]
    base_finishes = [r.baseline_finish for r in s.rows if r.baseline_finish]
    return pb.GetScheduleResponse(
        tasks=rows,
        start=_iso(s.start),
        finish=_iso(s.finish),
        duration_days=s.duration,
        critical_path=s.critical_path,
        baseline_number=baseline_number,
        baseline_finish=_iso(max(base_finishes)) if base_finishes else "",
        svg=svg,
        plan_version=plan_version,
    )


def _money(value: Decimal | None) -> str:
    return str(value.quantize(domain.CENT)) if value is not None else ""


def cost(c: models.Cost) -> pb.CostEntry:
    return pb.CostEntry(
        id=c.id,
        project_id=c.project_id,
        task_id=c.task_id,
        kind=c.kind,
        hours=str(c.hours) if c.hours is not None else "",
        rate=_money(c.rate),
        amount=_money(Decimal(c.amount)),
        note=c.note,
        at=c.at.isoformat(),
        actor_id=c.actor_id,
        created_at=_timestamp(c.created_at if c.created_at.tzinfo else c.created_at.replace(tzinfo=UTC)),
    )


def deliverable(d: models.Deliverable) -> pb.Deliverable:
    return pb.Deliverable(
        id=d.id,
        task_id=d.task_id,
        filename=d.filename,
        content_type=d.content_type,
        size=d.size,
        sha256=d.sha256,
        uploaded_by=d.uploaded_by,
        created_at=_timestamp(d.created_at if d.created_at.tzinfo else d.created_at.replace(tzinfo=UTC)),
        project_id=d.project_id,
    )


def rule_doc(r: models.Rule) -> pb.RuleDoc:
    at = r.updated_at if r.updated_at.tzinfo else r.updated_at.replace(tzinfo=UTC)
    return pb.RuleDoc(key=r.key, body=_struct(json.loads(r.body)), version=r.version, updated_at=_timestamp(at))


def task_event_payload(t: domain.Task, row: planning.Row | None) -> dict[str, Any]:
    """The reporting payload of task.created / task.updated (agreed with reporting, issue 7)."""
    return {
        "task_id": t.id,
        "project_id": t.project_id,
        "name": t.name,
        "assignee_id": t.assignee_id,
        "status": t.status.value,
        "start": _iso(row.start if row else t.start),
        "due": _iso(t.due),
        "finish": _iso(row.finish if row else t.due),
        "estimate_hours": float(t.estimate_hours) if t.estimate_hours is not None else None,
        "progress": t.progress,
        "milestone": t.milestone,
        "baseline_finish": _iso(row.baseline_finish if row else None),
        "delay_reason": t.delay_reason,
        "done_at": t.done_at.isoformat() if t.done_at else None,
    }


def fire(f: models.RuleFire | rules.Fire, project_id: str = "") -> pb.RuleFire:
    if isinstance(f, rules.Fire):
        return pb.RuleFire(
            key=f.key,
            rule_key=f.rule_key,
            task_id=f.task_id,
            title=f.title,
            body=f.body,
            project_id=project_id,
            recipients=pb.Recipients(
                user_ids=f.user_ids,
                roles=f.roles,
                escalate=[f"{u}:{n}" for u, n in f.escalate],
                webhooks=f.webhooks,
            ),
        )
    at = f.fired_at if f.fired_at.tzinfo else f.fired_at.replace(tzinfo=UTC)
    rec = json.loads(f.recipients or "{}")
    return pb.RuleFire(
        key=f.key,
        rule_key=f.rule_key,
        task_id=f.task_id,
        title=f.title,
        project_id=f.project_id,
        fired_at=_timestamp(at),
        recipients=pb.Recipients(
            user_ids=rec.get("user_ids", []),
            roles=rec.get("roles", []),
            escalate=rec.get("escalate", []),
            webhooks=rec.get("webhooks", []),
        ),
    )


def finish_forecast(f: forecast.FinishForecast) -> pb.FinishForecast:
    return pb.FinishForecast(
        finish=f.finish.isoformat() if f.finish else "",
        planned_finish=f.planned_finish.isoformat() if f.planned_finish else "",
        slip_days=f.slip_days, velocity=f.velocity.factor, samples=f.velocity.samples, basis=f.velocity.basis,
    )
